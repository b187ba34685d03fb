//! The step-up policy: which authentication each route and HTTP method requires, in one place.
//!
//! A [`Policy`] is an ordered list of [`Rule`]s. The first rule whose route pattern and method
//! match a request gives its [`Requirement`]; a request no rule matches needs only a valid
//! sign-in or token. A rule may raise the requirement by payload: a [`PayloadRule`] applies when
//! a numeric field of the request body is above a threshold, such as a transfer amount.
//!
//! The server and the route guards both read their requirements here and compare them with the
//! same [`AcrScheme`], so a page and the API behind it never disagree.

use crate::requirement::{evaluate, Authentication, Decision, Requirement};
use crate::scheme::AcrScheme;
use crate::DEFAULT_CLOCK_SKEW_SECS;

/// Largest clock skew a policy may set, in seconds.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// The HTTP methods a rule may name (RFC 9110 §9).
const KNOWN_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Requirements per route and method, with the scheme that compares acr values.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub scheme: AcrScheme,
    /// Tolerated clock difference with the provider, in seconds, for `max_age` and
    /// `auth_time` checks.
    pub clock_skew_secs: u64,
    /// Rules in priority order: the first match wins.
    pub rules: Vec<Rule>,
}

/// One entry of the policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// An exact path such as `/api/transfers`, or a prefix such as `/admin/*`, which matches
    /// `/admin` and every path below it.
    pub route: String,
    /// Upper-case HTTP methods the rule applies to; empty means every method.
    pub methods: Vec<String>,
    pub requirement: Requirement,
    /// Stronger requirements for larger payloads; the one with the highest threshold that the
    /// payload exceeds wins.
    pub payload: Vec<PayloadRule>,
}

/// A requirement that applies when a numeric field of the request body is above a threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct PayloadRule {
    /// Name of a top-level numeric field of the JSON body, such as `amount`.
    pub field: String,
    /// The rule applies when the field's value is strictly greater than this.
    pub above: f64,
    pub requirement: Requirement,
}

/// A policy that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("rule {index}: route {route:?} must start with '/' and contain no whitespace or '*' except a final \"/*\"")]
    InvalidRoute { index: usize, route: String },
    #[error("rule {index}: unknown HTTP method {method:?}")]
    UnknownMethod { index: usize, method: String },
    #[error("rule {index}: acr value {value:?} is empty or contains whitespace, quotes or control characters")]
    InvalidAcrValue { index: usize, value: String },
    #[error("rule {index}: payload field {field:?} must be a non-empty name")]
    InvalidPayloadField { index: usize, field: String },
    #[error("rule {index}: payload threshold for {field:?} must be a finite number")]
    InvalidThreshold { index: usize, field: String },
    #[error("clock skew of {0} seconds is above the maximum of {MAX_CLOCK_SKEW_SECS}")]
    ClockSkewTooLarge(u64),
}

impl Policy {
    /// Creates a policy with the default clock skew and no rules.
    #[must_use]
    pub fn new(scheme: AcrScheme) -> Self {
        Self {
            scheme,
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            rules: Vec::new(),
        }
    }

