//! Who wants video from whom. We want a peer's camera only while its tile is on screen and we
//! did not choose audio only, and its screen share unless we chose audio only (a share shows
//! on the stage, not in the camera tile); we tell each peer when that changes (over its chat
//! channel), and we remember what peers told us they want of ours, so our uplink skips what
//! nobody watches.
//!
//! In SFU rooms each camera also comes in the simulcast layer its tile needs, and no higher
//! than our downlink carries (`state::DownlinkGuard` decides that limit).
//!
//! Pure: the meeting asks what to tell and sends it.

use crate::rtc::VideoWanted;
use meshmeet_protocol::{CameraLayer, PeerId, SimulcastLayer};
use std::collections::{HashMap, HashSet};

/// The video preferences of this participant and of the others, as far as told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VideoPrefs {
    audio_only: bool,
    /// Peers whose tiles are off screen.
    hidden: HashSet<PeerId>,
    /// What peers were told (over their current connection) we want of their video, where
    /// it is not everything.
    told: HashMap<PeerId, VideoWanted>,
    /// What peers told us they want of ours, where it is not everything.
    wanted_by: HashMap<PeerId, VideoWanted>,
    /// The simulcast layer each small camera tile needs (SFU rooms; the others: the highest).
    layers: Vec<CameraLayer>,
}

impl VideoPrefs {
    /// Preferences of someone who joins receiving audio only, or not.
    pub fn new(audio_only: bool) -> Self {
        VideoPrefs {
            audio_only,
            ..Default::default()
        }
    }

    /// Whether we receive audio only.
    pub fn audio_only(&self) -> bool {
        self.audio_only
    }

    /// Whether the SFU must be told anything: by default it sends everything at the
    /// highest layer.
    pub fn differs_from_default(&self) -> bool {
        self.audio_only || !self.hidden.is_empty() || !self.layers.is_empty()
    }

    /// The camera layers the tiles need now; whether that changed.
    pub fn set_layers(&mut self, layers: Vec<CameraLayer>) -> bool {
        let changed = self.layers != layers;
        self.layers = layers;
        changed
    }

