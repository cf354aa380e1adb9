//! A link answering offers from a peer written on the bare browser API, the way another
//! implementation of PROTOCOL.md would: m-lines in another order are mapped by kind (first
//! audio the microphone, first video the camera, second video the screen) and media flows
//! both ways; m-lines beyond those are answered `inactive` and nothing of them is shown.
#![cfg(target_arch = "wasm32")]

mod support;

use meshmeet::media::stop_stream;
use meshmeet::rtc::{LinkConfig, LocalTracks, PeerEvent, PeerLink};
use meshmeet_protocol::Signal;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{
    Event, MediaStream, MediaStreamTrack, RtcDataChannel, RtcDataChannelInit, RtcIceCandidateInit,
    RtcPeerConnection, RtcPeerConnectionIceEvent, RtcRtpTransceiver, RtcRtpTransceiverDirection,
    RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit,
};

wasm_bindgen_test_configure!(run_in_browser);

const CONNECT_TIMEOUT_MS: u32 = 20_000;

/// What the link under test reported.
#[derive(Default)]
struct Seen {
    camera_and_mic: Option<MediaStream>,
    screen: Option<MediaStream>,
}

/// The peer on the bare API: one transceiver per offered m-line, each sending a fake track of
/// its kind, and the two negotiated data channels PROTOCOL.md asks for.
struct RawPeer {
    pc: RtcPeerConnection,
    captures: Vec<MediaStream>,
    _channels: Vec<RtcDataChannel>,
    _on_candidate: Closure<dyn FnMut(Event)>,
}

impl RawPeer {
    async fn new(media: &[&str], link: Rc<RefCell<Option<PeerLink>>>) -> RawPeer {
        let pc = RtcPeerConnection::new().expect("a bare peer connection");
        let mut captures = Vec::new();
        for kind in media {
            let capture = support::fake_stream().await;
            let tracks = if *kind == "audio" {
                capture.get_audio_tracks()
            } else {
                capture.get_video_tracks()
            };
            let track: MediaStreamTrack = tracks.get(0).unchecked_into();
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Sendrecv);
            pc.add_transceiver_with_media_stream_track_and_init(&track, &init);
            captures.push(capture);
        }
        let channels = [(0, "chat"), (1, "files")]
            .into_iter()
            .map(|(id, label)| {
                let init = RtcDataChannelInit::new();
                init.set_negotiated(true);
                init.set_id(id);
                pc.create_data_channel_with_data_channel_dict(label, &init)
            })
            .collect();
        let on_candidate = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let event: RtcPeerConnectionIceEvent = event.unchecked_into();
            if let (Some(candidate), Some(link)) = (event.candidate(), link.borrow().as_ref()) {
                link.handle_signal(Signal::Candidate {
                    candidate: candidate.candidate(),
                    sdp_mid: candidate.sdp_mid(),
                    sdp_m_line_index: candidate.sdp_m_line_index(),
                    username_fragment: None,
                });
            }
        });
        pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        RawPeer {
            pc,
            captures,
            _channels: channels,
            _on_candidate: on_candidate,
        }
    }

    /// Offers to `link` (the link answers through the handler of [`link_answering`]).
    async fn offer(&self, link: &Rc<RefCell<Option<PeerLink>>>) {
        let offer = JsFuture::from(self.pc.create_offer())
            .await
            .expect("an offer");
        let sdp = offer
            .unchecked_ref::<RtcSessionDescriptionInit>()
            .get_sdp()
            .expect("the offer's sdp");
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        init.set_sdp(&sdp);
        JsFuture::from(self.pc.set_local_description(&init))
            .await
            .expect("set the offer");
        link.borrow()
            .as_ref()
            .expect("the link")
            .handle_signal(Signal::Offer { sdp });
    }

    fn close(self) {
        self.pc.close();
        for capture in &self.captures {
            stop_stream(capture);
        }
    }
}

/// The link's answer and candidates go to the bare peer (in order: the browser chains them);
/// what it shows is recorded.
fn link_answering(raw: RtcPeerConnection, seen: Rc<RefCell<Seen>>) -> Rc<dyn Fn(PeerEvent)> {
    Rc::new(move |event| match event {
        PeerEvent::Signal(Signal::Answer { sdp }) => {
            let raw = raw.clone();
            spawn_local(async move {
                let init = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
                init.set_sdp(&sdp);
                JsFuture::from(raw.set_remote_description(&init))
                    .await
                    .expect("the bare peer takes the link's answer");
            });
        }
        PeerEvent::Signal(Signal::Candidate {
            candidate,
            sdp_mid,
            sdp_m_line_index,
            ..
        }) if !candidate.is_empty() => {
            let raw = raw.clone();
            spawn_local(async move {
                let init = RtcIceCandidateInit::new(&candidate);
                init.set_sdp_mid(sdp_mid.as_deref());
                init.set_sdp_m_line_index(sdp_m_line_index);
                let _ = JsFuture::from(
                    raw.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
                )
                .await;
            });
        }
        PeerEvent::RemoteStream(stream) => seen.borrow_mut().camera_and_mic = Some(stream),
        PeerEvent::RemoteScreen(stream) => seen.borrow_mut().screen = Some(stream),
        _ => {}
    })
}

/// The live transceiver of `pc` with this mid.
fn by_mid(pc: &RtcPeerConnection, mid: &str) -> RtcRtpTransceiver {
    pc.get_transceivers()
        .iter()
        .map(|t| t.unchecked_into::<RtcRtpTransceiver>())
        .find(|t| t.mid().as_deref() == Some(mid))
        .unwrap_or_else(|| panic!("no transceiver with mid {mid}"))
}

