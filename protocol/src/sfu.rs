//! The parts of messages about a room's media topology and the SFU (see PROTOCOL.md,
//! "Large rooms: the SFU"): which topology a room uses, and what describes a stream or a
//! candidate of a participant's connections to the media server.

use serde::{Deserialize, Serialize};

use crate::PeerId;

/// How media travels in a room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaMode {
    /// Browser to browser: one peer connection per pair of participants.
    #[default]
    Mesh,
    /// Through the media server: each participant publishes once and receives everyone
    /// else on one connection.
    Sfu,
}

/// A room's topology and the number of its switch: every switch gets the next `epoch`, and
/// every SFU message names the epoch it belongs to, so messages of an earlier topology are
/// recognised and dropped on both sides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Topology {
    /// The mode.
    pub mode: MediaMode,
    /// 0 for a room's first mesh, then one more per switch.
    pub epoch: u64,
}

/// A layer of a simulcast camera: the publisher sends its camera at three sizes (full, half
/// and quarter resolution), and each subscriber gets the one its tile needs.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SimulcastLayer {
    /// A quarter of the camera's resolution: thumbnails, a strip beside the stage.
    Low,
    /// Half the resolution: a grid of many.
    Medium,
    /// As captured: a large tile.
    #[default]
    High,
}

/// The simulcast layer wanted of one participant's camera.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraLayer {
    /// Whose camera.
    pub peer_id: PeerId,
    /// The layer.
    pub layer: SimulcastLayer,
}

/// Which of a participant's two connections to the media server a candidate belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SfuLeg {
    /// The upstream: what the participant publishes.
    Publish,
    /// The downstream: everyone else's media.
    Subscribe,
}

/// What a stream of a subscription carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    /// Sound.
    Audio,
    /// Pictures: a camera or a shared screen.
    Video,
}

/// One media section of the subscription connection: whose media arrives on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuStream {
    /// The media section's id in the offer (`a=mid`).
    pub mid: String,
    /// The participant whose media it is.
    pub peer_id: PeerId,
    /// Audio or video.
    pub kind: StreamKind,
    /// Which of that participant's published sections it is (0, 1, 2… in the order of the
    /// publisher's offer: the media layout of PROTOCOL.md, so camera and screen are told
    /// apart).
    pub index: u32,
}
