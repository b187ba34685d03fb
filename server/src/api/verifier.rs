//! JWT access-token verification for the resource server.
//!
//! Follows RFC 9068 (JWT profile for OAuth 2.0 access tokens) §4 and RFC 8725 (JWT best
//! current practices): the algorithm comes from an allow-list of asymmetric algorithms and
//! must fit the key, the key comes from the provider's JWKS (never from the token), and
//! `iss`, `aud`, `exp`, `nbf` and `sub` are checked. It does not check `typ`, `client_id`
//! or `scope`; the step-up claims `acr` and `auth_time` are read here and judged by the
//! route's requirement.

use super::jwks::{JwksCache, KeyLookup};
use jsonwebtoken::{errors::ErrorKind, Algorithm, Validation};
use serde::Deserialize;
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

/// Why a token was rejected. The variant goes to the log; the client only learns
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
}

/// Verifies access tokens issued by one provider for one audience.
pub struct AccessTokenVerifier {
    issuer: String,
    audience: String,
    keys: JwksCache,
}

impl AccessTokenVerifier {
    pub fn new(issuer: String, audience: String, keys: JwksCache) -> Self {
        Self {
            issuer,
            audience,
            keys,
        }
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

        // 2. The header names the algorithm; only allow-listed asymmetric algorithms pass
        //    (RFC 8725 §3.1, §3.2). `alg: none` fails to parse as an `Algorithm`.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(TokenError::DisallowedAlgorithm(header.alg));
        }

        // 3. The key comes from the provider's JWKS, chosen by `kid` and refetched once
        //    when the `kid` is new (key rotation).
        let key = match self.keys.find(header.kid.as_deref(), header.alg).await {
            KeyLookup::Found(key) => key,
            KeyLookup::NotFound => return Err(TokenError::UnknownKey),
            KeyLookup::Ambiguous => return Err(TokenError::AmbiguousKey),
        };

        // 4. Signature, `iss`, `aud`, `exp`, `nbf` (RFC 9068 §4).
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
            .map_err(|error| token_error(error.into_kind()))?;
        Ok(data.claims)
    }
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
