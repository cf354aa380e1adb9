//! A participant's downstream: one VideoRoom handle joined as a subscriber to any number of
//! publishers' streams (one multistream connection), whose offers come from Janus.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};

use super::events::SubscribedStream;
use super::handle::PluginHandle;
use super::videoroom::{decode, field};
use super::wire::JsepKind;
use super::{JanusClient, JanusError, JanusRoom};

/// A participant's subscription. It derefs to its [`PluginHandle`] (events, trickle,
/// hangup).
#[derive(Debug)]
pub struct Subscriber {
    handle: PluginHandle,
}

/// A stream to subscribe to or drop: a publisher's feed, all of it or one of its mids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StreamRequest {
    /// The publisher's feed id.
    pub feed: u64,
    /// One stream of it (its mid in the publisher's SDP); all of them when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
}

impl StreamRequest {
    /// Every stream of `feed`.
    pub fn feed(feed: u64) -> StreamRequest {
        StreamRequest { feed, mid: None }
    }
}

/// What an update of a subscription did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Updated {
    /// A new offer for the browser.
    Offer(Subscription),
    /// Nothing to negotiate (Janus had made the change already): the streams as they are,
    /// where Janus lists them.
    Unchanged(Option<Vec<SubscribedStream>>),
}

/// Janus's offer to a subscriber and what each of its streams carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The SDP offer for the browser.
    pub offer: String,
    /// Every stream of the subscription: mid → publisher feed and kind.
    pub streams: Vec<SubscribedStream>,
}

impl JanusClient {
    /// Subscribes to `streams` of `room` (with the room's pin) on a new handle: Janus's
    /// offer, to be answered with [`PluginHandle::start`].
    pub async fn subscribe(
        self: &Arc<Self>,
        room: &JanusRoom,
        streams: &[StreamRequest],
    ) -> Result<(Subscriber, Subscription), JanusError> {
        let handle = PluginHandle::attach(self).await?;
        let body = json!({
            "request": "join",
            "ptype": "subscriber",
            "room": room.id,
            "pin": room.pin.expose(),
            "streams": streams,
        });
        // On failure, the handle is dropped, which detaches it.
        let subscriber = Subscriber { handle };
        let subscription = subscriber.offer("join", &body, "attached").await?;
        Ok((subscriber, subscription))
    }
}

impl Subscriber {
    /// Adds and removes streams: Janus's new offer, to be answered with
    /// [`PluginHandle::start`].
    pub async fn update(
        &self,
        subscribe: &[StreamRequest],
        unsubscribe: &[StreamRequest],
    ) -> Result<Updated, JanusError> {
        let mut body = json!({ "request": "update" });
        if !subscribe.is_empty() {
            body["subscribe"] = json!(subscribe);
        }
        if !unsubscribe.is_empty() {
            body["unsubscribe"] = json!(unsubscribe);
        }
        let (data, offer) = self
            .handle
            .request_maybe_sdp("update", &body, "updated", JsepKind::Offer)
            .await?;
        // Janus renegotiates a subscription by itself when a publisher leaves; asked for
        // the same change, it has nothing to offer, and may not list the streams either.
        let streams: Option<Vec<SubscribedStream>> = match field(&data, "streams") {
            Value::Null => None,
            streams => Some(decode(streams, "update")?),
        };
        match (offer, streams) {
            (Some(offer), Some(streams)) => Ok(Updated::Offer(Subscription { offer, streams })),
            (Some(_), None) => Err(JanusError::Unexpected {
                request: "update".to_owned(),
                detail: "an offer without its streams".to_owned(),
            }),
            (None, streams) => Ok(Updated::Unchanged(streams)),
        }
    }

    /// Tells Janus whether to send each of these streams (by the subscription's mid) and,
    /// for a simulcast one, which `substream` (0 lowest, 2 highest): a stream not sent
    /// costs no bandwidth and is resumed with a key frame. Streams not named keep what they
    /// were told.
    pub async fn send_streams(
        &self,
        sends: &[(String, bool, Option<u8>)],
    ) -> Result<(), JanusError> {
        let streams: Vec<Value> = sends
            .iter()
            .map(|(mid, send, substream)| {
                let mut stream = json!({ "mid": mid, "send": send });
                if let Some(substream) = substream {
                    stream["substream"] = json!(substream);
                }
                stream
            })
            .collect();
        let body = json!({ "request": "configure", "streams": streams });
        self.handle
            .request("configure", &body, None, "event", None)
            .await
            .map(drop)
    }

    /// Frees the handle in Janus.
    pub async fn detach(self) -> Result<(), JanusError> {
        self.handle.detach().await
    }

    /// A request answered by an offer and the stream list.
    async fn offer(
        &self,
        what: &str,
        body: &Value,
        kind: &str,
    ) -> Result<Subscription, JanusError> {
        let (data, offer) = self
            .handle
            .request(what, body, None, kind, Some(JsepKind::Offer))
            .await?;
        let streams = decode(field(&data, "streams"), what)?;
        let offer = offer.ok_or_else(|| JanusError::Unexpected {
            request: what.to_owned(),
            detail: "no offer".into(),
        })?;
        Ok(Subscription { offer, streams })
    }
}

impl Deref for Subscriber {
    type Target = PluginHandle;

    fn deref(&self) -> &PluginHandle {
        &self.handle
    }
}

impl DerefMut for Subscriber {
    fn deref_mut(&mut self) -> &mut PluginHandle {
        &mut self.handle
    }
}
