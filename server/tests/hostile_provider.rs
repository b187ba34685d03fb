//! The relying party against a provider that misbehaves, after the OpenID Foundation's
//! relying-party conformance tests for the authorization code flow.
//!
//! Each test signs in through the real router (`/auth/login`, then `/auth/callback`) while the
//! test provider returns the bad response of the case. A rejected sign-in must show a page with a
//! `data-testid` and no redirect, keep nothing in the session, log the rejection, and log no
//! secret.

mod support;

use axum::http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use server::oidc::provider::DiscoveryError;
use server::oidc::{provider_http_client, OidcProvider};
use sha2::{Digest, Sha256};
use support::provider::TestProvider;
use support::tokens::{self, jwks, Key, CLIENT_ID, TWO_FACTOR};
use support::{config_for, encode, Harness, Login, Reply};

/// The query of a sign-in that requests two factors and returns to `/profile`.
const STEP_UP_LOGIN: &str = "return_to=%2Fprofile&acr_values=urn%3Aokta%3Aloa%3A2fa%3Aany";

/// Checks the page of an ID token that failed verification: `502` with the `auth-error` test id,
/// no redirect, no user in the session, a warning in the log.
async fn assert_id_token_rejected(harness: &Harness, login: &Login, reply: &Reply) {
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
    assert!(reply.has_test_id("auth-error"), "{}", reply.body);
    assert_eq!(reply.location(), None);
    assert_not_cycled(reply, &login.cookie);
    harness.assert_signed_out(&login.cookie).await;
    harness.logs.assert_logged("WARN", "server::oidc::callback");
    assert_eq!(harness.provider.token_requests().len(), 1);
}

/// Checks that `reply` kept the session id of `cookie`: a rejected sign-in must not cycle it.
fn assert_not_cycled(reply: &Reply, cookie: &str) {
    if let Some(set) = reply.session_cookie() {
        assert_eq!(set, cookie, "a rejected sign-in changed the session id");
    }
}

/// Checks the page of a sign-in whose authentication falls short of the request (RFC 9470 §4):
/// `403` with the `stepup-unmet` test id and no new redirect, so the browser cannot loop.
async fn assert_unmet(harness: &Harness, login: &Login, reply: &Reply) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.has_test_id("stepup-unmet"), "{}", reply.body);
    assert_eq!(
        reply.location(),
        None,
        "a rejected step-up redirected again"
    );
    harness.assert_signed_out(&login.cookie).await;
}

/// Checks [`assert_unmet`] plus the log line of an `acr` or `auth_time` check that failed.
async fn assert_claims_unmet(harness: &Harness, login: &Login, reply: &Reply) {
    assert_unmet(harness, login, reply).await;
    harness.logs.assert_logged("INFO", "server::oidc::callback");
}

/// Checks the page of a callback whose `state` matches no sign-in of this browser: `400` with
/// the `auth-error` test id, a warning, and no call to the token endpoint.
async fn assert_state_rejected(harness: &Harness, reply: &Reply) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.has_test_id("auth-error"), "{}", reply.body);
    assert_eq!(reply.location(), None);
    harness.logs.assert_logged("WARN", "server::oidc::callback");
}

/// Starts a two-factor sign-in and completes it with the ID token that `make` builds from the
/// valid claims.
async fn sign_in_with(harness: &Harness, make: impl FnOnce(Value) -> String) -> (Login, Reply) {
    let login = harness.start_login(STEP_UP_LOGIN).await;
    let id_token = make(harness.id_token_claims(&login));
    let reply = harness.finish_with_id_token(&login, &id_token).await;
    (login, reply)
}

/// Starts a two-factor sign-in and completes it with an ID token whose claims `change` edits.
async fn sign_in_with_claims(harness: &Harness, change: impl FnOnce(&mut Value)) -> (Login, Reply) {
    sign_in_with(harness, |mut claims| {
        change(&mut claims);
        tokens::id_token(&claims)
    })
    .await
}

fn remove(claims: &mut Value, name: &str) {
    claims
        .as_object_mut()
        .expect("the claims are an object")
        .remove(name);
}

// ---------------------------------------------------------------------------------------------
// The harness itself

