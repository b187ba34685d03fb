//! A test OpenID Provider on 127.0.0.1 that a test can make misbehave.
//!
//! It serves a discovery document, a JWKS and a token endpoint. The token endpoint returns
//! whatever response the test set last, however wrong, and records each request. A test may set
//! a separate response for the `refresh_token` grant. There is no
//! authorization endpoint: tests read `state` and `nonce` from the relying party's redirect and
//! call `/auth/callback` themselves. The server task is aborted when the provider is dropped.

use super::tokens::{jwks, Key, TWO_FACTOR};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One form-encoded request to the token endpoint.
pub type TokenRequest = HashMap<String, String>;

/// What the provider serves, changed by the test while it runs.
struct ProviderState {
    /// `http://127.0.0.1:{port}`: where the endpoints are, whatever `issuer` discovery names.
    base: String,
    /// `issuer` in the discovery document. It starts as the real issuer.
    advertised_issuer: Mutex<String>,
    jwks: Mutex<Value>,
    /// Body of every token response; `None` makes the endpoint return `invalid_grant`.
    token_response: Mutex<Option<Value>>,
    /// Body of responses to the `refresh_token` grant; `None` handles it like any other grant.
    refresh_response: Mutex<Option<Value>>,
    token_requests: Mutex<Vec<TokenRequest>>,
    /// The `Authorization` header of each token request, in the order of `token_requests`.
    token_authorizations: Mutex<Vec<Option<String>>>,
    jwks_fetches: AtomicUsize,
    /// Requests to `/decoy/*`, where hostile tokens point `jku` and `x5u`.
    decoy_fetches: AtomicUsize,
}

pub struct TestProvider {
    /// `http://127.0.0.1:{port}`, without a trailing slash.
    pub issuer: String,
    state: Arc<ProviderState>,
    task: JoinHandle<()>,
}

impl TestProvider {
    /// Starts the provider on an ephemeral port, publishing the test key only.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the test provider binds to a loopback port");
        let address = listener.local_addr().expect("the listener has an address");
        let issuer = format!("http://{address}");
        let state = Arc::new(ProviderState {
            base: issuer.clone(),
            advertised_issuer: Mutex::new(issuer.clone()),
            jwks: Mutex::new(jwks(&[Key::Test])),
            token_response: Mutex::new(None),
            refresh_response: Mutex::new(None),
            token_requests: Mutex::new(Vec::new()),
            token_authorizations: Mutex::new(Vec::new()),
            jwks_fetches: AtomicUsize::new(0),
            decoy_fetches: AtomicUsize::new(0),
        });
        let routes = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(serve_jwks))
            .route("/token", post(token))
            .route("/decoy/{*rest}", get(decoy))
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, routes)
                .await
                .expect("the test provider serves");
        });
        Self {
            issuer,
            state,
            task,
        }
    }

    /// Makes discovery name `issuer` instead of the provider's real issuer.
    pub fn advertise_issuer(&self, issuer: &str) {
        *lock(&self.state.advertised_issuer) = issuer.to_owned();
    }

    pub fn set_jwks(&self, set: Value) {
        *lock(&self.state.jwks) = set;
    }

    /// Sets the body of every following token response.
    pub fn respond_with(&self, body: Value) {
        *lock(&self.state.token_response) = Some(body);
    }

    /// Sets the body of every following response to the `refresh_token` grant.
    pub fn respond_to_refresh_with(&self, body: Value) {
        *lock(&self.state.refresh_response) = Some(body);
    }

    pub fn token_requests(&self) -> Vec<TokenRequest> {
        lock(&self.state.token_requests).clone()
    }

    /// Returns the `Authorization` header of each token request, `None` where it had none.
    pub fn token_authorizations(&self) -> Vec<Option<String>> {
        lock(&self.state.token_authorizations).clone()
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// Returns a URL on this provider that counts its requests and serves the other key's JWKS.
    pub fn decoy_url(&self, name: &str) -> String {
        format!("{}/decoy/{name}", self.issuer)
    }

    pub fn decoy_fetches(&self) -> usize {
        self.state.decoy_fetches.load(Ordering::SeqCst)
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn discovery(State(state): State<Arc<ProviderState>>) -> Json<Value> {
    let advertised = lock(&state.advertised_issuer).clone();
    let base = &state.base;
    Json(json!({
        "issuer": advertised,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "end_session_endpoint": format!("{base}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "acr_values_supported": ["urn:okta:loa:1fa:any", TWO_FACTOR, "phr"],
        "claims_parameter_supported": false,
    }))
}

async fn serve_jwks(State(state): State<Arc<ProviderState>>) -> Json<Value> {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    Json(lock(&state.jwks).clone())
}

async fn token(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
    Form(request): Form<TokenRequest>,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    lock(&state.token_authorizations).push(authorization);
    let is_refresh = request.get("grant_type").map(String::as_str) == Some("refresh_token");
    lock(&state.token_requests).push(request);
    let refresh_response = lock(&state.refresh_response).clone();
    let response = match refresh_response {
        Some(body) if is_refresh => Some(body),
        _ => lock(&state.token_response).clone(),
    };
    match response {
        Some(body) => Json(body).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        )
            .into_response(),
    }
}

async fn decoy(State(state): State<Arc<ProviderState>>) -> Json<Value> {
    state.decoy_fetches.fetch_add(1, Ordering::SeqCst);
    Json(jwks(&[Key::Other]))
}
