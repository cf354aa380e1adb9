//! One of a participant's two connections to the SFU (PROTOCOL.md, "Large rooms: the SFU"):
//! the **publisher**, which sends our microphone, camera and screen once, on three send-only
//! transceivers in the media layout's order; or the **subscriber**, which receives everyone
//! else's media on one connection that the media server offers. Yew-free: the meeting carries
//! the descriptions and candidates through the relay.
//!
//! As in [`super::PeerLink`], every step that touches the signalling state runs in one queue
//! per connection, in arrival order.

use super::description::{create_and_set_local, set_remote};
use super::frame_crypto::prefer_vp8;
use super::sender::{replace_track_later, set_encoding};
use super::{
    simulcast_layers, ConnectionStatus, LinkConfig, LocalTracks, RtcError, SendParams,
    SharedFrameCrypto, TrackKind, SIMULCAST_LAYERS,
};
use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use meshmeet_protocol::SfuLeg;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    Event, MediaStreamTrack, RtcPeerConnection, RtcPeerConnectionIceEvent,
    RtcRtpEncodingParameters, RtcRtpReceiver, RtcRtpTransceiver, RtcRtpTransceiverDirection,
    RtcRtpTransceiverInit, RtcSdpType,
};

/// What an SFU connection tells its owner.
#[derive(Clone, Debug)]
pub enum SfuLinkEvent {
    /// The publisher's offer, for the relay (`sfu_publish`).
    Offer(String),
    /// The subscriber's answer to the media server's offer (`sfu_subscribe_answer`).
    Answer(String),
    /// A local ICE candidate to trickle (`candidate` empty: gathering is complete).
    Candidate {
        /// The `candidate:` line.
        candidate: String,
        /// Its media section id.
        sdp_mid: Option<String>,
        /// Its media section index.
        sdp_m_line_index: Option<u16>,
    },
    /// The connection's state changed.
    Status(ConnectionStatus),
    /// A step failed (logged already); the owner decides whether to start over.
    Error(RtcError),
}

/// A JavaScript event handler kept alive as long as the connection.
type EventHandler = Closure<dyn FnMut(Event)>;

enum Job {
    /// Create and send the publisher's offer.
    Offer,
    /// Apply the media server's description: its answer (publisher) or its offer, which is
    /// answered (subscriber).
    Remote(RtcSdpType, String),
    /// Apply the camera and screen encoder settings.
    VideoParams,
}

/// A connection to the SFU. Dropping it closes the connection.
pub struct SfuLink {
    inner: Rc<Inner>,
    jobs: UnboundedSender<Job>,
}

struct Inner {
    pc: RtcPeerConnection,
    leg: SfuLeg,
    /// The publisher's audio, camera and screen transceivers, by [`TrackKind::index`].
    transceivers: Vec<RtcRtpTransceiver>,
    /// Camera and screen encoder settings, once the meeting set them.
    video_params: RefCell<Option<(SendParams, SendParams)>>,
    on_event: Rc<dyn Fn(SfuLinkEvent)>,
    handlers: RefCell<Vec<EventHandler>>,
    /// Frame encryption of everything sent and received, in an end-to-end encrypted meeting.
    frames: Option<SharedFrameCrypto>,
}

/// The camera's `sendEncodings`: one per simulcast layer, so the media server can forward
/// each subscriber the size its tile needs.
fn simulcast_encodings() -> js_sys::Array {
    SIMULCAST_LAYERS
        .iter()
        .map(|(rid, scale)| {
            let encoding = RtcRtpEncodingParameters::new();
            encoding.set_rid(rid);
            encoding.set_scale_resolution_down_by(*scale as f32);
            JsValue::from(encoding)
        })
        .collect()
}

