//! Validation of `return_to`, the page sign-in brings the user back to.

/// Longest `return_to` kept, in bytes.
const MAX_RETURN_TO_BYTES: usize = 2048;

/// Returns `candidate` when it is a path on this origin, else `/`. Non-ASCII characters are
/// percent-encoded, since a `Location` header carries an ASCII URI reference.
///
/// Accepted: an absolute path (`/…`) with an optional query. Refused, so that sign-in can
/// never become an open redirect (RFC 9700 §4.11): absolute and scheme-relative URLs
/// (`https://…`, `//…`), backslashes (browsers read `/\evil` as `//evil`), control
/// characters and whitespace, fragments, and anything over 2 KiB. The value is checked as
/// decoded by the query parser, so percent-encoded forms are caught too.
pub fn safe_return_to(candidate: Option<&str>) -> String {
    match candidate {
        Some(path) if is_same_origin_path(path) => encode_non_ascii(path),
        _ => "/".to_owned(),
    }
}

fn encode_non_ascii(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_ascii() {
            encoded.push(c);
        } else {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    encoded
}

fn is_same_origin_path(path: &str) -> bool {
    path.len() <= MAX_RETURN_TO_BYTES
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.contains('#')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        for path in ["/", "/profile", "/messages?page=2", "/a/b?x=1&y=%2F"] {
            assert_eq!(safe_return_to(Some(path)), path, "{path}");
        }
    }

    #[test]
    fn foreign_targets_fall_back_to_root() {
        let hostile = [
            "https://evil.example/",
            "http://evil.example",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "/\tevil",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/profile#x",
            " /profile",
        ];
        for target in hostile {
            assert_eq!(safe_return_to(Some(target)), "/", "{target:?}");
        }
        assert_eq!(safe_return_to(None), "/");
    }

    #[test]
    fn non_ascii_is_percent_encoded() {
        assert_eq!(
            safe_return_to(Some("/caf\u{e9}?q=\u{ff0f}")),
            "/caf%C3%A9?q=%EF%BC%8F"
        );
    }

    #[test]
    fn overlong_path_falls_back_to_root() {
        let long = format!("/{}", "a".repeat(MAX_RETURN_TO_BYTES));
        assert_eq!(safe_return_to(Some(&long)), "/");
    }
}
