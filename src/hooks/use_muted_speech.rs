//! Notices someone talking while muted, so the page can tell them.
//!
//! A muted microphone track is disabled and measures as silence, so this listens to a clone
//! of it that stays enabled. The clone goes nowhere but a local level meter, and it is stopped
//! as soon as the microphone is unmuted.

use super::{use_audio_level, SPEAKING_LEVEL};
use gloo_timers::callback::Timeout;
use web_sys::{MediaStream, MediaStreamTrack};
use yew::prelude::*;

/// How long the hint stays after the last sound, so it does not flicker between words.
const HINT_HOLD_MS: u32 = 3_000;

/// Whether the person spoke within the last few seconds while `muted`.
#[hook]
pub fn use_muted_speech(audio: Option<MediaStreamTrack>, muted: bool) -> bool {
    let probe = use_state(|| None::<MediaStream>);
    {
        let probe = probe.clone();
        use_effect_with((audio, muted), move |(audio, muted)| {
            // `MediaStreamTrack::clone` is the browser's `clone()`: a new, independent track,
            // wanted here (enabled while the sent one is muted; stopped below).
            #[allow(clippy::disallowed_methods)]
            let listener = audio
                .as_ref()
                .filter(|_| *muted)
                .map(MediaStreamTrack::clone);
            let stream = listener.as_ref().and_then(|track| {
                track.set_enabled(true);
                MediaStream::new_with_tracks(&js_sys::Array::of1(track)).ok()
            });
            probe.set(stream);
            move || {
                if let Some(track) = listener {
                    track.stop();
                }
            }
        });
    }
    let level = use_audio_level((*probe).clone());
    let shown = use_state_eq(|| false);
    let hold = use_mut_ref(|| None::<Timeout>);
    let speaking = muted && level > SPEAKING_LEVEL;
    {
        let (shown, hold) = (shown.clone(), hold.clone());
        use_effect_with((speaking, muted), move |(speaking, muted)| {
            if !*muted {
                hold.borrow_mut().take();
                shown.set(false);
            } else if *speaking {
                shown.set(true);
                let shown = shown.clone();
                *hold.borrow_mut() = Some(Timeout::new(HINT_HOLD_MS, move || shown.set(false)));
            }
        });
    }
    *shown
}
