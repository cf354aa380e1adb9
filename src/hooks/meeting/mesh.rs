//! The full mesh: one [`PeerLink`] per remote participant, media browser to browser. It
//! opens, recovers and rebuilds the links, shows their media and states, and spreads our
//! video upload over them.

use super::relay_session::RelaySession;
use super::topology::{MediaNews, MediaTopology, Sample};
use super::{warn, Input, RemoteStreams, StreamChange};
use crate::rtc::{
    derive, is_polite, split_budget, stats_of, BudgetInput, Channel, ConnectionStatus, DataSender,
    LinkConfig, LocalTracks, PeerEvent, PeerLink, Recovery, RecoveryStep, Snapshot, TrackKind,
    VideoWanted,
};
use crate::state::{Action, Notice, RoomState};
use futures_channel::mpsc::UnboundedSender;
use meshmeet_protocol::{ClientMsg, IceServer, IceTransportPolicy, PeerId, Signal};
use std::collections::HashMap;
use std::rc::Rc;
use web_sys::MediaStream;
use yew::UseReducerDispatcher;

/// STUN/TURN error code for refused credentials (RFC 8489, section 14.8).
const TURN_UNAUTHORIZED: u16 = 401;
/// The available-bitrate estimate is rounded to this step before it changes any encoder, so
/// its jitter does not reconfigure them every second.
const ESTIMATE_STEP_BPS: f64 = 100_000.0;

/// Every peer link of this participant, and what is kept per link.
pub(super) struct Mesh {
    config: LinkConfig,
    links: HashMap<PeerId, PeerLink>,
    local: LocalTracks,
    /// Video upload budget, bits per second.
    budget_bps: u32,
    /// The previous statistics snapshot of each connection.
    snapshots: HashMap<PeerId, Snapshot>,
    /// The browser's available-bitrate estimate per connection (rounded).
    available: HashMap<PeerId, f64>,
    /// Each link's failures, to rebuild one that ICE restarts do not bring back.
    recovery: HashMap<PeerId, Recovery>,
    /// A TURN server refused our credentials (401) during a gathering.
    turn_auth_refused: bool,
    /// The relay-only failure was shown already (once per meeting is enough).
    turn_failure_shown: bool,
    /// Whether the links send our media (not while the SFU carries it).
    sending: bool,
    /// Whether the tiles show what the links receive (not while the SFU carries it).
    showing: bool,
    /// The last streams each link received, to show again when the room returns to the mesh.
    received: HashMap<PeerId, (Option<MediaStream>, Option<MediaStream>)>,
    inputs: UnboundedSender<Input>,
    room: UseReducerDispatcher<RoomState>,
    streams: UseReducerDispatcher<RemoteStreams>,
}

impl Mesh {
    pub(super) fn new(
        local: LocalTracks,
        budget_bps: u32,
        inputs: UnboundedSender<Input>,
        room: UseReducerDispatcher<RoomState>,
        streams: UseReducerDispatcher<RemoteStreams>,
    ) -> Self {
        Mesh {
            config: LinkConfig::default(),
            links: HashMap::new(),
            local,
            budget_bps,
            snapshots: HashMap::new(),
            available: HashMap::new(),
            recovery: HashMap::new(),
            turn_auth_refused: false,
            turn_failure_shown: false,
            sending: true,
            showing: true,
            received: HashMap::new(),
            inputs,
            room,
            streams,
        }
    }

    fn open_link(&mut self, self_id: &PeerId, peer: PeerId, initiator: bool) {
        let polite = is_polite(self_id, &peer);
        let tx = self.inputs.clone();
        let id = peer.clone();
        let on_event = Rc::new(move |event| {
            let _ = tx.unbounded_send(Input::Peer(id.clone(), event));
        });
        match PeerLink::new(&self.config, polite, initiator, self.sent(), on_event) {
            Ok(link) => {
                self.links.insert(peer, link);
            }
            Err(err) => {
                warn(&format!("peer {peer}: {err}"));
                self.room
                    .dispatch(Action::ConnectionChanged(peer, ConnectionStatus::Failed));
            }
        }
    }

    /// Closes the link to `peer` and drops what belonged to that connection: its statistics,
    /// bitrate estimate and streams.
    fn close_link(&mut self, peer: &PeerId) {
        self.links.remove(peer);
        self.snapshots.remove(peer);
        self.available.remove(peer);
        self.received.remove(peer);
        if self.showing {
            self.streams
                .dispatch(StreamChange::ConnectionClosed(peer.clone()));
        }
    }

