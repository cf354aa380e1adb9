//! Pages: the start page and a meeting (lobby, then call).

mod call;
mod home;
mod lobby;
mod room;

pub use call::Call;
pub use home::{Home, HomeProps};
pub use lobby::Lobby;
pub use room::{JoinDetails, RoomPage};
