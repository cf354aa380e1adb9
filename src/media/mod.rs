//! Cameras, microphones and speakers: capture, device lists and sound levels. Yew-free.

mod capture;
mod constraints;
mod devices;
mod error;
mod level;
mod screen;

pub use capture::{capture, stop_stream, CaptureRequest, VideoQuality};
pub use devices::{list_devices, set_audio_output, Device, DeviceKind};
pub use error::MediaError;
pub use level::LevelMeter;
pub use screen::{can_share_screen, capture_screen};
