//! Frame encryption: the worker that encrypts every encoded frame a participant sends and
//! decrypts every frame received (`e2ee_worker.js`: AES-GCM through Web Crypto, an
//! SFrame-like layout that leaves the codec header a forwarding server needs in the clear),
//! and its attachment to senders and receivers as `RTCRtpScriptTransform`s. Yew-free.
//!
//! Keys are numbered (0–255) so a new one can be given to receivers before senders switch
//! to it: a frame names the key it was encrypted with.

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::{Blob, BlobPropertyBag, RtcRtpReceiver, RtcRtpSender, Url, Worker};

use crate::js::{json_of, object_from, JsError, Listener};

/// The worker's script, started from a Blob: nothing to serve beside the client.
const WORKER_SCRIPT: &str = include_str!("e2ee_worker.js");

// web-sys has `RTCRtpScriptTransform` only behind `web_sys_unstable_apis`, which changes
// other signatures (`scrollTop`, `Performance.mark`) crate-wide: the constructor is bound
// here, and a sender's or receiver's `transform` set through `Reflect`.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = RTCRtpScriptTransform)]
    type ScriptTransform;

    #[wasm_bindgen(catch, constructor, js_class = "RTCRtpScriptTransform")]
    fn new(worker: &Worker, options: &JsValue) -> Result<ScriptTransform, JsValue>;
}

/// What can go wrong setting frame encryption up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameCryptoError {
    /// The browser has no encoded transforms (`RTCRtpScriptTransform`).
    #[error("this browser cannot encrypt media frames (no RTCRtpScriptTransform)")]
    Unsupported,
    /// The worker could not be started.
    #[error("the encryption worker did not start: {0}")]
    Worker(JsError),
    /// A key is not 16 or 32 bytes (AES-128 or AES-256).
    #[error("an encryption key is {0} bytes, not 16 or 32")]
    KeyLength(usize),
    /// A message could not reach the worker, or a transform could not be attached.
    #[error("frame encryption failed: {0}")]
    Browser(JsError),
}

/// Frames the worker handled so far, as it reports them about every second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameCounts {
    /// Frames encrypted for sending.
    pub encrypted: u64,
    /// Frames received and decrypted.
    pub decrypted: u64,
    /// Frames received that did not decrypt (another key, none, or changed on the way):
    /// dropped before the decoder.
    pub failed: u64,
}

/// The worker's report as the page reads it (JavaScript numbers arrive as floats).
#[derive(Deserialize)]
struct Reported {
    encrypted: f64,
    decrypted: f64,
    failed: f64,
}

impl From<Reported> for FrameCounts {
    fn from(r: Reported) -> Self {
        // Counts of frames: whole, far below 2^53.
        FrameCounts {
            encrypted: r.encrypted as u64,
            decrypted: r.decrypted as u64,
            failed: r.failed as u64,
        }
    }
}

/// What the page tells the worker.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToWorker<'a> {
    /// Learn key `index` (`raw` bytes), or forget it (`None`).
    Key { index: u8, raw: Option<&'a [u8]> },
    /// Encrypt what is sent from now on with key `index`.
    SendWith { index: u8 },
}

/// What a transform does, and to which kind of frame.
#[derive(Serialize)]
struct TransformOptions<'a> {
    operation: &'static str,
    kind: &'a str,
}

/// A page's frame encryption as its peer connections share it: equal when it is the same
/// worker.
#[derive(Clone)]
pub struct SharedFrameCrypto(pub Rc<FrameCrypto>);

impl PartialEq for SharedFrameCrypto {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedFrameCrypto {}

impl std::fmt::Debug for SharedFrameCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedFrameCrypto")
    }
}

/// One worker for a page's frame encryption, and the counts it reported last.
pub struct FrameCrypto {
    worker: Worker,
    url: String,
    counts: Rc<RefCell<FrameCounts>>,
    _reports: Listener,
}

impl FrameCrypto {
    /// Whether this browser can encrypt frames (Chromium 141+, Firefox 117+, Safari 15.4+).
    pub fn supported() -> bool {
        let global = js_sys::global();
        js_sys::Reflect::has(&global, &JsValue::from_str("RTCRtpScriptTransform")).unwrap_or(false)
    }

