//! Connections that never finish an HTTP request (silent, or sending half a header) are
//! timed out and, past the pending limits, make room for new ones: they cannot take every
//! file descriptor and stop `/healthz` or new WebSockets from answering.

mod support;

use std::time::Duration;

use meshmeet_server::Config;
use support::{closed_by_relay, http_get, idle_connections, test_config, RelayProcess, TestRelay};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn three_hundred_idle_connections_under_a_256_descriptor_limit_leave_the_relay_answering() {
    let relay = RelayProcess::start(256, &[]);
    let idle = idle_connections(relay.addr, 300).await;
    assert!(idle.len() >= 256, "opened only {} connections", idle.len());
    let health = http_get(relay.addr, "/healthz", &[]).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.text(), "ok");
    let (ws, _) = tokio::time::timeout(
        support::RECV_TIMEOUT,
        tokio_tungstenite::connect_async(format!("ws://{}/ws", relay.addr)),
    )
    .await
    .expect("the upgrade answered in time")
    .expect("a WebSocket");
    let mut client = support::Client { ws };
    let welcome = client.join("after-the-flood", "Ana").await;
    assert!(!welcome.session.as_str().is_empty());
    client.assert_alive(1).await;
    drop(idle);
}

fn short_timeouts() -> Config {
    Config {
        header_read_timeout: Duration::from_millis(300),
        http_idle_timeout: Duration::from_millis(500),
        ..test_config()
    }
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let relay = TestRelay::start(short_timeouts()).await;
    let mut silent = TcpStream::connect(relay.addr).await.expect("connect");
    assert!(closed_by_relay(&mut silent).await);
}

#[tokio::test]
async fn a_header_sent_a_byte_at_a_time_is_cut_off_by_the_header_read_timeout() {
    let relay = TestRelay::start(short_timeouts()).await;
    let mut slow = TcpStream::connect(relay.addr).await.expect("connect");
    // One byte every 100 ms keeps the connection busy, so only the header timeout can end it.
    let trickle = async {
        for byte in b"GET / HTTP/1.1\r\nX-Slow: ".iter().cycle().take(100) {
            if slow.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(support::RECV_TIMEOUT, trickle)
        .await
        .expect("the relay cut the slow header off before it was sent");
    assert!(closed_by_relay(&mut slow).await);
}

#[tokio::test]
async fn past_the_per_address_limit_the_stalest_connection_makes_room() {
    let relay = TestRelay::start(Config {
        max_pending_connections_per_ip: 4,
        ..test_config()
    })
    .await;
    // Silent ones, opened in order: the first is the stalest.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(relay.addr).await.expect("connect"));
    }
    let health = http_get(relay.addr, "/healthz", &[]).await;
    assert_eq!(health.status, 200);
    assert!(
        closed_by_relay(&mut idle[0]).await,
        "the oldest idle connection was closed"
    );
    // A WebSocket no longer counts as pending once upgraded: four sessions and more.
    let mut clients = Vec::new();
    for n in 0..6 {
        clients.push(relay.join(&format!("room-{n}"), "P").await.0);
    }
    for (nonce, client) in (1..).zip(clients.iter_mut()) {
        client.assert_alive(nonce).await;
    }
}
