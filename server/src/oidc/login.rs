//! `GET /auth/login`: starts an authorization code request with PKCE.

use super::pending::{self, PendingLogin};
use super::return_to::safe_return_to;
use super::OidcState;
use crate::pages::message_page;
use app::session::{
    load_auth_state, load_pending_action, remove_pending_action, PendingAction, SecretString,
};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{AuthenticationContextClass, CsrfToken, Nonce, PkceCodeChallenge, Scope};
use serde::Deserialize;
use std::time::Duration;
use tower_sessions::Session;

/// Most acr values one request may ask for.
const MAX_ACR_VALUES: usize = 8;
/// Maximum length of one acr value, in bytes.
const MAX_ACR_VALUE_BYTES: usize = 255;
/// Largest `max_age` accepted, in seconds (one year).
const MAX_MAX_AGE_SECS: u64 = 366 * 24 * 3600;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    acr_values: Option<String>,
    max_age: Option<String>,
}

/// Redirects the browser to the provider's authorization endpoint.
///
/// Steps (OpenID Connect Core 1.0 §3.1.2.1, RFC 7636, RFC 9470 §4):
/// 1. Validate `return_to` (same-origin path, else `/`), `acr_values` and `max_age`.
/// 2. Create `state`, `nonce` and a PKCE S256 verifier from a CSPRNG.
/// 3. Ask for the requested `acr_values` and `max_age`, so a step-up reaches the provider.
/// 4. Keep the request's secrets and requirement in the session, keyed by `state`.
pub async fn login(
    State(oidc): State<OidcState>,
    session: Session,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    // 1. Validate the input.
    let Ok(Query(query)) = query else {
        return bad_request("The sign-in request has invalid or repeated parameters.");
    };
    let return_to = safe_return_to(query.return_to.as_deref());
    let acr_values = match parse_acr_values(query.acr_values.as_deref()) {
        Ok(values) => values,
        Err(reason) => return bad_request(reason),
    };
    let max_age = match parse_max_age(query.max_age.as_deref()) {
        Ok(max_age) => max_age,
        Err(reason) => return bad_request(reason),
    };
    // Asking for a level the provider does not offer cannot succeed and would only loop.
    let supported = &oidc.provider.acr_values_supported;
    if acr_values.iter().any(|value| !supported.contains(value)) {
        return bad_request("The identity provider does not offer the requested sign-in level.");
    }

    // 2 and 3. Build the authorization request.
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = oidc
        .provider
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("offline_access".to_owned()))
        .set_pkce_challenge(pkce_challenge);
    for acr in &acr_values {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
    }
    if let Some(max_age) = max_age {
        request = request.set_max_age(Duration::from_secs(max_age));
    }
    let (authorization_url, state, nonce) = request.url();

    // 4. Remember the request until its callback, with the API call that asked for it.
    let now = crate::unix_now();
    let action = take_challenged_action(&session, now).await;
    let pending_login = PendingLogin {
        state: SecretString::new(state.into_secret()),
        nonce: SecretString::new(nonce.secret().clone()),
        pkce_verifier: SecretString::new(pkce_verifier.into_secret()),
        return_to,
        acr_values,
        max_age,
        created_at: now,
        action,
    };
    tracing::info!(
        stepup.acr_values = %pending_login.acr_values.join(" "),
        stepup.max_age = ?pending_login.max_age,
        "starting sign-in"
    );
    if let Err(error) = pending::remember(&session, pending_login, now).await {
        tracing::error!(%error, "could not store the pending sign-in in the session");
        return message_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in unavailable",
            "Sign-in could not start. Try again in a moment.",
            "auth-error",
        );
    }
    Redirect::to(authorization_url.as_str()).into_response()
}

/// Removes and returns the session's challenged API call, if it is fresh and belongs to the
/// signed-in user, so it travels with this authorization request.
async fn take_challenged_action(session: &Session, now: i64) -> Option<PendingAction> {
    let action = load_pending_action(session).await?;
    if action.ready {
        return None;
    }
    remove_pending_action(session).await;
    let subject = load_auth_state(session).await.map(|state| state.subject);
    if action.is_expired(now) || subject.as_deref() != Some(action.subject.as_str()) {
        tracing::info!("dropping an expired or foreign pending action");
        return None;
    }
    Some(action)
}

/// Splits `acr_values` on spaces (OpenID Connect Core 1.0 §3.1.2.1) and bounds them.
fn parse_acr_values(raw: Option<&str>) -> Result<Vec<String>, &'static str> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let values: Vec<String> = raw
        .split(' ')
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .collect();
    if values.len() > MAX_ACR_VALUES {
        return Err("Too many acr_values were requested.");
    }
    let well_formed = |value: &String| {
        value.len() <= MAX_ACR_VALUE_BYTES
            && value
                .bytes()
                .all(|byte| byte.is_ascii_graphic() && byte != b'"' && byte != b'\\')
    };
    if !values.iter().all(well_formed) {
        return Err("The requested acr_values are not valid.");
    }
    Ok(values)
}

/// Parses `max_age` as whole seconds; `0` is kept, since it requests a fresh sign-in.
fn parse_max_age(raw: Option<&str>) -> Result<Option<u64>, &'static str> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) => match raw.parse::<u64>() {
            Ok(seconds) if seconds <= MAX_MAX_AGE_SECS => Ok(Some(seconds)),
            _ => Err("max_age must be a whole number of seconds."),
        },
    }
}

fn bad_request(reason: &str) -> Response {
    tracing::debug!(reason, "rejected a sign-in request");
    message_page(
        StatusCode::BAD_REQUEST,
        "Invalid sign-in request",
        reason,
        "auth-error",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_values_keep_order() {
        let values = parse_acr_values(Some("phr urn:okta:loa:2fa:any")).expect("valid");
        assert_eq!(values, ["phr", "urn:okta:loa:2fa:any"]);
    }

    #[test]
    fn acr_values_reject_control_and_quotes() {
        assert!(parse_acr_values(Some("a\"b")).is_err());
        assert!(parse_acr_values(Some("a\nb")).is_err());
        assert!(parse_acr_values(Some(&"x ".repeat(MAX_ACR_VALUES + 1))).is_err());
    }

    #[test]
    fn max_age_zero_is_kept() {
        assert_eq!(parse_max_age(Some("0")), Ok(Some(0)));
        assert_eq!(parse_max_age(None), Ok(None));
        assert!(parse_max_age(Some("-1")).is_err());
        assert!(parse_max_age(Some("1.5")).is_err());
        assert!(parse_max_age(Some("99999999999999999999")).is_err());
    }
}
