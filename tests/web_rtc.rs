//! Two peer links inside one page, wired to each other directly instead of through the
//! relay: negotiation, glare and track replacement in a real browser WebRTC stack.
#![cfg(target_arch = "wasm32")]

mod support;

use meshmeet::media::stop_stream;
use meshmeet::rtc::{
    stats_of, Channel, ChannelData, ConnectionStatus, FrameCrypto, LinkConfig, LocalTracks,
    PeerEvent, PeerLink, SharedFrameCrypto, TrackKind,
};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{MediaStream, MediaStreamTrack};

wasm_bindgen_test_configure!(run_in_browser);

const CONNECT_TIMEOUT_MS: u32 = 20_000;

/// What one side of the pair has seen.
#[derive(Default)]
struct Seen {
    status: Option<ConnectionStatus>,
    stream: Option<MediaStream>,
    screen: Option<MediaStream>,
    offers_sent: u32,
    open_channels: Vec<Channel>,
    texts: Vec<String>,
    binary_bytes: u32,
    /// Relayed candidates of each finished gathering.
    gatherings: Vec<usize>,
}

struct Pair {
    a: Rc<RefCell<Option<PeerLink>>>,
    b: Rc<RefCell<Option<PeerLink>>>,
    seen_a: Rc<RefCell<Seen>>,
    seen_b: Rc<RefCell<Seen>>,
}

fn tracks(stream: &MediaStream) -> LocalTracks {
    let first = |list: js_sys::Array| list.get(0).dyn_into::<MediaStreamTrack>().ok();
    LocalTracks {
        audio: first(stream.get_audio_tracks()),
        video: first(stream.get_video_tracks()),
        screen: None,
    }
}

/// Events of one link: signals go to the other link, the rest is recorded.
fn handler(other: Rc<RefCell<Option<PeerLink>>>, seen: Rc<RefCell<Seen>>) -> Rc<dyn Fn(PeerEvent)> {
    Rc::new(move |event| match event {
        PeerEvent::Signal(signal) => {
            if matches!(signal, meshmeet_protocol::Signal::Offer { .. }) {
                seen.borrow_mut().offers_sent += 1;
            }
            if let Some(link) = other.borrow().as_ref() {
                link.handle_signal(signal);
            }
        }
        PeerEvent::Status(status) => seen.borrow_mut().status = Some(status),
        PeerEvent::RemoteStream(stream) => seen.borrow_mut().stream = Some(stream),
        PeerEvent::RemoteScreen(stream) => seen.borrow_mut().screen = Some(stream),
        PeerEvent::ChannelOpen(channel) => seen.borrow_mut().open_channels.push(channel),
        PeerEvent::Data(_, ChannelData::Text(text)) => seen.borrow_mut().texts.push(text),
        PeerEvent::Data(_, ChannelData::Binary(bytes)) => {
            seen.borrow_mut().binary_bytes += bytes.length()
        }
        PeerEvent::GatheringDone { relay_candidates } => {
            seen.borrow_mut().gatherings.push(relay_candidates)
        }
        PeerEvent::Error(_) | PeerEvent::IceServerError(_) => {}
    })
}

/// Links `a` (polite) and `b`; `a_initiates`/`b_initiates` say who creates transceivers
/// and so sends the first offer. Both at once is glare.
fn pair(
    a_tracks: LocalTracks,
    b_tracks: LocalTracks,
    a_initiates: bool,
    b_initiates: bool,
) -> Pair {
    let config = LinkConfig::default();
    pair_with(
        (&config, &config),
        a_tracks,
        b_tracks,
        a_initiates,
        b_initiates,
    )
}

/// [`pair`] with a configuration for each side.
fn pair_with(
    (a_config, b_config): (&LinkConfig, &LinkConfig),
    a_tracks: LocalTracks,
    b_tracks: LocalTracks,
    a_initiates: bool,
    b_initiates: bool,
) -> Pair {
    let (a, b) = (Rc::new(RefCell::new(None)), Rc::new(RefCell::new(None)));
    let (seen_a, seen_b) = (Rc::default(), Rc::default());
    let link_a = PeerLink::new(
        a_config,
        true,
        a_initiates,
        a_tracks,
        handler(b.clone(), Rc::clone(&seen_a)),
    )
    .expect("link a");
    let link_b = PeerLink::new(
        b_config,
        false,
        b_initiates,
        b_tracks,
        handler(a.clone(), Rc::clone(&seen_b)),
    )
    .expect("link b");
    *a.borrow_mut() = Some(link_a);
    *b.borrow_mut() = Some(link_b);
    Pair {
        a,
        b,
        seen_a,
        seen_b,
    }
}

