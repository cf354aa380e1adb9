//! What Janus says about a plugin handle without being asked (a connection up, media
//! flowing, a publisher arriving or leaving), typed, and the bounded queue that carries it to
//! whoever holds the handle.
//!
//! The queue never blocks the connection's reader: when a handle's queue is full, the new
//! event is dropped, counted ([`EventQueue::dropped`]) and logged. A full queue means its
//! holder stopped reading; the events it would get next say where the room is now
//! (`publishers`, `unpublished`), so the newest is dropped rather than holding the reader.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;

use super::wire::{Jsep, Reply};

/// Events a handle's queue holds before new ones are dropped.
pub const EVENT_QUEUE_CAPACITY: usize = 64;

/// Something that happened on one plugin handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandleEvent {
    /// The PeerConnection is up (ICE and DTLS done).
    WebrtcUp,
    /// Janus started or stopped receiving one kind of media (`mid` names the stream).
    Media {
        /// `audio` or `video`.
        kind: String,
        /// The stream, when Janus says which.
        mid: Option<String>,
        /// Whether media now arrives.
        receiving: bool,
    },
    /// Packets are being lost on the link.
    Slowlink {
        /// Whether the loss is on what Janus sends (`true`) or receives.
        uplink: bool,
        /// The stream, when Janus says which.
        mid: Option<String>,
        /// Packets lost in the last period.
        lost: u64,
    },
    /// The PeerConnection was closed.
    Hangup {
        /// Janus's reason (`DTLS alert`, `ICE failed`, …).
        reason: String,
    },
    /// The handle is gone (detached by Janus, or its session ended).
    Detached,
    /// Publishers appeared in the room (for a publisher handle: everyone who publishes).
    Publishers(Vec<Feed>),
    /// A publisher stopped publishing.
    Unpublished(u64),
    /// A participant left the room.
    Leaving(u64),
    /// A participant was removed from the room by the relay.
    Kicked(u64),
    /// This handle left the room, or was made to (`reason`: `kicked`, …).
    Left {
        /// Why, when it was not this handle's own request.
        reason: Option<String>,
    },
    /// A subscription changed by itself (a feed it carried went away): the new streams and,
    /// when the media must be renegotiated, Janus's new offer.
    Updated {
        /// Every stream of the subscription now.
        streams: Vec<SubscribedStream>,
        /// The offer to answer with [`super::Subscriber::start`].
        offer: Option<String>,
    },
    /// The room was destroyed.
    RoomDestroyed,
    /// A publisher started or stopped talking (its sound's level averaged over the room's
    /// window crossed Janus's threshold).
    Talking {
        /// The publisher.
        id: u64,
        /// Whether it talks now.
        talking: bool,
    },
    /// A simulcast stream of a subscription now carries this layer (`substream`: 0 lowest),
    /// after a key frame of it arrived.
    Substream {
        /// The subscription's stream.
        mid: String,
        /// The layer it carries now.
        substream: u8,
    },
}

/// A publisher of the room, as Janus announces it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Feed {
    /// Janus's id of the publisher (what subscribers name in `streams`).
    pub id: u64,
    /// The display name it joined with (the meshmeet peer id).
    #[serde(default)]
    pub display: Option<String>,
    /// What it publishes.
    #[serde(default)]
    pub streams: Vec<FeedStream>,
    /// In a room that reports who talks: whether it talks now (Janus says so in the list a
    /// joiner gets; changes come as [`HandleEvent::Talking`]). Janus 1.1's per-stream
    /// `talking` in that list is written before it is known, so this one is read.
    #[serde(default)]
    pub talking: bool,
}

/// One stream a publisher sends.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FeedStream {
    /// `audio`, `video` or `data`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its mid in the publisher's SDP.
    pub mid: String,
    /// The codec Janus negotiated for it.
    #[serde(default)]
    pub codec: Option<String>,
    /// Whether the publisher stopped it.
    #[serde(default)]
    pub disabled: bool,
    /// Whether it is sent in simulcast layers (Janus says so only when it is).
    #[serde(default)]
    pub simulcast: bool,
}

/// One stream of a subscription: which publisher's stream arrives on which mid.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SubscribedStream {
    /// The mid in Janus's offer to the subscriber.
    pub mid: String,
    /// `audio`, `video` or `data`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether it carries anything (`false` once its publisher left).
    #[serde(default = "yes")]
    pub active: bool,
    /// The publisher it comes from.
    #[serde(default)]
    pub feed_id: Option<u64>,
    /// The stream's mid in the publisher's SDP.
    #[serde(default)]
    pub feed_mid: Option<String>,
    /// The publisher's display name (its meshmeet peer id).
    #[serde(default)]
    pub feed_display: Option<String>,
}

