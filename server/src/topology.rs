//! When a room is a mesh and when it moves to the SFU: the join that makes it
//! `mesh_max + 1` people switches it to the SFU at once; it returns to the mesh only once it
//! has had at most `mesh_max` people for `return_delay`, so someone who drops and comes back
//! does not make everyone renegotiate twice. Pure: the caller passes the count and the time.
//!
//! Each switch gets the next `epoch`, so messages meant for an earlier topology are
//! recognised and dropped (see docs/SFU.md).

use std::time::{Duration, Instant};

pub use meshmeet_protocol::MediaMode as Mode;
use meshmeet_protocol::Topology;

/// The rule: how many people a mesh holds, and how long a room must stay that small before
/// it goes back to the mesh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopologyRule {
    /// The most people a mesh room holds.
    pub mesh_max: usize,
    /// How long a room must stay at `mesh_max` or fewer before it returns to the mesh.
    pub return_delay: Duration,
}

/// A room's topology as the rule moves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomTopology {
    mode: Mode,
    epoch: u64,
    /// Since when an SFU room has been small enough for the mesh.
    small_since: Option<Instant>,
}

impl Default for RoomTopology {
    fn default() -> Self {
        RoomTopology {
            mode: Mode::Mesh,
            epoch: 0,
            small_since: None,
        }
    }
}

impl RoomTopology {
    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The number of the current topology (0 for a room's first mesh).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Mode and epoch, as the protocol tells them.
    pub fn topology(&self) -> Topology {
        Topology {
            mode: self.mode,
            epoch: self.epoch,
        }
    }

    /// The media server of an SFU room of `count` people is gone: back to the mesh at once
    /// when the mesh can hold them (the new mode), otherwise nothing changes and the room
    /// waits for a media server.
    pub fn fall_back(&mut self, rule: &TopologyRule, count: usize) -> Option<Mode> {
        if self.mode == Mode::Sfu && count <= rule.mesh_max {
            self.small_since = None;
            Some(self.switch(Mode::Mesh))
        } else {
            None
        }
    }

    /// The room has `count` people at `now` (after a join or a leave, and on a timer while
    /// it waits to return). Returns the new mode when it switches.
    pub fn on_count(&mut self, rule: &TopologyRule, count: usize, now: Instant) -> Option<Mode> {
        match self.mode {
            Mode::Mesh if count > rule.mesh_max => {
                self.small_since = None;
                Some(self.switch(Mode::Sfu))
            }
            Mode::Mesh => None,
            Mode::Sfu if count > rule.mesh_max => {
                self.small_since = None;
                None
            }
            Mode::Sfu => {
                let since = *self.small_since.get_or_insert(now);
                if now.saturating_duration_since(since) >= rule.return_delay {
                    self.small_since = None;
                    Some(self.switch(Mode::Mesh))
                } else {
                    None
                }
            }
        }
    }

    /// When an SFU room that is small enough returns to the mesh, if nothing changes: the
    /// caller's timer.
    pub fn return_due(&self, rule: &TopologyRule) -> Option<Instant> {
        self.small_since.map(|since| since + rule.return_delay)
    }

    fn switch(&mut self, mode: Mode) -> Mode {
        self.mode = mode;
        self.epoch += 1;
        mode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: TopologyRule = TopologyRule {
        mesh_max: 4,
        return_delay: Duration::from_secs(10),
    };

    fn secs(start: Instant, s: u64) -> Instant {
        start + Duration::from_secs(s)
    }

    #[test]
    fn a_room_stays_a_mesh_up_to_mesh_max_people() {
        let (mut room, t) = (RoomTopology::default(), Instant::now());
        for count in 1..=4 {
            assert_eq!(room.on_count(&RULE, count, t), None);
        }
        assert_eq!((room.mode(), room.epoch()), (Mode::Mesh, 0));
    }

    #[test]
    fn the_join_past_mesh_max_switches_to_the_sfu_at_once() {
        let (mut room, t) = (RoomTopology::default(), Instant::now());
        assert_eq!(room.on_count(&RULE, 5, t), Some(Mode::Sfu));
        assert_eq!((room.mode(), room.epoch()), (Mode::Sfu, 1));
        assert_eq!(room.on_count(&RULE, 6, t), None, "already there");
    }

    #[test]
    fn a_small_sfu_room_returns_to_the_mesh_only_after_the_delay() {
        let (mut room, t) = (RoomTopology::default(), Instant::now());
        room.on_count(&RULE, 5, t);
        assert_eq!(room.on_count(&RULE, 4, secs(t, 1)), None);
        assert_eq!(room.return_due(&RULE), Some(secs(t, 11)));
        assert_eq!(room.on_count(&RULE, 4, secs(t, 10)), None, "9 s small");
        assert_eq!(room.on_count(&RULE, 4, secs(t, 11)), Some(Mode::Mesh));
        assert_eq!((room.mode(), room.epoch()), (Mode::Mesh, 2));
        assert_eq!(room.return_due(&RULE), None);
    }

    #[test]
    fn someone_coming_back_within_the_delay_keeps_the_sfu_and_restarts_the_wait() {
        let (mut room, t) = (RoomTopology::default(), Instant::now());
        room.on_count(&RULE, 5, t);
        room.on_count(&RULE, 4, secs(t, 1));
        assert_eq!(
            room.on_count(&RULE, 5, secs(t, 5)),
            None,
            "back: still the SFU"
        );
        assert_eq!(room.return_due(&RULE), None);
        room.on_count(&RULE, 4, secs(t, 6));
        assert_eq!(
            room.on_count(&RULE, 4, secs(t, 15)),
            None,
            "the wait started again"
        );
        assert_eq!(room.on_count(&RULE, 3, secs(t, 16)), Some(Mode::Mesh));
    }

    #[test]
    fn every_switch_gets_a_new_epoch() {
        let (mut room, t) = (RoomTopology::default(), Instant::now());
        let rule = TopologyRule {
            mesh_max: 2,
            return_delay: Duration::ZERO,
        };
        let mut epochs = vec![room.epoch()];
        for count in [3, 2, 3, 1] {
            room.on_count(&rule, count, t);
            epochs.push(room.epoch());
        }
        assert_eq!(epochs, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_room_that_lost_its_media_server_falls_back_to_the_mesh_only_if_it_fits() {
        let (mut room, t) = (RoomTopology::default(), Instant::now());
        room.on_count(&RULE, 6, t);
        assert_eq!(room.fall_back(&RULE, 6), None, "too large for a mesh");
        assert_eq!(room.topology().mode, Mode::Sfu);
        assert_eq!(room.fall_back(&RULE, 4), Some(Mode::Mesh));
        assert_eq!(
            room.topology(),
            Topology {
                mode: Mode::Mesh,
                epoch: 2
            }
        );
        assert_eq!(room.fall_back(&RULE, 4), None, "already a mesh");
    }
}
