//! The signed-in user's record in the server-side session.
//!
//! The server writes it at the end of the OpenID Connect callback; route guards and the
//! API read it. Tokens stay here, on the server: nothing in this module is ever sent to
//! the browser.

use serde::{Deserialize, Serialize};
use std::fmt;
use tower_sessions::Session;

/// Session key of the [`AuthState`] record.
pub const AUTH_STATE_KEY: &str = "stepup.auth";

/// Version of the [`AuthState`] layout. A record of another version is dropped.
pub const AUTH_STATE_VERSION: u32 = 1;

/// A string that must never be logged: a token, code, verifier or secret.
///
/// `Debug` prints `[redacted]`, there is no `Display`, and reading the value takes an
/// explicit [`SecretString::expose_secret`] call.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// Returns the secret value; the caller is responsible for not logging it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Tokens from the provider's token endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenSet {
    pub id_token: SecretString,
    pub access_token: SecretString,
    /// Expiry of the access token in epoch seconds, from `expires_in`.
    pub access_token_expires_at: Option<i64>,
    pub refresh_token: Option<SecretString>,
}

/// The signed-in user's identity, authentication facts and tokens.
///
/// `acr`, `amr` and `auth_time` come from the ID token of the last interactive
/// authentication. A refresh keeps them, because a refreshed token describes the same
/// authentication (OpenID Connect Core 1.0 §12.2).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthState {
    pub version: u32,
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// Time of the authentication in epoch seconds.
    pub auth_time: Option<i64>,
    /// When a sign-in that requested `max_age=0` completed, in epoch seconds. A route that
    /// requires `max_age=0` accepts only such a sign-in, made just now; an ordinary sign-in
    /// a few seconds earlier does not count.
    #[serde(default)]
    pub reauthenticated_at: Option<i64>,
    pub tokens: TokenSet,
}

impl AuthState {
    /// Returns the authentication facts that step-up requirements are checked against.
    pub fn authentication(&self) -> stepup::Authentication {
        stepup::Authentication {
            acr: self.acr.clone(),
            amr: self.amr.clone(),
            auth_time: self.auth_time,
        }
    }
}

/// Loads the signed-in user's record.
///
/// Returns `None` when no user is signed in. A record that cannot be read (written by
/// another version, or corrupt) is removed with a warning, so the user signs in again
/// instead of seeing an error.
pub async fn load_auth_state(session: &Session) -> Option<AuthState> {
    match session.get::<AuthState>(AUTH_STATE_KEY).await {
        Ok(Some(state)) if state.version == AUTH_STATE_VERSION => Some(state),
        Ok(Some(state)) => {
            tracing::warn!(
                session.version = state.version,
                "dropping a session record of another version"
            );
            discard_auth_state(session).await;
            None
        }
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%error, "dropping an unreadable session record");
            discard_auth_state(session).await;
            None
        }
    }
}

async fn discard_auth_state(session: &Session) {
    if let Err(error) = session.remove_value(AUTH_STATE_KEY).await {
        tracing::warn!(%error, "failed to remove an unreadable session record");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let secret = SecretString::new("eyJhbGciOi.secret".to_owned());
        assert_eq!(format!("{secret:?}"), "[redacted]");
    }

    #[test]
    fn token_set_debug_hides_every_token() {
        let tokens = TokenSet {
            id_token: SecretString::new("id-token-value".to_owned()),
            access_token: SecretString::new("access-token-value".to_owned()),
            access_token_expires_at: Some(1),
            refresh_token: Some(SecretString::new("refresh-token-value".to_owned())),
        };
        let printed = format!("{tokens:?}");
        assert!(!printed.contains("token-value"), "{printed}");
    }
}

/// Session key of the [`PendingAction`] of this session, if any.
pub const PENDING_ACTION_KEY: &str = "stepup.pending_action";

/// How long a pending action stays valid after the API challenged it, in seconds.
pub const PENDING_ACTION_TTL_SECS: i64 = 600;

/// A state-changing API call that the API rejected with a step-up challenge.
///
/// The API stores it when it challenges a call made with the session cookie. The sign-in
/// route binds it to the new authorization request's `state`, and the callback puts it back
/// with `ready` set once the user has stepped up, for the page to confirm. It replays with
/// the same idempotency key, so confirming twice still runs it once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingAction {
    pub method: String,
    pub path: String,
    /// The JSON body, as the browser sent it.
    pub body: String,
    pub idempotency_key: String,
    /// Subject of the user who made the call; only that user may confirm it.
    pub subject: String,
    /// The requirement from the challenge.
    pub acr_values: Vec<String>,
    pub max_age: Option<u64>,
    /// When the API challenged the call, in epoch seconds.
    pub created_at: i64,
    /// Set by the sign-in callback once the step-up succeeded.
    pub ready: bool,
}

impl PendingAction {
    pub fn is_expired(&self, now: i64) -> bool {
        now.saturating_sub(self.created_at) > PENDING_ACTION_TTL_SECS
    }
}

/// Loads the session's pending action; an unreadable one is removed with a warning.
pub async fn load_pending_action(session: &Session) -> Option<PendingAction> {
    match session.get::<PendingAction>(PENDING_ACTION_KEY).await {
        Ok(action) => action,
        Err(error) => {
            tracing::warn!(%error, "dropping an unreadable pending action");
            remove_pending_action(session).await;
            None
        }
    }
}

/// Removes the session's pending action, logging a store failure.
pub async fn remove_pending_action(session: &Session) {
    if let Err(error) = session.remove_value(PENDING_ACTION_KEY).await {
        tracing::warn!(%error, "failed to remove the pending action");
    }
}
