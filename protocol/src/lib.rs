//! The wire protocol between the meshmeet client and relay: JSON text frames over one WebSocket.
//!
//! Message direction is in the type name: [`ClientMsg`] goes from a browser to the relay,
//! [`ServerMsg`] from the relay to a browser. Every message is a JSON object whose `type`
//! field names the variant in `snake_case`. PROTOCOL.md shows an example of each one; a test
//! parses every example there into these types, so the document and the code cannot drift.
//!
//! This crate holds the serde types (each message declared once: its tag and field names
//! live only in its derive), the limits both sides agree on, pure validation, and
//! [`ProtocolMsg`], through which the relay and the browser alike read and write the JSON text
//! with serde_json: no I/O, so the wasm client and the native relay share it unchanged.

use serde::{Deserialize, Serialize};
use std::fmt;

mod limits;
mod live;
mod message;
mod peer;
mod reaction;
mod sfu;
mod tags;
mod validate;

pub use limits::{
    DEFAULT_MAX_CHAT_CHARS, DEFAULT_MAX_DISPLAY_NAME_CHARS, DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_ROOM_NAME_CHARS,
};
pub use live::{
    mask_rtmp_url, LiveInfo, LiveOutputs, LiveStatus, RtmpOutputState, RtmpOutputStatus,
    MAX_INGESTS_PER_ROOM, MAX_RTMP_TARGETS, MAX_RTMP_URL_BYTES, MAX_STAGE,
};
pub use message::{DecodeError, ProtocolMsg, MAX_NESTING_DEPTH};
pub use peer::{decode_chunk, encode_chunk, PeerMsg, FILE_CHUNK_BYTES};
pub use reaction::Reaction;
pub use sfu::{CameraLayer, MediaMode, SfuLeg, SfuStream, SimulcastLayer, StreamKind, Topology};
pub use validate::{
    is_valid_client_key, normalize_chat_text, validate_display_name, validate_room_name, TextError,
    CLIENT_KEY_CHARS,
};

/// Version of this protocol. Sent by the client in [`ClientMsg::Join`] and by the relay in
/// [`ServerMsg::Welcome`]; the relay refuses a join with another version
/// ([`ErrorCode::VersionMismatch`]).
pub const PROTOCOL_VERSION: u32 = 2;

/// A participant's id, assigned by the relay when it joins (unguessable, unique per relay
/// cluster). Clients never choose it; the relay stamps it on everything it forwards.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PeerId(pub String);

impl PeerId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for PeerId {
    fn from(s: &str) -> Self {
        PeerId(s.to_owned())
    }
}

/// A room's name as it appears in the link `/r/<room>`; see [`validate_room_name`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoomName(pub String);

impl RoomName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret the relay hands a participant in [`ServerMsg::Welcome`]; presenting it in
/// [`ClientMsg::Resume`] on a new connection takes the participant's place back, same peer id
/// and all, within the relay's resume grace period. Only its owner knows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionToken(pub String);

impl SessionToken {
    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a participant is currently sending. Part of the roster, changed with
/// [`ClientMsg::SetMedia`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaState {
    /// Microphone on (not muted).
    pub mic: bool,
    /// Camera on.
    pub camera: bool,
    /// Sharing a screen.
    #[serde(default)]
    pub screen: bool,
}

/// One participant as the relay describes it to the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Relay-assigned id.
    pub id: PeerId,
    /// Display name, already validated by the relay.
    pub name: String,
    /// What the participant sends.
    pub media: MediaState,
}

/// A WebRTC signalling payload carried from one peer to another. The relay does not act on
/// it; it only checks its size and stamps the sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// An SDP offer.
    Offer {
        /// The session description.
        sdp: String,
    },
    /// An SDP answer.
    Answer {
        /// The session description.
        sdp: String,
    },
    /// A trickled ICE candidate (`candidate` is empty for end-of-candidates).
    Candidate {
        /// The `candidate:` line.
        candidate: String,
        /// Media section id.
        #[serde(default)]
        sdp_mid: Option<String>,
        /// Media section index.
        #[serde(default)]
        sdp_m_line_index: Option<u16>,
        /// ICE username fragment the candidate belongs to (tells ICE restarts apart).
        #[serde(default)]
        username_fragment: Option<String>,
    },
    /// The sender gave up on its peer connection to the target after repeated failures and
    /// is building a new one: the target must do the same and wait for the sender's offer.
    Reset,
    /// Frame encryption's key exchange in an end-to-end encrypted room (docs/E2EE.md):
    /// opaque to the relay, which cannot read the key it may carry.
    FrameKey {
        /// The sender's ephemeral ECDH public key (P-256, raw, base64).
        public: String,
        /// The room's new frame key, sealed for the target, when the sender hands it out.
        #[serde(default)]
        sealed: Option<SealedFrameKey>,
    },
}

