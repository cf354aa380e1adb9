//! A real `redis-server` for the tests: a child process on a free loopback port, without
//! persistence, killed when the value drops. Nothing is skipped when it is missing: the test
//! fails and says how to install it.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "../child_server/mod.rs"]
mod child_server;

/// Longest wait for a started server to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(5);

const MISSING: &str = "redis-server is not installed, and the Redis registry tests need it \
    (they start their own on a free port): install it with `apt-get install redis-server`, \
    or run `cargo xtask test`, which installs it when run as root";

/// A running `redis-server`.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    log: PathBuf,
}

impl RedisServer {
    /// Starts a server on a free port (trying another port if the chosen one is taken
    /// meanwhile).
    pub async fn start() -> RedisServer {
        let mut last_failure = String::new();
        for _ in 0..5 {
            match Self::try_start(free_port()).await {
                Ok(server) => return server,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("redis-server did not start: {last_failure}");
    }

    /// Starts a server on `port` (after [`RedisServer::kill`], to bring Redis back empty).
    pub async fn start_on(port: u16) -> RedisServer {
        Self::try_start(port)
            .await
            .unwrap_or_else(|failure| panic!("redis-server did not start: {failure}"))
    }

    async fn try_start(port: u16) -> Result<RedisServer, String> {
        let log =
            std::env::temp_dir().join(format!("meshmeet-redis-{}-{port}.log", std::process::id()));
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            // DEBUG SLEEP, for tests that need Redis to stall.
            .args(["--enable-debug-command", "local"])
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(err) if err.kind() == ErrorKind::NotFound => panic!("{MISSING}"),
            Err(err) => panic!("could not run redis-server: {err}"),
        };
        let mut child = child;
        let up = child_server::wait_until_answering(
            &mut child,
            port,
            START_TIMEOUT,
            "no PONG",
            &log,
            || ping(port),
        )
        .await;
        let server = RedisServer {
            port,
            child: Some(child),
            log,
        };
        up.map(|()| server)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL), as a crash or a lost network would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A client for looking at or changing what the relays share.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the test redis-server")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Whether a Redis on `port` answers PING.
async fn ping(port: u16) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        stream.write_all(b"PING\r\n").await.ok()?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await.ok()?;
        Some(&reply == b"+PONG\r\n")
    };
    tokio::time::timeout(Duration::from_millis(500), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}
