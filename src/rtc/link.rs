//! One `RTCPeerConnection` to one remote participant.
//!
//! Every operation that touches the signalling state runs in one queue per link (local
//! negotiation, remote descriptions and candidates, in arrival order), so two async steps
//! never interleave. Together with the relay's in-order delivery this keeps the
//! perfect-negotiation bookkeeping simple: no `makingOffer` flag is needed because an
//! incoming offer can only be looked at between two of our own steps.

use super::channel::{ChannelEvent, OwnedChannel};
use super::description::{create_and_set_local, set_local, set_remote};
use super::negotiation::{offer_decision, OfferDecision};
use super::sender::{replace_track_later, set_encoding};
use super::{stream_of, Channel, ChannelData, DataSender, SendParams};
use super::{ConnectionStatus, LinkConfig, LocalTracks, RtcError, SharedFrameCrypto, TrackKind};
use crate::js::{get_string, JsError};
use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use meshmeet_protocol::Signal;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Event, MediaStream, MediaStreamTrack, RtcIceCandidateInit, RtcIceGatheringState,
    RtcPeerConnection, RtcPeerConnectionIceErrorEvent, RtcPeerConnectionIceEvent,
    RtcPeerConnectionState, RtcRtpTransceiver, RtcRtpTransceiverDirection, RtcRtpTransceiverInit,
    RtcSdpType, RtcSignalingState, RtcTrackEvent,
};

/// What a link tells its owner.
#[derive(Clone, Debug)]
pub enum PeerEvent {
    /// A payload to send to the remote peer through the relay.
    Signal(Signal),
    /// The remote camera and microphone, as a new stream object whenever a track is added.
    RemoteStream(MediaStream),
    /// The remote screen-share video (shown only while the peer says it shares).
    RemoteScreen(MediaStream),
    /// The connection state changed.
    Status(ConnectionStatus),
    /// A data channel opened: messages can be sent on it now.
    ChannelOpen(Channel),
    /// A message arrived on a data channel.
    Data(Channel, ChannelData),
    /// Something failed (already logged); the link goes on.
    Error(RtcError),
    /// A STUN or TURN server answered with an error while gathering candidates
    /// (`icecandidateerror`; 401 means the TURN credentials were refused).
    IceServerError(u16),
    /// Candidate gathering finished; how many relayed (TURN) candidates it found.
    GatheringDone {
        /// Local candidates of type `relay` in this gathering.
        relay_candidates: usize,
    },
}

/// How long a connection may stay `disconnected` before its ICE is restarted.
const DISCONNECTED_GRACE_MS: u32 = 3_000;

/// The `RTCPeerConnection` property of the `icecandidateerror` handler.
const ON_CANDIDATE_ERROR: &str = "onicecandidateerror";

/// A JavaScript event handler kept alive as long as the link.
type EventHandler = Closure<dyn FnMut(Event)>;

enum Job {
    Negotiate,
    Remote(Signal),
    Track(MediaStreamTrack, RtcRtpTransceiver),
    Close,
}

/// The connection to one remote participant. Dropping it closes the connection.
pub struct PeerLink {
    inner: Rc<Inner>,
    jobs: UnboundedSender<Job>,
}

struct Inner {
    pc: RtcPeerConnection,
    polite: bool,
    local: RefCell<LocalTracks>,
    /// The audio, camera and screen transceivers, once created (initiator) or claimed
    /// (answerer), indexed by [`TrackKind::index`].
    transceivers: RefCell<[Option<RtcRtpTransceiver>; 3]>,
    remote_tracks: RefCell<Vec<MediaStreamTrack>>,
    /// Set while an offer we ignored (impolite side of a glare) is outstanding, so the
    /// candidates that belong to it fail quietly.
    ignore_offer: Cell<bool>,
    on_event: Rc<dyn Fn(PeerEvent)>,
    handlers: RefCell<Vec<EventHandler>>,
    /// Chat and file channels, indexed by `Channel::index`.
    channels: RefCell<[Option<OwnedChannel>; 2]>,
    /// Encoder settings for camera and screen, applied after every negotiation too.
    video_params: Cell<(SendParams, SendParams)>,
    /// Relayed candidates found by the current gathering (shared with two event handlers).
    relay_candidates: Rc<Cell<usize>>,
    /// Frame encryption of every transceiver, in an end-to-end encrypted meeting.
    frames: Option<SharedFrameCrypto>,
}

