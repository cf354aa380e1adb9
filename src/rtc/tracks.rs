//! What a peer link sends: the kinds of track, each on a transceiver of its own, and the
//! local tracks of each kind.

use web_sys::MediaStreamTrack;

/// What a link sends and receives, each on a transceiver of its own, created once so that
/// starting a screen share or switching a camera never needs a new offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrackKind {
    /// Microphone.
    Audio,
    /// Camera.
    Video,
    /// Shared screen (a second video).
    Screen,
}

impl TrackKind {
    /// Every kind, in transceiver (and so SDP m-line) order.
    pub const ALL: [TrackKind; 3] = [TrackKind::Audio, TrackKind::Video, TrackKind::Screen];

    /// The transceiver's media type (`audio` or `video`).
    pub(super) fn media(self) -> &'static str {
        match self {
            TrackKind::Audio => "audio",
            TrackKind::Video | TrackKind::Screen => "video",
        }
    }

    /// The transceiver's place, in SDP m-line order.
    pub(super) fn index(self) -> usize {
        match self {
            TrackKind::Audio => 0,
            TrackKind::Video => 1,
            TrackKind::Screen => 2,
        }
    }
}

/// The local tracks sent to every peer; `None` sends nothing of that kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalTracks {
    /// Microphone track.
    pub audio: Option<MediaStreamTrack>,
    /// Camera track.
    pub video: Option<MediaStreamTrack>,
    /// Screen-share track.
    pub screen: Option<MediaStreamTrack>,
}

impl LocalTracks {
    /// The track of one kind.
    pub fn get(&self, kind: TrackKind) -> Option<&MediaStreamTrack> {
        match kind {
            TrackKind::Audio => self.audio.as_ref(),
            TrackKind::Video => self.video.as_ref(),
            TrackKind::Screen => self.screen.as_ref(),
        }
    }

    /// Replaces the track of one kind.
    pub(super) fn set(&mut self, kind: TrackKind, track: Option<MediaStreamTrack>) {
        match kind {
            TrackKind::Audio => self.audio = track,
            TrackKind::Video => self.video = track,
            TrackKind::Screen => self.screen = track,
        }
    }
}
