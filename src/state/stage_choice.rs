//! Who the host puts on a live's stage: ticking and unticking participants, in the order
//! they were ticked, one to [`MAX_STAGE`] of them, or whoever speaks.

use meshmeet_protocol::{PeerId, MAX_STAGE};

/// The stage after `peer` was ticked (`on`) or unticked in `stage`; `None` when that is not
/// a stage (nobody left on it, or a fifth member) and the change is not sent.
pub fn stage_after_toggle(stage: &[PeerId], peer: &PeerId, on: bool) -> Option<Vec<PeerId>> {
    let mut next: Vec<PeerId> = stage.iter().filter(|p| *p != peer).cloned().collect();
    if on {
        next.push(peer.clone());
    }
    (!next.is_empty() && next.len() <= MAX_STAGE).then_some(next)
}

/// Whether the box of `peer` can be ticked or unticked now: the last one on the stage
/// stays (a live needs a stage), and nobody more joins a full one.
pub fn stage_box_enabled(stage: &[PeerId], peer: &PeerId) -> bool {
    let on = stage.contains(peer);
    stage_after_toggle(stage, peer, !on).is_some()
}

/// The stage to send for `stage` as the controls show it: a stage that follows the speaker
/// starts with one, the first.
pub fn stage_to_send(stage: &[PeerId], follow_speaker: bool) -> Vec<PeerId> {
    let count = if follow_speaker { 1 } else { stage.len() };
    stage.iter().take(count).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<PeerId> {
        names.iter().map(|n| PeerId::from(*n)).collect()
    }

    #[test]
    fn ticking_adds_at_the_end_and_unticking_keeps_the_order() {
        let stage = ids(&["ana"]);
        let two = stage_after_toggle(&stage, &PeerId::from("ben"), true);
        assert_eq!(two, Some(ids(&["ana", "ben"])));
        let three = stage_after_toggle(&ids(&["ana", "ben", "cam"]), &PeerId::from("ben"), false);
        assert_eq!(three, Some(ids(&["ana", "cam"])));
        // Ticking someone already there changes nothing but their place.
        let again = stage_after_toggle(&ids(&["ana", "ben"]), &PeerId::from("ana"), true);
        assert_eq!(again, Some(ids(&["ben", "ana"])));
    }

    #[test]
    fn following_the_speaker_starts_from_the_first_on_the_stage() {
        let two = ids(&["ben", "ana"]);
        assert_eq!(stage_to_send(&two, true), ids(&["ben"]));
        assert_eq!(stage_to_send(&two, false), two);
        assert_eq!(stage_to_send(&[], true), Vec::<PeerId>::new());
    }

    #[test]
    fn the_stage_is_never_empty_and_never_more_than_four() {
        let one = ids(&["ana"]);
        assert_eq!(stage_after_toggle(&one, &PeerId::from("ana"), false), None);
        assert!(!stage_box_enabled(&one, &PeerId::from("ana")));
        assert!(stage_box_enabled(&one, &PeerId::from("ben")));
        let full = ids(&["a", "b", "c", "d"]);
        assert_eq!(stage_after_toggle(&full, &PeerId::from("e"), true), None);
        assert!(!stage_box_enabled(&full, &PeerId::from("e")));
        assert!(stage_box_enabled(&full, &PeerId::from("c")));
    }
}
