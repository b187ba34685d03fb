//! Secrets stay out of the logs at every level, through every relying-party flow.
//!
//! Each flow test captures the events of every target at `TRACE`, records of the `log` crate
//! included. It runs sign-in, a step-up sign-in, a page, a token refresh, API calls with the
//! session cookie and with bearer tokens, a rejected token and sign-out through the real router
//! against the test provider. Then it searches the captured text, and every response, for the
//! secrets the flows handled. Codes, refresh tokens and client secrets are 256-bit random values made for the test,
//! and every JWT carries a random `jti` or `nonce`, so a match is never a coincidence.
//!
//! The `Debug` tests check the types that hold secrets, since a `?value` field in a log event
//! prints whatever `Debug` prints.

mod support;

use app::session::{AuthState, PendingAction, SecretString, TokenSet, AUTH_STATE_VERSION};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use server::api::{AccessClaims, Caller};
use std::sync::Arc;
use support::logs::{forward_log_records, LogCapture};
use support::provider::TestProvider;
use support::tokens::{self, Key, CLIENT_ID, TEST_KID, TWO_FACTOR};
use support::{config_with, encode, Harness, Login, Reply, PUBLIC_URL};
use tower_sessions::session::Id;
use tower_sessions::{Session, SessionStore};
use url::Url;

/// Step-up query: two factors and an authentication made now, returning to `/profile`.
const STEP_UP_LOGIN: &str =
    "return_to=%2Fprofile&acr_values=urn%3Aokta%3Aloa%3A2fa%3Aany&max_age=0";

/// A secret a run handled, with a name for failure messages.
struct Secret {
    kind: String,
    value: String,
    /// Whether the value must stay on the server. `state`, `nonce`, the authorization code and
    /// the session cookie travel through the browser by design. Tokens, the PKCE verifier and
    /// the client secret must not.
    server_only: bool,
}

/// Every secret a run handled.
#[derive(Default)]
struct Secrets {
    entries: Vec<Secret>,
}

impl Secrets {
    /// Adds a secret that the browser receives by design.
    fn add(&mut self, kind: &str, value: &str) {
        self.push(kind, value, false);
    }

    /// Adds a secret that must never leave the server.
    fn add_server_only(&mut self, kind: &str, value: &str) {
        self.push(kind, value, true);
    }

    fn push(&mut self, kind: &str, value: &str, server_only: bool) {
        assert!(
            value.len() >= 16,
            "the {kind} is too short to search for without false matches"
        );
        self.entries.push(Secret {
            kind: kind.to_owned(),
            value: value.to_owned(),
            server_only,
        });
    }

    /// Adds a compact JWS and, on its own, its signature: a log that cut the token at a dot
    /// would still leak a replayable token.
    fn add_jwt(&mut self, kind: &str, token: &str) {
        self.add_server_only(kind, token);
        let (_, signature) = token.rsplit_once('.').expect("a JWS has dots");
        self.add_server_only(&format!("{kind} signature"), signature);
    }

    /// Adds the value of a `stepup_session=…` cookie and the session id in the decimal form
    /// that `tower_sessions::session::Id`'s `Debug` prints.
    fn add_session_cookie(&mut self, kind: &str, cookie: &str) {
        let value = cookie_value(cookie);
        self.add(kind, value);
        let id: Id = value.parse().expect("the cookie carries a session id");
        self.add(&format!("{kind} as a number"), &id.0.to_string());
    }

    /// Returns one entry per secret that `select` picks and `text` contains: the secret's name
    /// and the start of its line, up to the secret, so that the secret itself is not printed.
    fn find_in(&self, text: &str, select: impl Fn(&Secret) -> bool) -> Vec<String> {
        let mut found = Vec::new();
        for secret in self.entries.iter().filter(|secret| select(secret)) {
            for line in text.lines() {
                if let Some(position) = line.find(secret.value.as_str()) {
                    found.push(format!("{}: {}", secret.kind, &line[..position]));
                }
            }
        }
        found
    }

    /// Panics when the log contains any secret, naming each one found.
    fn assert_absent_from(&self, log: &str) {
        let found = self.find_in(log, |_| true);
        assert!(
            found.is_empty(),
            "the log contains secrets:\n{}",
            found.join("\n")
        );
    }

    fn kinds(&self) -> Vec<&str> {
        self.entries
            .iter()
            .map(|secret| secret.kind.as_str())
            .collect()
    }
}

