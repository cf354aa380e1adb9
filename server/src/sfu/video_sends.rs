//! Which video of a subscription the media server should send, and which simulcast layer of
//! each camera, from the participant's preferences (audio only; camera tiles off screen;
//! the layer each camera tile's size needs). Pure: the session feeds it the subscription's
//! streams and the browser's preferences, and tells Janus the changes it returns
//! (`configure` with `send` and `substream` per mid).
//!
//! Janus sends every stream of a new subscription, at its highest layer. It reuses a mid of
//! the subscription for another feed's stream after the first feed went away (another
//! publisher, or the same one publishing again after a failure), and then the mid sends
//! again at the highest layer: a mid that carries another feed's stream is told what is
//! wanted of it, whatever that is.
//!
//! Janus moves a stream to another layer only on a key frame, which it asks the publisher
//! for once, when told; a browser may ignore a request that follows another closely, and
//! then the stream stays where it was. So a layer change counts as pending until Janus
//! reports a switch (`substream` event), and is told again (another key frame request) a
//! few times until it does. Any switch ends it: a key frame of every layer came, and a
//! layer the publisher does not send (Chromium sends fewer for small cameras) never will.

use std::collections::{BTreeMap, BTreeSet};

use meshmeet_protocol::{PeerId, SfuStream, SimulcastLayer, StreamKind};

/// A publisher's camera in its own layout (0 microphone, 1 camera, 2 screen: PROTOCOL.md).
const CAMERA_INDEX: u32 = 1;

/// What is wanted of one video stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Want {
    /// Whether to send it at all.
    pub send: bool,
    /// Janus's simulcast `substream` (0 lowest, 2 highest); `None` for a screen, which is
    /// sent at one size.
    pub substream: Option<u8>,
}

/// What a new stream of Janus's does by itself: send, at the highest layer.
const JANUS_DEFAULT: Want = Want {
    send: true,
    substream: Some(2),
};

/// What a mid was last told to do, for the stream it carried then (the publisher's Janus
/// feed, and the stream's place in it).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Told {
    feed: u64,
    index: u32,
    want: Want,
}

/// How many times a layer change is told again before it is left to the next key frame.
pub const SWITCH_RETRIES: u8 = 8;

/// Janus's number for a layer.
fn substream(layer: SimulcastLayer) -> u8 {
    match layer {
        SimulcastLayer::Low => 0,
        SimulcastLayer::Medium => 1,
        SimulcastLayer::High => 2,
    }
}

/// The video sends of one participant's subscription.
#[derive(Debug, Default)]
pub struct VideoSends {
    audio_only: bool,
    hidden: BTreeSet<PeerId>,
    layers: BTreeMap<PeerId, SimulcastLayer>,
    /// The subscription's streams as last offered or described, with their feeds.
    streams: Vec<(SfuStream, u64)>,
    /// What Janus was told, by mid.
    told: BTreeMap<String, Told>,
    /// Layer changes Janus has not reported yet, by mid: how often each was told again.
    switching: BTreeMap<String, u8>,
}

impl VideoSends {
    /// The browser's preferences, replacing the previous ones.
    pub fn set_prefs(
        &mut self,
        audio_only: bool,
        hidden: BTreeSet<PeerId>,
        layers: BTreeMap<PeerId, SimulcastLayer>,
    ) {
        self.audio_only = audio_only;
        self.hidden = hidden;
        self.layers = layers;
    }

    /// The subscription's streams now, each with the Janus feed it carries. What was told
    /// of mids no longer among them is forgotten.
    pub fn set_streams(&mut self, streams: &[(SfuStream, u64)]) {
        self.streams = streams.to_vec();
        let carried = |mid: &String| streams.iter().any(|(s, _)| &s.mid == mid);
        self.told.retain(|mid, _| carried(mid));
        self.switching.retain(|mid, _| carried(mid));
    }

    /// What the participant wants of the video `stream`.
    fn wanted(&self, stream: &SfuStream) -> Want {
        let camera = stream.index == CAMERA_INDEX;
        let off_screen = camera && self.hidden.contains(&stream.peer_id);
        let layer = self
            .layers
            .get(&stream.peer_id)
            .copied()
            .unwrap_or_default();
        Want {
            send: !self.audio_only && !off_screen,
            substream: camera.then(|| substream(layer)),
        }
    }

