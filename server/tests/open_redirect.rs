//! `return_to` through the real sign-in: `/auth/login?return_to=…`, a callback that succeeds
//! against the test provider, then the final redirect.
//!
//! A target that is not a path on this origin must end as `/`. The final `Location` is also
//! resolved with the `url` crate, which follows the WHATWG URL Standard as browsers do, and must
//! stay on the app's origin whatever the server kept.

mod support;

use axum::http::StatusCode;
use support::{encode, Harness, PUBLIC_URL};
use url::Url;

/// Signs in with the raw query `return_to={raw}` and returns the final `Location`.
async fn final_location(harness: &Harness, raw: &str) -> String {
    let (_, reply, _) = harness.sign_in(&format!("return_to={raw}")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    reply.location().expect("the callback redirects")
}

/// Panics unless `location`, resolved against the app's origin, stays on that origin.
fn assert_same_origin(location: &str, case: &str) {
    let base = Url::parse(PUBLIC_URL).expect("the public URL parses");
    let resolved = base
        .join(location)
        .unwrap_or_else(|error| panic!("{case}: Location {location:?} does not resolve: {error}"));
    assert_eq!(
        resolved.origin(),
        base.origin(),
        "{case}: Location {location:?} leaves the origin"
    );
}

#[tokio::test]
async fn foreign_targets_end_at_root() {
    let long_foreign = format!("https://evil.example/{}", "a".repeat(4_000));
    let long_local = format!("/{}", "a".repeat(5_000));
    // Each target is percent-encoded once, as a browser sends a form value, so the server receives
    // it exactly as written here.
    let targets: Vec<(&str, String)> = vec![
        ("absolute https URL", "https://evil.example/".to_owned()),
        ("absolute http URL", "http://evil.example".to_owned()),
        (
            "absolute URL with user info",
            "http://127.0.0.1:3000@evil.example/".to_owned(),
        ),
        ("scheme-relative URL", "//evil.example/".to_owned()),
        ("three slashes", "///evil.example/".to_owned()),
        ("slash then backslash", "/\\evil.example".to_owned()),
        ("two backslashes", "\\\\evil.example".to_owned()),
        ("backslash then slash", "\\/evil.example".to_owned()),
        ("slash, tab, slash", "/\t/evil.example".to_owned()),
        ("slash, newline, slash", "/\n/evil.example".to_owned()),
        ("slash, CR LF, slash", "/\r\n/evil.example".to_owned()),
        ("leading space", " //evil.example".to_owned()),
        ("leading tab", "\t//evil.example".to_owned()),
        ("javascript URL", "javascript:alert(1)".to_owned()),
        (
            "javascript URL in capitals",
            "JAVASCRIPT:alert(1)".to_owned(),
        ),
        (
            "javascript URL split by a tab",
            "java\tscript:alert(1)".to_owned(),
        ),
        (
            "data URL",
            "data:text/html,<script>alert(1)</script>".to_owned(),
        ),
        ("scheme without slashes", "https:evil.example".to_owned()),
        ("bare host", "evil.example".to_owned()),
        (
            "fullwidth solidus twice",
            "\u{ff0f}\u{ff0f}evil.example".to_owned(),
        ),
        (
            "fullwidth reverse solidus",
            "\u{ff3c}\u{ff3c}evil.example".to_owned(),
        ),
        (
            "division slash twice",
            "\u{2215}\u{2215}evil.example".to_owned(),
        ),
        ("fragment", "/profile#https://evil.example".to_owned()),
        ("NUL byte", "/\0//evil.example".to_owned()),
        ("very long foreign URL", long_foreign),
        ("very long local path", long_local),
        ("empty", String::new()),
    ];

    let harness = Harness::start().await;
    for (case, target) in &targets {
        let location = final_location(&harness, &encode(target)).await;
        assert_eq!(location, "/", "{case}: {target:?}");
    }

    // Forms that only turn hostile when the query parser decodes them.
    let encoded = [
        ("encoded scheme-relative URL", "%2F%2Fevil.example"),
        ("encoded slash and backslash", "%2F%5Cevil.example"),
        ("slash and encoded backslash", "/%5Cevil.example"),
        ("encoded tab between slashes", "/%09/evil.example"),
        ("encoded absolute URL", "https%3A%2F%2Fevil.example"),
        ("plus as space before slashes", "+//evil.example"),
    ];
    for (case, raw) in encoded {
        let location = final_location(&harness, raw).await;
        assert_eq!(location, "/", "{case}: {raw:?}");
    }
}

#[tokio::test]
async fn kept_paths_stay_on_origin() {
    // Targets that the server may keep as paths. Whatever it keeps, a browser must resolve the
    // redirect to this origin.
    let targets = [
        (
            "double-encoded scheme-relative URL",
            "/%252F%252Fevil.example",
        ),
        ("encoded slashes after a slash", "/%2F%2Fevil.example"),
        ("at sign in the path", "/@evil.example"),
        ("dot segments", "/../../evil.example"),
        ("fullwidth solidus after a slash", "/%EF%BC%8Fevil.example"),
        ("division slash after a slash", "/%E2%88%95evil.example"),
    ];
    let harness = Harness::start().await;
    for (case, raw) in targets {
        let location = final_location(&harness, raw).await;
        assert_same_origin(&location, case);
    }
}

#[tokio::test]
async fn non_ascii_path_is_sent_as_ascii() {
    let harness = Harness::start().await;
    for raw in ["/%EF%BC%8Fevil.example", "/caf%C3%A9"] {
        let location = final_location(&harness, raw).await;
        assert!(location.is_ascii(), "Location {location:?} is not ASCII");
    }
}

#[tokio::test]
async fn local_paths_are_kept() {
    let harness = Harness::start().await;
    for path in ["/profile", "/messages?page=2", "/a/b?x=1&y=%2F"] {
        let location = final_location(&harness, &encode(path)).await;
        assert_eq!(location, path);
    }
}

#[tokio::test]
async fn repeated_return_to_never_redirects_away() {
    // The query has the parameter twice. The server may reject the request or keep one value,
    // but must not send the browser to the foreign one.
    let harness = Harness::start().await;
    let reply = harness
        .get(
            "/auth/login?return_to=%2Fprofile&return_to=%2F%2Fevil.example",
            None,
        )
        .await;
    if reply.status.is_redirection() {
        let login = harness
            .start_login("return_to=%2Fprofile&return_to=%2F%2Fevil.example")
            .await;
        let id_token = support::tokens::id_token(&harness.id_token_claims(&login));
        let reply = harness.finish_with_id_token(&login, &id_token).await;
        let location = reply.location().expect("the callback redirects");
        assert!(location == "/" || location == "/profile", "{location}");
    } else {
        assert!(reply.status.is_client_error(), "{}", reply.status);
    }
}
