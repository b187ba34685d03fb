//! The OpenID Provider as discovered at start (OpenID Connect Discovery 1.0 §4).

use crate::config::{ClientAuthMethod, Config};
use openidconnect::core::CoreClient;
use openidconnect::{
    AuthType, ClientId, ClientSecret, EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, ProviderMetadataWithLogout, RedirectUrl,
};
use std::time::Duration;
use url::Url;

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

/// What the relying party and the resource server need from discovery.
pub struct OidcProvider {
    pub client: OidcClient,
    /// HTTP client for calls to the provider; it follows no redirects (RFC 9700 §4.11).
    pub http: reqwest::Client,
    pub issuer: String,
    pub jwks_uri: Url,
    pub end_session_endpoint: Option<EndSessionUrl>,
    /// `acr_values_supported` from discovery; empty when the provider does not say.
    pub acr_values_supported: Vec<String>,
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
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            client_secret,
        )
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
        })
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
