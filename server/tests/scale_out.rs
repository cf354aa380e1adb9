//! Several relays sharing rooms through one Redis, over real sockets: clients on different
//! relays meet, signal in order and fill rooms no further than the limit; a relay that is
//! killed loses its peers within the expiry; a relay that stops hands its clients over;
//! `/readyz` follows Redis while `/healthz` only says the process is alive.
//!
//! Each test starts its own `redis-server` (see `redis_server/mod.rs`); relays run in this
//! process (`serve` with `redis_url` set) or, to be killed, as the real binary.

mod redis_server;
mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use meshmeet_protocol::{ClientMsg, ErrorCode, LeaveReason, MediaState, PeerInfo, ServerMsg};
use meshmeet_server::Config;
use redis_server::RedisServer;
use support::{candidate, http_get, join_msg, test_config, Client, Closed, TestRelay};
use tokio_tungstenite::tungstenite::Message;

const BINARY: &str = env!("CARGO_BIN_EXE_meshmeet-server");
/// The relays' expiry where a relay is killed; the documented bound for removing a dead
/// relay's peers is 1.25 times it.
const INSTANCE_TTL: Duration = Duration::from_secs(2);
/// The expiry elsewhere: long enough that a starved test machine does not make one relay give
/// the other up for dead.
const LONG_TTL: Duration = Duration::from_secs(5);
/// Slack on top of a documented bound for a loaded machine's late timers.
const TIMER_SLACK: Duration = Duration::from_secs(1);

fn redis_config(redis: &RedisServer) -> Config {
    Config {
        redis_url: Some(redis.url()),
        redis_instance_ttl: LONG_TTL,
        ..test_config()
    }
}

/// Starts a relay in this process on `redis` and waits until `/readyz` says it can serve.
async fn relay_on(redis: &RedisServer, config: Config) -> TestRelay {
    let relay = TestRelay::start(Config {
        redis_url: Some(redis.url()),
        ..config
    })
    .await;
    wait_until_ready(relay.addr).await;
    relay
}

