//! The session cookie and its store.
//!
//! The cookie carries only a random session id; the record lives on the server.

use crate::config::Config;
use tower_sessions::cookie::{time::Duration, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};

/// Name of the session cookie. It must differ from the provider's cookie names, since
/// cookies are shared across ports of one host.
pub const SESSION_COOKIE_NAME: &str = "stepup_session";

/// A session ends after this long without a request.
pub const SESSION_IDLE_TIMEOUT: Duration = Duration::hours(8);

/// Builds the session layer: `HttpOnly`, `SameSite=Lax` (the cookie must come along on the
/// provider's top-level redirect back to `/auth/callback`), `Secure` per configuration.
pub fn session_layer<Store: SessionStore + Clone>(
    store: Store,
    config: &Config,
) -> SessionManagerLayer<Store> {
    SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE_NAME)
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE_TIMEOUT))
}
