//! A WHIP encoder that is not a browser: `whip_publisher.py` (aiortc, the environment
//! [`crate::whep_viewers`] uses) publishing a moving test pattern and silence into a room
//! until it is stopped, when it ends its session with `DELETE`.

use crate::process::{spawn_script, ScriptLines};
use crate::{Error, Result};
use serde::Deserialize;
use std::time::Duration;
use tokio::process::Child;

/// Longest the encoder may take to have its `POST` answered, and to end after its stop.
const ANSWER_WAIT: Duration = Duration::from_secs(60);

/// What the script prints: first about its `POST`, then about its `DELETE`.
#[derive(Debug, Deserialize)]
struct Line {
    status: Option<u16>,
    location: Option<String>,
    deleted: Option<u16>,
    error: Option<String>,
}

/// A running encoder; dropping it kills the script.
pub struct WhipPublisher {
    child: Child,
    lines: ScriptLines,
    /// The session's resource (`/whip/<room>/<id>`).
    pub location: String,
}

/// Starts an encoder publishing a `width`x`height` pattern to the WHIP `endpoint`
/// (`http://…/whip/<room>`) with `token`; fails unless its `POST` is answered 201.
pub async fn publish(
    endpoint: &str,
    token: &str,
    width: u32,
    height: u32,
) -> Result<WhipPublisher> {
    let python = crate::whep_viewers::python();
    if !python.is_file() {
        return Err(Error::new(format!(
            "no aiortc environment at {}: run `cargo xtask test`, which installs it",
            python.display()
        )));
    }
    let script = crate::workspace_root().join("tests/e2e/whip_publisher.py");
    let (width, height) = (width.to_string(), height.to_string());
    let args = [
        "--endpoint",
        endpoint,
        "--token",
        token,
        "--width",
        &width,
        "--height",
        &height,
    ];
    let (child, mut lines) = spawn_script(&python, &script, &args)?;
    let first = next_line(&mut lines, "its POST").await?;
    match (first.status, first.location) {
        (Some(201), Some(location)) => Ok(WhipPublisher {
            child,
            lines,
            location,
        }),
        (status, _) => Err(Error::new(format!(
            "the WHIP encoder's POST answered {status:?}: {:?}",
            first.error
        ))),
    }
}

async fn next_line(lines: &mut ScriptLines, what: &str) -> Result<Line> {
    let line = tokio::time::timeout(ANSWER_WAIT, lines.next_line())
        .await
        .map_err(|_| Error::new(format!("the WHIP encoder said nothing about {what}")))??
        .ok_or_else(|| Error::new(format!("the WHIP encoder ended before {what}")))?;
    serde_json::from_str(&line)
        .map_err(|e| Error::new(format!("the WHIP encoder printed {line:?} ({e})")))
}

impl WhipPublisher {
    /// Stops publishing: the encoder sends `DELETE` for its session; its status.
    pub async fn stop(mut self) -> Result<u16> {
        // Its stdin closing is the signal.
        drop(self.child.stdin.take());
        let last = next_line(&mut self.lines, "its DELETE").await?;
        let _ = tokio::time::timeout(ANSWER_WAIT, self.child.wait()).await;
        last.deleted.ok_or_else(|| {
            Error::new(format!(
                "the WHIP encoder could not end its session: {:?}",
                last.error
            ))
        })
    }
}
