//! Request-level defences applied to every route: a same-origin rule for requests that rely
//! on the session cookie (CSRF), a cap on header size, and a rate limit on starting sign-in.

use crate::api::origin::is_safe_cookie_request;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower::util::MapResponseLayer;

/// Largest total size of the request's header names and values, in bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Length of the sign-in rate-limit window.
pub const LOGIN_RATE_WINDOW: Duration = Duration::from_secs(60);

/// Maximum number of client addresses tracked at once. Beyond it, expired windows are
/// dropped first and then the limiter starts over, so memory stays bounded.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// Rejects state-changing requests that may rely on the session cookie unless they come
/// from the app's own origin (see [`is_safe_cookie_request`]).
///
/// Only API calls under `/api/` with a `Bearer` token are exempt, because only those
/// routes authenticate by the token instead of the cookie. `SameSite=Lax` already keeps
/// the cookie off cross-site `POST`s in current browsers; this check also covers same-site
/// attackers and older browsers.
fn check_same_origin(parts: &Parts, public_origin: &str) -> Option<Response> {
    if !is_bearer_api_call(&parts.uri, &parts.headers)
        && !is_safe_cookie_request(parts, public_origin)
    {
        tracing::warn!(http.method = %parts.method, http.path = %parts.uri.path(), "cross-site request rejected; possibly suspicious");
        return Some(error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Cross-site requests are not allowed.",
        ));
    }
    None
}

/// Tells whether a request is a call to `/api/` that authenticates with a `Bearer` token
/// (RFC 6750 §2.1) rather than the session cookie.
///
/// The API's caller extractor reads the `Authorization` header first and never falls back
/// to the cookie when the header is present, so such a request carries no ambient
/// credential for a cross-site page to borrow.
pub fn is_bearer_api_call(uri: &Uri, headers: &HeaderMap) -> bool {
    uri.path().starts_with("/api/")
        && headers.get(header::AUTHORIZATION).is_some_and(|value| {
            let value = value.as_bytes();
            value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer ")
        })
}

/// Adds headers that keep pages out of frames and caches: `X-Frame-Options: DENY` and
/// CSP `frame-ancestors 'none'` (clickjacking), `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: same-origin`, and `Cache-Control: no-store` on every response that
/// sets no caching itself, since pages and API answers carry the user's data.
///
/// A plain function behind `MapResponseLayer`: unlike `middleware::from_fn`, it neither boxes
/// a future nor clones the inner service on each request.
pub fn security_headers() -> MapResponseLayer<fn(Response) -> Response> {
    MapResponseLayer::new(add_security_headers as fn(Response) -> Response)
}

fn add_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Replaces the plain-text or empty bodies that the framework writes for `404`, `405` and
/// `413` with the JSON error shape the API uses, on `/api/` and `/rpc/` routes, so clients
/// never see library text.
pub async fn json_framework_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let machine_route = path.starts_with("/api/") || path.starts_with("/rpc/");
    let response = next.run(request).await;
    if !machine_route {
        return response;
    }
    // server_fn returns 500 with `Args|…` library text for arguments it cannot decode.
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR && !is_json(&response) {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024)
            .await
            .unwrap_or_default();
        if bytes.starts_with(b"Args|") {
            tracing::debug!("server function called with invalid arguments");
            return error_response(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request's arguments are invalid.",
            );
        }
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    json_error_bodies(response)
}

/// Returns the part of [`json_framework_errors`] that needs no request, as a
/// `MapResponseLayer` for a router that serves only `/api/` routes.
pub fn json_api_errors() -> MapResponseLayer<fn(Response) -> Response> {
    MapResponseLayer::new(json_error_bodies as fn(Response) -> Response)
}

fn json_error_bodies(response: Response) -> Response {
    if is_json(&response) {
        return response;
    }
    match response.status() {
        StatusCode::NOT_FOUND => {
            error_response(StatusCode::NOT_FOUND, "not_found", "No such API route.")
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut replaced = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This method is not allowed here.",
            );
            if let Some(allow) = allow {
                replaced.headers_mut().insert(header::ALLOW, allow);
            }
            replaced
        }
        StatusCode::PAYLOAD_TOO_LARGE => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large.",
        ),
        _ => response,
    }
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"))
}

/// Returns `431` when the request's headers add up to more than [`MAX_HEADER_BYTES`].
///
/// On `/api/` routes `Authorization` is left out of the sum: the resource server rejects an
/// oversized token itself, with the `401 invalid_token` challenge RFC 6750 §3.1 requires,
/// after a length check that costs nothing.
fn check_header_size(parts: &Parts) -> Option<Response> {
    let total = header_bytes(&parts.uri, &parts.headers);
    if total > MAX_HEADER_BYTES {
        tracing::info!(http.header_bytes = total, "request headers too large");
        return Some(error_response(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request_header_fields_too_large",
            "The request headers are too large.",
        ));
    }
    None
}

