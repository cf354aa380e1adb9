//! SFU messages from a participant: checked against the room's topology as the participant
//! was last told it (an SFU room, the same epoch), then queued, in order, for its SFU
//! session, which each publish starts afresh.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use meshmeet_protocol::{CameraLayer, PeerId, SimulcastLayer};

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

/// A browser's video preferences as a command: `hidden` and `layers` each name at most as
/// many participants as a room holds (they are kept for the whole session), each once.
pub(super) fn prefs(
    audio_only: bool,
    hidden: Vec<PeerId>,
    layers: Vec<CameraLayer>,
    max_participants: u32,
) -> Result<SfuCommand, RelayError> {
    let max = usize::try_from(max_participants).unwrap_or(usize::MAX);
    for (what, count) in [("hidden", hidden.len()), ("layers", layers.len())] {
        if count > max {
            return Err(RelayError::BadMessage(format!(
                "sfu_prefs names {count} participants in `{what}`; a room holds at most {max}"
            )));
        }
    }
    let hidden: BTreeSet<PeerId> = hidden.into_iter().collect();
    let layers: BTreeMap<PeerId, SimulcastLayer> = layers
        .into_iter()
        .map(|CameraLayer { peer_id, layer }| (peer_id, layer))
        .collect();
    Ok(SfuCommand::Prefs {
        audio_only,
        hidden,
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<PeerId> {
        (0..n)
            .map(|i| PeerId::from(format!("{i:032x}").as_str()))
            .collect()
    }

    fn low(n: usize) -> Vec<CameraLayer> {
        ids(n)
            .into_iter()
            .map(|peer_id| CameraLayer {
                peer_id,
                layer: SimulcastLayer::Low,
            })
            .collect()
    }

    #[test]
    fn prefs_naming_more_people_than_a_room_holds_are_refused() {
        let ok = prefs(false, ids(3), low(3), 3);
        assert!(matches!(ok, Ok(SfuCommand::Prefs { .. })), "{ok:?}");
        for refused in [
            prefs(false, ids(4), low(0), 3),
            prefs(false, ids(0), low(4), 3),
        ] {
            assert!(
                matches!(&refused, Err(RelayError::BadMessage(m)) if m.contains("at most 3")),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn prefs_name_each_hidden_participant_once() {
        let ana = PeerId::from("3f9a1c0e5b7d42e8a6c1f0b29d8e7a45");
        let command = prefs(true, vec![ana.clone(), ana.clone()], Vec::new(), 8);
        let expected = SfuCommand::Prefs {
            audio_only: true,
            hidden: BTreeSet::from([ana]),
            layers: BTreeMap::new(),
        };
        assert_eq!(command.ok(), Some(expected));
    }
}
