//! A bar showing the microphone level.

use crate::hooks::use_audio_level;
use crate::i18n::use_strings;
use web_sys::MediaStream;
use yew::prelude::*;

/// Props of [`LevelMeter`].
#[derive(Properties, PartialEq)]
pub struct LevelMeterProps {
    /// The stream whose audio is measured.
    pub stream: Option<MediaStream>,
}

/// Microphone level meter.
#[function_component(LevelMeter)]
pub fn level_meter(props: &LevelMeterProps) -> Html {
    let s = use_strings();
    let percent = (use_audio_level(props.stream.clone()) * 100.0).round() as u32;
    html! {
        <div class="level" role="meter" aria-label={s.mic_level} data-testid="mic-level"
            aria-valuemin="0" aria-valuemax="100" aria-valuenow={percent.to_string()}>
            <div class="level-fill" style={format!("width:{percent}%")} />
        </div>
    }
}
