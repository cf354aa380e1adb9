//! Resuming a session after a dropped socket, over real sockets: same peer id, held messages
//! in order, nothing seen by the others; and every way a resume is refused.

mod support;

use std::time::{Duration, Instant};

use meshmeet_protocol::{
    ClientMsg, ErrorCode, LeaveReason, PeerId, ServerMsg, SessionToken, PROTOCOL_VERSION,
};
use support::{candidate, test_config, Client, Closed, TestRelay};

fn with_grace(grace: Duration) -> meshmeet_server::Config {
    meshmeet_server::Config {
        resume_grace: grace,
        ..test_config()
    }
}

fn resume_msg(session: &SessionToken) -> ClientMsg {
    ClientMsg::Resume {
        version: PROTOCOL_VERSION,
        session: session.clone(),
    }
}

async fn signal(from: &mut Client, to: &PeerId, n: usize) {
    from.send(&ClientMsg::Signal {
        to: to.clone(),
        signal: candidate(n),
    })
    .await;
}

#[tokio::test]
async fn resumed_session_keeps_its_peer_id_gets_held_signals_in_order_and_others_see_nothing() {
    let relay = TestRelay::start(with_grace(Duration::from_secs(5))).await;
    let (mut ana, ana_w) = relay.join("standup", "Ana").await;
    let (bo, bo_w) = relay.join("standup", "Bo").await;
    ana.recv().await; // peer_joined Bo
    assert!(
        matches!(
            bo_w.msg,
            ServerMsg::Welcome {
                resume_grace_ms: 5000,
                ..
            }
        ),
        "welcome tells the grace period"
    );

    // Bo's socket drops without a close frame or `leave`.
    drop(bo);
    ana.expect_silence().await;
    for n in 0..3 {
        signal(&mut ana, &bo_w.peer_id, n).await;
    }
    // Nothing comes back (no `unknown_peer`, no `peer_left`), and the pong proves the relay
    // handled the signals before the resume below.
    ana.assert_alive(7).await;

    let mut bo = relay.connect().await;
    bo.send(&resume_msg(&bo_w.session)).await;
    assert_eq!(
        bo.recv().await,
        ServerMsg::Resumed {
            peer_id: bo_w.peer_id.clone(),
            room: meshmeet_protocol::RoomName("standup".into()),
        }
    );
    for n in 0..3 {
        assert_eq!(
            bo.recv().await,
            ServerMsg::Signal {
                from: ana_w.peer_id.clone(),
                signal: candidate(n),
            },
            "held signal {n} in order"
        );
    }
    // The live path works both ways, under Bo's old id.
    signal(&mut ana, &bo_w.peer_id, 3).await;
    assert!(matches!(bo.recv().await, ServerMsg::Signal { .. }));
    signal(&mut bo, &ana_w.peer_id, 9).await;
    assert_eq!(
        ana.recv().await,
        ServerMsg::Signal {
            from: bo_w.peer_id.clone(),
            signal: candidate(9),
        }
    );
    ana.expect_silence().await;
    bo.assert_alive(1).await;
}

#[tokio::test]
async fn a_session_not_resumed_in_time_leaves_and_its_resume_is_refused_but_a_join_works() {
    let relay = TestRelay::start(with_grace(Duration::from_millis(300))).await;
    let (mut ana, _) = relay.join("r", "Ana").await;
    let (bo, bo_w) = relay.join("r", "Bo").await;
    ana.recv().await;

    let dropped = Instant::now();
    drop(bo);
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerLeft {
            peer_id: bo_w.peer_id.clone(),
            reason: LeaveReason::Disconnected,
        }
    );
    let waited = dropped.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "announced before the grace period ran out: {waited:?}"
    );

    let mut late = relay.connect().await;
    late.send(&resume_msg(&bo_w.session)).await;
    assert_eq!(late.recv_error().await, ErrorCode::SessionExpired);
    // Not fatal: the same socket joins again, under a new id.
    let again = late.join("r", "Bo").await;
    assert_ne!(again.peer_id, bo_w.peer_id);
    assert!(matches!(ana.recv().await, ServerMsg::PeerJoined { .. }));
}