impl SfuLink {
    /// Opens the publisher: `local`'s tracks on three send-only transceivers (audio, camera,
    /// screen; an absent track sends nothing until [`SfuLink::replace_track`]), and sends its
    /// offer as [`SfuLinkEvent::Offer`].
    pub fn publisher(
        config: &LinkConfig,
        local: &LocalTracks,
        on_event: Rc<dyn Fn(SfuLinkEvent)>,
    ) -> Result<Self, RtcError> {
        let pc = config.new_connection()?;
        let transceivers = TrackKind::ALL
            .into_iter()
            .map(|kind| {
                let init = RtcRtpTransceiverInit::new();
                init.set_direction(RtcRtpTransceiverDirection::Sendonly);
                if kind == TrackKind::Video {
                    init.set_send_encodings(&simulcast_encodings());
                }
                let transceiver = pc.add_transceiver_with_str_and_init(kind.media(), &init);
                if let Some(track) = local.get(kind) {
                    // Before the first negotiation this completes at once.
                    let _ = transceiver.sender().replace_track(Some(track));
                }
                transceiver
            })
            .collect::<Vec<_>>();
        if let Some(frames) = &config.frames {
            for (kind, transceiver) in TrackKind::ALL.into_iter().zip(&transceivers) {
                if kind.media() == "video" {
                    prefer_vp8(transceiver);
                }
                frames
                    .0
                    .protect_sender(&transceiver.sender(), kind.media())?;
            }
        }
        let link = Self::start(pc, SfuLeg::Publish, transceivers, on_event, &config.frames);
        let _ = link.jobs.unbounded_send(Job::Offer);
        Ok(link)
    }

    /// Opens the subscriber; it waits for the media server's offer ([`SfuLink::remote`]).
    pub fn subscriber(
        config: &LinkConfig,
        on_event: Rc<dyn Fn(SfuLinkEvent)>,
    ) -> Result<Self, RtcError> {
        let pc = config.new_connection()?;
        Ok(Self::start(
            pc,
            SfuLeg::Subscribe,
            Vec::new(),
            on_event,
            &config.frames,
        ))
    }

    fn start(
        pc: RtcPeerConnection,
        leg: SfuLeg,
        transceivers: Vec<RtcRtpTransceiver>,
        on_event: Rc<dyn Fn(SfuLinkEvent)>,
        frames: &Option<SharedFrameCrypto>,
    ) -> Self {
        let (jobs, rx) = unbounded();
        let inner = Rc::new(Inner {
            pc,
            leg,
            transceivers,
            video_params: RefCell::new(None),
            on_event,
            handlers: RefCell::new(Vec::new()),
            frames: frames.clone(),
        });
        inner.install_handlers();
        spawn_local(run_jobs(inner.clone(), rx));
        SfuLink { inner, jobs }
    }

    /// The media server's description for this connection: the answer to our offer
    /// (publisher) or an offer to answer (subscriber; every new offer replaces the last).
    pub fn remote(&self, sdp: String) {
        let kind = match self.inner.leg {
            SfuLeg::Publish => RtcSdpType::Answer,
            SfuLeg::Subscribe => RtcSdpType::Offer,
        };
        let _ = self.jobs.unbounded_send(Job::Remote(kind, sdp));
    }

    /// Sends `track` (or nothing) as the publisher's audio, camera or screen, without
    /// renegotiating. Nothing on a subscriber.
    pub fn replace_track(&self, kind: TrackKind, track: Option<MediaStreamTrack>) {
        let Some(transceiver) = self.inner.transceivers.get(kind.index()).cloned() else {
            return;
        };
        let on_event = self.inner.on_event.clone();
        replace_track_later(transceiver, track, move |err| {
            on_event(SfuLinkEvent::Error(err))
        });
    }

    /// Sets the publisher's camera and screen encoders (applied once negotiated).
    pub fn set_video_params(&self, camera: SendParams, screen: SendParams) {
        if *self.inner.video_params.borrow() == Some((camera, screen)) {
            return;
        }
        *self.inner.video_params.borrow_mut() = Some((camera, screen));
        let _ = self.jobs.unbounded_send(Job::VideoParams);
    }

    /// The underlying connection, for statistics.
    pub fn connection(&self) -> RtcPeerConnection {
        self.inner.pc.clone()
    }

    /// The subscriber's received tracks by media section (`a=mid`), as negotiated by the
    /// latest description: read after each [`SfuLinkEvent::Answer`], so a media section the
    /// media server reused for someone else is seen as such.
    pub fn received_tracks(&self) -> Vec<(String, MediaStreamTrack)> {
        self.inner
            .pc
            .get_transceivers()
            .iter()
            .filter_map(|t| t.dyn_into::<RtcRtpTransceiver>().ok())
            .filter(|t| t.direction() != RtcRtpTransceiverDirection::Stopped)
            .filter_map(|t| Some((t.mid()?, t.receiver().track())))
            .collect()
    }
}

