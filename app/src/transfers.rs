//! The transfers resource: its JSON shapes, input rules, and the server functions for a
//! transfer that waits for confirmation after a step-up.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Path of the transfers API, relative to the app's own origin.
pub const TRANSFERS_API_PATH: &str = "/api/transfers";

/// Largest amount one transfer may move.
pub const MAX_TRANSFER_AMOUNT: f64 = 1_000_000.0;

/// Maximum length of a recipient account name, in characters.
pub const MAX_RECIPIENT_CHARS: usize = 64;

/// The body of `POST /api/transfers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransferRequest {
    /// Recipient account, such as `acct-9`.
    pub to: String,
    /// Amount in the account's currency, with at most two decimals.
    pub amount: f64,
}

/// A transfer the server made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: String,
    pub to: String,
    pub amount: f64,
    /// When the server made it, in epoch seconds.
    pub created_at: i64,
}

/// The body of `GET /api/transfers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransferList {
    pub transfers: Vec<Transfer>,
}

/// Reads an amount typed by the user: digits, optionally followed by a point and one or two
/// decimals, such as `1500` or `12.50`.
///
/// It parses by hand, in whole cents, rather than with `str::parse::<f64>`: that keeps the
/// float parser out of the browser's wasm, and accepts none of the forms a float parser
/// does that no one types as money (`1e3`, `inf`, `.5`).
///
/// # Errors
///
/// Returns the sentence to show when the text is not such an amount.
pub fn parse_amount(text: &str) -> Result<f64, &'static str> {
    const INVALID: &str = "Enter the amount as a number, such as 250 or 12.50.";
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || whole.len() > 9 || !all_digits(whole) || !all_digits(fraction) {
        return Err(INVALID);
    }
    if text.trim().ends_with('.') {
        return Err(INVALID);
    }
    if fraction.len() > 2 {
        return Err("The amount may have at most two decimals.");
    }
    let whole: u32 = whole.parse().map_err(|_| INVALID)?;
    let cents: u32 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<u32>().map_err(|_| INVALID)? * 10,
        _ => fraction.parse().map_err(|_| INVALID)?,
    };
    Ok(f64::from(whole) + f64::from(cents) / 100.0)
}

/// Formats an amount with two decimals (`1500.00`), through whole cents so that the
/// browser's wasm needs no float formatting.
pub fn format_amount(amount: f64) -> String {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "amounts are at most 1,000,000, and the cast saturates beyond i64"
    )]
    let cents = (amount * 100.0).round() as i64;
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

impl TransferRequest {
    /// Checks the recipient and amount; returns a message for the user when they are invalid.
    ///
    /// # Errors
    ///
    /// Returns a fixed sentence that names the invalid field.
    pub fn validate(&self) -> Result<(), &'static str> {
        let to = self.to.trim();
        if to.is_empty() || to.chars().count() > MAX_RECIPIENT_CHARS {
            return Err("The recipient must be 1 to 64 characters long.");
        }
        if !to
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("The recipient may contain only letters, digits, '-' and '_'.");
        }
        if !self.amount.is_finite() || self.amount <= 0.0 || self.amount > MAX_TRANSFER_AMOUNT {
            return Err("The amount must be greater than 0 and at most 1,000,000.");
        }
        let cents = self.amount * 100.0;
        if (cents - cents.round()).abs() > 1e-6 {
            return Err("The amount may have at most two decimals.");
        }
        Ok(())
    }

    /// Encodes the request as the JSON body of `POST /api/transfers`, with the amount
    /// written from whole cents (`12.50`), as the user typed it.
    ///
    /// serde_json writes an `f64` with the shortest digits that read back to the same
    /// float, so `1.14`, parsed as `1 + 14 / 100`, went out as `1.1400000000000001`.
    /// Writing from cents also keeps serde_json's float writer out of the browser's wasm.
    /// Returns `None` only if serde_json fails to write a string.
    pub fn to_json_body(&self) -> Option<String> {
        let to = serde_json::to_string(&self.to).ok()?;
        Some(format!(
            r#"{{"to":{to},"amount":{}}}"#,
            format_amount(self.amount)
        ))
    }
}

/// Returns whether an idempotency key is well formed: 1 to 64 characters of `[A-Za-z0-9_-]`.
pub fn is_valid_idempotency_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// The pending transfer of the session, as the transfers page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PendingTransfer {
    None,
    /// Stepped up and waiting for the user's confirmation.
    Ready {
        request: TransferRequest,
        idempotency_key: String,
    },
    /// A pending transfer was dropped, and the message gives the reason.
    Dropped {
        message: String,
    },
}

/// Returns the session's pending transfer, dropping one that expired or belongs to another
/// user.
#[server(prefix = "/rpc", endpoint = "load_pending_transfer")]
pub async fn load_pending_transfer() -> Result<PendingTransfer, ServerFnError> {
    ssr::pending_transfer().await
}

