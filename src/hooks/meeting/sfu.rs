//! Media through the SFU, for rooms the relay moved past the mesh's size: one publisher
//! connection that sends our microphone, camera and screen once, and one subscriber
//! connection that receives everyone else's, each media section named by the relay's
//! subscription (whose stream, which of their sections). The mesh's links stay up beside it
//! for the data channels (files, preferences) and the tiles' connection states.
//!
//! A failure (the media server died, a connection failed, a description was refused) drops
//! both connections and starts them again a moment later, at the same epoch: the relay
//! places the room again if its media server is gone.

use super::relay_session::RelaySession;
use super::{warn, Input, RemoteStreams, StreamChange};
use crate::rtc::{
    split_budget, stats_of, stream_of, BudgetInput, ConnectionStatus, LinkConfig, LocalTracks,
    RtcError, SfuLink, SfuLinkEvent, Snapshot, TrackKind, VideoWanted,
};
use crate::state::{Action, DownlinkGuard, DownlinkSample, RoomState, SfuConnection};
use futures_channel::mpsc::UnboundedSender;
use meshmeet_protocol::{ClientMsg, PeerId, SfuLeg, SfuStream, SimulcastLayer};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use web_sys::MediaStreamTrack;
use yew::UseReducerDispatcher;

/// Ticks (seconds) between a failure and the next attempt.
const RESTART_AFTER_TICKS: u32 = 2;

/// What the SFU tells the meeting.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SfuNews {
    /// Our publisher connected: our media reaches the media server, so the mesh links can
    /// stop carrying it.
    Publishing,
}

/// What a remote participant's tiles show from the SFU, to tell a change from a repeat.
#[derive(Default)]
struct Received {
    /// Track ids of the camera stream shown (microphone and camera), to tell a change.
    camera: Vec<String>,
    /// Track id of the screen stream shown.
    screen: Option<String>,
}

/// This participant's two connections to the SFU for one epoch of the room.
pub(super) struct Sfu {
    epoch: u64,
    /// Tells this attempt's events from those of an attempt dropped after a failure.
    attempt: u32,
    budget_bps: u32,
    publisher: Option<SfuLink>,
    subscriber: Option<SfuLink>,
    /// Whether the relay answered this attempt's publish: its session there exists and
    /// takes our video preferences.
    published: bool,
    /// The sections of the subscription offers being answered, oldest first.
    pending: VecDeque<Vec<SfuStream>>,
    /// What each remote participant's tiles show from the SFU.
    shown: HashMap<PeerId, Received>,
    /// Whose media each section of the subscriber carries, by `mid`: to share the
    /// subscriber's statistics out per participant.
    senders: HashMap<String, PeerId>,
    /// Ticks left before starting again after a failure.
    restart_in: Option<u32>,
    /// The highest camera layer our downlink carries, judged from the subscriber's loss.
    downlink: DownlinkGuard,
    inputs: UnboundedSender<Input>,
    streams: UseReducerDispatcher<RemoteStreams>,
    /// For the tiles' *reconnecting* while the connections are restored.
    room: UseReducerDispatcher<RoomState>,
}

impl Sfu {
    /// Starts publishing `local` for `epoch`; the subscription follows from the relay. The
    /// connections take the meeting's ICE settings (`config`) as they are when each opens.
    pub(super) fn start(
        epoch: u64,
        config: &LinkConfig,
        local: &LocalTracks,
        budget_bps: u32,
        inputs: UnboundedSender<Input>,
        streams: UseReducerDispatcher<RemoteStreams>,
        room: UseReducerDispatcher<RoomState>,
    ) -> Self {
        let mut sfu = Sfu {
            epoch,
            attempt: 0,
            budget_bps,
            publisher: None,
            subscriber: None,
            published: false,
            pending: VecDeque::new(),
            shown: HashMap::new(),
            senders: HashMap::new(),
            restart_in: None,
            downlink: DownlinkGuard::default(),
            inputs,
            streams,
            room,
        };
        sfu.open_publisher(config, local);
        sfu
    }

    /// The epoch this SFU session belongs to.
    pub(super) fn epoch(&self) -> u64 {
        self.epoch
    }

    fn on_event(&self, leg: SfuLeg) -> Rc<dyn Fn(SfuLinkEvent)> {
        let (tx, attempt) = (self.inputs.clone(), self.attempt);
        Rc::new(move |event| {
            let _ = tx.unbounded_send(Input::Sfu(attempt, leg, event));
        })
    }

    fn open_publisher(&mut self, config: &LinkConfig, local: &LocalTracks) {
        match SfuLink::publisher(config, local, self.on_event(SfuLeg::Publish)) {
            Ok(link) => self.publisher = Some(link),
            Err(err) => self.failed(&format!("cannot open the SFU publisher: {err}")),
        }
    }

