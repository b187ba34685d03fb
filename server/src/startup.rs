//! Start-up: configuration, provider discovery, and serving until a shutdown signal.

use crate::api::jwks::{JwksCache, JwksError};
use crate::api::transfers::TransferStore;
use crate::api::{AccessTokenVerifier, ApiState};
use crate::assets::SiteAssets;
use crate::config::{Config, SessionStoreKind};
use crate::oidc::provider::DiscoveryError;
use crate::oidc::{provider_http_client, OidcProvider, OidcState};
use crate::policy_file::{load_policy, PolicyFileError};
use crate::session::{open_redis_store, open_sqlite_store, StoreError};
use crate::{AppState, SharedState};
use axum::serve::ListenerExt;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::MemoryStore;

/// How long start-up waits for the provider's discovery document in all.
const DISCOVERY_DEADLINE: Duration = Duration::from_secs(60);

/// Error that stopped the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Policy(#[from] PolicyFileError),
    #[error("invalid Leptos configuration: {0}")]
    Leptos(String),
    #[error("could not build the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error("OpenID Provider discovery failed: {0}")]
    Discovery(#[from] DiscoveryError),
    #[error("{0}")]
    SessionStore(#[from] StoreError),
    #[error("could not load the provider's signing keys: {0}")]
    Jwks(#[from] JwksError),
    #[error("could not listen on {address}: {source}")]
    Bind {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// Discovers the provider, opens the session store and serves until SIGINT or SIGTERM.
///
/// # Errors
///
/// Returns a [`StartupError`] when any start-up step fails or serving stops with an error.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let leptos_options = leptos::config::get_configuration(None)
        .map_err(|error| StartupError::Leptos(error.to_string()))?
        .leptos_options;
    let config = Arc::new(config);
    let address = config.listen_addr.unwrap_or(leptos_options.site_addr);
    tracing::info!(?config, "configuration loaded");

    let state = connect(Arc::clone(&config), leptos_options, DISCOVERY_DEADLINE).await?;
    let app = match config.session_store {
        SessionStoreKind::Memory => {
            tracing::warn!("sessions are kept in memory: a restart signs everyone out");
            crate::router(state, MemoryStore::default())
        }
        SessionStoreKind::Sqlite => {
            let store = open_sqlite_store(&config.data_dir).await?;
            tracing::info!(session.store = "sqlite", data_dir = %config.data_dir.display(), "session store opened");
            crate::router(state, store)
        }
        SessionStoreKind::Redis => {
            let url = config
                .redis_url
                .as_ref()
                .map(|url| url.expose_secret().to_owned())
                .unwrap_or_default();
            let store = open_redis_store(&url).await?;
            tracing::info!(session.store = "redis", "session store opened");
            crate::router(state, store)
        }
    };

    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| StartupError::Bind { address, source })?
        // Without TCP_NODELAY a streamed page's later chunks wait for the client's delayed
        // ACK, which held every SSR response at about 40 ms in the load test.
        .tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::warn!(%error, "could not set TCP_NODELAY");
            }
        });
    tracing::info!("listening on http://{address}");
    // Peer addresses feed the sign-in rate limit.
    axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(app),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(StartupError::Serve)?;
    tracing::info!("server stopped");
    Ok(())
}

/// Loads the policy, discovers the provider and loads its keys, and assembles the state
/// the handlers share. Discovery is retried until `discovery_deadline` has passed.
///
/// # Errors
///
/// Returns a [`StartupError`] when the policy, discovery or the JWKS fails.
pub async fn connect(
    config: Arc<Config>,
    leptos_options: leptos::config::LeptosOptions,
    discovery_deadline: Duration,
) -> Result<AppState, StartupError> {
    let policy = Arc::new(load_policy(config.policy_file.as_deref())?);
    tracing::info!(
        policy.file = %config.policy_file.as_ref().map_or("built-in".into(), |path| path.display().to_string()),
        policy.rules = policy.rules.len(),
        "step-up policy loaded"
    );

    let http = provider_http_client()?;
    let mut provider = discover_with_retry(&config, http.clone(), discovery_deadline).await?;
    if provider.acr_values_supported.is_empty() {
        // Okta and Auth0 publish no acr_values_supported. The values the policy names are
        // then the ones sign-in may request; the provider still judges them.
        provider.acr_values_supported = policy.acr_values();
        tracing::warn!(
            acr_values = %provider.acr_values_supported.join(" "),
            "the provider does not advertise acr_values_supported; allowing the policy's values"
        );
    }
    let keys = JwksCache::fetch(provider.jwks_uri.clone(), http).await?;
    let mut verifier =
        AccessTokenVerifier::new(provider.issuer.clone(), config.api_audience.clone(), keys)
            .with_token_cache_capacity(config.token_cache_size);
    if let Some(namespace) = &config.access_token_claim_namespace {
        verifier = verifier.with_claim_namespace(namespace.clone());
    }
    if !config.require_typed_access_tokens {
        tracing::warn!(
            "access tokens without typ at+jwt are accepted (STEPUP_ACCESS_TOKEN_TYPE=any)"
        );
        verifier = verifier.accept_untyped_tokens();
    }
    tracing::info!(
        oidc.issuer = %provider.issuer,
        oidc.acr_values_supported = %provider.acr_values_supported.join(" "),
        "OpenID Provider discovered"
    );

    let public_origin: Arc<str> = config.public_url.origin().ascii_serialization().into();
    let site = SiteAssets::load();
    let mut leptos_options = leptos_options;
    leptos_options.site_pkg_dir = site.versioned_pkg_dir().into();
    Ok(AppState::new(SharedState {
        leptos_options,
        site,
        api: ApiState {
            verifier: Arc::new(verifier),
            policy: Arc::clone(&policy),
            transfers: Arc::new(TransferStore::default()),
            public_origin: Arc::clone(&public_origin),
        },
        oidc: OidcState {
            config,
            provider: Arc::new(provider),
            policy,
            public_origin,
        },
    }))
}

/// Fetches discovery, retrying with exponential backoff (0.5 s doubling to 8 s) until
/// `deadline`, so the server may start before the provider.
async fn discover_with_retry(
    config: &Config,
    http: reqwest::Client,
    deadline: Duration,
) -> Result<OidcProvider, DiscoveryError> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        match OidcProvider::discover(config, http.clone()).await {
            Ok(provider) => return Ok(provider),
            Err(error @ DiscoveryError::Discovery { .. })
                if started.elapsed() + delay < deadline =>
            {
                tracing::warn!(%error, retry_in_ms = delay.as_millis(), "OpenID Provider not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            Err(error) => return Err(error),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "could not listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
