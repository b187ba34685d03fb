//! The axum server: OpenID Connect relying party (`/auth/*`), bearer-token resource
//! server (`/api/*`), and the Leptos app with its server functions.

pub mod api;
pub mod assets;
pub mod config;
pub mod health;
pub mod oidc;
pub mod pages;
pub mod policy_file;
pub mod protection;
pub mod session;
mod startup;

pub use startup::{connect, run, StartupError};

use api::ApiState;
use app::guard::ProviderFacts;
use app::{shell, App};
use axum::extract::FromRef;
use axum::http::Request;
use axum::routing::get;
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use oidc::OidcState;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tower_sessions::SessionStore;
use tracing::Level;

/// Largest request body accepted, in bytes.
pub const MAX_REQUEST_BODY_BYTES: usize = 64 * 1024;

/// Everything the handlers share, behind one `Arc`.
///
/// axum clones the state into every request, once per layer of the router, so a clone must
/// cost one reference count. As a plain struct, copying its strings and options took about
/// 40,000 instructions a request.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

/// The fields of [`AppState`].
pub struct SharedState {
    pub leptos_options: LeptosOptions,
    /// The compiled site; `leptos_options.site_pkg_dir` names its versioned folder.
    pub site: assets::SiteAssets,
    pub api: ApiState,
    pub oidc: OidcState,
}

impl AppState {
    pub fn new(shared: SharedState) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for ApiState {
    fn from_ref(state: &AppState) -> Self {
        state.api.clone()
    }
}

impl FromRef<AppState> for OidcState {
    fn from_ref(state: &AppState) -> Self {
        state.oidc.clone()
    }
}

/// Assembles the whole application.
pub fn router<Store: SessionStore + Clone>(state: AppState, session_store: Store) -> AppService {
    AppService {
        bearer_api: bearer_api_router(state.clone()),
        full: full_router(state, session_store),
    }
}

/// The whole application as one service, in front of two routers.
///
/// A call to `/api/*` with a `Bearer` token (see [`protection::is_bearer_api_call`]) goes
/// to a router without the session, same-origin and sign-in-rate layers. The caller
/// extractor never reads the cookie when an `Authorization` header is present, so those
/// layers do nothing for such a call, yet they cost more than the API itself.
/// Every other request, and a bearer call whose headers are over
/// [`protection::MAX_HEADER_BYTES`], goes through the full stack, which rejects the latter
/// with `431`.
#[derive(Clone)]
pub struct AppService {
    bearer_api: Router,
    full: Router,
}

impl<B> tower::Service<Request<B>> for AppService
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = axum::routing::future::RouteFuture<std::convert::Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Both routers are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let headers = request.headers();
        if protection::is_bearer_api_call(request.uri(), headers)
            && protection::header_bytes(request.uri(), headers) <= protection::MAX_HEADER_BYTES
        {
            self.bearer_api.call(request)
        } else {
            self.full.call(request)
        }
    }
}

/// Builds the `/api/*` routes for callers with a bearer token, with the body limit, JSON
/// error bodies, compression, security headers and request span of [`full_router`].
fn bearer_api_router(state: AppState) -> Router {
    api::router()
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY_BYTES))
        .layer(protection::json_api_errors())
        .layer(CompressionLayer::new())
        .layer(protection::security_headers())
        .layer(trace_layer())
        .with_state(state)
}

fn full_router<Store: SessionStore + Clone>(state: AppState, session_store: Store) -> Router {
    let policy = state.oidc.policy.clone();
    let provider_facts = ProviderFacts {
        acr_values_supported: state.oidc.provider.acr_values_supported.clone(),
    };
    let server_fn_context = move || {
        provide_context(policy.clone());
        provide_context(provider_facts.clone());
    };
    let leptos_options = state.leptos_options.clone();
    let fallback_options = state.leptos_options.clone();
    let site = state.site.clone();
    let routes = route_list();
    let session_layer = session::session_layer(session_store.clone(), &state.oidc.config);
    let provider = Arc::clone(&state.oidc.provider);
    let guards = protection::RequestGuards {
        public_origin: Arc::clone(&state.oidc.public_origin),
        login_limiter: Arc::new(protection::LoginRateLimiter::new(
            state.oidc.config.login_rate_limit,
        )),
    };

    Router::<AppState>::new()
        .route("/healthz", get(health::healthz))
        .route(
            "/readyz",
            get(move || health::readyz(Arc::clone(&provider), session_store.clone())),
        )
        .merge(api::router())
        .merge(oidc::router())
        .leptos_routes_with_context(&state, routes, server_fn_context.clone(), move || {
            shell(leptos_options.clone())
        })
        .fallback(move |request: axum::extract::Request| {
            let render = leptos_axum::render_app_async_with_context(server_fn_context.clone(), {
                let options = fallback_options.clone();
                move || shell(options.clone())
            });
            let site = site.clone();
            async move {
                // A site file, else the app's own "not found" page (which sets 404).
                match site.serve(request.method(), request.uri().path(), request.headers()) {
                    Some(response) => response,
                    None => render(request).await,
                }
            }
        })
        .layer(session_layer)
        .layer(middleware::from_fn_with_state(
            guards,
            protection::guard_request,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY_BYTES))
        .layer(middleware::from_fn(protection::json_framework_errors))
        .layer(CompressionLayer::new())
        .layer(protection::security_headers())
        .layer(trace_layer())
        .with_state(state)
}

/// The request tracing of both routers, as [`trace_layer`] builds it.
type RequestTrace = TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&axum::http::Request<axum::body::Body>) -> tracing::Span,
    tower_http::trace::DefaultOnRequest,
    DefaultOnResponse,
>;

/// Logs one span per request and its response at `info`.
fn trace_layer() -> RequestTrace {
    TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&axum::http::Request<axum::body::Body>) -> tracing::Span)
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(LatencyUnit::Millis),
        )
}

/// Returns the app's routes, generated once per process and reused by every later router.
///
/// `generate_route_list` renders the app while leptos_server's `SuppressResourceLoad` guard
/// sets a process-wide flag, and a resource whose future is first polled while that flag
/// is set waits forever (leptos_server's `resource.rs` checks it once, at the first poll).
/// The server builds its router once before it serves, so only routers built while another
/// renders are at risk, as in parallel tests: one render of a guarded page in several
/// hundred hung. Behind a `OnceLock`, every caller waits for the one generation to end
/// before it can serve anything.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Opens the span of one request with its method and path. The query string is left out:
/// on `/auth/callback` it carries the authorization code and `state`.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    // The route is borrowed, not copied: the fields are read only when the span is enabled.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| request.uri().path(), axum::extract::MatchedPath::as_str);
    tracing::info_span!("request", http.method = %request.method(), http.route = %route)
}

/// Returns the current time in epoch seconds.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
