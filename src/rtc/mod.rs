//! Peer connections of the mesh: one [`PeerLink`] per remote participant, negotiated with
//! the perfect-negotiation pattern. Yew-free.

mod channel;
mod config;
mod error;
mod link;
mod negotiation;
mod status;

pub use channel::{Channel, ChannelData, DataSender, BUFFER_HIGH_BYTES, BUFFER_LOW_BYTES};
pub use config::LinkConfig;
pub use error::RtcError;
pub use link::{LocalTracks, PeerEvent, PeerLink, TrackKind};
pub use negotiation::{is_polite, offer_decision, OfferDecision};
pub use status::ConnectionStatus;
