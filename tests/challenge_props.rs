//! Property tests of the `WWW-Authenticate` codec: parsing never panics, a formatted challenge
//! parses back to the same value, and the formatter never writes CR or LF.
//!
//! Each property runs a fixed number of generated cases (see [`config`]), so the file finishes in
//! a few seconds in CI. A failing case is shrunk and saved under `tests/` as a proptest
//! regression file, which later runs replay first.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use stepup::{parse_challenges, AuthScheme, BearerChallenge, BearerErrorCode, ChallengeError};

/// Cases per property.
const CASES: u32 = 512;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(CASES)
}

/// Generates text the formatter must accept: printable US-ASCII and horizontal tab.
fn sendable_text() -> impl Strategy<Value = String> {
    "[ -~\t]{0,40}"
}

/// Generates one acr value the formatter must accept: visible US-ASCII, no whitespace.
fn acr_value() -> impl Strategy<Value = String> {
    "[!-~]{1,24}"
}

fn scheme() -> impl Strategy<Value = AuthScheme> {
    prop_oneof![Just(AuthScheme::Bearer), Just(AuthScheme::DPoP)]
}

/// Generates error codes. `Other` never contains a code that has its own variant, because parsing maps
/// those to the variant.
fn error_code() -> impl Strategy<Value = BearerErrorCode> {
    let other = "[ -~]{0,24}"
        .prop_filter("a code with its own variant", |code| {
            matches!(
                BearerErrorCode::from(code.as_str()),
                BearerErrorCode::Other(_)
            )
        })
        .prop_map(BearerErrorCode::Other);
    prop_oneof![
        Just(BearerErrorCode::InvalidRequest),
        Just(BearerErrorCode::InvalidToken),
        Just(BearerErrorCode::InsufficientScope),
        Just(BearerErrorCode::InsufficientUserAuthentication),
        other,
    ]
}

/// Generates challenges whose every value the formatter accepts.
fn sendable_challenge() -> impl Strategy<Value = BearerChallenge> {
    (
        scheme(),
        option::of(sendable_text()),
        option::of(error_code()),
        option::of(sendable_text()),
        option::of(sendable_text()),
        vec(acr_value(), 0..5),
        option::of(max_age()),
    )
        .prop_map(
            |(scheme, realm, error, error_description, scope, acr_values, max_age)| {
                BearerChallenge {
                    scheme,
                    realm,
                    error,
                    error_description,
                    scope,
                    acr_values,
                    max_age,
                }
            },
        )
}

/// Generates challenges with any Unicode text in their values, which the formatter may reject.
fn any_challenge() -> impl Strategy<Value = BearerChallenge> {
    let text = || option::of(".{0,30}");
    (
        scheme(),
        text(),
        option::of(".{0,20}".prop_map(|code| BearerErrorCode::from(code.as_str()))),
        text(),
        text(),
        vec(".{0,12}", 0..4),
        option::of(max_age()),
    )
        .prop_map(
            |(scheme, realm, error, error_description, scope, acr_values, max_age)| {
                BearerChallenge {
                    scheme,
                    realm,
                    error,
                    error_description,
                    scope,
                    acr_values,
                    max_age,
                }
            },
        )
}

/// Generates field values from the pieces of the challenge grammar, so that generated input reaches
/// deep parser states more often than random text does.
fn grammar_soup() -> impl Strategy<Value = String> {
    let fixed = prop_oneof![
        Just("Bearer"),
        Just("DPoP"),
        Just("Basic"),
        Just("realm"),
        Just("error"),
        Just("acr_values"),
        Just("max_age"),
        Just("insufficient_user_authentication"),
        Just("="),
        Just("=="),
        Just("\""),
        Just("\\"),
        Just("\\\""),
        Just(","),
        Just(" "),
        Just("\t"),
        Just("\r\n"),
        Just("\u{0}"),
        Just("é"),
        Just("0"),
        Just("18446744073709551616"),
        Just("-1"),
        Just("abc+/="),
    ]
    .prop_map(str::to_owned);
    let piece = prop_oneof![
        4 => fixed,
        2 => "[ -~]",
        1 => any::<char>().prop_map(String::from),
    ];
    vec(piece, 0..48).prop_map(|pieces| pieces.concat())
}

