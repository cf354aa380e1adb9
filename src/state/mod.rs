//! Page state as pure reducers, tested natively.

mod chat;
mod downlink;
mod key_ring;
mod layout;
mod live_outputs;
mod meeting_url;
mod names;
mod page_title;
mod room;
mod shortcuts;
mod speaker;
mod stage_choice;
mod stats;
mod transfer;
mod video_prefs;
mod watch;

pub use chat::{segments, ChatAction, ChatEntry, ChatState, Segment};
pub use downlink::{DownlinkGuard, DownlinkSample};
pub use key_ring::{KeyRing, KeyStep, PUBLIC_KEY_GRACE_TICKS};
pub use layout::{
    best_columns, camera_layers, layout, Layout, LayoutInput, Stage, ViewMode, TILE_GAP_PX,
};
pub use live_outputs::live_outputs_from_form;
pub use meeting_url::{
    fragment_passphrase, passphrase_fragment, passphrase_from, query_value, token_name,
};
pub use names::{hls_url, room_name_from, watch_url, whip_url, Route, MAX_ROOM_CHARS};
pub use page_title::{favicon_url, page_title, APP_NAME};
pub use room::{
    Action, IngestGrant, Notice, Panel, Phase, RelayStatus, RemotePeer, RoomFailure, RoomState,
    SfuConnection, Toast, ToastKind, MAX_INGESTS, MAX_TOASTS,
};
pub use shortcuts::{shortcut_for, KeyPress, Shortcut, SHORTCUTS};
pub use speaker::{is_speaking, SpeakerChoice, SPEAKING_AUDIO_LEVEL};
pub use stage_choice::{stage_after_toggle, stage_box_enabled, stage_to_send};
pub use stats::{PeerFigures, Point, StatsAction, StatsState, HISTORY_SAMPLES};
pub use transfer::{
    chunk_ranges, Checksum, Direction, Reassembly, ReassemblyError, Transfer, TransferAction,
    TransferKey, TransferState, Transfers,
};
pub use video_prefs::VideoPrefs;
pub use watch::{WatchAction, WatchPhase, WatchState};
