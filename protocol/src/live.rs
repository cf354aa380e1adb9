//! The parts of messages about going live: a meeting's stage carried to an audience outside
//! it (see PROTOCOL.md, "Live").

use serde::{Deserialize, Serialize};

use crate::PeerId;

/// Most participants on a live stage.
pub const MAX_STAGE: usize = 4;

/// A room that is live: who is on the stage, and the token that lets the audience watch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveInfo {
    /// The participants the audience sees and hears, in order (one to [`MAX_STAGE`]).
    pub stage: Vec<PeerId>,
    /// The viewer token of the watch link `/live/<room>?t=<token>` and of WHEP's
    /// `Authorization: Bearer`: it lets its holder watch this live and nothing else, and
    /// stops working when the live ends.
    pub watch_token: String,
}

/// What `GET /live/<room>/status?t=<token>` answers: whether the room is live and, while it
/// is, whether the stage's media is flowing and how many watch over WebRTC. A room that is
/// not live answers `{"live": false}` whatever the token, so a guess learns nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStatus {
    /// Whether the room is live.
    pub live: bool,
    /// Whether the stage's media reaches the audience (the stage participant publishes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_air: Option<bool>,
    /// Viewers connected over WebRTC (WHEP) on the relay that runs the live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewers: Option<u64>,
}
