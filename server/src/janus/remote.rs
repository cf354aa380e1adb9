//! Publishers fed plain RTP (the VideoRoom's remote publishers, Janus 1.1.2): a camera the
//! relay pulls over RTSP and sends on loopback, which subscribers get like any publisher.

use serde_json::json;

use super::videoroom::{decode, expect, field};
use super::{JanusClient, JanusError, JanusRoom};

/// Where the RTP of a remote publisher goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemotePublisher {
    /// Its id in the room (its feed).
    pub id: u64,
    /// The loopback UDP port every one of its streams is sent to.
    pub port: u16,
}

/// The SSRC Janus 1.1.2 maps to a remote publisher's stream `index` (its position in the
/// `streams` it was added with): 1000 + 10 × index. Packets with another are dropped.
pub const fn remote_ssrc(index: u32) -> u32 {
    1000 + 10 * index
}

impl JanusClient {
    /// Adds a publisher named `display` to `room` with one VP8 video stream, fed on a
    /// loopback port only (nobody else can inject media).
    pub async fn add_remote_publisher(
        &self,
        room: &JanusRoom,
        display: &str,
    ) -> Result<RemotePublisher, JanusError> {
        let body = json!({
            "request": "add_remote_publisher",
            "room": room.id,
            "secret": room.secret.expose(),
            "display": display,
            "iface": "127.0.0.1",
            // Janus 1.1.2 takes a stream's index from its place here, not from `mindex`.
            "streams": [{ "type": "video", "mindex": 0, "mid": "0", "codec": "vp8" }],
        });
        let data = self.videoroom("add_remote_publisher", &body).await?;
        expect(&data, "add_remote_publisher", "success")?;
        Ok(RemotePublisher {
            id: decode(field(&data, "id"), "add_remote_publisher")?,
            port: decode(field(&data, "port"), "add_remote_publisher")?,
        })
    }

    /// Removes the remote publisher `id` from `room` (its subscribers lose its streams).
    pub async fn remove_remote_publisher(
        &self,
        room: &JanusRoom,
        id: u64,
    ) -> Result<(), JanusError> {
        let body = json!({
            "request": "remove_remote_publisher",
            "room": room.id,
            "secret": room.secret.expose(),
            "id": id,
        });
        let data = self.videoroom("remove_remote_publisher", &body).await?;
        expect(&data, "remove_remote_publisher", "success")
    }
}
