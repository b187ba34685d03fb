//! Ordered authentication levels for comparing `acr` claim values.
//!
//! OpenID Connect Core 1.0 §2 defines `acr` as an opaque string, and RFC 9470 §3 lets a resource
//! server list several acceptable values. Neither orders the values, so a resource server that
//! wants "this level or a stronger one" needs its own ranking. [`AcrLevels`] is that ranking:
//! ordered groups of values, where a later group is stronger and values in one group are equal.
//!
//! Values compare case-sensitively and exactly. A value that no group lists, including a missing
//! `acr`, has no rank and satisfies only a requirement that names it exactly.

/// Authentication levels ranked from weakest to strongest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcrLevels {
    groups: Vec<Vec<String>>,
}

impl AcrLevels {
    /// Creates levels from groups of acr values, weakest group first. The rank of a value is the
    /// index of its group.
    ///
    /// A value listed in several groups takes the rank of the first one.
    #[must_use]
    pub fn new(groups: Vec<Vec<String>>) -> Self {
        Self { groups }
    }

    /// Creates the levels of the acr values that Okta predefines, weakest first:
    ///
    /// 0. `urn:okta:loa:1fa:any`, `urn:okta:loa:1fa:pwd` and `urn:okta:loa:2fa:any:ifpossible`. The
    ///    last one requests a second factor only where possible, so it proves no more than one
    ///    factor.
    /// 1. `urn:okta:loa:2fa:any`: two factors.
    /// 2. `phr`: phishing-resistant authentication.
    /// 3. `phrh`: phishing-resistant authentication with keys held in secure hardware.
    #[must_use]
    pub fn okta() -> Self {
        let group = |values: &[&str]| values.iter().map(|value| (*value).to_owned()).collect();
        Self::new(vec![
            group(&[
                "urn:okta:loa:1fa:any",
                "urn:okta:loa:1fa:pwd",
                "urn:okta:loa:2fa:any:ifpossible",
            ]),
            group(&["urn:okta:loa:2fa:any"]),
            group(&["phr"]),
            group(&["phrh"]),
        ])
    }

    /// Returns the groups, weakest first.
    #[must_use]
    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }

    /// Returns the rank of `acr`, or `None` when it is missing or no group lists it. `None` ranks
    /// below every known level.
    #[must_use]
    pub fn rank(&self, acr: Option<&str>) -> Option<usize> {
        let acr = acr?;
        self.groups
            .iter()
            .position(|group| group.iter().any(|value| value == acr))
    }

    /// Returns whether the presented `acr` meets a requirement that accepts any of `acceptable`.
    ///
    /// It does when `acceptable` is empty, when `presented` is one of `acceptable`, or when
    /// `presented` ranks at or above the lowest-ranked known value of `acceptable`. Unknown
    /// acceptable values can only be matched exactly, and a missing or unknown `presented`
    /// satisfies only an exact match.
    #[must_use]
    pub fn satisfies(&self, presented: Option<&str>, acceptable: &[String]) -> bool {
        if acceptable.is_empty() {
            return true;
        }
        if presented.is_some_and(|acr| acceptable.iter().any(|value| value == acr)) {
            return true;
        }

        let Some(presented_rank) = self.rank(presented) else {
            return false;
        };
        acceptable
            .iter()
            .filter_map(|value| self.rank(Some(value)))
            .min()
            .is_some_and(|required_rank| presented_rank >= required_rank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_FACTOR: &str = "urn:okta:loa:1fa:any";
    const PASSWORD: &str = "urn:okta:loa:1fa:pwd";
    const IF_POSSIBLE: &str = "urn:okta:loa:2fa:any:ifpossible";
    const TWO_FACTORS: &str = "urn:okta:loa:2fa:any";

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn okta_ranks() {
        let levels = AcrLevels::okta();
        let cases = [
            (Some(ONE_FACTOR), Some(0)),
            (Some(PASSWORD), Some(0)),
            (Some(IF_POSSIBLE), Some(0)),
            (Some(TWO_FACTORS), Some(1)),
            (Some("phr"), Some(2)),
            (Some("phrh"), Some(3)),
            (Some("PHR"), None),
            (Some("urn:okta:loa:3fa:any"), None),
            (Some(""), None),
            (None, None),
        ];
        for (acr, expected) in cases {
            assert_eq!(levels.rank(acr), expected, "acr {acr:?}");
        }
    }

    #[test]
    fn okta_satisfies_table() {
        let levels = AcrLevels::okta();
        let cases: [(Option<&str>, &[&str], bool); 19] = [
            // A stronger level satisfies a weaker requirement.
            (Some("phr"), &[TWO_FACTORS], true),
            (Some("phrh"), &[TWO_FACTORS], true),
            (Some("phrh"), &["phr"], true),
            (Some(TWO_FACTORS), &[TWO_FACTORS], true),
            (Some(TWO_FACTORS), &[ONE_FACTOR], true),
            // "If possible" proves one factor only.
            (Some(IF_POSSIBLE), &[TWO_FACTORS], false),
            (Some(IF_POSSIBLE), &[ONE_FACTOR], true),
            // Values in one group are equal.
            (Some(ONE_FACTOR), &[PASSWORD], true),
            // A weaker level fails.
            (Some(ONE_FACTOR), &[TWO_FACTORS], false),
            (Some(TWO_FACTORS), &["phr"], false),
            (Some("phr"), &["phrh"], false),
            // A missing acr ranks lowest and fails any requirement.
            (None, &[TWO_FACTORS], false),
            (None, &[ONE_FACTOR], false),
            // The lowest known acceptable value sets the bar.
            (Some(TWO_FACTORS), &["phrh", TWO_FACTORS], true),
            (Some(ONE_FACTOR), &["phrh", TWO_FACTORS], false),
            // Unknown values match only exactly.
            (Some("custom"), &["custom"], true),
            (Some("custom"), &[ONE_FACTOR], false),
            (Some("phrh"), &["custom"], false),
            (Some("phrh"), &["custom", TWO_FACTORS], true),
        ];
        for (presented, acceptable, expected) in cases {
            assert_eq!(
                levels.satisfies(presented, &strings(acceptable)),
                expected,
                "presented {presented:?}, acceptable {acceptable:?}"
            );
        }
    }

    #[test]
    fn empty_requirement_is_satisfied() {
        let levels = AcrLevels::okta();
        assert!(levels.satisfies(None, &[]));
        assert!(levels.satisfies(Some("unknown"), &[]));
    }

    #[test]
    fn custom_levels_rank_by_group() {
        let levels = AcrLevels::new(vec![
            strings(&["low", "basic"]),
            strings(&["high"]),
            strings(&["low"]),
        ]);
        assert_eq!(levels.rank(Some("low")), Some(0));
        assert_eq!(levels.rank(Some("high")), Some(1));
        assert!(levels.satisfies(Some("high"), &strings(&["basic"])));
        assert!(!levels.satisfies(Some("low"), &strings(&["high"])));
        assert_eq!(levels.groups().len(), 3);
    }

    #[test]
    fn empty_levels_match_exactly() {
        let levels = AcrLevels::default();
        assert_eq!(levels.rank(Some("phr")), None);
        assert!(levels.satisfies(Some("phr"), &strings(&["phr"])));
        assert!(!levels.satisfies(Some("phrh"), &strings(&["phr"])));
    }
}
