//! The verified-token cache against a provider whose JWKS the test controls: what a cached
//! token may and may not skip. The rules are in `server/src/api/token_cache.rs`.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use server::api::jwks::JwksCache;
use server::api::{AccessTokenVerifier, TokenError};
use support::provider::TestProvider;
use support::tokens::{self, jwks, Key};
use support::Harness;
use url::Url;

async fn verifier_for(provider: &TestProvider, capacity: usize) -> AccessTokenVerifier {
    let url = Url::parse(&format!("{}/jwks", provider.issuer)).expect("the JWKS URL parses");
    let keys = JwksCache::fetch(url, reqwest::Client::new())
        .await
        .expect("the test provider serves its JWKS");
    AccessTokenVerifier::new(
        provider.issuer.clone(),
        tokens::API_AUDIENCE.to_owned(),
        keys,
    )
    .with_token_cache_capacity(capacity)
}

fn token_with(issuer: &str, change: impl FnOnce(&mut Value), key: Key) -> String {
    let mut claims = tokens::access_token_claims(issuer);
    change(&mut claims);
    tokens::sign_rs256(&claims, key, Some(key.kid()), "at+jwt")
}

#[tokio::test]
async fn verifier_caches_repeated_token() {
    let provider = TestProvider::start().await;
    let verifier = verifier_for(&provider, 100).await;
    let token = tokens::access_token(&provider.issuer);

    let first = verifier.verify(&token).await.expect("the token verifies");
    assert_eq!(verifier.cached_tokens(), 1);
    assert_eq!(verifier.cache_hits(), 0);
    let second = verifier
        .verify(&token)
        .await
        .expect("the cached token verifies");
    assert_eq!(first, second);
    assert_eq!(verifier.cached_tokens(), 1);
    assert_eq!(verifier.cache_hits(), 1);
}

#[tokio::test]
async fn verifier_rechecks_changed_bytes() {
    let provider = TestProvider::start().await;
    let verifier = verifier_for(&provider, 100).await;
    let token = tokens::access_token(&provider.issuer);
    verifier.verify(&token).await.expect("the token verifies");

    // The signature with its last character changed. Base64url's last character of a
    // 256-byte signature carries padding bits, so change one in the middle.
    let (signed, signature) = token.rsplit_once('.').expect("a JWS has three parts");
    let mut bytes = signature.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{signed}.{}", String::from_utf8(bytes).expect("ASCII"));
    assert_eq!(
        verifier.verify(&tampered).await,
        Err(TokenError::InvalidSignature)
    );

    // The claims of another token with the cached token's header and signature.
    let other = token_with(
        &provider.issuer,
        |claims| claims["sub"] = json!("mallory"),
        Key::Test,
    );
    let other_claims = other.split('.').nth(1).expect("a JWS has three parts");
    let mut parts = token.split('.');
    let header = parts.next().expect("header");
    let signature = parts.nth(1).expect("signature");
    let spliced = format!("{header}.{other_claims}.{signature}");
    assert_eq!(
        verifier.verify(&spliced).await,
        Err(TokenError::InvalidSignature)
    );
    assert_eq!(
        verifier.cached_tokens(),
        1,
        "rejected tokens are not stored"
    );
}

#[tokio::test]
async fn verifier_skips_caching_within_leeway() {
    let provider = TestProvider::start().await;
    let verifier = verifier_for(&provider, 100).await;
    let now = tokens::now();
    let token = token_with(
        &provider.issuer,
        |claims| claims["exp"] = json!(now - 30),
        Key::Test,
    );

    // The 60 s leeway still accepts it, but only after a full verification.
    verifier.verify(&token).await.expect("within the leeway");
    assert_eq!(verifier.cached_tokens(), 0);
    verifier.verify(&token).await.expect("within the leeway");
    assert_eq!(verifier.cached_tokens(), 0);
}

#[tokio::test]
async fn unchanged_jwks_refetch_keeps_cache() {
    let provider = TestProvider::start().await;
    let verifier = verifier_for(&provider, 100).await;
    let token = tokens::access_token(&provider.issuer);
    verifier.verify(&token).await.expect("the token verifies");
    let fetches = provider.jwks_fetches();

    // An unknown kid makes the verifier refetch; the provider serves the same document.
    let unknown = tokens::sign_rs256(
        &tokens::access_token_claims(&provider.issuer),
        Key::Other,
        Some("made-up"),
        "at+jwt",
    );
    assert_eq!(verifier.verify(&unknown).await, Err(TokenError::UnknownKey));
    assert_eq!(provider.jwks_fetches(), fetches + 1);
    assert_eq!(verifier.cached_tokens(), 1);
    verifier
        .verify(&token)
        .await
        .expect("still cached and valid");
}