impl PeerLink {
    /// Opens a connection to a remote peer.
    ///
    /// The `initiator` (the participant who joined later) creates the audio and video
    /// transceivers at once, which makes the browser fire `negotiationneeded` and send the
    /// offer; the other side attaches its tracks to the transceivers the offer creates, so
    /// one offer/answer round trip carries media both ways.
    pub fn new(
        config: &LinkConfig,
        polite: bool,
        initiator: bool,
        local: LocalTracks,
        on_event: Rc<dyn Fn(PeerEvent)>,
    ) -> Result<Self, RtcError> {
        let pc = config.new_connection()?;
        let (jobs, rx) = unbounded();
        let inner = Rc::new(Inner {
            pc,
            polite,
            local: RefCell::new(local),
            transceivers: RefCell::new([None, None, None]),
            remote_tracks: RefCell::new(Vec::new()),
            ignore_offer: Cell::new(false),
            on_event,
            handlers: RefCell::new(Vec::new()),
            channels: RefCell::new([None, None]),
            video_params: Cell::new((
                SendParams::camera(super::DEFAULT_VIDEO_BUDGET_BPS / 4),
                SendParams::screen(super::DEFAULT_VIDEO_BUDGET_BPS / 2),
            )),
            relay_candidates: Rc::new(Cell::new(0)),
            frames: config.frames.clone(),
        });
        inner.install_handlers(&jobs);
        if initiator {
            inner.create_transceivers();
            inner.open_channels();
        }
        spawn_local(run_jobs(inner.clone(), rx));
        Ok(PeerLink { inner, jobs })
    }

    /// Handles a payload the remote peer sent through the relay.
    pub fn handle_signal(&self, signal: Signal) {
        let _ = self.jobs.unbounded_send(Job::Remote(signal));
    }

    /// Sends `track` (or nothing) as this link's audio or video, without renegotiating.
    pub fn replace_track(&self, kind: TrackKind, track: Option<MediaStreamTrack>) {
        self.inner.local.borrow_mut().set(kind, track.clone());
        let transceiver = self.inner.transceivers.borrow()[kind.index()].clone();
        if let Some(transceiver) = transceiver {
            let on_event = self.inner.on_event.clone();
            replace_track_later(transceiver, track, move |err| {
                on_event(PeerEvent::Error(err))
            });
        }
    }

    /// A sender for a data channel (open or still opening).
    pub fn data(&self, channel: Channel) -> Option<DataSender> {
        self.inner.channels.borrow()[channel.index()]
            .as_ref()
            .map(OwnedChannel::sender)
    }

    /// Sets the encoder of the camera and screen video sent to this peer.
    pub fn set_video_params(&self, camera: SendParams, screen: SendParams) {
        if self.inner.video_params.get() == (camera, screen) {
            return;
        }
        self.inner.video_params.set((camera, screen));
        let inner = self.inner.clone();
        spawn_local(async move { inner.apply_video_params().await });
    }

    /// Restarts ICE (new candidates, same media): the link does this by itself when the
    /// connection fails or stays disconnected; the next offer carries the restart, and the
    /// perfect-negotiation rules keep it safe if the other side restarts at the same time.
    pub fn restart_ice(&self) {
        restart_ice(&self.inner.pc);
    }

    /// The underlying connection, for statistics.
    pub fn connection(&self) -> RtcPeerConnection {
        self.inner.pc.clone()
    }

    /// Uses new ICE servers (fresh TURN credentials) from the next gathering on, such as
    /// the next ICE restart.
    pub fn set_config(&self, config: &LinkConfig) -> Result<(), RtcError> {
        let rtc_config = config.to_rtc().map_err(RtcError::Create)?;
        self.inner
            .pc
            .set_configuration_with_configuration(&rtc_config)
            .map_err(|e| RtcError::Create(JsError::from(e)))
    }
}

