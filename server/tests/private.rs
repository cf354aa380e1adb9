//! A private deployment's rules over real sockets: room passwords and the limit on guessing
//! them, join tokens, the origin check, the per-address connection limit, host controls,
//! and TURN credentials. Every refusal is a typed error to the one client concerned, and
//! another room carries on as if nothing happened.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meshmeet_protocol::{
    ClientMsg, ErrorCode, IceTransportPolicy, LeaveReason, MediaState, PeerId, RoomName, ServerMsg,
    PROTOCOL_VERSION,
};
use meshmeet_server::config::{RoomPassword, Secret};
use meshmeet_server::token::{self, Claims};
use meshmeet_server::turn::rest_credentials;
use meshmeet_server::Config;
use support::{test_config, Client, Closed, TestRelay, Welcome};

/// A join with every optional field.
fn join(
    room: &str,
    name: &str,
    password: Option<&str>,
    token: Option<&str>,
    key: Option<&str>,
) -> ClientMsg {
    ClientMsg::Join {
        version: PROTOCOL_VERSION,
        room: RoomName(room.into()),
        name: name.into(),
        password: password.map(str::to_owned),
        media: MediaState::default(),
        token: token.map(str::to_owned),
        client_key: key.map(str::to_owned),
        e2ee: false,
    }
}

/// Sends `msg` as a join and expects the fatal error `code` then a policy close.
async fn refused(relay: &TestRelay, msg: &ClientMsg, code: ErrorCode) {
    let mut client = relay.connect().await;
    client.send(msg).await;
    assert_eq!(client.recv_error().await, code, "{msg:?}");
    assert_eq!(client.expect_closed().await, Closed::Frame(1008));
}

/// Someone in another room, to show it is not disturbed.
async fn bystander(relay: &TestRelay) -> Client {
    relay.join("elsewhere", "Bystander").await.0
}

/// Ana (host) and Bo in `room`, with Ana's news of Bo read, and a bystander elsewhere.
async fn host_guest_and_bystander(
    relay: &TestRelay,
    room: &str,
) -> (Client, Welcome, Client, Welcome, Client) {
    let (ana, ana_w) = relay.join(room, "Ana").await;
    let (bo, bo_w) = relay.join(room, "Bo").await;
    let mut ana = ana;
    ana.recv().await;
    let other = bystander(relay).await;
    (ana, ana_w, bo, bo_w, other)
}

