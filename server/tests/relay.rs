//! Rooms, presence and relaying over real sockets: what each client sees, in order.

mod support;

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use meshmeet_protocol::{
    ClientMsg, ErrorCode, IceServer, LeaveReason, MediaState, PeerId, PeerInfo, Reaction, RoomName,
    ServerMsg, Signal, PROTOCOL_VERSION,
};
use serde_json::json;
use support::{candidate, go_live_msg, join_msg, test_config, Closed, TestRelay};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn peer(id: &PeerId, name: &str) -> PeerInfo {
    PeerInfo {
        id: id.clone(),
        name: name.into(),
        media: MediaState::default(),
    }
}

#[tokio::test]
async fn joiner_gets_welcome_with_roster_in_join_order_and_others_get_peer_joined() {
    let config = support::test_config();
    let config = meshmeet_server::Config {
        stun_urls: vec!["stun:stun.example.org:3478".into()],
        ..config
    };
    let limits = config.room_limits();
    let relay = TestRelay::start(config).await;

    let (mut ana, ana_welcome) = relay.join("standup", "Ana").await;
    assert_eq!(
        ana_welcome.msg,
        ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            peer_id: ana_welcome.peer_id.clone(),
            room: RoomName("standup".into()),
            roster: vec![],
            ice_servers: vec![IceServer {
                urls: vec!["stun:stun.example.org:3478".into()],
                username: None,
                credential: None,
            }],
            ice_transport_policy: Default::default(),
            limits,
            session: ana_welcome.session.clone(),
            resume_grace_ms: 0,
            host: Some(ana_welcome.peer_id.clone()),
            locked: false,
            topology: Default::default(),
            live: None,
            e2ee: false,
        }
    );
    assert_eq!(ana_welcome.session.as_str().len(), 32, "128 bits as hex");
    let ana_id = ana_welcome.peer_id;
    assert_eq!(ana_id.as_str().len(), 32, "128 bits as hex");

    let (mut bo, bo_welcome) = relay.join("standup", "  Bo ").await;
    let bo_id = bo_welcome.peer_id;
    assert_eq!(bo_welcome.roster, vec![peer(&ana_id, "Ana")]);
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerJoined {
            peer: peer(&bo_id, "Bo")
        },
        "names are trimmed before anyone sees them"
    );

    let (mut cy, cy_welcome) = relay.join("standup", "Cy").await;
    let cy_id = cy_welcome.peer_id;
    assert_eq!(
        cy_welcome.roster,
        vec![peer(&ana_id, "Ana"), peer(&bo_id, "Bo")],
        "roster in join order, without the joiner"
    );
    let joined = ServerMsg::PeerJoined {
        peer: peer(&cy_id, "Cy"),
    };
    assert_eq!(ana.recv().await, joined);
    assert_eq!(bo.recv().await, joined);
    assert!(ana_id != bo_id && bo_id != cy_id && ana_id != cy_id);

    // Another room sees none of this.
    let (mut other, other_welcome) = relay.join("retro", "Di").await;
    assert!(other_welcome.roster.is_empty());
    ana.expect_silence().await;
    bo.expect_silence().await;
    cy.expect_silence().await;
    other.expect_silence().await;
}

