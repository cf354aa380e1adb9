//! The binary's contract with whoever starts it (the e2e harness, `cargo xtask serve`,
//! systemd): one address line on stdout, logs on stderr, a complete `--help`, exit 0 after
//! SIGTERM.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meshmeet_protocol::{ClientMsg, ServerMsg};
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

/// Deepest indentation of an option's line in clap's `--help` (descriptions go deeper).
const OPTION_INDENT_MAX: usize = 6;

/// The long flags `--help` lists, in its order (`--help` and `--version` left out).
fn flags_in_help() -> Vec<String> {
    let output = Command::new(BINARY).arg("--help").output().expect("runs");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            // An option's own line: `      --listen <LISTEN>` or `  -h, --help`; its
            // description follows further indented.
            let text = line.trim_start();
            if line.len() - text.len() > OPTION_INDENT_MAX {
                return None;
            }
            let long = text
                .strip_prefix('-')
                .filter(|rest| !rest.starts_with('-'))
                .and_then(|rest| rest.split_once(", "))
                .map_or(text, |(_, long)| long);
            let flag = long.strip_prefix("--")?.split([' ', '=']).next()?;
            (!flag.is_empty()).then(|| format!("--{flag}"))
        })
        .filter(|flag| flag != "--help" && flag != "--version")
        .collect()
}

/// Every `--flag` in the first column of the table under README's "## Configuration".
fn flags_in_readme_table() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {path}: {err}"));
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Configuration\n"))
        .expect("README has a Configuration section");
    section
        .lines()
        .filter_map(|line| line.strip_prefix('|')?.split('|').next())
        .flat_map(|first_cell| first_cell.split('`').skip(1).step_by(2))
        .filter(|code| code.starts_with("--"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_configuration_table_lists_exactly_the_flags_of_help() {
    let help = flags_in_help();
    assert!(help.len() > 10, "too few flags read from --help: {help:?}");
    let readme = flags_in_readme_table();
    let missing: Vec<&String> = help.iter().filter(|f| !readme.contains(*f)).collect();
    let unknown: Vec<&String> = readme.iter().filter(|f| !help.contains(f)).collect();
    assert!(
        missing.is_empty(),
        "README's configuration table lacks {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "README's configuration table lists {unknown:?}, which --help does not know"
    );
}

#[test]
fn the_systemd_unit_uses_only_flags_the_relay_knows() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/systemd/meshmeet.service"
    );
    let unit =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {path}: {err}"));
    // ExecStart= and its continuation lines.
    let mut exec_start = String::new();
    for line in unit
        .lines()
        .skip_while(|line| !line.starts_with("ExecStart="))
    {
        let line = line.trim_end();
        exec_start.push_str(line.trim_end_matches('\\'));
        exec_start.push(' ');
        if !line.ends_with('\\') {
            break;
        }
    }
    let used: Vec<&str> = exec_start
        .split_whitespace()
        .filter(|word| word.starts_with("--"))
        .collect();
    assert!(
        used.len() > 5,
        "too few flags read from {path}: {exec_start}"
    );
    let help = flags_in_help();
    let unknown: Vec<&&str> = used
        .iter()
        .filter(|flag| !help.iter().any(|known| known == **flag))
        .collect();
    assert!(
        unknown.is_empty(),
        "{path} uses {unknown:?}, which --help does not know"
    );
    for env in ["MESHMEET_JANUS_ADMIN_KEY", "MESHMEET_TURN_SECRET"] {
        assert!(
            unit.contains(env),
            "{path} does not say where {env} comes from"
        );
    }
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
    let mut client = support::Client { ws };
    // The answer proves the relay's connection task runs: a SIGTERM sent while the upgrade
    // was still being handed over would close the socket without a word, which is fine for
    // the relay but not what this test is about.
    client.send(&ClientMsg::Ping { nonce: 7 }).await;
    assert!(matches!(client.recv().await, ServerMsg::Pong { nonce: 7 }));

    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());

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

