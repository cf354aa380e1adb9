//! Browser smoke tests of the client: the app mounts and renders, and the browser hands out
//! the fake camera and microphone. Run in headless Chromium and Firefox by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]

mod support;

use support::{fresh_root, wait_for};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{MediaStream, MediaStreamConstraints, MediaStreamTrack};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn app_mounts_into_a_root_and_renders_its_main_element() {
    let root = fresh_root();
    let handle = yew::Renderer::<meshmeet::App>::with_root(root.clone()).render();
    let app = wait_for(&root, "[data-testid=app]").await;
    assert!(
        !app.inner_html().trim().is_empty(),
        "the app rendered an empty root element"
    );
    handle.destroy();
    root.remove();
}

#[wasm_bindgen_test]
async fn fake_camera_and_microphone_give_live_tracks() {
    let media = web_sys::window()
        .expect("window")
        .navigator()
        .media_devices()
        .expect("navigator.mediaDevices exists (secure context)");
    let constraints = MediaStreamConstraints::new();
    constraints.set_video(&JsValue::TRUE);
    constraints.set_audio(&JsValue::TRUE);
    let request = media
        .get_user_media_with_constraints(&constraints)
        .expect("getUserMedia can be called");
    let stream: MediaStream = JsFuture::from(request)
        .await
        .expect("getUserMedia resolves with the fake devices (see webdriver.json)")
        .dyn_into()
        .expect("getUserMedia resolves to a MediaStream");

    let video = stream.get_video_tracks();
    assert!(video.length() >= 1, "no video track");
    let audio = stream.get_audio_tracks();
    assert!(audio.length() >= 1, "no audio track");
    let track: MediaStreamTrack = video.get(0).dyn_into().expect("a MediaStreamTrack");
    assert_eq!(track.kind(), "video");
    assert!(track.enabled(), "the video track is disabled");
    // `readyState` as a string: the `MediaStreamTrackState` binding is not a feature we enable.
    let state = js_sys::Reflect::get(&track, &JsValue::from_str("readyState"))
        .expect("readyState is readable")
        .as_string();
    assert_eq!(state.as_deref(), Some("live"));

    for track in stream.get_tracks().iter() {
        track.unchecked_into::<MediaStreamTrack>().stop();
    }
}

/// Browser values reach the native readers as trees: numbers as floats, nesting kept,
/// `undefined` and functions as null.
#[wasm_bindgen_test]
fn browser_objects_are_read_into_json_trees() {
    use serde_json::{json, Value as Json};
    let value = js_sys::JSON::parse(r#"{"a": 1.5, "b": "x", "c": [true, null], "d": {"e": 2}}"#)
        .expect("valid JSON");
    let _ = js_sys::Reflect::set(&value, &JsValue::from_str("f"), &JsValue::UNDEFINED);
    let tree = meshmeet::js::json_of(&value);
    assert_eq!(tree["a"].as_f64(), Some(1.5));
    assert!(tree["b"] == "x");
    assert_eq!(tree["c"], json!([true, null]));
    assert_eq!(tree["d"]["e"].as_f64(), Some(2.0));
    assert_eq!(tree.get("f"), Some(&Json::Null));
    assert_eq!(
        meshmeet::js::json_of(&JsValue::from_str("s")),
        Json::String("s".into())
    );
}
