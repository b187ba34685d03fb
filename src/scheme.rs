//! How a deployment compares `acr` values: one scheme per kind of OpenID Provider.
//!
//! OpenID Connect Core 1.0 §2 leaves `acr` values opaque, so "is this authentication strong
//! enough" depends on the provider's vocabulary:
//!
//! - **Ordered** ([`AcrLevels`]): ranked groups of values, such as Okta's
//!   `urn:okta:loa:1fa:*` < `urn:okta:loa:2fa:any` < `phr` < `phrh`.
//! - **Auth0**: Auth0 reports multi-factor authentication with the PAPE multi-factor policy URI
//!   as `acr`, or with `mfa` in `amr`; either satisfies a requirement for that URI.
//! - **Keycloak**: each acr value maps to an integer level of assurance (LoA), configured in
//!   the realm; a higher LoA satisfies a lower one.
//! - **Exact**: a value satisfies only a requirement that names it.
//!
//! Every scheme ranks a missing or unknown `acr` below every requirement except an empty one.

use crate::acr::AcrLevels;
use std::collections::BTreeMap;

/// The `acr` value Auth0 uses for multi-factor authentication: the multi-factor policy of
/// OpenID Provider Authentication Policy Extension 1.0 §5.
pub const AUTH0_MFA_POLICY: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

/// The `amr` value (RFC 8176 §2) that reports multi-factor authentication.
pub const AMR_MULTI_FACTOR: &str = "mfa";

/// A rule for comparing the `acr` (and, for Auth0, `amr`) of an authentication with the
/// acceptable values of a requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcrScheme {
    /// Ranked groups of values; a stronger level satisfies a weaker requirement.
    Ordered(AcrLevels),
    /// Auth0: [`AUTH0_MFA_POLICY`] is met by that `acr` or by `mfa` in `amr`; other values
    /// must match exactly.
    Auth0,
    /// Keycloak: acr value to level of assurance; a higher level satisfies a lower one.
    Keycloak(BTreeMap<String, u32>),
    /// Exact matches only.
    Exact,
}

impl AcrScheme {
    /// Returns the Okta preset, [`AcrLevels::okta`].
    #[must_use]
    pub fn okta() -> Self {
        Self::Ordered(AcrLevels::okta())
    }

    /// Returns whether an authentication with `acr` and `amr` meets `acceptable`, the acr
    /// values of a requirement in preference order. An empty list accepts everything.
    #[must_use]
    pub fn satisfies(&self, acr: Option<&str>, amr: &[String], acceptable: &[String]) -> bool {
        if acceptable.is_empty() {
            return true;
        }
        if acr.is_some_and(|acr| acceptable.iter().any(|value| value == acr)) {
            return true;
        }
        match self {
            Self::Ordered(levels) => levels.satisfies(acr, acceptable),
            Self::Auth0 => {
                let wants_mfa = acceptable.iter().any(|value| value == AUTH0_MFA_POLICY);
                wants_mfa && amr.iter().any(|method| method == AMR_MULTI_FACTOR)
            }
            Self::Keycloak(levels) => {
                let Some(presented) = acr.and_then(|acr| levels.get(acr)) else {
                    return false;
                };
                acceptable
                    .iter()
                    .filter_map(|value| levels.get(value.as_str()))
                    .min()
                    .is_some_and(|required| presented >= required)
            }
            Self::Exact => false,
        }
    }

    /// Returns whether this scheme ranks `acr`, so a requirement naming it can ever
    /// be met by something other than the exact value.
    #[must_use]
    pub fn knows(&self, acr: &str) -> bool {
        match self {
            Self::Ordered(levels) => levels.rank(Some(acr)).is_some(),
            Self::Auth0 => acr == AUTH0_MFA_POLICY,
            Self::Keycloak(levels) => levels.contains_key(acr),
            Self::Exact => false,
        }
    }
}

impl Default for AcrScheme {
    fn default() -> Self {
        Self::okta()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn okta_stronger_level_satisfies() {
        let scheme = AcrScheme::okta();
        let cases: [(Option<&str>, &[&str], bool); 6] = [
            (Some("phr"), &["urn:okta:loa:2fa:any"], true),
            (
                Some("urn:okta:loa:2fa:any:ifpossible"),
                &["urn:okta:loa:2fa:any"],
                false,
            ),
            (None, &["urn:okta:loa:1fa:any"], false),
            (None, &[], true),
            (Some("urn:okta:loa:2fa:any"), &["phr"], false),
            (Some("phrh"), &["phr", "urn:okta:loa:2fa:any"], true),
        ];
        for (acr, acceptable, expected) in cases {
            assert_eq!(
                scheme.satisfies(acr, &[], &strings(acceptable)),
                expected,
                "{acr:?} vs {acceptable:?}"
            );
        }
    }

    #[test]
    fn auth0_accepts_policy_uri_or_mfa_amr() {
        let scheme = AcrScheme::Auth0;
        let mfa = strings(&[AUTH0_MFA_POLICY]);
        assert!(scheme.satisfies(Some(AUTH0_MFA_POLICY), &[], &mfa));
        assert!(scheme.satisfies(None, &strings(&["pwd", "mfa"]), &mfa));
        assert!(!scheme.satisfies(None, &strings(&["pwd"]), &mfa));
        assert!(!scheme.satisfies(
            Some("urn:mace:incommon:iap:silver"),
            &strings(&["pwd"]),
            &mfa
        ));
        // `mfa` in `amr` meets only the multi-factor policy, not an unrelated value.
        assert!(!scheme.satisfies(None, &strings(&["mfa"]), &strings(&["urn:example:gold"])));
    }

    #[test]
    fn keycloak_higher_loa_satisfies_lower() {
        let levels = BTreeMap::from([
            ("silver".to_owned(), 1),
            ("gold".to_owned(), 2),
            ("platinum".to_owned(), 3),
        ]);
        let scheme = AcrScheme::Keycloak(levels);
        assert!(scheme.satisfies(Some("gold"), &[], &strings(&["silver"])));
        assert!(scheme.satisfies(Some("platinum"), &[], &strings(&["gold"])));
        assert!(!scheme.satisfies(Some("silver"), &[], &strings(&["gold"])));
        assert!(!scheme.satisfies(Some("unknown"), &[], &strings(&["silver"])));
        assert!(!scheme.satisfies(None, &[], &strings(&["silver"])));
        assert!(scheme.satisfies(Some("gold"), &[], &strings(&["unlisted", "silver"])));
    }

    #[test]
    fn exact_scheme_matches_only_listed_values() {
        let scheme = AcrScheme::Exact;
        assert!(scheme.satisfies(Some("a"), &[], &strings(&["b", "a"])));
        assert!(!scheme.satisfies(Some("c"), &[], &strings(&["b", "a"])));
        assert!(!scheme.satisfies(None, &strings(&["mfa"]), &strings(&["a"])));
    }

    #[test]
    fn knows_reports_ranked_values() {
        assert!(AcrScheme::okta().knows("phr"));
        assert!(!AcrScheme::okta().knows("gold"));
        assert!(AcrScheme::Auth0.knows(AUTH0_MFA_POLICY));
        assert!(!AcrScheme::Exact.knows("a"));
    }
}
