//! Whom a live that follows the speaker puts on its stage: the one who talks, kept there
//! while they talk and for a hold time after they came on, so the audience's picture does
//! not flap between two people who interrupt each other.

use std::time::{Duration, Instant};

use meshmeet_protocol::PeerId;

/// Least time someone stays on the stage before another speaker takes it. Janus says who
/// talks after a second of sound (`TALK_WINDOW_PACKETS`), so the audience sees a new speaker
/// from one to about four seconds after they began.
pub const HOLD: Duration = Duration::from_secs(3);

/// Who talks, and who is on the stage since when.
#[derive(Debug)]
pub struct SpeakerFollower {
    on_stage: PeerId,
    since: Instant,
    /// Who talks now, in the order they began.
    talking: Vec<PeerId>,
}

impl SpeakerFollower {
    /// Follows the speaker from `on_stage`, on it since `now`.
    pub fn new(on_stage: PeerId, now: Instant) -> SpeakerFollower {
        SpeakerFollower {
            on_stage,
            since: now,
            talking: Vec::new(),
        }
    }

    /// Who is on the stage.
    pub fn on_stage(&self) -> &PeerId {
        &self.on_stage
    }

    /// `peer` started (`true`) or stopped talking.
    pub fn talking(&mut self, peer: &PeerId, talking: bool) {
        self.talking.retain(|p| p != peer);
        if talking {
            self.talking.push(peer.clone());
        }
    }

    /// Who talks, as a new observer in the media server's room learnt it on joining (in no
    /// order): whatever was known before was of another room.
    pub fn talking_now(&mut self, peers: Vec<PeerId>) {
        self.talking = peers;
    }

    /// `peer` left the room, or stopped publishing: not a speaker any more.
    pub fn gone(&mut self, peer: &PeerId) {
        self.talking(peer, false);
    }

    /// Who should take the stage at `now`, if someone should: the one who has been talking
    /// longest, once the one on it is silent and has held it for [`HOLD`]. Someone who
    /// talks keeps the stage however long.
    pub fn next(&self, now: Instant) -> Option<&PeerId> {
        if self.talking.contains(&self.on_stage) || now < self.since + HOLD {
            return None;
        }
        self.talking.first()
    }

    /// `peer` is on the stage from `now` (the relay moved it, or the host chose).
    pub fn moved(&mut self, peer: PeerId, now: Instant) {
        if peer != self.on_stage {
            self.on_stage = peer;
            self.since = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> PeerId {
        PeerId::from(name)
    }

    #[test]
    fn a_silent_stage_goes_to_who_talks_once_the_hold_is_over() {
        let start = Instant::now();
        let mut follower = SpeakerFollower::new(id("ana"), start);
        assert_eq!(follower.next(start + HOLD), None, "nobody talks");
        follower.talking(&id("ben"), true);
        assert_eq!(
            follower.next(start + HOLD / 2),
            None,
            "Ana's hold is not over"
        );
        assert_eq!(follower.next(start + HOLD), Some(&id("ben")));
        follower.moved(id("ben"), start + HOLD);
        assert_eq!(follower.on_stage(), &id("ben"));
        assert_eq!(follower.next(start + HOLD * 3), None, "Ben is on the stage");
    }

    #[test]
    fn whoever_talks_keeps_the_stage_and_the_longest_talker_comes_next() {
        let start = Instant::now();
        let mut follower = SpeakerFollower::new(id("ana"), start);
        follower.talking(&id("ana"), true);
        follower.talking(&id("ben"), true);
        follower.talking(&id("cy"), true);
        assert_eq!(follower.next(start + HOLD * 10), None, "Ana still talks");
        follower.talking(&id("ana"), false);
        assert_eq!(follower.next(start + HOLD * 10), Some(&id("ben")));
        // Ben paused and talks again: now Cy has talked longest.
        follower.talking(&id("ben"), false);
        follower.talking(&id("ben"), true);
        assert_eq!(follower.next(start + HOLD * 10), Some(&id("cy")));
        follower.gone(&id("cy"));
        assert_eq!(follower.next(start + HOLD * 10), Some(&id("ben")));
    }

    #[test]
    fn the_host_s_choice_restarts_the_hold() {
        let start = Instant::now();
        let mut follower = SpeakerFollower::new(id("ana"), start);
        follower.talking(&id("ben"), true);
        follower.moved(id("cy"), start + HOLD);
        assert_eq!(follower.next(start + HOLD), None);
        assert_eq!(follower.next(start + HOLD * 2), Some(&id("ben")));
        // Told again who is on it already: the hold goes on from when they came.
        follower.moved(id("cy"), start + HOLD * 2);
        assert_eq!(follower.next(start + HOLD * 2), Some(&id("ben")));
    }
}