/// Adds up the lengths of the request's header names and values, leaving out
/// `Authorization` on `/api/` routes (see [`check_header_size`]).
pub fn header_bytes(uri: &Uri, headers: &HeaderMap) -> usize {
    let api_route = uri.path().starts_with("/api/");
    headers
        .iter()
        .filter(|(name, _)| !(api_route && *name == header::AUTHORIZATION))
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

/// A fixed-window counter of sign-in starts per client address.
pub struct LoginRateLimiter {
    /// Requests allowed per address in one [`LOGIN_RATE_WINDOW`]; 0 allows every request.
    limit: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginRateLimiter {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request from `client`; returns the wait before the next allowed one when
    /// the client is over the limit.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= MAX_TRACKED_CLIENTS && !windows.contains_key(&client) {
            windows.retain(|_, (started, _)| now.duration_since(*started) < LOGIN_RATE_WINDOW);
            if windows.len() >= MAX_TRACKED_CLIENTS {
                windows.clear();
            }
        }
        let (started, count) = windows.entry(client).or_insert((now, 0));
        if now.duration_since(*started) >= LOGIN_RATE_WINDOW {
            *started = now;
            *count = 0;
        }
        if *count >= self.limit {
            return Err(LOGIN_RATE_WINDOW.saturating_sub(now.duration_since(*started)));
        }
        *count += 1;
        Ok(())
    }
}

/// Applies the [`LoginRateLimiter`] to `/auth/login`, keyed by the peer address.
///
/// NOTE: behind a reverse proxy every request comes from the proxy's address, so the limit
/// applies to all users together. Rate-limit per client at the proxy instead.
fn check_login_rate(parts: &Parts, limiter: &LoginRateLimiter) -> Option<Response> {
    if parts.uri.path() != "/auth/login" {
        return None;
    }
    let client = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(address)| {
            address.ip()
        });
    if let Err(retry_after) = limiter.check(client, Instant::now()) {
        tracing::warn!(client.address = %client, "sign-in rate limit reached");
        let mut response = crate::pages::message_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts",
            "Too many sign-in attempts from your network. Wait a minute and try again.",
            "auth-error",
        );
        let seconds = retry_after.as_secs().max(1).to_string();
        if let Ok(value) = HeaderValue::from_str(&seconds) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Some(response);
    }
    None
}

/// The settings of [`guard_request`].
#[derive(Clone)]
pub struct RequestGuards {
    /// The app's own origin, such as `https://app.example.com`.
    pub public_origin: Arc<str>,
    pub login_limiter: Arc<LoginRateLimiter>,
}

/// Runs the request checks in order, and the first that fails sends its rejection: the
/// header size cap, the sign-in rate limit, then the same-origin rule.
///
/// One middleware for the three: each `from_fn` layer clones the whole service below it on
/// every request, which cost more than the checks themselves.
pub async fn guard_request(
    State(guards): State<RequestGuards>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let rejection = check_header_size(&parts)
        .or_else(|| check_login_rate(&parts, &guards.login_limiter))
        .or_else(|| check_same_origin(&parts, &guards.public_origin));
    match rejection {
        None => next.run(Request::from_parts(parts, body)).await,
        Some(rejection) => rejection,
    }
}

fn error_response(status: StatusCode, error: &'static str, description: &'static str) -> Response {
    let mut response = (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_allows_up_to_limit_per_window() {
        let limiter = LoginRateLimiter::new(30);
        let client = IpAddr::from([192, 0, 2, 1]);
        let start = Instant::now();
        for _ in 0..30 {
            assert_eq!(limiter.check(client, start), Ok(()));
        }
        assert!(limiter.check(client, start).is_err());
        // Another client has its own window.
        assert_eq!(limiter.check(IpAddr::from([192, 0, 2, 2]), start), Ok(()));
        // A new window starts after the old one ends.
        assert_eq!(limiter.check(client, start + LOGIN_RATE_WINDOW), Ok(()));
    }

    #[test]
    fn zero_limit_allows_everything() {
        let limiter = LoginRateLimiter::new(0);
        let client = IpAddr::from([192, 0, 2, 1]);
        for _ in 0..100 {
            assert_eq!(limiter.check(client, Instant::now()), Ok(()));
        }
    }

    #[test]
    fn limiter_memory_is_bounded() {
        let limiter = LoginRateLimiter::new(30);
        let start = Instant::now();
        for index in 0..(MAX_TRACKED_CLIENTS as u32 + 10) {
            let address = IpAddr::from(index.to_be_bytes());
            assert_eq!(limiter.check(address, start), Ok(()));
        }
        let tracked = limiter
            .windows
            .lock()
            .map(|windows| windows.len())
            .unwrap_or(usize::MAX);
        assert!(tracked <= MAX_TRACKED_CLIENTS, "{tracked}");
    }
}
