//! Frame encryption in a real browser: two peer connections in one page, the sender's frames
//! encrypted by `FrameCrypto`'s worker and the receiver's decrypted by another's. With the
//! same key the receiver decodes the camera and hears the microphone; with another key it
//! decodes nothing (its worker counts every frame as failed); a new key given to both,
//! then sent with, keeps the picture going. Keys from a passphrase and safety codes match
//! values computed outside the browser (Python's hashlib), so every browser agrees. An
//! encrypted video transceiver offers VP8 first, whatever was preferred before.
#![cfg(target_arch = "wasm32")]

mod support;

use meshmeet::media::stop_stream;
use meshmeet::rtc::{key_from_passphrase, prefer_vp8, safety_code, stats_of, FrameCrypto};
use meshmeet_protocol::RoomName;
use std::rc::Rc;
use support::{fake_stream, video_frames_decoded, wait_for_decoded, wait_until};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{
    MediaStream, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcSdpType,
    RtcSessionDescriptionInit, RtcTrackEvent,
};

wasm_bindgen_test_configure!(run_in_browser);

const KEY_A: [u8; 16] = [7; 16];
const KEY_B: [u8; 16] = [9; 16];
const KEY_C: [u8; 32] = [3; 32];
const MEDIA_TIMEOUT_MS: u32 = 20_000;

/// A sender and a receiver connected to each other, each with its own worker; the handlers
/// are kept alive with them.
struct Call {
    sender: RtcPeerConnection,
    receiver: RtcPeerConnection,
    sending: Rc<FrameCrypto>,
    receiving: Rc<FrameCrypto>,
    stream: MediaStream,
    _handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for Call {
    fn drop(&mut self) {
        self.sender.close();
        self.receiver.close();
        stop_stream(&self.stream);
    }
}

/// Connects a sender of the fake camera and microphone, encrypting with `send_key`, to a
/// receiver that knows `receive_key` (both as key 0).
async fn call(send_key: &[u8], receive_key: &[u8]) -> Call {
    let sending = Rc::new(FrameCrypto::start().expect("encoded transforms"));
    let receiving = Rc::new(FrameCrypto::start().expect("encoded transforms"));
    sending.set_key(0, send_key).expect("a key");
    sending.send_with(0).expect("send with it");
    receiving.set_key(0, receive_key).expect("a key");
    let sender = RtcPeerConnection::new().expect("a peer connection");
    let receiver = RtcPeerConnection::new().expect("a peer connection");
    let stream = fake_stream().await;
    for track in stream.get_tracks().iter() {
        let track: web_sys::MediaStreamTrack = track.unchecked_into();
        let rtp_sender = sender.add_track_0(&track, &stream);
        sending
            .protect_sender(&rtp_sender, &track.kind())
            .expect("the sender's transform");
    }
    let mut handlers: Vec<Closure<dyn FnMut(web_sys::Event)>> = Vec::new();
    for (from, to) in [(&sender, &receiver), (&receiver, &sender)] {
        let to = to.clone();
        let on_candidate = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let Some(e) = e.dyn_ref::<RtcPeerConnectionIceEvent>() else {
                return;
            };
            if let Some(candidate) = e.candidate() {
                let _ = to.add_ice_candidate_with_opt_rtc_ice_candidate(Some(&candidate));
            }
        });
        from.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        handlers.push(on_candidate);
    }
    {
        let receiving = Rc::clone(&receiving);
        let on_track = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let Some(e) = e.dyn_ref::<RtcTrackEvent>() else {
                return;
            };
            receiving
                .protect_receiver(&e.receiver(), &e.track().kind())
                .expect("the receiver's transform");
        });
        receiver.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        handlers.push(on_track);
    }
    describe(&sender, &receiver, RtcSdpType::Offer).await;
    describe(&receiver, &sender, RtcSdpType::Answer).await;
    Call {
        sender,
        receiver,
        sending,
        receiving,
        stream,
        _handlers: handlers,
    }
}