#[tokio::test]
async fn signals_reach_exactly_their_target_in_order_with_sender_stamped() {
    // Above the default rate limit: this test is about ordering, not limits.
    let config = meshmeet_server::Config {
        messages_per_second: 10_000,
        message_burst: 1_000,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let (mut ana, ana_w) = relay.join("mesh", "Ana").await;
    let (mut bo, bo_w) = relay.join("mesh", "Bo").await;
    let (mut cy, _) = relay.join("mesh", "Cy").await;
    ana.recv().await; // Bo joined
    ana.recv().await; // Cy joined
    bo.recv().await; // Cy joined

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
    bo.expect_silence().await;
    cy.expect_silence().await;
    ana.expect_silence().await;

    // And back.
    let answer = Signal::Answer {
        sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n".into(),
    };
    bo.send(&ClientMsg::Signal {
        to: ana_w.peer_id.clone(),
        signal: answer.clone(),
    })
    .await;
    assert_eq!(
        ana.recv().await,
        ServerMsg::Signal {
            from: bo_w.peer_id.clone(),
            signal: answer,
        }
    );
    cy.expect_silence().await;
}

#[tokio::test]
async fn offer_many_times_the_socket_buffers_arrives_whole_and_later_signals_follow() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, _) = relay.join("big", "Ana").await;
    let (mut bo, bo_w) = relay.join("big", "Bo").await;
    ana.recv().await; // Bo joined

    // 48 KiB: twelve read buffers, six write buffers (server/src/upgrade.rs), under the
    // 64 KiB message limit. Every line differs, so a lost or repeated chunk shows.
    let sdp: String = (0..1_600)
        .map(|n| format!("a=x-line:{n:020}\r\n"))
        .collect();
    assert!(sdp.len() > 12 * meshmeet_server::upgrade::READ_BUFFER_BYTES);
    let offer = Signal::Offer { sdp };
    ana.send(&ClientMsg::Signal {
        to: bo_w.peer_id.clone(),
        signal: offer.clone(),
    })
    .await;
    ana.send(&ClientMsg::Signal {
        to: bo_w.peer_id.clone(),
        signal: candidate(1),
    })
    .await;
    match bo.recv().await {
        ServerMsg::Signal { signal, .. } => assert_eq!(signal, offer),
        other => panic!("expected the offer, got {other:?}"),
    }
    match bo.recv().await {
        ServerMsg::Signal { signal, .. } => assert_eq!(signal, candidate(1)),
        other => panic!("expected the candidate, got {other:?}"),
    }
}

#[tokio::test]
async fn spoofed_sender_is_replaced_by_relay() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, ana_w) = relay.join("spoof", "Ana").await;
    let (mut bo, bo_w) = relay.join("spoof", "Bo").await;
    let (mut cy, cy_w) = relay.join("spoof", "Cy").await;
    ana.recv().await;
    ana.recv().await;
    bo.recv().await;

    // Ana claims to be Cy, in a signal and in a chat.
    let forged_signal = json!({
        "type": "signal",
        "from": cy_w.peer_id,
        "to": bo_w.peer_id,
        "signal": {"kind": "offer", "sdp": "v=0", "from": cy_w.peer_id},
    });
    ana.send_text(&forged_signal.to_string()).await;
    assert_eq!(
        bo.recv().await,
        ServerMsg::Signal {
            from: ana_w.peer_id.clone(),
            signal: Signal::Offer { sdp: "v=0".into() },
        }
    );
    let forged_chat = json!({"type": "chat", "seq": 1, "from": cy_w.peer_id, "text": "it was me"});
    ana.send_text(&forged_chat.to_string()).await;
    for client in [&mut bo, &mut cy] {
        match client.recv().await {
            ServerMsg::Chat { from, text, .. } => {
                assert_eq!(from, ana_w.peer_id);
                assert_eq!(text, "it was me");
            }
            other => panic!("expected chat, got {other:?}"),
        }
    }
    ana.expect_silence().await;
}

#[tokio::test]
async fn chat_goes_to_the_others_with_its_id_and_the_relay_time() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, ana_w) = relay.join("chat", "Ana").await;
    let (mut bo, _) = relay.join("chat", "Bo").await;
    ana.recv().await;

    let before = unix_ms();
    ana.send(&ClientMsg::Chat {
        seq: 1,
        text: "hello 👋\nsecond line".into(),
    })
    .await;
    match bo.recv().await {
        ServerMsg::Chat {
            from,
            seq,
            text,
            sent_at_ms,
        } => {
            assert_eq!(from, ana_w.peer_id);
            assert_eq!(seq, 1);
            assert_eq!(text, "hello 👋\nsecond line");
            assert!(sent_at_ms >= before && sent_at_ms <= unix_ms());
        }
        other => panic!("expected chat, got {other:?}"),
    }
    ana.expect_silence().await;
}

