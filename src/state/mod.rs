//! Page state as pure reducers, tested natively.

mod names;
mod room;

pub use names::{room_name_from, Route, MAX_ROOM_CHARS};
pub use room::{Action, Notice, Panel, Phase, RemotePeer, RoomFailure, RoomState};
