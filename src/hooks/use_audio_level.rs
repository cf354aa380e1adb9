//! The sound level of a stream, polled a few times a second, for meters and the speaking mark.

use crate::media::LevelMeter;
use gloo_timers::callback::Interval;
use web_sys::MediaStream;
use yew::prelude::*;

const POLL_INTERVAL_MS: u32 = 150;

/// Level above which someone counts as speaking (see `media::level::rms_level`).
pub const SPEAKING_LEVEL: f32 = 0.06;

/// The current level (0.0–1.0) of the audio in `stream`; 0 without audio.
#[hook]
pub fn use_audio_level(stream: Option<MediaStream>) -> f32 {
    let level = use_state_eq(|| 0.0f32);
    {
        let level = level.clone();
        use_effect_with(stream, move |stream| {
            let has_audio = stream
                .as_ref()
                .is_some_and(|s| s.get_audio_tracks().length() > 0);
            let meter = if has_audio {
                stream.as_ref().and_then(|s| LevelMeter::new(s).ok())
            } else {
                None
            };
            let interval = meter.map(|mut meter| {
                let level = level.clone();
                Interval::new(POLL_INTERVAL_MS, move || {
                    // Two decimals are plenty and spare re-renders while the level jitters.
                    level.set((meter.level() * 100.0).round() / 100.0);
                })
            });
            if interval.is_none() {
                level.set(0.0);
            }
            move || drop(interval)
        });
    }
    *level
}
