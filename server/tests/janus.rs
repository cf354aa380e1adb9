//! The relay's Janus client against a real Janus started with the shipped `deploy/janus`
//! configuration: rooms are created, seen and destroyed only with the right keys; a Janus
//! that dies fails requests at once and a new session works once it is back; a frozen one
//! times requests out; and `/readyz` follows Janus while the relay keeps serving meshes.

mod janus_server;
mod support;

use std::time::Duration;

use janus_server::JanusServer;
use meshmeet_server::config::Secret;
use meshmeet_server::janus::{JanusClient, JanusError, JanusOptions, JanusRoom, RoomSpec};
use support::{http_get, test_config, TestRelay};

/// Janus's VideoRoom error codes the checks expect.
const UNAUTHORIZED: i64 = 433;
const NO_SUCH_ROOM: i64 = 426;
const NO_SUCH_FEED: i64 = 428;

fn spec() -> RoomSpec {
    RoomSpec {
        publishers: 8,
        description: "meshmeet test".into(),
    }
}

async fn connect(janus: &JanusServer, admin_key: Secret) -> std::sync::Arc<JanusClient> {
    JanusClient::connect(&janus.url(), admin_key, JanusOptions::default())
        .await
        .unwrap_or_else(|err| panic!("connect to Janus: {err}\n{}", janus.log()))
}

/// One Janus for every room check: it starts in under a second, but each one counts on two
/// shared cores.
#[tokio::test]
async fn rooms_are_created_and_managed_only_with_the_right_keys() {
    let janus = JanusServer::start().await;
    let relay = connect(&janus, janus.admin_key()).await;

    // Created, private and empty.
    let room = relay.create_room(&spec()).await.expect("create a room");
    assert!(relay.room_exists(room.id).await.expect("exists"));
    assert_eq!(relay.list_participants(room.id).await, Ok(Vec::new()));
    let other = relay.create_room(&spec()).await.expect("a second room");
    assert_ne!((other.id, &other.secret), (room.id, &room.secret));

    // Anyone else on the API (no admin key, or another one) cannot create rooms.
    let intruder = connect(&janus, Secret::from("not-the-admin-key")).await;
    let refused = intruder.create_room(&spec()).await.expect_err("wrong key");
    assert_eq!(refused.code(), Some(UNAUTHORIZED), "{refused}");

    // Nor destroy one, or remove someone, without its secret.
    let guessed = JanusRoom {
        secret: Secret::from("guessed"),
        ..room.clone()
    };
    let refused = intruder
        .destroy_room(&guessed)
        .await
        .expect_err("wrong secret");
    assert_eq!(refused.code(), Some(UNAUTHORIZED), "{refused}");
    let refused = relay.kick(&guessed, 1).await.expect_err("wrong secret");
    assert_eq!(refused.code(), Some(UNAUTHORIZED), "{refused}");
    assert!(relay.room_exists(room.id).await.expect("exists"));
    // With the secret, the kick gets as far as looking for the participant.
    let refused = relay.kick(&room, 1).await.expect_err("nobody to kick");
    assert_eq!(refused.code(), Some(NO_SUCH_FEED), "{refused}");

    // With its secret, it goes, and only it.
    relay.destroy_room(&room).await.expect("destroy");
    assert!(!relay.room_exists(room.id).await.expect("exists"));
    let gone = relay.list_participants(room.id).await.expect_err("gone");
    assert_eq!(gone.code(), Some(NO_SUCH_ROOM), "{gone}");
    assert!(relay.room_exists(other.id).await.expect("exists"));
    relay
        .destroy_room(&other)
        .await
        .expect("destroy the second");
}

