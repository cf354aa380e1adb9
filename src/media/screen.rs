//! Screen capture with `getDisplayMedia`.

use super::constraints::{IdealMax, VideoConstraints};
use super::MediaError;
use crate::js::{object_from, window, JsError};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DisplayMediaStreamConstraints, MediaStream, MediaStreamTrack};

/// Whether this browser can share a screen (phones usually cannot).
pub fn can_share_screen() -> bool {
    web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .and_then(|md| js_sys::Reflect::get(&md, &JsValue::from_str("getDisplayMedia")).ok())
        .is_some_and(|f| f.is_function())
}

/// Asks the person to pick a screen, window or tab, and returns its video track, marked as
/// detailed content so the encoder keeps text sharp rather than motion smooth.
pub async fn capture_screen() -> Result<MediaStreamTrack, MediaError> {
    let media = window()
        .map_err(|_| MediaError::Unsupported)?
        .navigator()
        .media_devices()
        .map_err(|_| MediaError::InsecureContext)?;
    let constraints = DisplayMediaStreamConstraints::new();
    let video = VideoConstraints {
        width: None,
        height: None,
        frame_rate: IdealMax { ideal: 15, max: 30 },
        device_id: None,
    };
    constraints.set_video(&object_from(&video)?);
    constraints.set_audio_bool(false);
    let promise = media
        .get_display_media_with_constraints(&constraints)
        .map_err(JsError::from)?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(JsError::from)?
        .dyn_into()
        .map_err(|_| MediaError::Other("getDisplayMedia returned no stream".into()))?;
    let track: MediaStreamTrack = stream
        .get_video_tracks()
        .get(0)
        .dyn_into()
        .map_err(|_| MediaError::NoDevice)?;
    let _ = js_sys::Reflect::set(
        &track,
        &JsValue::from_str("contentHint"),
        &JsValue::from_str("detail"),
    );
    Ok(track)
}
