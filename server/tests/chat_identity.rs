//! What names a chat message and what a join's `client_key` must be, over real sockets:
//! every relay chat carries the sender's `seq`, so messages sent in the same millisecond stay
//! distinct; a `seq` that does not go up is refused (resumes included); line breaks of every
//! kind arrive as `\n`; and a malformed `client_key` is refused instead of ignored, so a
//! removed participant cannot come back by sending one.

mod support;

use std::time::Duration;

use meshmeet_protocol::{ClientMsg, ErrorCode, MediaState, RoomName, ServerMsg, PROTOCOL_VERSION};
use support::{test_config, Client, Closed, TestRelay};

fn chat(seq: u64, text: &str) -> ClientMsg {
    ClientMsg::Chat {
        seq,
        text: text.into(),
    }
}

fn join_with_key(room: &str, name: &str, key: &str) -> ClientMsg {
    ClientMsg::Join {
        version: PROTOCOL_VERSION,
        room: RoomName(room.into()),
        name: name.into(),
        password: None,
        media: MediaState::default(),
        token: None,
        client_key: Some(key.into()),
        e2ee: false,
    }
}

/// The next `n` chats `client` receives, as `(seq, text, sent_at_ms)`.
async fn chats(client: &mut Client, n: usize) -> Vec<(u64, String, u64)> {
    let mut out = Vec::new();
    while out.len() < n {
        match client.recv().await {
            ServerMsg::Chat {
                seq,
                text,
                sent_at_ms,
                ..
            } => out.push((seq, text, sent_at_ms)),
            other => panic!("expected a chat, got {other:?}"),
        }
    }
    out
}

#[tokio::test]
async fn chats_sent_back_to_back_arrive_each_with_its_own_seq_in_order() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, _) = relay.join("chat", "Ana").await;
    let (mut bo, _) = relay.join("chat", "Bo").await;
    ana.recv().await;
    for seq in 1..=5 {
        ana.send(&chat(seq, &format!("message {seq}"))).await;
    }
    let got = chats(&mut bo, 5).await;
    let seqs: Vec<u64> = got.iter().map(|(seq, ..)| *seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    for (seq, text, _) in &got {
        assert_eq!(text, &format!("message {seq}"));
    }
    // The relay stamps milliseconds: a burst usually shares one, which is exactly why the
    // stamp cannot name a message.
    println!(
        "distinct sent_at_ms among 5 back-to-back chats: {}",
        got.iter()
            .map(|(.., at)| *at)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
}

#[tokio::test]
async fn a_chat_whose_seq_does_not_go_up_is_refused_and_reaches_nobody() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, _) = relay.join("chat", "Ana").await;
    let (mut bo, _) = relay.join("chat", "Bo").await;
    ana.recv().await;
    ana.send(&chat(5, "five")).await;
    assert_eq!(chats(&mut bo, 1).await[0].0, 5);
    for stale in [5, 3, 0] {
        ana.send(&chat(stale, "again")).await;
        assert_eq!(ana.recv_error().await, ErrorCode::InvalidSeq, "seq {stale}");
    }
    // Gaps are fine: the numbers in between went over data channels.
    ana.send(&chat(9, "nine")).await;
    assert_eq!(chats(&mut bo, 1).await[0].0, 9);
    bo.expect_silence().await;
    ana.assert_alive(1).await;
}

#[tokio::test]
async fn the_chat_count_carries_over_a_resume() {
    let config = meshmeet_server::Config {
        resume_grace: Duration::from_secs(5),
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    let (mut ana, _) = relay.join("chat", "Ana").await;
    let (bo, bo_w) = relay.join("chat", "Bo").await;
    ana.recv().await;
    let mut bo = bo;
    bo.send(&chat(4, "before the drop")).await;
    assert_eq!(chats(&mut ana, 1).await[0].0, 4);
    drop(bo);

    let mut bo = relay.connect().await;
    bo.send(&ClientMsg::Resume {
        version: PROTOCOL_VERSION,
        session: bo_w.session.clone(),
    })
    .await;
    assert!(matches!(bo.recv().await, ServerMsg::Resumed { .. }));
    bo.send(&chat(4, "replayed after the resume")).await;
    assert_eq!(bo.recv_error().await, ErrorCode::InvalidSeq);
    bo.send(&chat(5, "after the resume")).await;
    assert_eq!(chats(&mut ana, 1).await[0].0, 5);
}

#[tokio::test]
async fn line_breaks_of_every_kind_arrive_as_newlines() {
    let relay = TestRelay::start(test_config()).await;
    let (mut ana, _) = relay.join("chat", "Ana").await;
    let (mut bo, _) = relay.join("chat", "Bo").await;
    ana.recv().await;
    ana.send(&chat(1, "line1\r\nline2")).await;
    ana.send(&chat(2, "old\rmac")).await;
    ana.send(&chat(3, "tab\tand\nnewline")).await;
    let texts: Vec<String> = chats(&mut bo, 3)
        .await
        .into_iter()
        .map(|(_, text, _)| text)
        .collect();
    assert_eq!(texts, ["line1\nline2", "old\nmac", "tab\tand\nnewline"]);
    ana.assert_alive(1).await;
}

#[tokio::test]
async fn a_malformed_client_key_is_refused_so_a_removed_participant_stays_out() {
    let relay = TestRelay::start(test_config()).await;
    let key = "5f2b9c0e7a1d4e3f8b6a0c9d2e1f4a7b";
    let (mut ana, _) = relay.join("team", "Ana").await;
    let mut bo = relay.connect().await;
    bo.send(&join_with_key("team", "Bo", key)).await;
    let bo_w = bo.expect_welcome().await;
    ana.recv().await;
    ana.send(&ClientMsg::RemovePeer {
        peer_id: bo_w.peer_id,
    })
    .await;
    assert_eq!(bo.recv().await, ServerMsg::Removed);
    ana.recv().await;

    let too_long = "k".repeat(100);
    for bad in [
        "x",
        too_long.as_str(),
        "5f2b9c0e/a1d4e3f8b6a0c9d2e1f4a7b",
        "",
    ] {
        let mut again = relay.connect().await;
        again.send(&join_with_key("team", "Bo", bad)).await;
        assert_eq!(
            again.recv_error().await,
            ErrorCode::InvalidClientKey,
            "key {bad:?}"
        );
        assert_eq!(again.expect_closed().await, Closed::Frame(1008));
    }
    let mut again = relay.connect().await;
    again.send(&join_with_key("team", "Bo", key)).await;
    assert_eq!(again.recv_error().await, ErrorCode::Removed);
    ana.expect_silence().await;
}
