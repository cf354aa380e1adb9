//! The participant's own camera and microphone: first capture, device choice, on and off.
//!
//! Audio and video are separate tracks so that turning the camera off (which stops it, so
//! its light goes out) or switching one device never interrupts the other.

use crate::js::Listener;
use crate::media::{
    capture, list_devices, stop_stream, CaptureRequest, Device, MediaError, VideoQuality,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{MediaStream, MediaStreamTrack};
use yew::prelude::*;

/// What the lobby and the call show of the local media.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalMedia {
    /// Microphone track (disabled while muted).
    pub audio: Option<MediaStreamTrack>,
    /// Camera track (none while the camera is off).
    pub video: Option<MediaStreamTrack>,
    /// A stream of both, for previews.
    pub preview: Option<MediaStream>,
    /// Cameras, microphones and speakers.
    pub devices: Rc<Vec<Device>>,
    /// Chosen camera (`None`: the default).
    pub camera_id: Option<String>,
    /// Chosen microphone.
    pub mic_id: Option<String>,
    /// Chosen speaker.
    pub speaker_id: Option<String>,
    /// Microphone unmuted.
    pub mic_on: bool,
    /// Camera on.
    pub camera_on: bool,
    /// The last capture problem, shown until a capture succeeds.
    pub error: Option<MediaError>,
    /// A capture is under way.
    pub starting: bool,
}

impl LocalMedia {
    fn with_tracks(
        mut self,
        audio: Option<MediaStreamTrack>,
        video: Option<MediaStreamTrack>,
    ) -> Self {
        let list: js_sys::Array = audio
            .iter()
            .chain(video.iter())
            .map(JsValue::from)
            .collect();
        self.preview = MediaStream::new_with_tracks(&list).ok();
        self.audio = audio;
        self.video = video;
        self
    }
}

/// A change to [`LocalMedia`] (made by the hook only).
pub enum Change {
    /// New audio and video tracks.
    Tracks(Option<MediaStreamTrack>, Option<MediaStreamTrack>),
    /// New device list.
    Devices(Vec<Device>),
    /// Mic and camera flags.
    #[allow(missing_docs)]
    Flags { mic_on: bool, camera_on: bool },
    /// Device choices.
    #[allow(missing_docs)]
    Choice {
        camera: Option<String>,
        mic: Option<String>,
        speaker: Option<String>,
    },
    /// Capture problem.
    Error(Option<MediaError>),
    /// Capture under way.
    Starting(bool),
}

impl Reducible for LocalMedia {
    type Action = Change;

    fn reduce(self: Rc<Self>, change: Change) -> Rc<Self> {
        let mut next = (*self).clone();
        match change {
            Change::Tracks(audio, video) => next = next.with_tracks(audio, video),
            Change::Devices(devices) => next.devices = Rc::new(devices),
            Change::Flags { mic_on, camera_on } => {
                next.mic_on = mic_on;
                next.camera_on = camera_on;
            }
            Change::Choice {
                camera,
                mic,
                speaker,
            } => {
                next.camera_id = camera;
                next.mic_id = mic;
                next.speaker_id = speaker;
            }
            Change::Error(error) => next.error = error,
            Change::Starting(starting) => next.starting = starting,
        }
        Rc::new(next)
    }
}

/// Which device a picker chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    /// A camera id.
    Camera(String),
    /// A microphone id.
    Microphone(String),
    /// A speaker id.
    Speaker(String),
}

/// The local media and what can be done with it.
#[derive(Clone, PartialEq)]
pub struct LocalMediaHandle {
    /// What to show.
    pub media: Rc<LocalMedia>,
    /// Mutes or unmutes the microphone.
    pub toggle_mic: Callback<()>,
    /// Turns the camera off (stopping it) or on.
    pub toggle_camera: Callback<()>,
    /// Switches a device.
    pub choose: Callback<DeviceChoice>,
    /// Captures again after a failure, or after [`LocalMediaHandle::release`].
    pub retry: Callback<()>,
    /// Stops every track (leaving the meeting).
    pub release: Callback<()>,
}

/// The source of truth for tracks and choices; the reducer only mirrors it for rendering.
#[derive(Default)]
struct Controller {
    audio: Option<MediaStreamTrack>,
    video: Option<MediaStreamTrack>,
    camera_id: Option<String>,
    mic_id: Option<String>,
    speaker_id: Option<String>,
    mic_on: bool,
    camera_on: bool,
    /// Bumped by every capture so a slow, superseded one is discarded.
    generation: Cell<u32>,
}