    /// What the links send: our tracks, or nothing while the SFU carries them.
    fn sent(&self) -> LocalTracks {
        if self.sending {
            self.local.clone()
        } else {
            LocalTracks::default()
        }
    }

    /// Replaces the link to `peer` with a new peer connection; the tile stays, showing the
    /// new link's state. `initiator`: we offer.
    fn rebuild_link(&mut self, self_id: &PeerId, peer: PeerId, initiator: bool) -> MediaNews {
        self.close_link(&peer);
        self.room.dispatch(Action::ConnectionChanged(
            peer.clone(),
            ConnectionStatus::Connecting,
        ));
        self.open_link(self_id, peer.clone(), initiator);
        MediaNews::Replaced(peer)
    }

    /// Follows a link's state with the recovery policy: rebuilds it after repeated failures.
    fn recover(
        &mut self,
        self_id: &PeerId,
        peer: PeerId,
        status: ConnectionStatus,
        relay: &RelaySession,
    ) -> Option<MediaNews> {
        let polite = is_polite(self_id, &peer);
        match self
            .recovery
            .entry(peer.clone())
            .or_default()
            .on_status(status, polite)
        {
            RecoveryStep::Wait => None,
            RecoveryStep::Rebuild => {
                warn(&format!(
                    "peer {peer}: ICE restarts failed; rebuilding the connection"
                ));
                relay.send(&ClientMsg::Signal {
                    to: peer.clone(),
                    signal: Signal::Reset,
                });
                Some(self.rebuild_link(self_id, peer, true))
            }
            RecoveryStep::GiveUp => {
                warn(&format!(
                    "peer {peer}: the connection cannot be established; giving up"
                ));
                None
            }
        }
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
        self.room.dispatch(Action::NoticeRaised(Notice::TurnFailed {
            auth_refused: self.turn_auth_refused,
        }));
    }
}

impl MediaTopology for Mesh {
    fn configure(&mut self, config: LinkConfig) {
        self.config = config;
    }

    fn renew_ice_servers(&mut self, ice_servers: Vec<IceServer>) {
        self.config.ice_servers = ice_servers;
        for (peer, link) in &self.links {
            if let Err(err) = link.set_config(&self.config) {
                warn(&format!("new ICE servers for {peer}: {err}"));
            }
        }
    }

    fn add_peer(&mut self, self_id: &PeerId, peer: PeerId, newcomer: bool) {
        self.open_link(self_id, peer, newcomer);
    }

    fn has_peer(&self, peer: &PeerId) -> bool {
        self.links.contains_key(peer)
    }

    fn peers(&self) -> Vec<PeerId> {
        self.links.keys().cloned().collect()
    }

    fn remove_peer(&mut self, peer: &PeerId) {
        self.close_link(peer);
        self.recovery.remove(peer);
    }

    fn on_signal(
        &mut self,
        self_id: &PeerId,
        from: PeerId,
        signal: Signal,
        _relay: &RelaySession,
    ) -> Option<MediaNews> {
        if matches!(signal, Signal::Reset) {
            // The other side rebuilt its connection: answer on a new one of ours.
            if !self.links.contains_key(&from) {
                return None;
            }
            self.recovery.entry(from.clone()).or_default().on_reset();
            return Some(self.rebuild_link(self_id, from, false));
        }
        match self.links.get(&from) {
            Some(link) => link.handle_signal(signal),
            None => warn(&format!("signal from unknown peer {from}")),
        }
        None
    }

