//! The encoders' tokens, kept by the relay the host created them on (like a live's outputs):
//! a room's encoder publishes with its token to this relay. Bounded: a host cannot grow the
//! relay's memory by asking again and again.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use meshmeet_protocol::RoomName;
use subtle::ConstantTimeEq;

use crate::error::RelayError;
use crate::registry::random_hex_128;

/// Tokens kept per room: the oldest is forgotten when a host creates one more (the host's
/// page keeps as many).
pub const MAX_PER_ROOM: usize = meshmeet_protocol::MAX_INGESTS_PER_ROOM;
/// Tokens kept by the relay in all: the oldest is forgotten first.
pub const MAX_TOTAL: usize = 4096;
/// How long a token works. The relay is not told when a room empties, so a token must not
/// outlive any meeting by much: a later meeting of the same name is someone else's.
pub const LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// One encoder the host let in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestGrant {
    /// The room it publishes into.
    pub room: RoomName,
    /// The name it appears under.
    pub name: String,
    /// Its bearer token (128-bit, hex).
    pub token: String,
    /// When the host created it.
    pub created: Instant,
}

/// Every grant of this relay, oldest first.
#[derive(Debug, Default)]
pub struct IngestGrants {
    grants: Mutex<VecDeque<IngestGrant>>,
}

impl IngestGrants {
    fn lock(&self) -> MutexGuard<'_, VecDeque<IngestGrant>> {
        // Grants are pushed and removed whole.
        self.grants.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new grant for an encoder named `name` in `room` (the caller checked the host).
    pub fn create(&self, room: &RoomName, name: &str) -> Result<IngestGrant, RelayError> {
        let grant = IngestGrant {
            room: room.clone(),
            name: name.to_owned(),
            token: random_hex_128()?,
            created: Instant::now(),
        };
        let mut grants = self.lock();
        let in_room = grants.iter().filter(|g| &g.room == room).count();
        if in_room >= MAX_PER_ROOM {
            if let Some(oldest) = grants.iter().position(|g| &g.room == room) {
                grants.remove(oldest);
            }
        }
        while grants.len() >= MAX_TOTAL {
            grants.pop_front();
        }
        grants.push_back(grant.clone());
        Ok(grant)
    }

    /// The grant of `room` with `token`, if there is one. Tokens are compared in constant
    /// time: a guesser learns nothing from how long a refusal takes.
    pub fn find(&self, room: &RoomName, token: &str) -> Option<IngestGrant> {
        self.lock()
            .iter()
            .find(|g| &g.room == room && bool::from(g.token.as_bytes().ct_eq(token.as_bytes())))
            .filter(|g| g.created.elapsed() < LIFETIME)
            .cloned()
    }

    /// Forgets every grant of `room` (its meeting ended).
    pub fn forget_room(&self, room: &RoomName) {
        self.lock().retain(|g| &g.room != room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> RoomName {
        RoomName(name.to_owned())
    }

    #[test]
    fn a_token_opens_only_its_own_room() {
        let grants = IngestGrants::default();
        let studio = grants
            .create(&room("hearing"), "Studio camera")
            .expect("grant");
        assert_eq!(studio.token.len(), 32);
        let found = grants.find(&room("hearing"), &studio.token).expect("found");
        assert_eq!(found.name, "Studio camera");
        assert_eq!(grants.find(&room("other"), &studio.token), None);
        assert_eq!(grants.find(&room("hearing"), "0".repeat(32).as_str()), None);
        assert_eq!(grants.find(&room("hearing"), ""), None);
    }

    #[test]
    fn a_room_keeps_its_newest_tokens_and_the_relay_a_bounded_number() {
        let grants = IngestGrants::default();
        let first = grants.create(&room("a"), "first").expect("grant");
        for n in 0..MAX_PER_ROOM {
            grants.create(&room("a"), &format!("n{n}")).expect("grant");
        }
        assert_eq!(grants.find(&room("a"), &first.token), None);
        assert_eq!(grants.lock().len(), MAX_PER_ROOM);
        for n in 0..MAX_TOTAL {
            grants
                .create(&room(&format!("r{}", n % 1000)), "x")
                .expect("grant");
        }
        assert!(grants.lock().len() <= MAX_TOTAL);
    }

    #[test]
    fn forgetting_a_room_voids_its_tokens() {
        let grants = IngestGrants::default();
        let kept = grants.create(&room("a"), "kept").expect("grant");
        let gone = grants.create(&room("b"), "gone").expect("grant");
        grants.forget_room(&room("b"));
        assert!(grants.find(&room("a"), &kept.token).is_some());
        assert_eq!(grants.find(&room("b"), &gone.token), None);
    }
}
