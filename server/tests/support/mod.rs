//! A harness that runs the real server router against the test OpenID Provider.
//!
//! [`Harness::start`] starts a [`TestProvider`], builds the application state the way start-up
//! does (discovery, JWKS, access-token verifier), and sends requests to the router with
//! `tower::ServiceExt::oneshot`. A sign-in runs as a browser would run it, minus the provider's
//! login page: `/auth/login`, then `/auth/callback` with the `state` from the redirect and the
//! session cookie, while the test provider returns the token response the test set.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

pub mod logs;
pub mod provider;
pub mod redis;
pub mod tokens;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use logs::LogCapture;
use provider::TestProvider;
use serde_json::{json, Value};
use server::config::Config;
use server::session::SESSION_COOKIE_NAME;
use server::AppState;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use tower_sessions::MemoryStore;
use url::Url;

/// Origin the relying party believes it runs at. Nothing listens there: the tests call the
/// router directly.
pub const PUBLIC_URL: &str = "http://127.0.0.1:3000";

/// Reads the configuration for a provider at `issuer`, as start-up would from the environment.
pub fn config_for(issuer: &str) -> Config {
    config_with(issuer, &[])
}

/// Reads the configuration for a provider at `issuer` with the environment variables in
/// `variables` set as well.
pub fn config_with(issuer: &str, variables: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| {
        let given = variables
            .iter()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| (*value).to_owned());
        match name {
            "STEPUP_ISSUER_URL" => Some(issuer.to_owned()),
            "STEPUP_PUBLIC_URL" => Some(PUBLIC_URL.to_owned()),
            // The suites start many sign-ins from one address; the limit has its own test.
            "STEPUP_LOGIN_RATE_LIMIT" => given.or_else(|| Some("0".to_owned())),
            _ => given,
        }
    })
    .expect("the test configuration is valid")
}

/// Builds the application state the way `server::run` does, against the provider at `issuer`.
pub async fn app_state(issuer: &str) -> AppState {
    app_state_for(config_for(issuer)).await
}

/// Builds the application state the way `server::run` does, from `config`.
pub async fn app_state_for(config: Config) -> AppState {
    let leptos_options = leptos::config::LeptosOptions::builder()
        .output_name("stepup-app")
        .build();
    server::connect(Arc::new(config), leptos_options, Duration::ZERO)
        .await
        .expect("the test provider is discovered and its keys load")
}

/// A response with its body read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// Returns the `Location` header decoded as UTF-8, as browsers read it, so that a server that
    /// sends raw non-ASCII bytes is visible to the test instead of panicking here.
    pub fn location(&self) -> Option<String> {
        self.headers
            .get(header::LOCATION)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
    }

    /// Returns `name=value` of the session cookie this response sets, if it sets one.
    pub fn session_cookie(&self) -> Option<String> {
        let prefix = format!("{SESSION_COOKIE_NAME}=");
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.split(';').next())
            .find(|pair| pair.starts_with(&prefix))
            .map(str::to_owned)
    }

    pub fn www_authenticate(&self) -> Option<&str> {
        self.headers
            .get(header::WWW_AUTHENTICATE)
            .map(|value| value.to_str().expect("WWW-Authenticate is visible ASCII"))
    }

    /// Returns whether the body contains an element with `data-testid="{test_id}"`.
    pub fn has_test_id(&self, test_id: &str) -> bool {
        self.body.contains(&format!("data-testid=\"{test_id}\""))
    }
}

/// An authorization request that the relying party sent the browser to.
#[derive(Clone, Debug)]
pub struct Login {
    /// `stepup_session=…` of the browser that started it.
    pub cookie: String,
    pub authorization_url: Url,
    pub state: String,
    pub nonce: String,
}

impl Login {
    /// Returns the value of query parameter `name` of the authorization request.
    pub fn param(&self, name: &str) -> Option<String> {
        self.authorization_url
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}

pub struct Harness {
    pub provider: TestProvider,
    pub app: server::AppService,
    pub logs: LogCapture,
    /// The router's session store, for checking what the server keeps.
    pub store: MemoryStore,
}

impl Harness {
    /// Starts a well-behaved provider and the server, capturing logs at `info` (the default).
    pub async fn start() -> Self {
        Self::with_provider(TestProvider::start().await).await
    }

    /// Builds the server against `provider`, which the test may have set up first.
    pub async fn with_provider(provider: TestProvider) -> Self {
        Self::with_provider_and_log_filter(provider, "info").await
    }

    pub async fn with_provider_and_log_filter(provider: TestProvider, filter: &str) -> Self {
        Self::with_variables(provider, filter, &[]).await
    }

    /// Builds the server against `provider` with the environment variables in `variables`
    /// set, capturing the logs that `filter` enables.
    pub async fn with_variables(
        provider: TestProvider,
        filter: &str,
        variables: &[(&str, &str)],
    ) -> Self {
        let logs = LogCapture::start(filter);
        let state = app_state_for(config_with(&provider.issuer, variables)).await;
        let store = MemoryStore::default();
        let app = server::router(state, store.clone());
        Self {
            provider,
            app,
            logs,
            store,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        send_to(&self.app, request).await
    }

    /// Sends `GET uri`, with the session cookie when one is given.
    pub async fn get(&self, uri: &str, cookie: Option<&str>) -> Reply {
        let mut request = Request::get(uri);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).expect("the request builds"))
            .await
    }

