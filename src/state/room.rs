//! The state of a meeting page: who is here, how each connection is doing, and what failed.

use super::ViewMode;
use crate::rtc::ConnectionStatus;
use meshmeet_protocol::{
    ErrorCode, LiveInfo, MediaMode, PeerId, PeerInfo, Reaction, RtmpOutputState,
    DEFAULT_MAX_CHAT_CHARS,
};
use std::rc::Rc;
use yew::Reducible;

/// Where the participant is in the meeting's life.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the relay's welcome.
    #[default]
    Connecting,
    /// In the room.
    InCall,
    /// Left on purpose.
    Left,
    /// Could not join, or lost the meeting.
    Failed(RoomFailure),
}

/// Why the meeting could not go on, in terms the UI explains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomFailure {
    /// The room has its maximum of participants.
    RoomFull,
    /// Password missing or wrong.
    WrongPassword,
    /// Page and relay speak different protocol versions.
    VersionMismatch,
    /// The display name was refused.
    InvalidName,
    /// The room name was refused.
    InvalidRoom,
    /// The relay could not be reached at all.
    Unreachable,
    /// The relay connection was lost.
    Lost,
    /// The host locked the room before we got in.
    RoomLocked,
    /// The host removed us earlier: we cannot come back.
    RemovedBefore,
    /// The host removed us during the call.
    Removed,
    /// The host ended the meeting for everyone.
    MeetingEnded,
    /// Too many failed joins from our address.
    TooManyAttempts,
    /// The meeting link's token is not valid.
    InvalidToken,
    /// The meeting link's token expired.
    TokenExpired,
    /// The meeting is end-to-end encrypted and this browser cannot encrypt media frames.
    E2eeUnsupported,
    /// The meeting is end-to-end encrypted and our link has no passphrase (its `#` part).
    E2eeNoPassphrase,
    /// Our link asks for end-to-end encryption and the meeting was opened without it.
    E2eeRoomNotEncrypted,
    /// Another refusal, with the relay's words.
    Refused(String),
}

impl RoomFailure {
    /// The failure a fatal relay error means.
    pub fn from_error(code: ErrorCode, message: &str) -> Self {
        match code {
            ErrorCode::RoomFull => RoomFailure::RoomFull,
            ErrorCode::WrongPassword => RoomFailure::WrongPassword,
            ErrorCode::VersionMismatch => RoomFailure::VersionMismatch,
            ErrorCode::InvalidName => RoomFailure::InvalidName,
            ErrorCode::InvalidRoom => RoomFailure::InvalidRoom,
            ErrorCode::RoomLocked => RoomFailure::RoomLocked,
            ErrorCode::Removed => RoomFailure::RemovedBefore,
            ErrorCode::TooManyAttempts => RoomFailure::TooManyAttempts,
            ErrorCode::InvalidToken => RoomFailure::InvalidToken,
            ErrorCode::TokenExpired => RoomFailure::TokenExpired,
            _ => RoomFailure::Refused(message.to_owned()),
        }
    }
}

/// A problem that does not end the meeting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The relay refused one request, with its words.
    Refused(String),
    /// The relay cannot take the room live, with its words (what the operator must set up).
    LiveUnavailable(String),
    /// A camera the host added did not come in, with the relay's words (its address masked).
    CameraFailed(String),
    /// The host asks us to mute.
    MuteRequested,
    /// Frame encryption failed in this browser (its words).
    FrameKeys(String),
    /// A frame key handed to us did not open: our link's passphrase is not theirs.
    FrameKeyMismatch,
    /// Relay-only connections cannot get a TURN relay address: the TURN server refused
    /// the credentials (`auth_refused`) or could not be reached.
    TurnFailed {
        /// The TURN server answered 401 (wrong credentials).
        auth_refused: bool,
    },
}

/// The connection to the relay, once in the call. Peer connections do not need it to carry
/// media, so losing it only pauses joins, leaves and new negotiations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RelayStatus {
    /// Connected (or not yet joined).
    #[default]
    Connected,
    /// Lost; trying again.
    Reconnecting,
}

