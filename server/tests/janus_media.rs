//! Participants' VideoRoom handles against a real Janus with the shipped configuration:
//! a Chromium offer is answered, a connected publisher's feed reaches a subscriber,
//! publishers hear of each other arriving and leaving on their own handles, and wrong rooms,
//! pins and SDP are refused without disturbing the room; a publisher forwarded into a live
//! mountpoint reaches a WHEP-style viewer whose offer the relay bridges to Janus's (the
//! connection comes up end to end). Connections that must really come
//! up (Janus announces a publisher only then) are made by a str0m peer (webrtc_peer).

mod browser_sdp;
mod janus_server;
mod webrtc_peer;

use std::sync::Arc;
use std::time::Duration;

use janus_server::JanusServer;
use meshmeet_server::config::Secret;
use meshmeet_server::janus::{
    Candidate, HandleEvent, JanusClient, JanusError, JanusOptions, JanusRoom, PluginHandle,
    Publisher, RoomSpec, StreamRequest, Updated, VideoSource,
};
use meshmeet_server::live::bridge::{bridge, viewer_codecs, StageVideo};
use meshmeet_server::live::sdp::Sdp;

/// Longest wait for an event Janus owes a handle (a bound on a hang, not a speed check).
const EVENT_WAIT: Duration = Duration::from_secs(20);
/// Janus's VideoRoom error codes the checks expect.
const NO_SUCH_ROOM: i64 = 426;
const NO_SUCH_FEED: i64 = 428;
const UNAUTHORIZED: i64 = 433;
/// Janus core: the JSEP (SDP) of a message is invalid.
const INVALID_SDP: i64 = 465;

async fn relay_with_room() -> (JanusServer, Arc<JanusClient>, JanusRoom) {
    let janus = JanusServer::start().await;
    let client = JanusClient::connect(&janus.url(), janus.admin_key(), JanusOptions::default())
        .await
        .unwrap_or_else(|err| panic!("connect to Janus: {err}\n{}", janus.log()));
    let spec = RoomSpec {
        publishers: 8,
        description: "meshmeet media test".into(),
    };
    let room = client.create_room(&spec).await.expect("create a room");
    (janus, client, room)
}

/// Waits (bounded) for the first event on `handle` that `wanted` picks, skipping others.
async fn wait_for<T>(
    handle: &mut PluginHandle,
    what: &str,
    wanted: impl Fn(&HandleEvent) -> Option<T>,
) -> T {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(EVENT_WAIT, async {
        while let Some(event) = handle.next_event().await {
            if let Some(found) = wanted(&event) {
                return Some(found);
            }
            seen.push(event);
        }
        None
    })
    .await;
    match found {
        Ok(Some(found)) => found,
        Ok(None) => panic!("{what}: the event stream ended; saw {seen:?}"),
        Err(_) => panic!("{what}: not within {EVENT_WAIT:?}; saw {seen:?}"),
    }
}

/// A participant joined as a publisher, not publishing yet, and the feeds it was told of.
async fn join_unpublished(
    relay: &Arc<JanusClient>,
    room: &JanusRoom,
    peer_id: &str,
) -> (Publisher, Vec<u64>) {
    let (publisher, joined) = relay
        .join_publisher(room, peer_id)
        .await
        .unwrap_or_else(|err| panic!("{peer_id} joins: {err}"));
    let known = joined.publishers.iter().map(|feed| feed.id).collect();
    (publisher, known)
}

