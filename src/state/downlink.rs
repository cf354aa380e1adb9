//! What our downlink lets us receive through the SFU: the highest simulcast layer to ask for.
//! The media server forwards whatever layer we ask for, whether or not our link carries it,
//! so the page watches what its subscription loses and steps the layer down while packets
//! are lost, and back up, one layer at a time, once the link has been clean for a while.
//! A step up that brings loss back straight away doubles the wait before the next one, so a
//! link that cannot carry the higher layer is not flooded every few seconds.
//!
//! Pure: the meeting feeds it the subscription's packet counters once a second.

use meshmeet_protocol::SimulcastLayer;

/// Loss above this fraction, in two samples in a row, steps the layer down.
const LOSSY: f64 = 0.08;
/// Loss at or below this fraction counts as a clean sample.
const CLEAN: f64 = 0.02;
/// Fewer packets than this in a sample say nothing about the link.
const MIN_PACKETS: f64 = 20.0;
/// After a change, the media server takes a moment to switch and old packets drain: samples
/// this soon after are not judged.
const SETTLE_MS: f64 = 2_000.0;
/// How long the link must stay clean before the first step up.
const BASE_HOLD_MS: f64 = 8_000.0;
/// The longest wait between step-ups on a link that keeps failing them.
const MAX_HOLD_MS: f64 = 64_000.0;
/// A step down this soon after a step up means the higher layer did not fit.
const FAILED_PROBE_MS: f64 = 10_000.0;

/// The subscription's running totals, as `getStats()` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DownlinkSample {
    /// When (the stats' clock), in milliseconds.
    pub timestamp_ms: f64,
    /// Packets received, all streams of the subscription together.
    pub packets: f64,
    /// Packets lost, all streams together.
    pub lost: f64,
}

/// The downlink's layer limit and what it is judged on.
#[derive(Clone, Debug, PartialEq)]
pub struct DownlinkGuard {
    cap: SimulcastLayer,
    last: Option<DownlinkSample>,
    lossy_in_a_row: u32,
    /// Since when the samples have been clean (`None`: the last one was not).
    clean_since_ms: Option<f64>,
    /// Until when samples are not judged.
    settle_until_ms: f64,
    /// How long the link must stay clean before a step up.
    hold_ms: f64,
    /// When we last stepped up, if that may still turn out to have failed.
    stepped_up_at_ms: Option<f64>,
}

impl Default for DownlinkGuard {
    fn default() -> Self {
        DownlinkGuard {
            cap: SimulcastLayer::High,
            last: None,
            lossy_in_a_row: 0,
            clean_since_ms: None,
            settle_until_ms: 0.0,
            hold_ms: BASE_HOLD_MS,
            stepped_up_at_ms: None,
        }
    }
}

impl DownlinkGuard {
    /// The highest layer our downlink carries now.
    pub fn cap(&self) -> SimulcastLayer {
        self.cap
    }

    /// A new sample of the subscription's totals. Returns the new limit when it changed.
    pub fn sampled(&mut self, now: DownlinkSample) -> Option<SimulcastLayer> {
        let last = self.last.replace(now)?;
        let packets = now.packets - last.packets;
        let lost = (now.lost - last.lost).max(0.0);
        if packets < 0.0 || now.timestamp_ms <= last.timestamp_ms {
            // A new connection counts from zero: start judging it afresh.
            self.lossy_in_a_row = 0;
            self.clean_since_ms = None;
            return None;
        }
        if now.timestamp_ms < self.settle_until_ms || packets + lost < MIN_PACKETS {
            return None;
        }
        let loss = lost / (packets + lost);
        if loss > LOSSY {
            self.clean_since_ms = None;
            self.lossy_in_a_row += 1;
            if self.lossy_in_a_row >= 2 {
                return self.step_down(now.timestamp_ms);
            }
            return None;
        }
        self.lossy_in_a_row = 0;
        if loss > CLEAN {
            self.clean_since_ms = None;
            return None;
        }
        let since = *self.clean_since_ms.get_or_insert(last.timestamp_ms);
        if let Some(at) = self.stepped_up_at_ms {
            if now.timestamp_ms - at >= FAILED_PROBE_MS {
                // The last step up held: the link is good again, probe at the normal pace.
                self.stepped_up_at_ms = None;
                self.hold_ms = BASE_HOLD_MS;
            }
        }
        if now.timestamp_ms - since >= self.hold_ms {
            return self.step_up(now.timestamp_ms);
        }
        None
    }

    fn step_down(&mut self, now_ms: f64) -> Option<SimulcastLayer> {
        self.lossy_in_a_row = 0;
        self.settle_until_ms = now_ms + SETTLE_MS;
        if let Some(at) = self.stepped_up_at_ms.take() {
            if now_ms - at < FAILED_PROBE_MS {
                self.hold_ms = (self.hold_ms * 2.0).min(MAX_HOLD_MS);
            }
        }
        let lower = match self.cap {
            SimulcastLayer::High => SimulcastLayer::Medium,
            SimulcastLayer::Medium | SimulcastLayer::Low => SimulcastLayer::Low,
        };
        self.change_to(lower)
    }

    fn step_up(&mut self, now_ms: f64) -> Option<SimulcastLayer> {
        self.clean_since_ms = Some(now_ms);
        self.settle_until_ms = now_ms + SETTLE_MS;
        let higher = match self.cap {
            SimulcastLayer::Low => SimulcastLayer::Medium,
            SimulcastLayer::Medium | SimulcastLayer::High => SimulcastLayer::High,
        };
        if higher != self.cap {
            self.stepped_up_at_ms = Some(now_ms);
        }
        self.change_to(higher)
    }

