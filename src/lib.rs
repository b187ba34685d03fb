//! Framework-free core of OAuth 2.0 Step Up Authentication (RFC 9470), shared by the server and the
//! WebAssembly front end.
//!
//! - [`challenge`] parses and formats `WWW-Authenticate` field values: the challenge grammar of
//!   RFC 9110 §11.6.1, the `Bearer` parameters of RFC 6750 §3 and the `acr_values` and `max_age`
//!   parameters of RFC 9470 §3.
//! - [`acr`] ranks `acr` values so that a stronger level satisfies a weaker requirement.
//! - [`scheme`] compares `acr` values by provider: ordered levels (Okta), Auth0's multi-factor
//!   policy, Keycloak's levels of assurance, or exact matches.
//! - [`policy`] maps routes, HTTP methods and payload thresholds to requirements.
//! - [`requirement`] decides whether the `acr` and `auth_time` of an authentication meet a
//!   resource's requirement, and builds the step-up challenge when they do not.
//!
//! The crate performs no I/O and reads no clock: callers pass the current time in seconds since the
//! Unix epoch. It does not validate tokens (signature, issuer, audience, expiry), talk to an OpenID
//! Provider, or check that the provider supports the requested acr values. Callers do that and pass
//! in the claims of a valid token.
//!
//! ```
//! use stepup::{evaluate, AcrScheme, Authentication, BearerChallenge, Decision, Requirement};
//!
//! let requirement = Requirement {
//!     acr_values: vec!["urn:okta:loa:2fa:any".to_owned()],
//!     max_age: Some(300),
//! };
//! let authentication = Authentication {
//!     acr: Some("urn:okta:loa:1fa:pwd".to_owned()),
//!     amr: vec!["pwd".to_owned()],
//!     auth_time: Some(1_700_000_000),
//! };
//! let decision = evaluate(&requirement, &authentication, &AcrScheme::okta(), 1_700_000_100, 60);
//!
//! // The resource server sends the challenge...
//! let Decision::StepUp(shortfall) = decision else { panic!("expected a step-up") };
//! let header = requirement.challenge(&shortfall).to_header_value()?;
//! assert_eq!(
//!     header,
//!     r#"Bearer error="insufficient_user_authentication", error_description="A stronger authentication is required", acr_values="urn:okta:loa:2fa:any", max_age="300""#,
//! );
//!
//! // ...and the client reads the requirement back from it.
//! let challenge = BearerChallenge::from_header_value(&header)?;
//! assert_eq!(challenge.map(|c| c.max_age), Some(Some(300)));
//! # Ok::<(), stepup::ChallengeError>(())
//! ```

pub mod acr;
pub mod challenge;
pub mod policy;
pub mod requirement;
pub mod response;
pub mod scheme;

pub use acr::AcrLevels;
pub use challenge::{
    parse_challenges, AuthScheme, BearerChallenge, BearerErrorCode, Challenge, ChallengeError,
};
pub use policy::{PayloadRule, Policy, PolicyError, Rule};
pub use requirement::{
    evaluate, Authentication, Decision, Requirement, Shortfall, DEFAULT_CLOCK_SKEW_SECS,
};
pub use response::{classify_response, unsupported_acr_values, ResponseAction};
pub use scheme::AcrScheme;