/// `from` describes itself (an offer, or the answer to one) and `to` takes it.
async fn describe(from: &RtcPeerConnection, to: &RtcPeerConnection, kind: RtcSdpType) {
    let created = match kind {
        RtcSdpType::Offer => from.create_offer(),
        _ => from.create_answer(),
    };
    let created = JsFuture::from(created).await.expect("a description");
    let sdp = js_sys::Reflect::get(&created, &"sdp".into())
        .ok()
        .and_then(|s| s.as_string())
        .expect("its SDP");
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(&sdp);
    JsFuture::from(from.set_local_description(&init))
        .await
        .expect("set as local");
    JsFuture::from(to.set_remote_description(&init))
        .await
        .expect("set as remote");
}

/// Audio packets the receiver got so far.
async fn audio_packets(call: &Call) -> f64 {
    let snapshot = stats_of(&call.receiver)
        .await
        .expect("the receiver's stats");
    snapshot
        .inbound
        .iter()
        .filter(|s| s.kind == "audio")
        .map(|s| s.packets)
        .sum()
}

#[wasm_bindgen_test]
async fn encrypted_frames_decode_with_the_key_and_go_on_after_a_new_one() {
    assert!(FrameCrypto::supported(), "no RTCRtpScriptTransform");
    let call = call(&KEY_A, &KEY_A).await;
    let decoded = wait_for_decoded(
        &call.receiver,
        10.0,
        MEDIA_TIMEOUT_MS,
        "frames with the same key",
    )
    .await;
    // The workers did the work: every frame went through them.
    let counted = wait_until("the workers' reports", MEDIA_TIMEOUT_MS, || {
        let (sent, got) = (call.sending.counts(), call.receiving.counts());
        (sent.encrypted > 0 && got.decrypted > 0).then_some((sent, got))
    })
    .await;
    assert_eq!(counted.1.failed, 0, "{counted:?}");
    assert!(
        audio_packets(&call).await > 0.0,
        "the microphone's packets arrive"
    );
    // A new key: the receiver learns it first, then the sender switches (its import is
    // awaited before the switch applies), and the old key is forgotten once the frames
    // sealed with it are through. The picture goes on, and no frame fails.
    call.receiving.set_key(1, &KEY_C).expect("a 256-bit key");
    call.sending.set_key(1, &KEY_C).expect("a 256-bit key");
    call.sending.send_with(1).expect("switch");
    gloo_timers::future::TimeoutFuture::new(1_000).await;
    call.receiving.forget_key(0).expect("forget the old key");
    gloo_timers::future::TimeoutFuture::new(200).await;
    let since = video_frames_decoded(&call.receiver).await;
    let failed = wait_until("a report after the switch", MEDIA_TIMEOUT_MS, || {
        let got = call.receiving.counts();
        (got.decrypted > counted.1.decrypted).then_some(got.failed)
    })
    .await;
    wait_for_decoded(
        &call.receiver,
        since.max(decoded) + 10.0,
        MEDIA_TIMEOUT_MS,
        "frames after the new key",
    )
    .await;
    // The worker reports at most once a second: wait for one more before comparing.
    gloo_timers::future::TimeoutFuture::new(1_100).await;
    assert_eq!(
        call.receiving.counts().failed,
        failed,
        "frames failed after the switch to the new key"
    );
}

#[wasm_bindgen_test]
async fn frames_encrypted_with_another_key_never_reach_the_decoder() {
    let call = call(&KEY_A, &KEY_B).await;
    // The connection is up and frames arrive: the receiver's worker counts them failed.
    let counted = wait_until("failed frames", MEDIA_TIMEOUT_MS, || {
        let got = call.receiving.counts();
        (got.failed > 20).then_some(got)
    })
    .await;
    assert_eq!(counted.decrypted, 0, "{counted:?}");
    assert_eq!(
        video_frames_decoded(&call.receiver).await,
        0.0,
        "no frame decoded without the key"
    );
}

#[wasm_bindgen_test]
fn a_key_of_another_length_is_refused() {
    let crypto = FrameCrypto::start().expect("encoded transforms");
    assert_eq!(
        crypto.set_key(0, &[1; 20]),
        Err(meshmeet::rtc::FrameCryptoError::KeyLength(20))
    );
}

