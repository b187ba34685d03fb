//! The step-up decision: whether an authentication meets a resource's requirement.
//!
//! A [`Requirement`] carries the two auth-params of RFC 9470 §3: `acr_values`, the acceptable
//! authentication context classes, and `max_age`, the maximum time in seconds since the user last
//! actively authenticated. [`evaluate`] compares them with the `acr` and `auth_time` claims (OpenID
//! Connect Core 1.0 §2, and RFC 9470 §6 for access tokens) and returns a [`Decision`].
//!
//! Not checked here: the token's signature, issuer, audience, expiry and scope. The caller
//! validates the token first and passes only the claims of a valid one. The decision does not pick
//! an HTTP status either, but [`Requirement::challenge`] builds the matching `WWW-Authenticate`
//! challenge.

use crate::challenge::BearerChallenge;
use crate::scheme::AcrScheme;

/// Default allowance in seconds for clock differences between this server and the OpenID Provider.
pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 60;

/// Conditions that a resource sets on the authentication behind a request. The default sets none.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Requirement {
    /// Acceptable acr values in order of preference. Empty means any level, including none.
    pub acr_values: Vec<String>,
    /// Maximum time in seconds since the user last actively authenticated. `Some(0)` requires an
    /// authentication at the time of the request, within the clock skew.
    pub max_age: Option<u64>,
}

impl Requirement {
    /// Returns whether the requirement accepts every authentication.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.acr_values.is_empty() && self.max_age.is_none()
    }

    /// Builds the `insufficient_user_authentication` challenge for `shortfall` (RFC 9470 §3).
    ///
    /// The challenge states the whole requirement, not only the part that failed, so that one new
    /// authentication meets all of it.
    #[must_use]
    pub fn challenge(&self, shortfall: &Shortfall) -> BearerChallenge {
        BearerChallenge::insufficient_user_authentication(
            shortfall.description(),
            self.acr_values.clone(),
            self.max_age,
        )
    }
}

/// The authentication behind a request, taken from the claims of a validated token.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Authentication {
    /// `acr` claim: the authentication context class that the authentication satisfied.
    pub acr: Option<String>,
    /// `amr` claim: the authentication methods used (RFC 8176), such as `pwd`, `otp`, `mfa`.
    pub amr: Vec<String>,
    /// `auth_time` claim: when the user last actively authenticated, in seconds since the Unix
    /// epoch.
    pub auth_time: Option<i64>,
}

/// Result of [`evaluate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The authentication meets the requirement.
    Allow,
    /// The user must authenticate again, for the reasons given.
    StepUp(Shortfall),
}

impl Decision {
    /// Returns whether the decision is [`Decision::Allow`].
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow)
    }
}

/// Reasons why an authentication does not meet a requirement. More than one may be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Shortfall {
    /// The `acr` is missing, unknown or ranks below every acceptable value.
    pub acr_too_weak: bool,
    /// The requirement sets `max_age` but the authentication has no `auth_time`.
    pub auth_time_missing: bool,
    /// `auth_time` is older than `max_age` allows, or later than the current time plus the clock
    /// skew.
    pub too_old: bool,
}

impl Shortfall {
    /// Returns whether no reason is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        !(self.acr_too_weak || self.auth_time_missing || self.too_old)
    }

    /// Returns a fixed sentence for the `error_description` sent to the client. It names the kind
    /// of shortfall and never the claim values.
    #[must_use]
    pub fn description(&self) -> &'static str {
        let needs_recent = self.auth_time_missing || self.too_old;
        match (self.acr_too_weak, needs_recent) {
            (true, true) => "A stronger and more recent authentication is required",
            (true, false) => "A stronger authentication is required",
            (false, true) => "A more recent authentication is required",
            (false, false) => "A new authentication is required",
        }
    }
}

/// Decides whether `authentication` meets `requirement` at the time `now`, in seconds since the
/// Unix epoch.
///
/// `clock_skew_secs` widens the recency check in both directions: an `auth_time` up to that many
/// seconds in the future is accepted, and an authentication passes while `now - auth_time <=
/// max_age + clock_skew_secs`. With `max_age = 300` and `auth_time = 1700000000`, the last second
/// that passes is `1700000300` with a skew of 0 and `1700000360` with [`DEFAULT_CLOCK_SKEW_SECS`].
/// Every step runs, so the shortfall lists every reason.
#[must_use]
pub fn evaluate(
    requirement: &Requirement,
    authentication: &Authentication,
    scheme: &AcrScheme,
    now: i64,
    clock_skew_secs: u64,
) -> Decision {
    // 1. Level (RFC 9470 §3 `acr_values`): the `acr` must be one of the acceptable values or rank
    //    at or above one of them. A missing `acr` has no rank, so it fails every non-empty
    //    requirement.
    let acr_too_weak = !scheme.satisfies(
        authentication.acr.as_deref(),
        &authentication.amr,
        &requirement.acr_values,
    );

    // 2. Recency (RFC 9470 §3 `max_age`), only when the requirement sets `max_age`.
    let mut auth_time_missing = false;
    let mut too_old = false;
    if let Some(max_age) = requirement.max_age {
        match authentication.auth_time {
            // 2a. Without `auth_time` the age is unknown. `iat` is no substitute, because a
            // refreshed token has a new `iat` but keeps the time of the original authentication.
            None => auth_time_missing = true,
            // 2b. A future `auth_time` and an authentication older than `max_age` both fail.
            Some(auth_time) => too_old = !is_recent(auth_time, max_age, now, clock_skew_secs),
        }
    }

    let shortfall = Shortfall {
        acr_too_weak,
        auth_time_missing,
        too_old,
    };
    if shortfall.is_empty() {
        Decision::Allow
    } else {
        Decision::StepUp(shortfall)
    }
}

