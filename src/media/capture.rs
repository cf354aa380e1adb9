//! `getUserMedia` with the constraints meshmeet uses.

use super::constraints::{AudioConstraints, Exact, Ideal, IdealMax, VideoConstraints, Wanted};
use super::MediaError;
use crate::js::{object_from, window, JsError};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamConstraints, MediaStreamTrack};

/// How much video to capture. Every participant uploads one copy per peer in a mesh, so the
/// default is modest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VideoQuality {
    /// 640x360 at 24 fps: the default for meetings.
    #[default]
    Standard,
    /// 320x180 at 15 fps: tests, benchmarks and weak machines.
    Low,
    /// 160x90 at 10 fps: many browsers on one small machine (benchmarks), very weak links.
    Tiny,
}

impl VideoQuality {
    /// Reads `?video=low` or `?video=tiny` from the page's query, for tests and weak
    /// machines.
    pub fn from_query(search: &str) -> Self {
        let value = search
            .trim_start_matches('?')
            .split('&')
            .find_map(|kv| kv.strip_prefix("video="));
        match value {
            Some("low") => VideoQuality::Low,
            Some("tiny") => VideoQuality::Tiny,
            _ => VideoQuality::Standard,
        }
    }

    fn constraints(self) -> (u32, u32, u32) {
        match self {
            VideoQuality::Standard => (640, 360, 24),
            VideoQuality::Low => (320, 180, 15),
            VideoQuality::Tiny => (160, 90, 10),
        }
    }
}

/// What to capture. `None` skips that kind; `Some(None)` takes the default device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureRequest {
    /// Microphone: `Some(Some(id))` for a chosen device.
    pub audio: Option<Option<String>>,
    /// Camera: `Some(Some(id))` for a chosen device.
    pub video: Option<Option<String>>,
    /// Video size and rate.
    pub quality: VideoQuality,
}

impl CaptureRequest {
    /// The `audio` and `video` members of the `getUserMedia` constraints.
    fn constraints_json(&self) -> (Wanted<AudioConstraints>, Wanted<VideoConstraints>) {
        let exact = |device: &Option<String>| device.clone().map(|exact| Exact { exact });
        let audio = match &self.audio {
            None => Wanted::No,
            Some(device) => Wanted::Yes(AudioConstraints {
                device_id: exact(device),
                echo_cancellation: true,
                noise_suppression: true,
            }),
        };
        let (width, height, fps) = self.quality.constraints();
        let video = match &self.video {
            None => Wanted::No,
            Some(device) => Wanted::Yes(VideoConstraints {
                width: Some(Ideal { ideal: width }),
                height: Some(Ideal { ideal: height }),
                frame_rate: IdealMax {
                    ideal: fps,
                    max: fps,
                },
                device_id: exact(device),
            }),
        };
        (audio, video)
    }
}

/// Asks the browser for camera and/or microphone. Nothing requested gives an empty stream.
pub async fn capture(request: &CaptureRequest) -> Result<MediaStream, MediaError> {
    if request.audio.is_none() && request.video.is_none() {
        return MediaStream::new().map_err(|e| MediaError::from(JsError::from(e)));
    }
    let window = window().map_err(|_| MediaError::Unsupported)?;
    if !window.is_secure_context() {
        return Err(MediaError::InsecureContext);
    }
    let devices = window
        .navigator()
        .media_devices()
        .map_err(|_| MediaError::Unsupported)?;
    let (audio, video) = request.constraints_json();
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&object_from(&audio)?);
    constraints.set_video(&object_from(&video)?);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(JsError::from)?;
    let stream = JsFuture::from(promise).await.map_err(JsError::from)?;
    stream
        .dyn_into::<MediaStream>()
        .map_err(|_| MediaError::Other("getUserMedia returned no stream".into()))
}

/// Stops every track of a stream (turns the camera light off).
pub fn stop_stream(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::Value;

    /// The constraints as the browser gets them: written as JSON text and read back.
    fn parsed(
        (audio, video): (Wanted<AudioConstraints>, Wanted<VideoConstraints>),
    ) -> (Value, Value) {
        let read = |text: String| serde_json::from_str(&text).expect("JSON");
        (
            read(serde_json::to_string(&audio).expect("audio is written")),
            read(serde_json::to_string(&video).expect("video is written")),
        )
    }

    #[test]
    fn chosen_devices_are_required_exactly() {
        let request = CaptureRequest {
            audio: Some(Some("mic-1".into())),
            video: Some(Some("cam-2".into())),
            quality: VideoQuality::Standard,
        };
        let (audio, video) = parsed(request.constraints_json());
        assert!(audio["deviceId"]["exact"] == "mic-1");
        assert!(audio["echoCancellation"] == true);
        assert!(video["deviceId"]["exact"] == "cam-2");
        assert_eq!(video["width"]["ideal"].as_f64(), Some(640.0));
        assert_eq!(video["frameRate"]["max"].as_f64(), Some(24.0));
    }

    #[test]
    fn skipped_kinds_are_false_and_low_quality_is_small() {
        let request = CaptureRequest {
            audio: None,
            video: Some(None),
            quality: VideoQuality::from_query("?room=x&video=low"),
        };
        let (audio, video) = parsed(request.constraints_json());
        assert_eq!(audio, Value::Bool(false));
        assert_eq!(video["height"]["ideal"].as_f64(), Some(180.0));
        assert_eq!(VideoQuality::from_query("?video=tiny"), VideoQuality::Tiny);
        assert_eq!(
            VideoQuality::from_query("?video=huge"),
            VideoQuality::Standard
        );
        assert!(video.get("deviceId").is_none());
        assert!(video["width"]["ideal"].as_f64().is_some());
    }
}
