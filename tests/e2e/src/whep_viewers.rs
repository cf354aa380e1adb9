//! Many cheap WHEP viewers that are not browsers: `whep_viewers.py` (aiortc) run with the
//! Python environment `cargo xtask test` installs (`MESHMEET_AIORTC_PYTHON`, else where
//! xtask puts it). Each viewer posts its offer, decodes video until it has enough frames,
//! and ends its session; the reports say what each received.

use crate::{workspace_root, Error, Result};
use serde::Deserialize;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// aiortc version xtask installs (keep in step with `xtask/src/tools.rs`).
const AIORTC_VERSION: &str = "1.16.0";

/// What one viewer received.
#[derive(Clone, Debug, Deserialize)]
pub struct ViewerReport {
    /// The WHEP `POST`'s status.
    pub status: Option<u16>,
    /// Video frames decoded.
    pub video_frames: u64,
    /// Audio frames decoded.
    pub audio_frames: u64,
    /// The last video frame's size.
    pub size: Option<(u32, u32)>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

#[derive(Deserialize)]
struct Reports {
    viewers: Vec<ViewerReport>,
}

pub(crate) fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("MESHMEET_AIORTC_PYTHON") {
        return PathBuf::from(path);
    }
    crate::tools_dir()
        .join(format!("aiortc-{AIORTC_VERSION}"))
        .join("bin/python")
}

/// Runs `count` viewers of the WHEP `endpoint` (`http://…/whep/<room>`) with `token`, each
/// until it decoded `min_frames` video frames or `wait` passed.
pub async fn watch(
    endpoint: &str,
    token: &str,
    count: usize,
    min_frames: u32,
    wait: Duration,
) -> Result<Vec<ViewerReport>> {
    let python = python();
    if !python.is_file() {
        return Err(Error::new(format!(
            "no aiortc environment at {}: run `cargo xtask test`, which installs it, or set \
             MESHMEET_AIORTC_PYTHON",
            python.display()
        )));
    }
    let script = workspace_root().join("tests/e2e/whep_viewers.py");
    let mut command = tokio::process::Command::new(&python);
    command
        .arg(script)
        .args(["--endpoint", endpoint, "--token", token])
        .args(["--viewers", &count.to_string()])
        .args(["--min-frames", &min_frames.to_string()])
        .args(["--seconds", &wait.as_secs().to_string()])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    // The script bounds every viewer by `wait`; the margin covers its start and the ends.
    let output = tokio::time::timeout(wait + Duration::from_secs(60), command.output())
        .await
        .map_err(|_| Error::new("the aiortc viewers did not finish"))??;
    if !output.status.success() {
        return Err(Error::new(format!(
            "the aiortc viewers failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let reports: Reports = serde_json::from_slice(&output.stdout).map_err(|e| {
        Error::new(format!(
            "the aiortc viewers printed no report ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        ))
    })?;
    Ok(reports.viewers)
}
