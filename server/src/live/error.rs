//! What can go wrong for a viewer, each with the HTTP status WHEP gives it.

use warp::http::StatusCode;

use super::sdp::SdpError;
use crate::janus::JanusError;

/// Why a WHEP request is refused.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The room is not live on this relay (or never was), or the token is not its live's:
    /// the same answer, so a guess learns nothing.
    #[error("this meeting is not live, or the link's token is not its live's")]
    NotLive,
    /// No viewer token at all.
    #[error("a viewer token is needed (Authorization: Bearer)")]
    BadToken,
    /// The request body is not `application/sdp`.
    #[error("a WHEP offer is sent as application/sdp")]
    NotSdp,
    /// The offer is larger than any browser's, or its length is not given.
    #[error("the offer must come with a Content-Length of at most {0} bytes")]
    TooLarge(u64),
    /// The offer cannot be used.
    #[error("the offer cannot be used: {0}")]
    Sdp(#[from] SdpError),
    /// The live writes no HLS, not yet, or no such segment (any more).
    #[error(
        "no such HLS file: this live has no HLS, it has not started yet, or the segment is gone"
    )]
    NoHls,
    /// No such viewer resource.
    #[error("no such viewer")]
    NoSuchViewer,
    /// The live has its most viewers.
    #[error("this live has its most viewers ({0}); try again later")]
    Full(u32),
    /// The offer numbers its codecs unlike every kind the live already serves, and it
    /// serves as many kinds as it may.
    #[error(
        "this live serves at most {0} kinds of players, and the offer's codec numbering is another"
    )]
    TooManyKinds(usize),
    /// The stage is not on the media server yet (the room is moving to it).
    #[error("the stage is not ready yet; try again in a moment")]
    NotReady,
    /// The media server failed (the details go to the relay's log, not to the viewer).
    #[error("the media server failed; try again later")]
    MediaServer(#[from] JanusError),
}

impl LiveError {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            LiveError::NotLive | LiveError::NoSuchViewer | LiveError::NoHls => {
                StatusCode::NOT_FOUND
            }
            LiveError::BadToken => StatusCode::UNAUTHORIZED,
            LiveError::NotSdp => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            LiveError::Sdp(_) => StatusCode::BAD_REQUEST,
            LiveError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            LiveError::Full(_) | LiveError::NotReady | LiveError::TooManyKinds(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            LiveError::MediaServer(_) => StatusCode::BAD_GATEWAY,
        }
    }
}
