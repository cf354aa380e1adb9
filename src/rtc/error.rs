//! Errors of the peer-connection layer.

use crate::js::JsError;

/// A failed WebRTC operation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RtcError {
    /// `new RTCPeerConnection` failed (bad ICE server URL, browser without WebRTC).
    #[error("cannot create a peer connection: {0}")]
    Create(JsError),
    /// Creating or applying a session description failed.
    #[error("negotiation failed: {0}")]
    Negotiation(JsError),
    /// Adding a remote ICE candidate failed.
    #[error("bad ICE candidate: {0}")]
    Candidate(JsError),
    /// Sending on a data channel failed (closed, or its buffer is full).
    #[error("data channel: {0}")]
    Channel(JsError),
    /// Swapping a sent track failed.
    #[error("cannot replace the track: {0}")]
    ReplaceTrack(JsError),
    /// Frame encryption could not be attached to a sender or receiver.
    #[error("{0}")]
    FrameCrypto(#[from] super::FrameCryptoError),
}
