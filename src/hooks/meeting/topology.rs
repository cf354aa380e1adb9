//! How media travels in a meeting, behind one interface: the full mesh
//! ([`super::mesh::Mesh`], one peer connection per remote participant, which also carries the
//! data channels). In rooms the relay moves to the SFU, [`super::sfu::Sfu`] carries the media
//! beside it while the mesh stops sending and showing media. The meeting task drives it from
//! relay messages, peer events and the clock, and keeps the features (chat, files,
//! preferences, speaker choice) on top of it.

use super::relay_session::RelaySession;
use crate::rtc::{
    Channel, ChannelData, DataSender, LinkConfig, LocalTracks, PeerEvent, PeerStats, Snapshot,
    VideoWanted,
};
use meshmeet_protocol::{PeerId, Signal};

/// What the media layer tells the features above it.
pub(super) enum MediaNews {
    /// The connection to this peer was replaced by a new one: what belonged to the old one
    /// (its transfers, what it was told) is void.
    Replaced(PeerId),
    /// A connection's chat channel opened: it can be told our preferences.
    ChatOpen(PeerId),
    /// A message arrived on a data channel.
    Data(PeerId, Channel, ChannelData),
}

/// What one statistics sample said, for the features above.
pub(super) struct Sample {
    /// Our microphone's level, if this connection sends it.
    pub(super) mic_level: Option<f64>,
    /// The loudest sound heard from the peer.
    pub(super) heard: f64,
    /// Figures since the previous sample (none for the first).
    pub(super) stats: Option<PeerStats>,
}

/// A media topology: how this participant's media reaches the others and theirs reaches it.
pub(super) trait MediaTopology {
    /// The relay's ICE settings, for every connection opened from now on.
    fn configure(&mut self, config: LinkConfig);
    /// Fresh TURN credentials, for the connections already open too.
    fn renew_ice_servers(&mut self, ice_servers: Vec<meshmeet_protocol::IceServer>);
    /// Starts media with `peer`. `newcomer`: we just joined (we make the first offer).
    fn add_peer(&mut self, self_id: &PeerId, peer: PeerId, newcomer: bool);
    /// Whether media with `peer` is set up.
    fn has_peer(&self, peer: &PeerId) -> bool;
    /// Everyone media is set up with.
    fn peers(&self) -> Vec<PeerId>;
    /// Ends media with `peer` and drops what was kept about it.
    fn remove_peer(&mut self, peer: &PeerId);
    /// A signal the relay carried from `from`.
    fn on_signal(
        &mut self,
        self_id: &PeerId,
        from: PeerId,
        signal: Signal,
        relay: &RelaySession,
    ) -> Option<MediaNews>;
    /// Something happened on the connection to `peer`.
    fn on_event(
        &mut self,
        self_id: &PeerId,
        peer: PeerId,
        event: PeerEvent,
        relay: &RelaySession,
    ) -> Option<MediaNews>;
    /// Our camera, microphone or screen changed.
    fn set_tracks(&mut self, tracks: LocalTracks);
    /// Our camera, microphone and screen as last set.
    fn tracks(&self) -> &LocalTracks;
    /// Whether this topology sends our media: off while the SFU carries it (the mesh stays
    /// up beside it for the data channels).
    fn set_sending(&mut self, sending: bool);
    /// Whether the tiles show what this topology receives; turned on again, what it last
    /// received is shown at once.
    fn set_showing(&mut self, showing: bool);
    /// Reads every connection's statistics; each arrives as [`super::Input::Stats`].
    fn sample_stats(&self);
    /// A statistics snapshot of the connection to `peer` arrived.
    fn on_stats(&mut self, peer: &PeerId, snapshot: Snapshot) -> Option<Sample>;
    /// Spreads the video upload over the connections: `wanted_by` says what each peer wants
    /// of our video.
    fn apply_budget(&self, wanted_by: impl Fn(&PeerId) -> VideoWanted, speaking: bool);
    /// The data channel to `peer`, where this topology has one.
    fn data_channel(&self, peer: &PeerId, channel: Channel) -> Option<DataSender>;
    /// Closes every connection.
    fn close(&mut self);
}