fn yes() -> bool {
    true
}

impl HandleEvent {
    /// The event `reply` carries, if it is one the relay acts on.
    pub(super) fn from_reply(reply: &Reply) -> Option<HandleEvent> {
        let text = |key: &str| {
            reply
                .extra
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match reply.janus.as_str() {
            "webrtcup" => Some(HandleEvent::WebrtcUp),
            "media" => Some(HandleEvent::Media {
                kind: text("type").unwrap_or_default(),
                mid: text("mid"),
                receiving: reply.extra.get("receiving").and_then(Value::as_bool)?,
            }),
            "slowlink" => Some(HandleEvent::Slowlink {
                uplink: reply.extra.get("uplink").and_then(Value::as_bool)?,
                mid: text("mid"),
                lost: reply.extra.get("lost").and_then(Value::as_u64).unwrap_or(0),
            }),
            "hangup" => Some(HandleEvent::Hangup {
                reason: text("reason").unwrap_or_default(),
            }),
            "detached" => Some(HandleEvent::Detached),
            "event" => {
                let data = &reply.plugindata.as_ref()?.data;
                Self::from_plugin(data, reply.jsep.as_ref())
            }
            _ => None,
        }
    }

    /// A VideoRoom notification.
    fn from_plugin(data: &Value, jsep: Option<&Jsep>) -> Option<HandleEvent> {
        let field = |key: &str| data.get(key);
        match field("videoroom").and_then(Value::as_str)? {
            "destroyed" => return Some(HandleEvent::RoomDestroyed),
            talk @ ("talking" | "stopped-talking") => {
                return Some(HandleEvent::Talking {
                    id: field("id").and_then(Value::as_u64)?,
                    talking: talk == "talking",
                });
            }
            "updated" => {
                let streams = serde_json::from_value(field("streams")?.clone()).ok()?;
                return Some(HandleEvent::Updated {
                    streams,
                    offer: jsep.map(|jsep| jsep.sdp.clone()),
                });
            }
            "event" => {}
            _ => return None,
        }
        if let Some(publishers) = field("publishers") {
            return serde_json::from_value(publishers.clone())
                .ok()
                .map(HandleEvent::Publishers);
        }
        if let Some(id) = field("unpublished").and_then(Value::as_u64) {
            return Some(HandleEvent::Unpublished(id));
        }
        if let Some(id) = field("kicked").and_then(Value::as_u64) {
            return Some(HandleEvent::Kicked(id));
        }
        if let Some(substream) = field("substream").and_then(Value::as_u64) {
            return Some(HandleEvent::Substream {
                mid: field("mid").and_then(Value::as_str)?.to_owned(),
                substream: u8::try_from(substream).ok()?,
            });
        }
        match field("leaving") {
            Some(Value::Number(id)) => id.as_u64().map(HandleEvent::Leaving),
            Some(Value::String(_)) => Some(HandleEvent::Left {
                reason: field("reason").and_then(Value::as_str).map(str::to_owned),
            }),
            _ => None,
        }
    }
}

/// The sending side of one handle's event queue, held by the connection's reader.
pub(super) struct EventQueue {
    sender: mpsc::Sender<HandleEvent>,
    dropped: Arc<AtomicU64>,
}

impl EventQueue {
    /// A queue and its receiving end; `dropped` counts what did not fit.
    pub fn new() -> (EventQueue, mpsc::Receiver<HandleEvent>, Arc<AtomicU64>) {
        let (sender, receiver) = mpsc::channel(EVENT_QUEUE_CAPACITY);
        let dropped = Arc::new(AtomicU64::new(0));
        let queue = EventQueue {
            sender,
            dropped: Arc::clone(&dropped),
        };
        (queue, receiver, dropped)
    }