#[tokio::test]
async fn reactions_reach_the_others_stamped_and_a_flood_is_cut_without_ending_the_call() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, ana_w) = relay.join("react", "Ana").await;
    let (mut bo, _) = relay.join("react", "Bo").await;
    ana.recv().await;

    // Five at once: three reach Bo, Ana is told once, and her call goes on.
    for _ in 0..5 {
        ana.send(&ClientMsg::React {
            reaction: Reaction::Clap,
        })
        .await;
    }
    for _ in 0..3 {
        assert_eq!(
            bo.recv().await,
            ServerMsg::Reacted {
                from: ana_w.peer_id.clone(),
                reaction: Reaction::Clap,
            }
        );
    }
    match ana.recv().await {
        ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::RateLimited),
        other => panic!("expected rate_limited, got {other:?}"),
    }
    ana.expect_silence().await;
    bo.expect_silence().await;
    ana.send(&ClientMsg::Chat {
        seq: 1,
        text: "still here".into(),
    })
    .await;
    assert!(matches!(bo.recv().await, ServerMsg::Chat { .. }));

    // A reaction that does not exist is a bad message, and reaches nobody.
    ana.send_text(r#"{"type":"react","reaction":"middle_finger"}"#)
        .await;
    match ana.recv().await {
        ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::BadMessage),
        other => panic!("expected bad_message, got {other:?}"),
    }
    bo.expect_silence().await;

    // A second later the budget is back.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ana.send(&ClientMsg::React {
        reaction: Reaction::Heart,
    })
    .await;
    assert_eq!(
        bo.recv().await,
        ServerMsg::Reacted {
            from: ana_w.peer_id.clone(),
            reaction: Reaction::Heart,
        }
    );
}

#[tokio::test]
async fn media_and_name_changes_reach_the_others_and_later_rosters() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, ana_w) = relay.join("updates", "Ana").await;
    let (mut bo, _) = relay.join("updates", "Bo").await;
    ana.recv().await;

    let media = MediaState {
        mic: true,
        camera: false,
        screen: true,
    };
    ana.send(&ClientMsg::SetMedia { media }).await;
    assert_eq!(
        bo.recv().await,
        ServerMsg::PeerUpdated {
            peer: PeerInfo {
                id: ana_w.peer_id.clone(),
                name: "Ana".into(),
                media,
            }
        }
    );
    ana.send(&ClientMsg::SetName {
        name: "  Ana B. ".into(),
    })
    .await;
    let updated = PeerInfo {
        id: ana_w.peer_id.clone(),
        name: "Ana B.".into(),
        media,
    };
    assert_eq!(
        bo.recv().await,
        ServerMsg::PeerUpdated {
            peer: updated.clone()
        }
    );
    ana.expect_silence().await;

    let (_cy, cy_w) = relay.join("updates", "Cy").await;
    assert_eq!(cy_w.roster[0], updated);
}

#[tokio::test]
async fn leave_announces_peer_left_with_reason_left_and_closes_normally() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, ana_w) = relay.join("bye", "Ana").await;
    let (mut bo, bo_w) = relay.join("bye", "Bo").await;
    ana.recv().await;

    ana.send(&ClientMsg::Leave).await;
    assert_eq!(ana.expect_closed().await, Closed::Frame(1000));
    assert_eq!(
        bo.recv().await,
        ServerMsg::PeerLeft {
            peer_id: ana_w.peer_id,
            reason: LeaveReason::Left,
        }
    );
    // Ana opened the room: Bo, the only one left, is host now.
    assert_eq!(
        bo.recv().await,
        ServerMsg::HostChanged {
            peer_id: bo_w.peer_id
        }
    );
    bo.assert_alive(1).await;
}

#[tokio::test]
async fn closed_and_dropped_sockets_announce_peer_left_disconnected() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, _) = relay.join("drop", "Ana").await;
    let (bo, bo_w) = relay.join("drop", "Bo").await;
    let (cy, cy_w) = relay.join("drop", "Cy").await;
    ana.recv().await;
    ana.recv().await;

    // A close frame without a leave.
    bo.close().await;
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerLeft {
            peer_id: bo_w.peer_id,
            reason: LeaveReason::Disconnected,
        }
    );
    // The TCP connection simply going away.
    drop(cy);
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerLeft {
            peer_id: cy_w.peer_id,
            reason: LeaveReason::Disconnected,
        }
    );
    ana.assert_alive(2).await;
}

#[tokio::test]
async fn client_that_stops_answering_pings_is_removed_with_timed_out() {
    let config = meshmeet_server::Config {
        keepalive_interval: Duration::from_millis(100),
        keepalive_timeout: Duration::from_millis(400),
        // A silent connection is not held for a resume: the grace period does not delay
        // its `peer_left` (the 3 s receive limit below would catch that).
        resume_grace: Duration::from_secs(30),
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let (mut ana, _) = relay.join("quiet", "Ana").await;
    // Bo joins and is then never read again: its pings go unanswered.
    let (silent_bo, bo_w) = relay.join("quiet", "Bo").await;
    ana.recv().await;

    let started = Instant::now();
    // Ana keeps reading (and so answering pings) well past the timeout.
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerLeft {
            peer_id: bo_w.peer_id,
            reason: LeaveReason::TimedOut,
        }
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "timed out too early: {waited:?}"
    );
    ana.expect_silence().await;
    ana.assert_alive(3).await;
    drop(silent_bo);
}