/// What one run of the flows handled and what the browser received.
struct Run {
    secrets: Secrets,
    /// Every response the browser or API client received, named by its step.
    replies: Vec<(&'static str, Reply)>,
    /// The ID token the session held at sign-out: the one the refresh returned.
    last_id_token: String,
}

/// Returns the status line, headers and body of `reply` as one text, as a browser receives it.
fn browser_view(reply: &Reply) -> String {
    let mut text = format!("{}\n", reply.status);
    for (name, value) in &reply.headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push_str(&reply.body);
    text
}

/// Returns 32 random bytes, base64url-encoded.
fn random_secret() -> String {
    tokens::base64url(&rand::random::<[u8; 32]>())
}

fn cookie_value(cookie: &str) -> &str {
    cookie
        .split_once('=')
        .map(|(_, value)| value)
        .expect("a cookie is name=value")
}

/// Signs an access token that `/api/messages` accepts, unique by its random `jti`.
fn access_token(issuer: &str) -> String {
    let mut claims = tokens::access_token_claims(issuer);
    claims["jti"] = json!(random_secret());
    tokens::sign_rs256(&claims, Key::Test, Some(TEST_KID), "at+jwt")
}

fn token_response(access_token: &str, id_token: &str, refresh_token: &str) -> Value {
    json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 600,
        "scope": "openid profile email offline_access",
        "id_token": id_token,
        "refresh_token": refresh_token,
    })
}

/// Completes `login` with a random code and an ID token of `claims`, as the provider's redirect
/// would, and returns the session cookie of the signed-in browser.
async fn complete_login(
    harness: &Harness,
    login: &Login,
    claims: &Value,
    secrets: &mut Secrets,
    label: &'static str,
) -> (String, Reply) {
    secrets.add(&format!("{label} state"), &login.state);
    secrets.add(&format!("{label} nonce"), &login.nonce);
    secrets.add_session_cookie(&format!("session cookie before the {label}"), &login.cookie);

    let code = random_secret();
    let id_token = tokens::id_token(claims);
    let access_token = access_token(&harness.provider.issuer);
    let refresh_token = random_secret();
    harness
        .provider
        .respond_with(token_response(&access_token, &id_token, &refresh_token));
    secrets.add(&format!("{label} authorization code"), &code);
    secrets.add_jwt(&format!("{label} ID token"), &id_token);
    secrets.add_jwt(&format!("{label} access token"), &access_token);
    secrets.add_server_only(&format!("{label} refresh token"), &refresh_token);

    let query = format!("code={}&state={}", encode(&code), encode(&login.state));
    let reply = harness.callback(&query, Some(&login.cookie)).await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "the {label} failed: {}",
        reply.body
    );
    let sent = harness.provider.token_requests();
    let request = sent.last().expect("the callback called the token endpoint");
    assert_eq!(
        request.get("code"),
        Some(&code),
        "the {label} sent another code"
    );

    let cookie = reply
        .session_cookie()
        .expect("a sign-in sets a new session cookie");
    secrets.add_session_cookie(&format!("session cookie after the {label}"), &cookie);
    (cookie, reply)
}

/// The step name of the sign-out response, whose `Location` carries the ID token as
/// `id_token_hint` (RP-Initiated Logout 1.0 §2).
const SIGN_OUT: &str = "sign-out";

