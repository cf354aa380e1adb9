//! Page state as pure reducers, tested natively.

mod chat;
mod names;
mod room;
mod stats;
mod transfer;

pub use chat::{segments, ChatAction, ChatEntry, ChatState, Segment};
pub use names::{room_name_from, Route, MAX_ROOM_CHARS};
pub use room::{Action, Notice, Panel, Phase, RelayLink, RemotePeer, RoomFailure, RoomState};
pub use stats::{PeerFigures, Point, StatsAction, StatsState, HISTORY_SAMPLES};
pub use transfer::{
    chunk_ranges, Checksum, Direction, Reassembly, ReassemblyError, Transfer, TransferAction,
    TransferKey, TransferState, Transfers,
};
