//! The browser's client for the app's own API, with the client side of RFC 9470.
//!
//! Every call goes through `call_api` (browser build only), which follows
//! [`stepup::classify_response`]: a step-up challenge starts a new authorization request
//! with the challenge's `acr_values` and `max_age`; `invalid_token` triggers one server-side
//! refresh and one retry; anything else becomes a message for the user. A request is retried
//! at most once.

#[cfg(feature = "hydrate")]
pub use browser::call_api;

/// The outcome of an API call.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiResult<T> {
    Ok(T),
    /// The browser is leaving for the provider to step up.
    SteppingUp {
        login_url: String,
    },
    /// Shown to the user as it is.
    Failed(String),
}

/// One call to the app's API.
#[derive(Clone, Copy, Debug)]
pub struct ApiRequest<'a> {
    pub method: ApiMethod,
    /// A path on the app's own origin, such as `/api/messages`.
    pub path: &'a str,
    /// JSON body for `POST`.
    pub body: Option<&'a str>,
    /// Sent as `Idempotency-Key`, so a retried `POST` runs once.
    pub idempotency_key: Option<&'a str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiMethod {
    Get,
    Post,
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{ApiMethod, ApiRequest, ApiResult};
    use crate::login_url::login_url;
    use gloo_net::http::{Request, Response};
    use serde::de::DeserializeOwned;
    use stepup::{classify_response, unsupported_acr_values, BearerChallenge, ResponseAction};

    /// Server route that refreshes the session's tokens with its refresh token.
    const REFRESH_PATH: &str = "/auth/refresh";

    const NETWORK_FAILED: &str = "The server did not respond. Check your connection and try again.";
    const UNREADABLE: &str = "The server sent a response this page cannot read.";
    const SESSION_EXPIRED: &str = "Your session has expired. Sign in again to continue.";
    const FOREIGN_CHALLENGE: &str =
        "A step-up request did not come from this app's API, so it was ignored.";
    const UNSUPPORTED_LEVEL: &str =
        "The API requires a sign-in level that the identity provider does not offer.";
    const STEP_UP_NOT_REACHED: &str =
        "The API still requires a stronger sign-in after you signed in again. \
         Sign out and try again, or ask an administrator to enrol a second factor.";

    /// Calls the API and handles authentication challenges; `return_to` is the page (path and
    /// query) to come back to after a step-up.
    pub async fn call_api<T: DeserializeOwned>(
        request: ApiRequest<'_>,
        return_to: &str,
    ) -> ApiResult<T> {
        let mut refreshed = false;
        loop {
            let Ok(response) = send(request).await else {
                return ApiResult::Failed(NETWORK_FAILED.to_owned());
            };
            let header = response.headers().get("www-authenticate");
            match classify_response(response.status(), header.as_deref()) {
                ResponseAction::Success => {
                    loop_guard::clear();
                    return match response.json::<T>().await {
                        Ok(value) => ApiResult::Ok(value),
                        Err(_) => ApiResult::Failed(UNREADABLE.to_owned()),
                    };
                }
                ResponseAction::StepUp(challenge) => {
                    return step_up(&response, &challenge, return_to).await
                }
                ResponseAction::Refresh if !refreshed && refresh_session().await => {
                    refreshed = true
                }
                ResponseAction::Refresh => return ApiResult::Failed(SESSION_EXPIRED.to_owned()),
                ResponseAction::Fail { status, .. } => {
                    return ApiResult::Failed(failure_message(status, response).await)
                }
            }
        }
    }

    async fn send(request: ApiRequest<'_>) -> Result<Response, gloo_net::Error> {
        let builder = match request.method {
            ApiMethod::Get => Request::get(request.path),
            ApiMethod::Post => Request::post(request.path),
        };
        let builder = match request.idempotency_key {
            Some(key) => builder.header("Idempotency-Key", key),
            None => builder,
        };
        match request.body {
            Some(body) => {
                builder
                    .header("Content-Type", "application/json")
                    .body(body)?
                    .send()
                    .await
            }
            None => builder.send().await,
        }
    }

    /// Starts the step-up a challenge requests, after three checks: the challenge came from
    /// this origin, the provider advertises every requested acr value, and the browser did not
    /// just come back from the same step-up.
    async fn step_up<T>(
        response: &Response,
        challenge: &BearerChallenge,
        return_to: &str,
    ) -> ApiResult<T> {
        if !is_own_origin(&response.url()) {
            return ApiResult::Failed(FOREIGN_CHALLENGE.to_owned());
        }
        let supported = match crate::guard::acr_values_supported().await {
            Ok(values) => values,
            Err(_) => return ApiResult::Failed(NETWORK_FAILED.to_owned()),
        };
        if !unsupported_acr_values(challenge, &supported).is_empty() {
            return ApiResult::Failed(UNSUPPORTED_LEVEL.to_owned());
        }
        let requirement = format!("{} {:?}", challenge.acr_values.join(" "), challenge.max_age);
        if !loop_guard::begin(&requirement) {
            return ApiResult::Failed(STEP_UP_NOT_REACHED.to_owned());
        }
        ApiResult::SteppingUp {
            login_url: login_url(return_to, &challenge.acr_values, challenge.max_age),
        }
    }

    /// Asks the server to refresh the session's tokens; returns whether it did.
    async fn refresh_session() -> bool {
        match Request::post(REFRESH_PATH).send().await {
            Ok(response) => response.ok(),
            Err(_) => false,
        }
    }

    /// Uses the API's own `error_description` for client errors (the API sends fixed,
    /// user-safe sentences) and a generic message otherwise.
    async fn failure_message(status: u16, response: Response) -> String {
        #[derive(serde::Deserialize)]
        struct ErrorBody {
            error_description: Option<String>,
        }
        if (400..500).contains(&status) {
            if let Ok(ErrorBody {
                error_description: Some(description),
            }) = response.json::<ErrorBody>().await
            {
                return description;
            }
        }
        format!("The request failed (HTTP {status}). Try again later.")
    }

    fn is_own_origin(url: &str) -> bool {
        let Some(origin) = web_sys::window().and_then(|window| window.location().origin().ok())
        else {
            return false;
        };
        url.strip_prefix(&origin)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Remembers, in `sessionStorage`, the step-up the browser last left for, so that a
    /// challenge for the same requirement right after coming back stops instead of looping.
    mod loop_guard {
        const KEY: &str = "stepup.pending";
        /// How long after leaving for a step-up the same challenge counts as a repeat.
        const WINDOW_MS: u64 = 120_000;

        fn storage() -> Option<web_sys::Storage> {
            web_sys::window()?.session_storage().ok()?
        }

        /// Records a step-up for `requirement`; returns `false` when the browser already left
        /// for the same one within the window.
        pub(super) fn begin(requirement: &str) -> bool {
            let Some(storage) = storage() else {
                return true;
            };
            // Whole milliseconds: integers keep float parsing and formatting out of the wasm.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "Date.now() is a positive whole number of milliseconds"
            )]
            let now = js_sys::Date::now() as u64;
            if let Ok(Some(previous)) = storage.get_item(KEY) {
                if let Some((at, previous_requirement)) = previous.split_once('|') {
                    let recent = at
                        .parse::<u64>()
                        .is_ok_and(|at| now.saturating_sub(at) < WINDOW_MS);
                    if recent && previous_requirement == requirement {
                        clear();
                        return false;
                    }
                }
            }
            // NOTE: without sessionStorage the guard cannot remember; the server's callback
            // check still stops a step-up that the provider did not satisfy.
            let _ = storage.set_item(KEY, &format!("{now}|{requirement}"));
            true
        }

        pub(super) fn clear() {
            if let Some(storage) = storage() {
                let _ = storage.remove_item(KEY);
            }
        }
    }
}
