//! A corpus of bad access tokens and malformed credentials against `GET /api/messages`.
//!
//! Each case changes one thing in a token that the API accepts (the control test shows that it
//! does). Every case must get a `4xx` with an RFC 6750 §3 challenge that
//! `stepup::BearerChallenge` parses, with the error code the case expects and the fixed
//! description, and never a `2xx` or a `5xx`. The requests go through the whole server router,
//! whose verifier reads its keys from the test provider's JWKS.

mod support;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use stepup::{BearerChallenge, BearerErrorCode};
use support::tokens::{self, Key, TEST_KID, TWO_FACTOR};
use support::{Harness, Reply};

/// The `error_description` of every `invalid_token` response.
const INVALID_TOKEN_DESCRIPTION: &str = "The access token is invalid or expired.";

/// The response the API must send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expected {
    /// `401` with `error="invalid_token"` (RFC 6750 §3.1).
    InvalidToken,
    /// `400` with `error="invalid_request"` (RFC 6750 §3.1).
    InvalidRequest,
    /// `401` with a bare `Bearer` challenge: the request carries no bearer credentials at all.
    NoCredentials,
}

/// One bad request: a name for failure messages, the request, and the expected response.
struct Case {
    name: &'static str,
    request: Request<Body>,
    expected: Expected,
}

impl Case {
    /// Builds a request with `Authorization: Bearer {token}`.
    fn token(name: &'static str, token: &str) -> Self {
        Self::authorization(name, &format!("Bearer {token}"), Expected::InvalidToken)
    }

    /// Builds a request with one `Authorization` header of `value`.
    fn authorization(name: &'static str, value: &str, expected: Expected) -> Self {
        let value = HeaderValue::from_str(value).expect("the header value is valid");
        Self::headers(name, "/api/messages", vec![value], expected)
    }

    /// Builds a request to `uri` with one `Authorization` header per value.
    fn headers(
        name: &'static str,
        uri: &str,
        authorization: Vec<HeaderValue>,
        expected: Expected,
    ) -> Self {
        let mut request = Request::get(uri);
        for value in authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        Self {
            name,
            request: request.body(Body::empty()).expect("the request builds"),
            expected,
        }
    }
}

/// Returns the JOSE header of a good access token (RFC 9068 §2.1).
fn good_header() -> Value {
    json!({ "alg": "RS256", "typ": "at+jwt", "kid": TEST_KID })
}

/// Signs `claims` under `header` with the provider's key and RS256.
fn sign(header: &Value, claims: &Value) -> String {
    tokens::sign_raw(
        header,
        claims.to_string().as_bytes(),
        &Key::Test.encoding_key(),
        Algorithm::RS256,
    )
}

/// Signs a token that differs from a good one only by `change` applied to its claims.
fn with_claims(harness: &Harness, change: impl FnOnce(&mut Value)) -> String {
    let mut claims = tokens::access_token_claims(&harness.provider.issuer);
    change(&mut claims);
    sign(&good_header(), &claims)
}

/// Signs a token that differs from a good one only by `change` applied to its JOSE header.
fn with_header(harness: &Harness, change: impl FnOnce(&mut Value)) -> String {
    let mut header = good_header();
    change(&mut header);
    sign(
        &header,
        &tokens::access_token_claims(&harness.provider.issuer),
    )
}

/// Returns the `exp` of serialized claims as written.
fn claims_exp(claims: &str) -> i64 {
    let value: Value = serde_json::from_str(claims).expect("the claims are JSON");
    value["exp"].as_i64().expect("exp is an integer")
}

fn remove(object: &mut Value, name: &str) {
    object
        .as_object_mut()
        .expect("the JSON value is an object")
        .remove(name);
}

/// Replaces part `index` (0 header, 1 payload, 2 signature) of a compact JWS.
fn replace_part(token: &str, index: usize, replacement: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[index] = replacement;
    parts.join(".")
}

