//! JWT access-token verification for the resource server.
//!
//! Follows RFC 9068 (JWT profile for OAuth 2.0 access tokens) §4 and RFC 8725 (JWT best
//! current practices): the algorithm comes from an allow-list of asymmetric algorithms and
//! must fit the key, the key comes from the provider's JWKS (never from the token), and
//! `iss`, `aud`, `exp`, `nbf` and `sub` are checked, and `typ` must be `at+jwt` unless the
//! deployment's provider does not type its tokens. It does not check `client_id` or
//! `scope`. The step-up claims `acr` and `auth_time` are read here: an `auth_time` in the
//! future is invalid whatever the route needs, and the route's requirement judges the rest.

use super::jwks::{JwksCache, KeyLookup};
use super::token_cache::{TokenDigest, VerifiedTokenCache, DEFAULT_CAPACITY};
use jsonwebtoken::{errors::ErrorKind, Algorithm, Validation};
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::instrument;

/// Largest access token accepted, in bytes. Real tokens are well under 4 KiB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Tolerated clock difference with the provider for `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// Signature algorithms accepted in access tokens: asymmetric only, so a public key can
/// never be used as an HMAC secret (RFC 8725 §3.1).
pub const ALLOWED_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The claims of a verified access token that the API uses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    pub exp: i64,
    /// Authentication context class of the authentication behind the token (RFC 9470 §6.1).
    #[serde(default)]
    pub acr: Option<String>,
    /// Time of that authentication in epoch seconds (RFC 9470 §6.1). A string or a
    /// fractional number fails verification.
    #[serde(default)]
    pub auth_time: Option<i64>,
    /// Authentication methods (RFC 8176), read by schemes that judge by method.
    #[serde(default)]
    pub amr: Vec<String>,
}

impl AccessClaims {
    pub fn authentication(&self) -> stepup::Authentication {
        stepup::Authentication {
            acr: self.acr.clone(),
            amr: self.amr.clone(),
            auth_time: self.auth_time,
        }
    }
}

/// Reason a token was rejected. The variant goes to the log, and the client only gets
/// `invalid_token`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("token is not a well-formed JWS")]
    Malformed,
    #[error("algorithm {0:?} is not allowed")]
    DisallowedAlgorithm(Algorithm),
    #[error("no key in the JWKS matches the token")]
    UnknownKey,
    #[error("the token names no key and the JWKS has several that fit")]
    AmbiguousKey,
    #[error("signature does not verify")]
    InvalidSignature,
    #[error("token expired")]
    Expired,
    #[error("token not valid yet (nbf)")]
    NotYetValid,
    #[error("wrong issuer")]
    InvalidIssuer,
    #[error("wrong audience")]
    InvalidAudience,
    #[error("required claim {0} missing")]
    MissingClaim(String),
    #[error("claim has the wrong type or format: {0}")]
    InvalidClaim(String),
    #[error("the token is not typed as an access token (typ at+jwt)")]
    NotAnAccessToken,
    #[error("auth_time lies in the future")]
    AuthTimeInFuture,
}

/// Verifies access tokens issued by one provider for one audience.
pub struct AccessTokenVerifier {
    issuer: String,
    audience: String,
    keys: JwksCache,
    require_access_token_type: bool,
    claim_namespace: Option<String>,
    verified: VerifiedTokenCache,
    /// Number of `verify` calls served from `verified`, for tests and metrics.
    cache_hits: AtomicU64,
}

/// The claims as decoded: the typed ones, and the rest for namespaced step-up claims.
#[derive(Deserialize)]
struct DecodedClaims {
    #[serde(flatten)]
    claims: AccessClaims,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

impl AccessTokenVerifier {
    /// Creates a verifier that requires `typ: at+jwt` (RFC 9068 §2.1) and keeps up to
    /// [`DEFAULT_CAPACITY`] verified tokens (see [`super::token_cache`]).
    pub fn new(issuer: String, audience: String, keys: JwksCache) -> Self {
        Self {
            issuer,
            audience,
            keys,
            require_access_token_type: true,
            claim_namespace: None,
            verified: VerifiedTokenCache::new(DEFAULT_CAPACITY),
            cache_hits: AtomicU64::new(0),
        }
    }

    /// Keeps up to `capacity` verified tokens; 0 verifies every token in full.
    #[must_use]
    pub fn with_token_cache_capacity(mut self, capacity: usize) -> Self {
        self.verified = VerifiedTokenCache::new(capacity);
        self
    }

    /// Number of verified tokens held in the cache.
    pub fn cached_tokens(&self) -> usize {
        self.verified.len()
    }

    /// Number of `verify` calls served from the cache since the verifier was built.
    pub fn cache_hits(&self) -> u64 {
        self.cache_hits.load(Ordering::Relaxed)
    }

    /// Also reads `acr`, `amr` and `auth_time` from claims named `{namespace}acr` and so on,
    /// when the standard ones are missing. Auth0 refuses to add claims with the standard
    /// names to access tokens, so an Action adds them under a namespace such as
    /// `https://app.example.com/`.
    #[must_use]
    pub fn with_claim_namespace(mut self, namespace: String) -> Self {
        self.claim_namespace = Some(namespace);
        self
    }

    /// Accepts tokens without `typ: at+jwt`, for providers that do not type their access
    /// tokens. This weakens the defence against an ID token or other JWT from the same
    /// issuer being presented as an access token, so prefer a provider that types them.
    #[must_use]
    pub fn accept_untyped_tokens(mut self) -> Self {
        self.require_access_token_type = false;
        self
    }

    /// Verifies `token` and returns its claims.
    ///
    /// # Errors
    ///
    /// Returns the [`TokenError`] of the first check that failed.
    #[instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        // 1. Bound the work before parsing anything.
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }

