//! End-to-end harness: starts the relay and headless browsers, and drives them over WebDriver.
//!
//! A test is an `async` closure given to [`run_test`]:
//!
//! ```no_run
//! use meshmeet_e2e::{run_test, DEFAULT_WAIT};
//! use std::time::Duration;
//!
//! // In tests/e2e/tests/*.rs, under #[tokio::test]:
//! async fn two_peers_see_each_other() {
//!     run_test("two_peers_see_each_other", async |t| {
//!         let alice = t.chromium().await?;
//!         let bob = t.firefox().await?;
//!         alice.open_room("standup", "Alice").await?;
//!         bob.open_room("standup", "Bob").await?;
//!         alice.wait_until_peer_tile_decodes("Bob", Duration::from_secs(30)).await?;
//!         bob.wait_for("[data-testid=peer-tile][data-peer-name=Alice]", DEFAULT_WAIT).await?;
//!         Ok(())
//!     })
//!     .await;
//! }
//! ```
//!
//! The relay binary comes from `MESHMEET_SERVER_BIN` (default `target/relay/meshmeet-server`),
//! the client from `MESHMEET_DIST` (default `dist/`), the drivers from `CHROMEDRIVER` and
//! `GECKODRIVER` (default: `PATH`). `cargo xtask test` sets all four.

pub mod a11y;
pub mod bench;
pub mod bench_live;
pub mod bench_sfu;
pub mod browser;
pub mod chat;
pub mod driver;
pub mod files;
pub mod harness;
pub mod janus;
pub mod janus_operator;
pub mod live;
pub mod process;
pub mod proxy;
pub mod relay;
pub mod rtmp;
pub mod rtsp_camera;
pub mod speech;
pub mod throttle;
pub mod turn;
pub mod whep_viewers;
pub mod whip_publisher;

pub use browser::{
    room_url, wait_until_everyone_decodes_everyone, Browser, VideoSample, CHEAP_CAMERA,
    CHEAP_CAMERA_ARG, DEFAULT_WAIT,
};
pub use driver::BrowserKind;
pub use harness::{artifacts_dir, run_test, run_test_with, run_test_within, TestCtx, TEST_TIMEOUT};
pub use janus::Janus;
pub use proxy::Proxy;
pub use relay::Relay;
pub use rtmp::RtmpServer;
pub use throttle::DownlinkThrottle;
pub use turn::Coturn;

use std::fmt;
use std::path::{Path, PathBuf};

/// A failure described for a person: what was being done and what went wrong.
pub struct Error {
    message: String,
}

impl Error {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

// Debug is what libtest prints for an `Err` returned from a test: keep it readable.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(error: E) -> Self {
        Self::new(error.to_string())
    }
}

/// The harness's result type.
pub type Result<T = ()> = std::result::Result<T, Error>;

/// Adds what was being done to an error.
pub trait Context<T> {
    /// Prefixes the error with `what`.
    fn context(self, what: &str) -> Result<T>;
    /// Prefixes the error with the message `what()` builds (only on error).
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::new(format!("{what}: {e}")))
    }

    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::new(format!("{}: {e}", what())))
    }
}

/// The per-user tool directory `cargo xtask test` installs into
/// (`$XDG_CACHE_HOME/meshmeet/tools`, else `~/.cache/meshmeet/tools`).
pub fn tools_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_default()
        .join("meshmeet/tools")
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/e2e lives two levels below the workspace root")
        .to_path_buf()
}