#[tokio::test]
async fn a_resume_takes_over_a_session_whose_old_socket_still_looks_open() {
    let relay = TestRelay::start(with_grace(Duration::from_secs(5))).await;
    let (mut ana, _) = relay.join("r", "Ana").await;
    let (mut old_bo, bo_w) = relay.join("r", "Bo").await;
    ana.recv().await;

    let mut bo = relay.connect().await;
    bo.send(&resume_msg(&bo_w.session)).await;
    assert!(
        matches!(bo.recv().await, ServerMsg::Resumed { peer_id, .. } if peer_id == bo_w.peer_id)
    );
    assert_eq!(old_bo.expect_closed().await, Closed::Frame(4000));
    ana.expect_silence().await;
    bo.assert_alive(2).await;
}

#[tokio::test]
async fn unknown_tokens_and_sessions_that_left_cannot_be_resumed() {
    let relay = TestRelay::start(with_grace(Duration::from_secs(5))).await;
    let mut stranger = relay.connect().await;
    stranger
        .send(&resume_msg(&SessionToken("0".repeat(32))))
        .await;
    assert_eq!(stranger.recv_error().await, ErrorCode::SessionExpired);

    let (mut ana, _) = relay.join("r", "Ana").await;
    let (mut bo, bo_w) = relay.join("r", "Bo").await;
    ana.recv().await;
    bo.send(&ClientMsg::Leave).await;
    assert!(matches!(
        ana.recv().await,
        ServerMsg::PeerLeft {
            reason: LeaveReason::Left,
            ..
        }
    ));
    stranger.send(&resume_msg(&bo_w.session)).await;
    assert_eq!(stranger.recv_error().await, ErrorCode::SessionExpired);

    // A participant that already speaks cannot resume (anyone's session) on top.
    ana.send(&resume_msg(&bo_w.session)).await;
    assert_eq!(ana.recv_error().await, ErrorCode::AlreadyJoined);
}

#[tokio::test]
async fn a_resume_with_another_protocol_version_is_refused_and_leaves_the_session_resumable() {
    let relay = TestRelay::start(with_grace(Duration::from_secs(5))).await;
    let (ana, ana_w) = relay.join("r", "Ana").await;
    drop(ana);
    let mut other = relay.connect().await;
    other
        .send(&ClientMsg::Resume {
            version: PROTOCOL_VERSION + 1,
            session: ana_w.session.clone(),
        })
        .await;
    assert_eq!(other.recv_error().await, ErrorCode::VersionMismatch);
    assert_eq!(other.expect_closed().await, Closed::Frame(1008));
    // A page of the right version can still take the place back.
    let mut ana = relay.connect().await;
    ana.send(&resume_msg(&ana_w.session)).await;
    assert!(
        matches!(ana.recv().await, ServerMsg::Resumed { peer_id, .. } if peer_id == ana_w.peer_id)
    );
}

#[tokio::test]
async fn more_held_messages_than_the_queue_keeps_lose_the_session() {
    let config = meshmeet_server::Config {
        outbound_queue: 8,
        messages_per_second: 1000,
        ..with_grace(Duration::from_secs(5))
    };
    let relay = TestRelay::start(config).await;
    let (mut ana, _) = relay.join("r", "Ana").await;
    let (bo, bo_w) = relay.join("r", "Bo").await;
    ana.recv().await;
    drop(bo);
    ana.expect_silence().await;
    for n in 0..12 {
        signal(&mut ana, &bo_w.peer_id, n).await;
    }
    // Its pong proves the relay handled every signal before the resume below.
    ana.assert_alive(1).await;
    let mut bo = relay.connect().await;
    bo.send(&resume_msg(&bo_w.session)).await;
    assert_eq!(bo.recv_error().await, ErrorCode::SessionExpired);
    assert_eq!(
        ana.recv().await,
        ServerMsg::PeerLeft {
            peer_id: bo_w.peer_id,
            reason: LeaveReason::Disconnected,
        }
    );
}