/// A token as another system would mint it.
fn token_for(secret: &[u8], room: &str, name: &str, exp: u64) -> String {
    token::mint(
        secret,
        &Claims {
            room: room.into(),
            name: name.into(),
            exp,
        },
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_guessing_hits_the_failed_join_limit() {
    let relay = TestRelay::start(Config {
        max_failed_joins: 3,
        failed_join_window: Duration::from_secs(60),
        ..test_config()
    })
    .await;
    let mut other = bystander(&relay).await;
    let mut host = relay.connect().await;
    host.send(&join("vault", "Host", Some("correct horse"), None, None))
        .await;
    host.expect_welcome().await;

    for guess in ["password", "123456", "letmein"] {
        refused(
            &relay,
            &join("vault", "Guesser", Some(guess), None, None),
            ErrorCode::WrongPassword,
        )
        .await;
    }
    // The address has used its attempts: even the right password is refused now, so that
    // guessing on gains nothing.
    let mut late = relay.connect().await;
    late.send(&join("vault", "Guesser", Some("correct horse"), None, None))
        .await;
    match late.recv().await {
        ServerMsg::Error { code, message } => {
            assert_eq!(code, ErrorCode::TooManyAttempts);
            assert!(message.contains("try again in"), "{message}");
        }
        other => panic!("expected too_many_attempts, got {other:?}"),
    }
    assert_eq!(late.expect_closed().await, Closed::Frame(1008));
    // Successful joins of other rooms do not count, and nobody else noticed anything.
    host.expect_silence().await;
    other.assert_alive(1).await;
    host.assert_alive(2).await;
}

#[tokio::test]
async fn an_operator_password_cannot_be_replaced_by_the_first_joiner() {
    let relay = TestRelay::start(Config {
        room_passwords: vec![RoomPassword {
            room: "board".into(),
            password: Secret::from("s3cret"),
        }],
        ..test_config()
    })
    .await;
    // The first one in cannot open the room with a password of its own choosing.
    refused(
        &relay,
        &join("board", "Early", Some("mine"), None, None),
        ErrorCode::WrongPassword,
    )
    .await;
    refused(
        &relay,
        &join("board", "Early", None, None, None),
        ErrorCode::WrongPassword,
    )
    .await;
    let mut ana = relay.connect().await;
    ana.send(&join("board", "Ana", Some("s3cret"), None, None))
        .await;
    ana.expect_welcome().await;
    let mut bo = relay.connect().await;
    bo.send(&join("board", "Bo", Some("s3cret"), None, None))
        .await;
    bo.expect_welcome().await;
}

#[tokio::test]
async fn join_tokens_admit_under_their_name_and_expired_or_forged_ones_are_refused() {
    let relay = TestRelay::start(Config {
        token_secret: Some(Secret::from("token secret")),
        ..test_config()
    })
    .await;
    let mut other = bystander(&relay).await;
    let mut host = relay.connect().await;
    host.send(&join("board", "Host", Some("pw"), None, None))
        .await;
    host.expect_welcome().await;

    let cases = [
        (
            token_for(b"token secret", "board", "Late", now_secs() - 1),
            ErrorCode::TokenExpired,
        ),
        (
            token_for(b"guessed secret", "board", "Mallory", now_secs() + 600),
            ErrorCode::InvalidToken,
        ),
        ("not.a.token".to_owned(), ErrorCode::InvalidToken),
        (
            token_for(b"token secret", "another", "Ana", now_secs() + 600),
            ErrorCode::InvalidToken,
        ),
    ];
    for (token, code) in &cases {
        refused(
            &relay,
            &join("board", "Guest", None, Some(token), None),
            *code,
        )
        .await;
    }

    // A valid token needs no password, and the name in it is the one everybody sees.
    let valid = token_for(b"token secret", "board", "Dr. Ana", now_secs() + 600);
    let mut ana = relay.connect().await;
    ana.send(&join("board", "typed name", None, Some(&valid), None))
        .await;
    let welcome = ana.expect_welcome().await;
    match host.recv().await {
        ServerMsg::PeerJoined { peer } => {
            assert_eq!(peer.id, welcome.peer_id);
            assert_eq!(peer.name, "Dr. Ana");
        }
        other => panic!("expected peer_joined, got {other:?}"),
    }
    other.assert_alive(1).await;
}

#[tokio::test]
async fn a_relay_that_requires_tokens_refuses_a_join_without_one() {
    let relay = TestRelay::start(Config {
        token_secret: Some(Secret::from("k")),
        require_token: true,
        ..test_config()
    })
    .await;
    refused(
        &relay,
        &join("board", "Ana", None, None, None),
        ErrorCode::InvalidToken,
    )
    .await;
    let valid = token_for(b"k", "board", "Ana", now_secs() + 60);
    let mut ana = relay.connect().await;
    ana.send(&join("board", "Ana", None, Some(&valid), None))
        .await;
    ana.expect_welcome().await;
}

#[tokio::test]
async fn an_upgrade_from_an_origin_not_allowed_is_refused_with_403() {
    let relay = TestRelay::start(Config {
        allowed_origins: vec!["https://meet.example.org".into()],
        ..test_config()
    })
    .await;
    for origin in ["https://evil.example", "http://meet.example.org", "null"] {
        assert_eq!(
            relay
                .connect_with_headers(&[("origin", origin)])
                .await
                .err(),
            Some(403),
            "{origin}"
        );
    }
    assert_eq!(
        relay.connect_with_headers(&[]).await.err(),
        Some(403),
        "no Origin at all"
    );
    let mut ana = relay
        .connect_with_headers(&[("origin", "https://meet.example.org")])
        .await
        .expect("the allowed origin gets in");
    ana.join("standup", "Ana").await;
    ana.assert_alive(1).await;
}

#[tokio::test]
async fn connections_past_the_per_address_limit_get_429() {
    let relay = TestRelay::start(Config {
        max_connections_per_ip: 2,
        ..test_config()
    })
    .await;
    let (mut ana, _) = relay.join("standup", "Ana").await;
    let second = relay.connect().await;
    assert_eq!(relay.connect_with_headers(&[]).await.err(), Some(429));
    // A place frees up when a connection closes.
    second.close().await;
    let mut reached = false;
    for _ in 0..50 {
        if relay.connect_with_headers(&[]).await.is_ok() {
            reached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        reached,
        "the closed connection's place was never given back"
    );
    ana.assert_alive(1).await;
}

#[tokio::test]
async fn a_non_host_is_refused_every_host_action_and_the_room_does_not_notice() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, ana_w, mut bo, bo_w, mut other) = host_guest_and_bystander(&relay, "team").await;
    assert_eq!(
        match &bo_w.msg {
            ServerMsg::Welcome { host, .. } => host.clone(),
            _ => None,
        },
        Some(ana_w.peer_id.clone()),
        "the first one in is host"
    );
    for action in [
        ClientMsg::LockRoom { locked: true },
        ClientMsg::RemovePeer {
            peer_id: ana_w.peer_id.clone(),
        },
        ClientMsg::AskToMute {
            peer_id: ana_w.peer_id.clone(),
        },
        ClientMsg::HandOverHost {
            peer_id: bo_w.peer_id.clone(),
        },
        ClientMsg::EndMeeting,
    ] {
        bo.send(&action).await;
        assert_eq!(bo.recv_error().await, ErrorCode::NotHost, "{action:?}");
    }
    // Not fatal: Bo is still in the call, and Ana heard nothing.
    bo.assert_alive(1).await;
    ana.expect_silence().await;
    other.assert_alive(2).await;
    // A host action on someone who is not in the room is refused too.
    ana.send(&ClientMsg::RemovePeer {
        peer_id: PeerId("0".repeat(32)),
    })
    .await;
    assert_eq!(ana.recv_error().await, ErrorCode::UnknownPeer);
}

#[tokio::test]
async fn a_locked_room_refuses_newcomers_until_unlocked() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, _) = relay.join("team", "Ana").await;
    let mut other = bystander(&relay).await;
    ana.send(&ClientMsg::LockRoom { locked: true }).await;
    assert_eq!(ana.recv().await, ServerMsg::LockChanged { locked: true });
    refused(
        &relay,
        &join("team", "Bo", None, None, None),
        ErrorCode::RoomLocked,
    )
    .await;
    other.assert_alive(1).await;
    ana.send(&ClientMsg::LockRoom { locked: false }).await;
    assert_eq!(ana.recv().await, ServerMsg::LockChanged { locked: false });
    relay.join("team", "Bo").await;
}

