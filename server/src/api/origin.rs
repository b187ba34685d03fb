//! Same-origin check for calls authenticated by the session cookie (CSRF defence).

use axum::http::{header, request::Parts, Method};

/// Returns whether a cookie-authenticated request may proceed.
///
/// Safe methods (`GET`, `HEAD`, `OPTIONS`) always may, because they change nothing. For
/// the rest, in order:
/// 1. `Sec-Fetch-Site` (Fetch Metadata), sent by current browsers, must be `same-origin`.
/// 2. Without it, `Origin` must equal the app's origin.
/// 3. With neither header the request is rejected: browsers send at least one of them on
///    cross-site `POST`s, so their absence means a non-browser client, which should use a
///    bearer token.
pub fn is_safe_cookie_request(parts: &Parts, public_origin: &str) -> bool {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = parts.headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    match parts.headers.get(header::ORIGIN) {
        Some(origin) => origin.as_bytes() == public_origin.as_bytes(),
        None => false,
    }
}
