//! Who hands out an encrypted room's frame keys, and when a new one is due: the pure rules
//! of its key exchange (docs/E2EE.md).
//!
//! The participant with the smallest id (the *key giver*) makes a new random key whenever
//! someone joins (once it holds their public key: they must not read what came before) or
//! leaves (they must not read what follows), and seals it for each of the others. Everyone
//! uses the key giver's newest key; a key from anyone else is kept, in case they become the
//! key giver before they hand out another.

use meshmeet_protocol::PeerId;
use std::collections::{BTreeSet, HashMap};

/// Ticks (seconds) the key giver waits for a participant's public key before it hands out a
/// new key without them (they get the next one): someone whose page never answers must not
/// keep a departed participant's key in use.
pub const PUBLIC_KEY_GRACE_TICKS: u32 = 3;

/// What the meeting must do next with keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyStep<K> {
    /// Use `key`, numbered `index`, from now on (the key giver's newest).
    Use {
        /// The number frames encrypted with it carry.
        index: u8,
        /// The key.
        key: K,
    },
    /// We are the key giver: make a new key numbered `index`, use it, and seal it for `to`.
    Make {
        /// The new key's number.
        index: u8,
        /// Everyone in the room whose public key we hold.
        to: Vec<PeerId>,
    },
}

/// The key exchange's state on one page. `K` is a key (bytes in the browser).
#[derive(Clone, Debug)]
pub struct KeyRing<K> {
    self_id: Option<PeerId>,
    /// The others in the room.
    members: BTreeSet<PeerId>,
    /// The others whose public key we hold.
    publics: BTreeSet<PeerId>,
    /// The newest key each of the others handed us.
    latest: HashMap<PeerId, (u8, K)>,
    /// The key in use: who made it, and its number.
    used: Option<(PeerId, u8)>,
    /// The highest key number seen, so that a new key giver carries on from it.
    highest: Option<u8>,
    /// A new key is due (we are the key giver): ticks waited for missing public keys.
    due: Option<u32>,
}

impl<K> Default for KeyRing<K> {
    fn default() -> Self {
        KeyRing {
            self_id: None,
            members: BTreeSet::new(),
            publics: BTreeSet::new(),
            latest: HashMap::new(),
            used: None,
            highest: None,
            due: None,
        }
    }
}

impl<K: Clone> KeyRing<K> {
    /// We (`self_id`) entered the room, where `others` are: everything known before is void.
    pub fn welcomed(
        &mut self,
        self_id: PeerId,
        others: impl IntoIterator<Item = PeerId>,
    ) -> Option<KeyStep<K>> {
        *self = KeyRing {
            self_id: Some(self_id),
            members: others.into_iter().collect(),
            ..KeyRing::default()
        };
        self.changed()
    }

    /// `peer` joined: the key giver makes a new key once it holds their public key.
    pub fn joined(&mut self, peer: PeerId) -> Option<KeyStep<K>> {
        self.members.insert(peer);
        self.needs_new_key();
        self.changed()
    }

    /// `peer` left or was removed: a new key, from the key giver (perhaps a new one).
    pub fn left(&mut self, peer: &PeerId) -> Option<KeyStep<K>> {
        self.members.remove(peer);
        self.publics.remove(peer);
        self.latest.remove(peer);
        if self.used.as_ref().is_some_and(|(from, _)| from == peer) {
            self.used = None;
        }
        self.needs_new_key();
        self.changed()
    }

    /// `peer` sent its public key. Returns whether it is new to us (a page sends its own
    /// back then).
    pub fn public_key_from(&mut self, peer: &PeerId) -> (bool, Option<KeyStep<K>>) {
        if !self.members.contains(peer) || !self.publics.insert(peer.clone()) {
            return (false, None);
        }
        self.needs_new_key();
        (true, self.changed())
    }

    /// `peer` handed us key `index`: used if they are the key giver. A key no newer than
    /// the last one they handed us is ignored: seals opened out of order (or replayed) must
    /// never bring back a key someone who left still holds.
    pub fn key_from(&mut self, peer: &PeerId, index: u8, key: K) -> Option<KeyStep<K>> {
        if !self.members.contains(peer) {
            return None;
        }
        if let Some((held, _)) = self.latest.get(peer) {
            if *held == index || newer(*held, index) != index {
                return None;
            }
        }
        self.highest = Some(self.highest.map_or(index, |h| newer(h, index)));
        self.latest.insert(peer.clone(), (index, key));
        self.changed()
    }

