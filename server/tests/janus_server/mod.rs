//! A real Janus for the tests: `deploy/janus` copied into a temp dir with a free loopback
//! port and a fresh random admin key, `janus -C <dir>/janus.jcfg -F <dir>` as a child
//! process, killed when the value drops. Nothing is skipped when Janus is missing: the test
//! fails and says how to install it.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use meshmeet_server::config::Secret;
use meshmeet_server::janus::{ADMIN_KEY_PLACEHOLDER, SUBPROTOCOL};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

#[path = "../child_server/mod.rs"]
mod child_server;

/// Longest wait for a started Janus to answer `info` (it takes 0.1–1 s on a loaded machine).
const START_TIMEOUT: Duration = Duration::from_secs(20);

const MISSING: &str = "janus is not installed, and the Janus tests need it (they start their \
    own on a free port with deploy/janus): install it with \
    `apt-get install --no-install-recommends janus janus-tools`, or run `cargo xtask test`, \
    which installs it when run as root";

/// A running Janus with meshmeet's configuration.
pub struct JanusServer {
    pub port: u16,
    admin_key: String,
    dir: PathBuf,
    child: Option<Child>,
}

impl JanusServer {
    /// Starts Janus on a free port with a fresh admin key (trying another port if the chosen
    /// one is taken meanwhile).
    pub async fn start() -> JanusServer {
        let admin_key = random_hex();
        let mut last_failure = String::new();
        for _ in 0..5 {
            match Self::try_start(free_port(), &admin_key).await {
                Ok(server) => return server,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("janus did not start: {last_failure}");
    }

    /// Starts Janus on `port` with `admin_key` (after [`JanusServer::kill`], to bring the
    /// same Janus back, or where a relay already expects one).
    pub async fn start_on(port: u16, admin_key: &str) -> JanusServer {
        Self::try_start(port, admin_key)
            .await
            .unwrap_or_else(|failure| panic!("janus did not start: {failure}"))
    }

    async fn try_start(port: u16, admin_key: &str) -> Result<JanusServer, String> {
        let dir = std::env::temp_dir().join(format!(
            "meshmeet-janus-{}-{port}-{}",
            std::process::id(),
            random_hex()
        ));
        write_config(&dir, port, admin_key);
        let log = std::fs::File::create(dir.join("janus.log")).expect("janus log file");
        let child = Command::new("janus")
            .arg("-C")
            .arg(dir.join("janus.jcfg"))
            .arg("-F")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(err) if err.kind() == ErrorKind::NotFound => panic!("{MISSING}"),
            Err(err) => panic!("could not run janus: {err}"),
        };
        let mut child = child;
        let up = child_server::wait_until_answering(
            &mut child,
            port,
            START_TIMEOUT,
            "no answer to `info`",
            &dir.join("janus.log"),
            || answers_info(port),
        )
        .await;
        let server = JanusServer {
            port,
            admin_key: admin_key.to_owned(),
            dir,
            child: Some(child),
        };
        up.map(|()| server)
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The VideoRoom admin key this Janus was started with.
    pub fn admin_key(&self) -> Secret {
        Secret::from(self.admin_key.as_str())
    }

    /// What Janus logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("janus.log")).unwrap_or_default()
    }

    /// Freezes Janus (SIGSTOP), as an overloaded or hung media server would be: its socket
    /// stays open and nothing answers. [`JanusServer::thaw`] lets it run again.
    ///
    /// Returns only once every thread of Janus is stopped: a signal is delivered when a thread
    /// is next scheduled, and on a busy machine Janus could otherwise still answer a request
    /// sent right after `kill` returned.
    pub fn freeze(&self) {
        self.signal("-STOP");
        let pid = self.child.as_ref().expect("Janus is running").id();
        let tasks = PathBuf::from(format!("/proc/{pid}/task"));
        for _ in 0..500 {
            if all_threads_stopped(&tasks) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("Janus (pid {pid}) did not stop within 5 s of SIGSTOP");
    }

    /// Lets a frozen Janus run again (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let pid = self.child.as_ref().expect("Janus is running").id();
        let status = Command::new("kill")
            .args([which, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {which} {pid} failed");
    }

    /// Kills Janus at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for JanusServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Copies `deploy/janus` into `dir`, on `port` and with `admin_key` in place of the
/// placeholder: the shipped configuration is what the tests run.
fn write_config(dir: &Path, port: u16, admin_key: &str) {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/janus");
    std::fs::create_dir_all(dir).expect("janus temp dir");
    let entries = std::fs::read_dir(&deploy).expect("deploy/janus exists");
    for entry in entries {
        let path = entry.expect("deploy/janus entry").path();
        let name = path.file_name().expect("file name").to_owned();
        let text = std::fs::read_to_string(&path).expect("read deploy/janus file");
        let text = text
            .replace("ws_port = 8188", &format!("ws_port = {port}"))
            .replace(ADMIN_KEY_PLACEHOLDER, admin_key);
        std::fs::write(dir.join(name), text).expect("write janus config");
    }
}

/// Whether a Janus on `port` answers an `info` request over its WebSocket API.
async fn answers_info(port: u16) -> bool {
    let attempt = async {
        let mut request = format!("ws://127.0.0.1:{port}")
            .into_client_request()
            .ok()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.ok()?;
        let info = r#"{"janus":"info","transaction":"ready?"}"#;
        socket.send(Message::text(info)).await.ok()?;
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message {
                return Some(text.as_str().contains("server_info"));
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_millis(1000), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// 16 random bytes as hex, for admin keys and directory names.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("random bytes");
    hex::encode(bytes)
}

/// Whether every thread under `/proc/<pid>/task` is in state `T` (stopped by a signal).
fn all_threads_stopped(tasks: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(tasks) else {
        return false;
    };
    let mut seen = 0;
    for entry in entries.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // The state follows the command name, which is in parentheses and may hold spaces.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if state != Some("T") {
            return false;
        }
        seen += 1;
    }
    seen > 0
}
