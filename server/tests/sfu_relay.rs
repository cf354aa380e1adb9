//! The relay running large rooms on a real Janus (started by each test on a free port with
//! deploy/janus): the join past `--mesh-max` moves the room to the SFU, each participant
//! publishes once through the relay and is subscribed to the others with streams named by
//! peer id; SFU messages of another epoch, out of turn or with hostile SDP are refused and
//! leave the room and other rooms working; a second publish starts a participant's
//! connections afresh; a participant the host removes leaves the Janus room; a Janus killed mid-call ends the sessions with
//! `media_server_failed` and publishing again works once it is back. Participants' media
//! connections are real (str0m peers doing ICE and DTLS with Janus), because Janus
//! announces a publisher to the others only once its connection is up.

mod janus_server;
mod sfu_support;
mod support;
mod webrtc_peer;

use janus_server::JanusServer;
use meshmeet_protocol::{
    CameraLayer, ClientMsg, ErrorCode, MediaMode, PeerId, ServerMsg, SfuLeg, SimulcastLayer,
    StreamKind, Topology,
};
use sfu_support::*;
use support::test_config;

#[tokio::test]
async fn past_mesh_max_everyone_publishes_once_and_receives_the_others_named_by_peer_id() {
    let janus = JanusServer::start().await;
    let relay = relay_with_janus(&janus, 1).await;
    let (mut ana, ana_welcome) = relay.join("large", "Ana").await;
    assert_eq!(welcome_topology(&ana_welcome.msg), Topology::default());

    let (mut bo, bo_welcome) = relay.join("large", "Bo").await;
    assert_eq!(
        welcome_topology(&bo_welcome.msg),
        sfu(1),
        "Bo's join moved the room"
    );
    assert_eq!(
        ana.recv().await,
        ServerMsg::TopologyChanged { topology: sfu(1) }
    );
    assert!(matches!(ana.recv().await, ServerMsg::PeerJoined { .. }));

    let _ana_up = publish(&mut ana, 1, "Ana").await;
    let _bo_up = publish(&mut bo, 1, "Bo").await;
    let (to_ana, _ana_down) = subscribe(&mut ana, 1, "Ana").await;
    let (to_bo, _bo_down) = subscribe(&mut bo, 1, "Bo").await;
    let (ana_id, bo_id) = (ana_welcome.peer_id, bo_welcome.peer_id);
    let audio_and_camera = vec![(StreamKind::Audio, 0), (StreamKind::Video, 1)];
    assert_eq!(from(&to_ana, &bo_id), audio_and_camera, "{to_ana:?}");
    assert_eq!(from(&to_bo, &ana_id), audio_and_camera, "{to_bo:?}");
    assert!(from(&to_ana, &ana_id).is_empty(), "nobody receives itself");
    assert!(from(&to_bo, &bo_id).is_empty(), "nobody receives itself");

    // A third participant gets both in one subscription, and the others get it added.
    let (mut cy, cy_welcome) = relay.join("large", "Cy").await;
    assert_eq!(welcome_topology(&cy_welcome.msg), sfu(1));
    let _cy_up = publish(&mut cy, 1, "Cy").await;
    let (to_cy, _cy_down) = subscribe(&mut cy, 1, "Cy").await;
    assert_eq!(from(&to_cy, &ana_id), audio_and_camera, "{to_cy:?}");
    assert_eq!(from(&to_cy, &bo_id), audio_and_camera, "{to_cy:?}");
    let (to_ana, _ana_down2) = subscribe(&mut ana, 1, "Ana, with Cy").await;
    assert_eq!(from(&to_ana, &cy_welcome.peer_id), audio_and_camera);
    assert_eq!(from(&to_ana, &bo_id), audio_and_camera, "Bo stays");
}