/// Drops the session's pending transfer without running it.
#[server(prefix = "/rpc", endpoint = "discard_pending_transfer")]
pub async fn discard_pending_transfer() -> Result<(), ServerFnError> {
    ssr::discard().await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{PendingTransfer, TransferRequest, TRANSFERS_API_PATH};
    use crate::session::{load_auth_state, load_pending_action, remove_pending_action};
    use leptos::prelude::*;
    use tower_sessions::Session;

    pub(super) async fn pending_transfer() -> Result<PendingTransfer, ServerFnError> {
        let session = leptos_axum::extract::<Session>().await.map_err(|error| {
            tracing::error!(%error, "session layer missing");
            ServerFnError::new("The session is unavailable.")
        })?;
        let Some(action) = load_pending_action(&session).await else {
            return Ok(PendingTransfer::None);
        };
        if action.path != TRANSFERS_API_PATH || action.method != "POST" || !action.ready {
            return Ok(PendingTransfer::None);
        }
        let subject = load_auth_state(&session).await.map(|state| state.subject);
        let now = crate::guard::unix_now();
        let dropped = if action.is_expired(now) {
            Some("A transfer waiting for your confirmation expired and was discarded. Submit it again.")
        } else if subject.as_deref() != Some(action.subject.as_str()) {
            Some("A transfer started by another account was discarded.")
        } else {
            None
        };
        if let Some(message) = dropped {
            tracing::info!(stepup.action = %action.path, "dropping a pending action");
            remove_pending_action(&session).await;
            return Ok(PendingTransfer::Dropped {
                message: message.to_owned(),
            });
        }
        match serde_json::from_str::<TransferRequest>(&action.body) {
            Ok(request) => Ok(PendingTransfer::Ready {
                request,
                idempotency_key: action.idempotency_key,
            }),
            Err(error) => {
                tracing::warn!(%error, "dropping a pending transfer with an unreadable body");
                remove_pending_action(&session).await;
                Ok(PendingTransfer::None)
            }
        }
    }

    pub(super) async fn discard() -> Result<(), ServerFnError> {
        let session = leptos_axum::extract::<Session>().await.map_err(|error| {
            tracing::error!(%error, "session layer missing");
            ServerFnError::new("The session is unavailable.")
        })?;
        remove_pending_action(&session).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(to: &str, amount: f64) -> TransferRequest {
        TransferRequest {
            to: to.to_owned(),
            amount,
        }
    }

    #[test]
    fn parse_amount_reads_money_forms() {
        assert_eq!(parse_amount("1500"), Ok(1500.0));
        assert_eq!(parse_amount(" 12.5 "), Ok(12.5));
        assert_eq!(parse_amount("12.50"), Ok(12.5));
        assert_eq!(parse_amount("0.01"), Ok(0.01));
        assert_eq!(parse_amount("007"), Ok(7.0));
        assert_eq!(parse_amount("999999999.99"), Ok(999_999_999.99));
    }

    #[test]
    fn parse_amount_rejects_other_forms() {
        for text in [
            "",
            " ",
            ".",
            "5.",
            ".5",
            "-5",
            "+5",
            "1e3",
            "inf",
            "NaN",
            "1,000",
            "1 000",
            "1.2.3",
            "12.5x",
            "1234567890",
            "٣",
        ] {
            assert!(parse_amount(text).is_err(), "{text:?}");
        }
        assert_eq!(
            parse_amount("1.234"),
            Err("The amount may have at most two decimals.")
        );
    }

    #[test]
    fn format_amount_shows_two_decimals() {
        assert_eq!(format_amount(1500.0), "1500.00");
        assert_eq!(format_amount(12.5), "12.50");
        assert_eq!(format_amount(0.01), "0.01");
        assert_eq!(format_amount(0.1 + 0.2), "0.30");
        assert_eq!(format_amount(1_000_000.0), "1000000.00");
        assert_eq!(format_amount(-2.5), "-2.50");
        assert_eq!(format_amount(f64::NAN), "0.00");
    }

    #[test]
    fn json_body_reads_back_to_same_request() {
        for (to, text) in [
            ("acct-9", "1.14"),
            ("acct_9", "0.01"),
            ("a", "1500"),
            ("acct-\"q\"", "999999.99"),
        ] {
            let amount = parse_amount(text).expect("the amount parses");
            let sent = request(to, amount);
            let body = sent.to_json_body().expect("the body encodes");
            let read: TransferRequest = serde_json::from_str(&body).expect("the body is JSON");

            assert_eq!(read.to, to, "{body}");
            assert_eq!(format_amount(read.amount), format_amount(amount), "{body}");
            assert!(
                body.ends_with(&format!(r#""amount":{}}}"#, format_amount(amount))),
                "{body}"
            );
        }
    }

    #[test]
    fn valid_transfer_passes() {
        assert_eq!(request("acct-9", 5000.0).validate(), Ok(()));
        assert_eq!(request("acct_9", 0.01).validate(), Ok(()));
    }

    #[test]
    fn invalid_transfers_are_rejected() {
        let cases = [
            request("", 10.0),
            request("   ", 10.0),
            request("a b", 10.0),
            request("<script>", 10.0),
            request(&"a".repeat(65), 10.0),
            request("acct", 0.0),
            request("acct", -5.0),
            request("acct", f64::NAN),
            request("acct", f64::INFINITY),
            request("acct", 1_000_000.01),
            request("acct", 10.001),
        ];
        for case in cases {
            assert!(case.validate().is_err(), "{case:?}");
        }
    }

    #[test]
    fn idempotency_key_format() {
        assert!(is_valid_idempotency_key(
            "3f2c9a0e-1b7d-4c55-9f0e-2a4b6c8d0e1f"
        ));
        assert!(!is_valid_idempotency_key(""));
        assert!(!is_valid_idempotency_key("a b"));
        assert!(!is_valid_idempotency_key(&"k".repeat(65)));
    }
}
