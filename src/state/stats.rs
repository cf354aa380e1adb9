//! Connection figures per peer over the last minute, for quality marks, the stats panel and
//! the poor-connection banner.

use crate::rtc::{PeerStats, Quality};
use meshmeet_protocol::PeerId;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use yew::Reducible;

/// Samples kept per peer: one a second for a minute.
pub const HISTORY_SAMPLES: usize = 60;

/// One point of a peer's graph.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Point {
    /// Video sent plus received, bits per second.
    pub video_bps: f64,
    /// Round-trip time, milliseconds.
    pub rtt_ms: f64,
}

/// What is known of one peer connection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeerFigures {
    /// The latest figures.
    pub latest: PeerStats,
    /// The last minute, oldest first.
    pub history: VecDeque<Point>,
}

/// Figures of every peer connection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsState {
    /// By peer.
    pub peers: HashMap<PeerId, PeerFigures>,
}

/// What changes the figures.
#[derive(Clone, Debug, PartialEq)]
pub enum StatsAction {
    /// A new sample for a peer.
    Sampled(PeerId, Box<PeerStats>),
    /// The peer left.
    PeerLeft(PeerId),
}

impl StatsState {
    /// Applies one action.
    pub fn apply(mut self, action: StatsAction) -> Self {
        match action {
            StatsAction::Sampled(peer, stats) => {
                let figures = self.peers.entry(peer).or_default();
                if figures.history.len() == HISTORY_SAMPLES {
                    figures.history.pop_front();
                }
                figures.history.push_back(Point {
                    video_bps: stats.out_video_bps + stats.in_video_bps,
                    rtt_ms: stats.rtt_ms.unwrap_or(0.0),
                });
                figures.latest = *stats;
            }
            StatsAction::PeerLeft(peer) => {
                self.peers.remove(&peer);
            }
        }
        self
    }

    /// The quality mark of a peer's tile (`None` before the first measurement).
    pub fn quality(&self, peer: &PeerId) -> Option<Quality> {
        self.peers.get(peer).map(|f| f.latest.quality)
    }

    /// Whether our own connection looks poor: most of our connections are poor, or the
    /// browser estimates less upload than a single low-quality video needs.
    pub fn own_connection_poor(&self) -> bool {
        let total = self.peers.len();
        if total == 0 {
            return false;
        }
        let poor = self
            .peers
            .values()
            .filter(|f| f.latest.quality == Quality::Poor)
            .count();
        let starved = self
            .peers
            .values()
            .filter_map(|f| f.latest.available_out_bps)
            .any(|bps| bps < 150_000.0);
        poor * 2 > total || starved
    }
}

impl Reducible for StatsState {
    type Action = StatsAction;

    fn reduce(self: Rc<Self>, action: StatsAction) -> Rc<Self> {
        Rc::new((*self).clone().apply(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(quality: Quality, out_bps: f64) -> Box<PeerStats> {
        Box::new(PeerStats {
            out_video_bps: out_bps,
            quality,
            rtt_ms: Some(10.0),
            ..PeerStats::default()
        })
    }

    #[test]
    fn history_keeps_the_last_minute() {
        let mut state = StatsState::default();
        for i in 0..(HISTORY_SAMPLES + 5) {
            state = state.apply(StatsAction::Sampled(
                PeerId::from("a"),
                sample(Quality::Good, i as f64),
            ));
        }
        let figures = &state.peers[&PeerId::from("a")];
        assert_eq!(figures.history.len(), HISTORY_SAMPLES);
        assert_eq!(figures.history.front().map(|p| p.video_bps), Some(5.0));
        assert_eq!(figures.latest.out_video_bps, (HISTORY_SAMPLES + 4) as f64);
    }

    #[test]
    fn own_connection_is_poor_when_most_links_are() {
        let state = StatsState::default()
            .apply(StatsAction::Sampled(
                PeerId::from("a"),
                sample(Quality::Poor, 0.0),
            ))
            .apply(StatsAction::Sampled(
                PeerId::from("b"),
                sample(Quality::Good, 0.0),
            ));
        assert!(!state.own_connection_poor());
        let state = state.apply(StatsAction::Sampled(
            PeerId::from("c"),
            sample(Quality::Poor, 0.0),
        ));
        assert!(state.own_connection_poor());
        let state = state.apply(StatsAction::PeerLeft(PeerId::from("c")));
        assert_eq!(state.quality(&PeerId::from("c")), None);
        assert!(!state.own_connection_poor());
    }
}
