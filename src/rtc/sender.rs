//! What a sender sends: its track, swapped without renegotiating, and the encoder settings
//! of a video sender ([`SendParams`] per encoding, applied with `setParameters`).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{MediaStreamTrack, RtcRtpTransceiver};

use super::{RtcError, SendParams};
use crate::js::JsError;

/// Sends `track` (or nothing) on the transceiver's sender without renegotiating, in the
/// background; a refusal goes to `on_error`.
pub(super) fn replace_track_later(
    transceiver: RtcRtpTransceiver,
    track: Option<MediaStreamTrack>,
    on_error: impl FnOnce(RtcError) + 'static,
) {
    spawn_local(async move {
        let promise = transceiver.sender().replace_track(track.as_ref());
        if let Err(err) = JsFuture::from(promise).await {
            on_error(RtcError::ReplaceTrack(err.into()));
        }
    });
}

/// Sets the encoder settings of the transceiver's sender: `layers[i]` on its encoding `i`
/// (the simulcast layers, highest first), the first of them on any encoding beyond.
pub(super) async fn set_encoding(
    transceiver: &RtcRtpTransceiver,
    layers: &[SendParams],
) -> Result<(), JsError> {
    let Some(first) = layers.first() else {
        return Ok(());
    };
    let sender = transceiver.sender();
    let call = |name: &str, args: &js_sys::Array| -> Result<JsValue, JsError> {
        let method: js_sys::Function = js_sys::Reflect::get(&sender, &JsValue::from_str(name))?
            .dyn_into()
            .map_err(|_| JsError::new("TypeError", format!("RTCRtpSender.{name} is missing")))?;
        Ok(method.apply(&sender, args)?)
    };
    let parameters = call("getParameters", &js_sys::Array::new())?;
    let encodings = js_sys::Reflect::get(&parameters, &JsValue::from_str("encodings"))?;
    let Some(encodings) = encodings.dyn_ref::<js_sys::Array>() else {
        return Ok(());
    };
    if encodings.length() == 0 {
        return Ok(());
    }
    let set = |target: &JsValue, key: &str, value: JsValue| {
        js_sys::Reflect::set(target, &JsValue::from_str(key), &value).map(|_| ())
    };
    for (i, encoding) in encodings.iter().enumerate() {
        let params = layers.get(i).unwrap_or(first);
        set(&encoding, "active", JsValue::from_bool(params.active))?;
        set(
            &encoding,
            "maxBitrate",
            JsValue::from(params.max_bitrate_bps),
        )?;
        set(
            &encoding,
            "scaleResolutionDownBy",
            JsValue::from_f64(params.scale_down),
        )?;
        set(&encoding, "maxFramerate", JsValue::from_f64(params.max_fps))?;
    }
    let promise: js_sys::Promise = call("setParameters", &js_sys::Array::of1(&parameters))?.into();
    JsFuture::from(promise).await?;
    Ok(())
}