impl Drop for SfuLink {
    fn drop(&mut self) {
        self.jobs.close_channel();
        self.inner.close();
    }
}

async fn run_jobs(inner: Rc<Inner>, mut rx: UnboundedReceiver<Job>) {
    while let Some(job) = rx.next().await {
        let result = match job {
            Job::Offer => create_and_set_local(&inner.pc, true)
                .await
                .map(|sdp| (inner.on_event)(SfuLinkEvent::Offer(sdp))),
            Job::Remote(kind, sdp) => inner.on_remote(kind, &sdp).await,
            Job::VideoParams => {
                inner.apply_video_params().await;
                Ok(())
            }
        };
        if let Err(err) = result {
            web_sys::console::warn_1(&JsValue::from_str(&format!("SFU connection: {err}")));
            (inner.on_event)(SfuLinkEvent::Error(err));
        }
    }
}

impl Inner {
    fn install_handlers(&self) {
        let mut handlers = self.handlers.borrow_mut();

        let on_event = self.on_event.clone();
        let on_candidate = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let event: RtcPeerConnectionIceEvent = event.unchecked_into();
            let candidate = event.candidate();
            on_event(SfuLinkEvent::Candidate {
                candidate: candidate
                    .as_ref()
                    .map(|c| c.candidate())
                    .unwrap_or_default(),
                sdp_mid: candidate.as_ref().and_then(|c| c.sdp_mid()),
                sdp_m_line_index: candidate.as_ref().and_then(|c| c.sdp_m_line_index()),
            });
        });
        self.pc
            .set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        handlers.push(on_candidate);

        let (on_event, pc) = (self.on_event.clone(), self.pc.clone());
        let on_state = Closure::<dyn FnMut(Event)>::new(move |_| {
            let status = ConnectionStatus::from_connection_state(pc.connection_state())
                .unwrap_or_else(|| ConnectionStatus::from_ice_state(pc.ice_connection_state()));
            on_event(SfuLinkEvent::Status(status));
        });
        self.pc
            .set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        handlers.push(on_state);
    }

    async fn on_remote(&self, kind: RtcSdpType, sdp: &str) -> Result<(), RtcError> {
        set_remote(&self.pc, kind, sdp).await?;
        match self.leg {
            SfuLeg::Publish => self.apply_video_params().await,
            SfuLeg::Subscribe => {
                self.protect_receivers()?;
                let sdp = create_and_set_local(&self.pc, false).await?;
                (self.on_event)(SfuLinkEvent::Answer(sdp));
            }
        }
        Ok(())
    }

    /// Decrypts what every receiver the media server's offer made receives, before the
    /// answer lets media flow, in an encrypted meeting.
    fn protect_receivers(&self) -> Result<(), RtcError> {
        let Some(frames) = &self.frames else {
            return Ok(());
        };
        for transceiver in self.pc.get_transceivers().iter() {
            let Ok(transceiver) = transceiver.dyn_into::<RtcRtpTransceiver>() else {
                continue;
            };
            let receiver = transceiver.receiver();
            frames
                .0
                .protect_receiver_once(&receiver, &receiver.track().kind())?;
        }
        Ok(())
    }

    /// Applies the encoder settings, once negotiated; failures are logged (the browser's
    /// defaults are a safe fallback).
    async fn apply_video_params(&self) {
        let Some((camera, screen)) = *self.video_params.borrow() else {
            return;
        };
        if self.pc.remote_description().is_none() {
            return;
        }
        let camera = simulcast_layers(camera);
        for (kind, layers) in [
            (TrackKind::Video, &camera[..]),
            (TrackKind::Screen, &[screen]),
        ] {
            let Some(transceiver) = self.transceivers.get(kind.index()) else {
                continue;
            };
            if let Err(err) = set_encoding(transceiver, layers).await {
                web_sys::console::warn_1(&JsValue::from_str(&format!(
                    "SFU encoder settings for {kind:?}: {err}"
                )));
            }
        }
    }

    fn close(&self) {
        self.pc.set_onicecandidate(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.close();
        self.handlers.borrow_mut().clear();
        for receiver in self.pc.get_receivers().iter() {
            if let Ok(receiver) = receiver.dyn_into::<RtcRtpReceiver>() {
                receiver.track().stop();
            }
        }
    }
}
