//! The lists of cameras, microphones and speakers, and choosing where sound plays.

use super::MediaError;
use crate::js::{window, JsError};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlMediaElement, MediaDeviceInfo, MediaDeviceKind};

/// What a device does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// A camera.
    Camera,
    /// A microphone.
    Microphone,
    /// A speaker or headphones.
    Speaker,
}

/// One device as the pickers show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// The browser's id for `deviceId` constraints.
    pub id: String,
    /// What it does.
    pub kind: DeviceKind,
    /// Its name; empty until the page has been granted access.
    pub label: String,
}

/// Lists the media devices. Labels are empty before any permission was granted.
pub async fn list_devices() -> Result<Vec<Device>, MediaError> {
    let window = window().map_err(|_| MediaError::Unsupported)?;
    let media = window
        .navigator()
        .media_devices()
        .map_err(|_| MediaError::InsecureContext)?;
    let promise = media.enumerate_devices().map_err(JsError::from)?;
    let list = JsFuture::from(promise).await.map_err(JsError::from)?;
    let list: js_sys::Array = list
        .dyn_into()
        .map_err(|_| MediaError::Other("enumerateDevices returned no list".into()))?;
    Ok(list
        .iter()
        .filter_map(|d| d.dyn_into::<MediaDeviceInfo>().ok())
        .filter_map(|info| {
            let kind = match info.kind() {
                MediaDeviceKind::Videoinput => DeviceKind::Camera,
                MediaDeviceKind::Audioinput => DeviceKind::Microphone,
                MediaDeviceKind::Audiooutput => DeviceKind::Speaker,
                _ => return None,
            };
            Some(Device {
                id: info.device_id(),
                kind,
                label: info.label(),
            })
        })
        .collect())
}

/// Plays an element's sound on the given speaker, where the browser can (`setSinkId`).
/// Returns `false` where it cannot choose (Safari), so the UI can hide the picker.
pub async fn set_audio_output(
    element: &HtmlMediaElement,
    device_id: &str,
) -> Result<bool, JsError> {
    let set_sink = js_sys::Reflect::get(element, &JsValue::from_str("setSinkId"))?;
    let Some(set_sink) = set_sink.dyn_ref::<js_sys::Function>() else {
        return Ok(false);
    };
    let promise = set_sink.call1(element, &JsValue::from_str(device_id))?;
    JsFuture::from(js_sys::Promise::from(promise)).await?;
    Ok(true)
}
