//! `GET /api/messages`: the user's messages, behind a two-factor requirement.

use super::{ApiError, ApiState, Caller};
use app::messages::{Message, MessageList};
use axum::extract::State;
use axum::Json;

/// Returns the caller's messages once the route's step-up requirement is met.
pub async fn list_messages(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<MessageList>, ApiError> {
    state.authorize(&caller, "/api/messages", "GET", None)?;
    Ok(Json(MessageList {
        messages: demo_messages(&caller.claims.sub),
    }))
}

/// Returns the demo mailbox: the same three messages for every user, addressed to them.
fn demo_messages(subject: &str) -> Vec<Message> {
    let message = |id: &str, from: &str, title: &str, body: &str| Message {
        id: format!("{subject}-{id}"),
        from: from.to_owned(),
        subject: title.to_owned(),
        body: body.to_owned(),
    };
    vec![
        message(
            "1",
            "Security team",
            "New sign-in method",
            "A second factor now protects your messages and your profile.",
        ),
        message(
            "2",
            "Payments",
            "Monthly statement",
            "Your statement for this month is ready.",
        ),
        message(
            "3",
            "Support",
            "Ticket closed",
            "We closed your ticket about the mobile app. Reply to reopen it.",
        ),
    ]
}