impl Drop for PeerLink {
    fn drop(&mut self) {
        let _ = self.jobs.unbounded_send(Job::Close);
        self.inner.close();
    }
}

async fn run_jobs(inner: Rc<Inner>, mut rx: UnboundedReceiver<Job>) {
    while let Some(job) = rx.next().await {
        let result = match job {
            Job::Close => break,
            Job::Negotiate => inner.negotiate().await,
            Job::Remote(signal) => {
                let description = !matches!(signal, Signal::Candidate { .. });
                let result = inner.on_remote(signal).await;
                if description && result.is_ok() {
                    // The encoder settings need the negotiated sender. They are applied beside
                    // the queue, so the candidates queued behind this description (which ICE
                    // is waiting for) are not held up by a `setParameters` round trip.
                    let inner = inner.clone();
                    spawn_local(async move { inner.apply_video_params().await });
                }
                result
            }
            Job::Track(track, transceiver) => {
                inner.on_track(track, &transceiver);
                Ok(())
            }
        };
        if let Err(err) = result {
            web_sys::console::warn_1(&JsValue::from_str(&format!("peer link: {err}")));
            (inner.on_event)(PeerEvent::Error(err));
        }
    }
}

impl Inner {
    /// Installs the connection's event handlers, one concern at a time; they live as long
    /// as the link and are removed by [`Inner::close`].
    fn install_handlers(&self, jobs: &UnboundedSender<Job>) {
        self.handle_negotiation_needed(jobs);
        self.handle_local_candidates();
        self.handle_ice_server_errors();
        self.handle_gathering_state();
        self.handle_remote_tracks(jobs);
        self.handle_connection_state();
    }

    fn keep(&self, handler: EventHandler) {
        self.handlers.borrow_mut().push(handler);
    }

    /// `negotiationneeded` queues a negotiation behind the link's other steps.
    fn handle_negotiation_needed(&self, jobs: &UnboundedSender<Job>) {
        let negotiate = jobs.clone();
        let on_negotiation = Closure::<dyn FnMut(Event)>::new(move |_| {
            let _ = negotiate.unbounded_send(Job::Negotiate);
        });
        self.pc
            .set_onnegotiationneeded(Some(on_negotiation.as_ref().unchecked_ref()));
        self.keep(on_negotiation);
    }

