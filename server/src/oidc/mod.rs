//! The OpenID Connect relying party: sign-in with the authorization code flow and PKCE,
//! step-up by new authorization requests, and RP-initiated logout.
//!
//! Follows OpenID Connect Core 1.0 §3.1, RFC 7636 (PKCE), RFC 9470 §4 (step-up) and
//! RP-Initiated Logout 1.0. Tokens stay in the server-side session. It does not use the
//! userinfo endpoint: the ID token carries the claims the app shows.

mod callback;
mod login;
mod logout;
mod pending;
pub mod provider;
mod refresh;
pub mod return_to;

pub use provider::{provider_http_client, OidcProvider};

use crate::config::Config;
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use stepup::Policy;

/// State shared by the sign-in routes.
#[derive(Clone)]
pub struct OidcState {
    pub config: Arc<Config>,
    pub provider: Arc<OidcProvider>,
    pub policy: Arc<Policy>,
    /// The app's own origin, for the same-origin check of cookie-only routes.
    pub public_origin: Arc<str>,
}

/// Builds the routes under `/auth`, for any router state that contains an [`OidcState`].
pub fn router<S>() -> Router<S>
where
    OidcState: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/auth/login", get(login::login))
        .route("/auth/callback", get(callback::callback))
        .route("/auth/logout", post(logout::logout))
        .route("/auth/refresh", post(refresh::refresh))
}
