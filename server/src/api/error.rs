//! RFC 6750 §3 error responses of the resource server, with RFC 9470 §3 step-up challenges.
//!
//! Every rejection carries a `WWW-Authenticate: Bearer …` challenge built from a typed
//! [`BearerChallenge`], so values are always quoted and escaped. Descriptions are fixed
//! sentences: the cause goes to the log, never to the client.

use super::verifier::TokenError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use stepup::{BearerChallenge, BearerErrorCode, Requirement, Shortfall};

/// Reason a request to `/api/*` was rejected.
#[derive(Debug)]
pub enum ApiError {
    /// No credentials at all (RFC 6750 §3.1: the challenge then has no error code).
    MissingToken,
    /// The request is malformed, such as two `Authorization` headers or a token in the URL.
    InvalidRequest(&'static str),
    /// The token failed verification.
    InvalidToken(TokenError),
    /// A state-changing call with the session cookie that did not come from the app's origin.
    CrossSiteRequest,
    /// The body or a header other than `Authorization` is invalid; the message is for the user.
    BadRequest(&'static str),
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The `Idempotency-Key` was used before with another body.
    IdempotencyKeyReused,
    /// The token is valid but its authentication is too weak or too old (RFC 9470 §3).
    InsufficientUserAuthentication {
        requirement: Requirement,
        shortfall: Shortfall,
    },
}

const INVALID_TOKEN_DESCRIPTION: &str = "The access token is invalid or expired.";

impl ApiError {
    fn status_and_challenge(&self) -> (StatusCode, BearerChallenge) {
        match self {
            // MissingToken has the bare challenge. The others get no challenge, because
            // `into_response` handles them first.
            Self::MissingToken
            | Self::CrossSiteRequest
            | Self::BadRequest(_)
            | Self::UnsupportedMediaType
            | Self::IdempotencyKeyReused => (StatusCode::UNAUTHORIZED, BearerChallenge::bearer()),
            Self::InvalidRequest(description) => {
                let mut challenge = BearerChallenge::bearer();
                challenge.error = Some(BearerErrorCode::InvalidRequest);
                challenge.error_description = Some((*description).to_owned());
                (StatusCode::BAD_REQUEST, challenge)
            }
            Self::InvalidToken(_) => (
                StatusCode::UNAUTHORIZED,
                BearerChallenge::invalid_token(INVALID_TOKEN_DESCRIPTION),
            ),
            Self::InsufficientUserAuthentication {
                requirement,
                shortfall,
            } => (
                StatusCode::UNAUTHORIZED,
                BearerChallenge::insufficient_user_authentication(
                    shortfall.description(),
                    requirement.acr_values.clone(),
                    requirement.max_age,
                ),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let plain_error = match self {
            Self::CrossSiteRequest => Some((
                StatusCode::FORBIDDEN,
                "forbidden",
                "Cross-site requests are not allowed.",
            )),
            Self::BadRequest(description) => {
                Some((StatusCode::BAD_REQUEST, "invalid_request", description))
            }
            Self::UnsupportedMediaType => Some((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json.",
            )),
            Self::IdempotencyKeyReused => Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request.",
            )),
            _ => None,
        };
        if let Some((status, error, description)) = plain_error {
            let body = Json(json!({ "error": error, "error_description": description }));
            let mut response = (status, body).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return response;
        }
        let (status, challenge) = self.status_and_challenge();
        let header_value = challenge
            .to_header_value()
            .ok()
            .and_then(|value| HeaderValue::from_str(&value).ok())
            .unwrap_or_else(|| {
                tracing::error!(?challenge, "could not format a WWW-Authenticate challenge");
                HeaderValue::from_static("Bearer")
            });
        let body = Json(json!({
            "error": challenge.error.as_ref().map_or("unauthorized", BearerErrorCode::as_str),
            "error_description": challenge
                .error_description
                .as_deref()
                .unwrap_or("A bearer access token is required."),
        }));
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::WWW_AUTHENTICATE, header_value);
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}
