//! Sending chat: over each peer's chat channel where the topology has one, and once through
//! the relay when any peer cannot be reached that way (receivers drop the second copy by
//! sender and number).

use super::relay_session::RelaySession;
use super::topology::MediaTopology;
use super::warn;
use crate::rtc::Channel;
use meshmeet_protocol::{
    normalize_chat_text, ClientMsg, PeerMsg, ProtocolMsg as _, DEFAULT_MAX_CHAT_CHARS,
};

/// This participant's outgoing chat: the numbering and the relay's length limit.
pub(super) struct ChatOut {
    seq: u64,
    /// Longest chat text the relay accepts, in characters (told in its welcome).
    max_chars: usize,
}

impl ChatOut {
    pub(super) fn new() -> Self {
        ChatOut {
            seq: 0,
            max_chars: DEFAULT_MAX_CHAT_CHARS as usize,
        }
    }

    /// Uses the relay's limit (from its welcome).
    pub(super) fn set_max_chars(&mut self, max_chars: u32) {
        self.max_chars = max_chars as usize;
    }

    /// Sends `text` to everyone; returns its number and text as sent, for our own entry, or
    /// `None` when the text cannot be sent.
    pub(super) fn send(
        &mut self,
        text: &str,
        media: &impl MediaTopology,
        relay: &RelaySession,
    ) -> Option<(u64, String)> {
        // The relay would normalise line breaks in its copy; the data-channel copies and our
        // own entry must read the same.
        let text = match normalize_chat_text(text.trim(), self.max_chars) {
            Ok(text) => text.into_owned(),
            Err(err) => {
                warn(&format!("chat not sent: the text {err}"));
                return None;
            }
        };
        self.seq += 1;
        let seq = self.seq;
        let json = PeerMsg::Chat {
            seq,
            text: text.clone(),
        }
        .to_json();
        let mut via_relay = false;
        for peer in media.peers() {
            match media.data_channel(&peer, Channel::Chat) {
                Some(channel) if channel.is_open() => {
                    if channel.send_text(&json).is_err() {
                        via_relay = true;
                    }
                }
                _ => via_relay = true,
            }
        }
        if via_relay {
            relay.send(&ClientMsg::Chat {
                seq,
                text: text.clone(),
            });
        }
        Some((seq, text))
    }
}