/// Generates formatted challenges with a few characters replaced, inserted or removed, so that the input
/// is nearly valid and the parser runs deep before it finds the fault.
fn mutated_header() -> impl Strategy<Value = String> {
    let tricky = proptest::sample::select(vec![
        '"', '\\', ',', '=', ' ', '\t', '\r', '\n', 'é', '\0', '/',
    ]);
    let edit = (any::<proptest::sample::Index>(), 0_u8..3, tricky);
    (sendable_challenge(), vec(edit, 1..6)).prop_map(|(challenge, edits)| {
        let header = challenge.to_header_value().unwrap_or_default();
        let mut chars: Vec<char> = header.chars().collect();
        for (index, operation, c) in edits {
            if chars.is_empty() {
                chars.push(c);
                continue;
            }
            let position = index.index(chars.len());
            match operation {
                0 => chars[position] = c,
                1 => chars.insert(position, c),
                _ => {
                    chars.remove(position);
                }
            }
        }
        chars.into_iter().collect()
    })
}

/// Generates `max_age` values that hit the edges (0, which must still be sent, and `u64::MAX`) often.
fn max_age() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), Just(u64::MAX), 0_u64..100_000, any::<u64>()]
}

/// Inserts `breaker` into `prefix` + `suffix`, giving a value that contains a line break.
fn with_line_break() -> impl Strategy<Value = String> {
    (
        "[ -~]{0,10}",
        prop_oneof![Just("\r"), Just("\n"), Just("\r\n")],
        "[ -~]{0,10}",
    )
        .prop_map(|(prefix, breaker, suffix)| format!("{prefix}{breaker}{suffix}"))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_never_panics_on_any_text(input in any::<String>()) {
        let _ = parse_challenges(&input);
        let _ = BearerChallenge::from_header_value(&input);
    }

    #[test]
    fn parse_never_panics_on_grammar_pieces(input in grammar_soup()) {
        let _ = parse_challenges(&input);
        let _ = BearerChallenge::from_header_value(&input);
    }

    #[test]
    fn parse_never_panics_on_mutated_challenges(input in mutated_header()) {
        let _ = parse_challenges(&input);
        let _ = BearerChallenge::from_header_value(&input);
    }

    #[test]
    fn formatted_challenge_parses_back(challenge in sendable_challenge()) {
        let header = challenge.to_header_value();
        prop_assert!(header.is_ok(), "{:?} for {:?}", header, challenge);
        let header = header.unwrap_or_default();

        prop_assert_eq!(parse_challenges(&header).map(|list| list.len()), Ok(1));
        prop_assert_eq!(BearerChallenge::from_header_value(&header), Ok(Some(challenge)));
    }

    #[test]
    fn list_separators_around_challenge_are_ignored(challenge in sendable_challenge()) {
        // RFC 9110 §5.6.1: recipients accept empty list elements and whitespace around them.
        let header = challenge.to_header_value().unwrap_or_default();
        let padded = format!(" ,\t, {header} , ,");
        prop_assert_eq!(BearerChallenge::from_header_value(&padded), Ok(Some(challenge)));
    }

    #[test]
    fn formatter_output_has_no_line_break(challenge in any_challenge()) {
        if let Ok(header) = challenge.to_header_value() {
            prop_assert!(!header.contains(['\r', '\n']), "{:?}", header);
            prop_assert!(
                header.chars().all(|c| c == '\t' || (' '..='~').contains(&c)),
                "{:?}",
                header
            );
        }
    }

    #[test]
    fn formatter_rejects_line_break_in_text(value in with_line_break(), field in 0_usize..4) {
        let mut challenge = BearerChallenge::bearer();
        let param = match field {
            0 => {
                challenge.realm = Some(value);
                "realm"
            }
            1 => {
                challenge.error_description = Some(value);
                "error_description"
            }
            2 => {
                challenge.scope = Some(value);
                "scope"
            }
            _ => {
                challenge.error = Some(BearerErrorCode::Other(value));
                "error"
            }
        };
        prop_assert_eq!(
            challenge.to_header_value(),
            Err(ChallengeError::ControlCharacterInValue { param })
        );
    }

    #[test]
    fn formatter_rejects_line_break_in_acr_value(
        value in with_line_break(),
        others in vec(acr_value(), 0..3),
    ) {
        let mut challenge = BearerChallenge::bearer();
        challenge.acr_values = others;
        challenge.acr_values.push(value);
        prop_assert_eq!(challenge.to_header_value(), Err(ChallengeError::InvalidAcrValue));
    }
}
