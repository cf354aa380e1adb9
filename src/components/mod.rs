//! Presentational components: props in, callbacks out.

mod chat_panel;
mod controls;
mod device_picker;
mod device_settings;
mod error_banner;
mod invite_link;
mod lang_switch;
mod level_meter;
mod local_tile;
mod participant_list;
mod peer_tile;
mod screen_tile;
mod stats_panel;
mod video_view;

pub use chat_panel::{ChatPanel, ChatPanelProps};
pub use controls::{Controls, ControlsProps};
pub use device_picker::DevicePicker;
pub use device_settings::{DeviceSettings, DeviceSettingsProps};
pub use error_banner::ErrorBanner;
pub use invite_link::InviteLink;
pub use lang_switch::LangSwitch;
pub use level_meter::LevelMeter;
pub use local_tile::LocalTile;
pub use participant_list::ParticipantList;
pub use peer_tile::{PeerTile, PeerTileProps};
pub use screen_tile::{ScreenTile, ScreenTileProps};
pub use stats_panel::{StatsPanel, StatsPanelProps};
pub use video_view::VideoView;
