//! Camera, microphone and speaker pickers, shared by the lobby and the call.

use super::DevicePicker;
use crate::hooks::{DeviceChoice, LocalMediaHandle};
use crate::i18n::use_strings;
use crate::media::DeviceKind;
use yew::prelude::*;

/// Props of [`DeviceSettings`].
#[derive(Properties, PartialEq)]
pub struct DeviceSettingsProps {
    /// Local media: the device lists, the choices, and how to change them.
    pub media: LocalMediaHandle,
}

/// One picker per kind of device (the speaker picker only where there are speakers to pick).
#[function_component(DeviceSettings)]
pub fn device_settings(props: &DeviceSettingsProps) -> Html {
    let s = use_strings();
    let media = &props.media.media;
    let devices = |kind: DeviceKind| -> Vec<_> {
        media
            .devices
            .iter()
            .filter(|d| d.kind == kind)
            .cloned()
            .collect()
    };
    let choose = |make: fn(String) -> DeviceChoice| {
        let choose = props.media.choose.clone();
        Callback::from(move |id: String| choose.emit(make(id)))
    };
    let speakers = devices(DeviceKind::Speaker);
    html! {
        <div class="device-settings">
            <DevicePicker label={s.camera} testid="camera-select" devices={devices(DeviceKind::Camera)}
                selected={media.camera_id.clone()} on_change={choose(DeviceChoice::Camera)} />
            <DevicePicker label={s.microphone} testid="mic-select" devices={devices(DeviceKind::Microphone)}
                selected={media.mic_id.clone()} on_change={choose(DeviceChoice::Microphone)} />
            if !speakers.is_empty() {
                <DevicePicker label={s.speaker} testid="speaker-select" devices={speakers}
                    selected={media.speaker_id.clone()} on_change={choose(DeviceChoice::Speaker)} />
            }
        </div>
    }
}
