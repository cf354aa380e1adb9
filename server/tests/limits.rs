//! Every limit over real sockets: refused with a typed error to the offender only, fatal
//! ones closed, everyone else undisturbed.

mod support;

use std::time::Duration;

use meshmeet_protocol::{ClientMsg, ErrorCode, PeerId, ServerMsg};
use meshmeet_server::Config;
use support::{candidate, join_msg, test_config, Client, Closed, TestRelay};
use tokio_tungstenite::tungstenite;

#[tokio::test]
async fn room_full_refuses_the_ninth_joiner_and_leaves_the_eight_undisturbed() {
    let relay = TestRelay::start(test_config()).await;
    let mut members: Vec<(Client, PeerId)> = Vec::new();
    for n in 0..8 {
        let (client, welcome) = relay.join("full", &format!("P{n}")).await;
        assert_eq!(welcome.roster.len(), n);
        members.push((client, welcome.peer_id));
    }
    // Everyone has seen the later joiners.
    for (n, (client, _)) in members.iter_mut().enumerate() {
        for _ in n + 1..8 {
            assert!(matches!(client.recv().await, ServerMsg::PeerJoined { .. }));
        }
    }

    let mut ninth = relay.connect().await;
    ninth.send(&join_msg("full", "Ninth")).await;
    assert_eq!(ninth.recv_error().await, ErrorCode::RoomFull);
    assert_eq!(ninth.expect_closed().await, Closed::Frame(1008));

    for (client, _) in members.iter_mut() {
        client.expect_silence().await;
    }
    let to = members[7].1.clone();
    let from = members[0].1.clone();
    members[0]
        .0
        .send(&ClientMsg::Signal {
            to,
            signal: candidate(1),
        })
        .await;
    assert_eq!(
        members[7].0.recv().await,
        ServerMsg::Signal {
            from,
            signal: candidate(1)
        }
    );
}

#[tokio::test]
async fn participant_limit_is_configurable() {
    let config = Config {
        max_participants: 2,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let (_a, _) = relay.join("pair", "A").await;
    let (_b, _) = relay.join("pair", "B").await;
    let mut third = relay.connect().await;
    third.send(&join_msg("pair", "C")).await;
    assert_eq!(third.recv_error().await, ErrorCode::RoomFull);
}

#[tokio::test]
async fn message_over_the_size_limit_is_refused_and_the_session_goes_on() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, _) = relay.join("size", "Ana").await;
    // Valid JSON, 70 KiB: over the 64 KiB limit, under the hard frame limit.
    let text = format!(
        r#"{{"type":"chat","seq":1,"text":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    ana.send_text(&text).await;
    assert_eq!(ana.recv_error().await, ErrorCode::TooLarge);
    ana.assert_alive(1).await;

    // Exactly at the limit is fine as far as size goes (the chat length limit refuses it).
    let prefix = r#"{"type":"chat","seq":1,"text":""#;
    let suffix = r#""}"#;
    let fill = 64 * 1024 - prefix.len() - suffix.len();
    ana.send_text(&format!("{prefix}{}{suffix}", "y".repeat(fill)))
        .await;
    assert_eq!(ana.recv_error().await, ErrorCode::InvalidText);
}

#[tokio::test]
async fn frame_beyond_the_hard_limit_is_not_buffered_and_closes_with_too_large() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, ana_w) = relay.join("huge", "Ana").await;
    let (mut bo, _) = relay.join("huge", "Bo").await;
    ana.recv().await;

    bo.send_frame(tungstenite::Message::text("z".repeat(1024 * 1024)))
        .await;
    assert_eq!(bo.recv_error().await, ErrorCode::TooLarge);
    assert_eq!(bo.expect_closed().await, Closed::Frame(1009));
    match ana.recv().await {
        ServerMsg::PeerLeft { peer_id, .. } => assert_ne!(peer_id, ana_w.peer_id),
        other => panic!("expected peer_left, got {other:?}"),
    }
}

#[tokio::test]
async fn message_rate_is_limited_with_one_error_per_flood() {
    let config = Config {
        messages_per_second: 1,
        message_burst: 5,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let mut client = relay.connect().await;
    for nonce in 0..10 {
        client.send(&ClientMsg::Ping { nonce }).await;
    }
    for nonce in 0..5 {
        assert_eq!(client.recv().await, ServerMsg::Pong { nonce });
    }
    assert_eq!(client.recv_error().await, ErrorCode::RateLimited);
    // The other four were dropped without an error each.
    client.expect_silence().await;
    // The bucket refills: one message per second passes again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.assert_alive(99).await;
}

#[tokio::test]
async fn ice_candidate_burst_within_default_limits_passes() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, ana_w) = relay.join("burst", "Ana").await;
    let (mut bo, bo_w) = relay.join("burst", "Bo").await;
    ana.recv().await;
    for n in 0..100 {
        ana.send(&ClientMsg::Signal {
            to: bo_w.peer_id.clone(),
            signal: candidate(n),
        })
        .await;
    }
    for n in 0..100 {
        assert_eq!(
            bo.recv().await,
            ServerMsg::Signal {
                from: ana_w.peer_id.clone(),
                signal: candidate(n)
            }
        );
    }
    ana.expect_silence().await;
}

