//! What a room membership keeps across its connections: a resume hands it to the new one,
//! so chat numbering goes on, the reaction budget is not refilled by reconnecting, and the
//! participant's media server connections stay up while its socket to the relay is replaced.

use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::limits::TokenBucket;
use crate::sfu::SfuSession;

/// Reactions at once, then [`REACTIONS_PER_SECOND`]: enough to clap along, too few to bury a
/// room's tiles.
pub const REACTION_BURST: u32 = 3;
/// The sustained rate of reactions.
pub const REACTIONS_PER_SECOND: u32 = 1;

/// One membership's state beyond the registry's.
#[derive(Debug, Default)]
pub struct MemberState {
    /// The highest chat `seq` the membership has sent.
    pub chat_seq: AtomicU64,
    /// The participant's connections to the media server, in an SFU room.
    sfu: Mutex<Option<SfuSession>>,
    /// Reactions sent (`None` until the first), and whether the current excess was told.
    reactions: Mutex<(Option<TokenBucket>, bool)>,
}

/// What becomes of a reaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReactionVerdict {
    /// It goes out.
    Send,
    /// Over the limit, and the first of this excess: the sender is told (not counted as a bad
    /// message: clapping too fast is not an attack).
    Refuse,
    /// Over the limit again: dropped without a word.
    Drop,
}

impl MemberState {
    /// The participant's SFU session slot.
    pub fn sfu(&self) -> MutexGuard<'_, Option<SfuSession>> {
        // The slot is replaced whole, never left half-changed.
        self.sfu.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether one more reaction may go out now (it takes one from the budget).
    pub fn react(&self, now: Instant) -> ReactionVerdict {
        let mut guard = self
            .reactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (bucket, told) = &mut *guard;
        let bucket = bucket.get_or_insert_with(|| {
            TokenBucket::new(REACTION_BURST, f64::from(REACTIONS_PER_SECOND), now)
        });
        if bucket.try_take(now) {
            *told = false;
            ReactionVerdict::Send
        } else if std::mem::replace(told, true) {
            ReactionVerdict::Drop
        } else {
            ReactionVerdict::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reactions_pass_in_a_burst_then_one_a_second() {
        let state = MemberState::default();
        let t0 = Instant::now();
        for _ in 0..REACTION_BURST {
            assert_eq!(state.react(t0), ReactionVerdict::Send);
        }
        assert_eq!(state.react(t0), ReactionVerdict::Refuse);
        assert_eq!(
            state.react(t0 + Duration::from_millis(500)),
            ReactionVerdict::Drop
        );
        assert_eq!(
            state.react(t0 + Duration::from_millis(1100)),
            ReactionVerdict::Send
        );
        // A new excess is told again.
        assert_eq!(
            state.react(t0 + Duration::from_millis(1200)),
            ReactionVerdict::Refuse
        );
    }
}
