//! What a room membership keeps across its connections: a resume hands it to the new one,
//! so chat numbering goes on and the participant's media server connections stay up while
//! its socket to the relay is replaced.

use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::sfu::SfuSession;

/// One membership's state beyond the registry's.
#[derive(Debug, Default)]
pub struct MemberState {
    /// The highest chat `seq` the membership has sent.
    pub chat_seq: AtomicU64,
    /// The participant's connections to the media server, in an SFU room.
    sfu: Mutex<Option<SfuSession>>,
}

impl MemberState {
    /// The participant's SFU session slot.
    pub fn sfu(&self) -> MutexGuard<'_, Option<SfuSession>> {
        // The slot is replaced whole, never left half-changed.
        self.sfu.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
