//! When to try the relay again after the connection dropped: exponential backoff with jitter,
//! so a relay that restarts is not hit by every client at the same instant.

/// Ceiling of the first retry's delay.
pub const FIRST_RETRY_CEILING_MS: f64 = 500.0;
/// Longest delay between two attempts, so a relay that is back is found within this.
pub const MAX_RETRY_CEILING_MS: f64 = 4_000.0;

/// The delay before reconnect attempt `attempt` (0 for the first), given `unit`, a random
/// number in [0, 1). The ceiling doubles per attempt up to [`MAX_RETRY_CEILING_MS`]; the delay
/// is half the ceiling plus a random share of the other half ("equal jitter"): never a
/// burst of immediate retries, and clients that lost the relay together spread out.
pub fn reconnect_delay_ms(attempt: u32, unit: f64) -> u32 {
    let ceiling =
        (FIRST_RETRY_CEILING_MS * 2f64.powi(attempt.min(16) as i32)).min(MAX_RETRY_CEILING_MS);
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ceiling / 2.0 + ceiling / 2.0 * unit) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_per_attempt_until_the_ceiling() {
        let lowest: Vec<u32> = (0..7).map(|a| reconnect_delay_ms(a, 0.0)).collect();
        assert_eq!(lowest, [250, 500, 1000, 2000, 2000, 2000, 2000]);
        assert_eq!(reconnect_delay_ms(0, 0.999_999), 499);
        assert_eq!(reconnect_delay_ms(40, 1.0), 4000);
    }

    #[test]
    fn jitter_spreads_clients_over_the_upper_half_of_the_ceiling() {
        let spread: Vec<u32> = [0.0, 0.25, 0.5, 0.75]
            .iter()
            .map(|u| reconnect_delay_ms(3, *u))
            .collect();
        assert_eq!(spread, [2000, 2500, 3000, 3500]);
    }

    #[test]
    fn a_broken_random_number_still_gives_a_delay() {
        assert_eq!(reconnect_delay_ms(1, f64::NAN), 500);
        assert_eq!(reconnect_delay_ms(1, -3.0), 500);
        assert_eq!(reconnect_delay_ms(1, 7.0), 1000);
    }
}
