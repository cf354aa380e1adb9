//! WebDriver servers (chromedriver, geckodriver): one process per browser session, on a free
//! port, in its own process group, with its output in a log file.

use crate::process::{free_port, ProcessGuard};
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long a WebDriver server may take to accept connections.
pub const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// Which browser a session drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowserKind {
    /// Headless Chromium through chromedriver.
    Chromium,
    /// Headless Firefox (ESR) through geckodriver.
    Firefox,
}

impl BrowserKind {
    /// Lower-case name used in labels and artifact file names.
    pub fn name(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromium",
            BrowserKind::Firefox => "firefox",
        }
    }

    fn driver_name(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromedriver",
            BrowserKind::Firefox => "geckodriver",
        }
    }

    /// The driver binary: `$CHROMEDRIVER` / `$GECKODRIVER` (as for wasm-bindgen-test-runner),
    /// else `PATH`, else `~/.cargo/bin`.
    pub fn driver_path(self) -> Result<PathBuf> {
        let name = self.driver_name();
        if let Some(path) = std::env::var_os(name.to_uppercase()) {
            return Ok(PathBuf::from(path));
        }
        let cargo_bin = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .map(|home| home.join("bin"));
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .chain(cargo_bin)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                Error::new(format!(
                    "{name} not found on PATH: run `cargo xtask test` once (it installs the browsers \
                     and drivers), or set {}",
                    name.to_uppercase()
                ))
            })
    }
}

/// A running WebDriver server; dropping it kills it and the browser it started.
#[derive(Debug)]
pub struct Driver {
    url: String,
    log_path: PathBuf,
    process: ProcessGuard,
}

impl Driver {
    /// Starts the driver for `kind` with its log and (for geckodriver) its profiles in `workdir`.
    pub async fn start(kind: BrowserKind, workdir: &Path) -> Result<Driver> {
        let path = kind.driver_path()?;
        let log_path = workdir.join(format!("{}.log", kind.driver_name()));
        // The port is free when picked but not reserved: retry if another process takes it.
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            let mut command = tokio::process::Command::new(&path);
            match kind {
                BrowserKind::Chromium => {
                    command.arg(format!("--port={port}"));
                }
                BrowserKind::Firefox => {
                    command
                        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                        // 0: a free port for Firefox's remote agent, so sessions can run side by side.
                        .args(["--websocket-port", "0"])
                        .arg("--profile-root")
                        .arg(workdir);
                }
            }
            let log = std::fs::File::create(&log_path)?;
            command
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .process_group(0)
                .kill_on_drop(true);
            let child = command
                .spawn()
                .map_err(|e| Error::new(format!("could not start {}: {e}", path.display())))?;
            let mut process =
                ProcessGuard::new(format!("{} on port {port}", kind.driver_name()), child);
            let started = Instant::now();
            loop {
                if let Some(status) = process.exit_status() {
                    last_error = Some(Error::new(format!(
                        "{} exited ({status}) right after starting; its log:\n{}",
                        kind.driver_name(),
                        std::fs::read_to_string(&log_path).unwrap_or_default()
                    )));
                    break;
                }
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    return Ok(Driver {
                        url: format!("http://127.0.0.1:{port}"),
                        log_path,
                        process,
                    });
                }
                if started.elapsed() > DRIVER_START_TIMEOUT {
                    return Err(Error::new(format!(
                        "{} did not accept connections on port {port} within {DRIVER_START_TIMEOUT:?}; its log:\n{}",
                        kind.driver_name(),
                        std::fs::read_to_string(&log_path).unwrap_or_default()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Err(last_error.unwrap_or_else(|| Error::new("driver did not start")))
    }

    /// The WebDriver URL, like `http://127.0.0.1:4444`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The driver's log (geckodriver's also holds Firefox's console output).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The driver's pid (the process group of the browser too).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }
}
