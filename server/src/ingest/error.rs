//! What can go wrong for an encoder, each with the HTTP status WHIP gives it.

use warp::http::StatusCode;

use crate::error::RelayError;
use crate::janus::JanusError;
use crate::sfu::SDP_REFUSALS;

/// Why a WHIP request is refused.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// No bearer token, or not one the host created for this room on this relay.
    #[error("an ingest token the meeting's host created on this relay is needed (Authorization: Bearer)")]
    BadToken,
    /// The request body is not `application/sdp`.
    #[error("a WHIP offer is sent as application/sdp")]
    NotSdp,
    /// The offer is larger than any encoder's, or its length is not given.
    #[error("the offer must come with a Content-Length of at most {0} bytes")]
    TooLarge(u64),
    /// The offer is not a session description that publishes anything.
    #[error("the offer cannot be used: {0}")]
    BadOffer(String),
    /// The relay has no media server, or it is unreachable.
    #[error("publishing into a meeting needs the media server, and it is not available; try again later")]
    NoMediaServer,
    /// The room is small enough for the mesh, where nothing but browsers can take part.
    #[error("the meeting is not on the media server now (it is small): the host goes live, or more people join, first")]
    NotOnSfu,
    /// The meeting refused the encoder: full, locked, or the host removed it.
    #[error("the meeting refused the encoder: {0}")]
    Refused(String),
    /// The meeting refused for a while (full): worth trying again later.
    #[error("the meeting is full; try again later")]
    Full,
    /// No such encoder resource (ended already, or never).
    #[error("no such encoder session")]
    NoSuchSession,
    /// The camera did not answer, or sent nothing usable.
    #[error("{0}")]
    CameraFailed(String),
    /// The media server failed (details go to the relay's log).
    #[error("the media server failed; try again later")]
    MediaServer,
}

impl IngestError {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            IngestError::BadToken => StatusCode::UNAUTHORIZED,
            IngestError::NotSdp => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IngestError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            IngestError::BadOffer(_) => StatusCode::BAD_REQUEST,
            IngestError::CameraFailed(_) => StatusCode::BAD_GATEWAY,
            IngestError::NotOnSfu => StatusCode::CONFLICT,
            IngestError::Refused(_) => StatusCode::FORBIDDEN,
            IngestError::NoSuchSession => StatusCode::NOT_FOUND,
            IngestError::NoMediaServer | IngestError::Full => StatusCode::SERVICE_UNAVAILABLE,
            IngestError::MediaServer => StatusCode::BAD_GATEWAY,
        }
    }

    /// A refusal of the registry or the SFU, as the encoder is told it.
    pub fn from_relay(err: RelayError) -> IngestError {
        match err {
            RelayError::RoomFull { .. } | RelayError::TooManyRooms => IngestError::Full,
            RelayError::InvalidSdp(reason) => IngestError::BadOffer(reason),
            RelayError::MediaServerFailed(_) => IngestError::MediaServer,
            RelayError::WrongTopology { .. } => IngestError::NotOnSfu,
            other => IngestError::Refused(other.to_string()),
        }
    }
}

impl From<JanusError> for IngestError {
    fn from(err: JanusError) -> Self {
        match err {
            JanusError::Refused { code, reason, .. } if SDP_REFUSALS.contains(&code) => {
                IngestError::BadOffer(reason)
            }
            other => {
                tracing::warn!(err = %other, "media server request for an encoder failed");
                IngestError::MediaServer
            }
        }
    }
}