/// Runs every relying-party and resource-server flow once, checking each response's status,
/// and returns the secrets handled and the responses received.
async fn run_flows(harness: &Harness) -> Run {
    let mut secrets = Secrets::default();
    let mut replies = Vec::new();
    let issuer = harness.provider.issuer.clone();

    // Sign-in with a password only, returning to the messages page.
    let login = harness.start_login("return_to=%2Fmessages").await;
    let mut claims = harness.id_token_claims(&login);
    claims["acr"] = json!("urn:okta:loa:1fa:any");
    let (signed_in, reply) =
        complete_login(harness, &login, &claims, &mut secrets, "sign-in").await;
    replies.push(("sign-in callback", reply));

    // Step-up from the signed-in session: two factors, authenticated now.
    let step_up = harness
        .start_login_in(STEP_UP_LOGIN, Some(&signed_in))
        .await;
    let claims = harness.id_token_claims(&step_up);
    let (stepped_up, reply) =
        complete_login(harness, &step_up, &claims, &mut secrets, "step-up").await;
    replies.push(("step-up callback", reply));

    // The guarded page renders for the stepped-up session.
    let reply = harness.get("/profile", Some(&stepped_up)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    replies.push(("profile page", reply));

    // Refresh with the session's refresh token, which the provider rotates.
    let refreshed_id_claims = tokens::id_token_claims(&issuer, &random_secret());
    let refreshed_id_token = tokens::id_token(&refreshed_id_claims);
    let refreshed_access_token = access_token(&issuer);
    let rotated_refresh_token = random_secret();
    harness.provider.respond_to_refresh_with(token_response(
        &refreshed_access_token,
        &refreshed_id_token,
        &rotated_refresh_token,
    ));
    secrets.add_jwt("refreshed ID token", &refreshed_id_token);
    secrets.add_jwt("refreshed access token", &refreshed_access_token);
    secrets.add_server_only("rotated refresh token", &rotated_refresh_token);
    let reply = harness.post_same_origin("/auth/refresh", &stepped_up).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    replies.push(("refresh", reply));
    let sent = harness.provider.token_requests();
    let refresh_request = sent.last().expect("the refresh called the token endpoint");
    assert_eq!(
        refresh_request.get("grant_type").map(String::as_str),
        Some("refresh_token")
    );

    // The API with the session cookie uses the refreshed access token.
    let reply = harness.get("/api/messages", Some(&stepped_up)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    replies.push(("messages with the cookie", reply));

    // A large transfer with the cookie is challenged and kept as a pending action.
    let transfer = Request::post("/api/transfers")
        .header(header::COOKIE, &stepped_up)
        .header("sec-fetch-site", "same-origin")
        .header(header::ORIGIN, PUBLIC_URL)
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "transfer-1")
        .body(Body::from(r#"{"to":"acct-9","amount":5000}"#))
        .expect("the request builds");
    let reply = harness.send(transfer).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    replies.push(("challenged transfer", reply));

    // The API with a bearer token from another client.
    let bearer = access_token(&issuer);
    secrets.add_jwt("bearer access token", &bearer);
    let reply = harness
        .get_with_authorization("/api/messages", &format!("Bearer {bearer}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    replies.push(("messages with a bearer token", reply));

    // A token signed by a key the provider does not publish is rejected, and stays unlogged
    // too: it may be a real token that another audience accepts.
    let mut forged_claims = tokens::access_token_claims(&issuer);
    forged_claims["jti"] = json!(random_secret());
    let forged = tokens::sign_rs256(&forged_claims, Key::Other, Some(TEST_KID), "at+jwt");
    secrets.add_jwt("rejected access token", &forged);
    let reply = harness
        .get_with_authorization("/api/messages", &format!("Bearer {forged}"))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    replies.push(("messages with a rejected token", reply));

    // Sign-out.
    let reply = harness.post_same_origin("/auth/logout", &stepped_up).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    replies.push((SIGN_OUT, reply));

    // The PKCE verifiers, as the provider received them.
    for (index, request) in harness.provider.token_requests().iter().enumerate() {
        if let Some(verifier) = request.get("code_verifier") {
            secrets.add_server_only(&format!("PKCE verifier of token request {index}"), verifier);
        }
    }
    Run {
        secrets,
        replies,
        last_id_token: refreshed_id_token,
    }
}

/// Runs [`run_flows`] with `variables` set and every target logged at `TRACE`, then checks
/// that the log contains no secret and that no response carries one that must stay on the
/// server. `client_secrets` are the server-only values the configuration holds.
async fn check_flows(
    variables: &[(&str, &str)],
    client_secrets: &[(&str, &str)],
) -> (Harness, Run) {
    forward_log_records();
    let harness = Harness::with_variables(TestProvider::start().await, "trace", variables).await;
    let mut run = run_flows(&harness).await;
    for (kind, value) in client_secrets {
        run.secrets.add_server_only(kind, value);
    }

    // The capture must have seen what the flows logged at the lowest levels, from the server
    // and its dependencies (`reqwest` through the `log` bridge), or finding nothing proves
    // nothing.
    for (level, target) in [
        ("TRACE", "tower_sessions"),
        ("DEBUG", "server::api"),
        ("DEBUG", "reqwest::"),
    ] {
        harness.logs.assert_logged(level, target);
    }
    run.secrets.assert_absent_from(&harness.logs.text());
    assert_server_only_secrets_stay(&run);
    (harness, run)
}

/// Panics when a response carries a server-only secret. The one exception is the session's
/// last ID token as `id_token_hint` in the sign-out redirect, which RP-Initiated Logout 1.0 §2
/// sends through the browser.
fn assert_server_only_secrets_stay(run: &Run) {
    for (step, reply) in &run.replies {
        let found = run.secrets.find_in(&browser_view(reply), |secret| {
            let is_hint = *step == SIGN_OUT && run.last_id_token.contains(&secret.value);
            secret.server_only && !is_hint
        });
        assert!(
            found.is_empty(),
            "the {step} response carries server-only secrets:\n{}",
            found.join("\n")
        );
    }

    let (_, sign_out) = run
        .replies
        .iter()
        .find(|(step, _)| *step == SIGN_OUT)
        .expect("the run signed out");
    let location = sign_out.location().expect("sign-out redirects");
    let location = Url::parse(&location).expect("the Location is an absolute URL");
    let hints: Vec<String> = location
        .query_pairs()
        .filter(|(name, _)| name == "id_token_hint")
        .map(|(_, value)| value.into_owned())
        .collect();
    assert!(
        hints == [run.last_id_token.clone()],
        "the sign-out hint is not the session's last ID token"
    );
}

#[test]
fn search_finds_planted_secret() {
    let capture = LogCapture::start("trace");
    let planted = random_secret();
    tracing::trace!(target: "planted", token = %planted, "a careless event");
    let mut secrets = Secrets::default();
    secrets.add("planted token", &planted);

    let found = secrets.find_in(&capture.text(), |_| true);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("planted token: "), "{found:?}");
    assert!(
        !found[0].contains(&planted),
        "the report printed the secret"
    );
}

#[tokio::test]
async fn public_client_flows_keep_secrets() {
    let (harness, run) = check_flows(&[], &[]).await;

    // A public client sends no credentials of its own, and proves the code with PKCE.
    assert!(harness
        .provider
        .token_authorizations()
        .iter()
        .all(Option::is_none));
    assert!(run
        .secrets
        .kinds()
        .contains(&"PKCE verifier of token request 0"));
}

#[tokio::test]
async fn client_secret_basic_flows_keep_secrets() {
    let client_secret = random_secret();
    let credentials = STANDARD.encode(format!("{CLIENT_ID}:{client_secret}"));
    let (harness, _) = check_flows(
        &[
            ("STEPUP_CLIENT_SECRET", &client_secret),
            ("STEPUP_CLIENT_AUTH", "client_secret_basic"),
        ],
        &[
            ("client secret", &client_secret),
            (
                "client credentials of the Authorization header",
                &credentials,
            ),
        ],
    )
    .await;

    // Every token request authenticated with the secret (RFC 6749 §2.3.1), so the secret went
    // through the code paths under test.
    let authorizations = harness.provider.token_authorizations();
    assert_eq!(authorizations.len(), 3, "sign-in, step-up and refresh");
    for authorization in &authorizations {
        assert_eq!(
            authorization.as_deref(),
            Some(format!("Basic {credentials}").as_str())
        );
    }
}

#[tokio::test]
async fn client_secret_post_flows_keep_secrets() {
    let client_secret = random_secret();
    let (harness, _) = check_flows(
        &[
            ("STEPUP_CLIENT_SECRET", &client_secret),
            ("STEPUP_CLIENT_AUTH", "client_secret_post"),
        ],
        &[("client secret", &client_secret)],
    )
    .await;

    let requests = harness.provider.token_requests();
    assert_eq!(requests.len(), 3, "sign-in, step-up and refresh");
    for request in &requests {
        assert_eq!(request.get("client_secret"), Some(&client_secret));
    }
}

#[tokio::test]
async fn json_log_format_keeps_secrets_out() {
    // The JSON format prints span fields separately, so check it on its own.
    forward_log_records();
    let harness = Harness::with_variables(TestProvider::start().await, "trace", &[]).await;
    let json_capture = LogCapture::start_json("trace");
    let run = run_flows(&harness).await;

    let log = json_capture.text();
    assert!(log.contains("\"level\":\"TRACE\""), "{log}");
    assert!(log.contains("\"message\":\"signed in\""), "{log}");
    run.secrets.assert_absent_from(&log);
}

// ---------------------------------------------------------------------------------------------
// `Debug` of the types that hold secrets

fn token_set() -> TokenSet {
    TokenSet {
        id_token: SecretString::new("id-token-0123456789".to_owned()),
        access_token: SecretString::new("access-token-0123456789".to_owned()),
        access_token_expires_at: Some(1_700_000_600),
        refresh_token: Some(SecretString::new("refresh-token-0123456789".to_owned())),
    }
}

fn assert_hides(printed: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !printed.contains(secret),
            "Debug printed {secret:?}: {printed}"
        );
    }
}

#[test]
fn config_debug_hides_secrets() {
    let config = config_with(
        "http://127.0.0.1:4000",
        &[
            ("STEPUP_CLIENT_SECRET", "client-secret-0123456789"),
            (
                "STEPUP_REDIS_URL",
                "redis://stepup:redis-password-0123456789@127.0.0.1:6379/0",
            ),
        ],
    );
    let secrets = ["client-secret-0123456789", "redis-password-0123456789"];
    assert_hides(&format!("{config:?}"), &secrets);
    assert_hides(&format!("{config:#?}"), &secrets);
    // The non-secret settings are still there to read.
    assert!(format!("{config:?}").contains(CLIENT_ID));
}

#[test]
fn token_set_debug_hides_tokens() {
    let tokens = token_set();
    let secrets = [
        "id-token-0123456789",
        "access-token-0123456789",
        "refresh-token-0123456789",
    ];
    assert_hides(&format!("{tokens:?}"), &secrets);
    assert_hides(&format!("{tokens:#?}"), &secrets);
    assert!(format!("{tokens:?}").contains("1700000600"));
}

#[test]
fn auth_state_debug_hides_tokens() {
    let state = AuthState {
        version: AUTH_STATE_VERSION,
        subject: "user-1".to_owned(),
        name: Some("Alice Example".to_owned()),
        email: None,
        acr: Some(TWO_FACTOR.to_owned()),
        amr: vec!["pwd".to_owned(), "otp".to_owned()],
        auth_time: Some(1_700_000_000),
        reauthenticated_at: None,
        tokens: token_set(),
    };
    let secrets = [
        "id-token-0123456789",
        "access-token-0123456789",
        "refresh-token-0123456789",
    ];
    assert_hides(&format!("{state:?}"), &secrets);
    assert_hides(&format!("{state:#?}"), &secrets);
    assert!(format!("{state:?}").contains(TWO_FACTOR));
}

#[test]
fn secret_string_debug_is_redacted() {
    // The pending sign-in record (`server::oidc::pending::PendingLogin`, private to the crate)
    // keeps `state`, `nonce` and the PKCE verifier in `SecretString` fields under a derived
    // `Debug`, so this is what its `Debug` prints for them.
    let secret = SecretString::new("pkce-verifier-0123456789".to_owned());
    assert_eq!(format!("{secret:?}"), "[redacted]");
    assert_eq!(format!("{secret:#?}"), "[redacted]");
    assert_eq!(format!("{:?}", Some(secret.clone())), "Some([redacted])");
}

#[test]
fn pending_action_debug_has_no_token() {
    // The pending action keeps the challenged request, never a credential.
    let action = PendingAction {
        method: "POST".to_owned(),
        path: "/api/transfers".to_owned(),
        body: r#"{"to":"acct-9","amount":5000}"#.to_owned(),
        idempotency_key: "transfer-1".to_owned(),
        subject: "user-1".to_owned(),
        acr_values: vec!["phr".to_owned()],
        max_age: Some(300),
        created_at: 1_700_000_000,
        ready: false,
    };
    let printed = format!("{action:?}");
    assert!(!printed.contains("eyJ"), "{printed}");
}

#[tokio::test]
async fn caller_debug_hides_session_tokens() {
    let harness = Harness::start().await;
    let (_, _, cookie) = harness
        .sign_in("return_to=%2Fprofile&acr_values=urn%3Aokta%3Aloa%3A2fa%3Aany")
        .await;
    // Another browser's session, in the same store.
    let (_, _, other_cookie) = harness.sign_in("return_to=%2F").await;
    let other_id: Id = cookie_value(&other_cookie).parse().expect("a session id");
    let id: Id = cookie_value(&cookie).parse().expect("a session id");
    let record = harness
        .store
        .load(&id)
        .await
        .expect("the store answers")
        .expect("the session exists");
    let access_token = record.data["stepup.auth"]["tokens"]["access_token"]
        .as_str()
        .expect("the session holds an access token")
        .to_owned();

    let session = Session::new(Some(id), Arc::new(harness.store.clone()), None);
    session.load().await.expect("the session loads");
    let caller = Caller {
        claims: AccessClaims {
            sub: "user-1".to_owned(),
            exp: 1_700_000_600,
            acr: Some(TWO_FACTOR.to_owned()),
            auth_time: Some(1_700_000_000),
            amr: Vec::new(),
        },
        session: Some(session),
    };
    let printed = format!("{caller:?}");
    assert!(
        !printed.contains(&access_token),
        "Debug of Caller prints the session's access token"
    );
    assert!(
        !printed.contains(&id.0.to_string()),
        "Debug of Caller prints the session id"
    );
    assert!(
        !printed.contains(&other_id.0.to_string()),
        "Debug of Caller prints another browser's session from the store"
    );
}