type Shared = Rc<RefCell<Controller>>;

/// Captures camera and microphone once on mount and keeps them until release or unmount.
#[hook]
pub fn use_local_media(
    quality: VideoQuality,
    want_mic: bool,
    want_camera: bool,
) -> LocalMediaHandle {
    let media = use_reducer(|| LocalMedia {
        mic_on: want_mic,
        camera_on: want_camera,
        ..LocalMedia::default()
    });
    let controller: Shared = use_mut_ref(|| Controller {
        mic_on: want_mic,
        camera_on: want_camera,
        ..Controller::default()
    });

    {
        let (controller, dispatch) = (controller.clone(), media.dispatcher());
        use_effect_with((), move |_| {
            spawn_local(start(controller.clone(), dispatch.clone(), quality));
            let devices_changed = web_sys::window()
                .and_then(|w| w.navigator().media_devices().ok())
                .map(|md| {
                    let dispatch = dispatch.clone();
                    Listener::new(&md, "devicechange", move |_| {
                        spawn_local(refresh_devices(dispatch.clone()));
                    })
                });
            move || {
                drop(devices_changed);
                release(&controller);
            }
        });
    }

    let toggle_mic = {
        let (controller, dispatch) = (controller.clone(), media.dispatcher());
        Callback::from(move |()| {
            let mut c = controller.borrow_mut();
            c.mic_on = !c.mic_on;
            if let Some(track) = &c.audio {
                track.set_enabled(c.mic_on);
            }
            dispatch.dispatch(Change::Flags {
                mic_on: c.mic_on,
                camera_on: c.camera_on,
            });
        })
    };

    let toggle_camera = {
        let (controller, dispatch) = (controller.clone(), media.dispatcher());
        Callback::from(move |()| {
            let turning_on = !controller.borrow().camera_on;
            {
                let mut c = controller.borrow_mut();
                c.camera_on = turning_on;
                if !turning_on {
                    if let Some(track) = c.video.take() {
                        track.stop();
                    }
                }
                dispatch.dispatch(Change::Flags {
                    mic_on: c.mic_on,
                    camera_on: c.camera_on,
                });
                dispatch.dispatch(Change::Tracks(c.audio.clone(), c.video.clone()));
            }
            if turning_on {
                spawn_local(recapture(
                    controller.clone(),
                    dispatch.clone(),
                    quality,
                    Kind::Video,
                ));
            }
        })
    };

    let choose = {
        let (controller, dispatch) = (controller.clone(), media.dispatcher());
        Callback::from(move |choice: DeviceChoice| {
            let kind = {
                let mut c = controller.borrow_mut();
                let kind = match choice {
                    DeviceChoice::Camera(id) => {
                        c.camera_id = Some(id);
                        c.camera_on.then_some(Kind::Video)
                    }
                    DeviceChoice::Microphone(id) => {
                        c.mic_id = Some(id);
                        Some(Kind::Audio)
                    }
                    DeviceChoice::Speaker(id) => {
                        c.speaker_id = Some(id);
                        None
                    }
                };
                dispatch.dispatch(Change::Choice {
                    camera: c.camera_id.clone(),
                    mic: c.mic_id.clone(),
                    speaker: c.speaker_id.clone(),
                });
                kind
            };
            if let Some(kind) = kind {
                spawn_local(recapture(
                    controller.clone(),
                    dispatch.clone(),
                    quality,
                    kind,
                ));
            }
        })
    };

    let retry = {
        let (controller, dispatch) = (controller.clone(), media.dispatcher());
        Callback::from(move |()| {
            release(&controller);
            spawn_local(start(controller.clone(), dispatch.clone(), quality));
        })
    };

    let release_cb = {
        let (controller, dispatch) = (controller.clone(), media.dispatcher());
        Callback::from(move |()| {
            release(&controller);
            dispatch.dispatch(Change::Tracks(None, None));
        })
    };

    LocalMediaHandle {
        media: Rc::new((*media).clone()),
        toggle_mic,
        toggle_camera,
        choose,
        retry,
        release: release_cb,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Audio,
    Video,
}

fn release(controller: &Shared) {
    let mut c = controller.borrow_mut();
    c.generation.set(c.generation.get().wrapping_add(1));
    for track in [c.audio.take(), c.video.take()].into_iter().flatten() {
        track.stop();
    }
}

fn first_track(stream: &MediaStream, kind: Kind) -> Option<MediaStreamTrack> {
    let tracks = match kind {
        Kind::Audio => stream.get_audio_tracks(),
        Kind::Video => stream.get_video_tracks(),
    };
    tracks.get(0).dyn_into::<MediaStreamTrack>().ok()
}

/// First capture: both kinds in one request (one permission prompt); if that fails for a
/// reason other than a refusal, each kind alone, so a missing camera still leaves the mic.
async fn start(
    controller: Shared,
    dispatch: UseReducerDispatcher<LocalMedia>,
    quality: VideoQuality,
) {
    let generation = {
        let c = controller.borrow();
        c.generation.set(c.generation.get().wrapping_add(1));
        c.generation.get()
    };
    dispatch.dispatch(Change::Starting(true));
    let (camera_id, mic_id) = {
        let c = controller.borrow();
        (c.camera_id.clone(), c.mic_id.clone())
    };
    let both = CaptureRequest {
        audio: Some(mic_id.clone()),
        video: Some(camera_id.clone()),
        quality,
    };
    let (stream, error) = match capture(&both).await {
        Ok(stream) => (Some(stream), None),
        Err(
            err @ (MediaError::PermissionDenied
            | MediaError::InsecureContext
            | MediaError::Unsupported),
        ) => (None, Some(err)),
        Err(err) => {
            let audio_only = CaptureRequest {
                audio: Some(mic_id),
                video: None,
                quality,
            };
            let video_only = CaptureRequest {
                audio: None,
                video: Some(camera_id),
                quality,
            };
            match capture(&audio_only).await {
                Ok(stream) => (Some(stream), Some(err)),
                Err(_) => (capture(&video_only).await.ok(), Some(err)),
            }
        }
    };
    if controller.borrow().generation.get() != generation {
        if let Some(stream) = stream {
            stop_stream(&stream);
        }
        return;
    }
    {
        let mut c = controller.borrow_mut();
        if let Some(stream) = &stream {
            c.audio = first_track(stream, Kind::Audio);
            c.video = first_track(stream, Kind::Video);
        }
        if let Some(track) = &c.audio {
            track.set_enabled(c.mic_on);
        }
        if !c.camera_on {
            // Captured for the permission and the device list; not wanted on screen.
            if let Some(track) = c.video.take() {
                track.stop();
            }
        }
        dispatch.dispatch(Change::Tracks(c.audio.clone(), c.video.clone()));
    }
    dispatch.dispatch(Change::Error(error));
    dispatch.dispatch(Change::Starting(false));
    refresh_devices(dispatch).await;
}

/// Captures one kind again (device switch, camera back on) and swaps the track in.
async fn recapture(
    controller: Shared,
    dispatch: UseReducerDispatcher<LocalMedia>,
    quality: VideoQuality,
    kind: Kind,
) {
    let (generation, request) = {
        let c = controller.borrow();
        c.generation.set(c.generation.get().wrapping_add(1));
        let request = match kind {
            Kind::Audio => CaptureRequest {
                audio: Some(c.mic_id.clone()),
                video: None,
                quality,
            },
            Kind::Video => CaptureRequest {
                audio: None,
                video: Some(c.camera_id.clone()),
                quality,
            },
        };
        (c.generation.get(), request)
    };
    match capture(&request).await {
        Ok(stream) => {
            let mut c = controller.borrow_mut();
            let stale = c.generation.get() != generation || (kind == Kind::Video && !c.camera_on);
            if stale {
                stop_stream(&stream);
                return;
            }
            let track = first_track(&stream, kind);
            let old = match kind {
                Kind::Audio => {
                    if let Some(track) = &track {
                        track.set_enabled(c.mic_on);
                    }
                    std::mem::replace(&mut c.audio, track)
                }
                Kind::Video => std::mem::replace(&mut c.video, track),
            };
            if let Some(old) = old {
                old.stop();
            }
            dispatch.dispatch(Change::Tracks(c.audio.clone(), c.video.clone()));
            dispatch.dispatch(Change::Error(None));
        }
        Err(err) => {
            if kind == Kind::Video {
                let mut c = controller.borrow_mut();
                c.camera_on = false;
                dispatch.dispatch(Change::Flags {
                    mic_on: c.mic_on,
                    camera_on: false,
                });
            }
            dispatch.dispatch(Change::Error(Some(err)));
        }
    }
}

async fn refresh_devices(dispatch: UseReducerDispatcher<LocalMedia>) {
    match list_devices().await {
        Ok(devices) => dispatch.dispatch(Change::Devices(devices)),
        Err(err) => web_sys::console::warn_1(&JsValue::from_str(&format!("devices: {err}"))),
    }
}