#[tokio::test]
async fn a_removed_participant_is_told_why_and_cannot_come_back() {
    let relay = TestRelay::start(test_config()).await;
    let key = "5f2b9c0e7a1d4e3f8b6a0c9d2e1f4a7b";
    let (mut ana, _) = relay.join("team", "Ana").await;
    let mut bo = relay.connect().await;
    bo.send(&join("team", "Bo", None, None, Some(key))).await;
    let bo_w = bo.expect_welcome().await;
    ana.recv().await;
    let mut other = bystander(&relay).await;

    ana.send(&ClientMsg::RemovePeer {
        peer_id: bo_w.peer_id.clone(),
    })
    .await;
    assert_eq!(bo.recv().await, ServerMsg::Removed);
    assert_eq!(bo.expect_closed().await, Closed::Frame(1000));
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerLeft {
            peer_id: bo_w.peer_id,
            reason: LeaveReason::Removed
        }
    );
    // The same browser cannot rejoin, even with the room unlocked...
    refused(
        &relay,
        &join("team", "Bo again", None, None, Some(key)),
        ErrorCode::Removed,
    )
    .await;
    // ...and once the host locks the room, nobody new can either.
    ana.send(&ClientMsg::LockRoom { locked: true }).await;
    assert_eq!(ana.recv().await, ServerMsg::LockChanged { locked: true });
    refused(
        &relay,
        &join("team", "Bo", None, None, None),
        ErrorCode::RoomLocked,
    )
    .await;
    ana.expect_silence().await;
    other.assert_alive(1).await;
}

