//! Router tests for the request-level defences: CSRF on cookie requests, header size, the
//! sign-in rate limit, the health endpoints, and the same defences on the shorter path that
//! bearer-token API calls take.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use support::provider::TestProvider;
use support::{tokens, Harness, Reply};

#[tokio::test]
async fn cross_site_posts_with_cookie_are_refused() {
    let harness = Harness::start().await;
    let (_, _, cookie) = harness.sign_in("return_to=/").await;
    let targets = [
        "/auth/logout",
        "/auth/refresh",
        "/rpc/discard_pending_transfer",
    ];
    let hostile: [(&str, Option<(&str, &str)>); 3] = [
        (
            "cross-site fetch metadata",
            Some(("sec-fetch-site", "cross-site")),
        ),
        ("foreign origin", Some(("origin", "https://evil.example"))),
        ("no origin information", None),
    ];
    for target in targets {
        for (case, extra) in hostile {
            let mut request = Request::post(target).header(header::COOKIE, &cookie);
            if let Some((name, value)) = extra {
                request = request.header(name, value);
            }
            let reply = harness
                .send(request.body(Body::empty()).expect("request builds"))
                .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{target}: {case}");
        }
    }
    // The session survived every attempt.
    harness.assert_signed_in(&cookie).await;
}

#[tokio::test]
async fn same_origin_logout_is_allowed() {
    let harness = Harness::start().await;
    let (_, _, cookie) = harness.sign_in("return_to=/").await;
    let reply = harness.post_same_origin("/auth/logout", &cookie).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    harness.assert_signed_out(&cookie).await;
}

#[tokio::test]
async fn safe_methods_pass_without_origin() {
    let harness = Harness::start().await;
    let reply = harness.get("/healthz", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "ok");
}