    /// The changes Janus must be told now, by mid; from now on they count as told.
    pub fn changes(&mut self) -> Vec<(String, Want)> {
        let mut changes = Vec::new();
        let video = self
            .streams
            .iter()
            .filter(|(s, _)| s.kind == StreamKind::Video);
        for (stream, feed) in video {
            let want = self.wanted(stream);
            let tell = match self.told.get(&stream.mid) {
                // A stream Janus started by itself; a screen's layer is no matter.
                None => {
                    want.send != JANUS_DEFAULT.send
                        || want
                            .substream
                            .is_some_and(|s| Some(s) != JANUS_DEFAULT.substream)
                }
                Some(told) => told.feed != *feed || told.index != stream.index || told.want != want,
            };
            if tell {
                if want.send && want.substream.is_some() {
                    self.switching.insert(stream.mid.clone(), 0);
                } else {
                    self.switching.remove(&stream.mid);
                }
                changes.push((stream.mid.clone(), want));
                let told = Told {
                    feed: *feed,
                    index: stream.index,
                    want,
                };
                self.told.insert(stream.mid.clone(), told);
            }
        }
        changes
    }

    /// Janus refused the last changes (a stream went away meanwhile): they count as not
    /// told, so the next streams decide again.
    pub fn refused(&mut self, changes: &[(String, Want)]) {
        for (mid, _) in changes {
            self.told.remove(mid);
            self.switching.remove(mid);
        }
    }

    /// Janus reports that `mid` switched layers (see the module's doc: any switch ends the
    /// wait, whether or not it reached the layer asked for).
    pub fn switched(&mut self, mid: &str) {
        self.switching.remove(mid);
    }

    /// Whether a layer change waits for Janus's report.
    pub fn is_switching(&self) -> bool {
        !self.switching.is_empty()
    }

    /// The layer changes to tell Janus again (each asks the publisher for a key frame once
    /// more); one given up after [`SWITCH_RETRIES`] is left to the next key frame.
    pub fn retries(&mut self) -> Vec<(String, Want)> {
        let mut again = Vec::new();
        self.switching.retain(|mid, retries| {
            let Some(told) = self.told.get(mid) else {
                return false;
            };
            if *retries >= SWITCH_RETRIES {
                return false;
            }
            *retries += 1;
            again.push((mid.clone(), told.want));
            true
        });
        again
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: &str = "3f9a1c0e5b7d42e8a6c1f0b29d8e7a45";
    const BO: &str = "b2c4e6f8a1d3c5e7f9a0b1c2d3e4f5a6";

    /// Ana publishes as feed 7, Bo as feed 8.
    fn stream(mid: &str, peer: &str, kind: StreamKind, index: u32) -> (SfuStream, u64) {
        let feed = if peer == ANA { 7 } else { 8 };
        let stream = SfuStream {
            mid: mid.into(),
            peer_id: PeerId::from(peer),
            kind,
            index,
        };
        (stream, feed)
    }

    /// Ana's microphone and camera, Bo's microphone, camera and screen.
    fn room() -> Vec<(SfuStream, u64)> {
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

    /// A camera sent (or not) at the highest layer.
    fn change(mid: &str, send: bool) -> (String, Want) {
        camera(mid, send, 2)
    }

    fn camera(mid: &str, send: bool, substream: u8) -> (String, Want) {
        let want = Want {
            send,
            substream: Some(substream),
        };
        (mid.to_owned(), want)
    }

    fn screen(mid: &str, send: bool) -> (String, Want) {
        let want = Want {
            send,
            substream: None,
        };
        (mid.to_owned(), want)
    }

    fn no_layers() -> BTreeMap<PeerId, SimulcastLayer> {
        BTreeMap::new()
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
        sends.set_prefs(false, hidden(&[BO]), no_layers());
        assert_eq!(
            sends.changes(),
            vec![change("3", false)],
            "Bo's screen stays"
        );
        assert_eq!(sends.changes(), vec![], "told once");
        sends.set_prefs(false, hidden(&[]), no_layers());
        assert_eq!(sends.changes(), vec![change("3", true)]);
    }

    #[test]
    fn audio_only_stops_every_video_and_leaves_audio() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(true, hidden(&[]), no_layers());
        assert_eq!(
            sends.changes(),
            vec![change("1", false), change("3", false), screen("4", false)]
        );
        sends.set_prefs(false, hidden(&[ANA]), no_layers());
        assert_eq!(sends.changes(), vec![change("3", true), screen("4", true)]);
    }

    #[test]
    fn preferences_before_the_streams_apply_when_they_arrive() {
        let mut sends = VideoSends::default();
        sends.set_prefs(false, hidden(&[ANA]), no_layers());
        assert_eq!(sends.changes(), vec![]);
        sends.set_streams(&room());
        assert_eq!(sends.changes(), vec![change("1", false)]);
    }

    #[test]
    fn a_mid_reused_for_another_stream_is_told_what_is_wanted_of_it() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(false, hidden(&[ANA]), no_layers());
        assert_eq!(sends.changes(), vec![change("1", false)]);
        // Ana left and Janus gave her camera's mid to Bo's camera, which is wanted.
        sends.set_streams(&[stream("1", BO, StreamKind::Video, 1)]);
        assert_eq!(sends.changes(), vec![change("1", true)]);
    }