    /// Starts the worker; it encrypts nothing until it has a key to send with.
    pub fn start() -> Result<FrameCrypto, FrameCryptoError> {
        if !Self::supported() {
            return Err(FrameCryptoError::Unsupported);
        }
        let worker_error = |e: JsValue| FrameCryptoError::Worker(JsError::from(e));
        let parts = js_sys::Array::of1(&JsValue::from_str(WORKER_SCRIPT));
        let options = BlobPropertyBag::new();
        options.set_type("text/javascript");
        let blob =
            Blob::new_with_str_sequence_and_options(&parts, &options).map_err(worker_error)?;
        let url = Url::create_object_url_with_blob(&blob).map_err(worker_error)?;
        let worker = match Worker::new(&url) {
            Ok(worker) => worker,
            Err(err) => {
                let _ = Url::revoke_object_url(&url);
                return Err(worker_error(err));
            }
        };
        let counts = Rc::new(RefCell::new(FrameCounts::default()));
        let reports = {
            let counts = Rc::clone(&counts);
            Listener::new(&worker, "message", move |event| {
                let Some(event) = wasm_bindgen::JsCast::dyn_ref::<web_sys::MessageEvent>(&event)
                else {
                    return;
                };
                if let Ok(reported) = serde_json::from_value::<Reported>(json_of(&event.data())) {
                    *counts.borrow_mut() = reported.into();
                }
            })
        };
        Ok(FrameCrypto {
            worker,
            url,
            counts,
            _reports: reports,
        })
    }

    /// Gives the worker key `index` (16 or 32 bytes): frames naming it decrypt from now on.
    pub fn set_key(&self, index: u8, raw: &[u8]) -> Result<(), FrameCryptoError> {
        if raw.len() != 16 && raw.len() != 32 {
            return Err(FrameCryptoError::KeyLength(raw.len()));
        }
        self.post(&ToWorker::Key {
            index,
            raw: Some(raw),
        })
    }

    /// Makes the worker forget key `index`: frames naming it no longer decrypt.
    pub fn forget_key(&self, index: u8) -> Result<(), FrameCryptoError> {
        self.post(&ToWorker::Key { index, raw: None })
    }

    /// Encrypts every frame sent from now on with key `index` (given with [`Self::set_key`]).
    pub fn send_with(&self, index: u8) -> Result<(), FrameCryptoError> {
        self.post(&ToWorker::SendWith { index })
    }

    /// Encrypts what `sender` sends; `kind` is its track's kind (`audio` frames keep one
    /// byte clear, `video` its VP8 header).
    pub fn protect_sender(
        &self,
        sender: &RtcRtpSender,
        kind: &str,
    ) -> Result<(), FrameCryptoError> {
        self.attach(sender, "encrypt", kind)
    }

    /// Decrypts what `receiver` receives (`kind`: its track's); frames that do not decrypt
    /// never reach its decoder.
    pub fn protect_receiver(
        &self,
        receiver: &RtcRtpReceiver,
        kind: &str,
    ) -> Result<(), FrameCryptoError> {
        self.attach(receiver, "decrypt", kind)
    }

    /// Encrypts what `transceiver` sends and decrypts what it receives (`media`: `audio` or
    /// `video`); video prefers VP8 (see [`prefer_vp8`]).
    pub fn protect_transceiver(
        &self,
        transceiver: &web_sys::RtcRtpTransceiver,
        media: &str,
    ) -> Result<(), FrameCryptoError> {
        if media == "video" {
            prefer_vp8(transceiver);
        }
        self.protect_sender(&transceiver.sender(), media)?;
        self.protect_receiver(&transceiver.receiver(), media)
    }

    /// Decrypts what `receiver` receives unless a transform is attached already (the media
    /// server may offer a receiver again for another feed).
    pub fn protect_receiver_once(
        &self,
        receiver: &RtcRtpReceiver,
        media: &str,
    ) -> Result<(), FrameCryptoError> {
        let attached = js_sys::Reflect::get(receiver, &JsValue::from_str("transform"))
            .map(|t| !t.is_null() && !t.is_undefined())
            .unwrap_or(false);
        if attached {
            return Ok(());
        }
        self.protect_receiver(receiver, media)
    }

