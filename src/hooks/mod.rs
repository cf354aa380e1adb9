//! The only bridge between Yew and the browser layers (`media`, `rtc`, `signaling`).

mod meeting;
mod use_audio_level;
mod use_local_media;
mod use_muted_speech;
mod use_page_title;
mod use_screen_share;
mod use_shortcuts;
mod use_viewport;
mod use_visible;
mod use_watch;

pub use meeting::{use_meeting, Command, HostCommand, JoinRequest, MeetingHandle, RemoteStreams};
pub use use_audio_level::{use_audio_level, SPEAKING_LEVEL};
pub use use_local_media::{use_local_media, DeviceChoice, LocalMedia, LocalMediaHandle};
pub use use_muted_speech::use_muted_speech;
pub use use_page_title::use_page_title;
pub use use_screen_share::{use_screen_share, ScreenShareHandle};
pub use use_shortcuts::use_shortcuts;
pub use use_viewport::use_viewport;
pub use use_visible::use_visible;
pub use use_watch::{use_watch, WatchHandle};