/// A frame key sealed for one participant: AES-GCM under a key only the two ends can derive
/// (their ECDH secret and the room's passphrase).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedFrameKey {
    /// The number frames encrypted with it carry (0–255, wrapping).
    pub index: u8,
    /// The 12-byte IV and the ciphertext with its tag, base64.
    pub data: String,
}

/// A message from a browser to the relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Enter a room. Must be the first message on a connection; answered by
    /// [`ServerMsg::Welcome`] or an [`ServerMsg::Error`].
    Join {
        /// Must equal the relay's [`PROTOCOL_VERSION`].
        version: u32,
        /// Room to enter (created if it does not exist).
        room: RoomName,
        /// Display name shown to the others.
        name: String,
        /// Room password, where the room has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
        /// What the participant sends when it enters.
        #[serde(default)]
        media: MediaState,
        /// A signed join token (see PROTOCOL.md, "Join tokens"): admits to its room under its
        /// name without the room password.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// A random key the browser keeps for itself, so that a participant the host removed
        /// is recognised if it tries to join the same room again: 16 to 64 ASCII letters,
        /// digits, `-` or `_` ([`is_valid_client_key`]); any other value is refused with
        /// [`ErrorCode::InvalidClientKey`], never ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_key: Option<String>,
        /// Asks for an end-to-end encrypted room: every frame encrypted in the browsers with
        /// keys no server holds. Only the participant who opens the room decides; the others
        /// read it in [`ServerMsg::Welcome`].
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        e2ee: bool,
    },
    /// Take back a place in a room after the connection dropped: the first message on a new
    /// connection instead of [`ClientMsg::Join`]. Answered by [`ServerMsg::Resumed`], then
    /// everything the room sent while the participant was away, in order; or by
    /// [`ErrorCode::SessionExpired`], after which the client may send a `join` on the same
    /// connection.
    Resume {
        /// Must equal the relay's [`PROTOCOL_VERSION`].
        version: u32,
        /// The token from [`ServerMsg::Welcome`].
        session: SessionToken,
    },
    /// Send a signalling payload to exactly one other peer of the same room.
    Signal {
        /// The target peer.
        to: PeerId,
        /// The payload, forwarded as is.
        signal: Signal,
    },
    /// Announce a change of microphone, camera or screen share.
    SetMedia {
        /// The new state.
        media: MediaState,
    },
    /// Change the display name.
    SetName {
        /// The new name.
        name: String,
    },
    /// A room-wide text message relayed by the server: the chat fallback for peers whose data
    /// channel is not open.
    Chat {
        /// The sender's message number: from 1, greater than the number of every chat this
        /// membership sent before (through the relay or a data channel: one count for both),
        /// so `(sender, seq)` names one message. The relay refuses a number that does not
        /// go up with [`ErrorCode::InvalidSeq`].
        seq: u64,
        /// The message text.
        text: String,
    },
    /// Leave the room; the relay announces [`ServerMsg::PeerLeft`] and closes the socket.
    Leave,
    /// Application keep-alive; answered by [`ServerMsg::Pong`] with the same nonce.
    Ping {
        /// Echoed back.
        nonce: u64,
    },
    /// Host only: lock the room (nobody new may join) or unlock it.
    LockRoom {
        /// The new state.
        locked: bool,
    },
    /// Host only: remove a participant from the room. It cannot join the room again.
    RemovePeer {
        /// Who to remove.
        peer_id: PeerId,
    },
    /// Host only: ask a participant to mute its microphone (its client decides).
    AskToMute {
        /// Who to ask.
        peer_id: PeerId,
    },
    /// Host only: make another participant the host.
    HandOverHost {
        /// The new host.
        peer_id: PeerId,
    },
    /// Host only: end the meeting for everyone in the room.
    EndMeeting,
    /// Host only: go live with `stage` on it (one to [`MAX_STAGE`] participants, each once;
    /// several are put side by side) or the active speaker, or change who is on the stage
    /// of a room already live. The room moves to the SFU and stays there while it is live; everyone
    /// gets [`ServerMsg::LiveChanged`].
    GoLive {
        /// Who the audience sees and hears: participants of the room.
        stage: Vec<PeerId>,
        /// Where the stage also goes (RTMP, HLS); sent again with every stage change.
        /// Kept by the relay running the live, never told to anyone.
        #[serde(default, skip_serializing_if = "LiveOutputs::is_empty")]
        outputs: LiveOutputs,
        /// Whether the stage follows whoever speaks: `stage` then names one, who is on it
        /// until someone else talks, and the relay moves the stage from then on.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        follow_speaker: bool,
    },
    /// Host only: end the live; every viewer is disconnected and the viewer token stops
    /// working. Ending the meeting ends its live too.
    StopLive,
    /// Host only: add an RTSP camera at `url` (`rtsp://` or `rtsps://`) to an SFU room as a
    /// participant named `name`: everyone gets `peer_joined` once its first picture reached
    /// the media server; the host gets [`ErrorCode::CameraFailed`] if it does not come.
    AddCamera {
        /// The name it appears under (a display name).
        name: String,
        /// Its address (credentials included, if it needs them).
        url: String,
    },
    /// Host only: let an encoder (OBS, ffmpeg, a hardware encoder) publish into an SFU room
    /// over WHIP (`POST /whip/<room>`) as a participant named `name`. Answered, to the host
    /// only, by [`ServerMsg::IngestCreated`] with the bearer token it publishes with.
    CreateIngest {
        /// The name the encoder appears under (a display name).
        name: String,
    },
    /// SFU rooms: publish (or renegotiate) this participant's upstream to the media server.
    /// Answered by [`ServerMsg::SfuPublished`]; the first one also subscribes the participant
    /// to everyone else ([`ServerMsg::SfuSubscription`]).
    SfuPublish {
        /// The room's current [`Topology::epoch`]; another one is refused with
        /// [`ErrorCode::WrongTopology`].
        epoch: u64,
        /// The browser's SDP offer.
        sdp: String,
    },
    /// SFU rooms: the browser's SDP answer to the latest [`ServerMsg::SfuSubscription`].
    SfuSubscribeAnswer {
        /// The room's current [`Topology::epoch`].
        epoch: u64,
        /// The SDP answer.
        sdp: String,
    },
    /// SFU rooms: a trickled ICE candidate of one of the participant's two connections
    /// (`candidate` empty for end-of-candidates).
    SfuCandidate {
        /// The room's current [`Topology::epoch`].
        epoch: u64,
        /// Which connection.
        leg: SfuLeg,
        /// The `candidate:` line.
        candidate: String,
        /// Media section id.
        #[serde(default)]
        sdp_mid: Option<String>,
        /// Media section index.
        #[serde(default)]
        sdp_m_line_index: Option<u16>,
    },
    /// SFU rooms: which video the participant wants from the media server, all of it at
    /// once (it replaces the previous preferences). The media server stops sending what is
    /// not wanted; a new publish starts with everything wanted.
    SfuPrefs {
        /// The room's current [`Topology::epoch`].
        epoch: u64,
        /// No video at all (cameras and screens): the participant receives audio only.
        #[serde(default)]
        audio_only: bool,
        /// Participants whose camera tiles are off screen: no camera video from them (their
        /// screen shares still come). At most as many as the room's participant limit.
        #[serde(default)]
        hidden: Vec<PeerId>,
        /// The simulcast layer wanted of participants' cameras, by the size of their tiles
        /// (a participant not named gets [`SimulcastLayer::High`]; named twice, the last
        /// counts). At most as many as the room's participant limit.
        #[serde(default)]
        layers: Vec<CameraLayer>,
    },
    /// A reaction, shown briefly on our tile to everyone else (they get
    /// [`ServerMsg::Reacted`]). Limited to a few per second.
    React {
        /// Which.
        reaction: Reaction,
    },
}