    /// Each local candidate goes to the remote peer; relayed ones are counted for
    /// [`PeerEvent::GatheringDone`].
    fn handle_local_candidates(&self) {
        let on_event = self.on_event.clone();
        let relay_candidates = self.relay_candidates.clone();
        let on_candidate = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let event: RtcPeerConnectionIceEvent = event.unchecked_into();
            if let Some(candidate) = event.candidate() {
                if candidate.candidate().contains(" typ relay") {
                    relay_candidates.set(relay_candidates.get() + 1);
                }
                on_event(PeerEvent::Signal(Signal::Candidate {
                    candidate: candidate.candidate(),
                    sdp_mid: candidate.sdp_mid(),
                    sdp_m_line_index: candidate.sdp_m_line_index(),
                    // (web-sys has no getter for this one.)
                    username_fragment: get_string(&candidate, "usernameFragment"),
                }));
            }
        });
        self.pc
            .set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        self.keep(on_candidate);
    }

    /// A STUN or TURN server's error (what a relay-only call needs to explain a failure:
    /// 401 means the TURN credentials were refused).
    fn handle_ice_server_errors(&self) {
        let on_event = self.on_event.clone();
        let on_candidate_error = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let event: RtcPeerConnectionIceErrorEvent = event.unchecked_into();
            // STUN/TURN error codes are 300-799 (701: the server did not answer).
            let code = event.error_code();
            web_sys::console::warn_1(&JsValue::from_str(&format!(
                "ICE server error {code}: {} ({})",
                event.error_text(),
                event.url()
            )));
            on_event(PeerEvent::IceServerError(code));
        });
        // (web-sys has no setter for this handler.)
        let _ = js_sys::Reflect::set(
            &self.pc,
            &JsValue::from_str(ON_CANDIDATE_ERROR),
            on_candidate_error.as_ref(),
        );
        self.keep(on_candidate_error);
    }

    /// A gathering starts the count of relayed candidates afresh and reports it when done.
    fn handle_gathering_state(&self) {
        let (on_event, pc) = (self.on_event.clone(), self.pc.clone());
        let relay_candidates = self.relay_candidates.clone();
        let on_gathering =
            Closure::<dyn FnMut(Event)>::new(move |_| match pc.ice_gathering_state() {
                RtcIceGatheringState::Gathering => relay_candidates.set(0),
                RtcIceGatheringState::Complete => on_event(PeerEvent::GatheringDone {
                    relay_candidates: relay_candidates.get(),
                }),
                _ => {}
            });
        self.pc
            .set_onicegatheringstatechange(Some(on_gathering.as_ref().unchecked_ref()));
        self.keep(on_gathering);
    }

    /// Remote tracks are queued behind the link's other steps (the transceivers they
    /// arrive on may still be being claimed).
    fn handle_remote_tracks(&self, jobs: &UnboundedSender<Job>) {
        let tracks = jobs.clone();
        let on_track = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let event: RtcTrackEvent = event.unchecked_into();
            let _ = tracks.unbounded_send(Job::Track(event.track(), event.transceiver()));
        });
        self.pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        self.keep(on_track);
    }

    /// Reports the connection's state, and restarts ICE when the path fails or stays lost.
    fn handle_connection_state(&self) {
        let (on_event, pc) = (self.on_event.clone(), self.pc.clone());
        let on_state = Closure::<dyn FnMut(Event)>::new(move |_| {
            let status = ConnectionStatus::from_connection_state(pc.connection_state())
                .unwrap_or_else(|| ConnectionStatus::from_ice_state(pc.ice_connection_state()));
            match status {
                // A failed path is restarted at once; a lost one after a grace period, as
                // the browser often recovers by itself from a short blip.
                ConnectionStatus::Failed => restart_ice(&pc),
                ConnectionStatus::Reconnecting => {
                    let pc = pc.clone();
                    spawn_local(async move {
                        gloo_timers::future::TimeoutFuture::new(DISCONNECTED_GRACE_MS).await;
                        if pc.connection_state() == RtcPeerConnectionState::Disconnected {
                            restart_ice(&pc);
                        }
                    });
                }
                _ => {}
            }
            on_event(PeerEvent::Status(status));
        });
        self.pc
            .set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        self.keep(on_state);
    }

    fn create_transceivers(&self) {
        let local = self.local.borrow();
        let mut slots = self.transceivers.borrow_mut();
        for kind in TrackKind::ALL {
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Sendrecv);
            let transceiver = self
                .pc
                .add_transceiver_with_str_and_init(kind.media(), &init);
            if let Some(track) = local.get(kind) {
                // Before the first negotiation this completes at once; nothing to wait for.
                let _ = transceiver.sender().replace_track(Some(track));
            }
            self.protect(&transceiver, kind);
            slots[kind.index()] = Some(transceiver);
        }
    }

    /// Creates the chat and file channels (the initiator before its first offer, so the
    /// offer carries the data section; the answerer once that offer is applied, so creating
    /// them does not ask for a negotiation of its own).
    fn open_channels(&self) {
        let mut channels = self.channels.borrow_mut();
        for which in Channel::ALL {
            if channels[which.index()].is_some() {
                continue;
            }
            let on_event = self.on_event.clone();
            let forward: Rc<dyn Fn(ChannelEvent)> = Rc::new(move |event| match event {
                ChannelEvent::Open(channel) => on_event(PeerEvent::ChannelOpen(channel)),
                ChannelEvent::Data(channel, data) => on_event(PeerEvent::Data(channel, data)),
            });
            channels[which.index()] = Some(OwnedChannel::open(&self.pc, which, forward));
        }
    }

    /// On the answering side: take the transceivers the remote offer created, mapped by kind
    /// in m-line order ([`TrackKind::for_offered_m_line`]: first audio, first video, second
    /// video, in whatever order they come), send our tracks on them, and make them two-way.
    /// Any further m-line is answered `inactive`, so the peer sends nothing on it.
    async fn claim_transceivers(&self) -> Result<(), RtcError> {
        let all = self.pc.get_transceivers();
        // The tracks are swapped in together and awaited together: the answer does not
        // depend on them, so there is no reason to wait for one before starting the next.
        let mut replacing = Vec::new();
        for value in all.iter() {
            let Ok(transceiver) = value.dyn_into::<RtcRtpTransceiver>() else {
                continue;
            };
            // Only live transceivers the remote description created (they have a mid).
            if transceiver.direction() == RtcRtpTransceiverDirection::Stopped
                || transceiver.mid().is_none()
            {
                continue;
            }
            let media = transceiver.receiver().track().kind();
            let kind = {
                let claimed = self.transceivers.borrow();
                if claimed.iter().flatten().any(|t| t == &transceiver) {
                    continue;
                }
                TrackKind::for_offered_m_line(&media, |k| claimed[k.index()].is_some())
            };
            let Some(kind) = kind else {
                // Left `recvonly`, the peer would send media nobody shows, and its track
                // would take the place of the camera or microphone of the same kind.
                transceiver.set_direction(RtcRtpTransceiverDirection::Inactive);
                continue;
            };
            transceiver.set_direction(RtcRtpTransceiverDirection::Sendrecv);
            self.protect(&transceiver, kind);
            let track = self.local.borrow().get(kind).cloned();
            replacing.push(transceiver.sender().replace_track(track.as_ref()));
            self.transceivers.borrow_mut()[kind.index()] = Some(transceiver);
        }
        for promise in replacing {
            JsFuture::from(promise)
                .await
                .map_err(|e| RtcError::ReplaceTrack(e.into()))?;
        }
        Ok(())
    }

    /// After rolling back our first offer, our own transceivers are associated with nothing;
    /// the remote offer brings its own, which the answer can use both ways. Dropping ours
    /// avoids a second round trip just to negotiate duplicates.
    fn drop_unnegotiated_transceivers(&self) {
        for slot in self.transceivers.borrow_mut().iter_mut() {
            if slot.as_ref().is_some_and(|t| t.mid().is_none()) {
                if let Some(transceiver) = slot.take() {
                    transceiver.stop();
                }
            }
        }
    }

    /// Applies the camera and screen encoder settings (a sender has encodings to change only
    /// once a negotiation set it up). Failures are logged: the browser's defaults are a safe
    /// fallback.
    async fn apply_video_params(&self) {
        let (camera, screen) = self.video_params.get();
        for (kind, params) in [(TrackKind::Video, camera), (TrackKind::Screen, screen)] {
            let Some(transceiver) = self.transceivers.borrow()[kind.index()].clone() else {
                continue;
            };
            if let Err(err) = set_encoding(&transceiver, &[params]).await {
                web_sys::console::warn_1(&JsValue::from_str(&format!(
                    "encoder settings for {kind:?}: {err}"
                )));
            }
        }
    }

    async fn negotiate(&self) -> Result<(), RtcError> {
        // A negotiation that is needed while another is under way fires again once stable.
        if self.pc.signaling_state() != RtcSignalingState::Stable {
            return Ok(());
        }
        create_and_set_local(&self.pc, true).await?;
        self.send_local_description();
        Ok(())
    }

    async fn on_remote(&self, signal: Signal) -> Result<(), RtcError> {
        match signal {
            Signal::Offer { sdp } => {
                let stable = self.pc.signaling_state() == RtcSignalingState::Stable;
                match offer_decision(self.polite, stable) {
                    OfferDecision::Ignore => {
                        self.ignore_offer.set(true);
                        return Ok(());
                    }
                    OfferDecision::RollbackAndAccept => {
                        set_local(&self.pc, RtcSdpType::Rollback, "").await?;
                        self.drop_unnegotiated_transceivers();
                    }
                    OfferDecision::Accept => {}
                }
                self.ignore_offer.set(false);
                set_remote(&self.pc, RtcSdpType::Offer, &sdp).await?;
                self.claim_transceivers().await?;
                self.open_channels();
                create_and_set_local(&self.pc, false).await?;
                self.send_local_description();
            }
            // The meeting replaces the whole link on a reset, and keeps frame keys to itself:
            // neither reaches a link.
            Signal::Reset | Signal::FrameKey { .. } => {}
            Signal::Answer { sdp } => {
                // An answer to an offer we no longer have (rolled back) is stale.
                if self.pc.signaling_state() == RtcSignalingState::HaveLocalOffer {
                    set_remote(&self.pc, RtcSdpType::Answer, &sdp).await?;
                }
            }
            Signal::Candidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
                username_fragment,
            } => {
                if candidate.is_empty() {
                    return Ok(());
                }
                let init = RtcIceCandidateInit::new(&candidate);
                init.set_sdp_mid(sdp_mid.as_deref());
                init.set_sdp_m_line_index(sdp_m_line_index);
                if let Some(ufrag) = username_fragment {
                    let _ = js_sys::Reflect::set(
                        &init,
                        &JsValue::from_str("usernameFragment"),
                        &JsValue::from_str(&ufrag),
                    );
                }
                let added = JsFuture::from(
                    self.pc
                        .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
                )
                .await;
                if let Err(err) = added {
                    if !self.ignore_offer.get() {
                        return Err(RtcError::Candidate(err.into()));
                    }
                }
            }
        }
        Ok(())
    }

    /// Encrypts what `transceiver` sends and decrypts what it receives, in an encrypted
    /// meeting. A failure is reported: the link would carry media nobody could decode.
    fn protect(&self, transceiver: &RtcRtpTransceiver, kind: TrackKind) {
        let Some(frames) = &self.frames else {
            return;
        };
        if let Err(err) = frames.0.protect_transceiver(transceiver, kind.media()) {
            (self.on_event)(PeerEvent::Error(err.into()));
        }
    }

    fn on_track(&self, track: MediaStreamTrack, transceiver: &RtcRtpTransceiver) {
        let kind = {
            let slots = self.transceivers.borrow();
            TrackKind::ALL
                .into_iter()
                .find(|k| slots[k.index()].as_ref() == Some(transceiver))
        };
        let Some(kind) = kind else {
            // An m-line beyond the layout (answered inactive): nothing of it is shown.
            return;
        };
        if kind == TrackKind::Screen {
            if let Some(stream) = stream_of(std::slice::from_ref(&track)) {
                (self.on_event)(PeerEvent::RemoteScreen(stream));
            }
            return;
        }
        let mut tracks = self.remote_tracks.borrow_mut();
        if tracks.iter().any(|t| t.id() == track.id()) {
            return;
        }
        // One track per kind: a new one of the same kind replaces the old.
        tracks.retain(|t| t.kind() != track.kind());
        tracks.push(track);
        if let Some(stream) = stream_of(&tracks) {
            (self.on_event)(PeerEvent::RemoteStream(stream));
        }
    }

    fn send_local_description(&self) {
        let Some(description) = self.pc.local_description() else {
            return;
        };
        let sdp = description.sdp();
        let signal = match description.type_() {
            RtcSdpType::Offer => Signal::Offer { sdp },
            RtcSdpType::Answer => Signal::Answer { sdp },
            _ => return,
        };
        (self.on_event)(PeerEvent::Signal(signal));
    }

    fn close(&self) {
        for channel in self.channels.borrow_mut().iter_mut() {
            channel.take();
        }
        self.pc.set_onnegotiationneeded(None);
        self.pc.set_onicecandidate(None);
        let _ = js_sys::Reflect::set(
            &self.pc,
            &JsValue::from_str(ON_CANDIDATE_ERROR),
            &JsValue::NULL,
        );
        self.pc.set_onicegatheringstatechange(None);
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.close();
        for track in self.remote_tracks.borrow_mut().drain(..) {
            track.stop();
        }
    }
}

/// `RTCPeerConnection.restartIce()`, where the browser has it (all current ones do).
fn restart_ice(pc: &RtcPeerConnection) {
    let method = js_sys::Reflect::get(pc, &JsValue::from_str("restartIce"))
        .ok()
        .and_then(|m| m.dyn_into::<js_sys::Function>().ok());
    if let Some(method) = method {
        if let Err(err) = method.call0(pc) {
            web_sys::console::warn_1(&err);
        }
    }
}