    /// Checks every rule, so that a mistake in a policy file stops the server at start.
    ///
    /// # Errors
    ///
    /// Returns the first [`PolicyError`] found, naming the rule by its index.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.clock_skew_secs > MAX_CLOCK_SKEW_SECS {
            return Err(PolicyError::ClockSkewTooLarge(self.clock_skew_secs));
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if !is_valid_route(&rule.route) {
                return Err(PolicyError::InvalidRoute {
                    index,
                    route: rule.route.clone(),
                });
            }
            if let Some(method) = rule
                .methods
                .iter()
                .find(|method| !KNOWN_METHODS.contains(&method.as_str()))
            {
                return Err(PolicyError::UnknownMethod {
                    index,
                    method: method.clone(),
                });
            }
            let requirements = std::iter::once(&rule.requirement)
                .chain(rule.payload.iter().map(|payload| &payload.requirement));
            for requirement in requirements {
                if let Some(value) = requirement
                    .acr_values
                    .iter()
                    .find(|value| !is_valid_acr_value(value))
                {
                    return Err(PolicyError::InvalidAcrValue {
                        index,
                        value: value.clone(),
                    });
                }
            }
            for payload in &rule.payload {
                if payload.field.trim().is_empty() {
                    return Err(PolicyError::InvalidPayloadField {
                        index,
                        field: payload.field.clone(),
                    });
                }
                if !payload.above.is_finite() {
                    return Err(PolicyError::InvalidThreshold {
                        index,
                        field: payload.field.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Returns the first rule matching `path` and `method` (case-insensitive), if any.
    #[must_use]
    pub fn rule_for(&self, path: &str, method: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.matches(path, method))
    }

    /// Returns the requirement for a request.
    ///
    /// `payload_value` returns a top-level numeric field of the request body by name. A payload
    /// rule whose field is missing or not a number applies, so a request cannot dodge a
    /// threshold by leaving the field out (fail closed).
    pub fn requirement_for(
        &self,
        path: &str,
        method: &str,
        payload_value: impl Fn(&str) -> Option<f64>,
    ) -> Requirement {
        let Some(rule) = self.rule_for(path, method) else {
            return Requirement::default();
        };
        let applicable = rule
            .payload
            .iter()
            .filter(|payload| {
                payload_value(&payload.field)
                    .is_none_or(|value| value.is_nan() || value > payload.above)
            })
            .max_by(|left, right| left.above.total_cmp(&right.above));
        match applicable {
            Some(payload) => payload.requirement.clone(),
            None => rule.requirement.clone(),
        }
    }

    /// Returns every acr value the policy's rules name, in first-use order without repeats.
    pub fn acr_values(&self) -> Vec<String> {
        let mut values: Vec<String> = Vec::new();
        let requirements = self.rules.iter().flat_map(|rule| {
            std::iter::once(&rule.requirement)
                .chain(rule.payload.iter().map(|payload| &payload.requirement))
        });
        for requirement in requirements {
            for value in &requirement.acr_values {
                if !values.contains(value) {
                    values.push(value.clone());
                }
            }
        }
        values
    }

    /// Returns the names of the payload fields the rule for `path` and `method` reads, so the
    /// caller parses the body only when a rule needs it.
    pub fn payload_fields(&self, path: &str, method: &str) -> Vec<&str> {
        self.rule_for(path, method)
            .map(|rule| {
                rule.payload
                    .iter()
                    .map(|payload| payload.field.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Decides `authentication` against `requirement` with this policy's scheme and skew.
    #[must_use]
    pub fn evaluate(
        &self,
        requirement: &Requirement,
        authentication: &Authentication,
        now: i64,
    ) -> Decision {
        evaluate(
            requirement,
            authentication,
            &self.scheme,
            now,
            self.clock_skew_secs,
        )
    }
}

impl Rule {
    fn matches(&self, path: &str, method: &str) -> bool {
        let method_matches = self.methods.is_empty()
            || self
                .methods
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(method));
        method_matches && route_matches(&self.route, path)
    }
}

fn route_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix("/*") {
        Some(prefix) => {
            path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
        None => path == pattern,
    }
}

fn is_valid_route(route: &str) -> bool {
    let body = route.strip_suffix("/*").unwrap_or(route);
    route.starts_with('/')
        && !body.contains('*')
        && !route.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_valid_acr_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b'"' && byte != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirement::Decision;

    const TWO_FACTORS: &str = "urn:okta:loa:2fa:any";

    fn requirement(acr: &[&str], max_age: Option<u64>) -> Requirement {
        Requirement {
            acr_values: acr.iter().map(|value| (*value).to_owned()).collect(),
            max_age,
        }
    }

    fn transfers_policy() -> Policy {
        let mut policy = Policy::new(AcrScheme::okta());
        policy.rules = vec![
            Rule {
                route: "/api/transfers".to_owned(),
                methods: vec!["POST".to_owned()],
                requirement: requirement(&[TWO_FACTORS], None),
                payload: vec![
                    PayloadRule {
                        field: "amount".to_owned(),
                        above: 1000.0,
                        requirement: requirement(&["phr"], Some(300)),
                    },
                    PayloadRule {
                        field: "amount".to_owned(),
                        above: 10_000.0,
                        requirement: requirement(&["phrh"], Some(60)),
                    },
                ],
            },
            Rule {
                route: "/api/transfers".to_owned(),
                methods: vec!["GET".to_owned()],
                requirement: requirement(&[TWO_FACTORS], None),
                payload: Vec::new(),
            },
            Rule {
                route: "/admin/*".to_owned(),
                methods: Vec::new(),
                requirement: requirement(&["phr"], Some(0)),
                payload: Vec::new(),
            },
        ];
        policy
    }

    #[test]
    fn method_selects_rule() {
        let policy = transfers_policy();
        let get = policy.requirement_for("/api/transfers", "GET", |_| None);
        assert_eq!(get, requirement(&[TWO_FACTORS], None));
        let delete = policy.requirement_for("/api/transfers", "DELETE", |_| None);
        assert_eq!(delete, Requirement::default());
    }

    #[test]
    fn payload_threshold_raises_requirement() {
        let policy = transfers_policy();
        let cases = [
            (Some(50.0), requirement(&[TWO_FACTORS], None)),
            (Some(1000.0), requirement(&[TWO_FACTORS], None)),
            (Some(1000.01), requirement(&["phr"], Some(300))),
            (Some(5000.0), requirement(&["phr"], Some(300))),
            (Some(20_000.0), requirement(&["phrh"], Some(60))),
            (None, requirement(&["phrh"], Some(60))),
            (Some(f64::NAN), requirement(&["phrh"], Some(60))),
        ];
        for (amount, expected) in cases {
            let actual = policy.requirement_for("/api/transfers", "post", |field| {
                (field == "amount").then_some(amount).flatten()
            });
            assert_eq!(actual, expected, "amount {amount:?}");
        }
    }

    #[test]
    fn prefix_route_matches_subtree_only() {
        let policy = transfers_policy();
        assert!(policy.rule_for("/admin", "GET").is_some());
        assert!(policy.rule_for("/admin/users", "PUT").is_some());
        assert!(policy.rule_for("/administrator", "GET").is_none());
        assert!(policy.rule_for("/api/transfers/1", "GET").is_none());
    }

    #[test]
    fn acr_values_lists_each_value_once() {
        assert_eq!(
            transfers_policy().acr_values(),
            [TWO_FACTORS, "phr", "phrh"]
        );
    }

    #[test]
    fn payload_fields_listed_for_matching_rule() {
        let policy = transfers_policy();
        assert_eq!(
            policy.payload_fields("/api/transfers", "POST"),
            ["amount", "amount"]
        );
        assert!(policy.payload_fields("/api/transfers", "GET").is_empty());
    }

    #[test]
    fn evaluate_uses_policy_scheme() {
        let policy = transfers_policy();
        let stepped_up = Authentication {
            acr: Some("phr".to_owned()),
            amr: Vec::new(),
            auth_time: Some(1_000),
        };
        let required = policy.requirement_for("/api/transfers", "POST", |_| Some(5000.0));
        assert_eq!(
            policy.evaluate(&required, &stepped_up, 1_100),
            Decision::Allow
        );
        assert!(!policy.evaluate(&required, &stepped_up, 2_000).is_allowed());
    }

    #[test]
    fn validate_rejects_bad_rules() {
        let mut policy = transfers_policy();
        assert_eq!(policy.validate(), Ok(()));

        policy.rules[0].methods = vec!["FETCH".to_owned()];
        assert!(matches!(
            policy.validate(),
            Err(PolicyError::UnknownMethod { index: 0, .. })
        ));

        let mut policy = transfers_policy();
        policy.rules[1].route = "api/transfers".to_owned();
        assert!(matches!(
            policy.validate(),
            Err(PolicyError::InvalidRoute { index: 1, .. })
        ));

        let mut policy = transfers_policy();
        policy.rules[2].route = "/a*b".to_owned();
        assert!(matches!(
            policy.validate(),
            Err(PolicyError::InvalidRoute { index: 2, .. })
        ));

        let mut policy = transfers_policy();
        policy.rules[0].payload[0].requirement.acr_values = vec!["two words".to_owned()];
        assert!(matches!(
            policy.validate(),
            Err(PolicyError::InvalidAcrValue { index: 0, .. })
        ));

        let mut policy = transfers_policy();
        policy.rules[0].payload[0].above = f64::INFINITY;
        assert!(matches!(
            policy.validate(),
            Err(PolicyError::InvalidThreshold { index: 0, .. })
        ));

        let mut policy = transfers_policy();
        policy.clock_skew_secs = MAX_CLOCK_SKEW_SECS + 1;
        assert!(matches!(
            policy.validate(),
            Err(PolicyError::ClockSkewTooLarge(_))
        ));
    }
}
