//! When one load client sends, leaves and wakes: a pure function of the clock, the schedule,
//! its send window and its churn instants, so the pacing is tested without sockets or time.
//!
//! All instants are nanoseconds on the run's shared clock.

use crate::config::Phase;

/// When the load phases run, published once every client has joined.
#[derive(Debug)]
pub(crate) struct Schedule {
    /// When the first phase starts.
    pub start_ns: u64,
    /// When each phase ends (the next one starts there).
    pub phase_end_ns: Vec<u64>,
}

impl Schedule {
    /// When `phase` starts.
    pub fn phase_start_ns(&self, phase: usize) -> u64 {
        if phase == 0 {
            self.start_ns
        } else {
            self.phase_end_ns[phase - 1]
        }
    }

    /// The phase running at `ns`, if any.
    pub fn phase_of(&self, ns: u64) -> Option<usize> {
        if ns < self.start_ns {
            return None;
        }
        self.phase_end_ns.iter().position(|&end| ns < end)
    }

    /// When the last phase ends.
    pub fn end_ns(&self) -> u64 {
        self.phase_end_ns.last().copied().unwrap_or(self.start_ns)
    }
}

/// What a client does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Leave now (a churn instant passed); rejoin afterwards.
    Leave,
    /// Send `count` signals now, counted in `phase`; then ask again.
    Send { count: u32, phase: usize },
    /// Nothing is due: read frames until `wake_ns` (none: no timer), until a receiver frees
    /// a place in the send window (if `for_window`), or until the schedule or finish changes.
    Wait {
        wake_ns: Option<u64>,
        for_window: bool,
    },
}

/// How one phase is paced.
#[derive(Clone, Copy, Debug)]
struct Pace {
    /// Signals per second; 0 sends as fast as the window allows.
    rate_per_client: f64,
    /// Most signals in flight; 0 is unlimited.
    window: u32,
}

impl Pace {
    /// Signals that may be sent with `outstanding` in flight.
    fn room(self, outstanding: i64) -> u32 {
        if self.window == 0 {
            u32::MAX
        } else {
            u32::try_from(i64::from(self.window) - outstanding).unwrap_or(0)
        }
    }

    fn interval_ns(self) -> u64 {
        (1e9 / self.rate_per_client) as u64
    }
}

/// One client's pacing. The churn instants last the whole run; the send pace starts again
/// with every connection ([`Pacer::connected`]).
#[derive(Debug)]
pub(crate) struct Pacer {
    /// This client's place among `clients`, which spreads the clients' sends.
    slot: usize,
    clients: usize,
    phases: Vec<Pace>,
    /// Leave instants, ns after the load starts, in order.
    churn_ns: Vec<u64>,
    next_churn: usize,
    /// The phase the send pace was set for.
    phase: Option<usize>,
    next_send_ns: u64,
}

impl Pacer {
    /// The pacer of client `slot` of `clients`, leaving at `churn_ns` after the load starts.
    pub fn new(slot: usize, clients: usize, phases: &[Phase], churn_ns: Vec<u64>) -> Pacer {
        Pacer {
            slot,
            clients,
            phases: phases
                .iter()
                .map(|p| Pace {
                    rate_per_client: p.rate_per_client,
                    window: p.window,
                })
                .collect(),
            churn_ns,
            next_churn: 0,
            phase: None,
            next_send_ns: 0,
        }
    }

    /// A new connection: its pace is set afresh from the phase it finds.
    pub fn connected(&mut self) {
        self.phase = None;
        self.next_send_ns = 0;
    }

    /// What to do at `now`, with `outstanding` signals of this client in flight and
    /// `has_targets` telling whether anyone else is in its room.
    pub fn step(
        &mut self,
        now: u64,
        schedule: Option<&Schedule>,
        outstanding: i64,
        has_targets: bool,
    ) -> Step {
        let Some(s) = schedule else {
            return Step::Wait {
                wake_ns: None,
                for_window: false,
            };
        };
        let mut wake_ns = None;
        if let Some(&offset) = self.churn_ns.get(self.next_churn) {
            let at = s.start_ns + offset;
            if now >= at {
                self.next_churn += 1;
                return Step::Leave;
            }
            wake_ns = Some(at);
        }
        let now_phase = s.phase_of(now);
        if now_phase != self.phase {
            self.phase = now_phase;
            if let Some(i) = now_phase {
                self.next_send_ns = s.phase_start_ns(i) + self.spread_ns(i);
            }
        }
        let Some(i) = self.phase else {
            if now < s.start_ns {
                wake_ns = earliest(wake_ns, s.start_ns);
            }
            return Step::Wait {
                wake_ns,
                for_window: false,
            };
        };
        let wake_ns = earliest(wake_ns, s.phase_end_ns[i]);
        let waiting = |for_window| Step::Wait {
            wake_ns,
            for_window,
        };
        if !has_targets {
            return waiting(false);
        }
        let pace = self.phases[i];
        let room = pace.room(outstanding);
        if pace.rate_per_client <= 0.0 {
            return if room > 0 {
                Step::Send {
                    count: room,
                    phase: i,
                }
            } else {
                waiting(true)
            };
        }
        if now < self.next_send_ns {
            return Step::Wait {
                wake_ns: earliest(wake_ns, self.next_send_ns),
                for_window: false,
            };
        }
        if room == 0 {
            return waiting(true);
        }
        let interval = pace.interval_ns();
        self.next_send_ns += interval;
        // Behind by more than one interval: skip, do not burst.
        if self.next_send_ns + interval < now {
            self.next_send_ns = now;
        }
        Step::Send { count: 1, phase: i }
    }