        // 2. These exact bytes passed every check below before, under the current key set,
        //    and `exp` has not come (the rules are in `token_cache`). The generation is read
        //    before the key lookup of step 4, which may refetch the keys.
        let digest = TokenDigest::of(token);
        let key_generation = self.keys.generation();
        let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX);
        if let Some(claims) = self.verified.get(&digest, key_generation, now) {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(claims);
        }

        // 3. The header names the algorithm; only allow-listed asymmetric algorithms pass
        //    (RFC 8725 §3.1, §3.2). `alg: none` fails to parse as an `Algorithm`.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(TokenError::DisallowedAlgorithm(header.alg));
        }
        // RFC 9068 §4: the type distinguishes an access token from an ID token of the same issuer.
        let typed = header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
        });
        if self.require_access_token_type && !typed {
            return Err(TokenError::NotAnAccessToken);
        }

        // 4. The key comes from the provider's JWKS, chosen by `kid` and refetched once
        //    when the `kid` is new (key rotation).
        let key = match self.keys.find(header.kid.as_deref(), header.alg).await {
            KeyLookup::Found(key) => key,
            KeyLookup::NotFound => return Err(TokenError::UnknownKey),
            KeyLookup::Ambiguous => return Err(TokenError::AmbiguousKey),
        };

        // 5. Signature, `iss`, `aud`, `exp`, `nbf` (RFC 9068 §4).
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<DecodedClaims>(token, &key, &validation)
            .map_err(|error| token_error(error.into_kind()))?;
        let mut claims = data.claims.claims;
        if let Some(namespace) = &self.claim_namespace {
            read_namespaced_claims(&mut claims, &data.claims.other, namespace)?;
        }

        // 6. An authentication cannot happen after now; a value in milliseconds lands here
        //    too. This holds whether or not the route sets max_age.
        let latest = jsonwebtoken::get_current_timestamp().saturating_add(LEEWAY_SECS);
        if claims
            .auth_time
            .is_some_and(|auth_time| u64::try_from(auth_time).is_ok_and(|time| time > latest))
        {
            return Err(TokenError::AuthTimeInFuture);
        }
        self.verified
            .insert(digest, claims.clone(), key_generation, now);
        Ok(claims)
    }
}

/// Fills missing `acr`, `amr` and `auth_time` from `{namespace}acr`, `{namespace}amr` and
/// `{namespace}auth_time`, with the same types the standard claims must have.
fn read_namespaced_claims(
    claims: &mut AccessClaims,
    other: &serde_json::Map<String, serde_json::Value>,
    namespace: &str,
) -> Result<(), TokenError> {
    let get = |name: &str| other.get(&format!("{namespace}{name}"));
    if claims.acr.is_none() {
        if let Some(value) = get("acr") {
            let acr = value
                .as_str()
                .ok_or_else(|| TokenError::InvalidClaim("namespaced acr".to_owned()))?;
            claims.acr = Some(acr.to_owned());
        }
    }
    if claims.amr.is_empty() {
        if let Some(value) = get("amr") {
            claims.amr = serde_json::from_value(value.clone())
                .map_err(|_| TokenError::InvalidClaim("namespaced amr".to_owned()))?;
        }
    }
    if claims.auth_time.is_none() {
        if let Some(value) = get("auth_time") {
            let auth_time = value
                .as_i64()
                .filter(|_| !value.is_f64())
                .ok_or_else(|| TokenError::InvalidClaim("namespaced auth_time".to_owned()))?;
            claims.auth_time = Some(auth_time);
        }
    }
    Ok(())
}

fn token_error(kind: ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::InvalidSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::InvalidIssuer,
        ErrorKind::InvalidAudience => TokenError::InvalidAudience,
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim),
        ErrorKind::InvalidClaimFormat(claim) => TokenError::InvalidClaim(claim),
        ErrorKind::Json(error) => TokenError::InvalidClaim(error.to_string()),
        ErrorKind::InvalidAlgorithm => TokenError::UnknownKey,
        _ => TokenError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn other(values: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        values.as_object().cloned().unwrap_or_default()
    }

    fn empty_claims() -> AccessClaims {
        AccessClaims {
            sub: "u".to_owned(),
            exp: 0,
            acr: None,
            auth_time: None,
            amr: Vec::new(),
        }
    }

    #[test]
    fn namespaced_claims_fill_missing_ones() {
        let mut claims = empty_claims();
        let extra = other(json!({
            "https://app.test/acr": "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
            "https://app.test/amr": ["pwd", "mfa"],
            "https://app.test/auth_time": 1_700_000_000,
        }));
        read_namespaced_claims(&mut claims, &extra, "https://app.test/").expect("valid");
        assert_eq!(claims.amr, ["pwd", "mfa"]);
        assert_eq!(claims.auth_time, Some(1_700_000_000));
        assert!(claims.acr.is_some());
    }

    #[test]
    fn standard_claims_win_over_namespaced() {
        let mut claims = empty_claims();
        claims.acr = Some("standard".to_owned());
        let extra = other(json!({ "ns/acr": "namespaced" }));
        read_namespaced_claims(&mut claims, &extra, "ns/").expect("valid");
        assert_eq!(claims.acr.as_deref(), Some("standard"));
    }

    #[test]
    fn namespaced_claims_of_wrong_type_are_invalid() {
        for extra in [
            json!({ "ns/acr": 2 }),
            json!({ "ns/amr": "mfa" }),
            json!({ "ns/auth_time": 1.5 }),
            json!({ "ns/auth_time": "1" }),
        ] {
            let mut claims = empty_claims();
            assert!(
                read_namespaced_claims(&mut claims, &other(extra.clone()), "ns/").is_err(),
                "{extra}"
            );
        }
    }
}
