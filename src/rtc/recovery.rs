//! When a peer connection that keeps failing is rebuilt from scratch instead of having its ICE
//! restarted once more. Pure, so the policy is tested natively.

use super::ConnectionStatus;

/// Failures (each already answered by an ICE restart in the link) before the link is rebuilt.
pub const FAILURES_BEFORE_REBUILD: u32 = 3;
/// Rebuilds tried before the link is left failed: the network between the two cannot carry
/// it (a firewall without TURN, say), and the tile says so instead of flickering forever.
pub const MAX_REBUILDS: u32 = 3;

/// One link's failures since it was last connected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    failures: u32,
    rebuilds: u32,
}

/// What to do after a status change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryStep {
    /// Nothing more than the link does itself.
    Wait,
    /// Tell the peer (`reset`) and replace the link with a new one that offers.
    Rebuild,
    /// Stop trying; the link stays failed.
    GiveUp,
}

impl Recovery {
    /// Takes in a new status of the link. Only the impolite side of a pair rebuilds, so the
    /// two never replace their links at the same time; the polite side follows its `reset`.
    pub fn on_status(&mut self, status: ConnectionStatus, polite: bool) -> RecoveryStep {
        match status {
            ConnectionStatus::Connected => {
                *self = Recovery::default();
                RecoveryStep::Wait
            }
            ConnectionStatus::Failed => {
                self.failures += 1;
                if self.failures < FAILURES_BEFORE_REBUILD || polite {
                    return RecoveryStep::Wait;
                }
                if self.rebuilds >= MAX_REBUILDS {
                    return if self.failures == FAILURES_BEFORE_REBUILD {
                        RecoveryStep::GiveUp
                    } else {
                        RecoveryStep::Wait
                    };
                }
                self.rebuilds += 1;
                self.failures = 0;
                RecoveryStep::Rebuild
            }
            _ => RecoveryStep::Wait,
        }
    }

    /// The link was replaced because the peer reset it: its failures start over.
    pub fn on_reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectionStatus::{Connected, Connecting, Failed};

    fn run(
        recovery: &mut Recovery,
        statuses: &[ConnectionStatus],
        polite: bool,
    ) -> Vec<RecoveryStep> {
        statuses
            .iter()
            .map(|s| recovery.on_status(*s, polite))
            .filter(|step| *step != RecoveryStep::Wait)
            .collect()
    }

    #[test]
    fn the_impolite_side_rebuilds_after_three_failures_in_a_row() {
        let mut recovery = Recovery::default();
        let steps = run(
            &mut recovery,
            &[Failed, Connecting, Failed, Connecting, Failed],
            false,
        );
        assert_eq!(steps, [RecoveryStep::Rebuild]);
    }

    #[test]
    fn the_polite_side_never_rebuilds_by_itself() {
        let mut recovery = Recovery::default();
        assert!(run(&mut recovery, &[Failed; 12], true).is_empty());
    }

    #[test]
    fn connecting_again_forgives_earlier_failures() {
        let mut recovery = Recovery::default();
        let steps = run(
            &mut recovery,
            &[Failed, Failed, Connected, Failed, Failed],
            false,
        );
        assert!(steps.is_empty());
    }

    #[test]
    fn a_link_that_never_connects_is_given_up_once_after_the_last_rebuild() {
        let mut recovery = Recovery::default();
        let failures = FAILURES_BEFORE_REBUILD * (MAX_REBUILDS + 2);
        let steps = run(&mut recovery, &vec![Failed; failures as usize], false);
        let mut expected = vec![RecoveryStep::Rebuild; MAX_REBUILDS as usize];
        expected.push(RecoveryStep::GiveUp);
        assert_eq!(steps, expected);
    }

    #[test]
    fn a_reset_from_the_peer_starts_the_count_over() {
        let mut recovery = Recovery::default();
        run(&mut recovery, &[Failed, Failed], false);
        recovery.on_reset();
        assert!(run(&mut recovery, &[Failed, Failed], false).is_empty());
        assert_eq!(
            run(&mut recovery, &[Failed], false),
            [RecoveryStep::Rebuild]
        );
    }
}