    /// Our relay socket came back after an outage: what we sent meanwhile was lost, so the
    /// key giver hands out a new key to everyone.
    pub fn resumed(&mut self) -> Option<KeyStep<K>> {
        self.needs_new_key();
        self.changed()
    }

    /// The clock: a key giver waiting for public keys stops waiting after
    /// [`PUBLIC_KEY_GRACE_TICKS`].
    pub fn tick(&mut self) -> Option<KeyStep<K>> {
        if let Some(waited) = &mut self.due {
            *waited += 1;
        }
        self.changed()
    }

    /// Who hands out keys now: the smallest id in the room, ours included.
    pub fn giver(&self) -> Option<&PeerId> {
        let me = self.self_id.as_ref()?;
        Some(
            self.members
                .first()
                .filter(|first| *first < me)
                .unwrap_or(me),
        )
    }

    /// The others in the room.
    pub fn members(&self) -> impl Iterator<Item = &PeerId> {
        self.members.iter()
    }

    /// The number of the key in use, if any.
    pub fn used_index(&self) -> Option<u8> {
        self.used.as_ref().map(|(_, index)| *index)
    }

    /// Whether we are the key giver.
    fn giving(&self) -> bool {
        self.giver().is_some() && self.giver() == self.self_id.as_ref()
    }

    /// What follows a change: the key giver's newest key, or a key of our own to make.
    fn changed(&mut self) -> Option<KeyStep<K>> {
        let giver = self.giver()?.clone();
        if self.giving() {
            // Becoming the key giver calls for a key of our own (joins, leaves and new
            // public keys asked already).
            if self.used.as_ref().is_none_or(|(from, _)| *from != giver) {
                self.needs_new_key();
            }
            return self.make_if_ready();
        }
        self.due = None;
        let (index, key) = self.latest.get(&giver)?.clone();
        if self.used == Some((giver.clone(), index)) {
            return None;
        }
        self.used = Some((giver, index));
        Some(KeyStep::Use { index, key })
    }

    /// Makes the due key once every public key is in, or the wait is over.
    fn make_if_ready(&mut self) -> Option<KeyStep<K>> {
        let waited = self.due?;
        let all_in = self.members.iter().all(|m| self.publics.contains(m));
        if !all_in && waited < PUBLIC_KEY_GRACE_TICKS {
            return None;
        }
        let index = self.highest.map_or(0, |h| h.wrapping_add(1));
        self.highest = Some(index);
        self.used = self.self_id.clone().map(|me| (me, index));
        self.due = None;
        Some(KeyStep::Make {
            index,
            to: self.publics.iter().cloned().collect(),
        })
    }

    /// A change of the room or of the public keys calls for a new key (if we give them).
    fn needs_new_key(&mut self) {
        if self.giving() && self.due.is_none() {
            self.due = Some(0);
        }
    }
}

