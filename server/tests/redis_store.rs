//! Sessions in Redis, shared by two server instances.
//!
//! Each test starts its own `redis-server` and one test provider, and builds two routers, A and B,
//! each from its own `AppState` and with its own `RedisStore` connection pool, as two replicas
//! behind a load balancer without sticky sessions run. A browser's requests may reach either
//! instance, so a sign-in, a step-up and a sign-out on one must take effect on the other.
//!
//! A record that cannot be read (another `AUTH_STATE_VERSION`, or bytes that are not a session
//! record at all) must read as signed out, with a warning, and never as a server error.

mod support;

use app::session::{AUTH_STATE_KEY, AUTH_STATE_VERSION};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use server::session::{open_redis_store, SESSION_IDLE_TIMEOUT};
use support::logs::LogCapture;
use support::provider::TestProvider;
use support::redis::RedisServer;
use support::tokens::{self, Key, TEST_KID, TWO_FACTOR};
use support::{app_state_for, config_with, encode, read_login, send_to, Login, Reply, PUBLIC_URL};
use tower_sessions::session::Id;
use tower_sessions::SessionStore;
use tower_sessions_redis_store::fred::prelude::{
    Client as RedisClient, ClientLike, Config as RedisConfig, KeysInterface,
};

/// The acr of a password-only sign-in; `/profile` and `/api/messages` need [`TWO_FACTOR`].
const ONE_FACTOR: &str = "urn:okta:loa:1fa:any";
/// A sign-in that returns to the messages page.
const SIGN_IN: &str = "return_to=%2Fmessages";
/// A step-up to two factors that returns to the profile page.
const STEP_UP: &str = "return_to=%2Fprofile&acr_values=urn%3Aokta%3Aloa%3A2fa%3Aany";

/// One server instance: a router with its own state and its own Redis connection pool.
struct Instance {
    name: &'static str,
    app: server::AppService,
}

impl Instance {
    /// Builds the state the way start-up does, with `STEPUP_SESSION_STORE=redis`, and opens a
    /// session store of its own on `redis_url`.
    async fn connect(name: &'static str, provider: &TestProvider, redis_url: &str) -> Self {
        let config = config_with(
            &provider.issuer,
            &[
                ("STEPUP_SESSION_STORE", "redis"),
                ("STEPUP_REDIS_URL", redis_url),
            ],
        );
        let state = app_state_for(config).await;
        let store = open_redis_store(redis_url)
            .await
            .expect("the Redis session store connects to the test redis-server");
        Self {
            name,
            app: server::router(state, store),
        }
    }

    async fn get(&self, uri: &str, cookie: Option<&str>) -> Reply {
        let mut request = Request::get(uri);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        send_to(
            &self.app,
            request.body(Body::empty()).expect("the request builds"),
        )
        .await
    }

    /// Sends `POST uri` with `cookie` and the headers of a same-origin `fetch`.
    async fn post_same_origin(&self, uri: &str, cookie: &str) -> Reply {
        let request = Request::post(uri)
            .header(header::COOKIE, cookie)
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, PUBLIC_URL)
            .body(Body::empty())
            .expect("the request builds");
        send_to(&self.app, request).await
    }

    /// Calls `/auth/login?{query}` with `cookie` and reads the authorization request.
    async fn start_login(&self, query: &str, cookie: Option<&str>) -> Login {
        let reply = self.get(&format!("/auth/login?{query}"), cookie).await;
        read_login(&reply, query, cookie)
    }

    /// Calls `/auth/callback` the way the provider's redirect after `login` would.
    async fn callback(&self, login: &Login) -> Reply {
        let uri = format!(
            "/auth/callback?code=test-code&state={}",
            encode(&login.state)
        );
        self.get(&uri, Some(&login.cookie)).await
    }

    /// Panics unless `/api/messages` returns the messages for the session of `cookie`.
    async fn assert_signed_in(&self, cookie: &str) {
        let reply = self.get("/api/messages", Some(cookie)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "instance {} rejected a signed-in session: {:?} {}",
            self.name,
            reply.www_authenticate(),
            reply.body
        );
    }

    /// Panics unless the session of `cookie` has no user: `/api/messages` then finds no token
    /// and sends the bare `Bearer` challenge (RFC 6750 §3.1).
    async fn assert_signed_out(&self, cookie: &str) {
        let reply = self.get("/api/messages", Some(cookie)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "instance {} served a session that should hold no user: {}",
            self.name,
            reply.body
        );
        assert_eq!(
            reply.www_authenticate(),
            Some("Bearer"),
            "instance {} found a token in a session that should hold none",
            self.name
        );
    }

    /// Panics unless the `/profile` route guard sends the session of `cookie` to sign-in.
    async fn assert_profile_redirects_to_login(&self, cookie: &str) {
        let page = self.get("/profile", Some(cookie)).await;
        assert_eq!(
            page.status,
            StatusCode::FOUND,
            "instance {}: {}",
            self.name,
            page.body
        );
        let location = page
            .location()
            .expect("the guard's redirect has a Location");
        assert!(
            location.starts_with("/auth/login?"),
            "instance {} sent /profile to {location}",
            self.name
        );
    }
}

