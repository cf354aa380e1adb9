//! The media layer against the browser's fake devices.
#![cfg(target_arch = "wasm32")]

mod support;

use meshmeet::media::{
    capture, list_devices, stop_stream, CaptureRequest, DeviceKind, MediaError, VideoQuality,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn capture_gives_one_live_track_per_requested_kind() {
    let stream = support::fake_stream().await;
    assert_eq!(stream.get_audio_tracks().length(), 1);
    assert_eq!(stream.get_video_tracks().length(), 1);
    stop_stream(&stream);
}

#[wasm_bindgen_test]
async fn audio_only_capture_has_no_video() {
    let stream = capture(&CaptureRequest {
        audio: Some(None),
        video: None,
        quality: VideoQuality::Low,
    })
    .await
    .expect("fake microphone");
    assert_eq!(stream.get_audio_tracks().length(), 1);
    assert_eq!(stream.get_video_tracks().length(), 0);
    stop_stream(&stream);
}

#[wasm_bindgen_test]
async fn a_camera_that_does_not_exist_is_reported_as_no_device() {
    let result = capture(&CaptureRequest {
        audio: None,
        video: Some(Some("no-such-camera".into())),
        quality: VideoQuality::Low,
    })
    .await;
    assert_eq!(result.err(), Some(MediaError::NoDevice));
}

#[wasm_bindgen_test]
async fn device_list_has_a_camera_and_a_microphone_after_capture() {
    let stream = support::fake_stream().await;
    let devices = list_devices().await.expect("enumerateDevices works");
    assert!(
        devices.iter().any(|d| d.kind == DeviceKind::Camera),
        "{devices:?}"
    );
    assert!(
        devices.iter().any(|d| d.kind == DeviceKind::Microphone),
        "{devices:?}"
    );
    stop_stream(&stream);
}

#[wasm_bindgen_test]
async fn nothing_requested_gives_an_empty_stream_without_asking() {
    let stream = capture(&CaptureRequest::default())
        .await
        .expect("empty stream");
    assert_eq!(stream.get_tracks().length(), 0);
}
