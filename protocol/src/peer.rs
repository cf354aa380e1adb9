//! Messages sent directly between two browsers over a WebRTC data channel. The relay never
//! sees them; they are here so the format is written down in one place (and in PROTOCOL.md).

use serde::{Deserialize, Serialize};

/// Bytes of file data in one binary data-channel message (after the 4-byte header). 16 KiB
/// is the largest size every browser delivers in one piece.
pub const FILE_CHUNK_BYTES: usize = 16 * 1024;

/// A message on the `chat` or `files` data channel (text frames, JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PeerMsg {
    /// A chat message. `seq` counts the sender's messages from 1; with the sender's peer id it
    /// identifies the message, so a copy that also came through the relay is shown once.
    Chat {
        /// The sender's message number.
        seq: u64,
        /// The text.
        text: String,
    },
    /// What the sender wants to receive from the other side. `video: false` (its tile of us
    /// is off screen, or it chose audio only) lets us stop sending it our camera, which saves
    /// our upload; `screen: false` (audio only) our screen share too; `true` resumes.
    Prefs {
        /// Whether to send our camera to the sender of this message.
        video: bool,
        /// Whether to send our screen share to it. Absent means the same as `video` (what
        /// clients that sent only `video` meant).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        screen: Option<bool>,
    },
    /// A file follows on the `files` channel as binary chunks of this transfer.
    FileOffer {
        /// Sender-chosen transfer number (the first 4 bytes of every chunk).
        transfer: u32,
        /// File name (shown, never used as a path).
        name: String,
        /// Size in bytes.
        size: u64,
        /// MIME type, possibly empty.
        mime: String,
    },
    /// Every chunk of the transfer was sent; the receiver checks the SHA-256.
    FileEnd {
        /// The transfer.
        transfer: u32,
        /// Lowercase hex SHA-256 of the whole file.
        sha256: String,
    },
    /// Either side stops the transfer; both discard what they have.
    FileCancel {
        /// The transfer, numbered by its sender.
        transfer: u32,
        /// Whether the receiver cancels (else the sender): both sides number their own
        /// sends, so the number alone could name a transfer in either direction.
        by_receiver: bool,
    },
}

/// Frames a file chunk: the transfer number (4 bytes, big-endian), then the data.
pub fn encode_chunk(transfer: u32, data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(4 + data.len());
    frame.extend_from_slice(&transfer.to_be_bytes());
    frame.extend_from_slice(data);
    frame
}

/// Splits a binary frame into its transfer number and data; `None` if it is too short.
pub fn decode_chunk(frame: &[u8]) -> Option<(u32, &[u8])> {
    let (header, data) = frame.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*header), data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProtocolMsg;

    #[test]
    fn prefs_without_screen_still_parse() {
        let old: PeerMsg = serde_json::from_str(r#"{"type":"prefs","video":false}"#)
            .expect("a prefs message of a client that knows only `video`");
        assert_eq!(
            old,
            PeerMsg::Prefs {
                video: false,
                screen: None
            }
        );
    }

    #[test]
    fn chunk_frames_round_trip() {
        let frame = encode_chunk(0x0102_0304, b"hello");
        assert_eq!(&frame[..4], &[1, 2, 3, 4]);
        assert_eq!(decode_chunk(&frame), Some((0x0102_0304, &b"hello"[..])));
        assert_eq!(decode_chunk(&encode_chunk(7, b"")), Some((7, &b""[..])));
    }

    #[test]
    fn short_frames_are_rejected() {
        assert_eq!(decode_chunk(&[1, 2, 3]), None);
    }

    #[test]
    fn peer_messages_are_tagged_like_relay_messages() {
        let json = serde_json::to_value(PeerMsg::FileCancel {
            transfer: 3,
            by_receiver: true,
        })
        .expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({ "type": "file_cancel", "transfer": 3, "by_receiver": true })
        );
        assert_eq!(
            PeerMsg::tags(),
            ["chat", "prefs", "file_offer", "file_end", "file_cancel"]
        );
    }
}
