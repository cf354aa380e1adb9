//! Encoders in: OBS, ffmpeg or a hardware encoder publishing into an SFU room over WHIP
//! (RFC 9725). The host creates a token for a named encoder (`create_ingest`); a `POST
//! /whip/<room>` with it joins the room as a participant of that name whose upstream is the
//! encoder's offer, published to the room's Janus VideoRoom like a browser's. Everyone sees
//! it as a tile, and the host can put it on the stage. RTSP cameras come in the same way,
//! pulled by the relay (`cameras`).

pub mod cameras;
pub mod encoders;
pub mod error;
pub mod grants;
pub mod member;
pub mod routes;

pub use encoders::Encoders;
pub use error::IngestError;
pub use grants::IngestGrants;

/// The relay's encoders: the grants hosts created and the sessions publishing now.
#[derive(Debug, Default)]
pub struct Ingest {
    /// Who may publish, and under which name.
    pub grants: IngestGrants,
    /// Who publishes now.
    pub encoders: Encoders,
    /// The RTSP cameras pulled now.
    pub cameras: cameras::Cameras,
}