/// Starts the relay with `args` and `envs`, returning it, its address from the first
/// stdout line, and everything it writes to stderr once it exits (read as it comes: a full
/// pipe would stall a relay that logs at trace level).
fn start_relay(
    args: &[&str],
    envs: &[(&str, &str)],
) -> (
    std::process::Child,
    SocketAddr,
    std::sync::mpsc::Receiver<String>,
) {
    let mut child = Command::new(BINARY)
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stderr = child.stderr.take().expect("stderr");
    let (stderr_tx, stderr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = stderr_tx.send(text);
    });
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("address line");
    let address = first
        .trim_end()
        .strip_prefix("meshmeet relay listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .parse()
        .expect("an address");
    (child, address, stderr_rx)
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_and_none_holds_a_secret_even_at_trace() {
    use meshmeet_protocol::{IceServer, MediaState, PeerId, RoomName, Signal, PROTOCOL_VERSION};
    use meshmeet_server::token::{mint, Claims};
    let turn_secret = "turn-s3cret-7f1c2e";
    let token_secret = "token-s3cret-9a2b4d";
    let password = "room-pa55word-4d3e8c";
    let (mut child, address, stderr) = start_relay(
        &[
            "--listen",
            "127.0.0.1:0",
            "--dist",
            "/nonexistent/meshmeet",
            "--log-format",
            "json",
            "--turn-url",
            "turn:127.0.0.1:3478",
        ],
        &[
            // Even asking the WebSocket library for its traces.
            (
                "MESHMEET_LOG",
                "trace,tungstenite=trace,tokio_tungstenite=trace",
            ),
            ("MESHMEET_TURN_SECRET", turn_secret),
            ("MESHMEET_TOKEN_SECRET", token_secret),
        ],
    );
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        + 600;
    let token = mint(
        token_secret.as_bytes(),
        &Claims {
            room: "logged".into(),
            name: "Ana".into(),
            exp,
        },
    );
    let join = |name: &str, token: Option<String>| ClientMsg::Join {
        version: PROTOCOL_VERSION,
        room: RoomName("logged".into()),
        name: name.into(),
        password: Some(password.into()),
        media: MediaState::default(),
        token,
        client_key: None,
        e2ee: false,
    };
    let connect = || async {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{address}/ws"))
            .await
            .expect("websocket");
        support::Client { ws }
    };
    // Ana joins with the password and a join token; Bo with the password.
    let mut ana = connect().await;
    ana.send(&join("Ana", Some(token.clone()))).await;
    let ana_w = ana.expect_welcome().await;
    let ServerMsg::Welcome { ice_servers, .. } = &ana_w.msg else {
        panic!("a welcome");
    };
    let turn_credential = ice_servers
        .iter()
        .find_map(|server: &IceServer| server.credential.clone())
        .expect("a TURN credential");
    let mut bo = connect().await;
    bo.send(&join("Bo", None)).await;
    let bo_w = bo.expect_welcome().await;
    ana.recv().await;
    ana.send(&ClientMsg::Chat {
        seq: 1,
        text: "hello".into(),
    })
    .await;
    bo.recv().await;
    ana.send(&ClientMsg::Signal {
        to: bo_w.peer_id.clone(),
        signal: Signal::Offer {
            sdp: "v=0\r\n".into(),
        },
    })
    .await;
    bo.recv().await;
    // Ana's socket drops; she comes back with her session token.
    drop(ana);
    let mut back = connect().await;
    back.send(&ClientMsg::Resume {
        version: PROTOCOL_VERSION,
        session: ana_w.session.clone(),
    })
    .await;
    assert!(matches!(back.recv().await, ServerMsg::Resumed { .. }));
    let session = serde_json::to_value(&ana_w.session).expect("a token");
    let session = session.as_str().expect("a string").to_owned();

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    drop((back, bo));
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "relay did not exit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stderr = stderr
        .recv_timeout(Duration::from_secs(10))
        .expect("the relay's stderr");

    // One JSON object per line, with time and level; the join names its room and peer.
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    assert!(lines.len() > 10, "trace logs: {} lines", lines.len());
    for line in &lines {
        assert!(
            line["timestamp"].is_string() && line["level"].is_string(),
            "{line}"
        );
    }
    let ana_id: &PeerId = &ana_w.peer_id;
    assert!(
        lines.iter().any(|l| l["message"] == "peer joined"
            && l["room"] == "logged"
            && l["peer"] == ana_id.as_str()),
        "a join names its room and peer"
    );
    // Nothing secret, at any level.
    for (what, secret) in [
        ("the TURN secret", turn_secret),
        ("the token secret", token_secret),
        ("the room password", password),
        ("the join token", token.as_str()),
        ("the session token", session.as_str()),
        ("the TURN credential", turn_credential.as_str()),
    ] {
        let leaks: Vec<&str> = stderr.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "{what} is in the log: {leaks:#?}");
    }
}
