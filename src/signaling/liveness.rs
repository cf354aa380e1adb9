//! Whether the relay connection is still alive, judged from the page: browsers hide the relay's
//! WebSocket pings, so the page pings and counts how long nothing came back.
//!
//! Silence counts only while the page itself runs. A page starved of CPU (a busy phone, six
//! browsers on two cores) runs its clock ticks late and handles the relay's answers late too;
//! wall-clock silence alone would call such a page's relay dead, reconnect, and make the load
//! worse. So the relay is given up only when it has been silent for both the time limit and as
//! many on-time clock ticks.

/// Silence on the relay connection after which it is given up and reconnected.
pub const RELAY_SILENCE_LIMIT_MS: f64 = 10_000.0;

/// Tracks the relay connection's silence. Pure: the caller passes the time.
#[derive(Clone, Debug, PartialEq)]
pub struct Liveness {
    last_heard_ms: f64,
    silent_ticks: u32,
    tick_ms: f64,
}

impl Liveness {
    /// A connection heard from at `now_ms`, checked every `tick_ms`.
    pub fn new(now_ms: f64, tick_ms: u32) -> Self {
        Liveness {
            last_heard_ms: now_ms,
            silent_ticks: 0,
            tick_ms: f64::from(tick_ms.max(1)),
        }
    }

    /// The relay said something, or a new connection starts (it gets the whole limit to open
    /// and answer).
    pub fn heard(&mut self, now_ms: f64) {
        self.last_heard_ms = now_ms;
        self.silent_ticks = 0;
    }

    /// One clock tick at `now_ms`; true when the connection should be given up.
    pub fn tick(&mut self, now_ms: f64) -> bool {
        self.silent_ticks = self.silent_ticks.saturating_add(1);
        let ticks_needed = (RELAY_SILENCE_LIMIT_MS / self.tick_ms).ceil() as u32;
        now_ms - self.last_heard_ms > RELAY_SILENCE_LIMIT_MS && self.silent_ticks > ticks_needed
    }

    /// How long the relay has been silent at `now_ms`, in milliseconds.
    pub fn silent_ms(&self, now_ms: f64) -> f64 {
        (now_ms - self.last_heard_ms).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: u32 = 1_000;

    /// Ticks once a second from `start` for `count` ticks; returns the tick that gave up.
    fn ticks_until_given_up(live: &mut Liveness, start: f64, count: u32) -> Option<u32> {
        (1..=count).find(|n| live.tick(start + f64::from(*n) * f64::from(TICK)))
    }

    #[test]
    fn a_silent_relay_is_given_up_after_the_limit_of_on_time_ticks() {
        let mut live = Liveness::new(0.0, TICK);
        assert_eq!(ticks_until_given_up(&mut live, 0.0, 30), Some(11));
    }

    #[test]
    fn anything_heard_restarts_the_count() {
        let mut live = Liveness::new(0.0, TICK);
        assert_eq!(ticks_until_given_up(&mut live, 0.0, 9), None);
        live.heard(9_500.0);
        assert_eq!(ticks_until_given_up(&mut live, 9_000.0, 10), None);
        assert!(ticks_until_given_up(&mut live, 19_000.0, 5).is_some());
    }

    #[test]
    fn a_page_frozen_for_a_minute_is_not_a_silent_relay() {
        let mut live = Liveness::new(0.0, TICK);
        // The page's clock stalls: two ticks 30 s apart, and the pong queued meanwhile is
        // handled right after the second one.
        assert!(!live.tick(30_000.0));
        assert!(!live.tick(60_000.0));
        live.heard(60_010.0);
        assert!(!live.tick(61_000.0));
        assert_eq!(live.silent_ms(61_000.0), 990.0);
    }

    #[test]
    fn a_slow_page_still_gives_up_a_relay_that_never_answers() {
        let mut live = Liveness::new(0.0, TICK);
        // Ticks run 3 s apart: it takes as many ticks as the limit, however late they come.
        let gave_up = (1..=40).find(|n| live.tick(f64::from(*n) * 3_000.0));
        assert_eq!(gave_up, Some(11));
    }
}
