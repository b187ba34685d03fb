//! Feeds arbitrary bytes to the `WWW-Authenticate` parser.
//!
//! A run fails when parsing panics, or when a parsed `Bearer` or `DPoP` challenge that the
//! formatter accepts does not parse back to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stepup::{parse_challenges, BearerChallenge};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_challenges(text);

    let Ok(Some(challenge)) = BearerChallenge::from_header_value(text) else {
        return;
    };
    // The parser accepts values that the formatter rejects, such as non-ASCII text or an acr
    // value with a tab in it. Those end the run here.
    let Ok(header) = challenge.to_header_value() else {
        return;
    };
    assert!(!header.contains(['\r', '\n']), "{header:?}");
    assert_eq!(
        BearerChallenge::from_header_value(&header),
        Ok(Some(challenge)),
        "{header:?}"
    );
});