    /// Drops both connections and starts again after a moment.
    pub(super) fn failed(&mut self, why: &str) {
        warn(&format!("SFU: {why}; starting again"));
        self.publisher = None;
        self.subscriber = None;
        self.published = false;
        self.pending.clear();
        // The next subscriber's tracks are new even where their ids repeat (Chromium names a
        // received track after the media server's msid, `janus0`…): none is shown yet.
        self.shown.clear();
        self.senders.clear();
        self.restart_in = Some(RESTART_AFTER_TICKS);
        self.room
            .dispatch(Action::SfuConnectionChanged(SfuConnection::Restoring));
    }

    /// The clock: starts again, publishing `local`, when a failure's wait is over.
    pub(super) fn tick(&mut self, config: &LinkConfig, local: &LocalTracks) {
        match self.restart_in {
            Some(0) | None => {}
            Some(1) => {
                self.restart_in = None;
                self.attempt += 1;
                self.open_publisher(config, local);
            }
            Some(n) => self.restart_in = Some(n - 1),
        }
    }

    /// The media server's answer to our publish.
    pub(super) fn published(&mut self, sdp: String) {
        if let Some(publisher) = &self.publisher {
            publisher.remote(sdp);
            self.published = true;
        }
    }

    /// Whether the relay's session of this attempt exists, so it takes our preferences.
    pub(super) fn is_published(&self) -> bool {
        self.published
    }

    /// The media server's offer for our subscriber, and whose media each section carries.
    pub(super) fn subscription(
        &mut self,
        config: &LinkConfig,
        sdp: String,
        streams: Vec<SfuStream>,
    ) {
        if self.subscriber.is_none() {
            match SfuLink::subscriber(config, self.on_event(SfuLeg::Subscribe)) {
                Ok(link) => self.subscriber = Some(link),
                Err(err) => {
                    return self.failed(&format!("cannot open the SFU subscriber: {err}"));
                }
            }
        }
        self.pending.push_back(streams);
        if let Some(subscriber) = &self.subscriber {
            subscriber.remote(sdp);
        }
    }

