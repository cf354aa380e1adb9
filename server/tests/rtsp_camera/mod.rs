//! A mock IP camera for the relay's tests: `tests/e2e/rtsp_camera.py` (gst-rtsp-server,
//! which `cargo xtask test` installs) serving a test pattern over RTSP on loopback until
//! dropped.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running mock camera; dropping it stops it.
pub struct RtspCamera {
    child: Child,
    /// Its address (`rtsp://127.0.0.1:<port>/camera`).
    pub url: String,
}

impl RtspCamera {
    /// Starts the camera (320x240 at 10 fps, H.264).
    pub fn start() -> RtspCamera {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/rtsp_camera.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the mock RTSP camera (Debian's python3-gi and gir1.2-gst-rtsp-server-1.0: `cargo xtask test` installs them)");
        let stdout = child.stdout.take().expect("the camera's stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the camera says where it listens");
        let said: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("the mock camera printed {line:?}: {err}"));
        let url = said["url"].as_str().expect("a url").to_owned();
        RtspCamera { child, url }
    }
}

impl Drop for RtspCamera {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Processes whose command line mentions `needle` (from /proc).
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}