/// Our connections to the SFU, as the tiles need to know it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SfuConnection {
    /// Receiving (or, right after the switch, still on the mesh's media).
    #[default]
    Receiving,
    /// Lost (the media server failed, or a connection did): being started again.
    Restoring,
}

/// A remote participant as the grid shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemotePeer {
    /// What the relay says about them.
    pub info: PeerInfo,
    /// The state of our peer connection to them.
    pub connection: ConnectionStatus,
}

/// Everything the meeting page shows that is not a media object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomState {
    /// Joining, in the call, left or failed.
    pub phase: Phase,
    /// Our relay-assigned id, once welcomed.
    pub self_id: Option<PeerId>,
    /// The others, in join order.
    pub peers: Vec<RemotePeer>,
    /// A non-fatal problem to show until dismissed.
    pub notice: Option<Notice>,
    /// The side panel shown, if any.
    pub panel: Option<Panel>,
    /// Receive audio only (no video from anyone).
    pub audio_only: bool,
    /// The relay connection's state.
    pub relay: RelayStatus,
    /// Grid or speaker view.
    pub view: ViewMode,
    /// The tile pinned to the stage.
    pub pinned: Option<PeerId>,
    /// Who spoke last (loudest above the speaking level).
    pub speaker: Option<PeerId>,
    /// Own tile shrunk to a corner preview.
    pub self_minimised: bool,
    /// The keyboard shortcuts dialog is open.
    pub help_open: bool,
    /// Arrivals and departures to show briefly (and announce to screen readers).
    pub toasts: Vec<Toast>,
    /// The room's host, as the relay last said.
    pub host: Option<PeerId>,
    /// Whether the host locked the room.
    pub locked: bool,
    /// The room's live (its stage and watch token) while it is live.
    pub live: Option<LiveInfo>,
    /// The encoders we (as host) let in, newest last: their names and WHIP tokens.
    pub ingests: Vec<IngestGrant>,
    /// How each RTMP address of our live is doing (as the host that set them).
    pub live_outputs: Vec<RtmpOutputState>,
    /// The relay's chat limit in characters, once it welcomed us (see [`RoomState::chat_limit`]).
    pub max_chat_chars: Option<u32>,
    /// How media travels in the room now, as the relay last said.
    pub topology: MediaMode,
    /// Whether the room is end-to-end encrypted with frame encryption (set when it opened).
    pub e2ee: bool,
    /// The safety code of the frame key in use, in an encrypted room.
    pub safety_code: Option<String>,
    /// Reactions floating over tiles now, oldest first (one per person).
    pub reactions: Vec<ShownReaction>,
    /// Numbers the next reaction.
    next_reaction: u64,
    /// Our connections to the SFU, in an SFU room: `Connected` unless they failed or are
    /// being restored (see [`RoomState::media_connection`]).
    pub sfu_connection: SfuConnection,
    /// Numbers the next toast.
    next_toast: u64,
}

/// A reaction floating over someone's tile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownReaction {
    /// Numbers it, to end it.
    pub id: u64,
    /// Whose tile.
    pub peer: PeerId,
    /// Which.
    pub reaction: Reaction,
}

/// An encoder the host let publish into the room over WHIP (`ingest_created`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestGrant {
    /// The name it appears under.
    pub name: String,
    /// Its bearer token.
    pub token: String,
}

/// Encoders' tokens kept on the host's page, as many as the relay keeps per room.
pub const MAX_INGESTS: usize = meshmeet_protocol::MAX_INGESTS_PER_ROOM;

/// Longest list of toasts on screen; older ones give way.
pub const MAX_TOASTS: usize = 3;

/// A short-lived message about someone arriving or leaving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    /// Unique within the meeting, to dismiss it.
    pub id: u64,
    /// What happened.
    pub kind: ToastKind,
    /// Who it happened to.
    pub name: String,
}

/// What a toast says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    /// Someone joined.
    Joined,
    /// Someone left.
    Left,
}

