//! `GET` and `POST /api/transfers`: a payload-dependent step-up rule, with idempotent
//! creation and the pending action a step-up leaves behind.

use super::{ApiError, ApiState, Caller};
use app::session::{
    load_auth_state, load_pending_action, remove_pending_action, PendingAction, PENDING_ACTION_KEY,
};
use app::transfers::{
    is_valid_idempotency_key, Transfer, TransferList, TransferRequest, TRANSFERS_API_PATH,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use std::collections::HashMap;
use std::sync::Mutex;

/// Most transfers kept per user in the demo store; the oldest go first.
const MAX_TRANSFERS_PER_USER: usize = 100;

/// The transfers of every user, in memory.
///
/// NOTE: a demo store: it is lost at restart and not shared between replicas.
#[derive(Default)]
pub struct TransferStore {
    users: Mutex<HashMap<String, UserTransfers>>,
}

#[derive(Default)]
struct UserTransfers {
    transfers: Vec<Transfer>,
    /// Idempotency key to the request it created and the transfer's id.
    by_key: HashMap<String, (TransferRequest, String)>,
    next_id: u64,
}

/// The result of [`TransferStore::create`].
enum Created {
    New(Transfer),
    /// The key was seen before with the same request: the earlier transfer.
    Replayed(Transfer),
    /// The key was seen before with another request.
    KeyReused,
}

impl TransferStore {
    fn list(&self, subject: &str) -> Vec<Transfer> {
        let users = self
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut transfers = users
            .get(subject)
            .map(|user| user.transfers.clone())
            .unwrap_or_default();
        transfers.reverse();
        transfers
    }

    /// Creates a transfer once per idempotency key.
    fn create(&self, subject: &str, key: &str, request: TransferRequest, now: i64) -> Created {
        let mut users = self
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let user = users.entry(subject.to_owned()).or_default();
        if let Some((earlier, id)) = user.by_key.get(key) {
            if *earlier != request {
                return Created::KeyReused;
            }
            return match user.transfers.iter().find(|transfer| transfer.id == *id) {
                Some(transfer) => Created::Replayed(transfer.clone()),
                None => Created::KeyReused,
            };
        }
        user.next_id += 1;
        let transfer = Transfer {
            id: format!("tr-{}", user.next_id),
            to: request.to.trim().to_owned(),
            amount: request.amount,
            created_at: now,
        };
        user.by_key
            .insert(key.to_owned(), (request, transfer.id.clone()));
        user.transfers.push(transfer.clone());
        if user.transfers.len() > MAX_TRANSFERS_PER_USER {
            let removed = user.transfers.remove(0);
            user.by_key.retain(|_, (_, id)| *id != removed.id);
        }
        Created::New(transfer)
    }
}

/// Returns the caller's transfers, newest first.
pub async fn list_transfers(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<TransferList>, ApiError> {
    state.authorize(&caller, TRANSFERS_API_PATH, "GET", None)?;
    Ok(Json(TransferList {
        transfers: state.transfers.list(&caller.claims.sub),
    }))
}

/// Creates a transfer.
///
/// Steps:
/// 1. Parse and validate the JSON body and the `Idempotency-Key` header.
/// 2. Apply the policy, which reads `amount`: a large transfer needs a stronger and more
///    recent authentication (RFC 9470 §3).
/// 3. When the policy requires a step-up on a call made with the session cookie, keep the
///    call in the session as a pending action, so the user can confirm it after stepping up.
/// 4. Create the transfer once per key: a repeat with the same body returns the first
///    result, and a repeat with another body is rejected.
pub async fn create_transfer(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Transfer>), ApiError> {
    // 1. Input.
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
        });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let payload: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
        ApiError::BadRequest("The request body must be a JSON object with `to` and `amount`.")
    })?;
    let request: TransferRequest = serde_json::from_value(payload.clone()).map_err(|_| {
        ApiError::BadRequest("The request body must be a JSON object with `to` and `amount`.")
    })?;
    request.validate().map_err(ApiError::BadRequest)?;
    let key = idempotency_key(&headers)?;

    // 2 and 3. Policy, and the pending action for a step-up.
    if let Err(error) = state.authorize(&caller, TRANSFERS_API_PATH, "POST", Some(&payload)) {
        if let (ApiError::InsufficientUserAuthentication { requirement, .. }, Some(session)) =
            (&error, &caller.session)
        {
            // The session's subject comes from the ID token. Some providers (Okta) put
            // another value in the access token's `sub`, and the callback compares with
            // the ID token's.
            let subject = load_auth_state(session)
                .await
                .map_or_else(|| caller.claims.sub.clone(), |state| state.subject);
            let action = PendingAction {
                method: "POST".to_owned(),
                path: TRANSFERS_API_PATH.to_owned(),
                body: payload.to_string(),
                idempotency_key: key.clone(),
                subject,
                acr_values: requirement.acr_values.clone(),
                max_age: requirement.max_age,
                created_at: crate::unix_now(),
                ready: false,
            };
            if let Err(store_error) = session.insert(PENDING_ACTION_KEY, &action).await {
                tracing::error!(error = %store_error, "could not keep the pending action in the session");
            }
        }
        return Err(error);
    }

    // 4. Create once.
    let created = state
        .transfers
        .create(&caller.claims.sub, &key, request, crate::unix_now());
    if let Some(session) = &caller.session {
        let is_this_action = load_pending_action(session)
            .await
            .is_some_and(|action| action.idempotency_key == key);
        if is_this_action {
            remove_pending_action(session).await;
        }
    }
    match created {
        Created::New(transfer) => {
            tracing::info!(user.sub = %caller.claims.sub, transfer.id = %transfer.id, "transfer created");
            Ok((StatusCode::CREATED, Json(transfer)))
        }
        Created::Replayed(transfer) => Ok((StatusCode::OK, Json(transfer))),
        Created::KeyReused => Err(ApiError::IdempotencyKeyReused),
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::BadRequest(
            "Send exactly one Idempotency-Key header.",
        ));
    };
    match value.to_str() {
        Ok(key) if is_valid_idempotency_key(key) => Ok(key.to_owned()),
        _ => Err(ApiError::BadRequest(
            "The Idempotency-Key must be 1 to 64 letters, digits, '-' or '_'.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(amount: f64) -> TransferRequest {
        TransferRequest {
            to: "acct-9".to_owned(),
            amount,
        }
    }

    #[test]
    fn same_key_same_body_replays() {
        let store = TransferStore::default();
        assert!(matches!(
            store.create("u1", "k1", request(10.0), 1),
            Created::New(_)
        ));
        assert!(matches!(
            store.create("u1", "k1", request(10.0), 2),
            Created::Replayed(_)
        ));
        assert_eq!(store.list("u1").len(), 1);
    }

    #[test]
    fn same_key_other_body_is_rejected() {
        let store = TransferStore::default();
        assert!(matches!(
            store.create("u1", "k1", request(10.0), 1),
            Created::New(_)
        ));
        assert!(matches!(
            store.create("u1", "k1", request(11.0), 2),
            Created::KeyReused
        ));
        assert_eq!(store.list("u1").len(), 1);
    }

    #[test]
    fn keys_are_per_user() {
        let store = TransferStore::default();
        assert!(matches!(
            store.create("u1", "k1", request(10.0), 1),
            Created::New(_)
        ));
        assert!(matches!(
            store.create("u2", "k1", request(10.0), 1),
            Created::New(_)
        ));
        assert_eq!(store.list("u2").len(), 1);
    }

    #[test]
    fn store_keeps_most_recent_transfers() {
        let store = TransferStore::default();
        for index in 0..(MAX_TRANSFERS_PER_USER + 5) {
            let key = format!("k{index}");
            assert!(matches!(
                store.create("u1", &key, request(1.0), 1),
                Created::New(_)
            ));
        }
        let list = store.list("u1");
        assert_eq!(list.len(), MAX_TRANSFERS_PER_USER);
        assert_eq!(list[0].id, format!("tr-{}", MAX_TRANSFERS_PER_USER + 5));
    }
}