#[tokio::test]
async fn oversized_headers_get_431() {
    let harness = Harness::start().await;
    let request = Request::get("/")
        .header("x-padding", "a".repeat(20 * 1024))
        .body(Body::empty())
        .expect("request builds");
    let reply = harness.send(request).await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[tokio::test]
async fn login_rate_limit_answers_429() {
    let provider = TestProvider::start().await;
    let harness =
        Harness::with_variables(provider, "info", &[("STEPUP_LOGIN_RATE_LIMIT", "3")]).await;
    for attempt in 0..3 {
        let reply = harness.get("/auth/login?return_to=/", None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "attempt {attempt}");
    }
    let reply = harness.get("/auth/login?return_to=/", None).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after = reply
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok());
    assert!(
        retry_after
            .is_some_and(|seconds| seconds.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s))),
        "{retry_after:?}"
    );
    assert!(reply.has_test_id("auth-error"));
    // Other routes are not limited.
    assert_eq!(harness.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn readyz_reports_provider_and_store() {
    let harness = Harness::start().await;
    let reply = harness.get("/readyz", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains(r#""provider":true"#), "{}", reply.body);
    assert!(
        reply.body.contains(r#""session_store":true"#),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn api_framework_errors_are_json() {
    let harness = Harness::start().await;
    let (_, _, cookie) = harness.sign_in("return_to=/").await;

    let not_found = harness.get("/api/nope", None).await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    assert!(
        not_found.body.contains(r#""error":"not_found""#),
        "{}",
        not_found.body
    );

    let put = Request::put("/api/transfers")
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .expect("request builds");
    let reply = harness.send(put).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        reply.body.contains(r#""error":"method_not_allowed""#),
        "{}",
        reply.body
    );

    let oversized = Request::post("/api/transfers")
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "big")
        .body(Body::from("x".repeat(70 * 1024)))
        .expect("request builds");
    let reply = harness.send(oversized).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        reply.body.contains(r#""error":"payload_too_large""#),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn server_function_bad_arguments_are_400() {
    let harness = Harness::start().await;
    let (_, _, cookie) = harness.sign_in("return_to=/").await;
    for body in [
        "route=/profile&return_to=/",
        "return_to=/",
        "route=Profile&route=Messages&return_to=/",
    ] {
        let request = Request::post("/rpc/check_route_access")
            .header(header::COOKIE, &cookie)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request builds");
        let reply = harness.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        assert!(!reply.body.contains("Args|"), "{body}: {}", reply.body);
    }
}

#[tokio::test]
async fn transfer_body_must_be_json() {
    let harness = Harness::start().await;
    let (_, _, cookie) = harness.sign_in("return_to=/").await;
    let request = Request::post("/api/transfers")
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "text/plain")
        .header("idempotency-key", "plain")
        .body(Body::from(r#"{"to":"acct-9","amount":5}"#))
        .expect("request builds");
    let reply = harness.send(request).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn authorization_counts_outside_api() {
    let harness = Harness::start().await;
    let request = Request::get("/healthz")
        .header(
            header::AUTHORIZATION,
            format!("Basic {}", "a".repeat(20 * 1024)),
        )
        .body(Body::empty())
        .expect("request builds");
    let reply = harness.send(request).await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[tokio::test]
async fn callback_from_another_issuer_is_refused() {
    let harness = Harness::start().await;
    let login = harness.start_login("return_to=/").await;
    let query = format!(
        "code=test-code&state={}&iss={}",
        support::encode(&login.state),
        support::encode("https://evil.example")
    );
    let reply = harness.callback(&query, Some(&login.cookie)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.has_test_id("auth-error"));
    harness.assert_signed_out(&login.cookie).await;
}

/// Sends `request` with `authorization` added.
async fn send_with(
    harness: &Harness,
    request: axum::http::request::Builder,
    body: Body,
    authorization: &str,
) -> Reply {
    let request = request
        .header(header::AUTHORIZATION, authorization)
        .body(body)
        .expect("request builds");
    harness.send(request).await
}

fn assert_security_headers(reply: &Reply, case: &str) {
    for name in [
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "content-security-policy",
    ] {
        assert!(reply.headers.contains_key(name), "{case}: no {name}");
    }
    assert_eq!(
        reply
            .headers
            .get(header::CACHE_CONTROL)
            .map(|value| value.as_bytes()),
        Some(&b"no-store"[..]),
        "{case}"
    );
}

/// Bearer calls to `/api/*` skip the session and same-origin layers (`server::AppService`);
/// the body limit, the JSON error bodies, compression, the security headers and the
/// header cap apply to them as to every other request.
#[tokio::test]
async fn bearer_api_calls_keep_the_other_defences() {
    let harness = Harness::start().await;
    let bearer = format!("Bearer {}", tokens::access_token(&harness.provider.issuer));

    let ok = harness
        .get_with_authorization("/api/messages", &bearer)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_security_headers(&ok, "200");
    assert!(ok.session_cookie().is_none(), "a bearer call got a session");

    let not_found = harness.get_with_authorization("/api/nope", &bearer).await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    assert!(
        not_found.body.contains(r#""error":"not_found""#),
        "{}",
        not_found.body
    );
    assert_security_headers(&not_found, "404");

    let put = send_with(
        &harness,
        Request::put("/api/transfers"),
        Body::empty(),
        &bearer,
    )
    .await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        put.body.contains(r#""error":"method_not_allowed""#),
        "{}",
        put.body
    );
    assert!(put.headers.contains_key(header::ALLOW), "{:?}", put.headers);

    let oversized = send_with(
        &harness,
        Request::post("/api/transfers")
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", "big"),
        Body::from("x".repeat(70 * 1024)),
        &bearer,
    )
    .await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        oversized.body.contains(r#""error":"payload_too_large""#),
        "{}",
        oversized.body
    );

    let big_headers = send_with(
        &harness,
        Request::get("/api/messages").header("x-padding", "a".repeat(17 * 1024)),
        Body::empty(),
        &bearer,
    )
    .await;
    assert_eq!(
        big_headers.status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );

    let compressed = send_with(
        &harness,
        Request::get("/api/messages").header(header::ACCEPT_ENCODING, "gzip"),
        Body::empty(),
        &bearer,
    )
    .await;
    assert_eq!(compressed.status, StatusCode::OK);
    assert_eq!(
        compressed
            .headers
            .get(header::CONTENT_ENCODING)
            .map(|value| value.as_bytes()),
        Some(&b"gzip"[..])
    );
}

/// With an `Authorization` header the session cookie plays no part, so a good session
/// does not rescue a bad token. A cross-site call with a good token is judged on the
/// token alone, because a browser never adds that header to a cross-site request itself.
#[tokio::test]
async fn bearer_api_calls_ignore_the_session() {
    let harness = Harness::start().await;
    let (_, _, cookie) = harness.sign_in("return_to=/").await;
    let good = format!("Bearer {}", tokens::access_token(&harness.provider.issuer));

    for authorization in ["Bearer not-a-token", "bearer not-a-token"] {
        let reply = send_with(
            &harness,
            Request::get("/api/messages").header(header::COOKIE, &cookie),
            Body::empty(),
            authorization,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{authorization}");
        assert!(
            reply
                .www_authenticate()
                .is_some_and(|value| value.contains("invalid_token")),
            "{authorization}: {:?}",
            reply.www_authenticate()
        );
    }

    let cross_site = send_with(
        &harness,
        Request::post("/api/transfers")
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", "bearer-1"),
        Body::from(r#"{"to":"acct-9","amount":5}"#),
        &good,
    )
    .await;
    assert_eq!(
        cross_site.status,
        StatusCode::CREATED,
        "{}",
        cross_site.body
    );
    assert!(cross_site.session_cookie().is_none());

    // Another scheme takes the full path, where the cookie rule applies.
    let basic = send_with(
        &harness,
        Request::post("/api/transfers")
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, "https://evil.example")
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", "basic-1"),
        Body::from(r#"{"to":"acct-9","amount":5}"#),
        "Basic dXNlcjpwYXNz",
    )
    .await;
    assert_eq!(basic.status, StatusCode::FORBIDDEN, "{}", basic.body);
    harness.assert_signed_in(&cookie).await;
}
