//! The task that runs a meeting: it owns the relay connection and the peer links, and turns
//! every event into browser calls and reducer actions, one at a time.

use super::files::FileTransfers;
use super::{Command, Input, JoinRequest, RemoteStreams, StreamChange, TICK_MS};
use crate::rtc::{
    derive, is_polite, split_budget, stats_of, BudgetInput, Channel, ChannelData, ConnectionStatus,
    LinkConfig, LocalTracks, PeerEvent, PeerLink, Recovery, RecoveryStep, Snapshot, TrackKind,
};
use crate::signaling::{reconnect_delay_ms, relay_url, Liveness, Signaling, SignalingEvent};
use crate::state::{
    Action, ChatAction, ChatEntry, ChatState, Notice, RelayLink, RoomFailure, RoomState,
    StatsAction, StatsState, Transfers,
};
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use meshmeet_protocol::{
    normalize_chat_text, ClientMsg, ErrorCode, IceTransportPolicy, MediaState, PeerId, PeerMsg,
    ProtocolMsg as _, ServerMsg, SessionToken, Signal, DEFAULT_MAX_CHAT_CHARS,
    DEFAULT_MAX_FILE_BYTES, PROTOCOL_VERSION,
};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use yew::UseReducerDispatcher;

/// The relay is pinged every this many ticks (seconds), so a dead relay is noticed from here
/// too: browsers hide the relay's WebSocket pings from the page.
const PING_EVERY_TICKS: u32 = 4;
/// Microphone level above which we count as speaking (WebRTC's `audioLevel`, 0–1).
const SPEAKING_AUDIO_LEVEL: f64 = 0.05;
/// STUN/TURN error code for refused credentials (RFC 8489, section 14.8).
const TURN_UNAUTHORIZED: u16 = 401;
/// The available-bitrate estimate is rounded to this step before it changes any encoder, so
/// its jitter does not reconfigure them every second.
const ESTIMATE_STEP_BPS: f64 = 100_000.0;

/// Where the meeting's state goes for rendering.
pub(crate) struct Outputs {
    pub(crate) state: UseReducerDispatcher<RoomState>,
    pub(crate) streams: UseReducerDispatcher<RemoteStreams>,
    pub(crate) chat: UseReducerDispatcher<ChatState>,
    pub(crate) transfers: UseReducerDispatcher<Transfers>,
    pub(crate) stats: UseReducerDispatcher<StatsState>,
}

pub(crate) struct Meeting {
    join: JoinRequest,
    signaling: Option<Signaling>,
    self_id: Option<PeerId>,
    config: LinkConfig,
    links: HashMap<PeerId, PeerLink>,
    /// Display names of the others, for chat and transfers.
    names: HashMap<PeerId, String>,
    local: LocalTracks,
    media: MediaState,
    chat_seq: u64,
    /// Longest chat text the relay accepts, in characters (told in its welcome).
    max_chat_chars: usize,
    files: FileTransfers,
    ticks: u32,
    /// The previous statistics snapshot of each connection.
    snapshots: HashMap<PeerId, Snapshot>,
    /// The browser's available-bitrate estimate per connection (rounded).
    available: HashMap<PeerId, f64>,
    /// Peers that asked for no video from us.
    video_unwanted_by: std::collections::HashSet<PeerId>,
    /// Peers told that we want no video from them (see `wants_video_from`).
    video_unwanted_from: std::collections::HashSet<PeerId>,
    /// Peers whose tiles are off screen.
    hidden_tiles: std::collections::HashSet<PeerId>,
    /// The person chose to receive audio only.
    audio_only: bool,
    /// A TURN server refused our credentials (401) during a gathering.
    turn_auth_refused: bool,
    /// The relay-only failure was shown already (once per meeting is enough).
    turn_failure_shown: bool,
    speaking: bool,
    inputs: UnboundedSender<Input>,
    out: Outputs,
    left: bool,
    /// Our resume token, once welcomed.
    session: Option<SessionToken>,
    /// Reconnect attempts since the relay connection was last good.
    reconnect_attempts: u32,
    /// A reconnect is scheduled.
    reconnect_pending: bool,
    /// When the relay last said anything: a connection silent too long is given up (the
    /// network under it dropped without closing it).
    liveness: Liveness,
    /// Each link's failures, to rebuild one that ICE restarts do not bring back.
    recovery: HashMap<PeerId, Recovery>,
    /// Who was last heard speaking (the speaker view shows them).
    speaker: Option<PeerId>,
    /// The level of each peer's sound at its last statistics sample.
    heard: HashMap<PeerId, f64>,
}