/// A message from the relay to a browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The join succeeded.
    Welcome {
        /// The relay's [`PROTOCOL_VERSION`].
        version: u32,
        /// The id the relay gave this participant.
        peer_id: PeerId,
        /// The room entered.
        room: RoomName,
        /// Everyone already in the room, in join order (without the new participant).
        roster: Vec<PeerInfo>,
        /// STUN/TURN servers to use for every peer connection.
        ice_servers: Vec<IceServer>,
        /// Whether peer connections may use only TURN relays.
        #[serde(default)]
        ice_transport_policy: IceTransportPolicy,
        /// The room's limits.
        limits: RoomLimits,
        /// Presented in [`ClientMsg::Resume`] to take this place back after a dropped
        /// connection.
        session: SessionToken,
        /// How long after its connection drops the relay keeps a participant's place for a
        /// resume; after that the others are told it left.
        resume_grace_ms: u64,
        /// The room's host (the newcomer itself when it opened the room).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<PeerId>,
        /// Whether the room is locked (always false for a room just entered, but sent for
        /// symmetry with [`ServerMsg::LockChanged`]).
        #[serde(default)]
        locked: bool,
        /// How media travels in the room now (a mesh, epoch 0, when absent).
        #[serde(default)]
        topology: Topology,
        /// Whether the room is live, and its stage (not live when absent). Boxed: most
        /// rooms are not, and every message would pay for its size.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        live: Option<Box<LiveInfo>>,
        /// Whether the room is end-to-end encrypted (as its first participant asked): what
        /// needs the server to see the media is refused with [`ErrorCode::EncryptedRoom`].
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        e2ee: bool,
    },
    /// A [`ClientMsg::Resume`] succeeded: the connection speaks for the participant again,
    /// under its old id. What the room sent meanwhile follows, in order.
    Resumed {
        /// The participant's id (unchanged).
        peer_id: PeerId,
        /// The room.
        room: RoomName,
    },
    /// Someone entered the room.
    PeerJoined {
        /// The newcomer.
        peer: PeerInfo,
    },
    /// Someone left the room, or their connection died.
    PeerLeft {
        /// Who left.
        peer_id: PeerId,
        /// Why.
        reason: LeaveReason,
    },
    /// Someone's media state or name changed.
    PeerUpdated {
        /// Their new description.
        peer: PeerInfo,
    },
    /// A signalling payload from another peer.
    Signal {
        /// The sender, stamped by the relay.
        from: PeerId,
        /// The payload as the sender wrote it.
        signal: Signal,
    },
    /// A room-wide text message.
    Chat {
        /// The sender, stamped by the relay.
        from: PeerId,
        /// The sender's message number ([`ClientMsg::Chat::seq`]): `(from, seq)` names the
        /// message, whichever way it came.
        seq: u64,
        /// The text, line breaks normalised to `\n`.
        text: String,
        /// When the relay received it, in milliseconds since the Unix epoch.
        sent_at_ms: u64,
    },
    /// Answer to [`ClientMsg::Ping`].
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// A request was refused. Where [`ErrorCode::is_fatal`], the relay closes the socket next.
    Error {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for people (English).
        message: String,
    },
    /// The relay is stopping; the client should reconnect after the given delay.
    ShuttingDown {
        /// Suggested wait before reconnecting.
        reconnect_after_ms: u64,
    },
    /// The room has a new host (the old one handed over, or left).
    HostChanged {
        /// The new host.
        peer_id: PeerId,
    },
    /// The host locked or unlocked the room; sent to everyone, the host included.
    LockChanged {
        /// The new state.
        locked: bool,
    },
    /// The host asks this participant to mute its microphone.
    MuteRequested {
        /// The host.
        by: PeerId,
    },
    /// The host removed this participant; the relay closes the socket next.
    Removed,
    /// The host ended the meeting for everyone; the relay closes the socket next.
    MeetingEnded,
    /// Fresh TURN credentials, sent before the previous ones expire; use them for every
    /// peer connection from now on.
    IceServersRenewed {
        /// The STUN/TURN servers, as in [`ServerMsg::Welcome`].
        ice_servers: Vec<IceServer>,
    },
    /// The room switched topology (it grew past the mesh's size, or stayed small long
    /// enough to return to it); sent to everyone in the room.
    TopologyChanged {
        /// The new topology.
        topology: Topology,
    },
    /// The room went live, its stage changed, or the live ended (`live` absent); sent to
    /// everyone in the room, the host included.
    LiveChanged {
        /// The live now, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        live: Option<LiveInfo>,
    },
    /// Only to the host whose [`ClientMsg::GoLive`] set the live's RTMP addresses: how each
    /// is doing, sent again whenever one changes (connected, failing, tried again).
    LiveOutputs {
        /// One per address, in the order given.
        rtmp: Vec<RtmpOutputState>,
    },
    /// Only to the host that sent [`ClientMsg::CreateIngest`]: the encoder's bearer token for
    /// `POST /whip/<room>` on this relay. It works until the meeting ends.
    IngestCreated {
        /// The name the encoder appears under.
        name: String,
        /// The bearer token (128-bit, hex).
        token: String,
    },
    /// The media server's SDP answer to [`ClientMsg::SfuPublish`].
    SfuPublished {
        /// The epoch of the publish it answers.
        epoch: u64,
        /// The SDP answer.
        sdp: String,
    },
    /// The media server's SDP offer for the participant's downstream connection: sent when it
    /// first publishes, and again whenever someone starts or stops publishing. Answered by
    /// [`ClientMsg::SfuSubscribeAnswer`].
    SfuSubscription {
        /// The room's epoch.
        epoch: u64,
        /// The SDP offer.
        sdp: String,
        /// Whose media each media section of the offer carries.
        streams: Vec<SfuStream>,
    },
    /// Someone reacted ([`ClientMsg::React`]).
    Reacted {
        /// Who (stamped by the relay).
        from: PeerId,
        /// Which.
        reaction: Reaction,
    },
}

