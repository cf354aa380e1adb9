//! The task that runs a meeting, one event at a time: relay messages go to the relay session
//! and the media topology, peer events to the topology, and what both report to the features
//! on top (chat, files, statistics, video preferences, speaker choice, the upload budget),
//! which are mirrored into reducers for rendering.

use super::chat::ChatOut;
use super::files::FileTransfers;
use super::frame_keys::FrameKeys;
use super::mesh::Mesh;
use super::relay_session::RelaySession;
use super::sfu::{Sfu, SfuNews};
use super::topology::{MediaNews, MediaTopology};
use super::{warn, Command, Input, JoinRequest, RemoteStreams};
use crate::rtc::{
    Channel, ChannelData, LinkConfig, LocalTracks, SfuLinkEvent, SharedFrameCrypto, Snapshot,
    VideoWanted,
};
use crate::state::{
    is_speaking, Action, ChatAction, ChatEntry, ChatState, IngestGrant, Notice, RoomFailure,
    RoomState, SpeakerChoice, StatsAction, StatsState, Transfers, VideoPrefs,
};
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use meshmeet_protocol::{
    ClientMsg, ErrorCode, IceTransportPolicy, MediaMode, MediaState, PeerId, PeerMsg,
    ProtocolMsg as _, ServerMsg, SfuLeg, Signal, SimulcastLayer, Topology, DEFAULT_MAX_FILE_BYTES,
    PROTOCOL_VERSION,
};
use std::collections::HashMap;
use yew::UseReducerDispatcher;

/// Where the meeting's state goes for rendering.
pub(crate) struct Outputs {
    pub(crate) state: UseReducerDispatcher<RoomState>,
    pub(crate) streams: UseReducerDispatcher<RemoteStreams>,
    pub(crate) chat: UseReducerDispatcher<ChatState>,
    pub(crate) transfers: UseReducerDispatcher<Transfers>,
    pub(crate) stats: UseReducerDispatcher<StatsState>,
}

/// The meeting task's state. `M` is the media topology (the mesh today).
pub(crate) struct Meeting<M: MediaTopology = Mesh> {
    join: JoinRequest,
    relay: RelaySession,
    media: M,
    /// The media through the SFU, while the room is on it (the mesh stays up beside it for
    /// the data channels).
    sfu: Option<Sfu>,
    /// The relay's ICE settings, for the SFU's connections.
    link_config: LinkConfig,
    /// Frame encryption's keys, in an end-to-end encrypted room.
    keys: Option<FrameKeys>,
    inputs: UnboundedSender<Input>,
    /// What we send (microphone and camera on or off), as told to the relay.
    sending: MediaState,
    /// Display names of the others, for chat and transfers.
    names: HashMap<PeerId, String>,
    chat: ChatOut,
    files: FileTransfers,
    prefs: VideoPrefs,
    speaker: SpeakerChoice,
    /// Whether we speak now (our microphone is on and loud).
    speaking: bool,
    out: Outputs,
}