    /// The layer to ask for of each camera of `peers` where it is not the highest: what its
    /// tile needs, and no more than `cap`, what our downlink carries.
    pub fn layers_for<'a>(
        &'a self,
        peers: impl IntoIterator<Item = &'a PeerId>,
        cap: SimulcastLayer,
    ) -> Vec<CameraLayer> {
        let tile_needs = |peer: &PeerId| {
            self.layers
                .iter()
                .find(|l| &l.peer_id == peer)
                .map_or(SimulcastLayer::High, |l| l.layer)
        };
        // A handful of peers: a linear search keeps the client small (no sort code).
        let mut all: Vec<&PeerId> = Vec::new();
        for peer in self.layers.iter().map(|l| &l.peer_id).chain(peers) {
            if !all.contains(&peer) {
                all.push(peer);
            }
        }
        all.into_iter()
            .map(|peer| CameraLayer {
                peer_id: peer.clone(),
                layer: tile_needs(peer).min(cap),
            })
            .filter(|l| l.layer < SimulcastLayer::High)
            .collect()
    }

    /// Whether `peer`'s tile is off screen.
    pub fn is_hidden(&self, peer: &PeerId) -> bool {
        self.hidden.contains(peer)
    }

    /// The peers whose tiles are off screen (for the SFU's preferences, in no order).
    pub fn hidden(&self) -> Vec<PeerId> {
        self.hidden.iter().cloned().collect()
    }

    /// What we want of `peer`'s video.
    pub fn wants_from(&self, peer: &PeerId) -> VideoWanted {
        VideoWanted {
            camera: !self.audio_only && !self.hidden.contains(peer),
            screen: !self.audio_only,
        }
    }

    /// What `peer` wants of our video (everything, unless it said otherwise).
    pub fn wanted_by(&self, peer: &PeerId) -> VideoWanted {
        self.wanted_by
            .get(peer)
            .copied()
            .unwrap_or(VideoWanted::ALL)
    }

    /// What `peer` must be told, if what we want from it differs from what it was told:
    /// `Some(wanted)`, and it counts as told from now on.
    fn news_for(&mut self, peer: &PeerId) -> Option<VideoWanted> {
        let wanted = self.wants_from(peer);
        let told = self.told.get(peer).copied().unwrap_or(VideoWanted::ALL);
        if wanted == told {
            return None;
        }
        if wanted == VideoWanted::ALL {
            self.told.remove(peer);
        } else {
            self.told.insert(peer.clone(), wanted);
        }
        Some(wanted)
    }

    /// `peer`'s tile came on screen or went off it. Returns what to tell `peer`, if anything.
    pub fn set_tile_visible(&mut self, peer: &PeerId, visible: bool) -> Option<VideoWanted> {
        if visible {
            self.hidden.remove(peer);
        } else {
            self.hidden.insert(peer.clone());
        }
        self.news_for(peer)
    }

    /// Audio only switched on or off. Returns what to tell each of `peers` whose answer
    /// changed.
    pub fn set_audio_only<'a>(
        &mut self,
        audio_only: bool,
        peers: impl IntoIterator<Item = &'a PeerId>,
    ) -> Vec<(PeerId, VideoWanted)> {
        self.audio_only = audio_only;
        peers
            .into_iter()
            .filter_map(|peer| self.news_for(peer).map(|wanted| (peer.clone(), wanted)))
            .collect()
    }

    /// A new connection to `peer` opened its chat channel: nothing was told over it yet, so
    /// it is told at once if we want none of its video.
    pub fn channel_opened(&mut self, peer: &PeerId) -> Option<VideoWanted> {
        self.told.remove(peer);
        self.news_for(peer)
    }

    /// The connection to `peer` closed: what was told over it is void.
    pub fn connection_closed(&mut self, peer: &PeerId) {
        self.told.remove(peer);
    }

    /// `peer` told us what it wants of our video.
    pub fn told_by(&mut self, peer: &PeerId, wanted: VideoWanted) {
        if wanted == VideoWanted::ALL {
            self.wanted_by.remove(peer);
        } else {
            self.wanted_by.insert(peer.clone(), wanted);
        }
    }

    /// `peer` left the room: everything about it goes.
    pub fn forget(&mut self, peer: &PeerId) {
        self.connection_closed(peer);
        self.wanted_by.remove(peer);
        self.hidden.remove(peer);
        self.layers.retain(|l| &l.peer_id != peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> PeerId {
        PeerId::from(s)
    }

    const NONE: VideoWanted = VideoWanted {
        camera: false,
        screen: false,
    };
    const SCREEN_ONLY: VideoWanted = VideoWanted {
        camera: false,
        screen: true,
    };
    const ALL: VideoWanted = VideoWanted::ALL;

    #[test]
    fn a_visible_peer_is_not_told_anything_it_did_not_need_to_hear() {
        let mut prefs = VideoPrefs::new(false);
        assert_eq!(prefs.channel_opened(&id("a")), None);
        assert_eq!(prefs.set_tile_visible(&id("a"), true), None);
    }

    #[test]
    fn a_tile_going_off_screen_asks_for_no_camera_once_and_keeps_the_screen() {
        let mut prefs = VideoPrefs::new(false);
        assert_eq!(prefs.set_tile_visible(&id("a"), false), Some(SCREEN_ONLY));
        assert_eq!(
            prefs.set_tile_visible(&id("a"), false),
            None,
            "told already"
        );
        assert_eq!(prefs.wants_from(&id("a")), SCREEN_ONLY);
        assert_eq!(prefs.set_tile_visible(&id("a"), true), Some(ALL));
        assert_eq!(prefs.wants_from(&id("a")), ALL);
    }

    #[test]
    fn audio_only_tells_every_peer_and_back() {
        let mut prefs = VideoPrefs::new(false);
        let peers = [id("a"), id("b")];
        assert_eq!(
            prefs.set_audio_only(true, &peers),
            vec![(id("a"), NONE), (id("b"), NONE)]
        );
        assert_eq!(
            prefs.set_audio_only(true, &peers),
            vec![],
            "nothing changed"
        );
        assert_eq!(
            prefs.set_audio_only(false, &peers),
            vec![(id("a"), ALL), (id("b"), ALL)]
        );
    }

    #[test]
    fn a_hidden_tile_stays_unwanted_when_audio_only_ends() {
        let mut prefs = VideoPrefs::new(true);
        assert_eq!(prefs.set_tile_visible(&id("a"), false), Some(NONE));
        let peers = [id("a"), id("b")];
        // Back from audio only: `a` gets its screen again, not its camera; `b` heard nothing.
        assert_eq!(
            prefs.set_audio_only(false, &peers),
            vec![(id("a"), SCREEN_ONLY)]
        );
        assert_eq!(prefs.wants_from(&id("a")), SCREEN_ONLY);
        assert_eq!(prefs.wants_from(&id("b")), ALL);
    }

    #[test]
    fn a_new_connection_is_told_again_what_the_old_one_heard() {
        let mut prefs = VideoPrefs::new(true);
        assert_eq!(prefs.channel_opened(&id("a")), Some(NONE));
        prefs.connection_closed(&id("a"));
        assert_eq!(prefs.channel_opened(&id("a")), Some(NONE));
        assert_eq!(
            prefs.channel_opened(&id("a")),
            Some(NONE),
            "every new channel"
        );
    }

    #[test]
    fn a_peer_that_wants_none_of_our_video_is_remembered_until_it_changes_its_mind() {
        let mut prefs = VideoPrefs::new(false);
        assert_eq!(prefs.wanted_by(&id("a")), ALL);
        prefs.told_by(&id("a"), SCREEN_ONLY);
        assert_eq!(prefs.wanted_by(&id("a")), SCREEN_ONLY);
        prefs.connection_closed(&id("a"));
        assert_eq!(
            prefs.wanted_by(&id("a")),
            SCREEN_ONLY,
            "a reconnect does not undo it"
        );
        prefs.told_by(&id("a"), ALL);
        assert_eq!(prefs.wanted_by(&id("a")), ALL);
    }

    #[test]
    fn a_peer_who_left_is_forgotten() {
        let mut prefs = VideoPrefs::new(false);
        prefs.told_by(&id("a"), NONE);
        prefs.set_tile_visible(&id("a"), false);
        prefs.forget(&id("a"));
        assert_eq!(prefs, VideoPrefs::new(false));
    }

    #[test]
    fn hidden_lists_the_off_screen_tiles_until_they_return_or_leave() {
        let mut prefs = VideoPrefs::new(false);
        assert!(!prefs.differs_from_default());
        prefs.set_tile_visible(&id("b"), false);
        prefs.set_tile_visible(&id("a"), false);
        prefs.set_tile_visible(&id("c"), false);
        let mut hidden = prefs.hidden();
        hidden.sort();
        assert_eq!(hidden, vec![id("a"), id("b"), id("c")]);
        prefs.set_tile_visible(&id("b"), true);
        prefs.forget(&id("c"));
        assert_eq!(prefs.hidden(), vec![id("a")]);
        assert!(prefs.differs_from_default());
    }

    #[test]
    fn layers_change_only_when_the_tiles_need_another_and_leave_with_their_peer() {
        let mut prefs = VideoPrefs::new(false);
        let small = vec![CameraLayer {
            peer_id: id("a"),
            layer: meshmeet_protocol::SimulcastLayer::Low,
        }];
        assert!(prefs.set_layers(small.clone()));
        assert!(!prefs.set_layers(small.clone()), "the same again");
        assert!(prefs.differs_from_default());
        prefs.forget(&id("a"));
        let high = meshmeet_protocol::SimulcastLayer::High;
        assert!(prefs.layers_for([&id("a")], high).is_empty());
        assert!(!prefs.differs_from_default());
    }

    #[test]
    fn the_downlink_limit_lowers_every_camera_but_never_raises_a_small_tile() {
        use meshmeet_protocol::SimulcastLayer::{High, Low, Medium};
        let layer = |peer: &str, layer| CameraLayer {
            peer_id: id(peer),
            layer,
        };
        let mut prefs = VideoPrefs::new(false);
        prefs.set_layers(vec![layer("a", Low)]);
        let peers = [id("a"), id("b"), id("c")];
        assert_eq!(prefs.layers_for(&peers, High), vec![layer("a", Low)]);
        assert_eq!(
            prefs.layers_for(&peers, Medium),
            vec![layer("a", Low), layer("b", Medium), layer("c", Medium)]
        );
        assert_eq!(
            prefs.layers_for(&peers[1..], Low),
            vec![layer("a", Low), layer("b", Low), layer("c", Low)],
            "a tile's own need counts even before its peer is listed"
        );
    }
}