    /// How far into its first interval this client's sends are placed, so the clients'
    /// sends are spread over the interval instead of arriving together.
    fn spread_ns(&self, phase: usize) -> u64 {
        let rate = self.phases[phase].rate_per_client;
        if rate > 0.0 {
            (1e9 / rate * self.slot as f64 / self.clients as f64) as u64
        } else {
            0
        }
    }
}

/// The earlier of an optional instant and `b`.
fn earliest(a: Option<u64>, b: u64) -> Option<u64> {
    Some(a.map_or(b, |a| a.min(b)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const MS: u64 = 1_000_000;

    fn phase(rate_per_client: f64, window: u32) -> Phase {
        Phase {
            name: "test".into(),
            duration: Duration::from_secs(1),
            rate_per_client,
            window,
        }
    }

    /// Two phases: 100 ms to 1100 ms and 1100 ms to 2100 ms.
    fn schedule() -> Schedule {
        Schedule {
            start_ns: 100 * MS,
            phase_end_ns: vec![1100 * MS, 2100 * MS],
        }
    }

    /// Client `slot` of 4, at 100 signals per second (10 ms apart) in both phases.
    fn paced(slot: usize) -> Pacer {
        let phases = [phase(100.0, 0), phase(100.0, 0)];
        Pacer::new(slot, 4, &phases, Vec::new())
    }

    fn send(phase: usize) -> Step {
        Step::Send { count: 1, phase }
    }

    fn wait(wake_ms: u64) -> Step {
        Step::Wait {
            wake_ns: Some(wake_ms * MS),
            for_window: false,
        }
    }

    #[test]
    fn nothing_happens_before_the_schedule_is_known() {
        let mut pacer = paced(0);
        let step = pacer.step(500 * MS, None, 0, true);
        assert_eq!(
            step,
            Step::Wait {
                wake_ns: None,
                for_window: false
            }
        );
    }

    #[test]
    fn before_the_load_a_client_wakes_when_it_starts() {
        let mut pacer = paced(0);
        assert_eq!(pacer.step(50 * MS, Some(&schedule()), 0, true), wait(100));
    }

    #[test]
    fn clients_spread_their_first_send_over_one_interval() {
        let s = schedule();
        assert_eq!(paced(0).step(100 * MS, Some(&s), 0, true), send(0));
        // Client 2 of 4 sends half an interval (5 ms) later.
        let mut third = paced(2);
        assert_eq!(third.step(100 * MS, Some(&s), 0, true), wait(105));
        assert_eq!(third.step(105 * MS, Some(&s), 0, true), send(0));
    }

    #[test]
    fn a_paced_phase_sends_one_signal_per_interval() {
        let s = schedule();
        let mut pacer = paced(0);
        assert_eq!(pacer.step(100 * MS, Some(&s), 0, true), send(0));
        assert_eq!(pacer.step(100 * MS, Some(&s), 1, true), wait(110));
        assert_eq!(pacer.step(109 * MS, Some(&s), 1, true), wait(110));
        assert_eq!(pacer.step(110 * MS, Some(&s), 1, true), send(0));
        assert_eq!(pacer.step(112 * MS, Some(&s), 2, true), wait(120));
    }

    #[test]
    fn a_client_behind_by_more_than_one_interval_skips_what_it_missed() {
        let s = schedule();
        let mut pacer = paced(0);
        assert_eq!(pacer.step(100 * MS, Some(&s), 0, true), send(0));
        // Woken at 145 ms, four sends late (110, 120, 130, 140): the one overdue and the one
        // due now go out, the rest are skipped, and the pace restarts from now.
        assert_eq!(pacer.step(145 * MS, Some(&s), 0, true), send(0));
        assert_eq!(pacer.step(145 * MS, Some(&s), 0, true), send(0));
        assert_eq!(pacer.step(145 * MS, Some(&s), 0, true), wait(155));
    }

    #[test]
    fn a_client_behind_by_one_interval_catches_up_without_skipping() {
        let s = schedule();
        let mut pacer = paced(0);
        assert_eq!(pacer.step(100 * MS, Some(&s), 0, true), send(0));
        // 8 ms late for the send due at 110: that one and the one due at 120 are both sent.
        assert_eq!(pacer.step(118 * MS, Some(&s), 0, true), send(0));
        assert_eq!(pacer.step(120 * MS, Some(&s), 0, true), send(0));
        assert_eq!(pacer.step(120 * MS, Some(&s), 0, true), wait(130));
    }

    #[test]
    fn a_full_window_waits_for_a_receiver_not_for_a_timer() {
        let s = schedule();
        let mut pacer = Pacer::new(0, 4, &[phase(100.0, 2)], Vec::new());
        assert_eq!(
            pacer.step(100 * MS, Some(&s), 2, true),
            Step::Wait {
                wake_ns: Some(1100 * MS),
                for_window: true
            }
        );
        // A place is free again: the send that was due goes out.
        assert_eq!(pacer.step(103 * MS, Some(&s), 1, true), send(0));
    }

    #[test]
    fn an_unpaced_phase_sends_as_many_as_the_window_has_room_for() {
        let s = schedule();
        let mut pacer = Pacer::new(3, 4, &[phase(0.0, 8)], Vec::new());
        assert_eq!(
            pacer.step(100 * MS, Some(&s), 3, true),
            Step::Send { count: 5, phase: 0 }
        );
        assert_eq!(
            pacer.step(100 * MS, Some(&s), 8, true),
            Step::Wait {
                wake_ns: Some(1100 * MS),
                for_window: true
            }
        );
    }

    #[test]
    fn a_client_alone_in_its_room_sends_nothing_and_wakes_at_the_phase_end() {
        let mut pacer = paced(0);
        assert_eq!(
            pacer.step(100 * MS, Some(&schedule()), 0, false),
            wait(1100)
        );
    }

    #[test]
    fn each_phase_starts_its_own_pace_at_its_own_start() {
        let s = schedule();
        let phases = [phase(100.0, 0), phase(10.0, 0)];
        let mut pacer = Pacer::new(1, 4, &phases, Vec::new());
        assert_eq!(pacer.step(1099 * MS, Some(&s), 0, true), send(0));
        // Phase 1 at 10/s: client 1 of 4 first sends a quarter of 100 ms after 1100 ms.
        assert_eq!(pacer.step(1100 * MS, Some(&s), 0, true), wait(1125));
        assert_eq!(pacer.step(1125 * MS, Some(&s), 0, true), send(1));
        assert_eq!(pacer.step(1125 * MS, Some(&s), 0, true), wait(1225));
    }

    #[test]
    fn after_the_last_phase_nothing_is_sent_or_awaited() {
        let mut pacer = paced(0);
        assert_eq!(
            pacer.step(2100 * MS, Some(&schedule()), 0, true),
            Step::Wait {
                wake_ns: None,
                for_window: false
            }
        );
    }

    #[test]
    fn a_client_leaves_once_at_each_churn_instant_and_wakes_for_the_next() {
        let s = schedule();
        let mut pacer = Pacer::new(0, 4, &[phase(1.0, 0)], vec![200 * MS, 700 * MS]);
        assert_eq!(pacer.step(100 * MS, Some(&s), 0, true), send(0));
        assert_eq!(pacer.step(150 * MS, Some(&s), 0, true), wait(300));
        assert_eq!(pacer.step(300 * MS, Some(&s), 0, true), Step::Leave);
        pacer.connected();
        assert_eq!(pacer.step(301 * MS, Some(&s), 0, true), send(0));
        assert_eq!(pacer.step(302 * MS, Some(&s), 0, true), wait(800));
        assert_eq!(pacer.step(800 * MS, Some(&s), 0, true), Step::Leave);
        pacer.connected();
        assert_eq!(pacer.step(801 * MS, Some(&s), 0, true), send(0));
        assert_eq!(pacer.step(802 * MS, Some(&s), 0, true), wait(1100));
    }

    #[test]
    fn schedule_finds_phases() {
        let s = Schedule {
            start_ns: 10,
            phase_end_ns: vec![20, 30],
        };
        assert_eq!(s.phase_of(5), None);
        assert_eq!(s.phase_of(10), Some(0));
        assert_eq!(s.phase_of(25), Some(1));
        assert_eq!(s.phase_of(30), None);
        assert_eq!(s.phase_start_ns(1), 20);
        assert_eq!(s.end_ns(), 30);
    }
}