/// The join message for `join`, sending `media`.
fn join_msg(join: &JoinRequest, media: MediaState) -> ClientMsg {
    ClientMsg::Join {
        version: PROTOCOL_VERSION,
        room: join.room.clone(),
        name: join.name.clone(),
        password: join.password.clone(),
        media,
        token: join.token.clone(),
        client_key: join.client_key.clone(),
        e2ee: join.e2ee_passphrase.is_some(),
    }
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

impl Meeting<Mesh> {
    pub(crate) fn new(
        join: JoinRequest,
        local: LocalTracks,
        sending: MediaState,
        inputs: UnboundedSender<Input>,
        out: Outputs,
    ) -> Self {
        let mesh = Mesh::new(
            local,
            join.video_budget_bps,
            inputs.clone(),
            out.state.clone(),
            out.streams.clone(),
        );
        Meeting {
            relay: RelaySession::new(inputs.clone(), out.state.clone()),
            media: mesh,
            sfu: None,
            link_config: LinkConfig::default(),
            keys: None,
            inputs,
            sending,
            names: HashMap::new(),
            chat: ChatOut::new(),
            files: FileTransfers::new(DEFAULT_MAX_FILE_BYTES, out.transfers.clone()),
            prefs: VideoPrefs::new(join.audio_only),
            speaker: SpeakerChoice::default(),
            speaking: false,
            join,
            out,
        }
    }
}

impl<M: MediaTopology> Meeting<M> {
    pub(crate) async fn run(mut self, mut rx: UnboundedReceiver<Input>) {
        self.relay.connect();
        while let Some(input) = rx.next().await {
            match input {
                Input::Relay(event) => {
                    let (join, sending) = (&self.join, self.sending);
                    if let Some(msg) = self.relay.on_event(event, || join_msg(join, sending)) {
                        self.on_message(msg);
                    }
                }
                Input::Peer(id, event) => {
                    let Some(self_id) = self.relay.self_id().cloned() else {
                        continue;
                    };
                    let news = self.media.on_event(&self_id, id, event, &self.relay);
                    self.on_media_news(news);
                }
                Input::Sfu(attempt, leg, event) => self.on_sfu_event(attempt, leg, event),
                Input::Command(command) => self.on_command(command),
                // In an SFU room the media and its figures come from the SFU's connections;
                // the mesh links carry data only.
                Input::Stats(peer, snapshot) if self.sfu.is_none() => self.on_stats(peer, snapshot),
                Input::Stats(..) => {}
                Input::SfuStats(attempt, snapshots) => {
                    let (received, sent) = *snapshots;
                    let downlink_changed = self
                        .sfu
                        .as_mut()
                        .is_some_and(|sfu| sfu.judge_downlink(attempt, &received));
                    if downlink_changed {
                        self.send_sfu_prefs();
                    }
                    let shares = self.sfu.as_ref().map_or_else(Vec::new, |sfu| {
                        sfu.stats_per_peer(attempt, &received, sent.as_ref())
                    });
                    for (peer, snapshot) in shares {
                        self.on_stats(peer, snapshot);
                    }
                }
                Input::Tick => {
                    self.relay.tick();
                    if let Some(keys) = &mut self.keys {
                        keys.tick();
                    }
                    match &mut self.sfu {
                        Some(sfu) => {
                            sfu.tick(&self.link_config, self.media.tracks());
                            sfu.sample_stats();
                        }
                        None => self.media.sample_stats(),
                    }
                }
                Input::Reconnect => self.relay.reconnect_due(),
                Input::Keys(event) => {
                    if let Some(keys) = &mut self.keys {
                        keys.on_event(event, &self.relay);
                    }
                }
                Input::Shutdown => break,
            }
        }
        self.leave();
        // Dropping `rx` ends the ticker: its next send fails.
    }

    /// Drops the media with `peer_id` and everything kept about it.
    fn forget_peer(&mut self, peer_id: PeerId) {
        if let Some(keys) = &mut self.keys {
            keys.left(&peer_id);
        }
        self.media.remove_peer(&peer_id);
        if let Some(sfu) = &mut self.sfu {
            sfu.remove_peer(&peer_id);
        }
        self.files.peer_gone(&peer_id);
        self.prefs.forget(&peer_id);
        self.speaker.forget(&peer_id);
        self.out
            .stats
            .dispatch(StatsAction::PeerLeft(peer_id.clone()));
        self.out.state.dispatch(Action::PeerLeft(peer_id));
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
                topology,
                live,
                e2ee,
                ..
            } => {
                if self.relay.welcomed(peer_id.clone(), session) {
                    // Joined anew after our session was lost (the relay restarted or we were
                    // away too long): every old id is void, so every link starts over.
                    // The key ring starts over at the welcome below: forgetting the old ids
                    // must not make keys for them.
                    let keys = self.keys.take();
                    for peer in self.media.peers() {
                        self.forget_peer(peer);
                    }
                    self.keys = keys;
                    self.names.clear();
                    // So is our place on the media server.
                    self.sfu = None;
                }
                // An encrypted room: every link encrypts and decrypts frames through one
                // worker, with keys exchanged between the participants.
                let frames = match self.frame_keys(e2ee) {
                    Ok(frames) => frames,
                    Err(failure) => return self.fail(failure),
                };
                self.files.set_max_file_bytes(limits.max_file_bytes);
                self.chat.set_max_chars(limits.max_chat_chars);
                self.link_config = LinkConfig {
                    ice_servers,
                    policy: if self.join.relay_only {
                        IceTransportPolicy::Relay
                    } else {
                        ice_transport_policy
                    },
                    frames,
                };
                self.media.configure(self.link_config.clone());
                // We are the newcomer: we offer to everyone already here, all at once.
                for peer in &roster {
                    self.names.insert(peer.id.clone(), peer.name.clone());
                    self.media.add_peer(&peer_id, peer.id.clone(), true);
                }
                if let Some(keys) = &mut self.keys {
                    let others = roster.iter().map(|peer| peer.id.clone()).collect();
                    keys.welcomed(peer_id.clone(), others, &self.relay);
                }
                self.out.state.dispatch(Action::Welcomed {
                    self_id: peer_id,
                    roster,
                    host,
                    locked,
                    live: live.map(|live| *live),
                    max_chat_chars: limits.max_chat_chars,
                    e2ee,
                });
                self.set_topology(topology);
                self.apply_budget();
            }
            ServerMsg::Resumed { .. } => {
                self.relay.resumed();
                if let Some(keys) = &mut self.keys {
                    keys.resumed(&self.relay);
                }
                // Preferences sent while the socket was down were lost; the relay kept our
                // SFU session, so it takes them now.
                if self.sfu_prefs_differ() {
                    self.send_sfu_prefs();
                }
            }
            ServerMsg::PeerJoined { peer } => {
                self.names.insert(peer.id.clone(), peer.name.clone());
                if let Some(keys) = &mut self.keys {
                    keys.joined(peer.id.clone(), &self.relay);
                }
                // A peer we already have media with kept its id: it is the same connection.
                if let Some(self_id) = self.relay.self_id().cloned() {
                    if !self.media.has_peer(&peer.id) {
                        self.media.add_peer(&self_id, peer.id.clone(), false);
                    }
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
            ServerMsg::Signal { from, signal } => self.on_signal(from, signal),
            ServerMsg::Chat {
                from, seq, text, ..
            } => self.add_chat(from, seq, text),
            ServerMsg::Pong { .. } => {}
            ServerMsg::Error {
                code: ErrorCode::SessionExpired,
                ..
            } => self.relay.rejoin(join_msg(&self.join, self.sending)),
            // Our SFU connections are void: start them again (the relay places the room on
            // a media server that works, or moves it back to the mesh).
            ServerMsg::Error {
                code: code @ (ErrorCode::MediaServerFailed | ErrorCode::InvalidSdp),
                message,
            } if self.sfu.is_some() => {
                if let Some(sfu) = &mut self.sfu {
                    sfu.failed(&format!("{code:?}: {message}"));
                }
            }
            // A message that raced the end of our SFU session (a candidate sent before the
            // failure was heard): the failure itself restarts the connections, and the
            // restart's publish must not be undone by this late refusal.
            ServerMsg::Error {
                code: ErrorCode::SfuOutOfOrder,
                message,
            } if self.sfu.is_some() => warn(&format!("SFU message out of turn: {message}")),
            // A message of an epoch that just ended; the news of the new one is on its way.
            ServerMsg::Error {
                code: ErrorCode::WrongTopology,
                message,
            } => warn(&format!("SFU message of an old epoch: {message}")),
            ServerMsg::Error {
                code: ErrorCode::LiveUnavailable,
                message,
            } => self
                .out
                .state
                .dispatch(Action::NoticeRaised(Notice::LiveUnavailable(message))),
            ServerMsg::Error {
                code: ErrorCode::CameraFailed,
                message,
            } => self
                .out
                .state
                .dispatch(Action::NoticeRaised(Notice::CameraFailed(message))),
            ServerMsg::Error { code, message } => {
                warn(&format!("relay refused: {code:?}: {message}"));
                if code.is_fatal() || !self.relay.in_room() {
                    self.relay.drop_socket();
                    self.out
                        .state
                        .dispatch(Action::Failed(RoomFailure::from_error(code, &message)));
                } else {
                    self.out
                        .state
                        .dispatch(Action::NoticeRaised(Notice::Refused(message)));
                }
            }
            ServerMsg::ShuttingDown { reconnect_after_ms } => {
                let delay = u32::try_from(reconnect_after_ms).unwrap_or(u32::MAX);
                self.relay.lost(Some(delay));
            }
            ServerMsg::HostChanged { peer_id } => {
                self.out.state.dispatch(Action::HostChanged(peer_id))
            }
            ServerMsg::LockChanged { locked } => {
                self.out.state.dispatch(Action::LockChanged(locked))
            }
            ServerMsg::LiveChanged { live } => self.out.state.dispatch(Action::LiveChanged(live)),
            ServerMsg::LiveOutputs { rtmp } => self.out.state.dispatch(Action::LiveOutputs(rtmp)),
            ServerMsg::IngestCreated { name, token } => self
                .out
                .state
                .dispatch(Action::IngestCreated(IngestGrant { name, token })),
            ServerMsg::MuteRequested { .. } => {
                self.out
                    .state
                    .dispatch(Action::NoticeRaised(Notice::MuteRequested));
            }
            ServerMsg::Removed => self.ended_by_host(RoomFailure::Removed),
            ServerMsg::MeetingEnded => self.ended_by_host(RoomFailure::MeetingEnded),
            ServerMsg::IceServersRenewed { ice_servers } => {
                self.link_config.ice_servers = ice_servers.clone();
                self.media.renew_ice_servers(ice_servers)
            }
            ServerMsg::TopologyChanged { topology } => self.set_topology(topology),
            ServerMsg::Reacted { from, reaction } => {
                self.out.state.dispatch(Action::Reacted(from, reaction))
            }
            ServerMsg::SfuPublished { epoch, sdp } => {
                if let Some(sfu) = self.sfu.as_mut().filter(|s| s.epoch() == epoch) {
                    sfu.published(sdp);
                    // A new relay session sends all video until told otherwise.
                    if self.sfu_prefs_differ() {
                        self.send_sfu_prefs();
                    }
                }
            }
            ServerMsg::SfuSubscription {
                epoch,
                sdp,
                streams,
            } => {
                if let Some(sfu) = self.sfu.as_mut().filter(|s| s.epoch() == epoch) {
                    sfu.subscription(&self.link_config, sdp, streams);
                }
            }
        }
    }

    /// Follows the room to the mesh or the SFU. To the SFU: the tiles keep the mesh's media
    /// until the SFU's arrives, and the mesh links send ours until our publisher is
    /// connected (make before break). Back to the mesh: the links send and show media again
    /// at once.
    fn set_topology(&mut self, topology: Topology) {
        self.out
            .state
            .dispatch(Action::TopologyChanged(topology.mode));
        match topology.mode {
            MediaMode::Mesh => {
                self.sfu = None;
                self.media.set_sending(true);
                self.media.set_showing(true);
            }
            MediaMode::Sfu => {
                if self
                    .sfu
                    .as_ref()
                    .is_some_and(|s| s.epoch() == topology.epoch)
                {
                    return;
                }
                self.media.set_showing(false);
                self.sfu = Some(Sfu::start(
                    topology.epoch,
                    &self.link_config,
                    self.media.tracks(),
                    self.join.video_budget_bps,
                    self.inputs.clone(),
                    self.out.streams.clone(),
                    self.out.state.clone(),
                ));
                self.apply_budget();
            }
        }
    }

    fn on_sfu_event(&mut self, attempt: u32, leg: SfuLeg, event: SfuLinkEvent) {
        let Some(sfu) = &mut self.sfu else {
            return;
        };
        match sfu.on_link_event(attempt, leg, event, &self.relay) {
            Some(SfuNews::Publishing) => self.media.set_sending(false),
            None => {}
        }
    }

    fn on_signal(&mut self, from: PeerId, signal: Signal) {
        let Some(self_id) = self.relay.self_id().cloned() else {
            return;
        };
        if let Signal::FrameKey { public, sealed } = signal {
            match &mut self.keys {
                Some(keys) => keys.on_signal(from, public, sealed),
                None => warn(&format!("a frame key from {from} in a room not encrypted")),
            }
            return;
        }
        let news = self.media.on_signal(&self_id, from, signal, &self.relay);
        self.on_media_news(news);
    }

    /// The frame worker for the links of a room that is (`e2ee`) or is not encrypted,
    /// starting the key exchange the first time; or why we cannot take part.
    fn frame_keys(&mut self, e2ee: bool) -> Result<Option<SharedFrameCrypto>, RoomFailure> {
        if !e2ee {
            // We asked for an encrypted room (our link has a passphrase) and this one is not:
            // never send in the clear what the person meant to encrypt.
            if self.join.e2ee_passphrase.is_some() {
                return Err(RoomFailure::E2eeRoomNotEncrypted);
            }
            self.keys = None;
            return Ok(None);
        }
        if let Some(keys) = &self.keys {
            return Ok(Some(keys.crypto()));
        }
        let Some(passphrase) = self.join.e2ee_passphrase.as_deref() else {
            return Err(RoomFailure::E2eeNoPassphrase);
        };
        let keys = FrameKeys::start(
            passphrase,
            &self.join.room,
            self.inputs.clone(),
            self.out.state.clone(),
        )
        .map_err(|_| RoomFailure::E2eeUnsupported)?;
        let crypto = keys.crypto();
        self.keys = Some(keys);
        Ok(Some(crypto))
    }

    /// We cannot take part: we leave, and the page says why.
    fn fail(&mut self, failure: RoomFailure) {
        self.leave();
        self.out.state.dispatch(Action::Failed(failure));
    }

    /// The host removed us or ended the meeting: the relay closes the socket next.
    fn ended_by_host(&mut self, failure: RoomFailure) {
        // Everything goes, as on leaving, but without a `leave` (we are not in the room), and
        // the session cannot be resumed.
        self.relay.ended_by_host();
        self.leave();
        self.out.state.dispatch(Action::Failed(failure));
    }

    fn on_media_news(&mut self, news: Option<MediaNews>) {
        match news {
            None => {}
            Some(MediaNews::Replaced(peer)) => {
                self.files.peer_gone(&peer);
                // Told again once the new connection's chat channel opens.
                self.prefs.connection_closed(&peer);
                self.apply_budget();
            }
            Some(MediaNews::ChatOpen(peer)) => {
                // Tell a new connection at once if we do not want its video.
                if let Some(wanted) = self.prefs.channel_opened(&peer) {
                    self.send_prefs(&peer, wanted);
                }
            }
            Some(MediaNews::Data(peer, channel, data)) => self.on_data(peer, channel, data),
        }
    }

    fn on_data(&mut self, peer: PeerId, channel: Channel, data: ChannelData) {
        let reply = self.media.data_channel(&peer, Channel::Files);
        match (channel, data) {
            (Channel::Chat, ChannelData::Text(text)) => match PeerMsg::from_json(&text) {
                Ok(PeerMsg::Chat { seq, text }) => self.add_chat(peer, seq, text),
                Ok(PeerMsg::Prefs { video, screen }) => {
                    let wanted = VideoWanted {
                        camera: video,
                        screen: screen.unwrap_or(video),
                    };
                    self.prefs.told_by(&peer, wanted);
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
        let mine = self.relay.self_id() == Some(&from);
        let name = if mine {
            self.join.name.clone()
        } else {
            self.names.get(&from).cloned().unwrap_or_default()
        };
        self.out.chat.dispatch(ChatAction::Posted(ChatEntry {
            from,
            name,
            seq,
            text,
            at_ms: now_ms(),
            mine,
        }));
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Tracks(tracks) => {
                if let Some(sfu) = &self.sfu {
                    sfu.set_tracks(self.media.tracks(), &tracks);
                }
                self.media.set_tracks(tracks);
                self.apply_budget();
            }
            Command::Media(sending) => {
                if sending != self.sending {
                    self.sending = sending;
                    if self.relay.in_room() {
                        self.relay.send(&ClientMsg::SetMedia { media: sending });
                    }
                }
            }
            Command::Chat(text) => {
                let Some(self_id) = self.relay.self_id().cloned() else {
                    return;
                };
                if let Some((seq, text)) = self.chat.send(&text, &self.media, &self.relay) {
                    self.add_chat(self_id, seq, text);
                }
            }
            Command::SendFile(file, to) => {
                let targets = self
                    .media
                    .peers()
                    .into_iter()
                    .filter(|id| to.as_ref().is_none_or(|to| to == id))
                    .map(|id| {
                        let name = self.names.get(&id).cloned().unwrap_or_default();
                        let channel = self.media.data_channel(&id, Channel::Files);
                        (id, name, channel)
                    })
                    .collect();
                self.files.send(&file, targets);
            }
            Command::VideoWanted(peer, visible) => {
                let was_hidden = self.prefs.is_hidden(&peer);
                if let Some(wanted) = self.prefs.set_tile_visible(&peer, visible) {
                    self.send_prefs(&peer, wanted);
                }
                // The SFU hears of every change of what is off screen, whatever the mesh
                // link to that peer was told (it may be a new link that heard nothing yet).
                if was_hidden == visible {
                    self.send_sfu_prefs();
                }
            }
            Command::CameraLayers(layers) => {
                if self.prefs.set_layers(layers) {
                    self.send_sfu_prefs();
                }
            }
            Command::AudioOnly(audio_only) => {
                let peers = self.media.peers();
                for (peer, wanted) in self.prefs.set_audio_only(audio_only, &peers) {
                    self.send_prefs(&peer, wanted);
                }
                self.send_sfu_prefs();
                self.out
                    .state
                    .dispatch(Action::AudioOnlyChanged(audio_only));
            }
            Command::Host(command) => self.relay.send(&command.to_client_msg()),
            Command::CancelTransfer(key) => {
                let channel = self.media.data_channel(&key.peer, Channel::Files);
                self.files.cancel(&key, channel);
            }
            Command::React(reaction) => {
                let Some(self_id) = self.relay.self_id().cloned() else {
                    return;
                };
                if self.relay.in_room() {
                    self.relay.send(&ClientMsg::React { reaction });
                    self.out.state.dispatch(Action::Reacted(self_id, reaction));
                }
            }
            Command::Leave => {
                self.leave();
                self.out.state.dispatch(Action::Left);
            }
        }
    }

    /// Tells `peer` what we want of its video (over its chat channel, when open).
    fn send_prefs(&self, peer: &PeerId, wanted: VideoWanted) {
        let channel = self.media.data_channel(peer, Channel::Chat);
        if let Some(channel) = channel.filter(|c| c.is_open()) {
            let prefs = PeerMsg::Prefs {
                video: wanted.camera,
                screen: Some(wanted.screen),
            };
            let json = prefs.to_json();
            let _ = channel.send_text(&json);
        }
    }

    /// Tells the relay which video we want through the SFU, when its session of our
    /// current attempt exists (a new one is told as it starts).
    /// Whether the SFU must be told our video preferences: by default it sends all video
    /// at the highest layer.
    fn sfu_prefs_differ(&self) -> bool {
        self.prefs.differs_from_default()
            || self
                .sfu
                .as_ref()
                .is_some_and(|sfu| sfu.downlink_cap() < SimulcastLayer::High)
    }

    fn send_sfu_prefs(&self) {
        let Some(sfu) = self.sfu.as_ref().filter(|sfu| sfu.is_published()) else {
            return;
        };
        let peers = self.media.peers();
        self.relay.send(&ClientMsg::SfuPrefs {
            epoch: sfu.epoch(),
            audio_only: self.prefs.audio_only(),
            hidden: self.prefs.hidden(),
            layers: self.prefs.layers_for(&peers, sfu.downlink_cap()),
        });
    }

    fn on_stats(&mut self, peer: PeerId, snapshot: Snapshot) {
        let Some(sample) = self.media.on_stats(&peer, snapshot) else {
            return;
        };
        if let Some(level) = sample.mic_level {
            self.speaking = is_speaking(level, self.sending.mic);
        }
        if let Some(speaker) = self.speaker.heard(&peer, sample.heard) {
            self.out.state.dispatch(Action::SpeakerChanged(speaker));
        }
        if let Some(stats) = sample.stats {
            self.out
                .stats
                .dispatch(StatsAction::Sampled(peer, Box::new(stats)));
        }
        self.apply_budget();
    }

    /// Spreads the video upload budget over the peers that want our video.
    fn apply_budget(&self) {
        let prefs = &self.prefs;
        self.media
            .apply_budget(|peer| prefs.wanted_by(peer), self.speaking);
        if let Some(sfu) = &self.sfu {
            let peers = self.media.peers();
            let anyone = VideoWanted {
                camera: peers.iter().any(|peer| prefs.wanted_by(peer).camera),
                screen: peers.iter().any(|peer| prefs.wanted_by(peer).screen),
            };
            let sharing_screen = self.media.tracks().screen.is_some();
            sfu.apply_budget(anyone, self.speaking, sharing_screen);
        }
    }

    fn leave(&mut self) {
        if !self.relay.leave() {
            return;
        }
        for peer in self.media.peers() {
            self.files.peer_gone(&peer);
        }
        self.sfu = None;
        self.media.close();
    }
}
