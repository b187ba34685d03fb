//! Router tests for `/api/*`: RFC 6750 challenges and RFC 9470 step-up decisions.
//!
//! Tokens are signed with `fixtures/test-signing-key.pem`, an RSA key generated with
//! `openssl genpkey` for these tests only; `fixtures/test-jwks.json` is its public half.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use server::api::jwks::JwksCache;
use server::api::{self, AccessTokenVerifier, ApiState};
use std::sync::Arc;
use stepup::{BearerChallenge, BearerErrorCode};
use tower::ServiceExt;
use tower_sessions::{MemoryStore, SessionManagerLayer};

const ISSUER: &str = "https://op.test";
const AUDIENCE: &str = "api://default";
const SIGNING_KEY: &[u8] = include_bytes!("fixtures/test-signing-key.pem");
const OTHER_KEY: &[u8] = include_bytes!("fixtures/other-signing-key.pem");
const JWKS: &str = include_str!("fixtures/test-jwks.json");
const APP_ORIGIN: &str = "http://app.test";

fn api_app() -> Router {
    api_app_with_store(MemoryStore::default())
}

fn api_app_with_store(store: MemoryStore) -> Router {
    let set: JwkSet = serde_json::from_str(JWKS).expect("fixture JWKS parses");
    let keys = JwksCache::fixed(&set).expect("fixture JWKS has a key");
    let state = ApiState {
        verifier: Arc::new(AccessTokenVerifier::new(
            ISSUER.to_owned(),
            AUDIENCE.to_owned(),
            keys,
        )),
        policy: Arc::new(server::policy_file::load_policy(None).expect("built-in policy is valid")),
        transfers: Arc::default(),
        public_origin: APP_ORIGIN.into(),
    };
    api::router::<ApiState>()
        .with_state(state)
        .layer(SessionManagerLayer::new(store))
}

fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).expect("time fits i64")
}

/// Claims of a valid token; tests change or remove fields.
fn claims(acr: &str) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "exp": now() + 300,
        "iat": now(),
        "auth_time": now() - 10,
        "acr": acr,
    })
}

fn sign_with(claims: &Value, key: &[u8], kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some("at+jwt".to_owned());
    header.kid = kid.map(str::to_owned);
    let key = EncodingKey::from_rsa_pem(key).expect("fixture key parses");
    jsonwebtoken::encode(&header, claims, &key).expect("token signs")
}

fn sign(claims: &Value) -> String {
    sign_with(claims, SIGNING_KEY, Some("test-key-1"))
}

async fn get_messages(authorization: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut request = Request::get("/api/messages");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    send(request.body(Body::empty()).expect("request builds")).await
}

async fn send(request: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let response = api_app().oneshot(request).await.expect("router answers");
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|value| value.to_str().expect("ASCII header").to_owned());
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, challenge, body)
}

fn parse(challenge: Option<String>) -> BearerChallenge {
    let value = challenge.expect("WWW-Authenticate present");
    BearerChallenge::from_header_value(&value)
        .expect("challenge parses")
        .expect("a Bearer challenge")
}

#[tokio::test]
async fn missing_token_gets_bare_bearer_challenge() {
    let (status, challenge, body) = get_messages(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer"));
    assert_eq!(body["error"], "unauthorized");
}

#[tokio::test]
async fn garbage_token_is_invalid_token() {
    let (status, challenge, body) = get_messages(Some("Bearer not.a.jwt")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"Bearer error="invalid_token", error_description="The access token is invalid or expired.""#
        )
    );
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(
        body["error_description"],
        "The access token is invalid or expired."
    );
}