/// The side panels of the call; one is open at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Panel {
    /// Connection figures of one peer.
    Stats(PeerId),
    /// Chat and files.
    Chat,
    /// Everyone in the meeting, and the invite link.
    Participants,
    /// Camera, microphone and speaker pickers.
    Settings,
}

/// Everything that changes a [`RoomState`]. Actions name what happened (past tense:
/// `PeerJoined`, `RelayChanged`) when the meeting task reports them, and what to do
/// (imperative: `TogglePanel`, `DismissNotice`) when the person asks on the page; the other
/// reducers follow the same pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The relay welcomed us.
    Welcomed {
        /// Our id.
        self_id: PeerId,
        /// The others already there.
        roster: Vec<PeerInfo>,
        /// The room's host.
        host: Option<PeerId>,
        /// Whether the room is locked.
        locked: bool,
        /// Whether the room is live.
        live: Option<LiveInfo>,
        /// The relay's chat limit, in characters (from its room limits).
        max_chat_chars: u32,
        /// Whether the room is end-to-end encrypted (frame encryption).
        e2ee: bool,
    },
    /// Someone (we included) reacted: shown on their tile until [`Action::ReactionEnded`].
    Reacted(PeerId, Reaction),
    /// A reaction's moment is over.
    ReactionEnded(u64),
    /// The safety code of the frame key in use changed (`None` while a new key's is worked
    /// out).
    SafetyCode(Option<String>),
    /// The room has a new host.
    HostChanged(PeerId),
    /// The host locked or unlocked the room.
    LockChanged(bool),
    /// The room went live, changed its stage, or the live ended.
    LiveChanged(Option<LiveInfo>),
    /// The relay gave us (the host) an encoder's WHIP token.
    IngestCreated(IngestGrant),
    /// The relay told us (the host) how the live's RTMP addresses are doing.
    LiveOutputs(Vec<RtmpOutputState>),
    /// Someone joined.
    PeerJoined(PeerInfo),
    /// Someone left.
    PeerLeft(PeerId),
    /// Someone's name or media changed.
    PeerUpdated(PeerInfo),
    /// A peer connection changed state.
    ConnectionChanged(PeerId, ConnectionStatus),
    /// The meeting cannot go on.
    Failed(RoomFailure),
    /// A non-fatal problem arose (shown until dismissed).
    NoticeRaised(Notice),
    /// Hide the notice.
    DismissNotice,
    /// We left.
    Left,
    /// Open a panel, or close it if it is open.
    TogglePanel(Panel),
    /// We switched to receiving audio only, or video again.
    AudioOnlyChanged(bool),
    /// The room moved to the mesh or the SFU.
    TopologyChanged(MediaMode),
    /// Our SFU connections failed and are being restored, or receive again.
    SfuConnectionChanged(SfuConnection),
    /// The relay connection dropped or came back.
    RelayChanged(RelayStatus),
    /// Switch between grid and speaker view.
    ToggleView,
    /// Show or hide the keyboard shortcuts.
    ToggleHelp,
    /// Pin this tile to the stage, or unpin it if it is pinned.
    TogglePin(PeerId),
    /// Someone else took the stage as the speaker.
    SpeakerChanged(PeerId),
    /// Minimise or restore the own tile.
    ToggleSelfView,
    /// A toast timed out or was closed.
    DismissToast(u64),
}

impl RoomState {
    /// How media from `peer` reaches us, for their tile: their peer connection in a mesh;
    /// in an SFU room, *reconnecting* while our SFU connections are being restored (every
    /// tile's media comes through them), else their peer connection's state.
    pub fn media_connection(&self, peer: &RemotePeer) -> ConnectionStatus {
        match (self.topology, self.sfu_connection) {
            (MediaMode::Sfu, SfuConnection::Restoring) => ConnectionStatus::Reconnecting,
            _ => peer.connection,
        }
    }

    /// The reaction floating over `peer`'s tile now, if any.
    pub fn reaction_of(&self, peer: &PeerId) -> Option<Reaction> {
        self.reactions
            .iter()
            .find(|r| &r.peer == peer)
            .map(|r| r.reaction)
    }

