//! What a peer link sends: the kinds of track, each on a transceiver of its own, and the
//! local tracks of each kind; and the streams that show received tracks.

use wasm_bindgen::JsValue;
use web_sys::{MediaStream, MediaStreamTrack};

/// A new stream of `tracks` (the same tracks, not copies), for a tile to show.
pub fn stream_of(tracks: &[MediaStreamTrack]) -> Option<MediaStream> {
    let list: js_sys::Array = tracks.iter().map(JsValue::from).collect();
    MediaStream::new_with_tracks(&list).ok()
}

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

    /// What the next m-line of a remote offer carries, by its media type (`audio` or
    /// `video`) and the kinds earlier m-lines took (`taken`): the first audio m-line is the
    /// microphone, the first video the camera, the second video the screen, whatever their
    /// order. `None` for one beyond those (a second audio, a third video, or another media
    /// type): the link answers it `inactive` and shows nothing from it. PROTOCOL.md,
    /// "Media layout", promises this to other implementations.
    pub(super) fn for_offered_m_line(
        media: &str,
        taken: impl Fn(TrackKind) -> bool,
    ) -> Option<TrackKind> {
        TrackKind::ALL
            .into_iter()
            .find(|kind| kind.media() == media && !taken(*kind))
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

#[cfg(test)]
mod tests {
    use super::TrackKind;

    /// The kinds an offer's m-lines get, in order.
    fn layout(media: &[&str]) -> Vec<Option<TrackKind>> {
        let mut taken = Vec::new();
        media
            .iter()
            .map(|m| {
                let kind = TrackKind::for_offered_m_line(m, |k| taken.contains(&k));
                taken.extend(kind);
                kind
            })
            .collect()
    }

    #[test]
    fn offered_m_lines_are_mapped_by_kind_in_order_whatever_their_order() {
        use TrackKind::{Audio, Screen, Video};
        assert_eq!(
            layout(&["audio", "video", "video"]),
            [Some(Audio), Some(Video), Some(Screen)]
        );
        assert_eq!(
            layout(&["video", "audio", "video"]),
            [Some(Video), Some(Audio), Some(Screen)]
        );
        assert_eq!(layout(&["video"]), [Some(Video)]);
    }

    #[test]
    fn m_lines_beyond_one_audio_and_two_videos_carry_nothing() {
        use TrackKind::{Audio, Screen, Video};
        assert_eq!(
            layout(&["audio", "video", "video", "video", "audio", "text"]),
            [Some(Audio), Some(Video), Some(Screen), None, None, None]
        );
    }
}
