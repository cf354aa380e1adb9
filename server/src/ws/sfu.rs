//! SFU messages from a participant: checked against the room's topology as the participant
//! was last told it (an SFU room, the same epoch), then queued, in order, for its SFU
//! session, which each publish starts afresh.

use std::sync::Arc;

use super::Connection;
use crate::error::RelayError;
use crate::janus::Candidate;
use crate::registry::{check_sfu_epoch, Membership, RoomRegistry};
use crate::sfu::{SfuCommand, SfuSession};

impl<R: RoomRegistry> Connection<R> {
    /// An SFU request of `member` for `epoch`.
    pub(super) fn on_sfu(
        &mut self,
        member: &Membership,
        epoch: u64,
        command: SfuCommand,
    ) -> Result<(), RelayError> {
        check_sfu_epoch(epoch, *self.mailbox.topology().borrow())?;
        let mut slot = self.kept.sfu();
        let running = slot
            .as_ref()
            .is_some_and(|session| session.epoch() == epoch && session.is_running());
        if matches!(command, SfuCommand::Publish(_)) {
            // Every publish starts the participant's SFU connections afresh: a browser
            // sends one with a new publisher connection only (its first, or after it dropped
            // both connections on a failure), so the old session's publisher and subscriber
            // are void. Reusing them would leave the new subscriber without an offer.
            let previous = slot.take();
            *slot = Some(SfuSession::start(
                Arc::clone(&self.state),
                member.clone(),
                self.mailbox.clone(),
                epoch,
                previous,
            ));
        } else if !running {
            return Err(RelayError::SfuOutOfOrder(
                "publish first: there is no SFU session for this epoch",
            ));
        }
        match slot.as_ref() {
            Some(session) => session.send(command),
            None => Err(RelayError::Internal),
        }
    }
}

/// A browser's trickled candidate for Janus: an empty one ends the candidates.
pub(super) fn trickled(
    candidate: String,
    sdp_mid: Option<String>,
    sdp_m_line_index: Option<u16>,
) -> Candidate {
    if candidate.is_empty() {
        Candidate::Completed
    } else {
        Candidate::Candidate {
            candidate,
            sdp_mid,
            sdp_m_line_index: sdp_m_line_index.map(u32::from),
        }
    }
}