/// One STUN or TURN server, in the shape of the browser's `RTCIceServer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:`, `turn:` or `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The browser's `iceTransportPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IceTransportPolicy {
    /// Any candidate (host, server-reflexive, relay).
    #[default]
    All,
    /// TURN relay candidates only: peers never learn each other's addresses.
    Relay,
}

/// Limits of a room, told to the client so it can check before it sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomLimits {
    /// Most participants in one room.
    pub max_participants: u32,
    /// Largest text frame the relay accepts, in bytes.
    pub max_message_bytes: u32,
    /// Sustained messages per second the relay accepts from one connection.
    pub messages_per_second: u32,
    /// Longest chat text, in characters.
    pub max_chat_chars: u32,
    /// Largest file participants send each other over data channels, in bytes (the relay
    /// never carries files; clients refuse larger ones).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
}

fn default_max_file_bytes() -> u64 {
    DEFAULT_MAX_FILE_BYTES
}

/// Why a participant left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// It sent [`ClientMsg::Leave`].
    Left,
    /// Its socket closed without a leave.
    Disconnected,
    /// It stopped answering keep-alives.
    TimedOut,
    /// The host removed it.
    Removed,
}

/// What went wrong, in [`ServerMsg::Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, not an object, an unknown `type`, or a field of the wrong type.
    BadMessage,
    /// A binary frame; the protocol is text only.
    BinaryNotSupported,
    /// A frame larger than the relay's limit.
    TooLarge,
    /// Too many messages in a short time; the message was dropped.
    RateLimited,
    /// The client speaks another protocol version.
    VersionMismatch,
    /// A message other than join before joining.
    NotJoined,
    /// A second join on the same connection.
    AlreadyJoined,
    /// The room name is empty, too long or has characters not allowed in a link.
    InvalidRoom,
    /// The display name is empty, too long or has control characters.
    InvalidName,
    /// The chat text is empty or too long.
    InvalidText,
    /// The room has its maximum number of participants.
    RoomFull,
    /// The relay has its maximum number of rooms.
    TooManyRooms,
    /// A signal to a peer that is not in the sender's room.
    UnknownPeer,
    /// The room password is missing or wrong.
    WrongPassword,
    /// A `resume` whose session is unknown or whose grace period ran out (or the relay
    /// restarted): join again instead.
    SessionExpired,
    /// Something failed inside the relay.
    Internal,
    /// Too many failed joins (wrong passwords, bad tokens) from this address; wait and retry.
    TooManyAttempts,
    /// The join token is malformed, forged, for another room, or required and missing.
    InvalidToken,
    /// The join token has expired.
    TokenExpired,
    /// The host locked the room: nobody new may join.
    RoomLocked,
    /// The host removed this participant from the room; it cannot join it again.
    Removed,
    /// A host action from a participant that is not the host.
    NotHost,
    /// A join whose `client_key` is not 16 to 64 ASCII letters, digits, `-` or `_`.
    InvalidClientKey,
    /// A chat whose `seq` is 0 or not greater than the sender's previous one.
    InvalidSeq,
    /// An SFU message in a mesh room, or naming another epoch than the room's: dropped.
    WrongTopology,
    /// An SFU message out of order (an answer with no offer pending, a candidate before the
    /// connection it belongs to): dropped.
    SfuOutOfOrder,
    /// The media server refused the session description, or it is not one.
    InvalidSdp,
    /// The media server failed or cannot be reached; the room falls back or retries.
    MediaServerFailed,
    /// The room needs the media server to admit one more participant, and none is reachable.
    SfuUnavailable,
    /// The room cannot go live now: the relay has no media server configured or reachable,
    /// or the stage asks for what the relay does not do (the message says which).
    LiveUnavailable,
    /// An `add_camera` that did not work: the camera did not answer, the meeting is not on
    /// the media server, or none is reachable (the message says which).
    CameraFailed,
    /// Refused in an end-to-end encrypted room: it needs the server to see the media (going
    /// live, an encoder or a camera in, server recording).
    EncryptedRoom,
}

