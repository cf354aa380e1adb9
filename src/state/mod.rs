//! Page state as pure reducers, tested natively.

mod chat;
mod layout;
mod link;
mod names;
mod page_title;
mod room;
mod shortcuts;
mod stats;
mod transfer;

pub use chat::{segments, ChatAction, ChatEntry, ChatState, Segment};
pub use layout::{best_columns, layout, Layout, LayoutInput, Stage, ViewMode, TILE_GAP_PX};
pub use link::{query_value, token_name};
pub use names::{room_name_from, Route, MAX_ROOM_CHARS};
pub use page_title::{favicon_url, page_title, APP_NAME};
pub use room::{
    Action, Notice, Panel, Phase, RelayLink, RemotePeer, RoomFailure, RoomState, Toast, ToastKind,
    MAX_TOASTS,
};
pub use shortcuts::{shortcut_for, KeyPress, Shortcut, SHORTCUTS};
pub use stats::{PeerFigures, Point, StatsAction, StatsState, HISTORY_SAMPLES};
pub use transfer::{
    chunk_ranges, Checksum, Direction, Reassembly, ReassemblyError, Transfer, TransferAction,
    TransferKey, TransferState, Transfers,
};