#[tokio::test]
async fn sfu_messages_of_another_epoch_or_out_of_turn_and_hostile_sdp_are_refused_and_harmless() {
    let janus = JanusServer::start().await;
    let relay = relay_with_janus(&janus, 1).await;
    let (mut ana, _) = relay.join("strict", "Ana").await;
    let publish_in = |epoch: u64, sdp: &str| ClientMsg::SfuPublish {
        epoch,
        sdp: sdp.to_owned(),
    };

    // A mesh has no SFU.
    ana.send(&publish_in(0, "v=0")).await;
    assert_eq!(ana.recv_error().await, ErrorCode::WrongTopology);

    let (mut bo, _) = relay.join("strict", "Bo").await;
    ana.recv().await;
    ana.recv().await;
    ana.send(&publish_in(7, "v=0")).await;
    assert_eq!(ana.recv_error().await, ErrorCode::WrongTopology);
    ana.send(&ClientMsg::SfuSubscribeAnswer {
        epoch: 1,
        sdp: "v=0".into(),
    })
    .await;
    assert_eq!(ana.recv_error().await, ErrorCode::SfuOutOfOrder);
    ana.send(&ClientMsg::SfuCandidate {
        epoch: 1,
        leg: SfuLeg::Subscribe,
        candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
        sdp_mid: None,
        sdp_m_line_index: None,
    })
    .await;
    assert_eq!(ana.recv_error().await, ErrorCode::SfuOutOfOrder);

    // A calm room beside it, on the same Janus.
    let (mut cy, _) = relay.join("calm", "Cy").await;
    let (mut di, _) = relay.join("calm", "Di").await;
    for _ in 0..2 {
        cy.recv().await;
    }
    let _cy_up = publish(&mut cy, 1, "Cy").await;
    let _di_up = publish(&mut di, 1, "Di").await;
    let (to_cy, _cy_down) = subscribe(&mut cy, 1, "Cy").await;
    let (_, _di_down) = subscribe(&mut di, 1, "Di").await;

    // Hostile SDP: refused by Janus, reported as such; the session goes on.
    for hostile in [
        "v=0".to_owned(),
        "not an sdp at all".to_owned(),
        format!(
            "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n{}",
            "a=x\r\n".repeat(2000)
        ),
    ] {
        ana.send(&publish_in(1, &hostile)).await;
        assert_eq!(
            ana.recv_error().await,
            ErrorCode::InvalidSdp,
            "{hostile:.40}"
        );
    }
    let _ana_up = publish(&mut ana, 1, "Ana, after the hostile SDP").await;
    ana.send(&ClientMsg::SfuSubscribeAnswer {
        epoch: 1,
        sdp: "v=0".into(),
    })
    .await;
    let refused = wait_for(&mut ana, "the refused early answer", |msg| match msg {
        ServerMsg::Error { code, .. } => Some(*code),
        _ => None,
    });
    assert_eq!(refused.await, ErrorCode::SfuOutOfOrder);
    let _bo_up = publish(&mut bo, 1, "Bo").await;
    let (to_ana, _ana_down) = subscribe(&mut ana, 1, "Ana").await;
    assert!(!to_ana.is_empty());

    // Nothing of it reached the calm room, whose subscription carries only its own.
    cy.assert_alive(1).await;
    di.assert_alive(2).await;
    assert_eq!(to_cy.len(), 2, "{to_cy:?}");
}

#[tokio::test]
async fn a_second_publish_starts_the_participants_sfu_connections_afresh() {
    let janus = JanusServer::start().await;
    let relay = relay_with_janus(&janus, 1).await;
    let (mut ana, _bo, _ups) = two_publishing(&relay, "afresh").await;
    let (first, _ana_down) = subscribe(&mut ana, 1, "Ana").await;
    assert_eq!(first.len(), 2, "Bo's audio and camera: {first:?}");

    // Ana's browser dropped both connections (as after a failure it heard of) and publishes
    // with a new one: the relay answers it and offers the new subscriber everyone again.
    // Renegotiating the old publisher instead would leave the new subscriber without an offer.
    let _ana_up = publish(&mut ana, 1, "Ana, afresh").await;
    let (again, _ana_down) = subscribe(&mut ana, 1, "Ana, afresh").await;
    assert_eq!(again.len(), 2, "Bo's audio and camera: {again:?}");
}

