//! A bare axum server for the load test's baseline: `GET /api/messages` returns three fixed
//! messages as JSON, about the size of the real route's reply, and nothing else runs.
//!
//! Usage: `bench-baseline ADDRESS`, such as `bench-baseline 127.0.0.1:3200`. It runs on the
//! same multi-threaded tokio runtime as the real server until it receives SIGTERM or Ctrl-C.

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

#[derive(Serialize)]
struct Message {
    id: String,
    from: &'static str,
    subject: &'static str,
    body: &'static str,
}

#[derive(Serialize)]
struct MessageList {
    messages: Vec<Message>,
}

/// Builds the reply per request, as the real handler does, so both sides pay for allocation
/// and serialization.
async fn list_messages() -> Json<MessageList> {
    let message = |id: &str, from, subject, body| Message {
        id: format!("user-1-{id}"),
        from,
        subject,
        body,
    };
    Json(MessageList {
        messages: vec![
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
        ],
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(address) = std::env::args().nth(1) else {
        let _ = writeln!(
            std::io::stderr(),
            "usage: bench-baseline ADDRESS (such as 127.0.0.1:3200)"
        );
        return ExitCode::from(2);
    };
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot listen on {address}: {error}"
            );
            return ExitCode::FAILURE;
        }
    };
    let app = Router::new().route("/api/messages", get(list_messages));
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: the server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
