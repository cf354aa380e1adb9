//! Numbers shown with a fixed number of decimals, without Rust's float formatting.
//!
//! `format!("{:.1}", x)` (or `{}` of any `f64`) links core's float-to-decimal machinery for a
//! handful of figures in the stats panel and a few style and log values; rounding to an
//! integer and printing that is all those places need. Measured (issue #18): `fixed` written
//! as `format!("{value:.prec$}")` makes the client 7,310 B larger gzipped (298,427 ->
//! 305,737 B), over its 300,000 B budget, so this stays. Keep `f64` out of `format!` in the
//! client and use [`fixed`].

/// `value` rounded to `decimals` places (half away from zero), as `format!("{:.N}")` shows
/// the figures meshmeet shows: `fixed(1234.56, 1)` is `"1234.6"`. Values that are not
/// finite read `"–"`; magnitudes beyond what a `u64` holds at that scale saturate.
pub fn fixed(value: f64, decimals: u32) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let decimals = decimals.min(9);
    let scale = 10u64.pow(decimals);
    // `as` saturates at u64::MAX, which no figure shown here comes near.
    let scaled = (value.abs() * scale as f64).round() as u64;
    let sign = if value < 0.0 && scaled != 0 { "-" } else { "" };
    let (whole, fraction) = (scaled / scale, scaled % scale);
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!(
            "{sign}{whole}.{fraction:0width$}",
            width = decimals as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn rounds_to_the_requested_places() {
        assert_eq!(fixed(1234.56, 1), "1234.6");
        assert_eq!(fixed(1234.56, 0), "1235");
        assert_eq!(fixed(0.0123, 4), "0.0123");
        assert_eq!(fixed(0.00004, 4), "0.0000");
        assert_eq!(fixed(2.0, 2), "2.00");
        assert_eq!(fixed(0.05, 1), "0.1");
    }

    #[test]
    fn negative_values_keep_their_sign_unless_they_round_to_zero() {
        assert_eq!(fixed(-1.26, 1), "-1.3");
        assert_eq!(fixed(-0.04, 1), "0.0");
        assert_eq!(fixed(-7.0, 0), "-7");
    }

    #[test]
    fn agrees_with_format_away_from_exact_halves() {
        for value in [
            0.0, 1.0, 7.12345, 99.99, 12345.678, 0.3333, 170_000.4, -42.42,
        ] {
            for decimals in 0..=4 {
                let expected = format!("{value:.prec$}", prec = decimals as usize);
                assert_eq!(fixed(value, decimals), expected, "{value} to {decimals}");
            }
        }
    }

    #[test]
    fn values_that_are_not_finite_are_shown_as_a_dash() {
        assert_eq!(fixed(f64::NAN, 1), "–");
        assert_eq!(fixed(f64::INFINITY, 0), "–");
    }
}
