//! The encoder settings of a video sender: [`SendParams`] applied to every encoding of an
//! `RTCRtpSender` with `setParameters`.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcRtpTransceiver;

use super::SendParams;
use crate::js::JsError;

/// Sets the encoder settings on every encoding of the transceiver's sender.
pub(super) async fn set_encoding(
    transceiver: &RtcRtpTransceiver,
    params: SendParams,
) -> Result<(), JsError> {
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
    for encoding in encodings.iter() {
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