async fn wait_connected(seen: &Rc<RefCell<Seen>>, who: &str) -> MediaStream {
    support::wait_until(
        &format!("{who} connected with remote media"),
        CONNECT_TIMEOUT_MS,
        || {
            let seen = seen.borrow();
            let ready = seen.status == Some(ConnectionStatus::Connected);
            let stream = seen
                .stream
                .clone()
                .filter(|s| s.get_video_tracks().length() > 0 && s.get_audio_tracks().length() > 0);
            if ready {
                stream
            } else {
                None
            }
        },
    )
    .await
}

/// A pair where b offers, connected both ways, with the two local streams (stop them after).
async fn connected_pair() -> (Pair, MediaStream, MediaStream) {
    let (local_a, local_b) = (support::fake_stream().await, support::fake_stream().await);
    let pair = pair(tracks(&local_a), tracks(&local_b), false, true);
    wait_connected(&pair.seen_a, "a").await;
    wait_connected(&pair.seen_b, "b").await;
    (pair, local_a, local_b)
}

#[wasm_bindgen_test]
async fn one_offer_connects_media_both_ways() {
    let (pair, local_a, local_b) = connected_pair().await;
    assert_eq!(
        pair.seen_a.borrow().offers_sent,
        0,
        "the answering side should not need its own offer"
    );
    assert_eq!(pair.seen_b.borrow().offers_sent, 1);
    drop(pair);
    stop_stream(&local_a);
    stop_stream(&local_b);
}

