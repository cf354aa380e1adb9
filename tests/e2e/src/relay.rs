//! The relay under test: the real `meshmeet-server` binary serving the release client,
//! listening on a port the OS picks.

use crate::process::ProcessGuard;
use crate::{workspace_root, Error, Result};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// How long the relay may take to print its listening line.
pub const RELAY_START_TIMEOUT: Duration = Duration::from_secs(30);
/// The line the relay prints on stdout once it accepts connections.
const LISTENING_PREFIX: &str = "meshmeet relay listening on ";

/// A running relay; dropping it kills it.
#[derive(Debug)]
pub struct Relay {
    url: String,
    log: Arc<Mutex<Vec<String>>>,
    process: ProcessGuard,
}

/// The relay binary: `$MESHMEET_SERVER_BIN`, else `target/relay/meshmeet-server`.
pub fn server_bin() -> PathBuf {
    match std::env::var_os("MESHMEET_SERVER_BIN") {
        Some(path) => workspace_root().join(path),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(|dir| workspace_root().join(dir))
            .unwrap_or_else(|| workspace_root().join("target"))
            .join("relay")
            .join("meshmeet-server"),
    }
}

/// The built client: `$MESHMEET_DIST`, else `dist/`.
pub fn dist_dir() -> PathBuf {
    workspace_root().join(std::env::var_os("MESHMEET_DIST").unwrap_or_else(|| "dist".into()))
}

impl Relay {
    /// Starts the relay with `--listen 127.0.0.1:0 --dist <dist>` plus `extra_args`, and waits
    /// for its listening line.
    pub async fn start(extra_args: &[&str]) -> Result<Relay> {
        Relay::start_at("127.0.0.1:0", extra_args).await
    }

    /// [`Relay::start`] on a given address, so a test can stop a relay and start another
    /// where browsers will look for it.
    pub async fn start_at(listen: &str, extra_args: &[&str]) -> Result<Relay> {
        let bin = server_bin();
        let dist = dist_dir();
        if !bin.is_file() {
            return Err(Error::new(format!(
                "the relay binary {} does not exist: run `cargo xtask test`, or build it with \
                 `cargo build --profile relay -p meshmeet-server` (or set MESHMEET_SERVER_BIN)",
                bin.display()
            )));
        }
        if !dist.join("index.html").is_file() {
            return Err(Error::new(format!(
                "{} has no index.html: run `cargo xtask test`, or build the client with \
                 `trunk build --release` (or set MESHMEET_DIST)",
                dist.display()
            )));
        }
        let mut child = tokio::process::Command::new(&bin)
            .arg("--listen")
            .arg(listen)
            .arg("--dist")
            .arg(&dist)
            .args(extra_args)
            // Debug level unless asked otherwise: the harness checks that no secret reaches
            // the log, and more of the log is there to read when a test fails.
            .env(
                "MESHMEET_LOG",
                std::env::var("MESHMEET_LOG").unwrap_or_else(|_| "debug".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::new(format!("could not start {}: {e}", bin.display())))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut process = ProcessGuard::new("relay", child);
        tokio::spawn(collect_lines(stderr, Arc::clone(&log), None));
        let (url_tx, url_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(collect_lines(stdout, Arc::clone(&log), Some(url_tx)));

        let url = match tokio::time::timeout(RELAY_START_TIMEOUT, url_rx).await {
            Ok(Ok(url)) => url,
            Ok(Err(_)) => {
                // Give stderr a moment to arrive so the message can include it.
                tokio::time::sleep(Duration::from_millis(200)).await;
                let status = process.exit_status();
                return Err(Error::new(format!(
                    "the relay exited ({status:?}) without printing `{LISTENING_PREFIX}http://…`; its output:\n{}",
                    log.lock().unwrap().join("\n")
                )));
            }
            Err(_) => {
                return Err(Error::new(format!(
                    "the relay did not print `{LISTENING_PREFIX}http://…` within {RELAY_START_TIMEOUT:?}; its output:\n{}",
                    log.lock().unwrap().join("\n")
                )))
            }
        };
        Ok(Relay { url, log, process })
    }

    /// The base URL, like `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Everything the relay printed so far (stdout and stderr, interleaved by arrival).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The relay's pid.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}

/// Copies lines into `log`; the first listening line's URL goes to `url_tx`.
async fn collect_lines(
    stream: impl AsyncRead + Unpin,
    log: Arc<Mutex<Vec<String>>>,
    mut url_tx: Option<tokio::sync::oneshot::Sender<String>>,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(url) = line.split(LISTENING_PREFIX).nth(1) {
            if let Some(tx) = url_tx.take() {
                let _ = tx.send(url.trim().trim_end_matches('/').to_owned());
            }
        }
        log.lock().unwrap().push(line);
    }
}
