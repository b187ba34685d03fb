//! The OpenID Provider as discovered at start (OpenID Connect Discovery 1.0 §4).

use crate::config::{ClientAuthMethod, Config};
use openidconnect::core::{CoreClient, CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{
    AuthType, ClientId, ClientSecret, EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenVerifier, IssuerUrl, JsonWebKeySetUrl, ProviderMetadataWithLogout, RedirectUrl,
};
use std::sync::RwLock;
use std::time::{Duration, Instant};
use url::Url;

/// Shortest time between two refetches of the provider's keys for ID tokens, so that
/// tokens with made-up `kid`s cannot make the server hammer the provider.
const MIN_KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// The relying party's client, with the endpoints discovery gives it.
pub type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Timeout of every call to the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// The discovered provider: the client and the facts the relying party and the resource
/// server need.
pub struct OidcProvider {
    pub client: OidcClient,
    /// HTTP client for calls to the provider; it follows no redirects (RFC 9700 §4.11).
    pub http: reqwest::Client,
    pub issuer: String,
    pub jwks_uri: Url,
    pub end_session_endpoint: Option<EndSessionUrl>,
    /// `acr_values_supported` from discovery, or the policy's values when the provider
    /// publishes none.
    pub acr_values_supported: Vec<String>,
    client_id: ClientId,
    issuer_url: IssuerUrl,
    jwks_url: JsonWebKeySetUrl,
    /// The provider's keys for ID token signatures, refetched when a new `kid` appears.
    id_token_keys: RwLock<CoreJsonWebKeySet>,
    id_token_algorithms: Vec<CoreJwsSigningAlgorithm>,
    last_key_refetch: tokio::sync::Mutex<Option<Instant>>,
}

/// Discovery failed or returned something unusable.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("could not build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("invalid issuer URL: {0}")]
    IssuerUrl(String),
    #[error("invalid redirect URL: {0}")]
    RedirectUrl(String),
    #[error("discovery at {issuer} failed: {reason}")]
    Discovery { issuer: String, reason: String },
    #[error("the provider has no token endpoint")]
    NoTokenEndpoint,
}

/// Builds the HTTP client used for every call to the provider.
///
/// # Errors
///
/// Returns the `reqwest` error when the TLS backend cannot start.
pub fn provider_http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .build()
}

impl OidcProvider {
    /// Reads the provider's discovery document and builds the client.
    ///
    /// The crate checks that the document's `issuer` equals the configured issuer
    /// (Discovery §4.3), so a document served for another issuer is refused.
    ///
    /// # Errors
    ///
    /// Returns a [`DiscoveryError`] when the document cannot be fetched, parsed or used.
    pub async fn discover(config: &Config, http: reqwest::Client) -> Result<Self, DiscoveryError> {
        let issuer_url = IssuerUrl::new(config.issuer_url.clone())
            .map_err(|error| DiscoveryError::IssuerUrl(error.to_string()))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer_url, &http)
            .await
            .map_err(|error| DiscoveryError::Discovery {
                issuer: config.issuer_url.clone(),
                reason: error_chain(&error),
            })?;
        if metadata.token_endpoint().is_none() {
            return Err(DiscoveryError::NoTokenEndpoint);
        }

        let jwks_uri = metadata.jwks_uri().url().clone();
        let jwks_url = metadata.jwks_uri().clone();
        let issuer_url = metadata.issuer().clone();
        let id_token_keys = metadata.jwks().clone();
        let id_token_algorithms = metadata.id_token_signing_alg_values_supported().clone();
        let end_session_endpoint = metadata.additional_metadata().end_session_endpoint.clone();
        let acr_values_supported = metadata
            .acr_values_supported()
            .map(|values| values.iter().map(|acr| acr.to_string()).collect())
            .unwrap_or_default();
        let redirect_url = RedirectUrl::new(config.redirect_url())
            .map_err(|error| DiscoveryError::RedirectUrl(error.to_string()))?;
        let client_secret = config
            .client_secret
            .as_ref()
            .map(|secret| ClientSecret::new(secret.expose_secret().to_owned()));
        let client_id = ClientId::new(config.client_id.clone());
        let client = CoreClient::from_provider_metadata(metadata, client_id.clone(), client_secret)
            .set_redirect_uri(redirect_url)
            .set_auth_type(match config.client_auth {
                ClientAuthMethod::Basic => AuthType::BasicAuth,
                ClientAuthMethod::Post => AuthType::RequestBody,
            });

        Ok(Self {
            client,
            http,
            issuer: config.issuer_url.clone(),
            jwks_uri,
            end_session_endpoint,
            acr_values_supported,
            client_id,
            issuer_url,
            jwks_url,
            id_token_keys: RwLock::new(id_token_keys),
            id_token_algorithms,
            last_key_refetch: tokio::sync::Mutex::new(None),
        })
    }

    /// Builds an ID token verifier over the current keys (OpenID Connect Core 1.0 §3.1.3.7):
    /// signature with an algorithm from discovery, `iss`, `aud`, `exp`, and an `iat` no later
    /// than `now` plus `clock_skew_secs`. Callers add the `acr` and `auth_time` hooks.
    pub fn id_token_verifier<'a>(
        &self,
        now: i64,
        clock_skew_secs: u64,
    ) -> IdTokenVerifier<'a, CoreJsonWebKey> {
        let keys = match self.id_token_keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let latest_issue_time = now.saturating_add_unsigned(clock_skew_secs);
        IdTokenVerifier::new_public_client(self.client_id.clone(), self.issuer_url.clone(), keys)
            .set_allowed_algs(self.id_token_algorithms.clone())
            .set_issue_time_verifier_fn(move |issued_at| {
                if issued_at.timestamp() > latest_issue_time {
                    Err(format!("iat {} is in the future", issued_at.timestamp()))
                } else {
                    Ok(())
                }
            })
    }

    /// Returns the client id, which `azp` must equal when present.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// Refetches the provider's keys after an ID token named an unknown `kid` (key
    /// rotation, Core §10.1.1), at most once every 30 seconds; returns whether it did.
    pub async fn refetch_id_token_keys(&self) -> bool {
        let mut last = self.last_key_refetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_KEY_REFETCH_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        match CoreJsonWebKeySet::fetch_async(&self.jwks_url, &self.http).await {
            Ok(keys) => {
                tracing::info!(
                    jwks.keys = keys.keys().len(),
                    "refetched the provider's keys for ID tokens"
                );
                match self.id_token_keys.write() {
                    Ok(mut current) => *current = keys,
                    Err(poisoned) => *poisoned.into_inner() = keys,
                }
                true
            }
            Err(error) => {
                tracing::warn!(reason = %error_chain(&error), "refetching the provider's keys failed");
                false
            }
        }
    }
}

/// Joins an error and its sources into one line for the log.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