#[tokio::test]
async fn a_participant_the_host_removes_leaves_the_janus_room_and_the_others_subscriptions() {
    let janus = JanusServer::start().await;
    let relay = relay_with_janus(&janus, 1).await;
    let (mut ana, _) = relay.join("removal", "Ana").await;
    let (mut bo, bo_welcome) = relay.join("removal", "Bo").await;
    ana.recv().await;
    ana.recv().await;
    let _ana_up = publish(&mut ana, 1, "Ana").await;
    let _bo_up = publish(&mut bo, 1, "Bo").await;
    let (to_ana, _ana_down) = subscribe(&mut ana, 1, "Ana").await;
    let bo_id = bo_welcome.peer_id;
    assert_eq!(from(&to_ana, &bo_id).len(), 2, "{to_ana:?}");

    // Ana hosts and removes Bo: Janus drops Bo's feed, so Ana's subscription loses it.
    ana.send(&ClientMsg::RemovePeer {
        peer_id: bo_id.clone(),
    })
    .await;
    let (after, _ana_down) = subscribe(&mut ana, 1, "Ana, after the removal").await;
    assert!(from(&after, &bo_id).is_empty(), "{after:?}");
}

#[tokio::test]
async fn a_publisher_leaving_changes_the_others_subscriptions_without_an_error() {
    let janus = JanusServer::start().await;
    let relay = relay_with_janus(&janus, 1).await;
    let (mut ana, _) = relay.join("goodbyes", "Ana").await;
    let (mut bo, _) = relay.join("goodbyes", "Bo").await;
    let (mut cy, cy_welcome) = relay.join("goodbyes", "Cy").await;
    let _ana_up = publish(&mut ana, 1, "Ana").await;
    let _bo_up = publish(&mut bo, 1, "Bo").await;
    let _cy_up = publish(&mut cy, 1, "Cy").await;
    let cy_id = cy_welcome.peer_id;
    // Ana's subscription grows as Bo and Cy come up; wait until it carries both.
    let (mut to_ana, mut ana_down) = (Vec::new(), Vec::new());
    while from(&to_ana, &cy_id).is_empty() || to_ana.len() < 4 {
        let (streams, running) = subscribe(&mut ana, 1, "Ana").await;
        ana_down.push(running);
        to_ana = streams;
    }

    // Cy leaves: Janus renegotiates the subscribers by itself while the relay asks for the
    // same change, which then needs no new offer. Neither is a failure.
    cy.send(&ClientMsg::Leave).await;
    let (after, _ana_down) = subscribe(&mut ana, 1, "Ana, after Cy left").await;
    assert!(from(&after, &cy_id).is_empty(), "{after:?}");
    ana.expect_silence().await;
}

#[tokio::test]
async fn a_killed_janus_ends_sfu_sessions_with_media_server_failed_and_publishing_works_again() {
    let mut janus = JanusServer::start().await;
    let port: u16 = janus
        .url()
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("a port in Janus's URL");
    let key = janus.admin_key().expose().to_owned();
    let relay = relay_with_janus(&janus, 1).await;
    let (mut ana, mut bo, _ups) = two_publishing(&relay, "outage").await;
    let (_, _ana_down) = subscribe(&mut ana, 1, "Ana").await;

    janus.kill();
    for (who, client) in [("Ana", &mut ana), ("Bo", &mut bo)] {
        let what = format!("{who} hears of the failure");
        let code = wait_for(client, &what, |msg| match msg {
            ServerMsg::Error { code, .. } => Some(*code),
            _ => None,
        });
        assert_eq!(code.await, ErrorCode::MediaServerFailed, "{who}");
    }
    // Two people do not fit a mesh of one: the room stays on the SFU, waiting.
    ana.expect_silence().await;

    let _janus = JanusServer::start_on(port, &key).await;
    wait_ready(&relay).await;
    let _ana_up = publish(&mut ana, 1, "Ana, again").await;
    let _bo_up = publish(&mut bo, 1, "Bo, again").await;
    let (to_ana, _ana_down) = subscribe(&mut ana, 1, "Ana, again").await;
    assert_eq!(to_ana.len(), 2, "Bo's audio and camera: {to_ana:?}");
}

