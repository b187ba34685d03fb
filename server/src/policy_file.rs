//! Reads the step-up policy from TOML.
//!
//! The format is documented in `docs/policy.md`; `config/policy.toml` is the default, built
//! into the binary so the server runs without a file.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use stepup::{AcrLevels, AcrScheme, PayloadRule, Policy, PolicyError, Requirement, Rule};

/// The policy used when no file is configured.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../config/policy.toml");

/// A policy file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyFileError {
    #[error("could not read the policy file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid policy TOML: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("invalid acr settings: {0}")]
    Acr(String),
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDocument {
    acr: AcrSection,
    #[serde(default)]
    clock_skew_secs: Option<u64>,
    #[serde(default)]
    rules: Vec<RuleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcrSection {
    preset: Preset,
    /// `ordered`: groups of acr values, weakest first.
    #[serde(default)]
    levels: Option<Vec<Vec<String>>>,
    /// `keycloak`: acr value to level of assurance.
    #[serde(default)]
    levels_of_assurance: Option<BTreeMap<String, u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Preset {
    Okta,
    Auth0,
    Keycloak,
    Ordered,
    Exact,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    route: String,
    #[serde(default)]
    methods: Vec<String>,
    #[serde(default)]
    acr_values: Vec<String>,
    #[serde(default)]
    max_age: Option<u64>,
    #[serde(default)]
    payload: Vec<PayloadEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadEntry {
    field: String,
    above: f64,
    #[serde(default)]
    acr_values: Vec<String>,
    #[serde(default)]
    max_age: Option<u64>,
}

/// Reads the policy at `path`, or the built-in default when `path` is `None`.
///
/// # Errors
///
/// Returns a [`PolicyFileError`] when the file cannot be read, parsed or validated.
pub fn load_policy(path: Option<&Path>) -> Result<Policy, PolicyFileError> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| PolicyFileError::Read {
                path: path.display().to_string(),
                source,
            })?;
            parse_policy(&text)
        }
        None => parse_policy(DEFAULT_POLICY_TOML),
    }
}

/// Parses and validates a policy document.
///
/// # Errors
///
/// Returns a [`PolicyFileError`] naming what is wrong.
pub fn parse_policy(text: &str) -> Result<Policy, PolicyFileError> {
    let document: PolicyDocument = toml::from_str(text)?;
    let scheme = acr_scheme(document.acr)?;
    let mut policy = Policy::new(scheme);
    if let Some(skew) = document.clock_skew_secs {
        policy.clock_skew_secs = skew;
    }
    policy.rules = document.rules.into_iter().map(rule).collect();
    policy.validate()?;
    Ok(policy)
}

fn acr_scheme(section: AcrSection) -> Result<AcrScheme, PolicyFileError> {
    let scheme = match section.preset {
        Preset::Okta => AcrScheme::okta(),
        Preset::Auth0 => AcrScheme::Auth0,
        Preset::Exact => AcrScheme::Exact,
        Preset::Ordered => {
            let levels = section
                .levels
                .filter(|levels| !levels.is_empty())
                .ok_or_else(|| {
                    PolicyFileError::Acr(
                        "preset \"ordered\" needs `levels`, a list of lists of acr values"
                            .to_owned(),
                    )
                })?;
            AcrScheme::Ordered(AcrLevels::new(levels))
        }
        Preset::Keycloak => {
            let levels = section
                .levels_of_assurance
                .filter(|levels| !levels.is_empty())
                .ok_or_else(|| PolicyFileError::Acr("preset \"keycloak\" needs `levels_of_assurance`, a table of acr value = integer".to_owned()))?;
            AcrScheme::Keycloak(levels)
        }
    };
    Ok(scheme)
}

fn rule(entry: RuleEntry) -> Rule {
    Rule {
        route: entry.route,
        methods: entry
            .methods
            .iter()
            .map(|method| method.to_ascii_uppercase())
            .collect(),
        requirement: Requirement {
            acr_values: entry.acr_values,
            max_age: entry.max_age,
        },
        payload: entry
            .payload
            .into_iter()
            .map(|payload| PayloadRule {
                field: payload.field,
                above: payload.above,
                requirement: Requirement {
                    acr_values: payload.acr_values,
                    max_age: payload.max_age,
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_parses() {
        let policy = parse_policy(DEFAULT_POLICY_TOML).expect("the built-in policy is valid");
        assert_eq!(policy.scheme, AcrScheme::okta());
        assert_eq!(policy.clock_skew_secs, 60);
        let large = policy.requirement_for("/api/transfers", "POST", |_| Some(5000.0));
        assert_eq!(large.acr_values, ["phr"]);
        assert_eq!(large.max_age, Some(300));
        let small = policy.requirement_for("/api/transfers", "POST", |_| Some(10.0));
        assert_eq!(small.acr_values, ["urn:okta:loa:2fa:any"]);
        assert_eq!(
            policy.requirement_for("/security", "GET", |_| None).max_age,
            Some(0)
        );
    }

    #[test]
    fn keycloak_preset_reads_levels() {
        let text = r#"
            [acr]
            preset = "keycloak"
            levels_of_assurance = { silver = 1, gold = 2 }

            [[rules]]
            route = "/api/x"
            acr_values = ["gold"]
        "#;
        let policy = parse_policy(text).expect("valid");
        let AcrScheme::Keycloak(levels) = &policy.scheme else {
            panic!("expected the keycloak scheme");
        };
        assert_eq!(levels.get("gold"), Some(&2));
    }

    #[test]
    fn keycloak_preset_without_levels_is_rejected() {
        let error = parse_policy("[acr]\npreset = \"keycloak\"\n").expect_err("invalid");
        assert!(matches!(error, PolicyFileError::Acr(_)), "{error}");
    }

    #[test]
    fn unknown_fields_and_presets_are_rejected() {
        assert!(parse_policy("[acr]\npreset = \"okta\"\nfoo = 1\n").is_err());
        assert!(parse_policy("[acr]\npreset = \"azure\"\n").is_err());
        assert!(parse_policy(
            "[acr]\npreset = \"okta\"\n[[rules]]\nroute = \"/x\"\nmax_age = -1\n"
        )
        .is_err());
    }

    #[test]
    fn invalid_rule_names_its_index() {
        let text = "[acr]\npreset = \"okta\"\n[[rules]]\nroute = \"/ok\"\n[[rules]]\nroute = \"no-slash\"\n";
        let error = parse_policy(text).expect_err("invalid");
        assert!(error.to_string().contains("rule 1"), "{error}");
    }

    #[test]
    fn methods_are_upper_cased() {
        let text = "[acr]\npreset = \"exact\"\n[[rules]]\nroute = \"/x\"\nmethods = [\"post\"]\nacr_values = [\"a\"]\n";
        let policy = parse_policy(text).expect("valid");
        assert_eq!(policy.rules[0].methods, ["POST"]);
    }
}