    #[test]
    fn refused_changes_are_decided_again() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(true, hidden(&[]), no_layers());
        let changes = sends.changes();
        sends.refused(&changes);
        assert_eq!(sends.changes(), changes);
    }

    #[test]
    fn a_small_tile_gets_the_layer_it_needs_and_a_large_one_the_highest_again() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        let layers = |layer| BTreeMap::from([(PeerId::from(BO), layer)]);
        sends.set_prefs(false, hidden(&[]), layers(SimulcastLayer::Low));
        assert_eq!(
            sends.changes(),
            vec![camera("3", true, 0)],
            "not Bo's screen"
        );
        sends.set_prefs(false, hidden(&[]), layers(SimulcastLayer::Medium));
        assert_eq!(sends.changes(), vec![camera("3", true, 1)]);
        sends.set_prefs(false, hidden(&[BO]), layers(SimulcastLayer::Medium));
        assert_eq!(sends.changes(), vec![camera("3", false, 1)]);
        sends.set_prefs(false, hidden(&[]), no_layers());
        assert_eq!(sends.changes(), vec![camera("3", true, 2)]);
    }

    #[test]
    fn a_layer_change_is_told_again_until_janus_reports_it_a_bounded_number_of_times() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        let layers = |layer| BTreeMap::from([(PeerId::from(BO), layer)]);
        sends.set_prefs(false, hidden(&[]), layers(SimulcastLayer::Low));
        assert_eq!(sends.changes(), vec![camera("3", true, 0)]);
        assert!(sends.is_switching());
        assert_eq!(sends.retries(), vec![camera("3", true, 0)]);
        // Janus switched (to the layer asked for, or the nearest the publisher sends).
        sends.switched("3");
        assert!(!sends.is_switching());
        assert_eq!(sends.retries(), vec![]);

        // A change Janus never reports is told again SWITCH_RETRIES times, then left.
        sends.set_prefs(false, hidden(&[]), no_layers());
        assert_eq!(sends.changes(), vec![camera("3", true, 2)]);
        let told: usize = (0..10).map(|_| sends.retries().len()).sum();
        assert_eq!(told, usize::from(SWITCH_RETRIES));
        assert!(!sends.is_switching());
    }

    #[test]
    fn a_stream_not_sent_waits_for_no_layer() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(true, hidden(&[]), no_layers());
        sends.changes();
        assert!(!sends.is_switching());
    }

    #[test]
    fn a_publisher_publishing_again_on_the_same_mid_is_told_again() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(true, hidden(&[]), no_layers());
        assert_eq!(sends.changes().len(), 3);
        // Bo's browser published afresh (feed 9) and Janus put its camera on the same mid,
        // sending again: it is told again.
        let (camera_again, _) = stream("3", BO, StreamKind::Video, 1);
        sends.set_streams(&[(camera_again, 9)]);
        assert_eq!(sends.changes(), vec![change("3", false)]);
    }

    #[test]
    fn what_was_told_of_a_mid_that_went_away_is_forgotten() {
        let mut sends = VideoSends::default();
        sends.set_streams(&room());
        sends.set_prefs(false, hidden(&[ANA]), no_layers());
        assert_eq!(sends.changes(), vec![change("1", false)]);
        sends.set_streams(&room()[2..]);
        assert_eq!(sends.told.len(), 0, "nothing was told of Bo's streams");
        sends.set_streams(&room());
        assert_eq!(
            sends.changes(),
            vec![change("1", false)],
            "new to Janus again"
        );
    }
}
