//! A Janus for `cargo xtask serve --janus`: the shipped configuration (`deploy/janus`) copied
//! into `target/xtask-janus/` with a free loopback port and a fresh admin key, started in the
//! foreground's process group (so Ctrl-C stops it with the relay) and killed when dropped.

use crate::cmd;
use crate::{build, tools, Result};
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The admin key's stand-in in `deploy/janus` (the relay's `janus::ADMIN_KEY_PLACEHOLDER`).
const ADMIN_KEY_PLACEHOLDER: &str = "@JANUS_ADMIN_KEY@";
/// The API port line of the shipped WebSocket transport.
const SHIPPED_PORT_LINE: &str = "ws_port = 8188";
/// How long Janus may take to listen (well under a second on a quiet machine).
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running Janus; dropping it kills it.
pub struct Janus {
    child: Child,
    port: u16,
    admin_key: String,
    log: PathBuf,
}

impl Janus {
    /// Installs Janus if it is missing, writes its configuration and starts it.
    pub fn start() -> Result<Janus> {
        tools::ensure_janus()?;
        let bin = tools::find("janus").unwrap_or_else(|| PathBuf::from("/usr/bin/janus"));
        let dir = build::target_dir().join("xtask-janus");
        // A previous run's files (an old key) must not linger.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
        let port = free_port()?;
        let admin_key = random_key()?;
        write_config(&cmd::root().join("deploy/janus"), &dir, port, &admin_key)?;
        let log = dir.join("janus.log");
        let log_file = std::fs::File::create(&log)
            .map_err(|e| format!("could not create {}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("could not open {}: {e}", log.display()))?;
        let mut command = Command::new(&bin);
        command
            .arg("-C")
            .arg(dir.join("janus.jcfg"))
            .arg("-F")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err);
        println!("$ {}", cmd::display(&command));
        let child = command
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
        let mut janus = Janus {
            child,
            port,
            admin_key,
            log,
        };
        janus.wait_listening()?;
        Ok(janus)
    }

    /// The API's URL, for the relay's `--janus-url`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The VideoRoom admin key, for the relay's `MESHMEET_JANUS_ADMIN_KEY`.
    pub fn admin_key(&self) -> &str {
        &self.admin_key
    }

    /// Where Janus writes its log.
    pub fn log(&self) -> &Path {
        &self.log
    }

    fn wait_listening(&mut self) -> Result {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "janus exited ({status}) right after starting; its log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ));
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "janus did not listen on port {} within {START_TIMEOUT:?}; its log: {}",
                    self.port,
                    self.log.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Janus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies every file of `deploy` into `dir` with the API on `port` and `admin_key` in place
/// of the placeholder: what runs is the shipped configuration.
fn write_config(deploy: &Path, dir: &Path, port: u16, admin_key: &str) -> Result {
    let entries =
        std::fs::read_dir(deploy).map_err(|e| format!("reading {}: {e}", deploy.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", deploy.display()))?
            .path();
        let Some(name) = path.file_name() else {
            continue;
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?
            .replace(SHIPPED_PORT_LINE, &format!("ws_port = {port}"))
            .replace(ADMIN_KEY_PLACEHOLDER, admin_key);
        let target = dir.join(name);
        std::fs::write(&target, text).map_err(|e| format!("writing {}: {e}", target.display()))?;
    }
    Ok(())
}

/// A port of 127.0.0.1 nobody listens on now.
fn free_port() -> Result<u16> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("could not find a free port for Janus: {e}"))
}

/// 32 random bytes from the OS, as hex (as README suggests: `openssl rand -hex 32`).
fn random_key() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("could not read /dev/urandom for Janus's admin key: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_configuration_gets_the_port_and_key_and_keeps_no_placeholder() {
        let dir = std::env::temp_dir().join(format!("xtask-janus-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        write_config(&cmd::root().join("deploy/janus"), &dir, 41234, "k3y").expect("written");
        let ws = std::fs::read_to_string(dir.join("janus.transport.websockets.jcfg"))
            .expect("websockets config");
        assert!(ws.contains("ws_port = 41234"), "{ws}");
        assert!(!ws.contains(SHIPPED_PORT_LINE));
        let videoroom = std::fs::read_to_string(dir.join("janus.plugin.videoroom.jcfg"))
            .expect("videoroom config");
        assert!(videoroom.contains("admin_key = \"k3y\""), "{videoroom}");
        for entry in std::fs::read_dir(&dir).expect("listed") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
            assert!(!text.contains(ADMIN_KEY_PLACEHOLDER));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn admin_keys_are_64_hex_digits_and_differ() {
        let (a, b) = (random_key().expect("key"), random_key().expect("key"));
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
