//! The watch page's question to the relay: is the room live, is its stage on air, how many
//! watch (`GET /live/<room>/status?t=<token>`, PROTOCOL.md "Live audience").

use crate::js::fetch_text;
use meshmeet_protocol::LiveStatus;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// Why the status could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LiveStatusError {
    /// The relay could not be reached, or answered something else than the status.
    #[error("the relay could not be reached: {0}")]
    Network(String),
    /// The watch link's token is not this live's.
    #[error("the watch link is not valid")]
    BadToken,
}

/// The path of `room`'s WHEP endpoint.
pub fn whep_path(room: &str) -> String {
    format!("/whep/{}", utf8_percent_encode(room, NON_ALPHANUMERIC))
}

/// Asks the relay about `room`'s live with `token`.
pub async fn live_status(room: &str, token: &str) -> Result<LiveStatus, LiveStatusError> {
    let room = utf8_percent_encode(room, NON_ALPHANUMERIC);
    let token = utf8_percent_encode(token, NON_ALPHANUMERIC);
    let reply = fetch_text("GET", &format!("/live/{room}/status?t={token}"), &[], None)
        .await
        .map_err(|e| LiveStatusError::Network(e.to_string()))?;
    match reply.status {
        200 => {
            serde_json::from_str(&reply.text).map_err(|e| LiveStatusError::Network(e.to_string()))
        }
        401 => Err(LiveStatusError::BadToken),
        status => Err(LiveStatusError::Network(format!("HTTP {status}"))),
    }
}
