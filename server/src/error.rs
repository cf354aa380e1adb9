//! The relay's errors: what a client is told when a request is refused ([`RelayError`]), and
//! what stops the relay from starting ([`ConfigError`], [`ServeError`]).

use meshmeet_protocol::{ErrorCode, ServerMsg, TextError, CLIENT_KEY_CHARS};

/// A refused client request. Each one maps to exactly one [`ErrorCode`] and is sent to the
/// client that caused it, never to anyone else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// The text is not a message of the protocol.
    #[error("Not a valid message: {0}")]
    BadMessage(String),
    /// A binary frame.
    #[error("Binary frames are not supported; send JSON text frames")]
    BinaryNotSupported,
    /// A frame over the size limit.
    #[error("Message of {size} bytes is larger than the limit of {max} bytes")]
    TooLarge {
        /// Size of the refused frame, in bytes.
        size: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// The connection sends faster than its rate limit.
    #[error("Too many messages: at most {per_second} per second; messages are being dropped")]
    RateLimited {
        /// The sustained rate allowed.
        per_second: u32,
    },
    /// A join with another protocol version.
    #[error("This relay speaks protocol version {expected}, the client speaks {got}; reload the page to update the client")]
    VersionMismatch {
        /// What the client sent.
        got: u64,
        /// What the relay speaks.
        expected: u32,
    },
    /// A message that needs a room before the join.
    #[error("Join a room first")]
    NotJoined,
    /// A second join on one connection.
    #[error("Already in a room; open a new connection to join another")]
    AlreadyJoined,
    /// The room name failed validation.
    #[error("Room name {0}")]
    InvalidRoom(TextError),
    /// The display name failed validation.
    #[error("Display name {0}")]
    InvalidName(TextError),
    /// The chat text failed validation.
    #[error("Chat message {0}")]
    InvalidText(TextError),
    /// A chat whose `seq` does not go up.
    #[error("Chat seq {seq} must be greater than your previous chat's ({last})")]
    InvalidSeq {
        /// The refused number.
        seq: u64,
        /// The highest number this participant sent before (0: none).
        last: u64,
    },
    /// A join whose `client_key` is malformed: refused rather than ignored, so a removed
    /// participant cannot slip back in by sending a key the relay would not record.
    #[error(
        "client_key must be {} to {} ASCII letters, digits, '-' or '_'",
        CLIENT_KEY_CHARS.start(),
        CLIENT_KEY_CHARS.end()
    )]
    InvalidClientKey,
    /// The room is at its participant limit.
    #[error("The room is full ({max} participants)")]
    RoomFull {
        /// The limit.
        max: u32,
    },
    /// The relay is at its room limit.
    #[error("The relay has too many rooms open; try again later")]
    TooManyRooms,
    /// A signal to someone who is not another participant of the sender's room.
    #[error("No other participant with id {0} in this room")]
    UnknownPeer(String),
    /// The room's password was not given, or not this one.
    #[error("This room needs a password, and the one given is missing or wrong")]
    WrongPassword,
    /// A `resume` for a session this relay does not hold (anymore).
    #[error("That session is unknown or expired; join the room again")]
    SessionExpired,
    /// Something failed inside the relay; the details are logged, not sent.
    #[error("Internal relay error")]
    Internal,
    /// Too many failed joins from this address.
    #[error(
        "Too many failed attempts to join from your address; try again in {retry_after_secs} s"
    )]
    TooManyAttempts {
        /// Seconds until one more attempt is allowed.
        retry_after_secs: u64,
    },
    /// The join token is malformed, forged, for another room, or required and missing.
    #[error("Join token refused: {0}")]
    InvalidToken(String),
    /// The join token has expired.
    #[error("The join token has expired; ask for a new meeting link")]
    TokenExpired,
    /// The room is locked by its host.
    #[error("The host has locked this room; nobody new can join")]
    RoomLocked,
    /// The host removed this participant; it cannot join the room again.
    #[error("The host removed you from this room; you cannot join it again")]
    Removed,
    /// A host action from someone who is not the host.
    #[error("Only the host can do that")]
    NotHost,
    /// The shared room store (Redis) cannot be reached; sent with the `internal` code, which
    /// closes the connection, so the client reconnects (through the load balancer, perhaps to
    /// a relay that can serve it).
    #[error("The relay cannot reach its shared room store right now; reconnect in a few seconds")]
    Unavailable,
    /// An SFU message in a mesh room, or for another epoch than the room's.
    #[error("That SFU message is for epoch {got}, but the room is {now}")]
    WrongTopology {
        /// The epoch the message named.
        got: u64,
        /// The room's topology now, for people (`a mesh now (epoch 2)`).
        now: String,
    },
    /// An SFU message that does not fit the state of the participant's connections.
    #[error("{0}")]
    SfuOutOfOrder(&'static str),
    /// The media server refused a session description.
    #[error("The media server refused the session description: {0}")]
    InvalidSdp(String),
    /// The media server failed during a request.
    #[error("The media server failed: {0}")]
    MediaServerFailed(String),
    /// A join that needs the media server while none is reachable.
    #[error("This meeting is too large for direct connections and the media server is unreachable; try again later")]
    SfuUnavailable,
    /// A `go_live` the relay cannot do (the message says why).
    #[error("{0}")]
    LiveUnavailable(&'static str),
    /// An `add_camera` that did not work (the message says why).
    #[error("{0}")]
    CameraFailed(String),
    /// Something that needs the server to see the media, in an end-to-end encrypted room
    /// (the message says what).
    #[error("{0}")]
    EncryptedRoom(&'static str),
}

impl RelayError {
    /// The protocol's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            RelayError::BadMessage(_) => ErrorCode::BadMessage,
            RelayError::BinaryNotSupported => ErrorCode::BinaryNotSupported,
            RelayError::TooLarge { .. } => ErrorCode::TooLarge,
            RelayError::RateLimited { .. } => ErrorCode::RateLimited,
            RelayError::VersionMismatch { .. } => ErrorCode::VersionMismatch,
            RelayError::NotJoined => ErrorCode::NotJoined,
            RelayError::AlreadyJoined => ErrorCode::AlreadyJoined,
            RelayError::InvalidRoom(_) => ErrorCode::InvalidRoom,
            RelayError::InvalidName(_) => ErrorCode::InvalidName,
            RelayError::InvalidText(_) => ErrorCode::InvalidText,
            RelayError::InvalidSeq { .. } => ErrorCode::InvalidSeq,
            RelayError::InvalidClientKey => ErrorCode::InvalidClientKey,
            RelayError::RoomFull { .. } => ErrorCode::RoomFull,
            RelayError::TooManyRooms => ErrorCode::TooManyRooms,
            RelayError::UnknownPeer(_) => ErrorCode::UnknownPeer,
            RelayError::WrongPassword => ErrorCode::WrongPassword,
            RelayError::SessionExpired => ErrorCode::SessionExpired,
            RelayError::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            RelayError::InvalidToken(_) => ErrorCode::InvalidToken,
            RelayError::TokenExpired => ErrorCode::TokenExpired,
            RelayError::RoomLocked => ErrorCode::RoomLocked,
            RelayError::Removed => ErrorCode::Removed,
            RelayError::NotHost => ErrorCode::NotHost,
            RelayError::Internal | RelayError::Unavailable => ErrorCode::Internal,
            RelayError::WrongTopology { .. } => ErrorCode::WrongTopology,
            RelayError::SfuOutOfOrder(_) => ErrorCode::SfuOutOfOrder,
            RelayError::InvalidSdp(_) => ErrorCode::InvalidSdp,
            RelayError::MediaServerFailed(_) => ErrorCode::MediaServerFailed,
            RelayError::SfuUnavailable => ErrorCode::SfuUnavailable,
            RelayError::LiveUnavailable(_) => ErrorCode::LiveUnavailable,
            RelayError::CameraFailed(_) => ErrorCode::CameraFailed,
            RelayError::EncryptedRoom(_) => ErrorCode::EncryptedRoom,
        }
    }

    /// The message sent to the client.
    pub fn to_server_msg(&self) -> ServerMsg {
        ServerMsg::Error {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

/// Why going live is refused in an end-to-end encrypted room.
pub const LIVE_IN_ENCRYPTED_ROOM: &str = "This meeting is end-to-end encrypted: the server cannot see its media, so it cannot be streamed live (local recording still works)";
/// Why an encoder or a camera is refused in an end-to-end encrypted room.
pub const DEVICE_IN_ENCRYPTED_ROOM: &str = "This meeting is end-to-end encrypted: an encoder or a camera cannot encrypt its frames, so it cannot take part";

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Values that contradict each other.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// The TLS certificate or key cannot be used.
    #[error("TLS: {0}")]
    Tls(String),
}

/// Why the relay could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listening socket could not be used.
    #[error("cannot use the listening socket: {0}")]
    Listener(#[source] std::io::Error),
    /// The HTTP server stopped without being asked to (its task panicked).
    #[error("the HTTP server stopped unexpectedly: {0}")]
    ServerStopped(String),
}
