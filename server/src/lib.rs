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
use axum::routing::get;
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use oidc::OidcState;
use std::sync::Arc;
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
pub fn router<Store: SessionStore + Clone>(state: AppState, session_store: Store) -> Router {
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
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
        .with_state(state)
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
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(
            || request.uri().path().to_owned(),
            |matched| matched.as_str().to_owned(),
        );
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