#[tokio::test]
async fn sign_in_succeeds_and_cycles_session() {
    let harness = Harness::start().await;
    let login = harness.start_login(STEP_UP_LOGIN).await;

    // The authorization request carries the requirement and a PKCE S256 challenge.
    assert_eq!(login.param("acr_values").as_deref(), Some(TWO_FACTOR));
    assert_eq!(login.param("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(login.param("response_type").as_deref(), Some("code"));
    assert_eq!(
        login.param("code_challenge_method").as_deref(),
        Some("S256")
    );

    let id_token = tokens::id_token(&harness.id_token_claims(&login));
    let reply = harness.finish_with_id_token(&login, &id_token).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location().as_deref(), Some("/profile"));

    // The session id changes at sign-in, so the id the browser had before is worthless.
    let signed_in = reply.session_cookie().expect("the sign-in sets a cookie");
    assert_ne!(signed_in, login.cookie);
    harness.assert_signed_in(&signed_in).await;
    harness.assert_signed_out(&login.cookie).await;

    // The code went back with the PKCE verifier that matches the challenge (RFC 7636 §4.6).
    let requests = harness.provider.token_requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.get("grant_type").map(String::as_str),
        Some("authorization_code")
    );
    assert_eq!(request.get("code").map(String::as_str), Some("test-code"));
    assert_eq!(
        request.get("redirect_uri").map(String::as_str),
        Some("http://127.0.0.1:3000/auth/callback")
    );
    let verifier = request
        .get("code_verifier")
        .expect("the token request has a verifier");
    let challenge = tokens::base64url(&Sha256::digest(verifier.as_bytes()));
    assert_eq!(login.param("code_challenge"), Some(challenge));

    harness.logs.assert_logged("INFO", "server::oidc::callback");
    harness.logs.assert_absent(&id_token, "ID token");
    harness.logs.assert_absent(verifier, "PKCE verifier");
    harness.logs.assert_absent(&login.nonce, "nonce");
    harness.logs.assert_absent(&login.state, "state");
    harness
        .logs
        .assert_absent("test-code", "authorization code");
}

#[tokio::test]
async fn stronger_acr_and_recent_auth_time_pass() {
    let harness = Harness::start().await;
    let login = harness
        .start_login(&format!("{STEP_UP_LOGIN}&max_age=300"))
        .await;
    assert_eq!(login.param("max_age").as_deref(), Some("300"));
    let mut claims = harness.id_token_claims(&login);
    claims["acr"] = json!("phr");
    claims["auth_time"] = json!(tokens::now() - 60);
    let reply = harness
        .finish_with_id_token(&login, &tokens::id_token(&claims))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location().as_deref(), Some("/profile"));
}

// ---------------------------------------------------------------------------------------------
// ID token signature and keys

