//! Captures the `tracing` events of one test in memory.
//!
//! The subscriber is the thread's default only, so it receives the events of a `#[tokio::test]`, whose
//! runtime runs every task on the test's thread, and none of the tests that run beside it.

use std::io;
use std::sync::{Arc, Mutex, Once, PoisonError};
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Forwards records of the `log` crate (which `reqwest` and `rustls` write) to `tracing`, as
/// the server binary's logging set-up does, so that a [`LogCapture`] receives them too.
///
/// It installs a global subscriber that drops every event; events of a test still reach that
/// test's capture, which is the thread's default. Calling it again does nothing.
pub fn forward_log_records() {
    static FORWARD: Once = Once::new();
    FORWARD.call_once(|| {
        tracing_subscriber::registry()
            .try_init()
            .expect("no other global subscriber or logger is set in this test binary");
    });
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The log of the current test, formatted as the server's `fmt` subscriber writes it.
pub struct LogCapture {
    buffer: Buffer,
    _guard: DefaultGuard,
}

impl LogCapture {
    /// Starts capturing events that `filter` (`tracing-subscriber` `EnvFilter` syntax) enables.
    pub fn start(filter: &str) -> Self {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(filter))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        Self {
            buffer,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// Starts capturing events that `filter` enables in the JSON format that the server writes
    /// with `STEPUP_LOG_FORMAT=json`.
    pub fn start_json(filter: &str) -> Self {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(filter))
            .with_writer(move || writer.clone())
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .finish();
        Self {
            buffer,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    pub fn text(&self) -> String {
        let bytes = self.buffer.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Returns the lines logged at `level` (`ERROR`, `WARN`, `INFO`, `DEBUG`) by a module whose
    /// path starts with `target`.
    pub fn lines(&self, level: &str, target: &str) -> Vec<String> {
        let level = format!(" {level} ");
        let target = format!(" {target}");
        self.text()
            .lines()
            .filter(|line| line.contains(&level) && line.contains(&target))
            .map(str::to_owned)
            .collect()
    }

    /// Panics unless a line at `level` from `target` was logged, showing the whole log.
    pub fn assert_logged(&self, level: &str, target: &str) {
        assert!(
            !self.lines(level, target).is_empty(),
            "expected a {level} line from {target}; the log was:\n{}",
            self.text()
        );
    }

    /// Panics when the log contains `secret`, without printing the secret.
    pub fn assert_absent(&self, secret: &str, kind: &str) {
        assert!(!self.text().contains(secret), "the log contains the {kind}");
    }
}
