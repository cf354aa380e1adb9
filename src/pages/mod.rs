//! Pages: the start page, a meeting (lobby, then call), and a live meeting's watch page.

mod call;
mod home;
mod lobby;
mod room;
mod watch;

pub use call::Call;
pub use home::{Home, HomeProps};
pub use lobby::Lobby;
pub use room::{new_passphrase, JoinDetails, RoomPage};
pub use watch::WatchPage;