    fn change_to(&mut self, layer: SimulcastLayer) -> Option<SimulcastLayer> {
        (layer != self.cap).then(|| {
            self.cap = layer;
            layer
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SimulcastLayer::{High, Low, Medium};

    /// Feeds one sample a second from `at_s`, `packets` received and `lost` lost in each; the
    /// changes announced, with the second they came at.
    fn run(
        guard: &mut DownlinkGuard,
        totals: &mut DownlinkSample,
        seconds: u32,
        packets: f64,
        lost: f64,
    ) -> Vec<(f64, SimulcastLayer)> {
        let mut changes = Vec::new();
        for _ in 0..seconds {
            totals.timestamp_ms += 1_000.0;
            totals.packets += packets;
            totals.lost += lost;
            if let Some(layer) = guard.sampled(*totals) {
                changes.push((totals.timestamp_ms / 1_000.0, layer));
            }
        }
        changes
    }

    #[test]
    fn a_clean_link_keeps_the_highest_layer() {
        let mut guard = DownlinkGuard::default();
        let mut totals = DownlinkSample::default();
        assert_eq!(run(&mut guard, &mut totals, 120, 100.0, 0.0), vec![]);
        assert_eq!(guard.cap(), High);
    }

    #[test]
    fn one_lossy_second_is_not_enough_to_step_down() {
        let mut guard = DownlinkGuard::default();
        let mut totals = DownlinkSample::default();
        run(&mut guard, &mut totals, 3, 100.0, 0.0);
        assert_eq!(run(&mut guard, &mut totals, 1, 70.0, 30.0), vec![]);
        assert_eq!(run(&mut guard, &mut totals, 30, 100.0, 0.0), vec![]);
    }

    #[test]
    fn lasting_loss_steps_down_one_layer_at_a_time_and_waits_for_each_to_settle() {
        let mut guard = DownlinkGuard::default();
        let mut totals = DownlinkSample::default();
        run(&mut guard, &mut totals, 2, 100.0, 0.0);
        // Lossy from second 3: down at 4; second 5 settles; lossy again at 6 and 7.
        let changes = run(&mut guard, &mut totals, 8, 60.0, 40.0);
        assert_eq!(changes, vec![(4.0, Medium), (7.0, Low)]);
        assert_eq!(
            run(&mut guard, &mut totals, 4, 60.0, 40.0),
            vec![],
            "lowest"
        );
    }

    #[test]
    fn a_clean_link_steps_back_up_after_the_hold() {
        let mut guard = DownlinkGuard::default();
        let mut totals = DownlinkSample::default();
        run(&mut guard, &mut totals, 1, 100.0, 0.0);
        assert_eq!(
            run(&mut guard, &mut totals, 2, 50.0, 50.0),
            vec![(3.0, Medium)]
        );
        // Clean from second 4; the first clean sample after the settle (5) counts from 4.
        let changes = run(&mut guard, &mut totals, 30, 100.0, 0.0);
        assert_eq!(changes, vec![(12.0, High)]);
    }

    #[test]
    fn a_step_up_that_brings_loss_back_doubles_the_wait_until_one_holds() {
        let mut guard = DownlinkGuard::default();
        let mut totals = DownlinkSample::default();
        run(&mut guard, &mut totals, 1, 100.0, 0.0);
        run(&mut guard, &mut totals, 2, 50.0, 50.0);
        let up = run(&mut guard, &mut totals, 9, 100.0, 0.0);
        assert_eq!(up, vec![(12.0, High)]);
        // High does not fit: loss again, down after the settle.
        let down = run(&mut guard, &mut totals, 4, 50.0, 50.0);
        assert_eq!(down, vec![(15.0, Medium)]);
        assert_eq!(guard.hold_ms, 2.0 * BASE_HOLD_MS, "the probe failed");
        // Now the link must stay clean 16 s, not 8; high then holds past the probe window,
        // and the next wait is the normal one again.
        let next = run(&mut guard, &mut totals, 30, 100.0, 0.0);
        assert_eq!(next, vec![(32.0, High)]);
        assert_eq!(guard.hold_ms, BASE_HOLD_MS);
    }

    #[test]
    fn few_packets_and_new_connections_are_not_judged() {
        let mut guard = DownlinkGuard::default();
        let mut totals = DownlinkSample::default();
        run(&mut guard, &mut totals, 1, 100.0, 0.0);
        // Audio only: a handful of packets, half lost, says little.
        assert_eq!(run(&mut guard, &mut totals, 10, 5.0, 5.0), vec![]);
        // A new subscription counts from zero: no negative loss, no step.
        totals.packets = 10.0;
        totals.lost = 0.0;
        assert_eq!(guard.sampled(totals), None);
        assert_eq!(run(&mut guard, &mut totals, 1, 60.0, 40.0), vec![]);
        assert_eq!(guard.cap(), High);
    }

    #[test]
    fn a_clock_that_does_not_move_changes_nothing() {
        let mut guard = DownlinkGuard::default();
        let sample = DownlinkSample {
            timestamp_ms: 1_000.0,
            packets: 100.0,
            lost: 0.0,
        };
        assert_eq!(guard.sampled(sample), None);
        let lossy = DownlinkSample {
            lost: 100.0,
            ..sample
        };
        assert_eq!(guard.sampled(lossy), None);
        assert_eq!(guard.sampled(lossy), None);
        assert_eq!(guard.cap(), High);
    }
}
