//! `WWW-Authenticate` challenges: the generic grammar, and the Bearer and DPoP challenges on top.
//!
//! [`parse_challenges`] follows the challenge grammar of RFC 9110 §11.6.1 and the auth-param rules
//! of RFC 9110 §11.2. It accepts several challenges in one field value, token or quoted-string
//! values, optional whitespace around `=` and `,`, and empty list elements. Scheme and parameter
//! names are case-insensitive, and a token68 may replace the parameter list. A parameter name
//! that appears twice in one challenge is an error, because RFC 9110 allows each name once per
//! challenge.
//!
//! [`BearerChallenge`] reads and writes the parameters that RFC 6750 §3 defines for the `Bearer`
//! scheme (`realm`, `error`, `error_description`, `scope`) and the two that RFC 9470 §3 adds for
//! step-up authentication (`acr_values`, `max_age`). The `DPoP` scheme (RFC 9449) uses the
//! same parameters.
//!
//! Not checked here: whether an OpenID Provider supports the requested acr values, the `error_uri`
//! parameter, the DPoP `algs` parameter, and the character sets that RFC 6750 §3 sets for
//! `error_description` and `scope` beyond the rejection of control and non-ASCII characters on
//! output.
//!
//! Parsing is bounded: a field value longer than [`MAX_HEADER_VALUE_LEN`] bytes, more than
//! [`MAX_CHALLENGES`] challenges or more than [`MAX_PARAMS`] parameters in one challenge is an
//! error, so the memory that one parse allocates is bounded by these limits.

mod bearer;
mod grammar;

pub use bearer::{AuthScheme, BearerChallenge, BearerErrorCode};
pub use grammar::{parse_challenges, Challenge};

/// Maximum length in bytes of a `WWW-Authenticate` field value that this module parses or produces.
pub const MAX_HEADER_VALUE_LEN: usize = 8 * 1024;

/// Maximum number of challenges in one field value.
pub const MAX_CHALLENGES: usize = 64;

/// Maximum number of auth-params in one challenge.
pub const MAX_PARAMS: usize = 64;

/// Failure to parse or format a `WWW-Authenticate` field value.
///
/// Positions are byte offsets into the parsed field value. Messages never contain parameter values,
/// so they are safe to log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// The field value is longer than [`MAX_HEADER_VALUE_LEN`].
    #[error("WWW-Authenticate value is {len} bytes long, more than the maximum of {max}")]
    TooLong {
        /// Length of the rejected value in bytes.
        len: usize,
        /// The limit, [`MAX_HEADER_VALUE_LEN`].
        max: usize,
    },

    /// The field value contains more than [`MAX_CHALLENGES`] challenges.
    #[error("WWW-Authenticate value contains more than {max} challenges")]
    TooManyChallenges {
        /// The limit, [`MAX_CHALLENGES`].
        max: usize,
    },

    /// One challenge contains more than [`MAX_PARAMS`] auth-params.
    #[error("challenge contains more than {max} auth-params")]
    TooManyParams {
        /// The limit, [`MAX_PARAMS`].
        max: usize,
    },

    /// An auth-scheme or auth-param name was expected but no token character was found.
    #[error("expected an auth-scheme or auth-param name at byte {position}")]
    ExpectedToken {
        /// Byte offset of the first character that is not a token character.
        position: usize,
    },

    /// A character appears where the grammar allows none, such as a missing comma between two
    /// elements.
    #[error("unexpected character at byte {position}")]
    UnexpectedCharacter {
        /// Byte offset of the character.
        position: usize,
    },

    /// The field value starts with an auth-param instead of an auth-scheme.
    #[error("auth-param at byte {position} has no auth-scheme before it")]
    MissingScheme {
        /// Byte offset of the parameter name.
        position: usize,
    },

    /// An auth-param has `=` but no token or quoted-string after it.
    #[error("auth-param value missing at byte {position}")]
    MissingParamValue {
        /// Byte offset where the value should start.
        position: usize,
    },

    /// A quoted-string has no closing double quote, or ends with a lone backslash.
    #[error("quoted-string that starts at byte {position} has no closing quote")]
    UnterminatedQuotedString {
        /// Byte offset of the opening double quote.
        position: usize,
    },

    /// A quoted-string contains a control character other than horizontal tab.
    #[error("control character at byte {position} in a quoted-string")]
    ControlCharacter {
        /// Byte offset of the control character.
        position: usize,
    },

    /// One challenge contains the same auth-param name twice (compared case-insensitively).
    #[error("auth-param `{name}` appears more than once in one challenge")]
    DuplicateParam {
        /// The repeated name, lowercased.
        name: String,
    },

    /// A `Bearer` or `DPoP` challenge has a token68 where RFC 6750 §3 requires auth-params.
    #[error("{scheme} challenge has a token68 instead of auth-params")]
    UnexpectedToken68 {
        /// The scheme of the challenge.
        scheme: AuthScheme,
    },

    /// The `max_age` parameter is not a non-negative integer that fits in 64 bits.
    #[error("max_age is not a non-negative integer of at most 64 bits")]
    InvalidMaxAge,

    /// A value to be sent contains a control character other than horizontal tab, such as CR or LF.
    #[error("value of `{param}` contains a control character")]
    ControlCharacterInValue {
        /// Name of the parameter whose value was rejected.
        param: &'static str,
    },

    /// A value to be sent contains a character outside US-ASCII.
    #[error("value of `{param}` contains a non-ASCII character")]
    NonAsciiValue {
        /// Name of the parameter whose value was rejected.
        param: &'static str,
    },

    /// An acr value to be sent is empty or contains whitespace, so it would not survive the
    /// space-separated list.
    #[error("acr value is empty or contains whitespace")]
    InvalidAcrValue,
}

/// Returns whether `c` is a control character that a quoted-string may not contain: any of U+0000
/// to U+001F and U+007F except horizontal tab.
fn is_forbidden_control(c: char) -> bool {
    c.is_ascii_control() && c != '\t'
}