#[tokio::test]
async fn raw_connection_that_never_reads_or_answers_is_closed_after_the_timeout() {
    let config = meshmeet_server::Config {
        keepalive_interval: Duration::from_millis(100),
        keepalive_timeout: Duration::from_millis(400),
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let mut tcp = tokio::net::TcpStream::connect(relay.addr)
        .await
        .expect("connect");
    let handshake = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        relay.addr
    );
    tcp.write_all(handshake.as_bytes()).await.expect("write");
    let started = Instant::now();

    // Read whatever comes (the 101, then pings we never answer) until the relay hangs up.
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "relay never closed the silent connection");
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 101"));
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Ping frames (opcode 0x9) were sent on the way.
    assert!(received.windows(2).any(|w| w == [0x89, 0x00]));
}

#[tokio::test]
async fn ping_is_answered_with_pong_before_and_after_join() {
    let relay = TestRelay::start(test_config()).await;
    let mut client = relay.connect().await;
    client.assert_alive(u64::MAX).await;
    client.join("pong", "Ana").await;
    client.assert_alive(0).await;
}

#[tokio::test]
async fn password_protected_room_needs_the_first_joiners_password() {
    let relay = TestRelay::start(test_config()).await;
    let join_with = |password: Option<&str>| ClientMsg::Join {
        version: PROTOCOL_VERSION,
        room: RoomName("private".into()),
        name: "Guest".into(),
        password: password.map(str::to_owned),
        media: MediaState::default(),
        token: None,
        client_key: None,
        e2ee: false,
    };
    let mut host = relay.connect().await;
    host.send(&join_with(Some("s3cret"))).await;
    host.expect_welcome().await;

    for wrong in [None, Some("s3cre"), Some("S3cret"), Some("s3cret ")] {
        let mut guest = relay.connect().await;
        guest.send(&join_with(wrong)).await;
        assert_eq!(guest.recv_error().await, ErrorCode::WrongPassword);
        assert_eq!(guest.expect_closed().await, Closed::Frame(1008));
    }
    let mut guest = relay.connect().await;
    guest.send(&join_with(Some("s3cret"))).await;
    let welcome = guest.expect_welcome().await;
    assert_eq!(
        host.recv().await,
        ServerMsg::PeerJoined {
            peer: peer(&welcome.peer_id, "Guest")
        },
        "refused joiners were never announced"
    );
}

