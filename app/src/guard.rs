//! Route guards: server functions that decide whether the session may see a page.
//!
//! A guard never trusts the browser: the page names one of the [`GuardedRoute`]s, the
//! server looks its requirement up in the step-up [`Policy`](stepup::Policy) it also uses for
//! the API, and the check runs against the ID token claims stored in the server-side
//! session, on every call.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A page that requires a signed-in user, and whatever the policy adds for its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuardedRoute {
    Profile,
    Messages,
    Transfers,
    Security,
}

impl GuardedRoute {
    /// Returns the page's path, which the policy's rules are keyed by.
    pub fn path(self) -> &'static str {
        match self {
            Self::Profile => "/profile",
            Self::Messages => "/messages",
            Self::Transfers => "/transfers",
            Self::Security => "/security",
        }
    }
}

/// Claims about the signed-in user that a page may show. It never contains tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// Time of the authentication in epoch seconds.
    pub auth_time: Option<i64>,
    /// `auth_time` as an RFC 3339 UTC timestamp, for display.
    pub auth_time_utc: Option<String>,
}

impl Viewer {
    /// Returns the name to greet the user with: `name`, else `email`, else the subject.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| self.subject.clone())
    }
}

/// The guard's verdict for one route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteAccess {
    Granted(Viewer),
    /// No user is signed in. `login_url` starts sign-in and returns to the page.
    SignInRequired {
        login_url: String,
    },
    /// The session's authentication is too weak or too old for the page.
    StepUpRequired {
        login_url: String,
        reason: String,
    },
}

/// Returns the signed-in user, or `None`.
#[server(prefix = "/rpc", endpoint = "current_viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, ServerFnError> {
    ssr::current_viewer().await
}

/// Checks the session against the requirement of `route`.
///
/// `return_to` is where sign-in brings the user back; anything but a same-origin path is
/// replaced by `/`.
#[server(prefix = "/rpc", endpoint = "check_route_access")]
pub async fn check_route_access(
    route: GuardedRoute,
    return_to: String,
) -> Result<RouteAccess, ServerFnError> {
    ssr::route_access(route, &return_to).await
}

/// Returns the provider's `acr_values_supported`, so the browser starts a step-up only for
/// a level the provider can deliver.
#[server(prefix = "/rpc", endpoint = "acr_values_supported")]
pub async fn acr_values_supported() -> Result<Vec<String>, ServerFnError> {
    let facts = use_context::<ProviderFacts>()
        .ok_or_else(|| ServerFnError::new("The server is misconfigured."))?;
    Ok(facts.acr_values_supported)
}

/// Facts from the provider's discovery document that server functions need.
#[derive(Clone, Debug, Default)]
pub struct ProviderFacts {
    pub acr_values_supported: Vec<String>,
}

#[cfg(feature = "ssr")]
pub(crate) use ssr::unix_now;

/// Sends the browser to `url` with a full page load.
///
/// During server-side rendering this turns the page's response into a `302`, which works
/// only while the headers are unsent (see [`Redirect`]). In the browser it assigns
/// `window.location`.
pub fn start_redirect(url: &str) {
    Redirect::capture().to(url);
}

/// A handle on the response a redirect is written to, taken from the reactive context.
///
/// A server render reads the response's status and headers once, when its first chunk is
/// ready. A blocking resource holds that chunk back until its future ends, so a redirect
/// set inside that future always lands in the headers. Set from the view that shows the
/// result, it depends on when the renderer polls that view, and a browser run under load
/// once got the redirect view with `200`.
#[derive(Clone, Default)]
pub struct Redirect {
    #[cfg(feature = "ssr")]
    response: Option<leptos_axum::ResponseOptions>,
}

impl Redirect {
    /// Takes the current response's options, on the server; nothing in the browser.
    pub fn capture() -> Self {
        Self {
            #[cfg(feature = "ssr")]
            response: use_context::<leptos_axum::ResponseOptions>(),
        }
    }

