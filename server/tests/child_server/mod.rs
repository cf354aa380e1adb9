//! Waiting for a server the tests started as a child process (redis-server, janus) to
//! answer, or to fail, with its log in the error either way.

use std::future::Future;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// Polls `answers()` until it is true; fails if `child` exits first or `timeout` passes.
/// `what` names the check in the error ("no PONG"), and `log` is the child's log file.
pub async fn wait_until_answering<F, Fut>(
    child: &mut Child,
    port: u16,
    timeout: Duration,
    what: &str,
    log: &Path,
    mut answers: F,
) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let read_log = || std::fs::read_to_string(log).unwrap_or_default();
    let started = Instant::now();
    loop {
        if answers().await {
            return Ok(());
        }
        if let Some(status) = child.try_wait().ok().flatten() {
            return Err(format!(
                "it exited ({status}) on port {port}; its log:\n{}",
                read_log()
            ));
        }
        if started.elapsed() > timeout {
            return Err(format!(
                "{what} on port {port} within {timeout:?}; its log:\n{}",
                read_log()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