/// Sends `case`, checks the response and returns it.
async fn check(harness: &Harness, case: Case) -> Reply {
    let name = case.name;
    let expected = case.expected;
    let reply = harness.send(case.request).await;

    assert!(
        !reply.status.is_server_error(),
        "{name}: the server failed with {}",
        reply.status
    );
    assert!(
        !reply.status.is_success(),
        "{name}: the API accepted the request"
    );
    let raw = reply
        .www_authenticate()
        .unwrap_or_else(|| panic!("{name}: no WWW-Authenticate challenge"));
    let challenge = match BearerChallenge::from_header_value(raw) {
        Ok(Some(challenge)) => challenge,
        other => panic!("{name}: the challenge {raw:?} does not parse: {other:?}"),
    };
    let body: Value = serde_json::from_str(&reply.body)
        .unwrap_or_else(|_| panic!("{name}: the body is not JSON: {}", reply.body));

    match expected {
        Expected::InvalidToken => {
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}");
            assert_eq!(
                challenge.error,
                Some(BearerErrorCode::InvalidToken),
                "{name}"
            );
            assert_eq!(
                challenge.error_description.as_deref(),
                Some(INVALID_TOKEN_DESCRIPTION),
                "{name}"
            );
            assert_eq!(body["error"], "invalid_token", "{name}");
            assert_eq!(
                body["error_description"], INVALID_TOKEN_DESCRIPTION,
                "{name}"
            );
        }
        Expected::InvalidRequest => {
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{name}");
            assert_eq!(
                challenge.error,
                Some(BearerErrorCode::InvalidRequest),
                "{name}"
            );
            assert_eq!(body["error"], "invalid_request", "{name}");
        }
        Expected::NoCredentials => {
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}");
            assert_eq!(raw, "Bearer", "{name}");
        }
    }
    assert!(
        !challenge.is_step_up(),
        "{name}: a bad token was judged on its acr"
    );
    reply
}

/// Checks every case, then that none of them was logged as a server fault: a bad token is the
/// client's mistake.
async fn check_all(harness: &Harness, cases: Vec<Case>) {
    for case in cases {
        check(harness, case).await;
    }
    assert!(
        harness.logs.lines("ERROR", "server").is_empty(),
        "a bad token was logged as an error:\n{}",
        harness.logs.text()
    );
}

#[tokio::test]
async fn good_token_is_accepted() {
    let harness = Harness::start().await;
    let token = tokens::access_token(&harness.provider.issuer);
    let reply = harness
        .get_with_authorization("/api/messages", &format!("Bearer {token}"))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{:?}",
        reply.www_authenticate()
    );
}

#[tokio::test]
async fn two_spaces_after_scheme_are_allowed() {
    // RFC 6750 §2.1 writes the credentials as `"Bearer" 1*SP b64token`, so any number of spaces
    // may follow the scheme.
    let harness = Harness::start().await;
    let token = tokens::access_token(&harness.provider.issuer);
    let reply = harness
        .get_with_authorization("/api/messages", &format!("Bearer  {token}"))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{:?}",
        reply.www_authenticate()
    );
}