impl LeaveReason {
    /// Every reason's JSON name, in declaration order, as serde names them.
    pub fn names() -> &'static [&'static str] {
        tags::of_unit_enum::<LeaveReason>()
    }
}

impl ErrorCode {
    /// Every error code's JSON name, in declaration order, as serde names them (PROTOCOL.md
    /// documents each one; a test checks).
    pub fn names() -> &'static [&'static str] {
        tags::of_unit_enum::<ErrorCode>()
    }

    /// Whether the relay closes the connection after sending this error: the join failed, or
    /// the connection cannot go on.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            ErrorCode::VersionMismatch
                | ErrorCode::RoomFull
                | ErrorCode::TooManyRooms
                | ErrorCode::WrongPassword
                | ErrorCode::Internal
                | ErrorCode::TooManyAttempts
                | ErrorCode::InvalidToken
                | ErrorCode::TokenExpired
                | ErrorCode::RoomLocked
                | ErrorCode::Removed
                | ErrorCode::InvalidClientKey
                | ErrorCode::SfuUnavailable
        )
    }
}

impl Signal {
    /// Every `kind` tag, as the derive above names them.
    pub fn tags() -> &'static [&'static str] {
        tags::of_tagged_enum::<Signal>("kind")
    }
}

impl ServerMsg {
    /// Whether the relay ends the participant's session after this message (it was removed,
    /// or the meeting ended): the socket closes next.
    pub fn ends_session(&self) -> bool {
        matches!(self, ServerMsg::Removed | ServerMsg::MeetingEnded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProtocolMsg;

    #[test]
    fn join_without_optional_fields_parses_with_defaults() {
        let msg: ClientMsg =
            serde_json::from_str(r#"{"type":"join","version":2,"room":"standup","name":"Ana"}"#)
                .expect("parses");
        assert_eq!(
            msg,
            ClientMsg::Join {
                version: 2,
                room: RoomName("standup".into()),
                name: "Ana".into(),
                password: None,
                media: MediaState::default(),
                token: None,
                client_key: None,
                e2ee: false,
            }
        );
    }

    #[test]
    fn signal_round_trips_with_nested_kind_tag() {
        let msg = ServerMsg::Signal {
            from: PeerId::from("p1"),
            signal: Signal::Candidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
                username_fragment: None,
            },
        };
        let json = serde_json::to_value(&msg).expect("serializes");
        assert_eq!(json["type"], "signal");
        assert_eq!(json["signal"]["kind"], "candidate");
        let back: ServerMsg = serde_json::from_value(json).expect("parses");
        assert_eq!(back, msg);
    }

    #[test]
    fn unknown_type_is_rejected() {
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"shout"}"#).is_err());
    }

    #[test]
    fn an_rtmp_address_s_state_reads_flat() {
        let msg = ServerMsg::LiveOutputs {
            rtmp: vec![RtmpOutputState {
                address: "rtmp://a/app/****".into(),
                status: RtmpOutputStatus::Failing,
                reason: Some("Connection refused".into()),
                retry_secs: Some(4),
            }],
        };
        let json = serde_json::to_string(&msg).expect("serializes");
        assert_eq!(
            json,
            r#"{"type":"live_outputs","rtmp":[{"address":"rtmp://a/app/****","status":"failing","reason":"Connection refused","retry_secs":4}]}"#
        );
        let back: ServerMsg = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, msg);
    }

