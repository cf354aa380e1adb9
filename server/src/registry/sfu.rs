//! What the registry keeps about a room's topology: the rule a join applies, and where an
//! SFU room's media server room is, so that every relay of the room uses the same one.

use std::time::Instant;

use meshmeet_protocol::Topology;

use crate::error::RelayError;
use crate::janus::JanusRoom;
use crate::topology::{Mode, TopologyRule};

/// What a join needs to know about topology, when the relay has a media server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopologyPolicy {
    /// When a room moves to the SFU and back.
    pub rule: TopologyRule,
    /// Whether a media server is reachable now: without one, the join that would move the
    /// room to the SFU is refused with `sfu_unavailable`.
    pub sfu_reachable: bool,
    /// The time of the join, for the return delay.
    pub now: Instant,
}

/// Where an SFU room runs: one VideoRoom room on one Janus, for one epoch of the room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SfuPlacement {
    /// The room's epoch the placement belongs to; a switch back to the mesh forgets it.
    pub epoch: u64,
    /// The Janus instance (one of `--janus-url`).
    pub janus_url: String,
    /// The VideoRoom room, with its secret and pin.
    pub room: JanusRoom,
}

/// `wrong_topology` for a message naming `epoch` in a room whose topology is `now`.
pub fn wrong_topology(epoch: u64, now: Topology) -> RelayError {
    let now = match now.mode {
        Mode::Mesh => format!("a mesh now (epoch {})", now.epoch),
        Mode::Sfu => format!("on the SFU with epoch {}", now.epoch),
    };
    RelayError::WrongTopology { got: epoch, now }
}

/// Whether a message for `epoch` belongs to a room whose topology is `now`.
pub fn check_sfu_epoch(epoch: u64, now: Topology) -> Result<(), RelayError> {
    if now.mode == Mode::Sfu && now.epoch == epoch {
        Ok(())
    } else {
        Err(wrong_topology(epoch, now))
    }
}