/// One `redis-server`, one provider and two instances that share both.
///
/// Fields drop in declaration order, so `redis` stops after the instances and the client.
struct Replicas {
    logs: LogCapture,
    provider: TestProvider,
    a: Instance,
    b: Instance,
    /// A plain client that reads and writes Redis keys directly, bypassing the stores.
    client: RedisClient,
    redis: RedisServer,
}

impl Replicas {
    async fn start() -> Self {
        let logs = LogCapture::start("info");
        let redis = RedisServer::start().await;
        let provider = TestProvider::start().await;
        let a = Instance::connect("A", &provider, &redis.url).await;
        let b = Instance::connect("B", &provider, &redis.url).await;
        let config = RedisConfig::from_url(&redis.url).expect("the test Redis URL is valid");
        let client = RedisClient::new(config, None, None, None);
        client
            .init()
            .await
            .expect("a plain client connects to the test redis-server");
        Self {
            logs,
            provider,
            a,
            b,
            client,
            redis,
        }
    }

    /// Makes the provider return an ID token for `login` and an access token, both with `acr`.
    fn respond_with_acr(&self, login: &Login, acr: &str) {
        let issuer = &self.provider.issuer;
        let mut id_claims = tokens::id_token_claims(issuer, &login.nonce);
        id_claims["acr"] = json!(acr);
        let mut access_claims = tokens::access_token_claims(issuer);
        access_claims["acr"] = json!(acr);
        self.provider.respond_with(json!({
            "access_token": tokens::sign_rs256(&access_claims, Key::Test, Some(TEST_KID), "at+jwt"),
            "token_type": "Bearer",
            "expires_in": 600,
            "scope": "openid profile email offline_access",
            "id_token": tokens::id_token(&id_claims),
        }));
    }

    /// Completes `login` on `instance` with tokens whose `acr` is `acr`, and returns the cookie
    /// of the signed-in session.
    async fn finish(&self, instance: &Instance, login: &Login, acr: &str) -> String {
        self.respond_with_acr(login, acr);
        let reply = instance.callback(login).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "the callback on instance {} failed: {}",
            instance.name,
            reply.body
        );
        reply
            .session_cookie()
            .expect("a completed sign-in sets a new session cookie")
    }

    /// Signs a new browser in on `instance` with `acr` and returns its cookie.
    async fn sign_in(&self, instance: &Instance, acr: &str) -> String {
        let login = instance.start_login(SIGN_IN, None).await;
        self.finish(instance, &login, acr).await
    }

    /// Returns the raw bytes Redis keeps for the session of `cookie`.
    async fn raw_record(&self, cookie: &str) -> Option<Vec<u8>> {
        self.client
            .get(session_key(cookie))
            .await
            .expect("the Redis GET succeeds")
    }
}

