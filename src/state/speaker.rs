//! Who the speaker view shows: the last remote participant heard, moved to someone else only
//! once the current speaker is quiet, so two people talking at once do not make it flicker.

use meshmeet_protocol::PeerId;
use std::collections::HashMap;

/// Sound level above which someone counts as speaking (WebRTC's `audioLevel`, 0–1).
pub const SPEAKING_AUDIO_LEVEL: f64 = 0.05;

/// Whether the local person is speaking: their microphone is on and loud enough.
pub fn is_speaking(mic_level: f64, mic_on: bool) -> bool {
    mic_on && mic_level > SPEAKING_AUDIO_LEVEL
}

/// The speaker choice: each remote participant's level at its last sample, and who holds the
/// stage. Pure: the meeting feeds it levels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpeakerChoice {
    speaker: Option<PeerId>,
    heard: HashMap<PeerId, f64>,
}

impl SpeakerChoice {
    /// Who holds the stage, if anyone was heard yet.
    pub fn speaker(&self) -> Option<&PeerId> {
        self.speaker.as_ref()
    }

    /// Records `peer`'s level at its latest sample. Returns `peer` when the stage moves to
    /// them: they are loud and the current speaker is quiet (silence keeps the last speaker).
    pub fn heard(&mut self, peer: &PeerId, level: f64) -> Option<PeerId> {
        self.heard.insert(peer.clone(), level);
        let current_quiet = self
            .speaker
            .as_ref()
            .and_then(|s| self.heard.get(s))
            .is_none_or(|level| *level <= SPEAKING_AUDIO_LEVEL);
        if level > SPEAKING_AUDIO_LEVEL && current_quiet && self.speaker.as_ref() != Some(peer) {
            self.speaker = Some(peer.clone());
            return self.speaker.clone();
        }
        None
    }

    /// `peer` left: its level is forgotten, and the stage is free if it held it.
    pub fn forget(&mut self, peer: &PeerId) {
        self.heard.remove(peer);
        if self.speaker.as_ref() == Some(peer) {
            self.speaker = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> PeerId {
        PeerId::from(s)
    }

    #[test]
    fn the_first_person_heard_takes_the_stage() {
        let mut choice = SpeakerChoice::default();
        assert_eq!(choice.heard(&id("a"), 0.01), None, "too quiet to count");
        assert_eq!(choice.heard(&id("a"), 0.3), Some(id("a")));
        assert_eq!(choice.speaker(), Some(&id("a")));
    }

    #[test]
    fn a_second_voice_waits_until_the_speaker_is_quiet() {
        let mut choice = SpeakerChoice::default();
        choice.heard(&id("a"), 0.3);
        assert_eq!(choice.heard(&id("b"), 0.4), None, "a still speaks");
        choice.heard(&id("a"), 0.0);
        assert_eq!(choice.heard(&id("b"), 0.4), Some(id("b")));
    }

    #[test]
    fn silence_keeps_the_last_speaker_on_stage() {
        let mut choice = SpeakerChoice::default();
        choice.heard(&id("a"), 0.3);
        choice.heard(&id("a"), 0.0);
        choice.heard(&id("b"), 0.0);
        assert_eq!(choice.speaker(), Some(&id("a")));
    }

    #[test]
    fn the_speaker_speaking_again_is_not_news() {
        let mut choice = SpeakerChoice::default();
        choice.heard(&id("a"), 0.3);
        assert_eq!(choice.heard(&id("a"), 0.5), None);
    }

    #[test]
    fn a_speaker_who_left_frees_the_stage_at_once() {
        let mut choice = SpeakerChoice::default();
        choice.heard(&id("a"), 0.3);
        choice.forget(&id("a"));
        assert_eq!(choice.speaker(), None);
        assert_eq!(choice.heard(&id("b"), 0.2), Some(id("b")));
    }

    #[test]
    fn the_local_person_speaks_only_with_the_microphone_on() {
        assert!(is_speaking(0.2, true));
        assert!(
            !is_speaking(0.2, false),
            "muted: not speaking, however loud"
        );
        assert!(
            !is_speaking(SPEAKING_AUDIO_LEVEL, true),
            "the threshold itself is quiet"
        );
    }
}
