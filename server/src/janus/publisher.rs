//! A participant's upstream: a VideoRoom handle joined as a publisher under its meshmeet
//! peer id, which publishes the browser's offer and returns Janus's answer.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::events::Feed;
use super::handle::PluginHandle;
use super::videoroom::decode;
use super::wire::{Jsep, JsepKind};
use super::{JanusClient, JanusError, JanusRoom};

/// A participant joined as a publisher. It derefs to its [`PluginHandle`] (events, trickle,
/// hangup).
#[derive(Debug)]
pub struct Publisher {
    handle: PluginHandle,
    feed_id: u64,
}

/// What Janus answers to a publisher's `join`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PublisherJoined {
    /// The publisher's id in the room (its feed, what subscribers name).
    #[serde(rename = "id")]
    pub feed_id: u64,
    /// Who already publishes in the room.
    #[serde(default)]
    pub publishers: Vec<Feed>,
}

impl JanusClient {
    /// Joins `room` as a publisher named `display` (the meshmeet peer id) on a new handle,
    /// with the room's pin: a participant only gets into rooms the relay let it into.
    pub async fn join_publisher(
        self: &Arc<Self>,
        room: &JanusRoom,
        display: &str,
    ) -> Result<(Publisher, PublisherJoined), JanusError> {
        let handle = PluginHandle::attach(self).await?;
        let body = json!({
            "request": "join",
            "ptype": "publisher",
            "room": room.id,
            "pin": room.pin.expose(),
            "display": display,
        });
        // On failure, the handle is dropped, which detaches it.
        let (data, _) = handle.request("join", &body, None, "joined", None).await?;
        let joined: PublisherJoined = decode(data, "join")?;
        let publisher = Publisher {
            handle,
            feed_id: joined.feed_id,
        };
        Ok((publisher, joined))
    }
}

impl Publisher {
    /// The publisher's feed id in the room.
    pub fn feed_id(&self) -> u64 {
        self.feed_id
    }

    /// Publishes (or renegotiates) with the browser's SDP `offer`: Janus's SDP answer.
    pub async fn publish(&self, offer: &str) -> Result<String, JanusError> {
        self.configure(Jsep::offer(offer)).await
    }

    /// Publishes an encoder's `offer` that carries all its candidates and takes none
    /// trickled (WHIP without `PATCH`): Janus's answer carries all of Janus's.
    pub async fn publish_complete(&self, offer: &str) -> Result<String, JanusError> {
        self.configure(Jsep::complete_offer(offer)).await
    }

    async fn configure(&self, jsep: Jsep) -> Result<String, JanusError> {
        let body = json!({ "request": "configure" });
        let (_, answer) = self
            .handle
            .request(
                "configure",
                &body,
                Some(&jsep),
                "event",
                Some(JsepKind::Answer),
            )
            .await?;
        answer.ok_or_else(|| JanusError::Unexpected {
            request: "configure".into(),
            detail: "no answer".into(),
        })
    }

    /// Stops publishing, staying in the room.
    pub async fn unpublish(&self) -> Result<(), JanusError> {
        self.handle.plain("unpublish").await
    }

    /// Frees the handle in Janus, leaving the room.
    pub async fn detach(self) -> Result<(), JanusError> {
        self.handle.detach().await
    }
}

impl Deref for Publisher {
    type Target = PluginHandle;

    fn deref(&self) -> &PluginHandle {
        &self.handle
    }
}

impl DerefMut for Publisher {
    fn deref_mut(&mut self) -> &mut PluginHandle {
        &mut self.handle
    }
}
