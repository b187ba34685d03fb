//! The client side of RFC 9470: what to do with an API response.
//!
//! [`classify_response`] reads the status and the `WWW-Authenticate` field and returns one
//! [`ResponseAction`]. The rules, in order:
//!
//! 1. A 2xx status is a success.
//! 2. `401` with a `Bearer` or `DPoP` challenge whose `error` is
//!    `insufficient_user_authentication` (RFC 9470 §3) asks for a new, stronger or more
//!    recent authentication: an interactive authorization request, never a refresh, because a
//!    refreshed token keeps the acr and auth_time of the original authentication.
//! 3. `403` with `error="insufficient_authentication_context"` is treated the same: Okta sent
//!    that before RFC 9470 fixed the name and status.
//! 4. `401` with `error="invalid_token"`, or with a challenge that names no error (RFC 6750
//!    §3.1), means the token is missing, expired or revoked: the client may refresh once.
//! 5. Anything else is an error to show.
//!
//! Retrying at most once is the caller's job; this module only classifies.

use crate::challenge::{BearerChallenge, BearerErrorCode};

/// The pre-RFC 9470 error code some Okta authorization servers send with `403`.
pub const OKTA_INSUFFICIENT_AUTHENTICATION_CONTEXT: &str = "insufficient_authentication_context";

/// Action the client should take for a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseAction {
    Success,
    /// Re-run the authorization request with the challenge's `acr_values` and `max_age`.
    StepUp(BearerChallenge),
    /// Refresh the tokens once, then retry once.
    Refresh,
    /// Show an error; `challenge` is the parsed challenge when there was one.
    Fail {
        status: u16,
        challenge: Option<BearerChallenge>,
    },
}

/// Classifies a response by `status` and its `WWW-Authenticate` field value, if any.
#[must_use]
pub fn classify_response(status: u16, www_authenticate: Option<&str>) -> ResponseAction {
    if (200..300).contains(&status) {
        return ResponseAction::Success;
    }
    let challenge =
        www_authenticate.and_then(|value| BearerChallenge::from_header_value(value).ok().flatten());
    let Some(challenge) = challenge else {
        return ResponseAction::Fail {
            status,
            challenge: None,
        };
    };
    let is_okta_step_up = matches!(
        &challenge.error,
        Some(BearerErrorCode::Other(code)) if code == OKTA_INSUFFICIENT_AUTHENTICATION_CONTEXT
    );
    match (status, &challenge.error) {
        (401, Some(BearerErrorCode::InsufficientUserAuthentication)) => {
            ResponseAction::StepUp(challenge)
        }
        (403, _) if is_okta_step_up => ResponseAction::StepUp(challenge),
        (401, Some(BearerErrorCode::InvalidToken) | None) => ResponseAction::Refresh,
        _ => ResponseAction::Fail {
            status,
            challenge: Some(challenge),
        },
    }
}

/// Returns the challenge's acr values that are not in `supported`, the provider's
/// `acr_values_supported`. A client sends a step-up request only when this is empty, so a
/// hostile or mistaken challenge cannot make it ask the provider for something it cannot
/// give and loop.
#[must_use]
pub fn unsupported_acr_values<'a>(
    challenge: &'a BearerChallenge,
    supported: &[String],
) -> Vec<&'a str> {
    challenge
        .acr_values
        .iter()
        .filter(|value| !supported.iter().any(|known| known == *value))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP_UP: &str =
        r#"Bearer error="insufficient_user_authentication", acr_values="urn:okta:loa:2fa:any""#;

    #[test]
    fn step_up_challenge_never_refreshes() {
        let action = classify_response(401, Some(STEP_UP));
        let ResponseAction::StepUp(challenge) = action else {
            panic!("expected a step-up, got {action:?}");
        };
        assert_eq!(challenge.acr_values, ["urn:okta:loa:2fa:any"]);
    }

    #[test]
    fn dpop_step_up_challenge_is_step_up() {
        let header = r#"DPoP algs="ES256", error="insufficient_user_authentication", max_age=0"#;
        let action = classify_response(401, Some(header));
        assert!(
            matches!(action, ResponseAction::StepUp(ref challenge) if challenge.max_age == Some(0)),
            "{action:?}"
        );
    }

    #[test]
    fn okta_pre_rfc_403_is_step_up() {
        let header = r#"Bearer error="insufficient_authentication_context", error_description="The resource requires more", max_age=60"#;
        assert!(matches!(
            classify_response(403, Some(header)),
            ResponseAction::StepUp(_)
        ));
        // The same code with 401 is not a step-up the RFC defines.
        assert!(matches!(
            classify_response(401, Some(header)),
            ResponseAction::Fail { .. }
        ));
    }

    #[test]
    fn invalid_token_and_bare_bearer_refresh() {
        let invalid = r#"Bearer error="invalid_token", error_description="expired""#;
        assert_eq!(
            classify_response(401, Some(invalid)),
            ResponseAction::Refresh
        );
        assert_eq!(
            classify_response(401, Some("Bearer")),
            ResponseAction::Refresh
        );
        assert_eq!(
            classify_response(401, Some(r#"Bearer realm="api""#)),
            ResponseAction::Refresh
        );
    }

    #[test]
    fn other_responses_fail() {
        assert_eq!(classify_response(200, None), ResponseAction::Success);
        assert_eq!(
            classify_response(204, Some(STEP_UP)),
            ResponseAction::Success
        );
        assert!(matches!(
            classify_response(401, None),
            ResponseAction::Fail {
                status: 401,
                challenge: None
            }
        ));
        assert!(matches!(
            classify_response(401, Some("Basic realm=\"x\"")),
            ResponseAction::Fail { .. }
        ));
        assert!(matches!(
            classify_response(403, Some(STEP_UP)),
            ResponseAction::Fail { .. }
        ));
        assert!(matches!(
            classify_response(500, Some(STEP_UP)),
            ResponseAction::Fail { .. }
        ));
        assert!(matches!(
            classify_response(401, Some("Bearer error=\"unterminated")),
            ResponseAction::Fail { .. }
        ));
        let scope = r#"Bearer error="insufficient_scope", scope="write""#;
        assert!(matches!(
            classify_response(403, Some(scope)),
            ResponseAction::Fail {
                status: 403,
                challenge: Some(_)
            }
        ));
    }

    #[test]
    fn odd_acr_value_is_unsupported() {
        // `acr_values=","` parses to one value, ",", which no provider advertises.
        let header = r#"Bearer error="insufficient_user_authentication", acr_values=",""#;
        let ResponseAction::StepUp(challenge) = classify_response(401, Some(header)) else {
            panic!("expected a step-up");
        };
        let supported = vec!["urn:okta:loa:2fa:any".to_owned(), "phr".to_owned()];
        assert_eq!(unsupported_acr_values(&challenge, &supported), [","]);
    }

    #[test]
    fn advertised_acr_values_are_supported() {
        let ResponseAction::StepUp(challenge) = classify_response(401, Some(STEP_UP)) else {
            panic!("expected a step-up");
        };
        let supported = vec!["urn:okta:loa:2fa:any".to_owned()];
        assert!(unsupported_acr_values(&challenge, &supported).is_empty());
        assert_eq!(
            unsupported_acr_values(&challenge, &[]),
            ["urn:okta:loa:2fa:any"]
        );
    }
}