fn first_track(list: js_sys::Array) -> Option<MediaStreamTrack> {
    list.get(0).dyn_into::<MediaStreamTrack>().ok()
}

/// A link that answers `media` offered by a bare peer, sending a camera, a microphone and a
/// screen; returns once media from the link arrives on each of `carrying` (mids of the bare
/// peer), and the link's local camera, microphone and screen track ids.
struct Call {
    link: Rc<RefCell<Option<PeerLink>>>,
    raw: RawPeer,
    seen: Rc<RefCell<Seen>>,
    local: [MediaStream; 2],
    ids: (String, String, String),
}

async fn answered_call(media: &[&str], carrying: &[&str]) -> Call {
    let (camera, screen) = (support::fake_stream().await, support::fake_stream().await);
    let tracks = LocalTracks {
        audio: first_track(camera.get_audio_tracks()),
        video: first_track(camera.get_video_tracks()),
        screen: first_track(screen.get_video_tracks()),
    };
    let id = |t: &Option<MediaStreamTrack>| t.as_ref().map(|t| t.id()).expect("a fake track");
    let ids = (id(&tracks.video), id(&tracks.audio), id(&tracks.screen));
    let link = Rc::new(RefCell::new(None));
    let seen = Rc::new(RefCell::new(Seen::default()));
    let raw = RawPeer::new(media, link.clone()).await;
    let answering = PeerLink::new(
        &LinkConfig::default(),
        true,
        false,
        tracks,
        link_answering(raw.pc.clone(), seen.clone()),
    )
    .expect("the link");
    *link.borrow_mut() = Some(answering);
    raw.offer(&link).await;
    for mid in carrying {
        support::wait_until(
            &format!("media from the link on the bare peer's m-line {mid}"),
            CONNECT_TIMEOUT_MS,
            || {
                let transceivers = raw.pc.get_transceivers();
                let arrived = transceivers
                    .iter()
                    .map(|t| t.unchecked_into::<RtcRtpTransceiver>())
                    .any(|t| t.mid().as_deref() == Some(*mid) && !t.receiver().track().muted());
                arrived.then_some(())
            },
        )
        .await;
    }
    Call {
        link,
        raw,
        seen,
        local: [camera, screen],
        ids,
    }
}

impl Call {
    /// The id of the local track the link sends on the m-line `mid`.
    fn sent_on(&self, mid: &str) -> Option<String> {
        let pc = self.link.borrow().as_ref().expect("the link").connection();
        by_mid(&pc, mid).sender().track().map(|t| t.id())
    }

    /// The id of the track the link receives on the m-line `mid`.
    fn received_on(&self, mid: &str) -> String {
        let pc = self.link.borrow().as_ref().expect("the link").connection();
        by_mid(&pc, mid).receiver().track().id()
    }

    fn end(self) {
        drop(self.link.borrow_mut().take());
        self.raw.close();
        for stream in &self.local {
            stop_stream(stream);
        }
    }
}

#[wasm_bindgen_test]
async fn an_offer_in_another_order_gets_camera_microphone_and_screen_back_by_kind() {
    let call = answered_call(&["video", "audio", "video"], &["0", "1", "2"]).await;
    let (camera, mic, screen) = call.ids.clone();
    assert_eq!(call.sent_on("0"), Some(camera), "first video m-line");
    assert_eq!(call.sent_on("1"), Some(mic), "audio m-line");
    assert_eq!(call.sent_on("2"), Some(screen), "second video m-line");
    // And the bare peer's own media is shown the same way round.
    let shown = support::wait_until("the link to show the peer", CONNECT_TIMEOUT_MS, || {
        let seen = call.seen.borrow();
        let stream = seen.camera_and_mic.as_ref()?;
        let video = first_track(stream.get_video_tracks())?;
        let audio = first_track(stream.get_audio_tracks())?;
        let screen = first_track(seen.screen.as_ref()?.get_video_tracks())?;
        Some((video.id(), audio.id(), screen.id()))
    })
    .await;
    assert_eq!(
        shown,
        (
            call.received_on("0"),
            call.received_on("1"),
            call.received_on("2")
        )
    );
    call.end();
}

#[wasm_bindgen_test]
async fn m_lines_beyond_one_audio_and_two_videos_are_answered_inactive_and_never_shown() {
    let call = answered_call(
        &["audio", "video", "video", "video", "audio"],
        &["0", "1", "2"],
    )
    .await;
    for mid in ["3", "4"] {
        let pc = call.link.borrow().as_ref().expect("the link").connection();
        assert_eq!(
            by_mid(&pc, mid).current_direction(),
            Some(RtcRtpTransceiverDirection::Inactive),
            "the link's answer for m-line {mid}"
        );
        assert_eq!(
            by_mid(&call.raw.pc, mid).current_direction(),
            Some(RtcRtpTransceiverDirection::Inactive),
            "the bare peer's m-line {mid} after the answer"
        );
        assert_eq!(
            call.sent_on(mid),
            None,
            "the link sends nothing on m-line {mid}"
        );
    }
    // The tile shows the first audio and the first video, not the extra ones that the
    // browser also announced as tracks.
    let stream = call
        .seen
        .borrow()
        .camera_and_mic
        .clone()
        .expect("the peer's camera and microphone");
    let ids = |list: js_sys::Array| -> Vec<String> {
        list.iter()
            .map(|t| t.unchecked_into::<MediaStreamTrack>().id())
            .collect()
    };
    assert_eq!(ids(stream.get_video_tracks()), [call.received_on("1")]);
    assert_eq!(ids(stream.get_audio_tracks()), [call.received_on("0")]);
    call.end();
}