/// A participant publishing over a real connection, once Janus says it is up.
async fn connected_publisher(
    relay: &Arc<JanusClient>,
    room: &JanusRoom,
    peer_id: &str,
) -> (Publisher, webrtc_peer::Running) {
    let (mut publisher, _) = relay
        .join_publisher(room, peer_id)
        .await
        .expect("join as a publisher");
    let (offering, offer) = webrtc_peer::publisher_offer();
    let answer = publisher.publish(&offer).await.expect("publish");
    let running = offering.connect(&answer);
    let candidate = Candidate::Candidate {
        candidate: running.candidate.clone(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    };
    publisher.trickle(&candidate).await.expect("trickle");
    publisher
        .trickle(&Candidate::Completed)
        .await
        .expect("end of candidates");
    wait_for(&mut publisher, "webrtcup", |event| {
        (*event == HandleEvent::WebrtcUp).then_some(())
    })
    .await;
    (publisher, running)
}

#[tokio::test]
async fn a_chromium_offer_is_answered_section_by_section_with_simulcast() {
    let (janus, relay, room) = relay_with_room().await;
    let (ana, joined) = relay
        .join_publisher(&room, "peer-ana")
        .await
        .unwrap_or_else(|err| panic!("join: {err}\n{}", janus.log()));
    assert!(joined.publishers.is_empty(), "{joined:?}");
    assert_eq!(joined.feed_id, ana.feed_id());

    let offer = browser_sdp::publisher_offer();
    let answer = ana
        .publish(&offer)
        .await
        .unwrap_or_else(|err| panic!("publish: {err}\n{}", janus.log()));
    let offered = browser_sdp::m_lines(&offer);
    let answered = browser_sdp::m_lines(&answer);
    assert_eq!(answered.len(), offered.len(), "{answer}");
    assert!(answered[0].starts_with("m=audio 9 "), "{answer}");
    assert!(answered[1].starts_with("m=video 9 "), "{answer}");
    // Janus takes the active DTLS role in every section, never leaves it open.
    let setups: Vec<&str> = answer
        .lines()
        .filter(|line| line.starts_with("a=setup:"))
        .collect();
    assert_eq!(setups.len(), offered.len(), "{answer}");
    assert!(
        setups
            .iter()
            .all(|line| *line == "a=setup:active" || *line == "a=setup:passive"),
        "{answer}"
    );
    // The room's first video codec, and the three simulcast layers, are accepted.
    assert!(answer.contains("a=rtpmap:96 VP8/90000"), "{answer}");
    assert!(answer.contains("a=simulcast:recv q;h;f"), "{answer}");

    // The browser's candidates pass through.
    let candidate = Candidate::Candidate {
        candidate: "candidate:1 1 udp 2122260223 192.0.2.77 50000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    };
    ana.trickle(&candidate).await.expect("trickle");
    ana.trickle(&Candidate::Completed).await.expect("completed");

    let participants = relay.list_participants(room.id).await.expect("list");
    assert_eq!(participants.len(), 1, "{participants:?}");
    assert_eq!(participants[0].id, ana.feed_id());
    assert_eq!(participants[0].display.as_deref(), Some("peer-ana"));

    ana.leave().await.expect("leave");
    assert_eq!(relay.list_participants(room.id).await, Ok(Vec::new()));
    ana.detach().await.expect("detach");
}

#[tokio::test]
async fn a_connected_publisher_reaches_subscribers_and_publishers_hear_of_each_other() {
    let (janus, relay, room) = relay_with_room().await;
    let (mut ana, _ana_link) = connected_publisher(&relay, &room, "peer-ana").await;
    let participants = relay.list_participants(room.id).await.expect("list");
    assert_eq!(participants.len(), 1, "{participants:?}");
    assert_eq!(
        (participants[0].id, participants[0].display.as_deref()),
        (ana.feed_id(), Some("peer-ana"))
    );
    assert!(participants[0].publisher, "{participants:?}");

    // A second publisher: it is told about Ana at join, and Ana's handle hears of it.
    let (bob, known) = join_unpublished(&relay, &room, "peer-bob").await;
    assert_eq!(known, vec![ana.feed_id()]);
    // Detached, that handle leaves the room.
    bob.detach().await.expect("detach bob");
    let (bob, _bob_link) = connected_publisher(&relay, &room, "peer-bob-2").await;
    let announced = wait_for(&mut ana, "bob announced to ana", |event| match event {
        HandleEvent::Publishers(feeds) => Some(feeds.clone()),
        _ => None,
    })
    .await;
    let bob_feed = announced
        .iter()
        .find(|feed| feed.id == bob.feed_id())
        .unwrap_or_else(|| panic!("bob's feed in {announced:?}"));
    assert_eq!(bob_feed.display.as_deref(), Some("peer-bob-2"));
    assert!(
        bob_feed.streams.iter().any(|s| s.kind == "video"),
        "{bob_feed:?}"
    );

    // A subscriber to Ana: Janus's offer names Ana's feed on every stream, the answer of a
    // real peer starts it, and the connection comes up.
    let (mut carol, subscription) = relay
        .subscribe(&room, &[StreamRequest::feed(ana.feed_id())])
        .await
        .unwrap_or_else(|err| panic!("subscribe: {err}\n{}", janus.log()));
    assert_eq!(
        browser_sdp::m_lines(&subscription.offer).len(),
        subscription.streams.len(),
        "{subscription:?}"
    );
    let kinds: Vec<&str> = subscription
        .streams
        .iter()
        .map(|s| s.kind.as_str())
        .collect();
    assert_eq!(kinds, ["audio", "video"], "{subscription:?}");
    for stream in &subscription.streams {
        assert_eq!(stream.feed_id, Some(ana.feed_id()), "{stream:?}");
        assert_eq!(
            stream.feed_display.as_deref(),
            Some("peer-ana"),
            "{stream:?}"
        );
    }
    let (_carol_link, answer) = webrtc_peer::answer_and_connect(&subscription.offer);
    carol.start(&answer).await.expect("start");
    wait_for(&mut carol, "carol's webrtcup", |event| {
        (*event == HandleEvent::WebrtcUp).then_some(())
    })
    .await;

    // Adding Bob to the subscription: a new offer with Bob's streams beside Ana's.
    let updated = match carol
        .update(&[StreamRequest::feed(bob.feed_id())], &[])
        .await
        .expect("update")
    {
        Updated::Offer(subscription) => subscription,
        Updated::Unchanged(streams) => panic!("adding Bob needs an offer: {streams:?}"),
    };
    let feeds: Vec<Option<u64>> = updated.streams.iter().map(|s| s.feed_id).collect();
    assert_eq!(
        feeds,
        [
            Some(ana.feed_id()),
            Some(ana.feed_id()),
            Some(bob.feed_id()),
            Some(bob.feed_id())
        ],
        "{updated:?}"
    );
    assert_eq!(browser_sdp::m_lines(&updated.offer).len(), 4, "{updated:?}");

    // Bob leaves: Ana's handle hears it.
    let bob_id = bob.feed_id();
    bob.leave().await.expect("bob leaves");
    let gone = wait_for(&mut ana, "bob's departure", |event| match event {
        HandleEvent::Unpublished(id) | HandleEvent::Leaving(id) => Some(*id),
        _ => None,
    })
    .await;
    assert_eq!(gone, bob_id);
    let left: Vec<u64> = relay
        .list_participants(room.id)
        .await
        .expect("list")
        .iter()
        .map(|p| p.id)
        .collect();
    assert!(!left.contains(&bob_id), "{left:?}");
    assert!(left.contains(&ana.feed_id()), "{left:?}");

    // Hanging up the subscription closes its connection, and its handle hears so.
    carol.hangup().await.expect("hangup");
    wait_for(&mut carol, "carol's hangup", |event| {
        matches!(event, HandleEvent::Hangup { .. }).then_some(())
    })
    .await;
    carol.detach().await.expect("detach carol");

    // Ana stops publishing but stays in the room.
    ana.unpublish().await.expect("unpublish");
    let participants = relay.list_participants(room.id).await.expect("list");
    assert_eq!(participants.len(), 1, "{participants:?}");
    assert!(!participants[0].publisher, "{participants:?}");
}

#[tokio::test]
async fn wrong_rooms_pins_and_sdp_are_refused_and_the_room_is_untouched() {
    let (janus, relay, room) = relay_with_room().await;
    let (ana, _ana_link) = connected_publisher(&relay, &room, "peer-ana").await;
    let refused = |result: Result<_, JanusError>| match result {
        Ok(_) => panic!("accepted"),
        Err(err) => err,
    };

    // A room that does not exist, or the right room with a wrong pin.
    let nowhere = JanusRoom {
        id: room.id ^ 1,
        ..room.clone()
    };
    let err = refused(relay.join_publisher(&nowhere, "peer-eve").await.map(drop));
    assert_eq!(err.code(), Some(NO_SUCH_ROOM), "{err}");
    let guessed = JanusRoom {
        pin: Secret::from("guessed"),
        ..room.clone()
    };
    let err = refused(relay.join_publisher(&guessed, "peer-eve").await.map(drop));
    assert_eq!(err.code(), Some(UNAUTHORIZED), "{err}");
    let ana_feed = [StreamRequest::feed(ana.feed_id())];
    let err = refused(relay.subscribe(&guessed, &ana_feed).await.map(drop));
    assert_eq!(err.code(), Some(UNAUTHORIZED), "{err}");
    let err = refused(
        relay
            .subscribe(&room, &[StreamRequest::feed(7)])
            .await
            .map(drop),
    );
    assert_eq!(err.code(), Some(NO_SUCH_FEED), "{err}");

    // Garbage, and an offer without media, get typed errors.
    let (eve, _) = relay
        .join_publisher(&room, "peer-eve")
        .await
        .expect("eve joins");
    let err = refused(eve.publish("this is not SDP").await.map(drop));
    assert_eq!(err.code(), Some(INVALID_SDP), "{err:?}");
    let empty = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    let err = refused(eve.publish(empty).await.map(drop));
    assert_eq!(err.code(), Some(INVALID_SDP), "{err:?}");

    // Ana still publishes in the room, and a newcomer is told of her alone.
    let participants = relay.list_participants(room.id).await.expect("list");
    let ana_now = participants
        .iter()
        .find(|p| p.id == ana.feed_id())
        .unwrap_or_else(|| panic!("ana in {participants:?}\n{}", janus.log()));
    assert!(ana_now.publisher, "{participants:?}");
    assert_eq!(participants.len(), 2, "ana and eve: {participants:?}");
    let (_dan, known) = join_unpublished(&relay, &room, "peer-dan").await;
    assert_eq!(known, vec![ana.feed_id()]);
    assert_eq!(ana.dropped_events(), 0);

    // A handle the relay lets go of is detached: Eve leaves the Janus room.
    let eve_id = eve.feed_id();
    drop(eve);
    let mut still_there = true;
    for _ in 0..200 {
        let participants = relay.list_participants(room.id).await.expect("list");
        still_there = participants.iter().any(|p| p.id == eve_id);
        if !still_there {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!still_there, "a dropped handle stayed in the room");
}

#[tokio::test]
async fn a_stage_forwarded_into_a_mountpoint_reaches_a_whep_viewer_through_the_bridge() {
    let (janus, relay, room) = relay_with_room().await;
    let (ana, ana_peer) = connected_publisher(&relay, &room, "peer-ana").await;

    // A WHEP player's offer (str0m's: receive only); the mountpoint is made for its
    // payload types.
    let (offering, offer) = webrtc_peer::viewer_offer();
    let viewer_sdp = Sdp::parse(&offer).expect("str0m's offer parses");
    let codecs = viewer_codecs(&viewer_sdp, StageVideo::Vp8).expect("Opus and VP8 offered");
    let mount = relay
        .create_mountpoint(
            "meshmeet live test",
            "vp8",
            codecs.audio_pt,
            codecs.video_pt,
        )
        .await
        .unwrap_or_else(|err| panic!("create a mountpoint: {err}\n{}", janus.log()));
    assert_ne!(mount.audio_port, mount.video_port);
    assert!(mount.video_rtcp_port.is_some(), "{mount:?}");
    // str0m's publisher offers audio, then video.
    let (audio, video) = (&ana_peer.mids[0], &ana_peer.mids[1]);
    let forwarding = relay
        .forward_rtp(
            &room,
            ana.feed_id(),
            Some(audio),
            Some(VideoSource {
                mid: video,
                simulcast: false,
            }),
            &mount.target(),
        )
        .await
        .unwrap_or_else(|err| panic!("rtp_forward: {err}\n{}", janus.log()));
    assert_eq!(forwarding.forwards.len(), 2, "{forwarding:?}");

    // Janus offers (it ignores offers from viewers); the relay bridges the two offers.
    let (mut viewer, janus_offer) = relay
        .watch(&mount)
        .await
        .unwrap_or_else(|err| panic!("watch: {err}\n{}", janus.log()));
    let janus_sdp = Sdp::parse(&janus_offer).expect("Janus's offer parses");
    let bridged = bridge(&viewer_sdp, &janus_sdp, 1).expect("bridged");
    viewer
        .start(&bridged.to_janus)
        .await
        .unwrap_or_else(|err| panic!("start: {err}\n{}\n{}", bridged.to_janus, janus.log()));
    let _running = offering.connect(&bridged.to_viewer);
    wait_for(&mut viewer, "the viewer's webrtcup", |event| {
        (*event == HandleEvent::WebrtcUp).then_some(())
    })
    .await;

    // A malformed answer is refused; the mountpoint keeps serving others.
    let (second, _) = relay.watch(&mount).await.expect("a second viewer");
    let refused = second.start("v=0 not sdp").await;
    assert!(refused.is_err(), "{refused:?}");
    relay.watch(&mount).await.expect("a third viewer");

    // Stopping the forwards twice is fine; a destroyed mountpoint cannot be watched.
    relay
        .stop_forwarding(&room, &forwarding)
        .await
        .expect("stop");
    relay
        .stop_forwarding(&room, &forwarding)
        .await
        .expect("stop again");
    relay.destroy_mountpoint(&mount).await.expect("destroy");
    let gone = relay.watch(&mount).await;
    assert!(gone.is_err(), "{gone:?}");
}