    /// The longest chat text to let people type: the relay's limit, or the protocol's default
    /// before the relay said.
    pub fn chat_limit(&self) -> u32 {
        self.max_chat_chars.unwrap_or(DEFAULT_MAX_CHAT_CHARS)
    }

    /// A fresh state for someone who joins receiving audio only, or not.
    pub fn new(audio_only: bool) -> Self {
        RoomState {
            audio_only,
            ..RoomState::default()
        }
    }

    /// Applies one action.
    pub fn apply(mut self, action: Action) -> Self {
        match action {
            Action::Welcomed {
                self_id,
                roster,
                host,
                locked,
                live,
                max_chat_chars,
                e2ee,
            } => {
                self.phase = Phase::InCall;
                self.e2ee = e2ee;
                self.max_chat_chars = Some(max_chat_chars);
                self.relay = RelayStatus::Connected;
                self.self_id = Some(self_id);
                self.peers = roster.into_iter().map(RemotePeer::new).collect();
                self.host = host;
                self.locked = locked;
                self.live = live;
            }
            Action::SafetyCode(code) => self.safety_code = code,
            Action::Reacted(peer, reaction) => {
                // A new one replaces the person's last: one per tile.
                self.reactions.retain(|r| r.peer != peer);
                self.next_reaction += 1;
                self.reactions.push(ShownReaction {
                    id: self.next_reaction,
                    peer,
                    reaction,
                });
            }
            Action::ReactionEnded(id) => self.reactions.retain(|r| r.id != id),
            Action::HostChanged(host) => self.host = Some(host),
            Action::LockChanged(locked) => self.locked = locked,
            Action::LiveChanged(live) => {
                // A live that ended took its outputs with it.
                if live.is_none() {
                    self.live_outputs.clear();
                }
                self.live = live;
            }
            Action::LiveOutputs(rtmp) => self.live_outputs = rtmp,
            Action::IngestCreated(grant) => {
                // The relay forgets the oldest beyond its limit too.
                if self.ingests.len() >= MAX_INGESTS {
                    self.ingests.remove(0);
                }
                self.ingests.push(grant);
            }
            Action::PeerJoined(info) => {
                // A rejoin under the same id replaces the old entry instead of doubling it.
                let known = self.peers.iter().any(|p| p.info.id == info.id);
                self.peers.retain(|p| p.info.id != info.id);
                if !known {
                    self.toast(ToastKind::Joined, info.name.clone());
                }
                self.peers.push(RemotePeer::new(info));
            }
            Action::PeerLeft(id) => {
                if let Some(peer) = self.peers.iter().find(|p| p.info.id == id) {
                    let name = peer.info.name.clone();
                    self.toast(ToastKind::Left, name);
                }
                self.peers.retain(|p| p.info.id != id);
                if self.pinned.as_ref() == Some(&id) {
                    self.pinned = None;
                }
                if self.speaker.as_ref() == Some(&id) {
                    self.speaker = None;
                }
            }
            Action::ToggleView => {
                self.view = match self.view {
                    ViewMode::Grid => ViewMode::Speaker,
                    ViewMode::Speaker => ViewMode::Grid,
                }
            }
            Action::ToggleHelp => self.help_open = !self.help_open,
            Action::TogglePin(id) => {
                self.pinned = if self.pinned.as_ref() == Some(&id) {
                    None
                } else {
                    Some(id)
                };
            }
            Action::SpeakerChanged(id) => self.speaker = Some(id),
            Action::ToggleSelfView => self.self_minimised = !self.self_minimised,
            Action::DismissToast(id) => self.toasts.retain(|t| t.id != id),
            Action::PeerUpdated(info) => {
                if let Some(peer) = self.peer_mut(&info.id) {
                    peer.info = info;
                }
            }
            Action::ConnectionChanged(id, status) => {
                if let Some(peer) = self.peer_mut(&id) {
                    peer.connection = status;
                }
            }
            Action::Failed(failure) => {
                // Leaving on purpose closes the socket; that is not a failure to show.
                if self.phase != Phase::Left {
                    self.phase = Phase::Failed(failure);
                    self.peers.clear();
                }
            }
            Action::NoticeRaised(text) => self.notice = Some(text),
            Action::DismissNotice => self.notice = None,
            Action::Left => {
                self.phase = Phase::Left;
                self.peers.clear();
            }
            Action::AudioOnlyChanged(audio_only) => self.audio_only = audio_only,
            Action::TopologyChanged(mode) => {
                self.topology = mode;
                // A new SFU session starts trusted: the mesh carries media until it is up.
                self.sfu_connection = SfuConnection::Receiving;
            }
            Action::SfuConnectionChanged(connection) => self.sfu_connection = connection,
            Action::RelayChanged(link) => self.relay = link,
            Action::TogglePanel(panel) => {
                self.panel = if self.panel.as_ref() == Some(&panel) {
                    None
                } else {
                    Some(panel)
                };
            }
        }
        self
    }

