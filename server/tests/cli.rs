//! The binary's contract with whoever starts it (the e2e harness, `cargo xtask serve`,
//! systemd): one address line on stdout, logs on stderr, a complete `--help`, exit 0 after
//! SIGTERM.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meshmeet_protocol::ServerMsg;
use support::http_get;

const BINARY: &str = env!("CARGO_BIN_EXE_meshmeet-server");

#[test]
fn help_documents_every_flag_and_its_environment_variable() {
    let output = Command::new(BINARY).arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--listen",
        "--dist",
        "--stun-url",
        "--max-participants",
        "--max-message-bytes",
        "--messages-per-second",
        "--message-burst",
        "--max-rooms",
        "--max-connections",
        "--max-room-name-chars",
        "--max-display-name-chars",
        "--max-chat-chars",
        "--max-bad-messages",
        "--outbound-queue",
        "--keepalive-interval",
        "--keepalive-timeout",
        "--reconnect-after",
        "--shutdown-grace",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
        let env = format!(
            "MESHMEET_{}",
            flag.trim_start_matches("--")
                .replace('-', "_")
                .to_uppercase()
        );
        let env = if flag == "--stun-url" {
            "MESHMEET_STUN_URLS".to_owned()
        } else {
            env
        };
        assert!(help.contains(&env), "--help lacks {env}");
    }
    assert!(help.contains("127.0.0.1:8080"));
}

#[test]
fn invalid_configuration_exits_non_zero_with_a_reason_on_stderr() {
    let output = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--keepalive-interval", "5s"])
        .args(["--keepalive-timeout", "2s"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(
        output.stdout.is_empty(),
        "stdout is only for the address line"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("keepalive"));
}

#[cfg(unix)]
#[tokio::test]
async fn binary_announces_its_address_on_stdout_and_exits_0_after_sigterm() {
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--dist", "/nonexistent/meshmeet"])
        .env("MESHMEET_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let (line_tx, line_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        let _ = reader.read_line(&mut first);
        let _ = line_tx.send(first);
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        let _ = line_tx.send(rest);
    });
    let first = line_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("address line in time");
    let address = first
        .trim_end()
        .strip_prefix("meshmeet relay listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
    let address: SocketAddr = address.parse().expect("an address");
    assert_ne!(address.port(), 0, "the real port, not 0");

    let health = http_get(address, "/healthz", &[]).await;
    assert_eq!(health.text(), "ok");
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{address}/ws"))
        .await
        .expect("websocket");

    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());

    let mut client = support::Client { ws };
    assert!(matches!(
        client.recv().await,
        ServerMsg::ShuttingDown { .. }
    ));
    client.expect_closed().await;
    drop(client);

    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "relay did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(0));
    let rest = line_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("stdout closed");
    assert_eq!(rest, "", "exactly one line on stdout");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(stderr.contains("SIGTERM"), "logs go to stderr: {stderr}");
}
