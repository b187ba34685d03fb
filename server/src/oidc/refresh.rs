//! `POST /auth/refresh`: renews the session's tokens with its refresh token.

use super::OidcState;
use crate::api::origin::is_safe_cookie_request;
use app::session::{load_auth_state, SecretString, AUTH_STATE_KEY};
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use openidconnect::{Nonce, OAuth2TokenResponse, RefreshToken, TokenResponse};
use serde_json::json;
use tower_sessions::Session;

/// Refreshes the tokens of the signed-in session (OpenID Connect Core 1.0 §12).
///
/// Steps:
/// 1. Accept only same-origin calls: the session cookie alone authenticates this route.
/// 2. Use the session's refresh token; without one the user must sign in again.
/// 3. Verify a returned ID token (signature, `iss`, `aud`, `exp`); its `sub` must not change
///    (§12.2). There is no `nonce` to check on a refresh.
/// 4. Store the new tokens. `acr`, `amr` and `auth_time` stay as the last interactive
///    authentication set them, since a refresh authenticates no one.
///
/// Returns `204` on success and `401` when the session cannot be refreshed. It never
/// answers a step-up: a refreshed token keeps the original authentication level.
pub async fn refresh(State(oidc): State<OidcState>, session: Session, parts: Parts) -> Response {
    // 1. Same origin.
    if !is_safe_cookie_request(&parts, &oidc.public_origin) {
        tracing::warn!("cross-site token refresh rejected; possibly suspicious");
        return failure(
            StatusCode::FORBIDDEN,
            "Cross-site requests are not allowed.",
        );
    }

    // 2. Refresh token.
    let Some(mut state) = load_auth_state(&session).await else {
        return failure(StatusCode::UNAUTHORIZED, "Sign in again.");
    };
    let Some(refresh_token) = state.tokens.refresh_token.clone() else {
        return failure(StatusCode::UNAUTHORIZED, "Sign in again.");
    };
    let refresh_token = RefreshToken::new(refresh_token.expose_secret().to_owned());
    let request = match oidc.provider.client.exchange_refresh_token(&refresh_token) {
        Ok(request) => request,
        Err(error) => {
            tracing::error!(%error, "the provider has no token endpoint");
            return failure(
                StatusCode::BAD_GATEWAY,
                "The identity provider is not available.",
            );
        }
    };
    let response = match request.request_async(&oidc.provider.http).await {
        Ok(response) => response,
        Err(error) => {
            tracing::info!(reason = %super::provider::error_chain(&error), user.sub = %state.subject, "token refresh failed");
            return failure(StatusCode::UNAUTHORIZED, "Sign in again.");
        }
    };

    // 3. ID token, if the provider sent one.
    if let Some(id_token) = response.id_token() {
        let verifier = oidc
            .provider
            .id_token_verifier(crate::unix_now(), oidc.policy.clock_skew_secs)
            // The refreshed ID token's acr and auth_time are not used (step 4), so any value
            // passes here; the crate's defaults are set explicitly to say so.
            .set_auth_context_verifier_fn(|_| Ok(()))
            .set_auth_time_verifier_fn(|_| Ok(()));
        let no_nonce = |_: Option<&Nonce>| Ok(());
        match id_token.claims(&verifier, no_nonce) {
            Ok(claims) if claims.subject().as_str() == state.subject => {
                state.tokens.id_token = SecretString::new(id_token.to_string());
            }
            Ok(_) => {
                tracing::warn!(user.sub = %state.subject, "refreshed ID token names another subject; possibly suspicious");
                return failure(StatusCode::UNAUTHORIZED, "Sign in again.");
            }
            Err(error) => {
                tracing::warn!(reason = %super::provider::error_chain(&error), "refreshed ID token failed verification");
                return failure(StatusCode::UNAUTHORIZED, "Sign in again.");
            }
        }
    }

    // 4. Store.
    let now = crate::unix_now();
    state.tokens.access_token = SecretString::new(response.access_token().secret().clone());
    state.tokens.access_token_expires_at = response
        .expires_in()
        .and_then(|lifetime| i64::try_from(lifetime.as_secs()).ok())
        .map(|lifetime| now.saturating_add(lifetime));
    if let Some(rotated) = response.refresh_token() {
        state.tokens.refresh_token = Some(SecretString::new(rotated.secret().clone()));
    }
    if let Err(error) = session.insert(AUTH_STATE_KEY, &state).await {
        tracing::error!(%error, "could not store refreshed tokens");
        return failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The session could not be saved.",
        );
    }
    tracing::info!(user.sub = %state.subject, "tokens refreshed");
    StatusCode::NO_CONTENT.into_response()
}

fn failure(status: StatusCode, description: &'static str) -> Response {
    (
        status,
        Json(json!({ "error": "refresh_failed", "error_description": description })),
    )
        .into_response()
}