    fn toast(&mut self, kind: ToastKind, name: String) {
        self.next_toast += 1;
        self.toasts.push(Toast {
            id: self.next_toast,
            kind,
            name,
        });
        if self.toasts.len() > MAX_TOASTS {
            self.toasts.remove(0);
        }
    }

    /// Whether we are the room's host (the relay enforces it; this only decides what the
    /// page offers).
    pub fn is_host(&self) -> bool {
        self.self_id.is_some() && self.self_id == self.host
    }

    fn peer_mut(&mut self, id: &PeerId) -> Option<&mut RemotePeer> {
        self.peers.iter_mut().find(|p| &p.info.id == id)
    }
}

impl RemotePeer {
    fn new(info: PeerInfo) -> Self {
        RemotePeer {
            info,
            connection: ConnectionStatus::Connecting,
        }
    }
}

impl Reducible for RoomState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new((*self).clone().apply(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshmeet_protocol::MediaState;

    fn info(id: &str, name: &str) -> PeerInfo {
        PeerInfo {
            id: PeerId::from(id),
            name: name.into(),
            media: MediaState {
                mic: true,
                camera: true,
                screen: false,
            },
        }
    }

    fn joined(roster: Vec<PeerInfo>) -> RoomState {
        RoomState::new(false).apply(Action::Welcomed {
            self_id: PeerId::from("me"),
            roster,
            host: Some(PeerId::from("a")),
            locked: false,
            live: None,
            max_chat_chars: 2000,
            e2ee: false,
        })
    }

    #[test]
    fn a_reaction_floats_over_its_tile_until_it_ends_and_a_new_one_replaces_it() {
        let state = joined(vec![info("a", "Ana")]);
        let a = PeerId::from("a");
        let state = state.apply(Action::Reacted(a.clone(), Reaction::Clap));
        assert_eq!(state.reaction_of(&a), Some(Reaction::Clap));
        let first = state.reactions[0].id;
        let state = state.apply(Action::Reacted(a.clone(), Reaction::Heart));
        assert_eq!(state.reactions.len(), 1, "one per tile");
        assert_eq!(state.reaction_of(&a), Some(Reaction::Heart));
        // The first one's timer ending does not take the second away.
        let state = state.apply(Action::ReactionEnded(first));
        assert_eq!(state.reaction_of(&a), Some(Reaction::Heart));
        let second = state.reactions[0].id;
        let state = state.apply(Action::ReactionEnded(second));
        assert_eq!(state.reaction_of(&a), None);
    }

    #[test]
    fn the_chat_limit_is_the_relays_once_welcomed() {
        let before = RoomState::new(false);
        assert_eq!(before.chat_limit(), DEFAULT_MAX_CHAT_CHARS);
        let after = before.apply(Action::Welcomed {
            self_id: PeerId::from("me"),
            roster: Vec::new(),
            host: None,
            locked: false,
            live: None,
            max_chat_chars: 500,
            e2ee: false,
        });
        assert_eq!(after.chat_limit(), 500);
    }

    #[test]
    fn arrivals_and_departures_make_toasts_but_the_roster_at_welcome_does_not() {
        let state = joined(vec![info("a", "Ana")]);
        assert!(state.toasts.is_empty());
        let state = state
            .apply(Action::PeerJoined(info("b", "Bo")))
            .apply(Action::PeerLeft(PeerId::from("a")))
            .apply(Action::PeerLeft(PeerId::from("nobody")));
        let said: Vec<_> = state
            .toasts
            .iter()
            .map(|t| (t.kind, t.name.as_str()))
            .collect();
        assert_eq!(said, [(ToastKind::Joined, "Bo"), (ToastKind::Left, "Ana")]);
        let first = state.toasts[0].id;
        let state = state.apply(Action::DismissToast(first));
        assert_eq!(state.toasts.len(), 1);
    }

    #[test]
    fn the_host_keeps_the_newest_encoder_tokens_as_the_relay_does() {
        let mut state = joined(Vec::new());
        for n in 0..=MAX_INGESTS {
            state = state.apply(Action::IngestCreated(IngestGrant {
                name: format!("Camera {n}"),
                token: format!("t{n}"),
            }));
        }
        assert_eq!(state.ingests.len(), MAX_INGESTS);
        assert_eq!(state.ingests[0].name, "Camera 1");
        assert_eq!(
            state.ingests.last().map(|g| g.token.as_str()),
            Some(format!("t{MAX_INGESTS}").as_str())
        );
    }

    #[test]
    fn the_host_sees_each_rtmp_address_until_the_live_ends() {
        use meshmeet_protocol::RtmpOutputStatus;
        let live = LiveInfo {
            stage: vec![PeerId::from("ana")],
            watch_token: "t".into(),
            follow_speaker: false,
        };
        let failing = RtmpOutputState {
            address: "rtmp://b/app/****".into(),
            status: RtmpOutputStatus::Failing,
            reason: Some("Connection refused".into()),
            retry_secs: Some(2),
        };
        let state = joined(Vec::new())
            .apply(Action::LiveChanged(Some(live.clone())))
            .apply(Action::LiveOutputs(vec![failing.clone()]));
        assert_eq!(state.live_outputs, vec![failing.clone()]);
        // A stage change keeps them; the end of the live clears them.
        let state = state.apply(Action::LiveChanged(Some(live)));
        assert_eq!(state.live_outputs, vec![failing]);
        let state = state.apply(Action::LiveChanged(None));
        assert!(state.live_outputs.is_empty());
    }

    #[test]
    fn toasts_keep_only_the_latest_few() {
        let mut state = joined(vec![]);
        for i in 0..(MAX_TOASTS + 2) {
            state = state.apply(Action::PeerJoined(info(&format!("p{i}"), &format!("P{i}"))));
        }
        assert_eq!(state.toasts.len(), MAX_TOASTS);
        assert_eq!(
            state.toasts[MAX_TOASTS - 1].name,
            format!("P{}", MAX_TOASTS + 1)
        );
    }

    #[test]
    fn pins_toggle_and_a_departed_pinned_or_speaking_peer_is_forgotten() {
        let state = joined(vec![info("a", "Ana"), info("b", "Bo")])
            .apply(Action::TogglePin(PeerId::from("a")))
            .apply(Action::SpeakerChanged(PeerId::from("a")));
        assert_eq!(state.pinned, Some(PeerId::from("a")));
        let unpinned = state.clone().apply(Action::TogglePin(PeerId::from("a")));
        assert_eq!(unpinned.pinned, None);
        let gone = state.apply(Action::PeerLeft(PeerId::from("a")));
        assert_eq!((gone.pinned, gone.speaker), (None, None));
    }

    #[test]
    fn the_view_and_the_help_toggle() {
        let state = joined(vec![])
            .apply(Action::ToggleView)
            .apply(Action::ToggleHelp);
        assert_eq!((state.view, state.help_open), (ViewMode::Speaker, true));
        let state = state.apply(Action::ToggleView).apply(Action::ToggleHelp);
        assert_eq!((state.view, state.help_open), (ViewMode::Grid, false));
    }

    #[test]
    fn a_new_welcome_after_losing_the_relay_replaces_the_roster_and_ends_reconnecting() {
        let state = joined(vec![info("a", "Ana"), info("b", "Bo")])
            .apply(Action::RelayChanged(RelayStatus::Reconnecting));
        assert_eq!(state.relay, RelayStatus::Reconnecting);
        assert_eq!(state.phase, Phase::InCall, "the call goes on meanwhile");
        let state = state.apply(Action::Welcomed {
            self_id: PeerId::from("me2"),
            roster: vec![info("c", "Cy")],
            host: Some(PeerId::from("c")),
            locked: false,
            live: None,
            max_chat_chars: 2000,
            e2ee: false,
        });
        assert_eq!(state.relay, RelayStatus::Connected);
        let ids: Vec<_> = state.peers.iter().map(|p| p.info.id.as_str()).collect();
        assert_eq!(ids, ["c"]);
        assert_eq!(state.self_id, Some(PeerId::from("me2")));
    }

    #[test]
    fn welcome_enters_the_call_with_the_roster_in_join_order() {
        let state = joined(vec![info("a", "Ana"), info("b", "Bo")]);
        assert_eq!(state.phase, Phase::InCall);
        assert_eq!(state.self_id, Some(PeerId::from("me")));
        let names: Vec<_> = state.peers.iter().map(|p| p.info.name.as_str()).collect();
        assert_eq!(names, ["Ana", "Bo"]);
        assert!(state
            .peers
            .iter()
            .all(|p| p.connection == ConnectionStatus::Connecting));
    }

    #[test]
    fn joins_and_leaves_update_the_grid() {
        let state = joined(vec![info("a", "Ana")])
            .apply(Action::PeerJoined(info("b", "Bo")))
            .apply(Action::PeerJoined(info("c", "Cy")))
            .apply(Action::PeerLeft(PeerId::from("a")));
        let ids: Vec<_> = state.peers.iter().map(|p| p.info.id.as_str()).collect();
        assert_eq!(ids, ["b", "c"]);
    }

    #[test]
    fn a_repeated_join_does_not_duplicate_a_tile() {
        let state = joined(vec![info("a", "Ana")]).apply(Action::PeerJoined(info("a", "Ana")));
        assert_eq!(state.peers.len(), 1);
    }

    #[test]
    fn peer_updates_and_connection_states_reach_the_right_tile() {
        let mut muted = info("b", "Bo");
        muted.media.mic = false;
        let state = joined(vec![info("a", "Ana"), info("b", "Bo")])
            .apply(Action::PeerUpdated(muted))
            .apply(Action::ConnectionChanged(
                PeerId::from("a"),
                ConnectionStatus::Connected,
            ));
        assert!(state.peers[0].info.media.mic);
        assert!(!state.peers[1].info.media.mic);
        assert_eq!(state.peers[0].connection, ConnectionStatus::Connected);
        assert_eq!(state.peers[1].connection, ConnectionStatus::Connecting);
    }

    #[test]
    fn updates_for_unknown_peers_change_nothing() {
        let before = joined(vec![info("a", "Ana")]);
        let after = before
            .clone()
            .apply(Action::PeerUpdated(info("zz", "Ghost")))
            .apply(Action::ConnectionChanged(
                PeerId::from("zz"),
                ConnectionStatus::Failed,
            ))
            .apply(Action::PeerLeft(PeerId::from("zz")));
        assert_eq!(before, after);
    }

    #[test]
    fn one_side_panel_is_open_at_a_time() {
        let state = RoomState::default().apply(Action::TogglePanel(Panel::Participants));
        assert_eq!(state.panel, Some(Panel::Participants));
        let state = state.apply(Action::TogglePanel(Panel::Settings));
        assert_eq!(state.panel, Some(Panel::Settings));
        let state = state.apply(Action::TogglePanel(Panel::Settings));
        assert_eq!(state.panel, None);
    }

    #[test]
    fn audio_only_is_remembered_until_switched_back() {
        let state = RoomState::default().apply(Action::AudioOnlyChanged(true));
        assert!(state.audio_only);
        assert!(!state.apply(Action::AudioOnlyChanged(false)).audio_only);
    }

    #[test]
    fn the_room_starts_as_a_mesh_and_follows_the_relays_topology() {
        let state = RoomState::default();
        assert_eq!(state.topology, MediaMode::Mesh);
        let state = state.apply(Action::TopologyChanged(MediaMode::Sfu));
        assert_eq!(state.topology, MediaMode::Sfu);
        let state = state.apply(Action::TopologyChanged(MediaMode::Mesh));
        assert_eq!(state.topology, MediaMode::Mesh);
    }

    #[test]
    fn in_an_sfu_room_every_tile_shows_reconnecting_while_the_sfu_connections_are_restored() {
        let ben = RemotePeer {
            info: info("b", "Ben"),
            connection: ConnectionStatus::Connected,
        };
        let mesh =
            RoomState::default().apply(Action::SfuConnectionChanged(SfuConnection::Restoring));
        assert_eq!(
            mesh.media_connection(&ben),
            ConnectionStatus::Connected,
            "a mesh room's tiles follow their own link"
        );
        let sfu = RoomState::default().apply(Action::TopologyChanged(MediaMode::Sfu));
        assert_eq!(sfu.media_connection(&ben), ConnectionStatus::Connected);
        let lost = sfu.apply(Action::SfuConnectionChanged(SfuConnection::Restoring));
        assert_eq!(lost.media_connection(&ben), ConnectionStatus::Reconnecting);
        let back = lost.apply(Action::SfuConnectionChanged(SfuConnection::Receiving));
        assert_eq!(back.media_connection(&ben), ConnectionStatus::Connected);
        // A new topology starts from a clean slate.
        let again = RoomState::default()
            .apply(Action::TopologyChanged(MediaMode::Sfu))
            .apply(Action::SfuConnectionChanged(SfuConnection::Restoring))
            .apply(Action::TopologyChanged(MediaMode::Mesh))
            .apply(Action::TopologyChanged(MediaMode::Sfu));
        assert_eq!(again.media_connection(&ben), ConnectionStatus::Connected);
    }

    #[test]
    fn room_full_is_a_failure_the_page_can_explain() {
        let state = RoomState::default().apply(Action::Failed(RoomFailure::from_error(
            ErrorCode::RoomFull,
            "room is full",
        )));
        assert_eq!(state.phase, Phase::Failed(RoomFailure::RoomFull));
    }

    #[test]
    fn host_and_lock_follow_the_relay() {
        let state = joined(vec![info("a", "Ana")]);
        assert_eq!(state.host, Some(PeerId::from("a")));
        assert!(!state.is_host());
        let state = state
            .apply(Action::HostChanged(PeerId::from("me")))
            .apply(Action::LockChanged(true));
        assert!(state.is_host());
        assert!(state.locked);
        assert!(!state.apply(Action::LockChanged(false)).locked);
    }

    #[test]
    fn host_refusals_become_failures_the_page_can_explain() {
        for (code, failure) in [
            (ErrorCode::RoomLocked, RoomFailure::RoomLocked),
            (ErrorCode::Removed, RoomFailure::RemovedBefore),
            (ErrorCode::TooManyAttempts, RoomFailure::TooManyAttempts),
            (ErrorCode::InvalidToken, RoomFailure::InvalidToken),
            (ErrorCode::TokenExpired, RoomFailure::TokenExpired),
        ] {
            assert_eq!(RoomFailure::from_error(code, "x"), failure);
        }
    }

    #[test]
    fn leaving_clears_the_grid_and_a_later_socket_close_is_not_a_failure() {
        let state = joined(vec![info("a", "Ana")])
            .apply(Action::Left)
            .apply(Action::Failed(RoomFailure::Lost));
        assert_eq!(state.phase, Phase::Left);
        assert!(state.peers.is_empty());
    }
}