    #[test]
    fn error_code_serializes_in_snake_case() {
        let json = serde_json::to_string(&ErrorCode::RoomFull).expect("serializes");
        assert_eq!(json, r#""room_full""#);
    }

    #[test]
    fn tag_lists_come_from_the_derives_in_declaration_order() {
        assert_eq!(ClientMsg::tags().len(), 22);
        assert_eq!(
            ClientMsg::tags()[13..17],
            ["go_live", "stop_live", "add_camera", "create_ingest"]
        );
        assert_eq!(ClientMsg::tags()[20], "sfu_prefs");
        assert_eq!(ClientMsg::tags()[0], "join");
        assert!(ClientMsg::tags().contains(&"hand_over_host"));
        assert_eq!(ServerMsg::tags().len(), 23);
        assert_eq!(ServerMsg::tags()[15], "ice_servers_renewed");
        assert_eq!(
            ServerMsg::tags()[16..],
            [
                "topology_changed",
                "live_changed",
                "live_outputs",
                "ingest_created",
                "sfu_published",
                "sfu_subscription",
                "reacted"
            ]
        );
        assert_eq!(
            Signal::tags(),
            ["offer", "answer", "candidate", "reset", "frame_key"]
        );
        assert_eq!(
            LeaveReason::names(),
            ["left", "disconnected", "timed_out", "removed"]
        );
        assert_eq!(ErrorCode::names().len(), 32);
        assert_eq!(ErrorCode::names()[0], "bad_message");
        assert_eq!(ErrorCode::names()[31], "encrypted_room");
        assert_eq!(
            ErrorCode::names()[21..24],
            ["not_host", "invalid_client_key", "invalid_seq"]
        );
    }

    #[test]
    fn every_listed_tag_is_the_one_the_types_write() {
        let client = [
            ClientMsg::Leave,
            ClientMsg::Ping { nonce: 1 },
            ClientMsg::SetName { name: "x".into() },
        ];
        for msg in client {
            let json = serde_json::to_value(&msg).expect("serializes");
            let tag = json["type"].as_str().expect("tagged");
            assert!(ClientMsg::tags().contains(&tag), "{tag}");
        }
        let json = serde_json::to_value(ServerMsg::Pong { nonce: 2 }).expect("serializes");
        assert!(ServerMsg::tags().contains(&json["type"].as_str().expect("tagged")));
        for code in ErrorCode::names() {
            let parsed: ErrorCode = serde_json::from_value(serde_json::json!(code)).expect(code);
            assert_eq!(serde_json::to_value(parsed).expect("serializes"), *code);
        }
    }

    #[test]
    fn tag_may_come_anywhere_and_defaults_apply() {
        let msg: ServerMsg = serde_json::from_str(
            r#"{"roster":[],"ice_servers":[],"peer_id":"p1","room":"r","version":2,
                "session":"s","resume_grace_ms":8000,
                "limits":{"max_participants":8,"max_message_bytes":1,"messages_per_second":1,
                "max_chat_chars":1},"type":"welcome"}"#,
        )
        .expect("parses");
        match msg {
            ServerMsg::Welcome {
                ice_transport_policy,
                limits,
                locked,
                host,
                topology,
                ..
            } => {
                assert_eq!(ice_transport_policy, IceTransportPolicy::All);
                assert_eq!(limits.max_file_bytes, DEFAULT_MAX_FILE_BYTES);
                assert!(!locked);
                assert_eq!(host, None);
                assert_eq!(topology, Topology::default());
                assert_eq!(topology.mode, MediaMode::Mesh);
            }
            other => panic!("expected welcome, got {other:?}"),
        }
    }
}
