//! Router tests for the request-level defences: CSRF on cookie requests, header size, the
//! sign-in rate limit, and the health endpoints.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use support::provider::TestProvider;
use support::Harness;

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