/// The later of two key numbers that wrap at 256: the one less than half the circle ahead.
fn newer(a: u8, b: u8) -> u8 {
    if b.wrapping_sub(a) < 128 {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> PeerId {
        PeerId::from(s)
    }

    fn make(index: u8, to: &[&str]) -> Option<KeyStep<u32>> {
        Some(KeyStep::Make {
            index,
            to: to.iter().map(|s| id(s)).collect(),
        })
    }

    #[test]
    fn the_first_in_the_room_makes_the_first_key_at_once() {
        let mut ring = KeyRing::<u32>::default();
        assert_eq!(ring.welcomed(id("b"), []), make(0, &[]));
        assert_eq!(ring.used_index(), Some(0));
    }

    #[test]
    fn the_key_giver_makes_a_new_key_for_a_joiner_once_it_holds_their_public_key() {
        let mut ring = KeyRing::<u32>::default();
        ring.welcomed(id("a"), []);
        assert_eq!(ring.joined(id("c")), None, "waits for c's public key");
        assert_eq!(ring.public_key_from(&id("c")), (true, make(1, &["c"])));
        // The same public key again changes nothing.
        assert_eq!(ring.public_key_from(&id("c")), (false, None));
    }

    #[test]
    fn the_key_giver_makes_a_new_key_when_someone_leaves() {
        let mut ring = KeyRing::<u32>::default();
        ring.welcomed(id("a"), [id("b"), id("c")]);
        ring.public_key_from(&id("b"));
        assert_eq!(ring.public_key_from(&id("c")).1, make(0, &["b", "c"]));
        assert_eq!(ring.left(&id("c")), make(1, &["b"]));
    }

    #[test]
    fn a_newcomer_with_the_smallest_id_waits_for_every_public_key_then_makes_one_key() {
        let mut ring = KeyRing::<u32>::default();
        assert_eq!(ring.welcomed(id("a"), [id("b"), id("c")]), None);
        // The old key giver's key is kept but not used: we give keys now.
        assert_eq!(ring.key_from(&id("b"), 7, 70), None);
        assert_eq!(ring.public_key_from(&id("b")), (true, None));
        // Carries on from the highest number seen.
        assert_eq!(ring.public_key_from(&id("c")), (true, make(8, &["b", "c"])));
    }

    #[test]
    fn a_key_giver_stops_waiting_for_a_public_key_that_never_comes() {
        let mut ring = KeyRing::<u32>::default();
        ring.welcomed(id("a"), [id("b"), id("c")]);
        ring.public_key_from(&id("b"));
        for _ in 1..PUBLIC_KEY_GRACE_TICKS {
            assert_eq!(ring.tick(), None);
        }
        assert_eq!(ring.tick(), make(0, &["b"]));
        // c's key arrives late: c gets the next key, with everyone.
        assert_eq!(ring.public_key_from(&id("c")).1, make(1, &["b", "c"]));
    }

    #[test]
    fn the_others_use_the_key_giver_s_newest_key_only() {
        let mut ring = KeyRing::<u32>::default();
        assert_eq!(ring.welcomed(id("c"), [id("a"), id("b")]), None);
        // b is not the key giver: its key is kept, not used.
        assert_eq!(ring.key_from(&id("b"), 4, 40), None);
        assert_eq!(
            ring.key_from(&id("a"), 5, 50),
            Some(KeyStep::Use { index: 5, key: 50 })
        );
        assert_eq!(ring.used_index(), Some(5));
        // A stranger's key is ignored.
        assert_eq!(ring.key_from(&id("x"), 9, 90), None);
        assert_eq!(ring.used_index(), Some(5));
    }

    #[test]
    fn when_the_key_giver_leaves_the_next_one_s_key_is_used_or_made() {
        let mut ring = KeyRing::<u32>::default();
        ring.welcomed(id("c"), [id("a"), id("b")]);
        ring.key_from(&id("a"), 5, 50);
        ring.key_from(&id("b"), 6, 60);
        // b gives keys now, and handed one out already.
        assert_eq!(
            ring.left(&id("a")),
            Some(KeyStep::Use { index: 6, key: 60 })
        );
        // b leaves too: we are the key giver, alone.
        assert_eq!(ring.left(&id("b")), make(7, &[]));
    }

    #[test]
    fn key_numbers_wrap_around() {
        let mut ring = KeyRing::<u32>::default();
        ring.welcomed(id("d"), [id("a")]);
        ring.key_from(&id("a"), 255, 1);
        assert_eq!(ring.left(&id("a")), make(0, &[]));
        assert_eq!(newer(250, 3), 3);
        assert_eq!(newer(3, 250), 3);
    }

    #[test]
    fn after_an_outage_the_key_giver_hands_out_a_new_key_and_the_others_wait_for_it() {
        let mut giver = KeyRing::<u32>::default();
        giver.welcomed(id("a"), [id("b")]);
        giver.public_key_from(&id("b"));
        assert_eq!(giver.resumed(), make(1, &["b"]));
        let mut other = KeyRing::<u32>::default();
        other.welcomed(id("b"), [id("a")]);
        other.key_from(&id("a"), 1, 10);
        assert_eq!(other.resumed(), None);
        assert_eq!(other.used_index(), Some(1));
    }

    #[test]
    fn an_older_key_from_the_key_giver_never_replaces_a_newer_one() {
        let mut ring = KeyRing::<u32>::default();
        ring.welcomed(id("c"), [id("a")]);
        assert_eq!(
            ring.key_from(&id("a"), 6, 60),
            Some(KeyStep::Use { index: 6, key: 60 })
        );
        // Key 5 opened after key 6 (or replayed): ignored, and so is 6 again.
        assert_eq!(ring.key_from(&id("a"), 5, 50), None);
        assert_eq!(ring.key_from(&id("a"), 6, 61), None);
        assert_eq!(ring.used_index(), Some(6));
        assert_eq!(
            ring.key_from(&id("a"), 7, 70),
            Some(KeyStep::Use { index: 7, key: 70 })
        );
    }

    #[test]
    fn a_public_key_from_someone_not_in_the_room_is_ignored() {
        let mut ring = KeyRing::<u32>::default();
        ring.welcomed(id("a"), []);
        assert_eq!(ring.public_key_from(&id("z")), (false, None));
    }
}