/// Returns the Redis key of the session of `cookie`: `RedisStore` keys a record by its id.
fn session_key(cookie: &str) -> String {
    let (_, value) = cookie.split_once('=').expect("a cookie is name=value");
    value.to_owned()
}

fn session_id(cookie: &str) -> Id {
    session_key(cookie)
        .parse()
        .expect("the cookie carries a session id")
}

#[tokio::test]
async fn sign_in_on_a_is_seen_by_b() {
    let replicas = Replicas::start().await;
    let cookie = replicas.sign_in(&replicas.a, TWO_FACTOR).await;

    replicas.b.assert_signed_in(&cookie).await;
    replicas.a.assert_signed_in(&cookie).await;
    let page = replicas.b.get("/profile", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
}

#[tokio::test]
async fn sign_in_started_on_a_completes_on_b() {
    // The pending sign-in (state, nonce, PKCE verifier) lives in the shared session, so the
    // provider's redirect may reach the other instance.
    let replicas = Replicas::start().await;
    let login = replicas.a.start_login(SIGN_IN, None).await;
    let cookie = replicas.finish(&replicas.b, &login, TWO_FACTOR).await;

    assert_ne!(cookie, login.cookie, "the sign-in kept the session id");
    replicas.a.assert_signed_in(&cookie).await;
    replicas.b.assert_signed_in(&cookie).await;
    replicas.a.assert_signed_out(&login.cookie).await;
}

#[tokio::test]
async fn redis_record_expires_with_session() {
    let replicas = Replicas::start().await;
    let cookie = replicas.sign_in(&replicas.a, TWO_FACTOR).await;

    let ttl: i64 = replicas
        .client
        .ttl(session_key(&cookie))
        .await
        .expect("the Redis TTL succeeds");
    let idle_timeout = SESSION_IDLE_TIMEOUT.whole_seconds();
    assert!(ttl > 0, "the session record has no expiry (TTL {ttl})");
    assert!(
        ttl <= idle_timeout,
        "the record outlives the idle timeout: TTL {ttl} s, timeout {idle_timeout} s"
    );
}

#[tokio::test]
async fn step_up_on_a_is_seen_by_b() {
    let replicas = Replicas::start().await;
    let one_factor = replicas.sign_in(&replicas.a, ONE_FACTOR).await;

    // Before the step-up, B treats the session as one-factor.
    replicas
        .b
        .assert_profile_redirects_to_login(&one_factor)
        .await;
    let reply = replicas.b.get("/api/messages", Some(&one_factor)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let challenge = reply.www_authenticate().unwrap_or_default();
    assert!(
        challenge.contains("error=\"insufficient_user_authentication\""),
        "B sent {challenge:?} for a one-factor token"
    );

    let step_up = replicas.a.start_login(STEP_UP, Some(&one_factor)).await;
    let two_factor = replicas.finish(&replicas.a, &step_up, TWO_FACTOR).await;

    let page = replicas.b.get("/profile", Some(&two_factor)).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "B's route guard did not see the step-up: {}",
        page.body
    );
    replicas.b.assert_signed_in(&two_factor).await;
    replicas.b.assert_signed_out(&one_factor).await;
}

#[tokio::test]
async fn sign_out_on_a_ends_session_on_b() {
    let replicas = Replicas::start().await;
    let cookie = replicas.sign_in(&replicas.a, TWO_FACTOR).await;
    replicas.b.assert_signed_in(&cookie).await;

    let reply = replicas.a.post_same_origin("/auth/logout", &cookie).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    assert!(
        replicas.raw_record(&cookie).await.is_none(),
        "Redis still holds the record after sign-out"
    );
    replicas.b.assert_signed_out(&cookie).await;
    replicas.b.assert_profile_redirects_to_login(&cookie).await;
}

#[tokio::test]
async fn record_of_other_version_reads_as_signed_out() {
    let replicas = Replicas::start().await;
    let cookie = replicas.sign_in(&replicas.a, TWO_FACTOR).await;

    // Rewrite the record as a release with another layout would have written it.
    let store = open_redis_store(&replicas.redis.url)
        .await
        .expect("a third store connects");
    let id = session_id(&cookie);
    let mut record = store
        .load(&id)
        .await
        .expect("the store reads Redis")
        .expect("the signed-in session is stored");
    record
        .data
        .get_mut(AUTH_STATE_KEY)
        .expect("the record contains the user")["version"] = json!(AUTH_STATE_VERSION + 1);
    store.save(&record).await.expect("the record is saved");

    replicas.b.assert_signed_out(&cookie).await;
    replicas.logs.assert_logged("WARN", "app::session");
    let record = store
        .load(&id)
        .await
        .expect("the store reads Redis")
        .expect("the session itself stays");
    assert!(
        !record.data.contains_key(AUTH_STATE_KEY),
        "the record of another version was kept: {:?}",
        record.data.keys().collect::<Vec<_>>()
    );
    replicas.a.assert_profile_redirects_to_login(&cookie).await;
}

/// Bytes that no MessagePack decoder accepts: 0xc1 is the one marker the format never uses.
const GARBAGE: &[u8] = b"\xc1 not a session record";

/// Signs a browser in on A, then overwrites its session record in Redis with [`GARBAGE`].
async fn signed_in_with_garbage_record(replicas: &Replicas) -> String {
    let cookie = replicas.sign_in(&replicas.a, TWO_FACTOR).await;
    let () = replicas
        .client
        .set(session_key(&cookie), GARBAGE, None, None, false)
        .await
        .expect("the Redis SET succeeds");
    cookie
}

#[tokio::test]
async fn garbage_record_reads_as_signed_out() {
    let replicas = Replicas::start().await;
    let cookie = signed_in_with_garbage_record(&replicas).await;

    replicas.b.assert_signed_out(&cookie).await;
    replicas.logs.assert_logged("WARN", "server::session");
    replicas.b.assert_profile_redirects_to_login(&cookie).await;
    for path in ["/", "/messages"] {
        let page = replicas.b.get(path, Some(&cookie)).await;
        assert!(
            !page.status.is_server_error(),
            "{path} with an unreadable record: {} {}",
            page.status,
            page.body
        );
    }
}

// NOTE: the two tests below fail: `RedisStore::load` returns a decode error for such bytes, so
// every `Session` call fails, the record stays in Redis, and `/auth/login` returns 500 for as long
// as the browser keeps the cookie.
#[tokio::test]
async fn garbage_record_is_dropped() {
    let replicas = Replicas::start().await;
    let cookie = signed_in_with_garbage_record(&replicas).await;

    replicas.b.assert_signed_out(&cookie).await;
    let record = replicas.raw_record(&cookie).await;
    assert_ne!(
        record.as_deref(),
        Some(GARBAGE),
        "Redis still holds the unreadable record after a request read it"
    );
}

#[tokio::test]
async fn garbage_record_allows_new_sign_in() {
    let replicas = Replicas::start().await;
    let cookie = signed_in_with_garbage_record(&replicas).await;

    // The browser still sends the cookie of the unreadable record when it signs in again.
    let reply = replicas
        .b
        .get(&format!("/auth/login?{SIGN_IN}"), Some(&cookie))
        .await;
    assert!(
        reply.status.is_redirection(),
        "sign-in with the cookie of an unreadable record failed: {} {}",
        reply.status,
        reply.body
    );
    let login = read_login(&reply, SIGN_IN, Some(&cookie));
    let signed_in = replicas.finish(&replicas.b, &login, TWO_FACTOR).await;
    replicas.a.assert_signed_in(&signed_in).await;
}

#[tokio::test]
async fn readiness_follows_redis() {
    let replicas = Replicas::start().await;
    let reply = replicas.a.get("/readyz", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let Replicas { a, redis, .. } = replicas;
    drop(redis);
    let reply = a.get("/readyz", None).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    let body: Value = serde_json::from_str(&reply.body).expect("/readyz returns JSON");
    assert_eq!(body["session_store"], json!(false), "{body}");
    assert_eq!(body["provider"], json!(true), "{body}");
}