#[tokio::test]
async fn a_killed_janus_fails_requests_at_once_and_a_new_session_works_when_it_is_back() {
    let mut janus = JanusServer::start().await;
    let port = janus.port;
    let key = janus.admin_key();
    // A request timeout far longer than the test: an error here must come from the closed
    // socket, not from waiting the timeout out.
    let patient = JanusOptions {
        request_timeout: Duration::from_secs(600),
        ..JanusOptions::default()
    };
    let client = JanusClient::connect(&janus.url(), key.clone(), patient.clone())
        .await
        .expect("connect");
    let room = client.create_room(&spec()).await.expect("create");

    janus.kill();
    match client.room_exists(room.id).await {
        Err(JanusError::Closed(_)) => {}
        other => panic!("expected a closed connection, got {other:?}"),
    }
    assert!(client.is_closed());
    match client.create_room(&spec()).await {
        Err(JanusError::Closed(_)) => {}
        other => panic!("later requests fail the same way, got {other:?}"),
    }
    match JanusClient::connect(&janus.url(), key.clone(), patient.clone()).await {
        Err(JanusError::Unreachable(_)) => {}
        other => panic!("expected Janus to be unreachable, got {other:?}"),
    }

    let key_text = key.expose().to_owned();
    let janus = JanusServer::start_on(port, &key_text).await;
    let again = JanusClient::connect(&janus.url(), key, patient)
        .await
        .expect("a new session");
    let fresh = again.create_room(&spec()).await.expect("create again");
    // Rooms lived in the Janus that died.
    assert!(!again.room_exists(room.id).await.expect("exists"));
    again.destroy_room(&fresh).await.expect("destroy");
}

#[tokio::test]
async fn a_frozen_janus_times_a_request_out_and_its_late_answer_does_not_confuse_the_next() {
    let janus = JanusServer::start().await;
    let quick = JanusOptions {
        request_timeout: Duration::from_millis(500),
        // No keepalive during the test: only the checked requests are in flight.
        keepalive_interval: Duration::from_secs(3600),
    };
    let client = JanusClient::connect(&janus.url(), janus.admin_key(), quick)
        .await
        .expect("connect");
    let room = client.create_room(&spec()).await.expect("create");

    janus.freeze();
    let frozen = client.room_exists(room.id).await;
    janus.thaw();
    match frozen {
        Err(JanusError::Timeout { .. }) => {}
        other => panic!("expected a timeout from a frozen Janus, got {other:?}"),
    }
    // The late answer to the timed-out request arrives now; the next request must get its
    // own answer, not that one.
    let listed = client
        .list_participants(room.id)
        .await
        .expect("list after thaw");
    assert!(listed.is_empty(), "{listed:?}");
    assert!(client
        .room_exists(room.id)
        .await
        .expect("exists after thaw"));
    client.destroy_room(&room).await.expect("destroy");
    assert!(!client
        .room_exists(room.id)
        .await
        .expect("exists after destroy"));
}

#[tokio::test]
async fn readyz_names_an_unreachable_janus_and_turns_ready_once_it_runs() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port");
    let url = format!("ws://127.0.0.1:{port}");
    let key = janus_server::random_hex();
    let config = meshmeet_server::Config {
        janus_urls: vec![url.clone()],
        janus_admin_key: Some(Secret::from(key.as_str())),
        ..test_config()
    };
    // The relay starts without Janus, and meshes work meanwhile.
    let relay = TestRelay::start(config).await;
    let (_ana, _) = relay.join("mesh-meanwhile", "Ana").await;
    let ready = http_get(relay.addr, "/readyz", &[]).await;
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert!(
        ready
            .text()
            .starts_with(&format!("not ready: janus {url}: ")),
        "{}",
        ready.text()
    );

    let _janus = JanusServer::start_on(port, &key).await;
    let mut last = String::new();
    for _ in 0..300 {
        let ready = http_get(relay.addr, "/readyz", &[]).await;
        if ready.status == 200 {
            assert_eq!(ready.text(), "ready");
            return;
        }
        last = ready.text();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the relay never became ready with Janus running; last answer: {last}");
}