fn warn(text: &str) {
    web_sys::console::warn_1(&JsValue::from_str(text));
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

impl Meeting {
    pub(crate) fn new(
        join: JoinRequest,
        local: LocalTracks,
        media: MediaState,
        inputs: UnboundedSender<Input>,
        out: Outputs,
    ) -> Self {
        let audio_only = join.audio_only;
        Meeting {
            join,
            signaling: None,
            self_id: None,
            config: LinkConfig::default(),
            links: HashMap::new(),
            names: HashMap::new(),
            local,
            media,
            chat_seq: 0,
            max_chat_chars: DEFAULT_MAX_CHAT_CHARS as usize,
            files: FileTransfers::new(DEFAULT_MAX_FILE_BYTES, out.transfers.clone()),
            ticks: 0,
            snapshots: HashMap::new(),
            available: HashMap::new(),
            video_unwanted_by: Default::default(),
            video_unwanted_from: Default::default(),
            hidden_tiles: Default::default(),
            audio_only,
            turn_auth_refused: false,
            turn_failure_shown: false,
            speaking: false,
            inputs,
            out,
            left: false,
            session: None,
            reconnect_attempts: 0,
            reconnect_pending: false,
            liveness: Liveness::new(js_sys::Date::now(), TICK_MS),
            recovery: HashMap::new(),
            speaker: None,
            heard: HashMap::new(),
        }
    }

    pub(crate) async fn run(mut self, mut rx: UnboundedReceiver<Input>) {
        self.connect();
        while let Some(input) = rx.next().await {
            match input {
                Input::Relay(event) => self.on_relay(event),
                Input::Peer(id, event) => self.on_peer(id, event),
                Input::Command(command) => self.on_command(command),
                Input::Stats(peer, snapshot) => self.on_stats(peer, snapshot),
                Input::Tick => self.on_tick(),
                Input::Reconnect => {
                    self.reconnect_pending = false;
                    if !self.left {
                        self.connect();
                    }
                }
                Input::Shutdown => break,
            }
        }
        self.leave();
        // Dropping `rx` ends the ticker: its next send fails.
    }

    fn connect(&mut self) {
        let tx = self.inputs.clone();
        let on_event = Rc::new(move |event| {
            let _ = tx.unbounded_send(Input::Relay(event));
        });
        let connected = relay_url()
            .map_err(|e| e.to_string())
            .and_then(|url| Signaling::connect(&url, on_event).map_err(|e| e.to_string()));
        match connected {
            Ok(signaling) => {
                // The new socket gets the whole silence limit to open and answer; counting
                // the old one's silence would give it up before it opened.
                self.liveness.heard(js_sys::Date::now());
                self.signaling = Some(signaling);
            }
            Err(err) => {
                warn(&format!("relay: {err}"));
                self.out
                    .state
                    .dispatch(Action::Failed(RoomFailure::Unreachable));
            }
        }
    }

    fn send(&self, msg: &ClientMsg) {
        if let Some(signaling) = &self.signaling {
            if let Err(err) = signaling.send(msg) {
                warn(&format!("relay send: {err}"));
            }
        }
    }

    fn send_join(&self) {
        self.send(&ClientMsg::Join {
            version: PROTOCOL_VERSION,
            room: self.join.room.clone(),
            name: self.join.name.clone(),
            password: self.join.password.clone(),
            media: self.media,
            token: self.join.token.clone(),
            client_key: self.join.client_key.clone(),
        });
    }

    /// The relay connection is gone while we are in the call: the peer connections carry on,
    /// and we try the relay again after a growing, jittered delay (or the relay's own).
    fn relay_lost(&mut self, delay_ms: Option<u32>) {
        self.signaling = None;
        if self.left || self.reconnect_pending {
            return;
        }
        self.out
            .state
            .dispatch(Action::Relay(RelayLink::Reconnecting));
        let delay_ms = delay_ms
            .unwrap_or_else(|| reconnect_delay_ms(self.reconnect_attempts, js_sys::Math::random()));
        self.reconnect_attempts = self.reconnect_attempts.saturating_add(1);
        self.reconnect_pending = true;
        let tx = self.inputs.clone();
        wasm_bindgen_futures::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(delay_ms).await;
            let _ = tx.unbounded_send(Input::Reconnect);
        });
    }

    /// The relay knows us again (resumed or joined anew).
    fn relay_back(&mut self) {
        self.reconnect_attempts = 0;
        self.out.state.dispatch(Action::Relay(RelayLink::Connected));
    }

    /// Drops the link to `peer_id` and everything kept about it.
    fn forget_peer(&mut self, peer_id: PeerId) {
        self.close_link(&peer_id);
        self.recovery.remove(&peer_id);
        self.heard.remove(&peer_id);
        if self.speaker.as_ref() == Some(&peer_id) {
            self.speaker = None;
        }
        self.video_unwanted_by.remove(&peer_id);
        self.hidden_tiles.remove(&peer_id);
        self.out
            .stats
            .dispatch(StatsAction::Forget(peer_id.clone()));
        self.out.state.dispatch(Action::PeerLeft(peer_id));
    }

    /// Closes the link to `peer` and drops what belonged to that connection: its transfers,
    /// statistics, bitrate estimate, the video preference told over it, and its streams.
    fn close_link(&mut self, peer: &PeerId) {
        self.links.remove(peer);
        self.files.peer_gone(peer);
        self.snapshots.remove(peer);
        self.available.remove(peer);
        // Told again once a new chat channel opens.
        self.video_unwanted_from.remove(peer);
        self.out
            .streams
            .dispatch(StreamChange::Remove(peer.clone()));
    }

    fn on_relay(&mut self, event: SignalingEvent) {
        match event {
            SignalingEvent::Opened => {
                self.liveness.heard(js_sys::Date::now());
                match &self.session {
                    // Back after a drop: take our place (and peer id) back.
                    Some(session) => self.send(&ClientMsg::Resume {
                        version: PROTOCOL_VERSION,
                        session: session.clone(),
                    }),
                    None => self.send_join(),
                }
            }
            SignalingEvent::Message(msg) => {
                self.liveness.heard(js_sys::Date::now());
                self.on_message(msg)
            }
            SignalingEvent::Malformed(text) => {
                warn(&format!("relay sent an unknown frame: {text}"))
            }
            SignalingEvent::Closed { opened, .. } => {
                self.signaling = None;
                if self.left {
                    return;
                }
                if self.self_id.is_some() {
                    // Peer connections do not need the relay once established: keep them.
                    self.relay_lost(None);
                } else {
                    let failure = if opened {
                        RoomFailure::Lost
                    } else {
                        RoomFailure::Unreachable
                    };
                    self.out.state.dispatch(Action::Failed(failure));
                }
            }
        }
    }

    fn on_message(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::Welcome {
                peer_id,
                roster,
                ice_servers,
                ice_transport_policy,
                limits,
                session,
                host,
                locked,
                ..
            } => {
                if self.self_id.is_some() {
                    // Joined anew after our session was lost (the relay restarted or we were
                    // away too long): every old id is void, so every link starts over.
                    let old: Vec<PeerId> = self.links.keys().cloned().collect();
                    for peer in old {
                        self.forget_peer(peer);
                    }
                    self.names.clear();
                }
                self.session = Some(session);
                self.relay_back();
                self.files.set_max_file_bytes(limits.max_file_bytes);
                self.max_chat_chars = limits.max_chat_chars as usize;
                self.config = LinkConfig {
                    ice_servers,
                    policy: if self.join.relay_only {
                        IceTransportPolicy::Relay
                    } else {
                        ice_transport_policy
                    },
                };
                self.self_id = Some(peer_id.clone());
                // We are the newcomer: we offer to everyone already here, all at once.
                for peer in &roster {
                    self.names.insert(peer.id.clone(), peer.name.clone());
                    self.open_link(peer.id.clone(), true);
                }
                self.out.state.dispatch(Action::Welcomed {
                    self_id: peer_id,
                    roster,
                    host,
                    locked,
                    max_chat_chars: limits.max_chat_chars,
                });
                self.apply_budget();
            }
            ServerMsg::Resumed { .. } => self.relay_back(),
            ServerMsg::PeerJoined { peer } => {
                self.names.insert(peer.id.clone(), peer.name.clone());
                // A peer we already have a link to kept its id: it is the same connection.
                if !self.links.contains_key(&peer.id) {
                    self.open_link(peer.id.clone(), false);
                }
                self.out.state.dispatch(Action::PeerJoined(peer));
                self.apply_budget();
            }
            ServerMsg::PeerLeft { peer_id, .. } => {
                self.forget_peer(peer_id);
                self.apply_budget();
            }
            ServerMsg::PeerUpdated { peer } => {
                self.names.insert(peer.id.clone(), peer.name.clone());
                self.out.state.dispatch(Action::PeerUpdated(peer));
            }
            ServerMsg::Signal {
                from,
                signal: Signal::Reset,
            } => {
                if self.links.contains_key(&from) {
                    self.recovery.entry(from.clone()).or_default().on_reset();
                    self.rebuild_link(from, false);
                }
            }
            ServerMsg::Signal { from, signal } => match self.links.get(&from) {
                Some(link) => link.handle_signal(signal),
                None => warn(&format!("signal from unknown peer {from}")),
            },
            ServerMsg::Chat {
                from, seq, text, ..
            } => self.add_chat(from, seq, text),
            ServerMsg::Pong { .. } => {}
            ServerMsg::Error {
                code: ErrorCode::SessionExpired,
                ..
            } => {
                // The relay no longer holds our place: join again on this socket.
                self.session = None;
                self.send_join();
            }
            ServerMsg::Error { code, message } => {
                warn(&format!("relay refused: {code:?}: {message}"));
                if code.is_fatal() || self.self_id.is_none() {
                    self.signaling = None;
                    self.out
                        .state
                        .dispatch(Action::Failed(RoomFailure::from_error(code, &message)));
                } else {
                    self.out
                        .state
                        .dispatch(Action::Notice(Notice::Refused(message)));
                }
            }
            ServerMsg::ShuttingDown { reconnect_after_ms } => {
                if self.self_id.is_some() {
                    let delay = u32::try_from(reconnect_after_ms).unwrap_or(u32::MAX);
                    self.relay_lost(Some(delay));
                }
            }
            ServerMsg::HostChanged { peer_id } => {
                self.out.state.dispatch(Action::HostChanged(peer_id))
            }
            ServerMsg::LockChanged { locked } => {
                self.out.state.dispatch(Action::LockChanged(locked))
            }
            ServerMsg::MuteRequested { .. } => {
                self.out
                    .state
                    .dispatch(Action::Notice(Notice::MuteRequested));
            }
            ServerMsg::Removed => self.ended_by_host(RoomFailure::Removed),
            ServerMsg::MeetingEnded => self.ended_by_host(RoomFailure::MeetingEnded),
            ServerMsg::IceServersRenewed { ice_servers } => {
                self.config.ice_servers = ice_servers;
                for (peer, link) in &self.links {
                    if let Err(err) = link.set_config(&self.config) {
                        warn(&format!("new ICE servers for {peer}: {err}"));
                    }
                }
            }
        }
    }

    /// The host removed us or ended the meeting: the relay closes the socket next.
    fn ended_by_host(&mut self, failure: RoomFailure) {
        // Everything goes, as on leaving, but without a `leave` (we are not in the room), and
        // the session cannot be resumed.
        self.self_id = None;
        self.session = None;
        self.leave();
        self.out.state.dispatch(Action::Failed(failure));
    }

    /// Explains, once, why relay-only connections cannot start: the TURN server refused our
    /// credentials, or gave no relay address at all.
    fn check_relay_gathering(&mut self, relay_candidates: usize) {
        if self.config.policy != IceTransportPolicy::Relay
            || relay_candidates > 0
            || self.turn_failure_shown
        {
            return;
        }
        self.turn_failure_shown = true;
        self.out.state.dispatch(Action::Notice(Notice::TurnFailed {
            auth_refused: self.turn_auth_refused,
        }));
    }

    fn open_link(&mut self, peer: PeerId, initiator: bool) {
        let Some(self_id) = &self.self_id else {
            return;
        };
        let polite = is_polite(self_id, &peer);
        let tx = self.inputs.clone();
        let id = peer.clone();
        let on_event = Rc::new(move |event| {
            let _ = tx.unbounded_send(Input::Peer(id.clone(), event));
        });
        match PeerLink::new(
            &self.config,
            polite,
            initiator,
            self.local.clone(),
            on_event,
        ) {
            Ok(link) => {
                self.links.insert(peer, link);
            }
            Err(err) => {
                warn(&format!("peer {peer}: {err}"));
                self.out
                    .state
                    .dispatch(Action::Connection(peer, ConnectionStatus::Failed));
            }
        }
    }

    /// Replaces the link to `peer` with a new peer connection (the old one is closed); the
    /// tile stays, showing the new link's state. `initiator`: we offer.
    fn rebuild_link(&mut self, peer: PeerId, initiator: bool) {
        self.close_link(&peer);
        self.out.state.dispatch(Action::Connection(
            peer.clone(),
            ConnectionStatus::Connecting,
        ));
        self.open_link(peer, initiator);
        self.apply_budget();
    }

    /// Follows a link's state with the recovery policy: rebuilds it after repeated failures.
    fn recover(&mut self, peer: PeerId, status: ConnectionStatus) {
        let Some(self_id) = &self.self_id else {
            return;
        };
        let polite = is_polite(self_id, &peer);
        match self
            .recovery
            .entry(peer.clone())
            .or_default()
            .on_status(status, polite)
        {
            RecoveryStep::Wait => {}
            RecoveryStep::Rebuild => {
                warn(&format!(
                    "peer {peer}: ICE restarts failed; rebuilding the connection"
                ));
                self.send(&ClientMsg::Signal {
                    to: peer.clone(),
                    signal: Signal::Reset,
                });
                self.rebuild_link(peer, true);
            }
            RecoveryStep::GiveUp => warn(&format!(
                "peer {peer}: the connection cannot be established; giving up"
            )),
        }
    }

    fn on_peer(&mut self, peer: PeerId, event: PeerEvent) {
        if !self.links.contains_key(&peer) {
            return; // a late event from a link already closed
        }
        match event {
            PeerEvent::Signal(signal) => self.send(&ClientMsg::Signal { to: peer, signal }),
            PeerEvent::RemoteStream(stream) => self
                .out
                .streams
                .dispatch(StreamChange::Camera(peer, stream)),
            PeerEvent::RemoteScreen(stream) => self
                .out
                .streams
                .dispatch(StreamChange::Screen(peer, stream)),
            PeerEvent::Status(status) => {
                self.out
                    .state
                    .dispatch(Action::Connection(peer.clone(), status));
                self.recover(peer, status);
            }
            PeerEvent::ChannelOpen(Channel::Chat) => {
                // Tell a new connection at once if we do not want its video.
                self.video_unwanted_from.remove(&peer);
                self.update_prefs(&peer);
            }
            PeerEvent::ChannelOpen(Channel::Files) | PeerEvent::Error(_) => {} // errors: logged by the link
            PeerEvent::IceServerError(code) => {
                if code == TURN_UNAUTHORIZED {
                    self.turn_auth_refused = true;
                }
            }
            PeerEvent::GatheringDone { relay_candidates } => {
                self.check_relay_gathering(relay_candidates)
            }
            PeerEvent::Data(channel, data) => self.on_data(peer, channel, data),
        }
    }

    fn on_data(&mut self, peer: PeerId, channel: Channel, data: ChannelData) {
        let reply = self.links.get(&peer).and_then(|l| l.data(Channel::Files));
        match (channel, data) {
            (Channel::Chat, ChannelData::Text(text)) => match PeerMsg::from_json(&text) {
                Ok(PeerMsg::Chat { seq, text }) => self.add_chat(peer, seq, text),
                Ok(PeerMsg::Prefs { video }) => {
                    if video {
                        self.video_unwanted_by.remove(&peer);
                    } else {
                        self.video_unwanted_by.insert(peer);
                    }
                    self.apply_budget();
                }
                _ => warn(&format!("chat channel: unexpected message from {peer}")),
            },
            (Channel::Files, ChannelData::Text(text)) => match PeerMsg::from_json(&text) {
                Ok(msg) => {
                    let name = self.names.get(&peer).cloned().unwrap_or_default();
                    self.files.on_message(&peer, &name, msg, reply);
                }
                Err(err) => warn(&format!("files channel: bad message from {peer}: {err}")),
            },
            (Channel::Files, ChannelData::Binary(frame)) => {
                self.files.on_chunk(&peer, &frame, reply)
            }
            (Channel::Chat, ChannelData::Binary(_)) => {
                warn(&format!("chat channel: binary frame from {peer}"))
            }
        }
    }

    fn add_chat(&mut self, from: PeerId, seq: u64, text: String) {
        let mine = self.self_id.as_ref() == Some(&from);
        let name = if mine {
            self.join.name.clone()
        } else {
            self.names.get(&from).cloned().unwrap_or_default()
        };
        self.out.chat.dispatch(ChatAction::Add(ChatEntry {
            from,
            name,
            seq,
            text,
            at_ms: now_ms(),
            mine,
        }));
    }

    /// Sends over each peer's chat channel; if any is not open yet, also once through the
    /// relay (receivers drop the second copy by sender and number).
    fn send_chat(&mut self, text: String) {
        let Some(self_id) = self.self_id.clone() else {
            return;
        };
        // The relay would normalise line breaks in its copy; the data-channel copies and our
        // own entry must read the same.
        let text = match normalize_chat_text(text.trim(), self.max_chat_chars) {
            Ok(text) => text.into_owned(),
            Err(err) => {
                warn(&format!("chat not sent: the text {err}"));
                return;
            }
        };
        self.chat_seq += 1;
        let seq = self.chat_seq;
        let json = PeerMsg::Chat {
            seq,
            text: text.clone(),
        }
        .to_json();
        let mut via_relay = false;
        for link in self.links.values() {
            match link.data(Channel::Chat) {
                Some(channel) if channel.is_open() => {
                    if channel.send_text(&json).is_err() {
                        via_relay = true;
                    }
                }
                _ => via_relay = true,
            }
        }
        if via_relay {
            self.send(&ClientMsg::Chat {
                seq,
                text: text.clone(),
            });
        }
        self.add_chat(self_id, seq, text);
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Tracks(tracks) => {
                for kind in TrackKind::ALL {
                    if tracks.get(kind) != self.local.get(kind) {
                        for link in self.links.values() {
                            link.replace_track(kind, tracks.get(kind).cloned());
                        }
                    }
                }
                self.local = tracks;
                self.apply_budget();
            }
            Command::Media(media) => {
                if media != self.media {
                    self.media = media;
                    if self.self_id.is_some() {
                        self.send(&ClientMsg::SetMedia { media });
                    }
                }
                self.out.state.dispatch(Action::LocalMedia(media));
            }
            Command::Chat(text) => self.send_chat(text),
            Command::SendFile(file, to) => {
                let targets = self
                    .links
                    .iter()
                    .filter(|(id, _)| to.as_ref().is_none_or(|to| to == *id))
                    .map(|(id, link)| {
                        let name = self.names.get(id).cloned().unwrap_or_default();
                        (id.clone(), name, link.data(Channel::Files))
                    })
                    .collect();
                self.files.send(&file, targets);
            }
            Command::VideoWanted(peer, visible) => {
                if visible {
                    self.hidden_tiles.remove(&peer);
                } else {
                    self.hidden_tiles.insert(peer.clone());
                }
                self.update_prefs(&peer);
            }
            Command::AudioOnly(audio_only) => {
                self.audio_only = audio_only;
                let peers: Vec<PeerId> = self.links.keys().cloned().collect();
                for peer in &peers {
                    self.update_prefs(peer);
                }
            }
            Command::Host(command) => self.send(&command.to_client_msg()),
            Command::CancelTransfer(key) => {
                let channel = self
                    .links
                    .get(&key.peer)
                    .and_then(|l| l.data(Channel::Files));
                self.files.cancel(&key, channel);
            }
            Command::Leave => {
                self.leave();
                self.out.state.dispatch(Action::Left);
            }
        }
    }

    /// Tells `peer` whether we want its video, when that changed.
    fn update_prefs(&mut self, peer: &PeerId) {
        let wanted = !self.audio_only && !self.hidden_tiles.contains(peer);
        let changed = if wanted {
            self.video_unwanted_from.remove(peer)
        } else {
            self.video_unwanted_from.insert(peer.clone())
        };
        if changed {
            self.send_prefs(peer, wanted);
        }
    }

    fn send_prefs(&self, peer: &PeerId, video: bool) {
        let channel = self.links.get(peer).and_then(|l| l.data(Channel::Chat));
        if let Some(channel) = channel.filter(|c| c.is_open()) {
            let json = PeerMsg::Prefs { video }.to_json();
            let _ = channel.send_text(&json);
        }
    }

    fn on_tick(&mut self) {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks % PING_EVERY_TICKS == 0 {
            self.send(&ClientMsg::Ping {
                nonce: u64::from(self.ticks),
            });
        }
        let now = js_sys::Date::now();
        let given_up = self.liveness.tick(now);
        if given_up && self.signaling.is_some() && self.self_id.is_some() {
            warn(&format!(
                "relay silent for {} s: reconnecting",
                crate::decimal::fixed(self.liveness.silent_ms(now) / 1000.0, 0)
            ));
            self.relay_lost(None);
        }
        for (peer, link) in &self.links {
            let (peer, pc, tx) = (peer.clone(), link.connection(), self.inputs.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match stats_of(&pc).await {
                    Ok(snapshot) => {
                        let _ = tx.unbounded_send(Input::Stats(peer, snapshot));
                    }
                    Err(err) => warn(&format!("stats of {peer}: {err}")),
                }
            });
        }
    }

    fn on_stats(&mut self, peer: PeerId, snapshot: Snapshot) {
        if !self.links.contains_key(&peer) {
            return;
        }
        if let Some(level) = snapshot.mic_level {
            self.speaking = level > SPEAKING_AUDIO_LEVEL && self.media.mic;
        }
        let heard = snapshot
            .inbound
            .iter()
            .filter(|r| r.kind == "audio")
            .filter_map(|r| r.audio_level)
            .fold(0.0, f64::max);
        self.heard.insert(peer.clone(), heard);
        // The stage moves to someone else only once the current speaker is quiet, so two
        // people talking at once do not make it flicker; silence keeps the last speaker.
        let current_quiet = self
            .speaker
            .as_ref()
            .and_then(|s| self.heard.get(s))
            .is_none_or(|level| *level <= SPEAKING_AUDIO_LEVEL);
        if heard > SPEAKING_AUDIO_LEVEL && current_quiet && self.speaker.as_ref() != Some(&peer) {
            self.speaker = Some(peer.clone());
            self.out.state.dispatch(Action::Speaker(peer.clone()));
        }
        if let Some(stats) = self
            .snapshots
            .get(&peer)
            .and_then(|before| derive(before, &snapshot))
        {
            match stats.available_out_bps {
                Some(bps) => {
                    let rounded = (bps / ESTIMATE_STEP_BPS).round() * ESTIMATE_STEP_BPS;
                    self.available.insert(peer.clone(), rounded);
                }
                None => {
                    self.available.remove(&peer);
                }
            }
            self.out
                .stats
                .dispatch(StatsAction::Sample(peer.clone(), Box::new(stats)));
        }
        self.snapshots.insert(peer, snapshot);
        self.apply_budget();
    }

    /// Splits the video upload budget over the peers and applies it to every link.
    fn apply_budget(&self) {
        let peers: Vec<&PeerId> = self.links.keys().collect();
        let input = BudgetInput {
            budget_bps: self.join.video_budget_bps,
            available_bps: self.available.values().copied().reduce(f64::min),
            wants_video: peers
                .iter()
                .map(|p| !self.video_unwanted_by.contains(*p))
                .collect(),
            speaking: self.speaking || self.links.len() <= 1,
            sharing_screen: self.local.screen.is_some(),
        };
        for (peer, (camera, screen)) in peers.iter().zip(split_budget(&input)) {
            if let Some(link) = self.links.get(*peer) {
                link.set_video_params(camera, screen);
            }
        }
    }

    fn leave(&mut self) {
        if self.left {
            return;
        }
        self.left = true;
        if self.self_id.is_some() {
            self.send(&ClientMsg::Leave);
        }
        let peers: Vec<PeerId> = self.links.keys().cloned().collect();
        for peer in &peers {
            self.files.peer_gone(peer);
        }
        self.links.clear();
        self.signaling = None;
        self.out.streams.dispatch(StreamChange::Clear);
    }
}
