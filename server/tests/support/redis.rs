//! A throwaway `redis-server` on a free loopback port, for the suites of the Redis session store.
//!
//! It keeps nothing on disk (`--save ''`, `--appendonly no`) and is killed when the value is
//! dropped, also when the test panics. It needs Debian's `redis-server` package, which
//! `scripts/setup.sh` installs.

use std::io::{BufRead, BufReader, ErrorKind};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long `redis-server` may take to accept connections after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Ports tried before giving up, in case another process takes the free port first.
const START_ATTEMPTS: usize = 3;

/// The line Redis 7 logs once it accepts connections.
const READY_LINE: &str = "Ready to accept connections";

/// A running `redis-server`, killed on drop.
pub struct RedisServer {
    /// `redis://127.0.0.1:{port}`.
    pub url: String,
    child: Child,
}

/// Why one start attempt failed.
enum StartFailure {
    /// The process exited before it was ready, with the lines it logged.
    Exited(Vec<String>),
    TimedOut(Vec<String>),
}

impl RedisServer {
    /// Starts `redis-server` on a free port of 127.0.0.1 and waits until it accepts connections.
    ///
    /// Panics when `redis-server` is not installed, or when it does not become ready.
    pub async fn start() -> Self {
        // The start blocks on the server's log, so it runs off the runtime. Its panic, such as
        // the one for a missing `redis-server`, is re-raised here unchanged.
        tokio::task::spawn_blocking(Self::start_blocking)
            .await
            .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
    }

    fn start_blocking() -> Self {
        let mut last_output = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let mut child = spawn(port);
            match wait_until_ready(&mut child) {
                Ok(()) => {
                    return Self {
                        url: format!("redis://127.0.0.1:{port}"),
                        child,
                    }
                }
                Err(StartFailure::Exited(output)) => last_output = output,
                Err(StartFailure::TimedOut(output)) => {
                    kill(&mut child);
                    panic!(
                        "redis-server did not accept connections within {START_TIMEOUT:?}; \
                         its output was:\n{}",
                        output.join("\n")
                    );
                }
            }
        }
        panic!(
            "redis-server exited before accepting connections, {START_ATTEMPTS} times; \
             its last output was:\n{}",
            last_output.join("\n")
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// Returns a loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
    listener
        .local_addr()
        .expect("the listener has an address")
        .port()
}

fn spawn(port: u16) -> Child {
    let result = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    match result {
        Ok(child) => child,
        Err(error) if error.kind() == ErrorKind::NotFound => panic!(
            "redis-server is not installed; run scripts/setup.sh, which installs Debian's \
             redis-server package"
        ),
        Err(error) => panic!("could not start redis-server: {error}"),
    }
}

/// Reads the server's log until it reports that it accepts connections.
///
/// A thread reads the log, so the wait can time out, and keeps reading after the wait ends,
/// so the server never blocks on a full pipe.
fn wait_until_ready(child: &mut Child) -> Result<(), StartFailure> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // Once the wait has ended the receiver is gone, and the line is discarded.
            let _ = sender.send(line);
        }
    });

    let deadline = Instant::now() + START_TIMEOUT;
    let mut output = Vec::new();
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(remaining) {
            Ok(line) => {
                let ready = line.contains(READY_LINE);
                output.push(line);
                if ready {
                    return Ok(());
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = child.wait();
                return Err(StartFailure::Exited(output));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => return Err(StartFailure::TimedOut(output)),
        }
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
