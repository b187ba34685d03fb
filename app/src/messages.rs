//! The messages resource: its JSON shape, and the browser's client for `/api/messages`.
//!
//! The client follows RFC 9470 §4: a `401` whose `WWW-Authenticate` challenge carries
//! `error="insufficient_user_authentication"` starts a new authorization request with the
//! challenge's `acr_values` and `max_age`, and the page fetches again once the user is back.

use serde::{Deserialize, Serialize};

/// Path of the messages API, relative to the app's own origin.
pub const MESSAGES_API_PATH: &str = "/api/messages";

/// One message as `GET /api/messages` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub from: String,
    pub subject: String,
    pub body: String,
}

/// The body of `GET /api/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    pub messages: Vec<Message>,
}

/// What fetching the messages led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessagesFetch {
    Loaded(Vec<Message>),
    /// The browser is leaving for the provider to step up.
    SteppingUp {
        login_url: String,
    },
    /// Shown to the user as it is.
    Failed(String),
}

/// Fetches the messages, starting a step-up when the API asks for one.
///
/// `return_to` is the page (path and query) to come back to after the step-up.
#[cfg(feature = "hydrate")]
pub async fn fetch_messages(return_to: String) -> MessagesFetch {
    use crate::login_url::login_url;
    use gloo_net::http::Request;
    use stepup::BearerChallenge;

    let response = match Request::get(MESSAGES_API_PATH).send().await {
        Ok(response) => response,
        Err(_) => return MessagesFetch::Failed(NETWORK_FAILED.to_owned()),
    };
    match response.status() {
        200 => match response.json::<MessageList>().await {
            Ok(list) => {
                loop_guard::clear();
                MessagesFetch::Loaded(list.messages)
            }
            Err(_) => MessagesFetch::Failed(UNREADABLE.to_owned()),
        },
        401 | 403 => {
            let header = response
                .headers()
                .get("www-authenticate")
                .unwrap_or_default();
            let challenge = match BearerChallenge::from_header_value(&header) {
                Ok(Some(challenge)) => challenge,
                Ok(None) | Err(_) => return MessagesFetch::Failed(NOT_ALLOWED.to_owned()),
            };
            if !challenge.is_step_up() {
                return MessagesFetch::Failed(NOT_ALLOWED.to_owned());
            }
            let requirement = format!("{:?} {:?}", challenge.acr_values, challenge.max_age);
            if !loop_guard::begin(&requirement) {
                return MessagesFetch::Failed(STEP_UP_NOT_REACHED.to_owned());
            }
            let login_url = login_url(&return_to, &challenge.acr_values, challenge.max_age);
            MessagesFetch::SteppingUp { login_url }
        }
        status => {
            MessagesFetch::Failed(format!("The messages could not be loaded (HTTP {status})."))
        }
    }
}

#[cfg(feature = "hydrate")]
const NETWORK_FAILED: &str = "The messages could not be loaded: the server did not answer.";
#[cfg(feature = "hydrate")]
const UNREADABLE: &str = "The server sent messages this page cannot read.";
#[cfg(feature = "hydrate")]
const NOT_ALLOWED: &str = "Your session does not allow reading messages. Sign in again.";
#[cfg(feature = "hydrate")]
const STEP_UP_NOT_REACHED: &str =
    "The messages still need a stronger sign-in after you signed in again. \
     Sign out and try again, or ask an administrator to enrol a second factor.";

/// Remembers, in `sessionStorage`, the step-up the browser last left for, so that a
/// challenge for the same requirement right after coming back stops instead of looping.
#[cfg(feature = "hydrate")]
mod loop_guard {
    const KEY: &str = "stepup.pending";
    /// How long after leaving for a step-up the same challenge counts as a repeat.
    const WINDOW_MS: f64 = 120_000.0;

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.session_storage().ok()?
    }

    /// Records a step-up for `requirement`; returns `false` when the browser already left
    /// for the same one within the window.
    pub(super) fn begin(requirement: &str) -> bool {
        let Some(storage) = storage() else {
            return true;
        };
        let now = js_sys::Date::now();
        if let Ok(Some(previous)) = storage.get_item(KEY) {
            if let Some((at, previous_requirement)) = previous.split_once('|') {
                let recent = at.parse::<f64>().is_ok_and(|at| now - at < WINDOW_MS);
                if recent && previous_requirement == requirement {
                    clear();
                    return false;
                }
            }
        }
        let _ = storage.set_item(KEY, &format!("{now}|{requirement}"));
        true
    }

    pub(super) fn clear() {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(KEY);
        }
    }
}