/// Returns whether an authentication at `auth_time` is neither in the future nor older than
/// `max_age`, both with `clock_skew_secs` of tolerance.
fn is_recent(auth_time: i64, max_age: u64, now: i64, clock_skew_secs: u64) -> bool {
    // Every sum and difference of an i64 and a u64 fits in an i128, so no input can overflow.
    let auth_time = i128::from(auth_time);
    let now = i128::from(now);
    let max_age = i128::from(max_age);
    let skew = i128::from(clock_skew_secs);

    if auth_time > now + skew {
        return false;
    }
    now - auth_time <= max_age + skew
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH_TIME: i64 = 1_700_000_000;
    const TWO_FACTORS: &str = "urn:okta:loa:2fa:any";

    fn requirement(acr_values: &[&str], max_age: Option<u64>) -> Requirement {
        Requirement {
            acr_values: acr_values.iter().map(|value| (*value).to_owned()).collect(),
            max_age,
        }
    }

    fn authentication(acr: Option<&str>, auth_time: Option<i64>) -> Authentication {
        Authentication {
            acr: acr.map(str::to_owned),
            amr: Vec::new(),
            auth_time,
        }
    }

    fn too_old() -> Decision {
        Decision::StepUp(Shortfall {
            too_old: true,
            ..Shortfall::default()
        })
    }

    fn recency(max_age: u64, auth_time: i64, now: i64, skew: u64) -> Decision {
        evaluate(
            &requirement(&[], Some(max_age)),
            &authentication(None, Some(auth_time)),
            &AcrScheme::okta(),
            now,
            skew,
        )
    }

    #[test]
    fn recency_boundary_without_skew() {
        let cases = [
            (AUTH_TIME + 100, Decision::Allow),
            (AUTH_TIME + 300, Decision::Allow),
            (AUTH_TIME + 301, too_old()),
            (AUTH_TIME + 401, too_old()),
            (AUTH_TIME, Decision::Allow),
            (AUTH_TIME - 1, too_old()),
        ];
        for (now, expected) in cases {
            assert_eq!(recency(300, AUTH_TIME, now, 0), expected, "now {now}");
        }
    }

    #[test]
    fn recency_boundary_with_default_skew() {
        let skew = DEFAULT_CLOCK_SKEW_SECS;
        let cases = [
            (AUTH_TIME + 100, Decision::Allow),
            (AUTH_TIME + 360, Decision::Allow),
            (AUTH_TIME + 361, too_old()),
            (AUTH_TIME + 401, too_old()),
            // An auth_time up to the skew in the future passes, one second more fails.
            (AUTH_TIME - 60, Decision::Allow),
            (AUTH_TIME - 61, too_old()),
        ];
        for (now, expected) in cases {
            assert_eq!(recency(300, AUTH_TIME, now, skew), expected, "now {now}");
        }
    }

    #[test]
    fn max_age_zero_needs_fresh_authentication() {
        assert_eq!(recency(0, AUTH_TIME, AUTH_TIME, 0), Decision::Allow);
        assert_eq!(recency(0, AUTH_TIME, AUTH_TIME + 1, 0), too_old());
        assert_eq!(recency(0, AUTH_TIME, AUTH_TIME + 60, 60), Decision::Allow);
        assert_eq!(recency(0, AUTH_TIME, AUTH_TIME + 61, 60), too_old());
    }

    #[test]
    fn missing_auth_time_fails_max_age() {
        let decision = evaluate(
            &requirement(&[], Some(300)),
            &authentication(Some(TWO_FACTORS), None),
            &AcrScheme::okta(),
            AUTH_TIME,
            DEFAULT_CLOCK_SKEW_SECS,
        );
        assert_eq!(
            decision,
            Decision::StepUp(Shortfall {
                auth_time_missing: true,
                ..Shortfall::default()
            })
        );
    }

    #[test]
    fn auth_time_ignored_without_max_age() {
        for auth_time in [None, Some(i64::MIN), Some(AUTH_TIME + 1_000_000)] {
            let decision = evaluate(
                &requirement(&[TWO_FACTORS], None),
                &authentication(Some(TWO_FACTORS), auth_time),
                &AcrScheme::okta(),
                AUTH_TIME,
                0,
            );
            assert_eq!(decision, Decision::Allow, "auth_time {auth_time:?}");
        }
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let cases = [
            (u64::MAX, i64::MIN, i64::MAX, u64::MAX, Decision::Allow),
            (u64::MAX, i64::MAX, i64::MIN, 0, too_old()),
            (u64::MAX, i64::MAX, i64::MIN, u64::MAX, Decision::Allow),
            (0, i64::MIN, i64::MAX, 0, too_old()),
            (0, i64::MAX, i64::MIN, 0, too_old()),
            (0, i64::MAX, i64::MAX, 0, Decision::Allow),
            (0, i64::MIN, i64::MIN, 0, Decision::Allow),
            (u64::MAX, 0, i64::MAX, 0, Decision::Allow),
            (300, AUTH_TIME, AUTH_TIME, u64::MAX, Decision::Allow),
            (300, i64::MAX, 0, u64::MAX, Decision::Allow),
            (300, -1, AUTH_TIME, 0, too_old()),
        ];
        for (max_age, auth_time, now, skew, expected) in cases {
            assert_eq!(
                recency(max_age, auth_time, now, skew),
                expected,
                "max_age {max_age}, auth_time {auth_time}, now {now}, skew {skew}"
            );
        }
    }

    #[test]
    fn stronger_acr_is_allowed() {
        let decision = evaluate(
            &requirement(&[TWO_FACTORS], None),
            &authentication(Some("phr"), None),
            &AcrScheme::okta(),
            AUTH_TIME,
            DEFAULT_CLOCK_SKEW_SECS,
        );
        assert_eq!(decision, Decision::Allow);
    }

    #[test]
    fn weak_or_missing_acr_steps_up() {
        let weak_acr_values = [
            Some("urn:okta:loa:2fa:any:ifpossible"),
            Some("urn:okta:loa:1fa:pwd"),
            Some("unknown"),
            None,
        ];
        for acr in weak_acr_values {
            let decision = evaluate(
                &requirement(&[TWO_FACTORS], None),
                &authentication(acr, Some(AUTH_TIME)),
                &AcrScheme::okta(),
                AUTH_TIME,
                DEFAULT_CLOCK_SKEW_SECS,
            );
            assert_eq!(
                decision,
                Decision::StepUp(Shortfall {
                    acr_too_weak: true,
                    ..Shortfall::default()
                }),
                "acr {acr:?}"
            );
        }
    }

    #[test]
    fn every_shortfall_is_reported() {
        let decision = evaluate(
            &requirement(&[TWO_FACTORS], Some(300)),
            &authentication(None, Some(AUTH_TIME)),
            &AcrScheme::okta(),
            AUTH_TIME + 401,
            DEFAULT_CLOCK_SKEW_SECS,
        );
        assert_eq!(
            decision,
            Decision::StepUp(Shortfall {
                acr_too_weak: true,
                auth_time_missing: false,
                too_old: true,
            })
        );
    }

    #[test]
    fn empty_requirement_allows_anything() {
        let empty = Requirement::default();
        assert!(empty.is_empty());
        let decision = evaluate(&empty, &Authentication::default(), &AcrScheme::okta(), 0, 0);
        assert!(decision.is_allowed());
        assert!(!requirement(&[], Some(0)).is_empty());
    }

    #[test]
    fn descriptions_are_fixed_sentences() {
        let cases = [
            (
                (true, false, false),
                "A stronger authentication is required",
            ),
            (
                (false, true, false),
                "A more recent authentication is required",
            ),
            (
                (false, false, true),
                "A more recent authentication is required",
            ),
            (
                (true, false, true),
                "A stronger and more recent authentication is required",
            ),
            (
                (true, true, false),
                "A stronger and more recent authentication is required",
            ),
            ((false, false, false), "A new authentication is required"),
        ];
        for ((acr_too_weak, auth_time_missing, too_old), expected) in cases {
            let shortfall = Shortfall {
                acr_too_weak,
                auth_time_missing,
                too_old,
            };
            assert_eq!(shortfall.description(), expected, "{shortfall:?}");
        }
    }

    #[test]
    fn challenge_states_whole_requirement() {
        let shortfall = Shortfall {
            too_old: true,
            ..Shortfall::default()
        };
        let challenge = requirement(&[TWO_FACTORS], Some(300)).challenge(&shortfall);
        assert!(challenge.is_step_up());
        assert_eq!(challenge.acr_values, vec![TWO_FACTORS.to_owned()]);
        assert_eq!(challenge.max_age, Some(300));
        assert_eq!(
            challenge.to_header_value(),
            Ok(concat!(
                r#"Bearer error="insufficient_user_authentication", "#,
                r#"error_description="A more recent authentication is required", "#,
                r#"acr_values="urn:okta:loa:2fa:any", max_age="300""#,
            )
            .to_owned())
        );
    }
}