#[tokio::test]
async fn room_limit_refuses_new_rooms_but_not_joining_open_ones() {
    let config = Config {
        max_rooms: 2,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let (_a, _) = relay.join("one", "A").await;
    let (_b, _) = relay.join("two", "B").await;
    let mut c = relay.connect().await;
    c.send(&join_msg("three", "C")).await;
    assert_eq!(c.recv_error().await, ErrorCode::TooManyRooms);
    assert_eq!(c.expect_closed().await, Closed::Frame(1008));
    let (_d, welcome) = relay.join("one", "D").await;
    assert_eq!(welcome.roster.len(), 1);
}

#[tokio::test]
async fn name_limits_count_characters_and_are_configurable() {
    let relay = TestRelay::start(test_config()).await;
    let mut client = relay.connect().await;
    client.send(&join_msg("names", &"字".repeat(41))).await;
    assert_eq!(client.recv_error().await, ErrorCode::InvalidName);
    client.send(&join_msg(&"r".repeat(65), "Ana")).await;
    assert_eq!(client.recv_error().await, ErrorCode::InvalidRoom);
    client
        .send(&join_msg(&"r".repeat(64), &"字".repeat(40)))
        .await;
    client.expect_welcome().await;
    client
        .send(&ClientMsg::SetName {
            name: "名".repeat(41),
        })
        .await;
    assert_eq!(client.recv_error().await, ErrorCode::InvalidName);

    let config = Config {
        max_room_name_chars: 4,
        max_display_name_chars: 3,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let mut client = relay.connect().await;
    client.send(&join_msg("abcde", "Bo")).await;
    assert_eq!(client.recv_error().await, ErrorCode::InvalidRoom);
    client.send(&join_msg("abcd", "Anna")).await;
    assert_eq!(client.recv_error().await, ErrorCode::InvalidName);
    client.send(&join_msg("abcd", "Ann")).await;
    client.expect_welcome().await;
}

#[tokio::test]
async fn chat_length_limit_is_enforced() {
    let config = Config {
        max_chat_chars: 10,
        max_file_bytes: 1 << 30,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let (mut ana, _) = relay.join("talk", "Ana").await;
    let (mut bo, _) = relay.join("talk", "Bo").await;
    ana.recv().await;
    ana.send(&ClientMsg::Chat {
        seq: 1,
        text: "ü".repeat(11),
    })
    .await;
    assert_eq!(ana.recv_error().await, ErrorCode::InvalidText);
    ana.send(&ClientMsg::Chat {
        seq: 2,
        text: "ü".repeat(10),
    })
    .await;
    assert!(matches!(bo.recv().await, ServerMsg::Chat { .. }));
    ana.expect_silence().await;
}

#[tokio::test]
async fn connection_limit_refuses_upgrades_with_503_until_a_slot_frees() {
    let config = Config {
        max_connections: 2,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let first = relay.connect().await;
    let mut second = relay.connect().await;
    match tokio_tungstenite::connect_async(relay.ws_url()).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            // Told when to try again, in plain text no cache keeps.
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
            };
            assert_eq!(header("retry-after"), Some("5"));
            assert_eq!(header("cache-control"), Some("no-store"));
            assert_eq!(header("content-type"), Some("text/plain; charset=utf-8"));
        }
        other => panic!("expected 503, got {other:?}"),
    }
    second.assert_alive(1).await;

    first.close().await;
    // The relay notices the close asynchronously; a slot frees within moments.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        match tokio_tungstenite::connect_async(relay.ws_url()).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => panic!("slot never freed: {err}"),
        }
    }
}

#[tokio::test]
async fn one_bad_message_is_forgiven_but_a_stream_of_them_closes_the_connection() {
    let config = Config {
        max_bad_messages: 5,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let mut client = relay.connect().await;
    client.send_text("nonsense").await;
    assert_eq!(client.recv_error().await, ErrorCode::BadMessage);
    client.assert_alive(1).await;

    for _ in 0..4 {
        client.send_text("nonsense").await;
        assert_eq!(client.recv_error().await, ErrorCode::BadMessage);
    }
    client.send_text("nonsense").await;
    assert_eq!(client.recv_error().await, ErrorCode::BadMessage);
    assert_eq!(client.expect_closed().await, Closed::Frame(1008));
}