    /// Sends the browser to `url`: a `302` with `Location` on the server, a page load in
    /// the browser.
    pub fn to(&self, url: &str) {
        #[cfg(feature = "ssr")]
        if let Some(response) = &self.response {
            match http::HeaderValue::from_str(url) {
                Ok(location) => {
                    response.set_status(http::StatusCode::FOUND);
                    response.insert_header(http::header::LOCATION, location);
                }
                Err(_) => tracing::error!("redirect target is not a valid header value"),
            }
        }

        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            // NOTE: a failed assignment leaves the "Redirecting" message and its link on
            // screen, which the user can follow by hand.
            let _ = window.location().assign(url);
        }

        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        let _ = url;
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{GuardedRoute, RouteAccess, Viewer};
    use crate::audit::{self, Outcome};
    use crate::login_url::login_url;
    use crate::session::{load_auth_state, AuthState};
    use leptos::prelude::*;
    use std::sync::Arc;
    use stepup::{Decision, Policy};
    use tower_sessions::Session;

    pub(super) async fn current_viewer() -> Result<Option<Viewer>, ServerFnError> {
        let session = request_session().await?;
        Ok(load_auth_state(&session).await.map(|state| viewer(&state)))
    }

    pub(super) async fn route_access(
        route: GuardedRoute,
        return_to: &str,
    ) -> Result<RouteAccess, ServerFnError> {
        let policy = use_context::<Arc<Policy>>().ok_or_else(|| {
            tracing::error!("step-up policy missing from the server function context");
            ServerFnError::new("The server is misconfigured.")
        })?;
        let session = request_session().await?;
        let requirement = &policy.requirement_for(route.path(), "GET", |_| None);
        let return_to = same_origin_path(return_to);
        let login = login_url(return_to, &requirement.acr_values, requirement.max_age);

        let Some(state) = load_auth_state(&session).await else {
            return Ok(RouteAccess::SignInRequired { login_url: login });
        };
        let now = unix_now();
        let mut decision = policy.evaluate(requirement, &state.authentication(), now);
        // `max_age=0` requires an authentication made in response to this requirement. Within
        // the clock skew `evaluate` also accepts one made just before, so the guard
        // additionally requires a sign-in that itself requested `max_age=0`.
        let reauthenticated = state.reauthenticated_at.is_some_and(|at| {
            now.saturating_sub(at) <= i64::try_from(policy.clock_skew_secs).unwrap_or(i64::MAX)
        });
        if requirement.max_age == Some(0) && decision.is_allowed() && !reauthenticated {
            decision = Decision::StepUp(stepup::Shortfall {
                too_old: true,
                ..stepup::Shortfall::default()
            });
        }
        match decision {
            Decision::Allow => {
                audit::record(
                    Outcome::Satisfied,
                    Some(&state.subject),
                    route.path(),
                    requirement,
                );
                Ok(RouteAccess::Granted(viewer(&state)))
            }
            Decision::StepUp(shortfall) => {
                audit::record(
                    Outcome::Challenged,
                    Some(&state.subject),
                    route.path(),
                    requirement,
                );
                Ok(RouteAccess::StepUpRequired {
                    login_url: login,
                    reason: shortfall.description().to_owned(),
                })
            }
        }
    }

    async fn request_session() -> Result<Session, ServerFnError> {
        leptos_axum::extract::<Session>().await.map_err(|error| {
            tracing::error!(%error, "session layer missing");
            ServerFnError::new("The session is unavailable.")
        })
    }

    fn viewer(state: &AuthState) -> Viewer {
        Viewer {
            subject: state.subject.clone(),
            name: state.name.clone(),
            email: state.email.clone(),
            acr: state.acr.clone(),
            amr: state.amr.clone(),
            auth_time: state.auth_time,
            auth_time_utc: state.auth_time.and_then(format_utc),
        }
    }

    fn format_utc(epoch_secs: i64) -> Option<String> {
        let time = time::OffsetDateTime::from_unix_timestamp(epoch_secs).ok()?;
        time.format(&time::format_description::well_known::Rfc3339)
            .ok()
    }

    /// Keeps `path` when it is a path on this origin, else returns `/`.
    ///
    /// The login route checks `return_to` again; this keeps the guard from building a
    /// login URL around a foreign target in the first place.
    fn same_origin_path(path: &str) -> &str {
        let is_local = path.starts_with('/')
            && !path.starts_with("//")
            && !path.starts_with("/\\")
            && !path.chars().any(char::is_control);
        if is_local {
            path
        } else {
            "/"
        }
    }

    pub(crate) fn unix_now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
            })
    }
}