#[tokio::test]
async fn empty_room_is_forgotten_with_its_password() {
    let config = meshmeet_server::Config {
        max_rooms: 1,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let mut host = relay.connect().await;
    host.send(&ClientMsg::Join {
        version: PROTOCOL_VERSION,
        room: RoomName("once".into()),
        name: "Host".into(),
        password: Some("pw".into()),
        media: MediaState::default(),
        token: None,
        client_key: None,
        e2ee: false,
    })
    .await;
    host.expect_welcome().await;
    host.send(&ClientMsg::Leave).await;
    host.expect_closed().await;

    // The only room slot is free again, and the old password is gone with the room.
    let mut next = relay.connect().await;
    next.send(&join_msg("once", "Next")).await;
    next.expect_welcome().await;
    next.send(&ClientMsg::Leave).await;
    next.expect_closed().await;
    let (_other, welcome) = relay.join("another", "Other").await;
    assert!(welcome.roster.is_empty());
}

#[tokio::test]
async fn graceful_shutdown_tells_everyone_to_reconnect_then_closes() {
    let config = meshmeet_server::Config {
        reconnect_after: Duration::from_millis(500),
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let (mut ana, _) = relay.join("end", "Ana").await;
    let (mut bo, _) = relay.join("end", "Bo").await;
    ana.recv().await;
    let mut lobby = relay.connect().await;

    let stopping = tokio::spawn(relay.stop());
    for client in [&mut ana, &mut bo, &mut lobby] {
        match client.recv().await {
            ServerMsg::ShuttingDown { reconnect_after_ms } => {
                assert!((500..=1000).contains(&reconnect_after_ms));
            }
            other => panic!("expected shutting_down first, got {other:?}"),
        }
        // Nothing else (no peer_left for peers that are only going away with the relay).
        assert_eq!(client.expect_closed().await, Closed::Frame(1001));
    }
    let result = tokio::time::timeout(Duration::from_secs(3), stopping)
        .await
        .expect("serve returned promptly")
        .expect("no panic");
    assert!(result.is_ok());
}

#[tokio::test]
async fn slow_reader_is_disconnected_instead_of_buffering_without_bound() {
    let config = meshmeet_server::Config {
        // Room for the answers Bo gets while Ana is being dropped: every signal still in
        // flight to her comes back as `unknown_peer`, and Bo reads only between bursts.
        // With 8, a busy machine let more than 8 of those queue up before Bo's writer ran,
        // and Bo was (rightly) dropped as a slow reader too.
        outbound_queue: 64,
        messages_per_second: 100_000,
        message_burst: 100_000,
        max_bad_messages: 100_000,
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    // Ana never reads after joining.
    let (stalled_ana, ana_w) = relay.join("slow", "Ana").await;
    let (mut bo, _) = relay.join("slow", "Bo").await;

    let big = Signal::Offer {
        sdp: "a".repeat(60 * 1024),
    };
    let text = serde_json::to_string(&ClientMsg::Signal {
        to: ana_w.peer_id.clone(),
        signal: big,
    })
    .expect("serialise");
    let mut sent = 0;
    let left = loop {
        // Far more than any socket buffer: the relay must give up on Ana long before.
        assert!(
            sent < 2_000,
            "relay kept buffering for a client that does not read"
        );
        for _ in 0..20 {
            bo.ws
                .feed(tokio_tungstenite::tungstenite::Message::text(text.clone()))
                .await
                .expect("send");
        }
        bo.ws.flush().await.expect("flush");
        sent += 20;
        if let Ok(msg) = tokio::time::timeout(Duration::from_millis(20), bo.recv()).await {
            break msg;
        }
    };
    assert_eq!(
        left,
        ServerMsg::PeerLeft {
            peer_id: ana_w.peer_id,
            reason: LeaveReason::Disconnected,
        }
    );
    // Signals to Ana still in flight are refused as she is gone (and Bo becomes host, as
    // Ana opened the room); then Bo is fine.
    bo.send(&ClientMsg::Ping { nonce: 7 }).await;
    loop {
        match bo.recv().await {
            ServerMsg::Error {
                code: ErrorCode::UnknownPeer,
                ..
            }
            | ServerMsg::HostChanged { .. } => continue,
            ServerMsg::Pong { nonce: 7 } => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(stalled_ana);
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[tokio::test]
async fn an_end_to_end_encrypted_room_refuses_what_would_show_the_server_its_media() {
    let relay = TestRelay::start(test_config()).await;
    let mut ana = relay.connect().await;
    let mut join = join_msg("private", "Ana");
    if let ClientMsg::Join { e2ee, .. } = &mut join {
        *e2ee = true;
    }
    ana.send(&join).await;
    let welcome = ana.expect_welcome().await;
    let encrypted = |msg: &ServerMsg| matches!(msg, ServerMsg::Welcome { e2ee: true, .. });
    assert!(encrypted(&welcome.msg), "{:?}", welcome.msg);
    // Bo asked for nothing and is told; he is in the same encrypted meeting.
    let (_bo, bo_welcome) = relay.join("private", "Bo").await;
    assert!(encrypted(&bo_welcome.msg), "{:?}", bo_welcome.msg);
    ana.recv().await; // Bo joined
                      // Going live, an encoder, a camera: each needs the server to see the media. Refused
                      // before anything else is looked at (this relay has no media server at all).
    for msg in [
        go_live_msg(vec![welcome.peer_id.clone()]),
        ClientMsg::CreateIngest {
            name: "Studio".into(),
        },
        ClientMsg::AddCamera {
            name: "Lobby".into(),
            url: "rtsp://127.0.0.1:9/camera".into(),
        },
    ] {
        ana.send(&msg).await;
        assert_eq!(ana.recv_error().await, ErrorCode::EncryptedRoom, "{msg:?}");
    }
    // In a room that is not encrypted the same go_live meets the next rule instead.
    let (mut cy, cy_welcome) = relay.join("open", "Cy").await;
    assert!(!encrypted(&cy_welcome.msg));
    cy.send(&go_live_msg(vec![cy_welcome.peer_id.clone()]))
        .await;
    assert_eq!(cy.recv_error().await, ErrorCode::LiveUnavailable);
}
