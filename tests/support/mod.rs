//! Helpers shared by the browser test suites: fresh DOM roots, polling, fake media.
#![allow(dead_code)] // each suite uses its own subset

use gloo_timers::future::TimeoutFuture;
use meshmeet::media::{capture, CaptureRequest, VideoQuality};
use meshmeet::rtc::stats_of;
use web_sys::{Document, Element, MediaStream, RtcPeerConnection};

/// Poll step for [`wait_until`].
pub const POLL_MS: u32 = 20;

/// The test page's document.
pub fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("tests run in a page with a document")
}

/// A fresh `<div>` appended to `<body>`, so each test renders into its own root.
pub fn fresh_root() -> Element {
    let document = document();
    let root = document.create_element("div").expect("create a div");
    document
        .body()
        .expect("the test page has a body")
        .append_child(&root)
        .expect("append the root");
    root
}

/// Clicks the element matching `selector` under `root`; fails if there is none.
pub fn click(root: &Element, selector: &str) {
    use wasm_bindgen::JsCast;
    root.query_selector(selector)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{selector} not rendered"))
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
}

/// Polls `check` until it returns `Some`, failing with `what` after `timeout_ms`.
pub async fn wait_until<T>(what: &str, timeout_ms: u32, mut check: impl FnMut() -> Option<T>) -> T {
    let mut waited = 0;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            waited < timeout_ms,
            "timed out after {timeout_ms} ms waiting for {what}"
        );
        TimeoutFuture::new(POLL_MS).await;
        waited += POLL_MS;
    }
}

/// Waits until `selector` matches inside `root`.
pub async fn wait_for(root: &Element, selector: &str) -> Element {
    wait_until(selector, 5_000, || {
        root.query_selector(selector).ok().flatten()
    })
    .await
}

/// A small fake camera and microphone stream (the browsers run with fake devices).
pub async fn fake_stream() -> MediaStream {
    capture(&CaptureRequest {
        audio: Some(None),
        video: Some(None),
        quality: VideoQuality::Low,
    })
    .await
    .expect("the fake camera and microphone are available")
}

/// Video frames `pc` decoded so far, over every stream it receives.
pub async fn video_frames_decoded(pc: &RtcPeerConnection) -> f64 {
    let snapshot = stats_of(pc).await.expect("the connection's stats");
    snapshot
        .inbound
        .iter()
        .filter(|r| r.kind == "video")
        .map(|r| r.frames_decoded)
        .sum()
}

/// Waits until `pc` decoded at least `frames` video frames (failing with `what` after
/// `timeout_ms`); how many it has.
pub async fn wait_for_decoded(
    pc: &RtcPeerConnection,
    frames: f64,
    timeout_ms: u32,
    what: &str,
) -> f64 {
    let mut waited = 0;
    loop {
        let decoded = video_frames_decoded(pc).await;
        if decoded >= frames {
            return decoded;
        }
        assert!(waited < timeout_ms, "{what}: {decoded} frames decoded");
        TimeoutFuture::new(250).await;
        waited += 250;
    }
}
