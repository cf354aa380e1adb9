//! Going live: a meeting's stage carried to an audience outside it. The stage's media goes
//! from the VideoRoom into a Janus Streaming mountpoint, which WHEP viewers watch; the relay
//! bridges each viewer's offer to Janus (see `bridge`). For RTMP and HLS, the stage is also
//! forwarded to an ffmpeg the relay runs (see `encoder`), whose HLS the relay serves; a stage
//! of several reaches the audience as that ffmpeg's composite (see `fanout`).

pub mod bridge;
pub mod encoder;
pub mod encoder_plan;
pub mod error;
pub mod fanout;
pub mod rooms;
pub mod routes;
pub mod rtmp_push;
pub mod sdp;
pub mod speaker;

pub use encoder::EncoderSettings;
pub use error::LiveError;
pub use rooms::{LiveRoom, LiveRooms};
