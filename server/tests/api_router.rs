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

fn api_app() -> Router {
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
        public_origin: "http://app.test".to_owned(),
    };
    api::router::<ApiState>()
        .with_state(state)
        .layer(SessionManagerLayer::new(MemoryStore::default()))
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