    fn on_event(
        &mut self,
        self_id: &PeerId,
        peer: PeerId,
        event: PeerEvent,
        relay: &RelaySession,
    ) -> Option<MediaNews> {
        if !self.links.contains_key(&peer) {
            return None; // a late event from a link already closed
        }
        match event {
            PeerEvent::Signal(signal) => relay.send(&ClientMsg::Signal { to: peer, signal }),
            PeerEvent::RemoteStream(stream) => {
                self.received.entry(peer.clone()).or_default().0 = Some(Clone::clone(&stream));
                if self.showing {
                    self.streams
                        .dispatch(StreamChange::CameraChanged(peer, stream));
                }
            }
            PeerEvent::RemoteScreen(stream) => {
                self.received.entry(peer.clone()).or_default().1 = Some(Clone::clone(&stream));
                if self.showing {
                    self.streams
                        .dispatch(StreamChange::ScreenChanged(peer, stream));
                }
            }
            PeerEvent::Status(status) => {
                self.room
                    .dispatch(Action::ConnectionChanged(peer.clone(), status));
                return self.recover(self_id, peer, status, relay);
            }
            PeerEvent::ChannelOpen(Channel::Chat) => return Some(MediaNews::ChatOpen(peer)),
            PeerEvent::ChannelOpen(Channel::Files) | PeerEvent::Error(_) => {} // errors: logged by the link
            PeerEvent::IceServerError(code) => {
                if code == TURN_UNAUTHORIZED {
                    self.turn_auth_refused = true;
                }
            }
            PeerEvent::GatheringDone { relay_candidates } => {
                self.check_relay_gathering(relay_candidates)
            }
            PeerEvent::Data(channel, data) => return Some(MediaNews::Data(peer, channel, data)),
        }
        None
    }

    fn set_tracks(&mut self, tracks: LocalTracks) {
        for kind in TrackKind::ALL {
            if self.sending && tracks.get(kind) != self.local.get(kind) {
                for link in self.links.values() {
                    link.replace_track(kind, tracks.get(kind).cloned());
                }
            }
        }
        self.local = tracks;
    }

    fn tracks(&self) -> &LocalTracks {
        &self.local
    }

    fn set_sending(&mut self, sending: bool) {
        if sending == self.sending {
            return;
        }
        self.sending = sending;
        let sent = self.sent();
        for link in self.links.values() {
            for kind in TrackKind::ALL {
                link.replace_track(kind, sent.get(kind).cloned());
            }
        }
    }

    fn set_showing(&mut self, showing: bool) {
        if showing == self.showing {
            return;
        }
        self.showing = showing;
        // The figures of the last sample came from the other topology's connections: a
        // rate derived across the switch would mean nothing.
        self.snapshots.clear();
        if !showing {
            return;
        }
        for (peer, (camera, screen)) in &self.received {
            if let Some(camera) = camera {
                self.streams.dispatch(StreamChange::CameraChanged(
                    peer.clone(),
                    Clone::clone(camera),
                ));
            }
            if let Some(screen) = screen {
                self.streams.dispatch(StreamChange::ScreenChanged(
                    peer.clone(),
                    Clone::clone(screen),
                ));
            }
        }
    }

    fn sample_stats(&self) {
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

    fn on_stats(&mut self, peer: &PeerId, snapshot: Snapshot) -> Option<Sample> {
        if !self.links.contains_key(peer) {
            return None;
        }
        let heard = snapshot
            .inbound
            .iter()
            .filter(|r| r.kind == "audio")
            .filter_map(|r| r.audio_level)
            .fold(0.0, f64::max);
        let stats = self
            .snapshots
            .get(peer)
            .and_then(|before| derive(before, &snapshot));
        if let Some(stats) = &stats {
            match stats.available_out_bps {
                Some(bps) => {
                    let rounded = (bps / ESTIMATE_STEP_BPS).round() * ESTIMATE_STEP_BPS;
                    self.available.insert(peer.clone(), rounded);
                }
                None => {
                    self.available.remove(peer);
                }
            }
        }
        let mic_level = snapshot.mic_level;
        self.snapshots.insert(peer.clone(), snapshot);
        Some(Sample {
            mic_level,
            heard,
            stats,
        })
    }

    fn apply_budget(&self, wanted_by: impl Fn(&PeerId) -> VideoWanted, speaking: bool) {
        let peers: Vec<&PeerId> = self.links.keys().collect();
        let input = BudgetInput {
            budget_bps: self.budget_bps,
            available_bps: self.available.values().copied().reduce(f64::min),
            wants: peers.iter().map(|p| wanted_by(p)).collect(),
            speaking: speaking || self.links.len() <= 1,
            sharing_screen: self.local.screen.is_some(),
        };
        for (peer, (camera, screen)) in peers.iter().zip(split_budget(&input)) {
            if let Some(link) = self.links.get(*peer) {
                link.set_video_params(camera, screen);
            }
        }
    }

    fn data_channel(&self, peer: &PeerId, channel: Channel) -> Option<DataSender> {
        self.links.get(peer).and_then(|l| l.data(channel))
    }

    fn close(&mut self) {
        self.links.clear();
        self.received.clear();
        self.streams.dispatch(StreamChange::AllClosed);
    }
}
