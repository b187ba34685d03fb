//! Which authentication each route and API call requires.
//!
//! The server and the route guards read the same [`RoutePolicy`], so a page and the API
//! behind it never disagree about what is enough.

use stepup::{AcrLevels, Requirement, DEFAULT_CLOCK_SKEW_SECS};

/// The acr value of a two-factor authentication in the Okta vocabulary.
pub const TWO_FACTOR_ACR: &str = "urn:okta:loa:2fa:any";

/// Requirements per protected route, with the level ordering used to compare them.
#[derive(Debug, Clone)]
pub struct RoutePolicy {
    pub levels: AcrLevels,
    /// Tolerated clock difference with the provider, in seconds, for `max_age` checks.
    pub clock_skew_secs: u64,
    /// The `/profile` page.
    pub profile_page: Requirement,
    /// The `/messages` page itself, which only needs a signed-in user.
    pub messages_page: Requirement,
    /// `GET /api/messages`.
    pub messages_api: Requirement,
}

impl Default for RoutePolicy {
    fn default() -> Self {
        let two_factor = Requirement {
            acr_values: vec![TWO_FACTOR_ACR.to_owned()],
            max_age: None,
        };
        Self {
            levels: AcrLevels::okta(),
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            profile_page: two_factor.clone(),
            messages_page: Requirement::default(),
            messages_api: two_factor,
        }
    }
}