/// `getStats()` is read value by value into the tree the natively tested readers take: on a
/// live connection the snapshot has the sent video, the received video and the selected pair.
#[wasm_bindgen_test]
async fn statistics_of_a_live_connection_are_read_from_the_browser_report() {
    let (pair, local_a, local_b) = connected_pair().await;
    let pc = pair.a.borrow().as_ref().expect("link a").connection();
    let mut snapshot = stats_of(&pc).await.expect("stats");
    // Bytes flow a moment after connecting; a bounded wait for the first video bytes.
    for _ in 0..50 {
        let sent = snapshot
            .outbound
            .iter()
            .any(|s| s.kind == "video" && s.bytes > 0.0);
        let received = snapshot
            .inbound
            .iter()
            .any(|r| r.kind == "video" && r.bytes > 0.0);
        if sent && received {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(100).await;
        snapshot = stats_of(&pc).await.expect("stats");
    }
    // (The screen's sender is there too, with nothing to send yet.)
    let camera_out = snapshot
        .outbound
        .iter()
        .find(|s| s.kind == "video" && s.bytes > 0.0);
    assert!(
        camera_out.is_some_and(|s| s.packets > 0.0),
        "no video sent: {snapshot:?}"
    );
    let camera_in = snapshot
        .inbound
        .iter()
        .find(|r| r.kind == "video" && r.bytes > 0.0);
    assert!(camera_in.is_some(), "no video received: {snapshot:?}");
    assert!(snapshot.timestamp_ms > 0.0);
    let pair_stats = snapshot.pair.as_ref().expect("a selected candidate pair");
    assert!(!pair_stats.local.kind.is_empty(), "{pair_stats:?}");
    drop(pair);
    stop_stream(&local_a);
    stop_stream(&local_b);
}

#[wasm_bindgen_test]
async fn simultaneous_offers_are_resolved_by_perfect_negotiation() {
    let (local_a, local_b) = (support::fake_stream().await, support::fake_stream().await);
    // Both sides create transceivers and offer at once: glare.
    let pair = pair(tracks(&local_a), tracks(&local_b), true, true);
    wait_connected(&pair.seen_a, "polite a").await;
    wait_connected(&pair.seen_b, "impolite b").await;
    stop_stream(&local_a);
    stop_stream(&local_b);
}

#[wasm_bindgen_test]
async fn replacing_the_camera_track_needs_no_new_offer() {
    let (local_a, local_b) = (support::fake_stream().await, support::fake_stream().await);
    let pair = pair(tracks(&local_a), tracks(&local_b), false, true);
    wait_connected(&pair.seen_a, "a").await;
    let offers_before = pair.seen_b.borrow().offers_sent;

    let fresh = support::fake_stream().await;
    let new_video = tracks(&fresh).video;
    pair.b
        .borrow()
        .as_ref()
        .expect("link b")
        .replace_track(TrackKind::Video, new_video.clone());
    pair.b
        .borrow()
        .as_ref()
        .expect("link b")
        .replace_track(TrackKind::Video, None);
    pair.b
        .borrow()
        .as_ref()
        .expect("link b")
        .replace_track(TrackKind::Video, new_video);
    gloo_timers::future::TimeoutFuture::new(1_000).await;

    assert_eq!(
        pair.seen_b.borrow().offers_sent,
        offers_before,
        "replaceTrack renegotiated"
    );
    assert_eq!(
        pair.seen_a.borrow().status,
        Some(ConnectionStatus::Connected)
    );
    drop(pair.a.borrow_mut().take());
    drop(pair.b.borrow_mut().take());
    for s in [local_a, local_b, fresh] {
        stop_stream(&s);
    }
}

#[wasm_bindgen_test]
async fn a_screen_share_started_mid_call_flows_without_a_new_offer() {
    let (local_a, local_b) = (support::fake_stream().await, support::fake_stream().await);
    let pair = pair(tracks(&local_a), tracks(&local_b), false, true);
    wait_connected(&pair.seen_a, "a").await;
    let offers_before = (
        pair.seen_a.borrow().offers_sent,
        pair.seen_b.borrow().offers_sent,
    );

    // A second camera stream stands in for a screen: getDisplayMedia needs a user gesture.
    let screen_source = support::fake_stream().await;
    let screen = tracks(&screen_source).video;
    pair.a
        .borrow()
        .as_ref()
        .expect("link a")
        .replace_track(TrackKind::Screen, screen);
    let remote_screen = support::wait_until(
        "b's screen track to carry media",
        CONNECT_TIMEOUT_MS,
        || {
            let seen = pair.seen_b.borrow();
            let track = seen
                .screen
                .as_ref()?
                .get_video_tracks()
                .get(0)
                .dyn_into::<MediaStreamTrack>()
                .ok()?;
            (!track.muted()).then_some(track)
        },
    )
    .await;
    assert_eq!(remote_screen.kind(), "video");
    // The camera stream is still the camera: screen and camera arrive apart.
    let camera = pair.seen_b.borrow().stream.clone().expect("camera stream");
    assert_ne!(
        camera
            .get_video_tracks()
            .get(0)
            .dyn_into::<MediaStreamTrack>()
            .expect("camera track")
            .id(),
        remote_screen.id()
    );
    let offers_after = (
        pair.seen_a.borrow().offers_sent,
        pair.seen_b.borrow().offers_sent,
    );
    assert_eq!(
        offers_before, offers_after,
        "starting a screen share renegotiated"
    );
    drop(pair);
    for s in [local_a, local_b, screen_source] {
        stop_stream(&s);
    }
}

#[wasm_bindgen_test]
async fn data_channels_open_on_both_sides_and_carry_text_and_bytes() {
    let (local_a, local_b) = (support::fake_stream().await, support::fake_stream().await);
    let pair = pair(tracks(&local_a), tracks(&local_b), false, true);
    for (seen, who) in [(&pair.seen_a, "a"), (&pair.seen_b, "b")] {
        support::wait_until(
            &format!("{who}'s chat and files channels to open"),
            CONNECT_TIMEOUT_MS,
            || {
                let open = &seen.borrow().open_channels;
                (open.contains(&Channel::Chat) && open.contains(&Channel::Files)).then_some(())
            },
        )
        .await;
    }
    let chat = pair
        .a
        .borrow()
        .as_ref()
        .and_then(|l| l.data(Channel::Chat))
        .expect("chat channel");
    chat.send_text("hello b").expect("send text");
    let files = pair
        .a
        .borrow()
        .as_ref()
        .and_then(|l| l.data(Channel::Files))
        .expect("files channel");
    // 2 MiB in 16 KiB messages, pausing whenever the buffer passes the high mark.
    let chunk = vec![7u8; 16 * 1024];
    for _ in 0..128 {
        files.send_bytes(&chunk).expect("send bytes");
        if files.buffered() > meshmeet::rtc::BUFFER_HIGH_BYTES {
            assert!(files.drained().await, "the channel closed while draining");
        }
    }
    support::wait_until(
        "b to receive the text and every byte",
        CONNECT_TIMEOUT_MS,
        || {
            let seen = pair.seen_b.borrow();
            (seen.texts == ["hello b"] && seen.binary_bytes == 128 * 16 * 1024).then_some(())
        },
    )
    .await;
    drop(pair);
    stop_stream(&local_a);
    stop_stream(&local_b);
}

#[wasm_bindgen_test]
async fn an_ice_restart_renegotiates_and_the_call_stays_connected() {
    let (pair, local_a, local_b) = connected_pair().await;
    let offers_before = pair.seen_a.borrow().offers_sent;
    // The polite side restarts; its next offer carries new ICE credentials.
    pair.a.borrow().as_ref().expect("link a").restart_ice();
    support::wait_until("a's restart offer", CONNECT_TIMEOUT_MS, || {
        (pair.seen_a.borrow().offers_sent > offers_before).then_some(())
    })
    .await;
    gloo_timers::future::TimeoutFuture::new(1_000).await;
    support::wait_until(
        "both sides connected after the restart",
        CONNECT_TIMEOUT_MS,
        || {
            let a = pair.seen_a.borrow().status;
            let b = pair.seen_b.borrow().status;
            (a == Some(ConnectionStatus::Connected) && b == Some(ConnectionStatus::Connected))
                .then_some(())
        },
    )
    .await;
    drop(pair);
    stop_stream(&local_a);
    stop_stream(&local_b);
}

#[wasm_bindgen_test]
async fn a_relay_only_link_without_turn_reports_a_gathering_without_relay_candidates() {
    // What the meeting turns into "no TURN relay could be reached" on screen.
    let local = support::fake_stream().await;
    let seen: Rc<RefCell<Seen>> = Rc::default();
    let config = LinkConfig {
        ice_servers: Vec::new(),
        policy: meshmeet_protocol::IceTransportPolicy::Relay,
        frames: None,
    };
    let link = PeerLink::new(
        &config,
        true,
        true,
        tracks(&local),
        handler(Rc::new(RefCell::new(None)), Rc::clone(&seen)),
    )
    .expect("link");
    let relay_candidates = support::wait_until("gathering done", CONNECT_TIMEOUT_MS, || {
        seen.borrow().gatherings.first().copied()
    })
    .await;
    assert_eq!(relay_candidates, 0);
    drop(link);
    stop_stream(&local);
}

/// The connection of the link `side`.
fn connection_of(side: &Rc<RefCell<Option<PeerLink>>>) -> web_sys::RtcPeerConnection {
    side.borrow().as_ref().expect("a link").connection()
}

#[wasm_bindgen_test]
async fn links_with_frame_encryption_decode_each_other_and_a_plain_peer_s_frames_are_dropped() {
    let crypto = Rc::new(FrameCrypto::start().expect("encoded transforms"));
    crypto.set_key(0, &[5; 32]).expect("a key");
    crypto.send_with(0).expect("send with it");
    let encrypted = LinkConfig {
        frames: Some(SharedFrameCrypto(Rc::clone(&crypto))),
        ..LinkConfig::default()
    };
    let (local_a, local_b) = (support::fake_stream().await, support::fake_stream().await);
    // Both encrypt: each decodes the other, through the initiator's and the answerer's
    // transceivers alike.
    let both = pair_with(
        (&encrypted, &encrypted),
        tracks(&local_a),
        tracks(&local_b),
        false,
        true,
    );
    for (side, who) in [
        (&both.a, "a (encrypted, from encrypted b)"),
        (&both.b, "b (encrypted, from encrypted a)"),
    ] {
        support::wait_for_decoded(&connection_of(side), 11.0, CONNECT_TIMEOUT_MS, who).await;
    }
    let counted = support::wait_until("the worker's report", CONNECT_TIMEOUT_MS, || {
        let counts = crypto.counts();
        (counts.encrypted > 0 && counts.decrypted > 0).then_some(counts)
    })
    .await;
    assert_eq!(counted.failed, 0, "{counted:?}");
    drop(both);
    // Only a encrypts: what plain b sends never reaches a's decoder.
    let before = crypto.counts().failed;
    let half = pair_with(
        (&encrypted, &LinkConfig::default()),
        tracks(&local_a),
        tracks(&local_b),
        false,
        true,
    );
    wait_connected(&half.seen_a, "a").await;
    support::wait_until(
        "a's worker dropping b's plain frames",
        CONNECT_TIMEOUT_MS,
        || (crypto.counts().failed > before + 20).then_some(()),
    )
    .await;
    assert_eq!(
        support::video_frames_decoded(&connection_of(&half.a)).await,
        0.0,
        "a decoded a plain frame"
    );
    drop(half);
    stop_stream(&local_a);
    stop_stream(&local_b);
}
