//! The session across its life: the id changes at sign-in and at every step-up, and sign-out
//! deletes the session on the server and ends the provider's session.
//!
//! Each test drives the real router against the test provider. An old cookie must be worthless
//! in three ways: the store no longer contains its id, the API returns the bare `Bearer`
//! challenge of a request without credentials, and a guarded page redirects it to sign-in.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;
use server::session::{SESSION_COOKIE_NAME, SESSION_IDLE_TIMEOUT};
use support::provider::TestProvider;
use support::tokens::{self, CLIENT_ID, TWO_FACTOR};
use support::{Harness, Login, Reply, PUBLIC_URL};
use tower_sessions::session::Id;
use tower_sessions::SessionStore;
use url::Url;

/// A sign-in with one factor, returning to the messages page.
const SIGN_IN: &str = "return_to=%2Fmessages";
/// A step-up to two factors, returning to the profile page.
const STEP_UP: &str = "return_to=%2Fprofile&acr_values=urn%3Aokta%3Aloa%3A2fa%3Aany";
/// A step-up to an authentication made now, returning to the security page.
const REAUTHENTICATE: &str = "return_to=%2Fsecurity&max_age=0";

/// A completed sign-in: the browser's new cookie and the ID token the provider returned.
struct SignedIn {
    cookie: String,
    id_token: String,
}

/// Starts a sign-in with `query` in the browser with `cookie` (a new browser when `None`),
/// completes it with an ID token whose `acr` is `acr`, and returns the new cookie and token.
async fn sign_in(harness: &Harness, query: &str, cookie: Option<&str>, acr: &str) -> SignedIn {
    let login = harness.start_login_in(query, cookie).await;
    let mut claims = harness.id_token_claims(&login);
    claims["acr"] = json!(acr);
    let id_token = tokens::id_token(&claims);
    let reply = harness.finish_with_id_token(&login, &id_token).await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "the sign-in with {query:?} failed: {}",
        reply.body
    );
    let cookie = reply
        .session_cookie()
        .expect("a completed sign-in sets a session cookie");
    SignedIn { cookie, id_token }
}

fn session_id(cookie: &str) -> Id {
    let (_, value) = cookie.split_once('=').expect("a cookie is name=value");
    value.parse().expect("the cookie carries a session id")
}

/// Panics unless the store still contains the session of `cookie`.
async fn assert_stored(harness: &Harness, cookie: &str) {
    let record = harness
        .store
        .load(&session_id(cookie))
        .await
        .expect("the memory store answers");
    assert!(record.is_some(), "the store lost a live session");
}

/// Panics unless the store no longer contains the session of `cookie`.
async fn assert_deleted(harness: &Harness, cookie: &str) {
    let record = harness
        .store
        .load(&session_id(cookie))
        .await
        .expect("the memory store answers");
    assert!(record.is_none(), "the store still contains an old session");
}

/// Panics unless `cookie` is worthless: deleted on the server, unknown to the API (`401` with
/// the bare `Bearer` challenge) and sent to sign-in by a guarded page.
async fn assert_worthless(harness: &Harness, cookie: &str) {
    assert_deleted(harness, cookie).await;
    harness.assert_signed_out(cookie).await;

    let page = harness.get("/profile", Some(cookie)).await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let location = page.location().expect("the guard redirects");
    assert!(
        location.starts_with("/auth/login?"),
        "the guard sent an old cookie to {location}"
    );
}

/// Completes `login` with a one-factor ID token and returns the new cookie.
async fn sign_in_with_login(harness: &Harness, login: &Login) -> String {
    let mut claims = harness.id_token_claims(login);
    claims["acr"] = json!("urn:okta:loa:1fa:any");
    let reply = harness
        .finish_with_id_token(login, &tokens::id_token(&claims))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply.session_cookie().expect("the sign-in sets a cookie")
}

/// Returns the whole `Set-Cookie` header of the session cookie, attributes included.
fn session_set_cookie(reply: &Reply) -> Option<String> {
    let prefix = format!("{SESSION_COOKIE_NAME}=");
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&prefix))
        .map(str::to_owned)
}

/// Returns the attributes of a `Set-Cookie` value, trimmed, without the `name=value` pair.
fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|attribute| attribute.trim().to_owned())
        .collect()
}

