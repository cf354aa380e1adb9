//! The relay's client of Janus's WebSocket API (Janus is the SFU for large rooms): one
//! connection per Janus instance carrying many requests at once, a session kept alive, the
//! VideoRoom plugin attached, typed room operations, the Streaming plugin's mountpoints for
//! live audiences, remote publishers fed RTP (cameras), a handle per participant's publisher
//! and subscriber connection with the events Janus sends about it, and a pool that keeps every configured
//! instance connected and says, for `/readyz`, why one is not.
//!
//! Browsers never reach this API: the admin key and each room's secret stay in the relay.

mod client;
mod connection;
mod error;
mod events;
mod handle;
mod pool;
mod publisher;
mod random;
mod remote;
mod streaming;
mod subscriber;
mod videoroom;
mod wire;

pub use client::{JanusClient, JanusOptions};
pub use error::JanusError;
pub use events::{Feed, FeedStream, HandleEvent, SubscribedStream, EVENT_QUEUE_CAPACITY};
pub use handle::{Candidate, PluginHandle};
pub use pool::JanusPool;
pub use publisher::{Publisher, PublisherJoined};
pub use remote::{remote_ssrc, RemotePublisher};
pub use streaming::{Forward, Forwarding, Mountpoint, RtpTarget, VideoSource, Viewer};
pub use subscriber::{StreamRequest, Subscriber, Subscription, Updated};
pub use videoroom::{JanusRoom, Participant, RoomSpec};

/// The VideoRoom `admin_key` written in `deploy/janus/janus.plugin.videoroom.jcfg`: whoever
/// installs the folder replaces it with a random key, and the relay refuses to use it.
pub const ADMIN_KEY_PLACEHOLDER: &str = "@JANUS_ADMIN_KEY@";

/// The subprotocol Janus's WebSocket transport speaks.
pub const SUBPROTOCOL: &str = "janus-protocol";