async fn wait_until_ready(addr: SocketAddr) {
    let started = Instant::now();
    loop {
        let response = http_get(addr, "/readyz", &[]).await;
        if response.status == 200 {
            assert_eq!(response.text(), "ready");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "relay at {addr} not ready after 10 s: {}",
            response.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client of the relay at `addr` (support's helpers work on `TestRelay`s only).
async fn connect(addr: SocketAddr) -> Client {
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
    )
    .await
    .expect("connect in time")
    .expect("websocket handshake");
    Client { ws }
}

async fn join_at(addr: SocketAddr, room: &str, name: &str) -> (Client, support::Welcome) {
    let mut client = connect(addr).await;
    let welcome = client.join(room, name).await;
    (client, welcome)
}

/// The next protocol message within `limit` (longer than `Client::recv` allows).
async fn recv_within(client: &mut Client, limit: Duration) -> ServerMsg {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let frame = tokio::time::timeout_at(deadline, client.ws.next())
            .await
            .unwrap_or_else(|_| panic!("no message within {limit:?}"));
        match frame {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(&text).expect("a ServerMsg");
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

fn peer(welcome: &support::Welcome, name: &str) -> PeerInfo {
    PeerInfo {
        id: welcome.peer_id.clone(),
        name: name.into(),
        media: MediaState::default(),
    }
}

/// The real relay binary on `redis`, to be killed like a crashed process.
struct ChildRelay {
    addr: SocketAddr,
    child: Child,
}

impl ChildRelay {
    fn start(redis: &RedisServer) -> ChildRelay {
        let mut child = Command::new(BINARY)
            .args(["--listen", "127.0.0.1:0", "--dist", "/nonexistent/meshmeet"])
            .args(["--redis-url", &redis.url()])
            .args([
                "--redis-instance-ttl",
                &format!("{}ms", INSTANCE_TTL.as_millis()),
            ])
            .env("MESHMEET_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the relay binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (line_tx, line_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let line = line_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the relay prints its address");
        let addr = line
            .trim()
            .strip_prefix("meshmeet relay listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        ChildRelay { addr, child }
    }

    /// SIGKILL: no leave, no goodbye, the heartbeat just stops.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildRelay {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn clients_on_two_relays_share_a_room_and_their_signals_keep_their_order() {
    let redis = RedisServer::start().await;
    // Above the default rate limit: this test is about ordering, not limits.
    let config = Config {
        messages_per_second: 10_000,
        message_burst: 1_000,
        ..redis_config(&redis)
    };
    let a = relay_on(&redis, config.clone()).await;
    let b = relay_on(&redis, config).await;

    let (mut ana, ana_w) = a.join("standup", "Ana").await;
    let (mut bo, bo_w) = b.join("standup", "Bo").await;
    assert_eq!(bo_w.roster, vec![peer(&ana_w, "Ana")]);
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerJoined {
            peer: peer(&bo_w, "Bo")
        }
    );
    let (mut cy, cy_w) = a.join("standup", "Cy").await;
    assert_eq!(cy_w.roster, vec![peer(&ana_w, "Ana"), peer(&bo_w, "Bo")]);
    let cy_joined = ServerMsg::PeerJoined {
        peer: peer(&cy_w, "Cy"),
    };
    assert_eq!(ana.recv().await, cy_joined);
    assert_eq!(bo.recv().await, cy_joined);

    const COUNT: usize = 200;
    for n in 0..COUNT {
        ana.send(&ClientMsg::Signal {
            to: bo_w.peer_id.clone(),
            signal: candidate(n),
        })
        .await;
    }
    for n in 0..COUNT {
        assert_eq!(
            bo.recv().await,
            ServerMsg::Signal {
                from: ana_w.peer_id.clone(),
                signal: candidate(n),
            },
            "signal {n} out of order or changed"
        );
    }
    for n in 0..COUNT {
        bo.send(&ClientMsg::Signal {
            to: ana_w.peer_id.clone(),
            signal: candidate(n),
        })
        .await;
    }
    for n in 0..COUNT {
        assert_eq!(
            ana.recv().await,
            ServerMsg::Signal {
                from: bo_w.peer_id.clone(),
                signal: candidate(n),
            },
            "answer {n} out of order or changed"
        );
    }
    cy.expect_silence().await;

    // Presence crosses relays too: an update, a chat, a leave.
    let media = MediaState {
        mic: true,
        camera: false,
        screen: false,
    };
    bo.send(&ClientMsg::SetMedia { media }).await;
    let updated = ServerMsg::PeerUpdated {
        peer: PeerInfo {
            media,
            ..peer(&bo_w, "Bo")
        },
    };
    assert_eq!(ana.recv().await, updated);
    assert_eq!(cy.recv().await, updated);
    cy.send(&ClientMsg::Chat {
        seq: 1,
        text: "hi both".into(),
    })
    .await;
    for client in [&mut ana, &mut bo] {
        assert!(matches!(
            client.recv().await,
            ServerMsg::Chat { from, .. } if from == cy_w.peer_id
        ));
    }
    bo.send(&ClientMsg::Leave).await;
    assert_eq!(bo.expect_closed().await, Closed::Frame(1000));
    let bo_left = ServerMsg::PeerLeft {
        peer_id: bo_w.peer_id.clone(),
        reason: LeaveReason::Left,
    };
    assert_eq!(ana.recv().await, bo_left);
    assert_eq!(cy.recv().await, bo_left);
    ana.expect_silence().await;
}

#[tokio::test]
async fn room_full_holds_across_relays_when_joiners_race() {
    let redis = RedisServer::start().await;
    let config = Config {
        max_participants: 2,
        ..redis_config(&redis)
    };
    let a = relay_on(&redis, config.clone()).await;
    let b = relay_on(&redis, config).await;

    for round in 0..5 {
        let room = format!("pair-{round}");
        // Three on each relay, all connected before anyone asks, then all asking at once.
        let mut clients = Vec::new();
        for i in 0..6 {
            let relay = if i % 2 == 0 { &a } else { &b };
            clients.push(relay.connect().await);
        }
        for client in &mut clients {
            client.send(&join_msg(&room, "Racer")).await;
        }
        let mut welcomed = Vec::new();
        let mut full = 0;
        for (i, client) in clients.iter_mut().enumerate() {
            match client.recv().await {
                ServerMsg::Welcome { .. } => welcomed.push(i),
                ServerMsg::Error {
                    code: ErrorCode::RoomFull,
                    message,
                } => {
                    assert!(message.contains('2'), "{message}");
                    assert_eq!(client.expect_closed().await, Closed::Frame(1008));
                    full += 1;
                }
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(
            (welcomed.len(), full),
            (2, 4),
            "round {round}: exactly two get in"
        );
        // The two inside see each other (one got the other's peer_joined), nobody else.
        let mut joined = 0;
        for &i in &welcomed {
            let client = &mut clients[i];
            if let Ok(msg) = tokio::time::timeout(Duration::from_millis(300), client.recv()).await {
                assert!(matches!(msg, ServerMsg::PeerJoined { .. }), "{msg:?}");
                joined += 1;
            }
        }
        assert_eq!(joined, 1, "round {round}");
    }
}

#[tokio::test]
async fn peers_of_a_killed_relay_leave_with_timed_out_within_the_expiry() {
    let redis = RedisServer::start().await;
    let config = Config {
        redis_instance_ttl: INSTANCE_TTL,
        ..redis_config(&redis)
    };
    let a = relay_on(&redis, config).await;
    let mut b = ChildRelay::start(&redis);
    wait_until_ready(b.addr).await;

    let (mut ana, ana_w) = a.join("crash", "Ana").await;
    let (bo, bo_w) = join_at(b.addr, "crash", "Bo").await;
    let (cy, cy_w) = join_at(b.addr, "crash", "Cy").await;
    ana.recv().await;
    ana.recv().await;

    let started = Instant::now();
    b.kill();
    let bound = INSTANCE_TTL * 5 / 4;
    let mut gone = Vec::new();
    for _ in 0..2 {
        match recv_within(&mut ana, bound + TIMER_SLACK).await {
            ServerMsg::PeerLeft { peer_id, reason } => {
                assert_eq!(reason, LeaveReason::TimedOut);
                gone.push(peer_id);
            }
            other => panic!("expected peer_left, got {other:?}"),
        }
    }
    let waited = started.elapsed();
    eprintln!("killed relay's peers removed after {waited:?} (expiry {INSTANCE_TTL:?})");
    gone.sort();
    let mut expected = vec![bo_w.peer_id.clone(), cy_w.peer_id.clone()];
    expected.sort();
    assert_eq!(gone, expected);
    assert!(
        waited <= bound + TIMER_SLACK,
        "took {waited:?}; the documented bound is {bound:?}"
    );
    ana.expect_silence().await;
    let (_di, di_w) = a.join("crash", "Di").await;
    assert_eq!(di_w.roster, vec![peer(&ana_w, "Ana")]);
    drop((bo, cy));
}

#[tokio::test]
async fn stopping_one_relay_moves_its_clients_without_ending_the_meeting() {
    let redis = RedisServer::start().await;
    let a = relay_on(&redis, redis_config(&redis)).await;
    let b = relay_on(&redis, redis_config(&redis)).await;
    let (mut ana, _) = a.join("handover", "Ana").await;
    let (mut bo, bo_w) = b.join("handover", "Bo").await;
    ana.recv().await;

    let stopping = tokio::spawn(b.stop());
    assert!(matches!(bo.recv().await, ServerMsg::ShuttingDown { .. }));
    assert_eq!(bo.expect_closed().await, Closed::Frame(1001));
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerLeft {
            peer_id: bo_w.peer_id,
            reason: LeaveReason::Disconnected,
        }
    );
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("relay stops in time")
        .expect("no panic")
        .expect("clean stop");

    // Bo comes back through the load balancer, which now only knows relay A.
    let (mut bo_again, bo_again_w) = a.join("handover", "Bo").await;
    assert!(matches!(
        ana.recv().await,
        ServerMsg::PeerJoined { peer } if peer.id == bo_again_w.peer_id
    ));
    bo_again
        .send(&ClientMsg::Signal {
            to: bo_again_w.roster[0].id.clone(),
            signal: candidate(1),
        })
        .await;
    assert!(matches!(ana.recv().await, ServerMsg::Signal { .. }));
    bo_again.assert_alive(1).await;
}

#[tokio::test]
async fn readyz_follows_redis_while_healthz_stays_ok() {
    let mut redis = RedisServer::start().await;
    let port = redis.port;
    let relay = relay_on(&redis, redis_config(&redis)).await;
    let (mut ana, _) = relay.join("outage", "Ana").await;

    redis.kill();
    let started = Instant::now();
    let ready = http_get(relay.addr, "/readyz", &[]).await;
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert!(ready.text().contains("Redis"), "{}", ready.text());
    assert_eq!(ready.header("cache-control"), Some("no-store"));
    let health = http_get(relay.addr, "/healthz", &[]).await;
    assert_eq!((health.status, health.text().as_str()), (200, "ok"));

    // A newcomer is told clearly, and the connection ends so it can come back later.
    let mut bo = relay.connect().await;
    bo.send(&join_msg("outage", "Bo")).await;
    match recv_within(&mut bo, Duration::from_secs(10)).await {
        ServerMsg::Error {
            code: ErrorCode::Internal,
            message,
        } => assert!(message.contains("shared room store"), "{message}"),
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(bo.expect_closed().await, Closed::Frame(1011));
    eprintln!("join refused {:?} after Redis went away", started.elapsed());

    // Redis returns, empty: the relay reconnects by itself, and Ana, whose place in the room
    // went with the old Redis, is disconnected so that her client rejoins.
    let _redis = RedisServer::start_on(port).await;
    let started = Instant::now();
    wait_until_ready(relay.addr).await;
    eprintln!("ready {:?} after Redis came back", started.elapsed());
    let closed = tokio::time::timeout(Duration::from_secs(5), ana.ws.next()).await;
    assert!(
        matches!(
            closed,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_))))
        ),
        "Ana's stale session ends: {closed:?}"
    );
    let (_bo, welcome) = relay.join("outage", "Bo").await;
    assert!(welcome.roster.is_empty());
}

#[tokio::test]
async fn relay_starts_without_redis_and_serves_once_redis_is_there() {
    // A port where nothing listens yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = Config {
        redis_url: Some(format!("redis://127.0.0.1:{port}")),
        redis_instance_ttl: INSTANCE_TTL,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    assert_eq!(http_get(relay.addr, "/healthz", &[]).await.status, 200);
    let ready = http_get(relay.addr, "/readyz", &[]).await;
    assert_eq!(ready.status, 503, "{}", ready.text());

    let _redis = RedisServer::start_on(port).await;
    let started = Instant::now();
    wait_until_ready(relay.addr).await;
    eprintln!("ready {:?} after Redis appeared", started.elapsed());
    let (_ana, welcome) = relay.join("late", "Ana").await;
    assert!(welcome.roster.is_empty());
}

#[tokio::test]
async fn in_memory_relay_is_ready_without_redis() {
    let relay = TestRelay::start(test_config()).await;
    let ready = http_get(relay.addr, "/readyz", &[]).await;
    assert_eq!((ready.status, ready.text().as_str()), (200, "ready"));
}

#[test]
fn help_documents_the_redis_flags_and_bad_urls_are_refused() {
    let output = Command::new(BINARY).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    for text in [
        "--redis-url",
        "MESHMEET_REDIS_URL",
        "--redis-key-prefix",
        "MESHMEET_REDIS_KEY_PREFIX",
        "--redis-instance-ttl",
        "MESHMEET_REDIS_INSTANCE_TTL",
    ] {
        assert!(help.contains(text), "--help lacks {text}");
    }
    let output = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--redis-url", "http://example"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Redis URL"));
}