#[tokio::test]
async fn a_participant_removed_while_away_learns_it_on_resuming_and_cannot_resume_again() {
    let relay = TestRelay::start(Config {
        resume_grace: Duration::from_secs(5),
        ..test_config()
    })
    .await;
    let (mut ana, _, bo, bo_w, _) = host_guest_and_bystander(&relay, "team").await;
    let session = bo_w.session.clone();
    // Bo's socket drops: his place is held for a resume...
    drop(bo);
    ana.expect_silence().await;
    // ...and meanwhile the host removes him.
    ana.send(&ClientMsg::RemovePeer {
        peer_id: bo_w.peer_id.clone(),
    })
    .await;
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerLeft {
            peer_id: bo_w.peer_id.clone(),
            reason: LeaveReason::Removed
        }
    );
    let resume = ClientMsg::Resume {
        version: PROTOCOL_VERSION,
        session: session.clone(),
    };
    let mut back = relay.connect().await;
    back.send(&resume).await;
    assert!(matches!(back.recv().await, ServerMsg::Resumed { .. }));
    assert_eq!(
        back.recv().await,
        ServerMsg::Removed,
        "the held news comes first"
    );
    assert_eq!(back.expect_closed().await, Closed::Frame(1000));
    // The session ended with the removal.
    let mut again = relay.connect().await;
    again.send(&resume).await;
    assert_eq!(again.recv_error().await, ErrorCode::SessionExpired);
}

#[tokio::test]
async fn ending_the_meeting_closes_everyone_in_the_room_only() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, _, mut bo, _, mut other) = host_guest_and_bystander(&relay, "allhands").await;
    ana.send(&ClientMsg::EndMeeting).await;
    for who in [&mut ana, &mut bo] {
        assert_eq!(who.recv().await, ServerMsg::MeetingEnded);
        assert_eq!(who.expect_closed().await, Closed::Frame(1000));
    }
    other.assert_alive(1).await;
}

#[tokio::test]
async fn turn_credentials_are_minted_per_participant_and_renewed_before_they_expire() {
    let relay = TestRelay::start(Config {
        turn_urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
        turn_secret: Some(Secret::from("north")),
        turn_credential_ttl: Duration::from_secs(2),
        relay_only: true,
        ..test_config()
    })
    .await;
    let (mut ana, welcome) = relay.join("turn", "Ana").await;
    let (servers, policy) = match welcome.msg {
        ServerMsg::Welcome {
            ice_servers,
            ice_transport_policy,
            ..
        } => (ice_servers, ice_transport_policy),
        other => panic!("{other:?}"),
    };
    assert_eq!(policy, IceTransportPolicy::Relay);
    let first = check_rest_credentials(&servers, "north");

    // At half the lifetime (1 s), fresh credentials arrive, expiring later.
    let renewed = tokio::time::timeout(Duration::from_secs(3), ana.recv())
        .await
        .expect("renewal within the lifetime");
    let ServerMsg::IceServersRenewed { ice_servers } = renewed else {
        panic!("expected ice_servers_renewed, got {renewed:?}");
    };
    let second = check_rest_credentials(&ice_servers, "north");
    assert!(
        second > first,
        "renewed credentials expire later ({first} → {second})"
    );
}

/// Checks the TURN entry's password is the REST API HMAC of its username; returns the expiry.
fn check_rest_credentials(servers: &[meshmeet_protocol::IceServer], secret: &str) -> u64 {
    let [turn] = servers else {
        panic!("one TURN entry expected: {servers:?}");
    };
    assert_eq!(turn.urls, ["turn:127.0.0.1:3478?transport=udp"]);
    let username = turn.username.as_deref().expect("username");
    let (expiry, id) = username.split_once(':').expect("expiry:id");
    let expiry: u64 = expiry.parse().expect("numeric expiry");
    assert!(expiry > now_secs(), "not yet expired");
    assert_eq!(
        turn.credential.as_deref(),
        Some(rest_credentials(secret, expiry, id).credential.as_str())
    );
    expiry
}
