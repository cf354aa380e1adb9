//! Why a connection ends, and what each ending means for the room, the resume and the close
//! frame the client is sent.

use std::time::Duration;

use meshmeet_protocol::LeaveReason;

/// WebSocket close codes (RFC 6455, section 7.4.1).
pub(super) mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    /// Application-defined: another connection resumed this one's session.
    pub const TAKEN_OVER: u16 = 4000;
}

/// Why a connection ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    /// The client sent `leave`.
    Left,
    /// The client sent a close frame, or the socket closed or failed.
    Disconnected,
    /// Nothing arrived for the keep-alive timeout.
    TimedOut,
    /// The client's queue filled up: it is not reading.
    TooSlow,
    /// A fatal error was sent; the close follows it.
    Refused(u16),
    /// Too many refused messages in a short time.
    TooManyBadMessages,
    /// A frame over the hard limit: it was not read, so the stream cannot continue.
    FrameTooLarge,
    /// A text frame that is not UTF-8 (the WebSocket layer stops reading after it).
    InvalidUtf8,
    /// A frame that breaks RFC 6455 (unmasked, reserved bits or opcodes, a continuation
    /// without a start, a fragmented or oversized control frame, a malformed close).
    ProtocolViolation,
    /// The relay is stopping.
    ShuttingDown,
    /// Another connection resumed this one's session.
    TakenOver,
    /// The host removed the participant or ended the meeting (the message saying so is
    /// already queued).
    EndedByHost,
}

impl End {
    pub(super) fn leave_reason(self) -> LeaveReason {
        match self {
            End::Left => LeaveReason::Left,
            End::TimedOut => LeaveReason::TimedOut,
            _ => LeaveReason::Disconnected,
        }
    }

    /// Whether the participant keeps its place for a resume: its socket went away without a
    /// `leave`. A connection that went silent is not held: it already had the keep-alive
    /// timeout to come back, and a dead participant must leave the grid within it.
    pub(super) fn may_resume(self) -> bool {
        matches!(self, End::Disconnected | End::TakenOver)
    }

    /// Whether the WebSocket layer stopped reading (it does after any protocol error).
    pub(super) fn stream_unreadable(self) -> bool {
        matches!(
            self,
            End::FrameTooLarge | End::InvalidUtf8 | End::ProtocolViolation
        )
    }

    /// The close frame to send, where the client can still be reached.
    pub(super) fn close_frame(self) -> Option<(u16, &'static str)> {
        match self {
            End::Left => Some((close_code::NORMAL, "left")),
            End::Disconnected => Some((close_code::NORMAL, "")),
            End::TimedOut | End::TooSlow => None,
            End::Refused(code) => Some((code, "refused")),
            End::TooManyBadMessages => Some((close_code::POLICY, "too many bad messages")),
            End::FrameTooLarge => Some((close_code::TOO_BIG, "message too big")),
            End::InvalidUtf8 => Some((close_code::INVALID_PAYLOAD, "invalid UTF-8")),
            End::ProtocolViolation => Some((close_code::PROTOCOL_ERROR, "protocol error")),
            End::ShuttingDown => Some((close_code::GOING_AWAY, "relay shutting down")),
            End::TakenOver => Some((close_code::TAKEN_OVER, "resumed elsewhere")),
            End::EndedByHost => Some((close_code::NORMAL, "ended by the host")),
        }
    }
}

/// The base delay plus up to as much again at random, so clients told to reconnect at the
/// same moment do not all come back at the same moment.
pub(super) fn reconnect_delay_ms(base: Duration) -> u64 {
    let base_ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
    let mut bytes = [0u8; 8];
    let jitter = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes) % base_ms.saturating_add(1),
        Err(_) => 0,
    };
    base_ms.saturating_add(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delay_stays_between_base_and_twice_base() {
        for _ in 0..100 {
            let ms = reconnect_delay_ms(Duration::from_millis(1000));
            assert!((1000..=2000).contains(&ms), "{ms}");
        }
        assert_eq!(reconnect_delay_ms(Duration::ZERO), 0);
    }
}