#[tokio::test]
async fn removed_key_invalidates_cached_tokens() {
    let provider = TestProvider::start().await;
    let verifier = verifier_for(&provider, 100).await;
    let old = tokens::access_token(&provider.issuer);
    verifier
        .verify(&old)
        .await
        .expect("signed with the published key");
    assert_eq!(verifier.cached_tokens(), 1);

    // The provider replaces its key; the first token with the new kid makes the verifier
    // refetch the JWKS.
    provider.set_jwks(jwks(&[Key::Other]));
    let new = token_with(&provider.issuer, |_| {}, Key::Other);
    verifier
        .verify(&new)
        .await
        .expect("signed with the new key");

    assert_eq!(verifier.verify(&old).await, Err(TokenError::UnknownKey));
    // The new token's first verification began before the refetch, so it was stored under
    // the old generation. It is verified in full once more, and that store drops the rest.
    verifier
        .verify(&new)
        .await
        .expect("signed with the new key");
    assert_eq!(verifier.cached_tokens(), 1, "only the new token is held");
    assert_eq!(verifier.verify(&old).await, Err(TokenError::UnknownKey));
}

#[tokio::test]
async fn zero_size_cache_stores_nothing() {
    let provider = TestProvider::start().await;
    let verifier = verifier_for(&provider, 0).await;
    let token = tokens::access_token(&provider.issuer);
    verifier.verify(&token).await.expect("the token verifies");
    verifier.verify(&token).await.expect("the token verifies");
    assert_eq!(verifier.cached_tokens(), 0);
}

#[tokio::test]
async fn api_refuses_cached_token_after_rotation() {
    let harness = Harness::start().await;
    let issuer = harness.provider.issuer.clone();
    let old = tokens::access_token(&issuer);
    let bearer = |token: &str| format!("Bearer {token}");

    for _ in 0..2 {
        let reply = harness
            .get_with_authorization("/api/messages", &bearer(&old))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    harness.provider.set_jwks(jwks(&[Key::Other]));
    let new = token_with(&issuer, |_| {}, Key::Other);
    let reply = harness
        .get_with_authorization("/api/messages", &bearer(&new))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let reply = harness
        .get_with_authorization("/api/messages", &bearer(&old))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let challenge = reply.www_authenticate().expect("a challenge");
    assert!(challenge.contains("invalid_token"), "{challenge}");
}

#[tokio::test]
async fn api_challenges_cached_one_factor_token() {
    // A one-factor token verifies and is cached. The route still responds with a step-up
    // challenge each time, because only the token's verification is cached.
    let harness = Harness::start().await;
    let issuer = harness.provider.issuer.clone();
    let one_factor = token_with(
        &issuer,
        |claims| claims["acr"] = json!("urn:okta:loa:1fa:any"),
        Key::Test,
    );
    for _ in 0..3 {
        let reply = harness
            .get_with_authorization("/api/messages", &format!("Bearer {one_factor}"))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        let challenge = reply.www_authenticate().expect("a challenge");
        assert!(
            challenge.contains("insufficient_user_authentication"),
            "{challenge}"
        );
    }
}

#[tokio::test]
async fn api_applies_max_age_to_cached_token() {
    // A large transfer needs `phr` from the last 300 s, with 60 s of clock skew. The token's
    // authentication is 357 s old: the first request passes and caches the token, and a
    // few seconds later the same cached token is too old.
    let harness = Harness::start().await;
    let issuer = harness.provider.issuer.clone();
    let now = tokens::now();
    let token = token_with(
        &issuer,
        |claims| {
            claims["acr"] = json!("phr");
            claims["auth_time"] = json!(now - 357);
        },
        Key::Test,
    );
    let transfer = |idempotency_key: &str| {
        Request::post("/api/transfers")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("idempotency-key", idempotency_key)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"to":"acct-9","amount":5000}"#))
            .expect("the request builds")
    };

    let reply = harness.send(transfer("first-transfer")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let reply = harness.send(transfer("second-transfer")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let header = reply.www_authenticate().expect("a challenge");
    let challenge = stepup::BearerChallenge::from_header_value(header)
        .expect("it parses")
        .expect("a Bearer challenge");
    assert_eq!(challenge.max_age, Some(300), "{header}");
}