#[tokio::test]
async fn forged_signatures_are_rejected() {
    let harness = Harness::start().await;
    let claims = tokens::access_token_claims(&harness.provider.issuer);
    let good = sign(&good_header(), &claims);
    let (signing_input, signature) = good.rsplit_once('.').expect("a JWS has dots");

    let hmac = |secret: &[u8]| {
        let header = json!({ "alg": "HS256", "typ": "at+jwt", "kid": TEST_KID });
        tokens::sign_raw(
            &header,
            claims.to_string().as_bytes(),
            &EncodingKey::from_secret(secret).expect("any bytes are an HMAC key"),
            Algorithm::HS256,
        )
    };
    let jwk_text = Key::Test.public_jwk().to_string();
    let none_with_signature = format!(
        "{}.{}.{signature}",
        tokens::base64url(br#"{"alg":"none","typ":"at+jwt","kid":"test-key-1"}"#),
        signing_input.split_once('.').expect("two parts").1
    );
    let pss = tokens::sign_raw(
        &json!({ "alg": "PS256", "typ": "at+jwt", "kid": TEST_KID }),
        claims.to_string().as_bytes(),
        &Key::Test.encoding_key(),
        Algorithm::PS256,
    );
    let es256_label = replace_part(
        &good,
        0,
        &tokens::base64url(br#"{"alg":"ES256","typ":"at+jwt","kid":"test-key-1"}"#),
    );

    check_all(
        &harness,
        vec![
            Case::token("alg none", &tokens::unsigned(&claims)),
            Case::token("alg none with the real signature", &none_with_signature),
            Case::token(
                "HS256 keyed with the public key PEM",
                &hmac(tokens::TEST_PUBLIC_PEM),
            ),
            Case::token(
                "HS256 keyed with the public JWK",
                &hmac(jwk_text.as_bytes()),
            ),
            Case::token(
                "signed by another key under the real kid",
                &tokens::sign_rs256(&claims, Key::Other, Some(TEST_KID), "at+jwt"),
            ),
            Case::token("PS256 with a key published for RS256", &pss),
            Case::token("ES256 label on an RSA signature", &es256_label),
            Case::token(
                "unknown kid",
                &with_header(&harness, |header| header["kid"] = json!("no-such-key")),
            ),
            Case::token("truncated signature", &good[..good.len() - 10]),
            Case::token("empty signature", &format!("{signing_input}.")),
        ],
    )
    .await;
}

#[tokio::test]
async fn key_hints_in_token_are_ignored() {
    // RFC 8725 §3.10: the key comes from the provider's JWKS, never from a URL or key that the
    // token names. Each token is signed by the other key and points at it.
    let harness = Harness::start().await;
    let claims = tokens::access_token_claims(&harness.provider.issuer);
    let signed_by_other = |extra: Value| {
        let mut header = json!({ "alg": "RS256", "typ": "at+jwt", "kid": tokens::OTHER_KID });
        for (name, value) in extra.as_object().expect("an object") {
            header[name] = value.clone();
        }
        tokens::sign_raw(
            &header,
            claims.to_string().as_bytes(),
            &Key::Other.encoding_key(),
            Algorithm::RS256,
        )
    };
    let jku = signed_by_other(json!({ "jku": harness.provider.decoy_url("jku") }));
    let x5u = signed_by_other(json!({ "x5u": harness.provider.decoy_url("x5u") }));
    let jwk = signed_by_other(json!({ "jwk": Key::Other.public_jwk() }));
    let jwk_real_kid = {
        let mut embedded = Key::Other.public_jwk();
        embedded["kid"] = json!(TEST_KID);
        let header = json!({ "alg": "RS256", "typ": "at+jwt", "kid": TEST_KID, "jwk": embedded });
        tokens::sign_raw(
            &header,
            claims.to_string().as_bytes(),
            &Key::Other.encoding_key(),
            Algorithm::RS256,
        )
    };

    check_all(
        &harness,
        vec![
            Case::token("jku pointing at another JWKS", &jku),
            Case::token("x5u pointing at another key", &x5u),
            Case::token("embedded jwk", &jwk),
            Case::token("embedded jwk under the real kid", &jwk_real_kid),
        ],
    )
    .await;
    assert_eq!(
        harness.provider.decoy_fetches(),
        0,
        "the server fetched a URL from a token"
    );
}

#[tokio::test]
async fn unknown_kids_do_not_flood_the_provider() {
    let harness = Harness::start().await;
    let fetches_before = harness.provider.jwks_fetches();
    for index in 0..5 {
        let kid = format!("made-up-key-{index}");
        let token = with_header(&harness, |header| header["kid"] = json!(kid));
        check(&harness, Case::token("made-up kid", &token)).await;
    }
    assert!(
        harness.provider.jwks_fetches() <= fetches_before + 1,
        "five unknown kids caused {} JWKS fetches",
        harness.provider.jwks_fetches() - fetches_before
    );
}

#[tokio::test]
async fn invalid_registered_claims_are_rejected() {
    let harness = Harness::start().await;
    let issuer = harness.provider.issuer.clone();
    let now = tokens::now();
    let id_token_as_access_token = {
        let claims = tokens::id_token_claims(&issuer, "some-nonce");
        sign(&good_header(), &claims)
    };
    let exp_overflow = {
        let claims = tokens::access_token_claims(&issuer).to_string();
        let exp = format!("\"exp\":{}", claims_exp(&claims));
        tokens::sign_raw(
            &good_header(),
            claims.replace(&exp, "\"exp\":1e400").as_bytes(),
            &Key::Test.encoding_key(),
            Algorithm::RS256,
        )
    };

    check_all(
        &harness,
        vec![
            Case::token(
                "expired",
                &with_claims(&harness, |claims| claims["exp"] = json!(now - 3_600)),
            ),
            Case::token(
                "nbf in the future",
                &with_claims(&harness, |claims| claims["nbf"] = json!(now + 3_600)),
            ),
            Case::token(
                "wrong iss",
                &with_claims(&harness, |claims| {
                    claims["iss"] = json!("http://127.0.0.1:9/other-issuer");
                }),
            ),
            Case::token(
                "wrong aud",
                &with_claims(&harness, |claims| claims["aud"] = json!("api://other")),
            ),
            Case::token("ID token sent as access token", &id_token_as_access_token),
            Case::token(
                "missing exp",
                &with_claims(&harness, |claims| remove(claims, "exp")),
            ),
            Case::token(
                "missing iss",
                &with_claims(&harness, |claims| remove(claims, "iss")),
            ),
            Case::token(
                "missing aud",
                &with_claims(&harness, |claims| remove(claims, "aud")),
            ),
            Case::token(
                "missing sub",
                &with_claims(&harness, |claims| remove(claims, "sub")),
            ),
            Case::token(
                "exp as a string",
                &with_claims(&harness, |claims| {
                    claims["exp"] = json!((now + 600).to_string())
                }),
            ),
            Case::token("exp too large for any number type", &exp_overflow),
        ],
    )
    .await;
}

#[tokio::test]
async fn step_up_claims_of_wrong_type_are_rejected() {
    let harness = Harness::start().await;
    let now = tokens::now();
    check_all(
        &harness,
        vec![
            Case::token(
                "acr as a number",
                &with_claims(&harness, |claims| claims["acr"] = json!(2)),
            ),
            Case::token(
                "acr as an array",
                &with_claims(&harness, |claims| claims["acr"] = json!([TWO_FACTOR])),
            ),
            Case::token(
                "acr as an object",
                &with_claims(&harness, |claims| {
                    claims["acr"] = json!({ "value": TWO_FACTOR })
                }),
            ),
            Case::token(
                "auth_time as a string",
                &with_claims(&harness, |claims| {
                    claims["auth_time"] = json!(now.to_string())
                }),
            ),
            Case::token(
                "auth_time as a fractional number",
                &with_claims(&harness, |claims| {
                    claims["auth_time"] = json!(f64::from(u32::try_from(now).unwrap_or(0)) + 0.5);
                }),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn auth_time_in_milliseconds_is_rejected() {
    let harness = Harness::start().await;
    let token = with_claims(&harness, |claims| {
        claims["auth_time"] = json!(tokens::now() * 1_000);
    });
    check(&harness, Case::token("auth_time in milliseconds", &token)).await;
}

#[tokio::test]
async fn future_auth_time_is_rejected() {
    let harness = Harness::start().await;
    let token = with_claims(&harness, |claims| {
        claims["auth_time"] = json!(tokens::now() + 86_400);
    });
    check(&harness, Case::token("auth_time in the future", &token)).await;
}

#[tokio::test]
async fn malformed_jws_is_rejected() {
    let harness = Harness::start().await;
    let good = tokens::access_token(&harness.provider.issuer);
    let parts: Vec<&str> = good.split('.').collect();
    let jwe_header =
        tokens::base64url(br#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"test-key-1"}"#);
    let jwe = format!(
        "{jwe_header}.AAAA.BBBBBBBBBBBBBBBB.{}.CCCCCCCCCCCCCCCCCCCCCC",
        parts[1]
    );
    let oversized = with_claims(&harness, |claims| {
        claims["padding"] = json!("x".repeat(9_000))
    });
    let oversized_header = with_header(&harness, |header| {
        header["x-padding"] = json!("x".repeat(9_000))
    });
    let non_object_payload = tokens::sign_raw(
        &good_header(),
        b"[1,2,3]",
        &Key::Test.encoding_key(),
        Algorithm::RS256,
    );
    let non_json_payload = tokens::sign_raw(
        &good_header(),
        b"not json at all",
        &Key::Test.encoding_key(),
        Algorithm::RS256,
    );
    let non_json_header = format!(
        "{}.{}.{}",
        tokens::base64url(b"{\"alg\":\"RS256\""),
        parts[1],
        parts[2]
    );

    check_all(
        &harness,
        vec![
            Case::token("two parts", &format!("{}.{}", parts[0], parts[1])),
            Case::token("four parts", &format!("{good}.{}", parts[2])),
            Case::token("JWE-shaped, five parts", &jwe),
            Case::token(
                "garbage base64 in the header",
                &replace_part(&good, 0, "!!!!"),
            ),
            Case::token(
                "garbage base64 in the payload",
                &replace_part(&good, 1, "@@@@"),
            ),
            Case::token(
                "garbage base64 in the signature",
                &replace_part(&good, 2, "%%%%"),
            ),
            Case::token(
                "padded base64 in the header",
                &replace_part(&good, 0, &format!("{}==", parts[0])),
            ),
            Case::token("header that is not JSON", &non_json_header),
            Case::token("payload that is not an object", &non_object_payload),
            Case::token("payload that is not JSON", &non_json_payload),
            Case::token("oversized token", &oversized),
            Case::token("oversized JOSE header", &oversized_header),
            Case::token("not a JWT", "not.a.jwt"),
            Case::token(
                "space inside the token",
                &format!("{} {}", parts[0], parts[1]),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn malformed_credentials_are_rejected() {
    let harness = Harness::start().await;
    let good = tokens::access_token(&harness.provider.issuer);
    let bearer = HeaderValue::from_str(&format!("Bearer {good}")).expect("valid header");
    let non_ascii = {
        let mut bytes = b"Bearer ".to_vec();
        bytes.extend_from_slice("t\u{f6}ken-\u{20ac}".as_bytes());
        HeaderValue::from_bytes(&bytes).expect("obs-text is a valid header value")
    };
    let huge_header = format!("Bearer {}", "a".repeat(64 * 1024));

    check_all(
        &harness,
        vec![
            Case::headers(
                "two Authorization headers",
                "/api/messages",
                vec![bearer.clone(), bearer.clone()],
                Expected::InvalidRequest,
            ),
            Case::headers(
                "token in the query string",
                &format!("/api/messages?access_token={good}"),
                Vec::new(),
                Expected::InvalidRequest,
            ),
            Case::headers(
                "token in the query string beside a header",
                &format!("/api/messages?page=1&access_token={good}"),
                vec![bearer.clone()],
                Expected::InvalidRequest,
            ),
            Case::authorization("empty token", "Bearer ", Expected::InvalidToken),
            Case::authorization("spaces only", "Bearer    ", Expected::InvalidToken),
            Case::headers(
                "non-ASCII header bytes",
                "/api/messages",
                vec![non_ascii],
                Expected::InvalidToken,
            ),
            Case::authorization(
                "oversized Authorization header",
                &huge_header,
                Expected::InvalidToken,
            ),
            Case::authorization("scheme without a token", "Bearer", Expected::NoCredentials),
            Case::authorization(
                "another scheme",
                "Basic dXNlcjpwYXNz",
                Expected::NoCredentials,
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn duplicate_claim_names_are_not_accepted() {
    // RFC 7515 §5.2 lets a parser reject duplicate names or keep the last one. Either way the
    // weak `acr` written last must not pass.
    let harness = Harness::start().await;
    let claims = tokens::access_token_claims(&harness.provider.issuer).to_string();
    let duplicated = format!(
        "{},\"acr\":\"urn:okta:loa:1fa:pwd\"}}",
        claims.strip_suffix('}').expect("a JSON object")
    );
    let token = tokens::sign_raw(
        &good_header(),
        duplicated.as_bytes(),
        &Key::Test.encoding_key(),
        Algorithm::RS256,
    );
    let reply = harness
        .get_with_authorization("/api/messages", &format!("Bearer {token}"))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let challenge =
        BearerChallenge::from_header_value(reply.www_authenticate().expect("a challenge"))
            .expect("the challenge parses")
            .expect("a Bearer challenge");
    assert!(
        matches!(
            challenge.error,
            Some(BearerErrorCode::InvalidToken | BearerErrorCode::InsufficientUserAuthentication)
        ),
        "{challenge:?}"
    );
}

#[tokio::test]
async fn critical_header_parameters_are_rejected() {
    // RFC 7515 §4.1.11: a recipient that does not understand a parameter listed in `crit` must
    // reject the JWS, and `crit` must not be empty.
    let harness = Harness::start().await;
    let unknown = with_header(&harness, |header| {
        header["crit"] = json!(["urn:example:must-understand"]);
        header["urn:example:must-understand"] = json!(true);
    });
    let empty = with_header(&harness, |header| header["crit"] = json!([]));
    check_all(
        &harness,
        vec![
            Case::token("crit with an unknown parameter", &unknown),
            Case::token("empty crit", &empty),
        ],
    )
    .await;
}

#[tokio::test]
async fn token_not_typed_as_access_token_is_rejected() {
    let harness = Harness::start().await;
    for (name, typ) in [("typ JWT", Some("JWT")), ("typ missing", None)] {
        let token = with_header(&harness, |header| match typ {
            Some(typ) => header["typ"] = json!(typ),
            None => remove(header, "typ"),
        });
        check(&harness, Case::token(name, &token)).await;
    }
}
