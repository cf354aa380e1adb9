//! A real Janus for the SFU tests: the shipped configuration `deploy/janus` copied into a
//! temporary directory with a free loopback port and a fresh admin key, run as
//! `janus -C <dir>/janus.jcfg -F <dir>`; dropping it kills it. Missing Janus fails the test
//! with how to install it.

use crate::process::{free_port, wait_until_listening, ProcessGuard, TempDir};
use crate::turn::which;
use crate::{workspace_root, Error, Result};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// How long Janus may take to listen (0.1–1 s on a loaded machine).
pub const JANUS_START_TIMEOUT: Duration = Duration::from_secs(20);
/// The admin key's stand-in in `deploy/janus` (the relay's `janus::ADMIN_KEY_PLACEHOLDER`).
const ADMIN_KEY_PLACEHOLDER: &str = "@JANUS_ADMIN_KEY@";

/// A running Janus; dropping it kills it.
#[derive(Debug)]
pub struct Janus {
    port: u16,
    admin_key: String,
    log: std::path::PathBuf,
    process: Option<ProcessGuard>,
    _dir: TempDir,
}

impl Janus {
    /// Starts Janus on a free port of 127.0.0.1 with a fresh admin key.
    pub async fn start() -> Result<Janus> {
        let key = random_key()?;
        Self::start_on(free_port()?, &key).await
    }

    /// Starts Janus on `port` with `admin_key` (to bring a killed one back where the relay
    /// expects it).
    pub async fn start_on(port: u16, admin_key: &str) -> Result<Janus> {
        let bin = which("janus").ok_or_else(|| {
            Error::new(
                "janus is not installed: run `cargo xtask test` once as root, or \
                 `sudo apt-get install --no-install-recommends janus janus-tools`",
            )
        })?;
        let dir = TempDir::new("janus")?;
        write_config(dir.path(), port, admin_key)?;
        let log = dir.path().join("janus.log");
        let log_file = std::fs::File::create(&log)?;
        let child = tokio::process::Command::new(&bin)
            .arg("-C")
            .arg(dir.path().join("janus.jcfg"))
            .arg("-F")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::new(format!("could not start {}: {e}", bin.display())))?;
        let mut process = ProcessGuard::new(format!("janus on port {port}"), child);
        wait_until_listening(&mut process, port, JANUS_START_TIMEOUT, || read(&log)).await?;
        Ok(Janus {
            port,
            admin_key: admin_key.to_owned(),
            log,
            process: Some(process),
            _dir: dir,
        })
    }

    /// The API's URL, for the relay's `--janus-url`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The VideoRoom admin key, for the relay's `MESHMEET_JANUS_ADMIN_KEY`.
    pub fn admin_key(&self) -> &str {
        &self.admin_key
    }

    /// The API port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Janus's pid while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(ProcessGuard::pid)
    }

    /// Kills Janus at once (SIGKILL to its process group), as a crash would.
    pub fn kill(&mut self) {
        self.process = None;
    }

    /// What Janus logged so far.
    pub fn log(&self) -> String {
        read(&self.log)
    }
}

/// Copies `deploy/janus` into `dir` with `port` and `admin_key` in place: the shipped
/// configuration is what the tests run.
fn write_config(dir: &Path, port: u16, admin_key: &str) -> Result {
    let deploy = workspace_root().join("deploy/janus");
    for entry in std::fs::read_dir(&deploy)? {
        let path = entry?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        let text = std::fs::read_to_string(&path)?
            .replace("ws_port = 8188", &format!("ws_port = {port}"))
            .replace(ADMIN_KEY_PLACEHOLDER, admin_key);
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// 16 random bytes from the OS, as hex.
fn random_key() -> Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
