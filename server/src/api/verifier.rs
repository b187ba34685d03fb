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
}

impl AccessTokenVerifier {
    /// Creates a verifier that requires `typ: at+jwt` (RFC 9068 §2.1).
    pub fn new(issuer: String, audience: String, keys: JwksCache) -> Self {
        Self {
            issuer,
            audience,
            keys,
            require_access_token_type: true,
        }
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

        // 2. The header names the algorithm; only allow-listed asymmetric algorithms pass
        //    (RFC 8725 §3.1, §3.2). `alg: none` fails to parse as an `Algorithm`.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(TokenError::DisallowedAlgorithm(header.alg));
        }
        // RFC 9068 §4: the type tells an access token from an ID token of the same issuer.
        let typed = header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
        });
        if self.require_access_token_type && !typed {
            return Err(TokenError::NotAnAccessToken);
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

        // 5. An authentication cannot happen after now; a value in milliseconds lands here
        //    too. This holds whether or not the route sets max_age.
        let latest = jsonwebtoken::get_current_timestamp().saturating_add(LEEWAY_SECS);
        if data
            .claims
            .auth_time
            .is_some_and(|auth_time| u64::try_from(auth_time).map_or(false, |time| time > latest))
        {
            return Err(TokenError::AuthTimeInFuture);
        }
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
