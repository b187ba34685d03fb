//! Authorization requests in flight, kept in the session until their callback.
//!
//! Each entry contains the request's `state`, `nonce` and PKCE verifier, plus the step-up
//! requirement it requested, so the callback checks the response against the request
//! rather than against itself (RFC 9470 §4, OpenID Connect Core 1.0 §3.1.3.7).

use app::session::{PendingAction, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

const PENDING_LOGINS_KEY: &str = "stepup.pending_logins";

/// Most sign-ins one session may have in flight (several tabs); the oldest is dropped.
const MAX_PENDING_LOGINS: usize = 4;

/// How long a sign-in may take, in seconds, from the redirect to the callback.
pub const PENDING_LOGIN_TTL_SECS: i64 = 600;

/// One authorization request awaiting its callback.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: SecretString,
    pub nonce: SecretString,
    pub pkce_verifier: SecretString,
    pub return_to: String,
    pub acr_values: Vec<String>,
    pub max_age: Option<u64>,
    /// When the request was made, in epoch seconds.
    pub created_at: i64,
    /// The API call that asked for this step-up, to offer again once it succeeds.
    #[serde(default)]
    pub action: Option<PendingAction>,
}

/// Adds `login`, dropping expired entries and the oldest beyond the limit.
///
/// # Errors
///
/// Returns the session store's error.
pub async fn remember(
    session: &Session,
    login: PendingLogin,
    now: i64,
) -> Result<(), tower_sessions::session::Error> {
    let mut pending = load(session).await;
    pending.retain(|entry| !is_expired(entry, now));
    pending.push(login);
    if pending.len() > MAX_PENDING_LOGINS {
        let excess = pending.len() - MAX_PENDING_LOGINS;
        pending.drain(..excess);
    }
    session.insert(PENDING_LOGINS_KEY, pending).await
}

/// Removes and returns the unexpired entry whose `state` equals `state`.
///
/// Each `state` works once: a replayed callback finds nothing. The comparison takes the
/// same time wherever the strings differ.
///
/// # Errors
///
/// Returns the session store's error.
pub async fn take(
    session: &Session,
    state: &str,
    now: i64,
) -> Result<Option<PendingLogin>, tower_sessions::session::Error> {
    let mut pending = load(session).await;
    let position = pending.iter().position(|entry| {
        bool::from(
            entry
                .state
                .expose_secret()
                .as_bytes()
                .ct_eq(state.as_bytes()),
        )
    });
    let found = position.map(|index| pending.remove(index));
    pending.retain(|entry| !is_expired(entry, now));
    session.insert(PENDING_LOGINS_KEY, pending).await?;
    Ok(found.filter(|entry| !is_expired(entry, now)))
}

async fn load(session: &Session) -> Vec<PendingLogin> {
    match session.get::<Vec<PendingLogin>>(PENDING_LOGINS_KEY).await {
        Ok(pending) => pending.unwrap_or_default(),
        Err(error) => {
            tracing::warn!(%error, "dropping unreadable pending sign-ins");
            Vec::new()
        }
    }
}

fn is_expired(entry: &PendingLogin, now: i64) -> bool {
    now.saturating_sub(entry.created_at) > PENDING_LOGIN_TTL_SECS
}
