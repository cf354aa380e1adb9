//! Large rooms on the SFU: where a room's media server room is (`placement`), each
//! participant's publisher and subscriber connections on it (`session`), which publishers a
//! subscription should carry and when it may be renegotiated (`plan`, pure), which of its
//! video Janus should send (`video_sends`, pure), and the relay's background upkeep
//! (`upkeep`): rooms returning to the mesh, Janus rooms no longer used.
//!
//! Browsers never reach Janus's API: they send SDP and candidates to the relay, which checks
//! the membership and the room's epoch and passes them on.

mod placement;
mod plan;
mod session;
mod upkeep;
mod video_sends;

pub use placement::{place, OwnedRooms, Placed};
pub use session::{SfuCommand, SfuSession, SDP_REFUSALS};
pub use upkeep::run_upkeep;