    /// A test aid, for pages opened with `?e2ee_probe`: `window.meshmeetFrameProbe(kind,
    /// frames)` tries protected frames (base64) with the keys this worker holds, and
    /// resolves to `{ decrypted, failed }`. It keeps the worker, and so its keys, for the
    /// page's life: a test asks a removed participant's page what its keys still open.
    pub fn expose_probe(shared: &SharedFrameCrypto) -> Result<(), FrameCryptoError> {
        use base64::Engine as _;
        use wasm_bindgen::JsCast as _;
        let browser = |e: JsValue| FrameCryptoError::Browser(JsError::from(e));
        let crypto = shared.clone();
        let probe = wasm_bindgen::closure::Closure::<
            dyn Fn(String, js_sys::Array) -> js_sys::Promise,
        >::new(move |kind: String, frames: js_sys::Array| {
            let worker = crypto.0.worker.clone();
            js_sys::Promise::new(&mut |resolve, reject| {
                let run = || -> Result<(), JsValue> {
                    let channel = web_sys::MessageChannel::new()?;
                    let on_reply = wasm_bindgen::closure::Closure::once_into_js(
                        move |event: web_sys::MessageEvent| {
                            let _ = resolve.call1(&JsValue::NULL, &event.data());
                        },
                    );
                    channel
                        .port1()
                        .set_onmessage(Some(on_reply.unchecked_ref()));
                    let buffers = js_sys::Array::new();
                    for frame in frames.iter() {
                        let text = frame.as_string().unwrap_or_default();
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .map_err(|_| JsValue::from_str("a probed frame is not base64"))?;
                        buffers.push(&js_sys::Uint8Array::from(bytes.as_slice()).buffer());
                    }
                    let msg = js_sys::Object::new();
                    for (name, value) in [
                        ("type", JsValue::from_str("probe")),
                        ("kind", JsValue::from_str(&kind)),
                        ("frames", buffers.into()),
                        ("port", channel.port2().into()),
                    ] {
                        js_sys::Reflect::set(&msg, &JsValue::from_str(name), &value)?;
                    }
                    worker.post_message_with_transfer(&msg, &js_sys::Array::of1(&channel.port2()))
                };
                if let Err(err) = run() {
                    let _ = reject.call1(&JsValue::NULL, &err);
                }
            })
        });
        let window = crate::js::window().map_err(FrameCryptoError::Browser)?;
        js_sys::Reflect::set(
            &window,
            &JsValue::from_str("meshmeetFrameProbe"),
            probe.as_ref(),
        )
        .map_err(browser)?;
        probe.forget();
        Ok(())
    }

    /// What the worker counted, as of its last report.
    pub fn counts(&self) -> FrameCounts {
        *self.counts.borrow()
    }

    /// Sets `target`'s `transform` to a new transform of this worker.
    fn attach(
        &self,
        target: &JsValue,
        operation: &'static str,
        kind: &str,
    ) -> Result<(), FrameCryptoError> {
        let browser = |e: JsValue| FrameCryptoError::Browser(JsError::from(e));
        let options = object_from(&TransformOptions { operation, kind })
            .map_err(FrameCryptoError::Browser)?;
        let transform = ScriptTransform::new(&self.worker, &options).map_err(browser)?;
        js_sys::Reflect::set(target, &JsValue::from_str("transform"), &transform)
            .map_err(browser)?;
        Ok(())
    }

    fn post(&self, msg: &ToWorker<'_>) -> Result<(), FrameCryptoError> {
        let value = object_from(msg).map_err(FrameCryptoError::Browser)?;
        self.worker
            .post_message(&value)
            .map_err(|e| FrameCryptoError::Browser(JsError::from(e)))
    }
}

/// Puts VP8 first in a video `transceiver`'s codec preferences, where the browser lets a
/// page choose (`setCodecPreferences`): the protected frame keeps VP8's header in the clear,
/// while an encrypted H.264 frame would be cut at false start codes by the packetiser (and
/// Safari offers H.264 first). Best effort: a browser without it negotiates as it would.
pub fn prefer_vp8(transceiver: &web_sys::RtcRtpTransceiver) {
    use js_sys::{Array, Function, Reflect};
    use wasm_bindgen::JsCast as _;
    let global = js_sys::global();
    let codecs = Reflect::get(&global, &JsValue::from_str("RTCRtpReceiver"))
        .and_then(|class| {
            let get: Function =
                Reflect::get(&class, &JsValue::from_str("getCapabilities"))?.dyn_into()?;
            get.call1(&class, &JsValue::from_str("video"))
        })
        .and_then(|caps| Reflect::get(&caps, &JsValue::from_str("codecs")))
        .ok()
        .and_then(|codecs| codecs.dyn_into::<Array>().ok());
    let Some(codecs) = codecs else {
        return;
    };
    let is_vp8 = |codec: &JsValue| {
        Reflect::get(codec, &JsValue::from_str("mimeType"))
            .ok()
            .and_then(|m| m.as_string())
            .is_some_and(|m| m.eq_ignore_ascii_case("video/VP8"))
    };
    let (vp8, others): (Vec<JsValue>, Vec<JsValue>) = codecs.iter().partition(is_vp8);
    if vp8.is_empty() {
        return;
    }
    let ordered: Array = vp8.into_iter().chain(others).collect();
    let set = Reflect::get(transceiver, &JsValue::from_str("setCodecPreferences"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    if let Some(set) = set {
        let _ = set.call1(transceiver, &ordered);
    }
}

impl Drop for FrameCrypto {
    fn drop(&mut self) {
        self.worker.terminate();
        let _ = Url::revoke_object_url(&self.url);
    }
}