    /// Something happened on one of the connections of attempt `attempt`.
    pub(super) fn on_link_event(
        &mut self,
        attempt: u32,
        leg: SfuLeg,
        event: SfuLinkEvent,
        relay: &RelaySession,
    ) -> Option<SfuNews> {
        if attempt != self.attempt || self.restart_in.is_some() {
            return None; // a late event of connections already dropped
        }
        let epoch = self.epoch;
        match event {
            SfuLinkEvent::Offer(sdp) => relay.send(&ClientMsg::SfuPublish { epoch, sdp }),
            SfuLinkEvent::Answer(sdp) => {
                self.show_received();
                relay.send(&ClientMsg::SfuSubscribeAnswer { epoch, sdp });
            }
            SfuLinkEvent::Candidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
            } => relay.send(&ClientMsg::SfuCandidate {
                epoch,
                leg,
                candidate,
                sdp_mid,
                sdp_m_line_index,
            }),
            SfuLinkEvent::Status(ConnectionStatus::Connected) if leg == SfuLeg::Publish => {
                return Some(SfuNews::Publishing);
            }
            SfuLinkEvent::Status(ConnectionStatus::Connected) => self
                .room
                .dispatch(Action::SfuConnectionChanged(SfuConnection::Receiving)),
            SfuLinkEvent::Status(ConnectionStatus::Reconnecting) if leg == SfuLeg::Subscribe => {
                self.room
                    .dispatch(Action::SfuConnectionChanged(SfuConnection::Restoring))
            }
            SfuLinkEvent::Status(ConnectionStatus::Failed) => {
                self.failed(&format!("the {leg:?} connection failed"));
            }
            SfuLinkEvent::Status(_) | SfuLinkEvent::Error(RtcError::ReplaceTrack(_)) => {}
            SfuLinkEvent::Error(err) => self.failed(&format!("{leg:?}: {err}")),
        }
        None
    }

    /// Shows what the subscriber receives now, per participant: microphone and camera as one
    /// stream, the screen as another; only streams that changed are handed to the tiles.
    fn show_received(&mut self) {
        let Some(sections) = self.pending.pop_front() else {
            return;
        };
        let Some(subscriber) = &self.subscriber else {
            return;
        };
        let by_mid: HashMap<String, MediaStreamTrack> =
            subscriber.received_tracks().into_iter().collect();
        let mut per_peer: HashMap<PeerId, [Option<MediaStreamTrack>; 3]> = HashMap::new();
        self.senders = sections
            .iter()
            .map(|section| (section.mid.clone(), section.peer_id.clone()))
            .collect();
        for section in sections {
            let (Some(track), Ok(index)) =
                (by_mid.get(&section.mid), usize::try_from(section.index))
            else {
                continue;
            };
            if let Some(slot) = per_peer.entry(section.peer_id).or_default().get_mut(index) {
                // The same track: `track.clone()` would be JavaScript's, a new track.
                *slot = Some(Clone::clone(track));
            }
        }
        for (peer, [audio, camera, screen]) in per_peer {
            let shown = self.shown.entry(peer.clone()).or_default();
            let camera_tracks: Vec<MediaStreamTrack> =
                [audio, camera].into_iter().flatten().collect();
            let ids: Vec<String> = camera_tracks.iter().map(MediaStreamTrack::id).collect();
            if !camera_tracks.is_empty() && shown.camera != ids {
                if let Some(stream) = stream_of(&camera_tracks) {
                    shown.camera = ids;
                    self.streams
                        .dispatch(StreamChange::CameraChanged(peer.clone(), stream));
                }
            }
            if let Some(screen) = screen {
                if shown.screen.as_deref() != Some(screen.id().as_str()) {
                    if let Some(stream) = stream_of(std::slice::from_ref(&screen)) {
                        shown.screen = Some(screen.id());
                        self.streams
                            .dispatch(StreamChange::ScreenChanged(peer.clone(), stream));
                    }
                }
            }
        }
    }

    /// Reads both connections' statistics; they arrive as [`Input::SfuStats`].
    pub(super) fn sample_stats(&self) {
        let Some(subscriber) = &self.subscriber else {
            return;
        };
        let subscriber = subscriber.connection();
        let publisher = self.publisher.as_ref().map(SfuLink::connection);
        let (tx, attempt) = (self.inputs.clone(), self.attempt);
        wasm_bindgen_futures::spawn_local(async move {
            let received = match stats_of(&subscriber).await {
                Ok(snapshot) => snapshot,
                Err(err) => return warn(&format!("stats of the SFU subscriber: {err}")),
            };
            let sent = match publisher {
                Some(pc) => stats_of(&pc).await.ok(),
                None => None,
            };
            let _ = tx.unbounded_send(Input::SfuStats(attempt, Box::new((received, sent))));
        });
    }

    /// Whether statistics of attempt `attempt` are about the connections up now.
    fn is_current(&self, attempt: u32) -> bool {
        attempt == self.attempt && self.restart_in.is_none()
    }

    /// Each remote participant's part of the statistics of attempt `attempt` (none from an
    /// attempt already dropped).
    pub(super) fn stats_per_peer(
        &self,
        attempt: u32,
        received: &Snapshot,
        sent: Option<&Snapshot>,
    ) -> Vec<(PeerId, Snapshot)> {
        if !self.is_current(attempt) {
            return Vec::new();
        }
        let peers: std::collections::HashSet<&PeerId> = self.senders.values().collect();
        peers
            .into_iter()
            .map(|peer| {
                let theirs = |mid: &str| self.senders.get(mid) == Some(peer);
                (peer.clone(), received.sfu_share(theirs, sent))
            })
            .collect()
    }

    /// Judges our downlink from the subscriber's statistics of attempt `attempt`: whether
    /// the highest camera layer it carries changed.
    pub(super) fn judge_downlink(&mut self, attempt: u32, received: &Snapshot) -> bool {
        if !self.is_current(attempt) {
            return false;
        }
        let sample = DownlinkSample {
            timestamp_ms: received.timestamp_ms,
            packets: received.inbound.iter().map(|s| s.packets).sum(),
            lost: received.inbound.iter().map(|s| s.lost).sum(),
        };
        self.downlink.sampled(sample).is_some()
    }

    /// The highest camera layer our downlink carries now.
    pub(super) fn downlink_cap(&self) -> SimulcastLayer {
        self.downlink.cap()
    }

    /// Our camera, microphone or screen changed from `before` to `after`.
    pub(super) fn set_tracks(&self, before: &LocalTracks, after: &LocalTracks) {
        if let Some(publisher) = &self.publisher {
            for kind in TrackKind::ALL {
                if after.get(kind) != before.get(kind) {
                    publisher.replace_track(kind, after.get(kind).cloned());
                }
            }
        }
    }

    /// Sets the single upstream's video from the upload budget: full budget for one
    /// receiver, since the media server forwards it to everyone; paused when nobody wants it
    /// (`anyone`: what anyone wants of it).
    pub(super) fn apply_budget(&self, anyone: VideoWanted, speaking: bool, sharing_screen: bool) {
        let Some(publisher) = &self.publisher else {
            return;
        };
        let input = BudgetInput {
            budget_bps: self.budget_bps,
            available_bps: None,
            wants: vec![anyone],
            speaking,
            sharing_screen,
        };
        if let Some((camera, screen)) = split_budget(&input).into_iter().next() {
            publisher.set_video_params(camera, screen);
        }
    }

    /// A participant left: its streams go with it.
    pub(super) fn remove_peer(&mut self, peer: &PeerId) {
        self.shown.remove(peer);
        self.streams
            .dispatch(StreamChange::ConnectionClosed(peer.clone()));
    }
}
