//! The resource server: `/api/*`, a plain RFC 6750 bearer-token API.
//!
//! Any client may call it with `Authorization: Bearer <JWT access token>`. The app's own
//! pages send only their session cookie; the server then uses the session's access token
//! and runs the same verification (the backend-for-frontend pattern), so the browser never
//! stores a token and the API has one code path.

mod error;
pub mod jwks;
mod messages;
pub mod origin;
pub mod token_cache;
pub mod transfers;
pub mod verifier;

pub use error::ApiError;
pub use verifier::{AccessClaims, AccessTokenVerifier, TokenError};

use app::audit::{self, Outcome};
use app::session::load_auth_state;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::{header, request::Parts};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use stepup::Decision;
use stepup::Policy;
use tower_sessions::Session;

/// State shared by the API handlers.
#[derive(Clone)]
pub struct ApiState {
    pub verifier: Arc<AccessTokenVerifier>,
    pub policy: Arc<Policy>,
    pub transfers: Arc<transfers::TransferStore>,
    /// The app's own origin, such as `https://app.example.com`, for the same-origin check
    /// on cookie-authenticated calls.
    pub public_origin: Arc<str>,
}

impl ApiState {
    /// Checks `caller` against the policy's requirement for `route` and `method` (RFC 9470
    /// §3), on every request. `payload` is the JSON body, for rules with payload thresholds.
    ///
    /// # Errors
    ///
    /// Returns [`ApiError::InsufficientUserAuthentication`] with the requirement to send
    /// in the challenge.
    pub fn authorize(
        &self,
        caller: &Caller,
        route: &'static str,
        method: &str,
        payload: Option<&serde_json::Value>,
    ) -> Result<(), ApiError> {
        let requirement = self.policy.requirement_for(route, method, |field| {
            payload
                .and_then(|body| body.get(field))
                .and_then(serde_json::Value::as_f64)
        });
        let decision =
            self.policy
                .evaluate(&requirement, &caller.claims.authentication(), unix_now());
        let subject = Some(caller.claims.sub.as_str());
        match decision {
            Decision::Allow => {
                audit::record(Outcome::Satisfied, subject, route, &requirement);
                Ok(())
            }
            Decision::StepUp(shortfall) => {
                audit::record(Outcome::Challenged, subject, route, &requirement);
                Err(ApiError::InsufficientUserAuthentication {
                    requirement,
                    shortfall,
                })
            }
        }
    }
}

/// Builds the routes under `/api`, for any router state that contains an [`ApiState`].
pub fn router<S>() -> Router<S>
where
    ApiState: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/messages", get(messages::list_messages))
        .route(
            "/api/transfers",
            get(transfers::list_transfers).post(transfers::create_transfer),
        )
}

/// A caller whose access token verified.
pub struct Caller {
    pub claims: AccessClaims,
    /// The session whose access token the call used, for calls made with the session
    /// cookie; `None` for a bearer token from the `Authorization` header.
    pub session: Option<Session>,
}

/// Prints the claims and whether a session was used, never the session itself, because
/// its record contains tokens.
impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("claims", &self.claims)
            .field("session", &self.session.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl<S> FromRequestParts<S> for Caller
where
    ApiState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = ApiState::from_ref(state);
        let (token, session) = match bearer_token(parts)? {
            Some(token) => (token, None),
            None => {
                let (token, session) = session_token(parts).await.ok_or(ApiError::MissingToken)?;
                // A cookie comes along with cross-site requests too; state-changing calls
                // that rely on it must come from the app's own pages.
                if !origin::is_safe_cookie_request(parts, &state.public_origin) {
                    tracing::warn!(http.method = %parts.method, "cross-site API call with the session cookie rejected; possibly suspicious");
                    return Err(ApiError::CrossSiteRequest);
                }
                (token, Some(session))
            }
        };
        let claims = state.verifier.verify(&token).await.map_err(|error| {
            tracing::debug!(%error, "access token rejected");
            ApiError::InvalidToken(error)
        })?;
        Ok(Self { claims, session })
    }
}

/// Reads the token from `Authorization: Bearer …` (RFC 6750 §2.1).
///
/// Tokens in the query string (RFC 6750 §2.3) are refused: URLs end up in logs and
/// `Referer` headers. A request with two `Authorization` headers is refused as well.
fn bearer_token(parts: &Parts) -> Result<Option<String>, ApiError> {
    let query_has_token = parts.uri.query().is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some("access_token"))
    });
    if query_has_token {
        return Err(ApiError::InvalidRequest(
            "Send the access token in the Authorization header, not in the URL.",
        ));
    }

    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::InvalidRequest(
            "Send exactly one Authorization header.",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::InvalidToken(TokenError::Malformed))?;
    // The scheme name is case-insensitive (RFC 9110 §11.1); one space separates it from
    // the token (RFC 6750 §2.1).
    let Some((scheme, token)) = value.split_once(' ') else {
        return Err(ApiError::MissingToken);
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::MissingToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::InvalidToken(TokenError::Malformed));
    }
    Ok(Some(token.to_owned()))
}

/// Reads the access token of the session behind the request's cookie, if any.
async fn session_token(parts: &Parts) -> Option<(String, Session)> {
    let session = parts.extensions.get::<Session>()?;
    let state = load_auth_state(session).await?;
    Some((
        state.tokens.access_token.expose_secret().to_owned(),
        session.clone(),
    ))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
