//! What can go wrong talking to Janus, as the relay's code needs to tell it apart.

use std::time::Duration;

/// A failed request to Janus, or a failed connection to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JanusError {
    /// No WebSocket could be opened to Janus (down, wrong address, not Janus).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The connection closed (Janus stopped or crashed, or the session timed out): every
    /// request waiting on it fails with this at once.
    #[error("connection closed: {0}")]
    Closed(String),
    /// Janus did not answer one request in time; the connection may still be usable.
    #[error("no answer to `{request}` within {after:?}")]
    Timeout {
        /// The Janus request (`create`, `attach`, or the VideoRoom request).
        request: String,
        /// How long the relay waited.
        after: Duration,
    },
    /// Janus, or its VideoRoom plugin, refused the request.
    #[error("Janus refused `{request}`: {reason} (code {code})")]
    Refused {
        /// The Janus request that was refused.
        request: String,
        /// Janus's error code (e.g. 433: unauthorized, 426: no such room).
        code: i64,
        /// Janus's explanation.
        reason: String,
    },
    /// A reply that does not have the shape the request calls for.
    #[error("unexpected reply to `{request}`: {detail}")]
    Unexpected {
        /// The Janus request.
        request: String,
        /// What was wrong with the reply.
        detail: String,
    },
}

impl JanusError {
    /// Janus's error code, if Janus refused the request.
    pub fn code(&self) -> Option<i64> {
        match self {
            JanusError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}
