//! `/healthz` (the process is up) and `/readyz` (its dependencies respond).

use crate::oidc::OidcProvider;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::session::Id;
use tower_sessions::SessionStore;

/// How long each readiness check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Returns `200` while the process serves requests.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Returns `200` when the provider's JWKS and the session store both respond, else `503`
/// naming the failed check. The body carries no error details; those go to the log.
pub async fn readyz<Store: SessionStore>(provider: Arc<OidcProvider>, store: Store) -> Response {
    let provider_ready = check_provider(&provider).await;
    let store_ready = check_store(&store).await;
    let status = if provider_ready && store_ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "provider": provider_ready, "session_store": store_ready })),
    )
        .into_response()
}

async fn check_provider(provider: &OidcProvider) -> bool {
    let request = provider
        .http
        .get(provider.jwks_uri.clone())
        .timeout(CHECK_TIMEOUT)
        .send();
    match request.await {
        Ok(response) if response.status().is_success() => true,
        Ok(response) => {
            tracing::warn!(
                http.status = response.status().as_u16(),
                "readiness: the provider's JWKS answered with an error"
            );
            false
        }
        Err(error) => {
            tracing::warn!(%error, "readiness: the provider's JWKS is unreachable");
            false
        }
    }
}

async fn check_store<Store: SessionStore>(store: &Store) -> bool {
    // Loading an id that does not exist reaches the store without changing it.
    match tokio::time::timeout(CHECK_TIMEOUT, store.load(&Id::default())).await {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: the session store failed");
            false
        }
        Err(_) => {
            tracing::warn!("readiness: the session store timed out");
            false
        }
    }
}
