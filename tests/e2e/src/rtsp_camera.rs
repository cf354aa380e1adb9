//! A mock IP camera: `tests/e2e/rtsp_camera.py` (gst-rtsp-server with Debian's python3,
//! which `cargo xtask test` installs) serving a moving test pattern as H.264 over RTSP on
//! loopback until dropped.

use crate::process::spawn_script;
use crate::{workspace_root, Error, Result};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use tokio::process::Child;

/// What the script prints once it listens.
#[derive(Deserialize)]
struct Listening {
    url: String,
}

/// A running mock camera; dropping it stops it.
pub struct RtspCamera {
    _child: Child,
    /// Its address (`rtsp://127.0.0.1:<port>/camera`).
    pub url: String,
}

impl RtspCamera {
    /// Starts a camera of `width`x`height` at 10 fps.
    pub async fn start(width: u32, height: u32) -> Result<RtspCamera> {
        let script = workspace_root().join("tests/e2e/rtsp_camera.py");
        let (width, height) = (width.to_string(), height.to_string());
        let args = ["--width", width.as_str(), "--height", height.as_str()];
        let (child, mut lines) = spawn_script(Path::new("/usr/bin/python3"), &script, &args)?;
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .map_err(|_| Error::new("the mock camera did not start listening"))??
            .ok_or_else(|| Error::new("the mock camera ended before listening (python3-gi and gir1.2-gst-rtsp-server-1.0: `cargo xtask test` installs them)"))?;
        let listening: Listening = serde_json::from_str(&line)
            .map_err(|e| Error::new(format!("the mock camera printed {line:?} ({e})")))?;
        Ok(RtspCamera {
            _child: child,
            url: listening.url,
        })
    }
}