/// `hashlib.pbkdf2_hmac("sha256", b"correct horse battery",
/// b"meshmeet frame key\0hearing", 200000, 32)`.
const HEARING_KEY: &str = "fd280ba9015c819bcba6a41c326c8fccc03939c33ccb804d7c2b253a485718b5";
/// The first 8 bytes of `sha256(b"meshmeet safety code\0" + HEARING_KEY)`, as 4 groups.
const HEARING_CODE: &str = "00040 23028 04982 59262";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[wasm_bindgen_test]
async fn a_passphrase_gives_the_same_key_in_every_browser_and_another_in_another_room() {
    let hearing = RoomName("hearing".into());
    let key = key_from_passphrase("correct horse battery", &hearing)
        .await
        .expect("PBKDF2");
    assert_eq!(hex(&key), HEARING_KEY);
    let elsewhere = key_from_passphrase("correct horse battery", &RoomName("standup".into()))
        .await
        .expect("PBKDF2");
    assert_ne!(elsewhere, key);
    let other = key_from_passphrase("correct horse battery!", &hearing)
        .await
        .expect("PBKDF2");
    assert_ne!(other, key);
    FrameCrypto::start()
        .expect("encoded transforms")
        .set_key(0, &key)
        .expect("a frame key");
}

#[wasm_bindgen_test]
async fn the_safety_code_is_the_key_s_in_every_browser_and_changes_with_it() {
    let key: Vec<u8> = (0..HEARING_KEY.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&HEARING_KEY[i..i + 2], 16).expect("hex"))
        .collect();
    assert_eq!(safety_code(&key).await.expect("SHA-256"), HEARING_CODE);
    let mut changed = key.clone();
    changed[31] ^= 1;
    assert_ne!(safety_code(&changed).await.expect("SHA-256"), HEARING_CODE);
}

/// The first payload type of the offer's video section, and its codec.
async fn first_video_codec(pc: &RtcPeerConnection) -> String {
    let offer = JsFuture::from(pc.create_offer()).await.expect("an offer");
    let sdp = js_sys::Reflect::get(&offer, &"sdp".into())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    let m_line = sdp
        .lines()
        .find(|l| l.starts_with("m=video"))
        .expect("a video section");
    let first_pt = m_line.split(' ').nth(3).expect("a payload type");
    sdp.lines()
        .find_map(|l| l.strip_prefix(&format!("a=rtpmap:{first_pt} ")))
        .map(|codec| codec.split('/').next().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn an_encrypted_video_transceiver_offers_vp8_first_even_after_h264_was_preferred() {
    let pc = RtcPeerConnection::new().expect("a peer connection");
    let transceiver = pc.add_transceiver_with_str("video");
    // Another codec first, as Safari orders them.
    let codecs: js_sys::Array = js_sys::Reflect::get(
        &js_sys::Reflect::get(&js_sys::global(), &"RTCRtpReceiver".into()).expect("class"),
        &"getCapabilities".into(),
    )
    .ok()
    .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    .and_then(|f| {
        f.call1(&js_sys::global(), &"video".into())
            .ok()
            .and_then(|caps| js_sys::Reflect::get(&caps, &"codecs".into()).ok())
    })
    .and_then(|c| c.dyn_into().ok())
    .expect("video capabilities");
    let (vp8, others): (Vec<_>, Vec<_>) = codecs.iter().partition(|c| {
        js_sys::Reflect::get(c, &"mimeType".into())
            .ok()
            .and_then(|m| m.as_string())
            .is_some_and(|m| m.eq_ignore_ascii_case("video/VP8"))
    });
    let others_first: js_sys::Array = others.into_iter().chain(vp8).collect();
    let set: js_sys::Function = js_sys::Reflect::get(&transceiver, &"setCodecPreferences".into())
        .expect("setCodecPreferences")
        .dyn_into()
        .expect("a function");
    set.call1(&transceiver, &others_first)
        .expect("preferences set");
    assert_ne!(first_video_codec(&pc).await, "VP8");
    prefer_vp8(&transceiver);
    assert_eq!(first_video_codec(&pc).await, "VP8");
    pc.close();
}
