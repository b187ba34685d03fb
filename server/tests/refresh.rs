//! `POST /auth/refresh`: new tokens, same authentication (OpenID Connect Core 1.0 §12.2).

mod support;

use app::session::{AuthState, AUTH_STATE_KEY};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use support::{tokens, Harness};

/// Reads the signed-in record of the session behind `cookie` from the harness's store.
async fn auth_state(harness: &Harness, cookie: &str) -> AuthState {
    let value = cookie
        .split_once('=')
        .map(|(_, value)| value)
        .expect("name=value cookie");
    let id = value.parse().expect("a session id");
    let session = tower_sessions::Session::new(Some(id), Arc::new(harness.store.clone()), None);
    session
        .get::<AuthState>(AUTH_STATE_KEY)
        .await
        .expect("the store answers")
        .expect("the session is signed in")
}

/// Signs in with a token response that carries a refresh token.
async fn sign_in_with_refresh_token(harness: &Harness) -> String {
    let login = harness
        .start_login("return_to=%2F&acr_values=urn%3Aokta%3Aloa%3A2fa%3Aany")
        .await;
    let id_token = tokens::id_token(&harness.id_token_claims(&login));
    let mut response = harness.token_response(&id_token);
    response["refresh_token"] = json!("refresh-token-1");
    harness.provider.respond_with(response);
    let reply = harness.finish(&login).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply.session_cookie().expect("sign-in sets a cookie")
}

fn refreshed_id_token(harness: &Harness, subject: &str) -> String {
    // A refreshed ID token without acr and auth_time, as some providers send.
    let now = i64::try_from(jsonwebtoken::get_current_timestamp()).expect("time fits");
    let claims: Value = json!({
        "iss": harness.provider.issuer,
        "sub": subject,
        "aud": "stepup-app",
        "exp": now + 300,
        "iat": now,
    });
    tokens::id_token(&claims)
}

#[tokio::test]
async fn refresh_keeps_original_authentication() {
    let harness = Harness::start().await;
    let cookie = sign_in_with_refresh_token(&harness).await;
    let before = auth_state(&harness, &cookie).await;
    assert_eq!(before.acr.as_deref(), Some("urn:okta:loa:2fa:any"));

    let mut response = harness.token_response(&refreshed_id_token(&harness, "user-1"));
    response["refresh_token"] = json!("refresh-token-2");
    harness.provider.respond_to_refresh_with(response);
    let reply = harness.post_same_origin("/auth/refresh", &cookie).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);

    let after = auth_state(&harness, &cookie).await;
    assert_eq!(after.acr, before.acr);
    assert_eq!(after.amr, before.amr);
    assert_eq!(after.auth_time, before.auth_time);
    assert_ne!(
        after.tokens.id_token.expose_secret(),
        before.tokens.id_token.expose_secret()
    );
    assert_eq!(
        after
            .tokens
            .refresh_token
            .as_ref()
            .map(|token| token.expose_secret()),
        Some("refresh-token-2")
    );
}

#[tokio::test]
async fn refresh_with_another_subject_is_refused() {
    let harness = Harness::start().await;
    let cookie = sign_in_with_refresh_token(&harness).await;
    let before = auth_state(&harness, &cookie).await;

    let response = harness.token_response(&refreshed_id_token(&harness, "someone-else"));
    harness.provider.respond_to_refresh_with(response);
    let reply = harness.post_same_origin("/auth/refresh", &cookie).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let after = auth_state(&harness, &cookie).await;
    assert_eq!(
        after.tokens.id_token.expose_secret(),
        before.tokens.id_token.expose_secret()
    );
    assert_eq!(
        after
            .tokens
            .refresh_token
            .as_ref()
            .map(|token| token.expose_secret()),
        Some("refresh-token-1")
    );
}

#[tokio::test]
async fn refresh_without_refresh_token_is_refused() {
    let harness = Harness::start().await;
    let (_, _, cookie) = harness.sign_in("return_to=%2F").await;
    let reply = harness.post_same_origin("/auth/refresh", &cookie).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}