/// Returns every value of query parameter `name` in `url`.
fn query_values(url: &Url, name: &str) -> Vec<String> {
    url.query_pairs()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// Sends `POST /auth/logout` with `cookie` and the given extra headers only.
async fn post_logout(harness: &Harness, cookie: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::post("/auth/logout").header(header::COOKIE, cookie);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    harness
        .send(request.body(Body::empty()).expect("the request builds"))
        .await
}

// ---------------------------------------------------------------------------------------------
// Session id cycling

#[tokio::test]
async fn sign_in_cycles_session_id() {
    let harness = Harness::start().await;
    let login = harness.start_login(SIGN_IN).await;
    assert_stored(&harness, &login.cookie).await;

    let signed_in = sign_in_with_login(&harness, &login).await;
    assert_ne!(signed_in, login.cookie, "the session id survived sign-in");
    assert_stored(&harness, &signed_in).await;
    harness.assert_signed_in(&signed_in).await;
    assert_worthless(&harness, &login.cookie).await;
}

#[tokio::test]
async fn every_step_up_cycles_session_id() {
    let harness = Harness::start().await;
    let first = sign_in(&harness, SIGN_IN, None, "urn:okta:loa:1fa:any").await;
    let page = harness.get("/profile", Some(&first.cookie)).await;
    assert_eq!(
        page.status,
        StatusCode::FOUND,
        "one factor must not open /profile"
    );

    // Two step-ups in a row, each from the session the one before left.
    let second = sign_in(&harness, STEP_UP, Some(&first.cookie), TWO_FACTOR).await;
    assert_ne!(
        second.cookie, first.cookie,
        "the step-up kept the session id"
    );
    assert_worthless(&harness, &first.cookie).await;
    let page = harness.get("/profile", Some(&second.cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);

    let third = sign_in(&harness, REAUTHENTICATE, Some(&second.cookie), TWO_FACTOR).await;
    assert_ne!(
        third.cookie, second.cookie,
        "the step-up kept the session id"
    );
    assert_ne!(third.cookie, first.cookie);
    assert_worthless(&harness, &second.cookie).await;

    // Only the latest cookie works, and it reaches both guarded pages.
    harness.assert_signed_in(&third.cookie).await;
    for path in ["/profile", "/security"] {
        let page = harness.get(path, Some(&third.cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    }
}

#[tokio::test]
async fn failed_step_up_keeps_session() {
    // A step-up that comes back short is rejected before the id would change, so the user keeps
    // the session and level they had, and the old cookie stays the only one.
    let harness = Harness::start().await;
    let first = sign_in(&harness, SIGN_IN, None, "urn:okta:loa:1fa:any").await;

    let login = harness.start_login_in(STEP_UP, Some(&first.cookie)).await;
    let mut claims = harness.id_token_claims(&login);
    claims["acr"] = json!("urn:okta:loa:2fa:any:ifpossible");
    let reply = harness
        .finish_with_id_token(&login, &tokens::id_token(&claims))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    if let Some(cookie) = reply.session_cookie() {
        assert_eq!(
            cookie, first.cookie,
            "a failed step-up changed the session id"
        );
    }
    assert_stored(&harness, &first.cookie).await;
    harness.assert_signed_in(&first.cookie).await;
    let page = harness.get("/profile", Some(&first.cookie)).await;
    assert_eq!(
        page.status,
        StatusCode::FOUND,
        "the failed step-up opened /profile"
    );
}

// ---------------------------------------------------------------------------------------------
// Sign-out

#[tokio::test]
async fn sign_out_deletes_session_on_server() {
    let harness = Harness::start().await;
    let signed_in = sign_in(&harness, STEP_UP, None, TWO_FACTOR).await;
    assert_stored(&harness, &signed_in.cookie).await;

    let reply = harness
        .post_same_origin("/auth/logout", &signed_in.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    // The response removes the cookie from the browser, but the server does not rely on that.
    let removal = session_set_cookie(&reply).expect("sign-out removes the session cookie");
    assert!(
        cookie_attributes(&removal).contains(&"Max-Age=0".to_owned()),
        "{removal}"
    );

    // Replaying the old cookie finds nothing.
    assert_worthless(&harness, &signed_in.cookie).await;
    let token_requests = harness.provider.token_requests().len();
    let reply = harness
        .post_same_origin("/auth/refresh", &signed_in.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(
        harness.provider.token_requests().len(),
        token_requests,
        "a signed-out session reached the token endpoint"
    );
}

#[tokio::test]
async fn sign_out_cancels_sign_in_in_flight() {
    // A step-up started before sign-out cannot complete afterwards: its `state`, nonce and PKCE
    // verifier were deleted with the session.
    let harness = Harness::start().await;
    let signed_in = sign_in(&harness, SIGN_IN, None, "urn:okta:loa:1fa:any").await;
    let step_up = harness
        .start_login_in(STEP_UP, Some(&signed_in.cookie))
        .await;
    let reply = harness
        .post_same_origin("/auth/logout", &signed_in.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let token_requests = harness.provider.token_requests().len();
    let claims = harness.id_token_claims(&step_up);
    let reply = harness
        .finish_with_id_token(&step_up, &tokens::id_token(&claims))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.has_test_id("auth-error"), "{}", reply.body);
    assert_eq!(
        harness.provider.token_requests().len(),
        token_requests,
        "the cancelled sign-in reached the token endpoint"
    );
    let cookie = reply.session_cookie().unwrap_or(step_up.cookie);
    harness.assert_signed_out(&cookie).await;
}

#[tokio::test]
async fn sign_out_ends_provider_session() {
    // RP-Initiated Logout 1.0 §2: the redirect carries the session's latest ID token as
    // `id_token_hint` and the registered `post_logout_redirect_uri`.
    let harness = Harness::start().await;
    let first = sign_in(&harness, SIGN_IN, None, "urn:okta:loa:1fa:any").await;
    let stepped_up = sign_in(&harness, STEP_UP, Some(&first.cookie), TWO_FACTOR).await;

    let reply = harness
        .post_same_origin("/auth/logout", &stepped_up.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.location().expect("sign-out redirects");
    let url = Url::parse(&location).expect("the Location is an absolute URL");
    let mut endpoint = url.clone();
    endpoint.set_query(None);
    assert_eq!(
        endpoint.as_str(),
        format!("{}/logout", harness.provider.issuer),
        "sign-out did not go to the end_session_endpoint"
    );
    assert_eq!(
        query_values(&url, "id_token_hint"),
        [stepped_up.id_token.as_str()],
        "the hint is not the latest ID token"
    );
    assert_eq!(
        query_values(&url, "post_logout_redirect_uri"),
        [format!("{PUBLIC_URL}/")]
    );
    assert_eq!(query_values(&url, "client_id"), [CLIENT_ID]);
}

#[tokio::test]
async fn sign_out_without_user_sends_no_hint() {
    // A browser that started a sign-in but never finished it has a session without tokens.
    let harness = Harness::start().await;
    let login = harness.start_login(SIGN_IN).await;

    let reply = harness
        .post_same_origin("/auth/logout", &login.cookie)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.location().expect("sign-out redirects");
    let url = Url::parse(&location).expect("the Location is an absolute URL");
    assert!(query_values(&url, "id_token_hint").is_empty(), "{location}");
    assert_eq!(
        query_values(&url, "post_logout_redirect_uri"),
        [format!("{PUBLIC_URL}/")]
    );
    assert_deleted(&harness, &login.cookie).await;
}

#[tokio::test]
async fn cross_site_sign_out_is_rejected() {
    let harness = Harness::start().await;
    let signed_in = sign_in(&harness, STEP_UP, None, TWO_FACTOR).await;

    let cross_site: [(&str, &[(&str, &str)]); 4] = [
        (
            "Fetch Metadata cross-site",
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example"),
            ],
        ),
        (
            "Fetch Metadata same-site",
            &[("sec-fetch-site", "same-site")],
        ),
        ("another Origin", &[("origin", "https://evil.example")]),
        ("neither Fetch Metadata nor Origin", &[]),
    ];
    for (case, headers) in cross_site {
        let reply = post_logout(&harness, &signed_in.cookie, headers).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{case}: {}",
            reply.body
        );
        assert_eq!(reply.location(), None, "{case}");
        assert_stored(&harness, &signed_in.cookie).await;
        harness.assert_signed_in(&signed_in.cookie).await;
    }

    // A browser without Fetch Metadata that sends the app's own Origin may sign out.
    let reply = post_logout(&harness, &signed_in.cookie, &[("origin", PUBLIC_URL)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_deleted(&harness, &signed_in.cookie).await;
}

#[tokio::test]
async fn cross_site_sign_out_with_authorization_is_rejected() {
    // A browser attaches cached HTTP authentication (`Basic`) by itself, so a same-site page
    // can send it with the session cookie to an app deployed behind such a gate.
    let harness = Harness::start().await;
    let signed_in = sign_in(&harness, STEP_UP, None, TWO_FACTOR).await;

    for authorization in ["Basic dXNlcjpwYXNzd29yZA==", "Bearer not.a.jwt"] {
        let reply = post_logout(
            &harness,
            &signed_in.cookie,
            &[
                ("sec-fetch-site", "same-site"),
                ("authorization", authorization),
            ],
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{authorization}: {}",
            reply.body
        );
        assert_stored(&harness, &signed_in.cookie).await;
    }
}

#[tokio::test]
async fn sign_out_by_get_is_not_allowed() {
    // A link or an image on another site cannot sign the user out.
    let harness = Harness::start().await;
    let signed_in = sign_in(&harness, STEP_UP, None, TWO_FACTOR).await;

    let reply = harness.get("/auth/logout", Some(&signed_in.cookie)).await;
    assert_eq!(
        reply.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        reply.body
    );
    assert_stored(&harness, &signed_in.cookie).await;
    harness.assert_signed_in(&signed_in.cookie).await;
}

// ---------------------------------------------------------------------------------------------
// Cookie attributes

#[tokio::test]
async fn session_cookie_attributes() {
    let harness = Harness::start().await;
    let login = harness.start_login(SIGN_IN).await;
    let mut claims = harness.id_token_claims(&login);
    claims["acr"] = json!(TWO_FACTOR);
    let reply = harness
        .finish_with_id_token(&login, &tokens::id_token(&claims))
        .await;
    let set_cookie = session_set_cookie(&reply).expect("the sign-in sets the session cookie");
    let attributes = cookie_attributes(&set_cookie);

    for expected in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            attributes.iter().any(|attribute| attribute == expected),
            "{expected} missing: {attributes:?}"
        );
    }
    let max_age = format!("Max-Age={}", SESSION_IDLE_TIMEOUT.whole_seconds());
    assert!(attributes.contains(&max_age), "{attributes:?}");
    // Host-only: no Domain, so sibling hosts never receive it.
    assert!(
        !attributes
            .iter()
            .any(|attribute| attribute.to_ascii_lowercase().starts_with("domain=")),
        "{attributes:?}"
    );
    // The harness's public URL is plain http, so by default the cookie is not `Secure`.
    assert!(!attributes.contains(&"Secure".to_owned()), "{attributes:?}");
}

#[tokio::test]
async fn secure_cookie_setting_marks_cookie() {
    let harness = Harness::with_variables(
        TestProvider::start().await,
        "info",
        &[("STEPUP_COOKIE_SECURE", "true")],
    )
    .await;
    let login = harness.start_login(SIGN_IN).await;
    let reply = harness
        .finish_with_id_token(&login, &tokens::id_token(&harness.id_token_claims(&login)))
        .await;
    let set_cookie = session_set_cookie(&reply).expect("the sign-in sets the session cookie");
    let attributes = cookie_attributes(&set_cookie);
    assert!(attributes.contains(&"Secure".to_owned()), "{attributes:?}");
    assert!(
        attributes.contains(&"HttpOnly".to_owned()),
        "{attributes:?}"
    );
}

#[tokio::test]
async fn guard_redirect_view_carries_refresh() {
    // The redirect view also reaches the browser as the body of the `302`. Its `refresh`
    // must name the same sign-in URL as the `Location`, for a response that keeps its `200`.
    let harness = Harness::start().await;
    for page in ["/profile", "/messages", "/transfers", "/security"] {
        let reply = harness.get(page, None).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{page}: {}", reply.body);
        let location = reply.location().expect("the guard redirects");
        assert!(location.starts_with("/auth/login?"), "{page}: {location}");
        let refresh = format!(r#"content="0;url={}""#, location.replace('&', "&amp;"));
        assert!(reply.body.contains(&refresh), "{page}: {}", reply.body);
    }
}

/// Many guarded renders at once, as a browser suite under load produces: each one must
/// still respond with `302`, never the redirect view with `200`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_redirects_under_concurrency() {
    let harness = std::sync::Arc::new(Harness::start().await);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..400 {
        let harness = std::sync::Arc::clone(&harness);
        let page = ["/profile", "/messages", "/transfers", "/security"][index % 4];
        tasks.spawn(async move { (page, harness.get(page, None).await) });
    }
    let mut wrong = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (page, reply) = joined.expect("the request task ends");
        if reply.status != StatusCode::FOUND || reply.location().is_none() {
            wrong.push(format!("{page}: {}", reply.status));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of 400 not redirected: {wrong:?}",
        wrong.len()
    );
}
