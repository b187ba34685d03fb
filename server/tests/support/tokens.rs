//! Signing keys and JWT builders for tokens that the test provider hands out, good or bad.
//!
//! `fixtures/test-signing-key.pem` and `fixtures/other-signing-key.pem` are RSA keys made with
//! `openssl genpkey` for these tests only. `test-jwks.json` and `other-jwks.json` are their public
//! halves, and `test-public-key.pem` is the public half of the first key in PEM form, used as an
//! HMAC secret by the algorithm-confusion cases.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

/// `client_id` of the relying party, as the server's configuration default spells it.
pub const CLIENT_ID: &str = "stepup-app";
/// `aud` that `/api/*` requires in access tokens.
pub const API_AUDIENCE: &str = "api://default";
/// `kid` of the key in `test-jwks.json`.
pub const TEST_KID: &str = "test-key-1";
/// `kid` of the key in `other-jwks.json`.
pub const OTHER_KID: &str = "other-key-1";
/// The Okta two-factor acr value that `/profile` and `/api/messages` require.
pub const TWO_FACTOR: &str = "urn:okta:loa:2fa:any";

const TEST_PRIVATE_PEM: &[u8] = include_bytes!("../fixtures/test-signing-key.pem");
const OTHER_PRIVATE_PEM: &[u8] = include_bytes!("../fixtures/other-signing-key.pem");
/// Public half of the test key in PEM form.
pub const TEST_PUBLIC_PEM: &[u8] = include_bytes!("../fixtures/test-public-key.pem");
const TEST_JWKS: &str = include_str!("../fixtures/test-jwks.json");
const OTHER_JWKS: &str = include_str!("../fixtures/other-jwks.json");

/// Which fixture key signs a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// The key the provider publishes from the start, `kid` [`TEST_KID`].
    Test,
    /// A second key, `kid` [`OTHER_KID`]: an attacker's key, or the provider's next key.
    Other,
}

impl Key {
    pub fn kid(self) -> &'static str {
        match self {
            Self::Test => TEST_KID,
            Self::Other => OTHER_KID,
        }
    }

    pub fn encoding_key(self) -> EncodingKey {
        let pem = match self {
            Self::Test => TEST_PRIVATE_PEM,
            Self::Other => OTHER_PRIVATE_PEM,
        };
        EncodingKey::from_rsa_pem(pem).expect("fixture RSA key parses")
    }

    /// Returns the public key as one JWK.
    pub fn public_jwk(self) -> Value {
        let set = match self {
            Self::Test => TEST_JWKS,
            Self::Other => OTHER_JWKS,
        };
        let set: Value = serde_json::from_str(set).expect("fixture JWKS parses");
        set["keys"][0].clone()
    }
}

/// Builds a JWKS that publishes `keys`.
pub fn jwks(keys: &[Key]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.public_jwk()).collect::<Vec<_>>() })
}

/// Returns the current time in seconds since the Unix epoch.
pub fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).expect("the time fits in i64")
}

pub fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs `header` and `payload` as a JWS in compact form with `algorithm`.
///
/// The header is sent exactly as given, so it may carry fields that `jsonwebtoken::Header` does
/// not model (`crit`, extension parameters) or contradict `algorithm`.
pub fn sign_raw(header: &Value, payload: &[u8], key: &EncodingKey, algorithm: Algorithm) -> String {
    let signing_input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(payload)
    );
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, algorithm)
        .expect("the fixture key signs");
    format!("{signing_input}.{signature}")
}

/// Signs `claims` with RS256 and `key`, under a header with `typ` and, when given, `kid`.
pub fn sign_rs256(claims: &Value, key: Key, kid: Option<&str>, typ: &str) -> String {
    let mut header = json!({ "alg": "RS256", "typ": typ });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    sign_raw(
        &header,
        claims.to_string().as_bytes(),
        &key.encoding_key(),
        Algorithm::RS256,
    )
}

/// Builds a JWS with `alg: none` and an empty signature.
pub fn unsigned(claims: &Value) -> String {
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = base64url(claims.to_string().as_bytes());
    format!("{header}.{payload}.")
}

/// Claims of an access token that `/api/messages` accepts: issued by `issuer` for the API, with a
/// two-factor `acr` and a recent `auth_time`.
pub fn access_token_claims(issuer: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer,
        "aud": API_AUDIENCE,
        "sub": "user-1",
        "client_id": CLIENT_ID,
        "exp": now + 600,
        "iat": now,
        "auth_time": now - 5,
        "acr": TWO_FACTOR,
    })
}

/// Signs an access token that `/api/messages` accepts, with the test key and `typ: at+jwt`.
pub fn access_token(issuer: &str) -> String {
    sign_rs256(
        &access_token_claims(issuer),
        Key::Test,
        Some(TEST_KID),
        "at+jwt",
    )
}

/// Claims of an ID token that the relying party accepts for a sign-in that sent `nonce` and
/// asked for two factors.
pub fn id_token_claims(issuer: &str, nonce: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer,
        "sub": "user-1",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": nonce,
        "auth_time": now - 5,
        "acr": TWO_FACTOR,
        "name": "Alice Example",
        "email": "alice@example.test",
    })
}

/// Signs ID token `claims` the way the provider normally does: RS256, test key, `kid` set.
pub fn id_token(claims: &Value) -> String {
    sign_rs256(claims, Key::Test, Some(TEST_KID), "JWT")
}
