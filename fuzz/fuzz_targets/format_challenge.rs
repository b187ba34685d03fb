//! Builds `BearerChallenge` values from arbitrary input and formats them.
//!
//! A run fails in three cases. The formatter writes anything but visible US-ASCII, space and tab,
//! so CR or LF among others. A formatted challenge does not parse back to the same value. Or the
//! formatter rejects a challenge whose values are all sendable, for a reason other than length.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stepup::challenge::MAX_HEADER_VALUE_LEN;
use stepup::{AuthScheme, BearerChallenge, BearerErrorCode, ChallengeError};

/// Fields of a challenge in the order of [`BearerChallenge`], with the scheme as a flag and the
/// error code as text.
type Input = (
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    Option<u64>,
);

/// Returns whether the formatter must accept `text` as a parameter value.
fn is_sendable(text: &str) -> bool {
    text.chars().all(|c| c == '\t' || (' '..='~').contains(&c))
}

fuzz_target!(|input: Input| {
    let (dpop, realm, error, error_description, scope, acr_values, max_age) = input;
    let challenge = BearerChallenge {
        scheme: if dpop {
            AuthScheme::DPoP
        } else {
            AuthScheme::Bearer
        },
        realm,
        error: error.map(|code| BearerErrorCode::from(code.as_str())),
        error_description,
        scope,
        acr_values,
        max_age,
    };

    match challenge.to_header_value() {
        Ok(header) => {
            assert!(is_sendable(&header), "{header:?}");
            assert_eq!(
                BearerChallenge::from_header_value(&header),
                Ok(Some(challenge)),
                "{header:?}"
            );
        }
        Err(ChallengeError::TooLong { len, .. }) => assert!(len > MAX_HEADER_VALUE_LEN),
        Err(error) => {
            let texts = [
                challenge.realm.as_deref(),
                challenge.error.as_ref().map(BearerErrorCode::as_str),
                challenge.error_description.as_deref(),
                challenge.scope.as_deref(),
            ];
            let all_texts_sendable = texts.into_iter().flatten().all(is_sendable);
            let all_acr_values_sendable = challenge.acr_values.iter().all(|value| {
                !value.is_empty()
                    && is_sendable(value)
                    && !value.contains(|c: char| c.is_ascii_whitespace())
            });
            assert!(
                !(all_texts_sendable && all_acr_values_sendable),
                "a sendable challenge was rejected with {error:?}: {challenge:?}"
            );
        }
    }
});
