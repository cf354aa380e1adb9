//! What can go wrong for a viewer, each with the HTTP status WHEP gives it.

use warp::http::StatusCode;

use super::sdp::SdpError;
use crate::janus::JanusError;

/// Why a WHEP request is refused.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The room is not live on this relay (or never was).
    #[error("this meeting is not live")]
    NotLive,
    /// No viewer token, or not this live's.
    #[error("the viewer token is missing or wrong")]
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
    /// No such viewer resource.
    #[error("no such viewer")]
    NoSuchViewer,
    /// The live has its most viewers.
    #[error("this live has its most viewers ({0}); try again later")]
    Full(u32),
    /// The stage is not on the media server yet (the room is moving to it).
    #[error("the stage is not ready yet; try again in a moment")]
    NotReady,
    /// The media server failed.
    #[error("the media server failed: {0}")]
    MediaServer(#[from] JanusError),
}

impl LiveError {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            LiveError::NotLive | LiveError::NoSuchViewer => StatusCode::NOT_FOUND,
            LiveError::BadToken => StatusCode::UNAUTHORIZED,
            LiveError::NotSdp => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            LiveError::Sdp(_) => StatusCode::BAD_REQUEST,
            LiveError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            LiveError::Full(_) | LiveError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            LiveError::MediaServer(_) => StatusCode::BAD_GATEWAY,
        }
    }
}