    /// Sends `POST uri` with `cookie` and the headers a browser sends on a same-origin
    /// `fetch`: `Sec-Fetch-Site: same-origin` and the app's `Origin`.
    pub async fn post_same_origin(&self, uri: &str, cookie: &str) -> Reply {
        let request = Request::post(uri)
            .header(header::COOKIE, cookie)
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, PUBLIC_URL)
            .body(Body::empty())
            .expect("the request builds");
        self.send(request).await
    }

    /// Sends `GET uri` with one `Authorization` header and no cookie.
    pub async fn get_with_authorization(&self, uri: &str, authorization: &str) -> Reply {
        let request = Request::get(uri)
            .header(header::AUTHORIZATION, authorization)
            .body(Body::empty())
            .expect("the request builds");
        self.send(request).await
    }

    /// Calls `/auth/login?{query}` from a browser without a session.
    pub async fn start_login(&self, query: &str) -> Login {
        self.start_login_in(query, None).await
    }

    /// Calls `/auth/login?{query}` with `cookie`, and reads the authorization request from the
    /// redirect.
    pub async fn start_login_in(&self, query: &str, cookie: Option<&str>) -> Login {
        let reply = self.get(&format!("/auth/login?{query}"), cookie).await;
        read_login(&reply, query, cookie)
    }

    /// Calls `/auth/callback?{query}` with `cookie`, the way the provider's redirect would.
    pub async fn callback(&self, query: &str, cookie: Option<&str>) -> Reply {
        self.get(&format!("/auth/callback?{query}"), cookie).await
    }

    /// Makes the provider return `id_token` with a valid access token, then completes `login`.
    pub async fn finish_with_id_token(&self, login: &Login, id_token: &str) -> Reply {
        self.provider.respond_with(self.token_response(id_token));
        self.finish(login).await
    }

    /// Completes `login` with code `test-code` and its own `state` and cookie.
    pub async fn finish(&self, login: &Login) -> Reply {
        let query = format!("code=test-code&state={}", encode(&login.state));
        self.callback(&query, Some(&login.cookie)).await
    }

    /// Builds a token response with `id_token` and an access token that `/api/messages` accepts.
    pub fn token_response(&self, id_token: &str) -> Value {
        json!({
            "access_token": tokens::access_token(&self.provider.issuer),
            "token_type": "Bearer",
            "expires_in": 600,
            "scope": "openid profile email offline_access",
            "id_token": id_token,
        })
    }

    /// Claims of an ID token that completes `login`.
    pub fn id_token_claims(&self, login: &Login) -> Value {
        tokens::id_token_claims(&self.provider.issuer, &login.nonce)
    }

    /// Runs a whole sign-in that succeeds and returns the signed-in session cookie.
    pub async fn sign_in(&self, query: &str) -> (Login, Reply, String) {
        let login = self.start_login(query).await;
        let id_token = tokens::id_token(&self.id_token_claims(&login));
        let reply = self.finish_with_id_token(&login, &id_token).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "the sign-in failed: {}",
            reply.body
        );
        let cookie = reply
            .session_cookie()
            .expect("the sign-in sets a new session cookie");
        (login, reply, cookie)
    }

    /// Panics unless the session behind `cookie` has no signed-in user: `/api/messages` then
    /// finds no token at all and sends the bare `Bearer` challenge (RFC 6750 §3.1).
    pub async fn assert_signed_out(&self, cookie: &str) {
        let reply = self.get("/api/messages", Some(cookie)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "the API served a session that should hold no user"
        );
        assert_eq!(
            reply.www_authenticate(),
            Some("Bearer"),
            "the session holds a token"
        );
    }

    /// Panics unless the session behind `cookie` has a user whose token the API accepts.
    pub async fn assert_signed_in(&self, cookie: &str) {
        let reply = self.get("/api/messages", Some(cookie)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "the API rejected the signed-in session: {:?}",
            reply.www_authenticate()
        );
    }
}

/// Sends `request` to `app` and reads the whole response.
pub async fn send_to(app: &server::AppService, request: Request<Body>) -> Reply {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the body reads")
        .to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Reads the authorization request from `reply`, the response to `/auth/login?{query}` sent
/// with `cookie`. The session cookie is the one the reply sets, else `cookie`.
pub fn read_login(reply: &Reply, query: &str, cookie: Option<&str>) -> Login {
    assert!(
        reply.status.is_redirection(),
        "login with {query:?} did not redirect: {} {}",
        reply.status,
        reply.body
    );
    let location = reply.location().expect("the login redirect has a Location");
    let authorization_url = Url::parse(&location).expect("the Location is an absolute URL");
    let cookie = reply
        .session_cookie()
        .or_else(|| cookie.map(str::to_owned))
        .expect("the login sets a session cookie");
    let find = |name: &str| {
        authorization_url
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("the authorization request has no {name}"))
    };
    let state = find("state");
    let nonce = find("nonce");
    Login {
        cookie,
        authorization_url,
        state,
        nonce,
    }
}

/// Percent-encodes `value` for a query string.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