#[tokio::test]
async fn a_room_back_at_mesh_size_returns_to_the_mesh_after_the_delay() {
    let janus = JanusServer::start().await;
    let relay = relay_with_janus(&janus, 1).await;
    let (mut ana, mut bo, _ups) = two_publishing(&relay, "shrinks").await;
    bo.send(&ClientMsg::Leave).await;
    let back = wait_for(&mut ana, "the return to the mesh", |msg| match msg {
        ServerMsg::TopologyChanged { topology } => Some(*topology),
        _ => None,
    });
    assert_eq!(
        back.await,
        Topology {
            mode: MediaMode::Mesh,
            epoch: 2
        }
    );
    // The old epoch's messages are refused now.
    ana.send(&ClientMsg::SfuPublish {
        epoch: 1,
        sdp: "v=0".into(),
    })
    .await;
    assert_eq!(ana.recv_error().await, ErrorCode::WrongTopology);
}

#[tokio::test]
async fn video_preferences_are_checked_and_janus_takes_them_while_the_subscription_changes() {
    let janus = JanusServer::start().await;
    let relay = relay_with_janus(&janus, 1).await;
    let (mut ana, _) = relay.join("prefs", "Ana").await;
    let (mut bo, bo_welcome) = relay.join("prefs", "Bo").await;
    ana.recv().await;
    ana.recv().await;
    let prefs = |epoch: u64, audio_only: bool, hidden: Vec<PeerId>| ClientMsg::SfuPrefs {
        epoch,
        audio_only,
        hidden,
        layers: Vec::new(),
    };
    let bo_id = bo_welcome.peer_id;

    // Before a publish there is no session to take them; another epoch is another room;
    // a list longer than a room is refused before it is kept.
    ana.send(&prefs(1, true, vec![])).await;
    assert_eq!(ana.recv_error().await, ErrorCode::SfuOutOfOrder);
    let _ana_up = publish(&mut ana, 1, "Ana").await;
    ana.send(&prefs(2, true, vec![])).await;
    assert_eq!(ana.recv_error().await, ErrorCode::WrongTopology);
    let crowd = (0..=test_config().max_participants)
        .map(|i| PeerId::from(format!("{i:032x}").as_str()))
        .collect();
    ana.send(&prefs(1, false, crowd)).await;
    assert_eq!(ana.recv_error().await, ErrorCode::BadMessage);

    // Bo's tile is off Ana's screen before Bo even publishes: Janus is told when the
    // subscription carries Bo, and again as it changes; any refusal or failure would reach
    // Ana as an error while she waits for her offers.
    ana.send(&prefs(1, false, vec![bo_id.clone()])).await;
    let _bo_up = publish(&mut bo, 1, "Bo").await;
    let (to_ana, _ana_down) = subscribe(&mut ana, 1, "Ana").await;
    assert_eq!(from(&to_ana, &bo_id).len(), 2, "{to_ana:?}");
    ana.send(&prefs(1, true, vec![bo_id.clone()])).await;
    let (mut cy, cy_welcome) = relay.join("prefs", "Cy").await;
    let _cy_up = publish(&mut cy, 1, "Cy").await;
    let (to_ana, _ana_down2) = subscribe(&mut ana, 1, "Ana, with Cy").await;
    assert_eq!(from(&to_ana, &cy_welcome.peer_id).len(), 2, "{to_ana:?}");
    // Cy's tile is small on Ana's screen (the lowest layer of Cy's camera) just as Cy
    // leaves: whichever Janus hears first, nothing fails. What the layers and sends do to
    // the media is shown end to end in tests/e2e/tests/sfu.rs.
    let cy_small = vec![CameraLayer {
        peer_id: cy_welcome.peer_id.clone(),
        layer: SimulcastLayer::Low,
    }];
    ana.send(&ClientMsg::SfuPrefs {
        epoch: 1,
        audio_only: false,
        hidden: vec![],
        layers: cy_small,
    })
    .await;
    drop(cy);
    let (to_ana, _ana_down3) = subscribe(&mut ana, 1, "Ana, after Cy left").await;
    assert!(from(&to_ana, &cy_welcome.peer_id).is_empty(), "{to_ana:?}");
    ana.assert_alive(1).await;
}
