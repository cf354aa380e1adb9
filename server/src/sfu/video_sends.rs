//! Which video of a subscription the media server should send, from the participant's
//! preferences (audio only; camera tiles off screen). Pure: the session feeds it the
//! subscription's streams and the browser's preferences, and tells Janus the changes it
//! returns (`configure` with `send` per mid).
//!
//! Janus sends every stream of a new subscription. A mid of the subscription can be reused
//! for another publisher's stream after its first publisher left, and whether that reset
//! its `send` is Janus's business: a mid that now carries something else is told what is
//! wanted of it, whatever that is.

use std::collections::{BTreeMap, BTreeSet};

use meshmeet_protocol::{PeerId, SfuStream, StreamKind};

/// A publisher's camera in its own layout (0 microphone, 1 camera, 2 screen: PROTOCOL.md).
const CAMERA_INDEX: u32 = 1;

/// What a mid was last told to do, for the stream it carried then.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Told {
    peer: PeerId,
    index: u32,
    send: bool,
}

/// The video sends of one participant's subscription.
#[derive(Debug, Default)]
pub struct VideoSends {
    audio_only: bool,
    hidden: BTreeSet<PeerId>,
    /// The subscription's streams as last offered or described.
    streams: Vec<SfuStream>,
    /// What Janus was told, by mid.
    told: BTreeMap<String, Told>,
}

impl VideoSends {
    /// The browser's preferences, replacing the previous ones.
    pub fn set_prefs(&mut self, audio_only: bool, hidden: BTreeSet<PeerId>) {
        self.audio_only = audio_only;
        self.hidden = hidden;
    }

    /// The subscription's streams now.
    pub fn set_streams(&mut self, streams: &[SfuStream]) {
        self.streams = streams.to_vec();
    }

    /// Whether the participant wants the video of `stream`.
    fn wanted(&self, stream: &SfuStream) -> bool {
        let camera_off_screen =
            stream.index == CAMERA_INDEX && self.hidden.contains(&stream.peer_id);
        !self.audio_only && !camera_off_screen
    }

    /// The `(mid, send)` changes Janus must be told now; from now on they count as told.
    pub fn changes(&mut self) -> Vec<(String, bool)> {
        let mut changes = Vec::new();
        for stream in self.streams.iter().filter(|s| s.kind == StreamKind::Video) {
            let send = self.wanted(stream);
            let tell = match self.told.get(&stream.mid) {
                // A stream Janus started sending by itself.
                None => !send,
                Some(told) => {
                    told.peer != stream.peer_id || told.index != stream.index || told.send != send
                }
            };
            if tell {
                changes.push((stream.mid.clone(), send));
                let told = Told {
                    peer: stream.peer_id.clone(),
                    index: stream.index,
                    send,
                };
                self.told.insert(stream.mid.clone(), told);
            }
        }
        changes
    }

    /// Janus refused the last changes (a stream went away meanwhile): they count as not
    /// told, so the next streams decide again.
    pub fn refused(&mut self, changes: &[(String, bool)]) {
        for (mid, _) in changes {
            self.told.remove(mid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: &str = "3f9a1c0e5b7d42e8a6c1f0b29d8e7a45";
    const BO: &str = "b2c4e6f8a1d3c5e7f9a0b1c2d3e4f5a6";

    fn stream(mid: &str, peer: &str, kind: StreamKind, index: u32) -> SfuStream {
        SfuStream {
            mid: mid.into(),
            peer_id: PeerId::from(peer),
            kind,
            index,
        }
    }

    /// Ana's microphone and camera, Bo's microphone, camera and screen.
    fn room() -> Vec<SfuStream> {
        vec![
            stream("0", ANA, StreamKind::Audio, 0),
            stream("1", ANA, StreamKind::Video, 1),
            stream("2", BO, StreamKind::Audio, 0),
            stream("3", BO, StreamKind::Video, 1),
            stream("4", BO, StreamKind::Video, 2),
        ]
    }

    fn hidden(peers: &[&str]) -> BTreeSet<PeerId> {
        peers.iter().map(|p| PeerId::from(*p)).collect()
    }

    fn change(mid: &str, send: bool) -> (String, bool) {
        (mid.to_owned(), send)
    }

    #[test]
    fn everything_wanted_needs_no_configure() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        assert_eq!(sends.changes(), vec![]);
    }

    #[test]
    fn an_off_screen_tile_stops_only_that_camera_and_its_return_restarts_it() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(false, hidden(&[BO]));
        assert_eq!(
            sends.changes(),
            vec![change("3", false)],
            "Bo's screen stays"
        );
        assert_eq!(sends.changes(), vec![], "told once");
        sends.set_prefs(false, hidden(&[]));
        assert_eq!(sends.changes(), vec![change("3", true)]);
    }

    #[test]
    fn audio_only_stops_every_video_and_leaves_audio() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(true, hidden(&[]));
        assert_eq!(
            sends.changes(),
            vec![change("1", false), change("3", false), change("4", false)]
        );
        sends.set_prefs(false, hidden(&[ANA]));
        assert_eq!(sends.changes(), vec![change("3", true), change("4", true)]);
    }

    #[test]
    fn preferences_before_the_streams_apply_when_they_arrive() {
        let mut sends = VideoSends::default();
        sends.set_prefs(false, hidden(&[ANA]));
        assert_eq!(sends.changes(), vec![]);
        sends.set_streams(&room());
        assert_eq!(sends.changes(), vec![change("1", false)]);
    }

    #[test]
    fn a_mid_reused_for_another_stream_is_told_what_is_wanted_of_it() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(false, hidden(&[ANA]));
        assert_eq!(sends.changes(), vec![change("1", false)]);
        // Ana left and Janus gave her camera's mid to Bo's camera, which is wanted.
        sends.set_streams(&[stream("1", BO, StreamKind::Video, 1)]);
        assert_eq!(sends.changes(), vec![change("1", true)]);
    }

    #[test]
    fn refused_changes_are_decided_again() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(true, hidden(&[]));
        let changes = sends.changes();
        sends.refused(&changes);
        assert_eq!(sends.changes(), changes);
    }
}
