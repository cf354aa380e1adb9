//! Rate limiting with a token bucket: owned by a connection for its message rate (its state
//! lives and dies with the socket), and kept per address by [`crate::access`] for failed
//! joins.

use std::time::{Duration, Instant};

/// A token bucket: holds up to `capacity` tokens, refills at `per_second`, and each accepted
/// event takes one token. Bursts up to `capacity` pass, the sustained rate is `per_second`.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    last_refill: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(capacity: u32, per_second: f64, now: Instant) -> Self {
        let capacity = f64::from(capacity.max(1));
        TokenBucket {
            capacity,
            per_second: per_second.max(0.0),
            tokens: capacity,
            last_refill: now,
        }
    }

    /// Takes a token if there is one; `false` means the event is over the limit.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until a token is there (zero if one is), taking none.
    pub fn time_until_available(&mut self, now: Instant) -> Duration {
        self.refill(now);
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else if self.per_second <= 0.0 {
            Duration::MAX
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
        }
    }

    /// Whether the bucket is full again (nothing of the past counts any more).
    pub fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.capacity
    }

    fn refill(&mut self, now: Instant) {
        // Only forward: an earlier `now` (events timed out of order) must neither panic nor
        // move `last_refill` back, which would credit the same interval twice.
        if now > self.last_refill {
            let elapsed: Duration = now - self.last_refill;
            self.tokens =
                (self.tokens + elapsed.as_secs_f64() * self.per_second).min(self.capacity);
            self.last_refill = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_passes_then_sustained_rate_applies() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(100, 50.0, start);
        for _ in 0..100 {
            assert!(bucket.try_take(start));
        }
        assert!(!bucket.try_take(start));
        // 50 per second: one token every 20 ms.
        assert!(bucket.try_take(start + Duration::from_millis(20)));
        assert!(!bucket.try_take(start + Duration::from_millis(21)));
        // After a long pause the bucket is full again, but not fuller.
        let later = start + Duration::from_secs(60);
        for _ in 0..100 {
            assert!(bucket.try_take(later));
        }
        assert!(!bucket.try_take(later));
    }

    #[test]
    fn time_until_available_counts_down_to_the_next_token() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2, 0.5, start);
        assert_eq!(bucket.time_until_available(start), Duration::ZERO);
        assert!(bucket.try_take(start) && bucket.try_take(start));
        assert_eq!(bucket.time_until_available(start), Duration::from_secs(2));
        let later = start + Duration::from_millis(1500);
        assert_eq!(
            bucket.time_until_available(later),
            Duration::from_millis(500)
        );
        assert!(!bucket.is_full(later));
        assert!(bucket.is_full(start + Duration::from_secs(4)));
    }

    #[test]
    fn clock_going_back_takes_no_tokens_and_does_not_panic() {
        let start = Instant::now() + Duration::from_secs(1);
        let mut bucket = TokenBucket::new(1, 1.0, start);
        assert!(bucket.try_take(start));
        assert!(!bucket.try_take(start - Duration::from_millis(500)));
    }
}
