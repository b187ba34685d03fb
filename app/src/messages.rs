//! The messages resource: its JSON shape, and the browser's client for `/api/messages`.
//!
//! The browser calls it through [`crate::api_client`], which handles step-up challenges.

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

/// Fetches the messages, starting a step-up when the API requires one.
///
/// `return_to` is the page (path and query) to come back to after the step-up.
#[cfg(feature = "hydrate")]
pub async fn fetch_messages(return_to: &str) -> crate::api_client::ApiResult<MessageList> {
    use crate::api_client::{call_api, ApiMethod, ApiRequest};

    let request = ApiRequest {
        method: ApiMethod::Get,
        path: MESSAGES_API_PATH,
        body: None,
        idempotency_key: None,
    };
    call_api(request, return_to).await
}
