//! A participant's chat message as the relay passes it on: its text checked and normalised,
//! its `seq` taken once, and the relay's clock stamped on it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use meshmeet_protocol::normalize_chat_text;

use crate::error::RelayError;

/// Checks a chat and takes its `seq` from `last_seq`: receivers name a message by
/// `(sender, seq)`, so the relay lets each number through once per membership, going up
/// (resumes included: the count lives with the session). Returns the text with its line
/// breaks normalised.
pub(super) fn check_chat(
    last_seq: &AtomicU64,
    seq: u64,
    text: &str,
    max_chars: usize,
) -> Result<String, RelayError> {
    let text = normalize_chat_text(text, max_chars).map_err(RelayError::InvalidText)?;
    let last = last_seq.load(Ordering::Relaxed);
    if seq <= last {
        return Err(RelayError::InvalidSeq { seq, last });
    }
    last_seq.store(seq, Ordering::Relaxed);
    Ok(text.into_owned())
}

/// Milliseconds since the Unix epoch, the `sent_at_ms` the relay stamps on each chat.
pub(super) fn unix_time_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_seq_passes_once_and_only_upwards() {
        let last = AtomicU64::new(0);
        assert_eq!(check_chat(&last, 2, "hi", 100), Ok("hi".to_owned()));
        assert_eq!(
            check_chat(&last, 2, "again", 100),
            Err(RelayError::InvalidSeq { seq: 2, last: 2 })
        );
        assert_eq!(
            check_chat(&last, 1, "older", 100),
            Err(RelayError::InvalidSeq { seq: 1, last: 2 })
        );
        assert_eq!(check_chat(&last, 7, "a\r\nb", 100), Ok("a\nb".to_owned()));
    }

    #[test]
    fn a_refused_text_does_not_use_up_its_seq() {
        let last = AtomicU64::new(0);
        assert!(matches!(
            check_chat(&last, 1, "  ", 100),
            Err(RelayError::InvalidText(_))
        ));
        assert_eq!(check_chat(&last, 1, "now", 100), Ok("now".to_owned()));
    }
}
