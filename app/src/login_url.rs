//! Builds the app's own sign-in URL, `/auth/login`, with the step-up parameters.
//!
//! The server validates every parameter again; this module only encodes them.

/// Path of the server route that starts an OpenID Connect authorization request.
pub const LOGIN_PATH: &str = "/auth/login";

/// Builds `/auth/login?return_to=…&acr_values=…&max_age=…`.
///
/// `acr_values` are joined with spaces, in preference order (OpenID Connect Core 1.0
/// §3.1.2.1). `max_age` is sent whenever it is `Some`, including `Some(0)`, which asks the
/// provider for a fresh authentication.
pub fn login_url(return_to: &str, acr_values: &[String], max_age: Option<u64>) -> String {
    let mut url = format!("{LOGIN_PATH}?return_to={}", percent_encode(return_to));
    if !acr_values.is_empty() {
        url.push_str("&acr_values=");
        url.push_str(&percent_encode(&acr_values.join(" ")));
    }
    if let Some(max_age) = max_age {
        url.push_str(&format!("&max_age={max_age}"));
    }
    url
}

/// Percent-encodes every byte outside the RFC 3986 §2.3 unreserved set.
pub fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_url_carries_requirement() {
        let url = login_url(
            "/messages?page=2",
            &["phr".to_owned(), "urn:okta:loa:2fa:any".to_owned()],
            Some(0),
        );
        assert_eq!(
            url,
            "/auth/login?return_to=%2Fmessages%3Fpage%3D2\
             &acr_values=phr%20urn%3Aokta%3Aloa%3A2fa%3Aany&max_age=0"
        );
    }

    #[test]
    fn login_url_without_requirement() {
        assert_eq!(login_url("/", &[], None), "/auth/login?return_to=%2F");
    }

    #[test]
    fn percent_encode_non_ascii_and_reserved() {
        assert_eq!(percent_encode("a&b=c é"), "a%26b%3Dc%20%C3%A9");
    }
}