    /// Queues `event` without waiting; a full queue drops it (see the module's doc).
    pub fn push(&self, handle: u64, event: HandleEvent) {
        if let Err(mpsc::error::TrySendError::Full(event)) = self.sender.try_send(event) {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(
                handle,
                ?event,
                dropped,
                "Janus handle's event queue is full"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<HandleEvent> {
        HandleEvent::from_reply(&serde_json::from_str(text).expect("a Janus message"))
    }

    #[test]
    fn core_events_parse() {
        assert_eq!(
            parse(r#"{"janus":"webrtcup","session_id":1,"sender":2}"#),
            Some(HandleEvent::WebrtcUp)
        );
        assert_eq!(
            parse(r#"{"janus":"media","sender":2,"type":"video","mid":"1","receiving":false}"#),
            Some(HandleEvent::Media {
                kind: "video".into(),
                mid: Some("1".into()),
                receiving: false
            })
        );
        assert_eq!(
            parse(r#"{"janus":"hangup","sender":2,"reason":"ICE failed"}"#),
            Some(HandleEvent::Hangup {
                reason: "ICE failed".into()
            })
        );
        assert_eq!(parse(r#"{"janus":"keepalive"}"#), None);
    }

    #[test]
    fn videoroom_notifications_parse() {
        let event = |data: &str| {
            parse(&format!(
                r#"{{"janus":"event","sender":2,"plugindata":{{"plugin":"janus.plugin.videoroom","data":{data}}}}}"#
            ))
        };
        assert_eq!(
            event(r#"{"videoroom":"event","room":5,"unpublished":9}"#),
            Some(HandleEvent::Unpublished(9))
        );
        assert_eq!(
            event(r#"{"videoroom":"event","room":5,"leaving":9}"#),
            Some(HandleEvent::Leaving(9))
        );
        assert_eq!(
            event(r#"{"videoroom":"event","room":5,"leaving":"ok","reason":"kicked"}"#),
            Some(HandleEvent::Left {
                reason: Some("kicked".into())
            })
        );
        let Some(HandleEvent::Publishers(feeds)) = event(
            r#"{"videoroom":"event","room":5,"publishers":[{"id":9,"display":"p1","streams":[{"type":"audio","mindex":0,"mid":"0","codec":"opus"}]}]}"#,
        ) else {
            panic!("a publishers event");
        };
        assert_eq!(feeds[0].id, 9);
        assert_eq!(feeds[0].streams[0].codec.as_deref(), Some("opus"));
        assert!(!feeds[0].talking, "not said: not talking");
        // A joiner's list says who talks per publisher (its per-stream value is unreliable).
        let Some(HandleEvent::Publishers(feeds)) = event(
            r#"{"videoroom":"event","room":5,"publishers":[{"id":9,"display":"p1","talking":true,"streams":[{"type":"audio","mindex":0,"mid":"0","codec":"opus","talking":false}]}]}"#,
        ) else {
            panic!("a publishers event");
        };
        assert!(feeds[0].talking);
        // A malformed list is not an event the relay can act on.
        assert_eq!(event(r#"{"videoroom":"event","publishers":7}"#), None);
        assert_eq!(
            event(
                r#"{"videoroom":"talking","room":5,"id":9,"mid":"0","audio-level-dBov-avg":12.5}"#
            ),
            Some(HandleEvent::Talking {
                id: 9,
                talking: true
            })
        );
        assert_eq!(
            event(r#"{"videoroom":"stopped-talking","room":5,"id":9,"audio-level-dBov-avg":90.0}"#),
            Some(HandleEvent::Talking {
                id: 9,
                talking: false
            })
        );
        assert_eq!(event(r#"{"videoroom":"talking","room":5}"#), None, "no id");
        assert_eq!(
            event(r#"{"videoroom":"event","room":5,"mid":"1","substream":0}"#),
            Some(HandleEvent::Substream {
                mid: "1".into(),
                substream: 0
            })
        );
        assert_eq!(
            event(r#"{"videoroom":"event","substream":1}"#),
            None,
            "no mid"
        );
        assert_eq!(
            event(r#"{"videoroom":"event","mid":"1","substream":300}"#),
            None
        );
    }

    #[test]
    fn a_full_queue_drops_the_new_event_and_counts_it() {
        let (queue, mut receiver, dropped) = EventQueue::new();
        for _ in 0..EVENT_QUEUE_CAPACITY {
            queue.push(1, HandleEvent::WebrtcUp);
        }
        queue.push(1, HandleEvent::Detached);
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
        let mut kept = 0;
        while let Ok(event) = receiver.try_recv() {
            assert_eq!(event, HandleEvent::WebrtcUp);
            kept += 1;
        }
        assert_eq!(kept, EVENT_QUEUE_CAPACITY);
    }
}
