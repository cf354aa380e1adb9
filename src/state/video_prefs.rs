//! Who wants video from whom. We want a peer's video only while its tile is on screen and we
//! did not choose audio only; we tell each peer when that changes (over its chat channel), and
//! we remember which peers told us they want none of ours, so our uplink skips them.
//!
//! Pure: the meeting asks what to tell and sends it.

use meshmeet_protocol::{CameraLayer, PeerId};
use std::collections::HashSet;

/// The video preferences of this participant and of the others, as far as told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VideoPrefs {
    audio_only: bool,
    /// Peers whose tiles are off screen.
    hidden: HashSet<PeerId>,
    /// Peers told (over their current connection) that we want no video from them.
    told_unwanted: HashSet<PeerId>,
    /// Peers that told us they want no video from us.
    unwanted_by: HashSet<PeerId>,
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

    /// The simulcast layer each small camera tile needs.
    pub fn layers(&self) -> &[CameraLayer] {
        &self.layers
    }

    /// The peers whose tiles are off screen (for the SFU's preferences, in no order).
    pub fn hidden(&self) -> Vec<PeerId> {
        self.hidden.iter().cloned().collect()
    }

    /// Whether we want video from `peer`.
    pub fn wants_video_from(&self, peer: &PeerId) -> bool {
        !self.audio_only && !self.hidden.contains(peer)
    }

    /// Whether `peer` wants our video (it did not say otherwise).
    pub fn wanted_by(&self, peer: &PeerId) -> bool {
        !self.unwanted_by.contains(peer)
    }

    /// What `peer` must be told, if what we want from it differs from what it was told:
    /// `Some(wanted)`, and it counts as told from now on.
    fn news_for(&mut self, peer: &PeerId) -> Option<bool> {
        let wanted = self.wants_video_from(peer);
        let changed = if wanted {
            self.told_unwanted.remove(peer)
        } else {
            self.told_unwanted.insert(peer.clone())
        };
        changed.then_some(wanted)
    }

    /// `peer`'s tile came on screen or went off it. Returns what to tell `peer`, if anything.
    pub fn set_tile_visible(&mut self, peer: &PeerId, visible: bool) -> Option<bool> {
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
    ) -> Vec<(PeerId, bool)> {
        self.audio_only = audio_only;
        peers
            .into_iter()
            .filter_map(|peer| self.news_for(peer).map(|wanted| (peer.clone(), wanted)))
            .collect()
    }

    /// A new connection to `peer` opened its chat channel: nothing was told over it yet, so
    /// it is told at once if we want none of its video.
    pub fn channel_opened(&mut self, peer: &PeerId) -> Option<bool> {
        self.told_unwanted.remove(peer);
        self.news_for(peer)
    }

    /// The connection to `peer` closed: what was told over it is void.
    pub fn connection_closed(&mut self, peer: &PeerId) {
        self.told_unwanted.remove(peer);
    }

    /// `peer` told us whether it wants our video.
    pub fn told_by(&mut self, peer: &PeerId, video: bool) {
        if video {
            self.unwanted_by.remove(peer);
        } else {
            self.unwanted_by.insert(peer.clone());
        }
    }

    /// `peer` left the room: everything about it goes.
    pub fn forget(&mut self, peer: &PeerId) {
        self.connection_closed(peer);
        self.unwanted_by.remove(peer);
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

    #[test]
    fn a_visible_peer_is_not_told_anything_it_did_not_need_to_hear() {
        let mut prefs = VideoPrefs::new(false);
        assert_eq!(prefs.channel_opened(&id("a")), None);
        assert_eq!(prefs.set_tile_visible(&id("a"), true), None);
    }

    #[test]
    fn a_tile_going_off_screen_asks_for_no_video_once() {
        let mut prefs = VideoPrefs::new(false);
        assert_eq!(prefs.set_tile_visible(&id("a"), false), Some(false));
        assert_eq!(
            prefs.set_tile_visible(&id("a"), false),
            None,
            "told already"
        );
        assert!(!prefs.wants_video_from(&id("a")));
        assert_eq!(prefs.set_tile_visible(&id("a"), true), Some(true));
        assert!(prefs.wants_video_from(&id("a")));
    }

    #[test]
    fn audio_only_tells_every_peer_and_back() {
        let mut prefs = VideoPrefs::new(false);
        let peers = [id("a"), id("b")];
        assert_eq!(
            prefs.set_audio_only(true, &peers),
            vec![(id("a"), false), (id("b"), false)]
        );
        assert_eq!(
            prefs.set_audio_only(true, &peers),
            vec![],
            "nothing changed"
        );
        assert_eq!(
            prefs.set_audio_only(false, &peers),
            vec![(id("a"), true), (id("b"), true)]
        );
    }

    #[test]
    fn a_hidden_tile_stays_unwanted_when_audio_only_ends() {
        let mut prefs = VideoPrefs::new(true);
        prefs.set_tile_visible(&id("a"), false);
        let peers = [id("a"), id("b")];
        assert_eq!(prefs.set_audio_only(false, &peers), vec![]);
        assert!(!prefs.wants_video_from(&id("a")));
        assert!(prefs.wants_video_from(&id("b")));
    }

    #[test]
    fn a_new_connection_is_told_again_what_the_old_one_heard() {
        let mut prefs = VideoPrefs::new(true);
        assert_eq!(prefs.channel_opened(&id("a")), Some(false));
        prefs.connection_closed(&id("a"));
        assert_eq!(prefs.channel_opened(&id("a")), Some(false));
        assert_eq!(
            prefs.channel_opened(&id("a")),
            Some(false),
            "every new channel"
        );
    }

    #[test]
    fn a_peer_that_wants_none_of_our_video_is_remembered_until_it_changes_its_mind() {
        let mut prefs = VideoPrefs::new(false);
        assert!(prefs.wanted_by(&id("a")));
        prefs.told_by(&id("a"), false);
        assert!(!prefs.wanted_by(&id("a")));
        prefs.connection_closed(&id("a"));
        assert!(!prefs.wanted_by(&id("a")), "a reconnect does not undo it");
        prefs.told_by(&id("a"), true);
        assert!(prefs.wanted_by(&id("a")));
    }

    #[test]
    fn a_peer_who_left_is_forgotten() {
        let mut prefs = VideoPrefs::new(false);
        prefs.told_by(&id("a"), false);
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
        assert!(prefs.layers().is_empty());
        assert!(!prefs.differs_from_default());
    }
}
