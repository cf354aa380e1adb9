//! Scale-out in real browsers: two relays share rooms through one Redis, each serving the
//! client, and two people who reached different relays (as behind a load balancer) are in one
//! call, seeing each other, and see each other leave.
//!
//! The test starts its own `redis-server` on a free port and fails, with the command to
//! install it, when there is none.

use meshmeet_e2e::process::{free_port, ProcessGuard};
use meshmeet_e2e::{room_url, run_test_with, Browser, Context, Error, Relay, Result, DEFAULT_WAIT};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Time allowed for a call to connect and decode on a loaded two-core machine.
const MEDIA_WAIT: Duration = Duration::from_secs(90);
/// Longest wait for redis-server to answer PING.
const REDIS_START_TIMEOUT: Duration = Duration::from_secs(10);

/// A `redis-server` without persistence; killed with its process group when dropped.
struct Redis {
    url: String,
    _process: ProcessGuard,
}

async fn start_redis() -> Result<Redis> {
    let port = free_port().context("finding a free port for redis-server")?;
    let child = tokio::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(
                "redis-server is not installed and the scale-out test needs it: install it \
                 with `apt-get install redis-server`, or run `cargo xtask test`, which installs \
                 it when run as root",
            ))
        }
        Err(e) => return Err(Error::new(format!("could not start redis-server: {e}"))),
    };
    let mut process = ProcessGuard::new("redis-server", child);
    let started = Instant::now();
    loop {
        if answers_ping(port).await {
            return Ok(Redis {
                url: format!("redis://127.0.0.1:{port}"),
                _process: process,
            });
        }
        if let Some(status) = process.exit_status() {
            return Err(Error::new(format!(
                "redis-server exited ({status}) on port {port}"
            )));
        }
        if started.elapsed() > REDIS_START_TIMEOUT {
            return Err(Error::new(format!(
                "redis-server did not answer on port {port} within {REDIS_START_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn answers_ping(port: u16) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
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

/// Opens `<relay>/r/<room>?video=low` and joins as `name` (as `call.rs` does, but on the
/// relay given).
async fn join_at(browser: &Browser, relay_url: &str, room: &str, name: &str) -> Result {
    browser
        .join_call(&format!("{relay_url}{}", room_url(room)), name)
        .await
}

/// Runs `redis-cli -u <url> <args>` and returns its output.
async fn redis_cli(url: &str, args: &[&str]) -> Result<String> {
    let output = tokio::process::Command::new("redis-cli")
        .args(["-u", url])
        .args(args)
        .output()
        .await
        .context("running redis-cli (it comes with redis-server)")?;
    if !output.status.success() {
        return Err(Error::new(format!(
            "redis-cli {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// How many participants each relay holds, as Redis records it (sorted).
async fn participants_per_relay(url: &str) -> Result<Vec<u64>> {
    let keys = redis_cli(url, &["--scan", "--pattern", "meshmeet:instance:*:peers"]).await?;
    let mut counts = Vec::new();
    for key in keys.lines().filter(|k| !k.is_empty()) {
        let count = redis_cli(url, &["HLEN", key]).await?;
        counts.push(count.trim().parse().context("HLEN answer")?);
    }
    counts.sort_unstable();
    Ok(counts)
}

#[tokio::test]
async fn two_browsers_on_two_relays_share_one_call() {
    let redis = match start_redis().await {
        Ok(redis) => redis,
        Err(e) => panic!("two_browsers_on_two_relays_share_one_call: {e}"),
    };
    let args = ["--redis-url", redis.url.as_str()];
    run_test_with(
        "two_browsers_on_two_relays_share_one_call",
        &args,
        async |t| {
            let second = Relay::start(&args).await?;
            let outcome = async {
                let alice = t.chromium().await?;
                let bob = t.chromium().await?;
                join_at(&alice, t.url(), "scaled", "Alice").await?;
                join_at(&bob, second.url(), "scaled", "Bob").await?;
                alice
                    .wait_until_peer_tile_decodes("Bob", MEDIA_WAIT)
                    .await?;
                bob.wait_until_peer_tile_decodes("Alice", MEDIA_WAIT)
                    .await?;
                // Each relay holds one of them: the call really spans both.
                let counts = participants_per_relay(&redis.url).await?;
                if counts != [1, 1] {
                    return Err(Error::new(format!(
                        "expected one participant on each relay, Redis has {counts:?}"
                    )));
                }
                alice.screenshot(t.artifact("alice.png")).await?;

                // Leaving is seen across relays too.
                bob.click("[data-testid=leave-button]").await?;
                alice
                    .wait_for_gone(
                        "[data-testid=peer-tile][data-peer-name=\"Bob\"]",
                        DEFAULT_WAIT,
                    )
                    .await?;
                Ok(())
            }
            .await;
            if outcome.is_err() {
                let _ = std::fs::write(t.artifact("second-relay.log"), second.log().join("\n"));
            }
            outcome
        },
    )
    .await;
}