#[tokio::test]
async fn stronger_acr_satisfies_weaker_requirement() {
    let token = sign(&claims("phr"));
    let (status, challenge, body) = get_messages(Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(challenge, None);
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn two_factor_token_gets_messages() {
    let token = sign(&claims("urn:okta:loa:2fa:any"));
    let (status, _, body) = get_messages(Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["messages"][0]["id"], "user-1-1");
}

#[tokio::test]
async fn if_possible_acr_is_challenged() {
    let token = sign(&claims("urn:okta:loa:2fa:any:ifpossible"));
    let (status, challenge, body) = get_messages(Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let raw = challenge.clone().expect("challenge present");
    assert!(
        raw.starts_with(r#"Bearer error="insufficient_user_authentication", error_description=""#),
        "{raw}"
    );
    assert!(
        raw.ends_with(r#"acr_values="urn:okta:loa:2fa:any""#),
        "{raw}"
    );
    let parsed = parse(challenge);
    assert!(parsed.is_step_up());
    assert_eq!(parsed.acr_values, ["urn:okta:loa:2fa:any"]);
    assert_eq!(parsed.max_age, None);
    assert_eq!(body["error"], "insufficient_user_authentication");
}

#[tokio::test]
async fn one_factor_acr_is_challenged() {
    let token = sign(&claims("urn:okta:loa:1fa:pwd"));
    let (status, challenge, _) = get_messages(Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(parse(challenge).is_step_up());
}

#[tokio::test]
async fn missing_acr_is_challenged() {
    let mut claims = claims("unused");
    claims.as_object_mut().expect("object").remove("acr");
    let token = sign(&claims);
    let (status, challenge, _) = get_messages(Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(parse(challenge).is_step_up());
}

#[tokio::test]
async fn lowercase_scheme_is_accepted() {
    let token = sign(&claims("urn:okta:loa:2fa:any"));
    let (status, _, _) = get_messages(Some(&format!("bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn rejected_tokens_are_invalid_token() {
    let expired = {
        let mut claims = claims("phr");
        claims["exp"] = json!(now() - 3600);
        sign(&claims)
    };
    let wrong_audience = {
        let mut claims = claims("phr");
        claims["aud"] = json!("api://other");
        sign(&claims)
    };
    let wrong_issuer = {
        let mut claims = claims("phr");
        claims["iss"] = json!("https://evil.test");
        sign(&claims)
    };
    let foreign_key = sign_with(&claims("phr"), OTHER_KEY, Some("test-key-1"));
    let unknown_kid = sign_with(&claims("phr"), SIGNING_KEY, Some("no-such-key"));
    let acr_number = {
        let mut claims = claims("phr");
        claims["acr"] = json!(2);
        sign(&claims)
    };
    let auth_time_string = {
        let mut claims = claims("phr");
        claims["auth_time"] = json!("1700000000");
        sign(&claims)
    };
    let unsigned = {
        let header = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = base64_url(claims("phr").to_string().as_bytes());
        format!("{header}.{payload}.")
    };
    let cases = [
        ("expired", expired),
        ("wrong audience", wrong_audience),
        ("wrong issuer", wrong_issuer),
        ("signed by another key", foreign_key),
        ("unknown kid", unknown_kid),
        ("acr of the wrong type", acr_number),
        ("auth_time as a string", auth_time_string),
        ("alg none", unsigned),
    ];
    for (case, token) in cases {
        let (status, challenge, _) = get_messages(Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(
            parse(challenge).error,
            Some(BearerErrorCode::InvalidToken),
            "{case}"
        );
    }
}

#[tokio::test]
async fn token_in_query_is_refused() {
    let token = sign(&claims("phr"));
    let request = Request::get(format!("/api/messages?access_token={token}"))
        .body(Body::empty())
        .expect("request builds");
    let (status, challenge, _) = send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        parse(challenge).error,
        Some(BearerErrorCode::InvalidRequest)
    );
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let token = sign(&claims("phr"));
    let request = Request::get("/api/messages")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request builds");
    let (status, challenge, _) = send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        parse(challenge).error,
        Some(BearerErrorCode::InvalidRequest)
    );
}

#[tokio::test]
async fn every_request_is_checked() {
    let strong = sign(&claims("urn:okta:loa:2fa:any"));
    let weak = sign(&claims("urn:okta:loa:1fa:pwd"));
    let (first, _, _) = get_messages(Some(&format!("Bearer {strong}"))).await;
    let (second, _, _) = get_messages(Some(&format!("Bearer {weak}"))).await;
    assert_eq!(first, StatusCode::OK);
    assert_eq!(second, StatusCode::UNAUTHORIZED);
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

// Transfers: per-method and payload rules, idempotency, and the pending action.

fn transfer_request(token: Option<&str>, key: Option<&str>) -> axum::http::request::Builder {
    let mut request =
        Request::post("/api/transfers").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request
}

async fn post_transfer(
    token: &str,
    body: &str,
    key: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let request = transfer_request(Some(token), key)
        .body(Body::from(body.to_owned()))
        .expect("request builds");
    send(request).await
}

fn recent_claims(acr: &str, seconds_ago: i64) -> Value {
    let mut claims = claims(acr);
    claims["auth_time"] = json!(now() - seconds_ago);
    claims
}

#[tokio::test]
async fn small_transfer_needs_two_factors() {
    let body = r#"{"to":"acct-9","amount":50}"#;
    let one_factor = sign(&claims("urn:okta:loa:1fa:pwd"));
    let (status, challenge, _) = post_transfer(&one_factor, body, Some("key-1")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(parse(challenge).acr_values, ["urn:okta:loa:2fa:any"]);

    let two_factors = sign(&claims("urn:okta:loa:2fa:any"));
    let (status, _, transfer) = post_transfer(&two_factors, body, Some("key-1")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(transfer["to"], "acct-9");
}

#[tokio::test]
async fn threshold_amount_needs_only_two_factors() {
    let token = sign(&claims("urn:okta:loa:2fa:any"));
    let (status, _, _) =
        post_transfer(&token, r#"{"to":"acct-9","amount":1000}"#, Some("key-2")).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn large_transfer_challenges_for_phr_and_max_age() {
    let token = sign(&claims("urn:okta:loa:2fa:any"));
    let (status, challenge, body) =
        post_transfer(&token, r#"{"to":"acct-9","amount":5000}"#, Some("key-3")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenge = parse(challenge);
    assert!(challenge.is_step_up());
    assert_eq!(challenge.acr_values, ["phr"]);
    assert_eq!(challenge.max_age, Some(300));
    assert_eq!(body["error"], "insufficient_user_authentication");
}

#[tokio::test]
async fn large_transfer_with_recent_phr_passes() {
    let token = sign(&recent_claims("phr", 30));
    let (status, _, transfer) =
        post_transfer(&token, r#"{"to":"acct-9","amount":5000}"#, Some("key-4")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(transfer["amount"], 5000.0);
}

#[tokio::test]
async fn large_transfer_with_old_phr_is_challenged() {
    // max_age is 300 and the clock skew 60, so 400 seconds is too old.
    let token = sign(&recent_claims("phr", 400));
    let (status, challenge, _) =
        post_transfer(&token, r#"{"to":"acct-9","amount":5000}"#, Some("key-5")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(parse(challenge).max_age, Some(300));
}

#[tokio::test]
async fn transfer_input_errors_are_bad_requests() {
    let token = sign(&recent_claims("phr", 10));
    let cases = [
        ("not JSON", "{", Some("key-6")),
        ("amount missing", r#"{"to":"acct-9"}"#, Some("key-6")),
        (
            "amount as a string",
            r#"{"to":"acct-9","amount":"5"}"#,
            Some("key-6"),
        ),
        (
            "negative amount",
            r#"{"to":"acct-9","amount":-5}"#,
            Some("key-6"),
        ),
        ("bad recipient", r#"{"to":"a b","amount":5}"#, Some("key-6")),
        ("no idempotency key", r#"{"to":"acct-9","amount":5}"#, None),
        (
            "bad idempotency key",
            r#"{"to":"acct-9","amount":5}"#,
            Some("has space"),
        ),
    ];
    for (case, body, key) in cases {
        let (status, challenge, response) = post_transfer(&token, body, key).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert_eq!(challenge, None, "{case}");
        assert_eq!(response["error"], "invalid_request", "{case}");
    }
}

#[tokio::test]
async fn repeated_key_runs_transfer_once() {
    let store = MemoryStore::default();
    let app = api_app_with_store(store);
    let token = sign(&recent_claims("phr", 10));
    let body = r#"{"to":"acct-9","amount":25}"#;
    let mut ids = Vec::new();
    for expected in [StatusCode::CREATED, StatusCode::OK] {
        let request = transfer_request(Some(&token), Some("same-key"))
            .body(Body::from(body))
            .expect("request builds");
        let response = app.clone().oneshot(request).await.expect("router answers");
        assert_eq!(response.status(), expected);
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let transfer: Value = serde_json::from_slice(&bytes).expect("JSON");
        ids.push(transfer["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);

    let other = r#"{"to":"acct-9","amount":26}"#;
    let request = transfer_request(Some(&token), Some("same-key"))
        .body(Body::from(other))
        .expect("request builds");
    let response = app.clone().oneshot(request).await.expect("router answers");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let list = Request::get("/api/transfers")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request builds");
    let response = app.oneshot(list).await.expect("router answers");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let list: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(list["transfers"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn transfers_list_needs_two_factors() {
    let token = sign(&claims("urn:okta:loa:1fa:pwd"));
    let request = Request::get("/api/transfers")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request builds");
    let (status, challenge, _) = send(request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(parse(challenge).is_step_up());
}

// Calls made with the session cookie (the app's own pages).

/// Stores a signed-in session whose access token has `acr` and returns its cookie.
async fn session_cookie(store: &MemoryStore, acr: &str) -> String {
    use app::session::{AuthState, SecretString, TokenSet, AUTH_STATE_KEY, AUTH_STATE_VERSION};
    let token = sign(&claims(acr));
    let state = AuthState {
        version: AUTH_STATE_VERSION,
        subject: "user-1".to_owned(),
        name: None,
        email: None,
        acr: Some(acr.to_owned()),
        amr: Vec::new(),
        auth_time: Some(now() - 10),
        reauthenticated_at: None,
        tokens: TokenSet {
            id_token: SecretString::new("unused".to_owned()),
            access_token: SecretString::new(token),
            access_token_expires_at: None,
            refresh_token: None,
        },
    };
    let session = tower_sessions::Session::new(None, Arc::new(store.clone()), None);
    session
        .insert(AUTH_STATE_KEY, &state)
        .await
        .expect("session insert");
    session.save().await.expect("session save");
    let id = session.id().expect("saved session has an id");
    format!("id={id}")
}

async fn load_pending(store: &MemoryStore, cookie: &str) -> Option<app::session::PendingAction> {
    let id = cookie
        .trim_start_matches("id=")
        .parse()
        .expect("session id");
    let session = tower_sessions::Session::new(Some(id), Arc::new(store.clone()), None);
    app::session::load_pending_action(&session).await
}

fn cookie_transfer(cookie: &str, key: &str) -> axum::http::request::Builder {
    transfer_request(None, Some(key)).header(header::COOKIE, cookie)
}

#[tokio::test]
async fn session_step_up_keeps_pending_action() {
    let store = MemoryStore::default();
    let cookie = session_cookie(&store, "urn:okta:loa:2fa:any").await;
    let body = r#"{"to":"acct-9","amount":5000}"#;
    let request = cookie_transfer(&cookie, "pending-key")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .expect("request builds");
    let response = api_app_with_store(store.clone())
        .oneshot(request)
        .await
        .expect("router answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let action = load_pending(&store, &cookie)
        .await
        .expect("pending action stored");
    assert_eq!(action.method, "POST");
    assert_eq!(action.path, "/api/transfers");
    assert_eq!(action.idempotency_key, "pending-key");
    assert_eq!(action.acr_values, ["phr"]);
    assert_eq!(action.max_age, Some(300));
    assert_eq!(action.subject, "user-1");
    assert!(!action.ready);
    let stored: Value = serde_json::from_str(&action.body).expect("body is JSON");
    assert_eq!(stored["amount"], 5000);
}

#[tokio::test]
async fn bearer_step_up_keeps_nothing() {
    let store = MemoryStore::default();
    let cookie = session_cookie(&store, "urn:okta:loa:2fa:any").await;
    let token = sign(&claims("urn:okta:loa:2fa:any"));
    let body = r#"{"to":"acct-9","amount":5000}"#;
    let request = transfer_request(Some(&token), Some("bearer-key"))
        .header(header::COOKIE, &cookie)
        .body(Body::from(body))
        .expect("request builds");
    let response = api_app_with_store(store.clone())
        .oneshot(request)
        .await
        .expect("router answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(load_pending(&store, &cookie).await, None);
}

#[tokio::test]
async fn cross_site_cookie_post_is_refused() {
    let store = MemoryStore::default();
    let cookie = session_cookie(&store, "phr").await;
    let body = r#"{"to":"acct-9","amount":5}"#;
    let cases: [(&str, Option<(&str, &str)>); 4] = [
        (
            "fetch metadata cross-site",
            Some(("sec-fetch-site", "cross-site")),
        ),
        (
            "fetch metadata same-site",
            Some(("sec-fetch-site", "same-site")),
        ),
        ("foreign origin", Some(("origin", "https://evil.example"))),
        ("no origin information", None),
    ];
    for (case, extra) in cases {
        let mut request = cookie_transfer(&cookie, "csrf-key");
        if let Some((name, value)) = extra {
            request = request.header(name, value);
        }
        let request = request.body(Body::from(body)).expect("request builds");
        let response = api_app_with_store(store.clone())
            .oneshot(request)
            .await
            .expect("router answers");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{case}");
    }
}

#[tokio::test]
async fn same_origin_cookie_post_runs() {
    let store = MemoryStore::default();
    let cookie = session_cookie(&store, "urn:okta:loa:2fa:any").await;
    let body = r#"{"to":"acct-9","amount":5}"#;
    for (name, value) in [("sec-fetch-site", "same-origin"), ("origin", APP_ORIGIN)] {
        let key = format!("origin-key-{name}");
        let request = cookie_transfer(&cookie, &key)
            .header(name, value)
            .body(Body::from(body))
            .expect("request builds");
        let response = api_app_with_store(store.clone())
            .oneshot(request)
            .await
            .expect("router answers");
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
    }
}
