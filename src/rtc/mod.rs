//! Peer connections: the mesh's [`PeerLink`] per remote participant, negotiated with the
//! perfect-negotiation pattern, and the SFU's two [`SfuLink`]s. Yew-free.

mod budget;
mod channel;
mod config;
mod description;
mod error;
mod frame_crypto;
mod frame_keys;
mod key_exchange;
mod link;
mod negotiation;
mod recovery;
mod sender;
mod sfu_link;
mod stats;
mod status;
mod tracks;
mod whep;

pub use budget::{
    budget_from_query, simulcast_layers, split_budget, BudgetInput, SendParams, VideoWanted,
    DEFAULT_VIDEO_BUDGET_BPS, SIMULCAST_LAYERS,
};
pub use channel::{Channel, ChannelData, DataSender, BUFFER_HIGH_BYTES, BUFFER_LOW_BYTES};
pub use config::LinkConfig;
pub use error::RtcError;
pub use frame_crypto::{prefer_vp8, FrameCounts, FrameCrypto, FrameCryptoError, SharedFrameCrypto};
pub use frame_keys::{
    format_safety_code, key_from_passphrase, safety_code, PASSPHRASE_ITERATIONS, SAFETY_CODE_GROUPS,
};
pub use key_exchange::{random_frame_key, FrameKey, KeyPair, FRAME_KEY_BYTES};
pub use link::{PeerEvent, PeerLink};
pub use negotiation::{is_polite, offer_decision, OfferDecision};
pub use recovery::{Recovery, RecoveryStep};
pub use sfu_link::{SfuLink, SfuLinkEvent};
pub use stats::{derive, stats_of, Candidate, PeerStats, Quality, Snapshot};
pub use status::ConnectionStatus;
pub use tracks::{stream_of, LocalTracks, TrackKind};
pub use whep::{WhepError, WhepViewer};