#[tokio::test]
async fn unsigned_id_token_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with(&harness, |claims| tokens::unsigned(&claims)).await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn id_token_signed_by_unknown_key_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with(&harness, |claims| {
        tokens::sign_rs256(&claims, Key::Other, Some(tokens::TEST_KID), "JWT")
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn id_token_with_altered_signature_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with(&harness, |claims| {
        let token = tokens::id_token(&claims);
        let (signing_input, signature) = token.rsplit_once('.').expect("a JWS has dots");
        // Replacing the first character changes the top bits of the RSA signature.
        let replacement = if signature.starts_with('A') { "B" } else { "A" };
        format!("{signing_input}.{replacement}{}", &signature[1..])
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn hs256_id_token_is_rejected() {
    // A public client has no secret, so an HMAC-signed ID token proves nothing. The keys tried
    // are the client id and the provider's public key in PEM form (algorithm confusion).
    for secret in [CLIENT_ID.as_bytes(), tokens::TEST_PUBLIC_PEM] {
        let harness = Harness::start().await;
        let (login, reply) = sign_in_with(&harness, |claims| {
            let header = json!({ "alg": "HS256", "typ": "JWT", "kid": tokens::TEST_KID });
            tokens::sign_raw(
                &header,
                claims.to_string().as_bytes(),
                &EncodingKey::from_secret(secret).expect("any bytes are an HMAC key"),
                Algorithm::HS256,
            )
        })
        .await;
        assert_id_token_rejected(&harness, &login, &reply).await;
    }
}

#[tokio::test]
async fn missing_kid_with_one_key_passes() {
    // OpenID Connect Core 1.0 §10.1 lets the provider omit `kid` while its JWKS has one key.
    let harness = Harness::start().await;
    let (_, reply) = sign_in_with(&harness, |claims| {
        tokens::sign_rs256(&claims, Key::Test, None, "JWT")
    })
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

#[tokio::test]
async fn missing_kid_with_two_keys_is_rejected() {
    let provider = TestProvider::start().await;
    provider.set_jwks(jwks(&[Key::Test, Key::Other]));
    let harness = Harness::with_provider(provider).await;
    let (login, reply) = sign_in_with(&harness, |claims| {
        tokens::sign_rs256(&claims, Key::Test, None, "JWT")
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn rotated_signing_key_is_fetched() {
    let harness = Harness::start().await;
    let fetches_before = harness.provider.jwks_fetches();

    // The provider publishes a new key and signs with it from now on.
    harness.provider.set_jwks(jwks(&[Key::Test, Key::Other]));
    let (_, reply) = sign_in_with(&harness, |claims| {
        tokens::sign_rs256(&claims, Key::Other, Some(tokens::OTHER_KID), "JWT")
    })
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(harness.provider.jwks_fetches() > fetches_before);
}

// ---------------------------------------------------------------------------------------------
// ID token claims

#[tokio::test]
async fn wrong_issuer_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| {
        claims["iss"] = json!("http://127.0.0.1:9/other-issuer");
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn wrong_audience_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| {
        claims["aud"] = json!("another-client");
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn untrusted_extra_audience_is_rejected() {
    // OpenID Connect Core 1.0 §3.1.3.7 step 3: an audience the client does not trust, here
    // without an `azp` that names the client.
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| {
        claims["aud"] = json!([CLIENT_ID, "another-client"]);
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn azp_of_another_client_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| {
        claims["azp"] = json!("another-client");
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn wrong_nonce_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| {
        claims["nonce"] = json!("a-nonce-from-another-sign-in");
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn missing_nonce_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| remove(claims, "nonce")).await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn expired_id_token_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| {
        claims["iat"] = json!(tokens::now() - 3_600);
        claims["exp"] = json!(tokens::now() - 600);
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn future_iat_is_rejected() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| {
        claims["iat"] = json!(tokens::now() + 86_400);
        claims["exp"] = json!(tokens::now() + 86_700);
    })
    .await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

#[tokio::test]
async fn id_token_without_sub_or_iat_is_rejected() {
    for claim in ["sub", "iat"] {
        let harness = Harness::start().await;
        let (login, reply) = sign_in_with_claims(&harness, |claims| remove(claims, claim)).await;
        assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "without {claim}");
        assert!(reply.has_test_id("auth-error"), "without {claim}");
        harness.assert_signed_out(&login.cookie).await;
        // The token response itself fails to parse here, which the server logs as an error.
        let logged = harness.logs.lines("WARN", "server::oidc::callback").len()
            + harness.logs.lines("ERROR", "server::oidc::callback").len();
        assert!(
            logged > 0,
            "without {claim}: nothing logged:\n{}",
            harness.logs.text()
        );
    }
}

#[tokio::test]
async fn token_response_without_id_token_is_rejected() {
    let harness = Harness::start().await;
    let login = harness.start_login(STEP_UP_LOGIN).await;
    let mut response = harness.token_response("unused");
    remove(&mut response, "id_token");
    harness.provider.respond_with(response);
    let reply = harness.finish(&login).await;
    assert_id_token_rejected(&harness, &login, &reply).await;
}

// ---------------------------------------------------------------------------------------------
// Discovery

#[tokio::test]
async fn discovery_of_another_issuer_stops_start_up() {
    let provider = TestProvider::start().await;
    let advertised = [
        format!("{}/", provider.issuer),
        format!("{}/tenant", provider.issuer),
        "http://127.0.0.1:9".to_owned(),
    ];
    for issuer in advertised {
        provider.advertise_issuer(&issuer);
        let config = config_for(&provider.issuer);
        let http = provider_http_client().expect("the HTTP client builds");
        let result = OidcProvider::discover(&config, http).await;
        let Err(DiscoveryError::Discovery { issuer: named, .. }) = result else {
            panic!("discovery accepted the issuer {issuer}");
        };
        assert_eq!(
            named, provider.issuer,
            "the error names the configured issuer"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// `state`

#[tokio::test]
async fn missing_state_is_rejected() {
    let harness = Harness::start().await;
    let login = harness.start_login(STEP_UP_LOGIN).await;
    let id_token = tokens::id_token(&harness.id_token_claims(&login));
    harness
        .provider
        .respond_with(harness.token_response(&id_token));

    let reply = harness
        .callback("code=test-code", Some(&login.cookie))
        .await;
    assert_state_rejected(&harness, &reply).await;
    harness.assert_signed_out(&login.cookie).await;
    assert!(harness.provider.token_requests().is_empty());
}

#[tokio::test]
async fn callback_without_cookie_is_rejected() {
    let harness = Harness::start().await;
    let login = harness.start_login(STEP_UP_LOGIN).await;
    let id_token = tokens::id_token(&harness.id_token_claims(&login));
    harness
        .provider
        .respond_with(harness.token_response(&id_token));

    let query = format!("code=test-code&state={}", encode(&login.state));
    let reply = harness.callback(&query, None).await;
    assert_state_rejected(&harness, &reply).await;
    assert!(harness.provider.token_requests().is_empty());
}

#[tokio::test]
async fn reused_state_is_rejected() {
    let harness = Harness::start().await;
    let (login, _, signed_in) = harness.sign_in(STEP_UP_LOGIN).await;
    let query = format!("code=test-code&state={}", encode(&login.state));

    // Replayed in the signed-in session, and with the cookie the browser had before sign-in.
    let reply = harness.callback(&query, Some(&signed_in)).await;
    assert_state_rejected(&harness, &reply).await;
    assert_not_cycled(&reply, &signed_in);
    harness.assert_signed_in(&signed_in).await;

    // The id from before sign-in names no session any more, so the server may start a new one,
    // but never a signed-in one.
    let reply = harness.callback(&query, Some(&login.cookie)).await;
    assert_state_rejected(&harness, &reply).await;
    let cookie = reply
        .session_cookie()
        .unwrap_or_else(|| login.cookie.clone());
    harness.assert_signed_out(&cookie).await;

    assert_eq!(harness.provider.token_requests().len(), 1);
}

#[tokio::test]
async fn state_is_spent_by_a_failed_callback() {
    let harness = Harness::start().await;
    let (login, first) = sign_in_with_claims(&harness, |claims| {
        claims["nonce"] = json!("wrong");
    })
    .await;
    assert_eq!(first.status, StatusCode::BAD_GATEWAY);

    // The provider now returns a good token, but the `state` already had its one use.
    let id_token = tokens::id_token(&harness.id_token_claims(&login));
    let second = harness.finish_with_id_token(&login, &id_token).await;
    assert_state_rejected(&harness, &second).await;
    harness.assert_signed_out(&login.cookie).await;
    assert_eq!(harness.provider.token_requests().len(), 1);
}

#[tokio::test]
async fn state_of_another_session_is_rejected() {
    let harness = Harness::start().await;
    let victim = harness.start_login(STEP_UP_LOGIN).await;
    let attacker = harness.start_login(STEP_UP_LOGIN).await;
    let id_token = tokens::id_token(&harness.id_token_claims(&victim));
    harness
        .provider
        .respond_with(harness.token_response(&id_token));

    // The victim's `state` arrives with the attacker's cookie.
    let query = format!("code=test-code&state={}", encode(&victim.state));
    let reply = harness.callback(&query, Some(&attacker.cookie)).await;
    assert_state_rejected(&harness, &reply).await;
    harness.assert_signed_out(&attacker.cookie).await;
    assert!(harness.provider.token_requests().is_empty());

    // The victim's own sign-in still completes.
    let reply = harness.finish(&victim).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

// ---------------------------------------------------------------------------------------------
// Error responses from the authorization endpoint

#[tokio::test]
async fn access_denied_shows_error_page() {
    let harness = Harness::start().await;
    let login = harness.start_login(STEP_UP_LOGIN).await;
    let query = format!(
        "error=access_denied&error_description={}&state={}",
        encode("The user cancelled <b>sign-in</b>"),
        encode(&login.state)
    );
    let reply = harness.callback(&query, Some(&login.cookie)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.has_test_id("auth-error"), "{}", reply.body);
    assert_eq!(reply.location(), None);
    assert!(
        reply.body.contains("&lt;b&gt;sign-in&lt;/b&gt;"),
        "{}",
        reply.body
    );
    assert!(
        !reply.body.contains("<b>"),
        "the description was not escaped"
    );
    harness.assert_signed_out(&login.cookie).await;
    harness.logs.assert_logged("INFO", "server::oidc::callback");
    assert!(harness.provider.token_requests().is_empty());
}

#[tokio::test]
async fn unmet_requirements_show_step_up_page() {
    let harness = Harness::start().await;
    let login = harness.start_login(STEP_UP_LOGIN).await;
    let query = format!(
        "error=unmet_authentication_requirements&error_description={}&state={}",
        encode("No second factor is enrolled <script>"),
        encode(&login.state)
    );
    let reply = harness.callback(&query, Some(&login.cookie)).await;
    assert_unmet(&harness, &login, &reply).await;
    assert!(
        reply
            .body
            .contains("No second factor is enrolled &lt;script&gt;"),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains(TWO_FACTOR),
        "the page does not name the level"
    );
    assert!(harness.provider.token_requests().is_empty());
}

#[tokio::test]
async fn unmet_requirements_error_is_logged() {
    let harness = Harness::start().await;
    let login = harness.start_login(STEP_UP_LOGIN).await;
    let query = format!(
        "error=unmet_authentication_requirements&state={}",
        encode(&login.state)
    );
    let reply = harness.callback(&query, Some(&login.cookie)).await;
    assert_unmet(&harness, &login, &reply).await;
    harness.logs.assert_logged("INFO", "server::oidc::callback");
}

#[tokio::test]
async fn error_with_unknown_state_is_rejected() {
    let harness = Harness::start().await;
    let login = harness.start_login(STEP_UP_LOGIN).await;
    let query = "error=unmet_authentication_requirements&state=not-a-state-we-sent";
    let reply = harness.callback(query, Some(&login.cookie)).await;
    assert_state_rejected(&harness, &reply).await;
}

#[tokio::test]
async fn callback_without_code_is_rejected() {
    let harness = Harness::start().await;
    let login = harness.start_login(STEP_UP_LOGIN).await;
    let query = format!("state={}", encode(&login.state));
    let reply = harness.callback(&query, Some(&login.cookie)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.has_test_id("auth-error"), "{}", reply.body);
    harness.assert_signed_out(&login.cookie).await;
    assert!(harness.provider.token_requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// `acr` and `auth_time` against what the request asked for (RFC 9470 §4)

#[tokio::test]
async fn if_possible_acr_is_unmet() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| {
        claims["acr"] = json!("urn:okta:loa:2fa:any:ifpossible");
    })
    .await;
    assert_claims_unmet(&harness, &login, &reply).await;
}

#[tokio::test]
async fn edited_request_with_weaker_acr_is_unmet() {
    // The user edited `acr_values` on the way to the provider and got what they asked for.
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| {
        claims["acr"] = json!("urn:okta:loa:1fa:any");
    })
    .await;
    assert_claims_unmet(&harness, &login, &reply).await;
}

#[tokio::test]
async fn missing_acr_is_unmet() {
    let harness = Harness::start().await;
    let (login, reply) = sign_in_with_claims(&harness, |claims| remove(claims, "acr")).await;
    assert_claims_unmet(&harness, &login, &reply).await;
}

#[tokio::test]
async fn max_age_without_auth_time_is_unmet() {
    let harness = Harness::start().await;
    let login = harness
        .start_login(&format!("{STEP_UP_LOGIN}&max_age=300"))
        .await;
    let mut claims = harness.id_token_claims(&login);
    remove(&mut claims, "auth_time");
    let reply = harness
        .finish_with_id_token(&login, &tokens::id_token(&claims))
        .await;
    assert_claims_unmet(&harness, &login, &reply).await;
}

#[tokio::test]
async fn max_age_with_old_auth_time_is_unmet() {
    let harness = Harness::start().await;
    let login = harness
        .start_login(&format!("{STEP_UP_LOGIN}&max_age=300"))
        .await;
    let mut claims = harness.id_token_claims(&login);
    claims["auth_time"] = json!(tokens::now() - 3_600);
    let reply = harness
        .finish_with_id_token(&login, &tokens::id_token(&claims))
        .await;
    assert_claims_unmet(&harness, &login, &reply).await;
}

#[tokio::test]
async fn max_age_zero_needs_new_authentication() {
    // `max_age=0` requests an authentication now. An `auth_time` from five minutes ago is older
    // than the 60 s clock skew allows.
    let harness = Harness::start().await;
    let login = harness.start_login("return_to=%2Fsecurity&max_age=0").await;
    assert_eq!(login.param("max_age").as_deref(), Some("0"));
    let mut claims = harness.id_token_claims(&login);
    claims["auth_time"] = json!(tokens::now() - 300);
    let reply = harness
        .finish_with_id_token(&login, &tokens::id_token(&claims))
        .await;
    assert_claims_unmet(&harness, &login, &reply).await;
}

// ---------------------------------------------------------------------------------------------
// Logs

#[tokio::test]
async fn debug_log_keeps_code_out() {
    let harness = Harness::with_provider_and_log_filter(TestProvider::start().await, "debug").await;
    let (login, _, _) = harness.sign_in(STEP_UP_LOGIN).await;
    harness
        .logs
        .assert_absent("test-code", "authorization code");
    harness.logs.assert_absent(&login.state, "state");
}
