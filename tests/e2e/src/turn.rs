//! A real TURN server for the relay-only tests: coturn's `turnserver`, started on a free
//! loopback port with the TURN REST API (`--use-auth-secret`), the way `deploy/turnserver.conf`
//! configures it for production, plus what loopback needs: `--allow-loopback-peers` and
//! `--relay-ip=127.0.0.1` (the browsers' relayed addresses are on 127.0.0.1 too).

use crate::process::{free_port, ProcessGuard, TempDir};
use crate::{Error, Result};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long coturn may take to listen.
pub const TURN_START_TIMEOUT: Duration = Duration::from_secs(15);
/// The realm the test server announces.
const REALM: &str = "meshmeet.test";

/// A running coturn; dropping it kills it.
#[derive(Debug)]
pub struct Coturn {
    port: u16,
    log: std::path::PathBuf,
    _process: ProcessGuard,
    _dir: TempDir,
}

impl Coturn {
    /// Starts `turnserver` with the REST API secret `secret`, listening (UDP and TCP) on a
    /// free port of 127.0.0.1.
    pub async fn start(secret: &str) -> Result<Coturn> {
        let bin = which("turnserver").ok_or_else(|| {
            Error::new(
                "turnserver (coturn) is not installed: run `cargo xtask test` once as root, or \
                 `sudo apt-get install coturn`",
            )
        })?;
        let dir = TempDir::new("coturn")?;
        let log = dir.path().join("turnserver.log");
        let port = free_port()?;
        // Relayed addresses come from a range of their own, away from the listening port.
        let min_relay = 40_000 + (port % 10_000);
        let mut command = tokio::process::Command::new(&bin);
        command
            .arg("-n")
            .arg("--use-auth-secret")
            .arg(format!("--static-auth-secret={secret}"))
            .arg(format!("--realm={REALM}"))
            .arg("--listening-ip=127.0.0.1")
            .arg(format!("--listening-port={port}"))
            .arg("--relay-ip=127.0.0.1")
            .arg(format!("--min-port={min_relay}"))
            .arg(format!("--max-port={}", min_relay + 200))
            .arg("--allow-loopback-peers")
            .arg("--no-cli")
            .arg("--no-tls")
            .arg("--no-dtls")
            .arg("--fingerprint")
            .arg("--simple-log")
            .arg(format!("--log-file={}", log.display()))
            .arg(format!(
                "--pidfile={}",
                dir.path().join("turnserver.pid").display()
            ))
            .arg(format!("--userdb={}", dir.path().join("turndb").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .map_err(|e| Error::new(format!("could not start {}: {e}", bin.display())))?;
        let mut process = ProcessGuard::new(format!("turnserver on port {port}"), child);
        let started = Instant::now();
        loop {
            if let Some(status) = process.exit_status() {
                return Err(Error::new(format!(
                    "turnserver exited ({status}) right after starting; its log:\n{}",
                    read_log(&log)
                )));
            }
            // coturn listens on TCP and UDP on the same port; TCP shows it is up.
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(Coturn {
                    port,
                    log,
                    _process: process,
                    _dir: dir,
                });
            }
            if started.elapsed() > TURN_START_TIMEOUT {
                return Err(Error::new(format!(
                    "turnserver did not listen on port {port} within {TURN_START_TIMEOUT:?}; its log:\n{}",
                    read_log(&log)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server's URL over UDP, as the relay's `--turn-url` takes it.
    pub fn url(&self) -> String {
        format!("turn:127.0.0.1:{}?transport=udp", self.port)
    }

    /// What coturn logged so far (allocations, refused credentials).
    pub fn log(&self) -> String {
        read_log(&self.log)
    }
}

fn read_log(path: &std::path::Path) -> String {
    // coturn may add a date to the file name it was given.
    let dir = path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("turnserver")
        .to_owned();
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&stem))
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The path of program `name` on `PATH` (or in `/usr/bin`, `/usr/sbin`).
pub(crate) fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain(["/usr/bin".into(), "/usr/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}
