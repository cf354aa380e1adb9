//! File transfers: the list the panel shows, the chunk plan of a send, and the checks on
//! what a receiver reassembles (size and SHA-256).

use meshmeet_protocol::{PeerId, FILE_CHUNK_BYTES};
use sha2::{Digest, Sha256};
use std::rc::Rc;
use yew::Reducible;

/// Which way a transfer goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We send.
    Sending,
    /// We receive.
    Receiving,
}

/// Identifies a transfer: numbers are chosen by the sender, so they are unique per peer and
/// direction only.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransferKey {
    /// The other side.
    pub peer: PeerId,
    /// The sender's transfer number.
    pub transfer: u32,
    /// Our side of it.
    pub direction: Direction,
}

/// Where a transfer is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferState {
    /// Bytes are moving.
    Active,
    /// Complete (and, when receiving, verified).
    Done,
    /// Stopped by either side.
    Cancelled,
    /// Failed, with the reason.
    Failed(String),
}

impl TransferState {
    /// The `data-state` attribute value.
    pub fn as_attr(&self) -> &'static str {
        match self {
            TransferState::Active => "active",
            TransferState::Done => "done",
            TransferState::Cancelled => "cancelled",
            TransferState::Failed(_) => "failed",
        }
    }
}

/// One transfer as the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// Which transfer.
    pub key: TransferKey,
    /// The other side's name.
    pub peer_name: String,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Bytes sent or received so far.
    pub bytes: u64,
    /// Where it is.
    pub state: TransferState,
    /// Object URL of the received file, once verified.
    pub url: Option<String>,
}

impl Transfer {
    /// Progress from 0 to 100.
    pub fn percent(&self) -> u32 {
        if self.size == 0 {
            return if self.state == TransferState::Done {
                100
            } else {
                0
            };
        }
        ((self.bytes.min(self.size) * 100) / self.size) as u32
    }
}

/// What changes the list of transfers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferAction {
    /// A transfer began.
    Started(Transfer),
    /// Bytes moved.
    Progressed(TransferKey, u64),
    /// Finished; a received file comes with its object URL.
    Completed(TransferKey, Option<String>),
    /// Stopped by either side.
    Cancelled(TransferKey),
    /// Failed.
    Failed(TransferKey, String),
}

/// Every transfer of the meeting, newest last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transfers {
    /// The transfers.
    pub list: Vec<Transfer>,
}

impl Transfers {
    /// Applies one action; updates to a finished transfer are ignored.
    pub fn apply(mut self, action: TransferAction) -> Self {
        match action {
            TransferAction::Started(transfer) => self.list.push(transfer),
            TransferAction::Progressed(key, bytes) => {
                if let Some(t) = self.active_mut(&key) {
                    t.bytes = bytes;
                }
            }
            TransferAction::Completed(key, url) => {
                if let Some(t) = self.active_mut(&key) {
                    t.bytes = t.size;
                    t.state = TransferState::Done;
                    t.url = url;
                }
            }
            TransferAction::Cancelled(key) => {
                if let Some(t) = self.active_mut(&key) {
                    t.state = TransferState::Cancelled;
                }
            }
            TransferAction::Failed(key, why) => {
                if let Some(t) = self.active_mut(&key) {
                    t.state = TransferState::Failed(why);
                }
            }
        }
        self
    }

    fn active_mut(&mut self, key: &TransferKey) -> Option<&mut Transfer> {
        self.list
            .iter_mut()
            .find(|t| &t.key == key && t.state == TransferState::Active)
    }
}

impl Reducible for Transfers {
    type Action = TransferAction;

    fn reduce(self: Rc<Self>, action: TransferAction) -> Rc<Self> {
        Rc::new((*self).clone().apply(action))
    }
}

/// The byte ranges `[start, end)` a file of `size` bytes is sent in.
pub fn chunk_ranges(size: u64) -> impl Iterator<Item = (u64, u64)> {
    let chunk = FILE_CHUNK_BYTES as u64;
    (0..size.div_ceil(chunk)).map(move |i| (i * chunk, ((i + 1) * chunk).min(size)))
}

/// Why a received file was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReassemblyError {
    /// More bytes arrived than were announced.
    #[error("more data than the announced {0} bytes")]
    TooLong(u64),
    /// The transfer ended short.
    #[error("{received} of {expected} bytes arrived")]
    TooShort {
        /// Bytes received.
        received: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// The data does not match the sender's checksum.
    #[error("the checksum does not match")]
    Checksum,
}

/// Keeps count of a file being received and hashes it as it comes, so the bytes themselves
/// can stay where they arrived (in JavaScript memory) and are never copied into a second
/// whole-file buffer.
#[derive(Clone, Debug)]
pub struct Reassembly {
    expected: u64,
    received: u64,
    hasher: Sha256,
}

impl Reassembly {
    /// Starts receiving `expected` bytes.
    pub fn new(expected: u64) -> Self {
        Reassembly {
            expected,
            received: 0,
            hasher: Sha256::new(),
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Takes the next chunk.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ReassemblyError> {
        let received = self.received + chunk.len() as u64;
        if received > self.expected {
            return Err(ReassemblyError::TooLong(self.expected));
        }
        self.received = received;
        self.hasher.update(chunk);
        Ok(())
    }

    /// Checks the total against the size and the sender's SHA-256 (hex).
    pub fn finish(self, sha256_hex: &str) -> Result<(), ReassemblyError> {
        if self.received != self.expected {
            return Err(ReassemblyError::TooShort {
                received: self.received,
                expected: self.expected,
            });
        }
        if hex::encode(self.hasher.finalize()) != sha256_hex.to_ascii_lowercase() {
            return Err(ReassemblyError::Checksum);
        }
        Ok(())
    }
}

/// SHA-256 computed incrementally by a sender.
#[derive(Clone, Debug, Default)]
pub struct Checksum(Sha256);

impl Checksum {
    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The lowercase hex digest.
    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(transfer: u32) -> TransferKey {
        TransferKey {
            peer: PeerId::from("p"),
            transfer,
            direction: Direction::Receiving,
        }
    }

    fn transfer(size: u64) -> Transfer {
        Transfer {
            key: key(1),
            peer_name: "Ana".into(),
            name: "a.bin".into(),
            size,
            bytes: 0,
            state: TransferState::Active,
            url: None,
        }
    }

    #[test]
    fn chunks_cover_the_file_exactly_once() {
        let size = 3 * FILE_CHUNK_BYTES as u64 + 5;
        let ranges: Vec<_> = chunk_ranges(size).collect();
        assert_eq!(ranges.len(), 4);
        assert_eq!(ranges[0], (0, FILE_CHUNK_BYTES as u64));
        assert_eq!(ranges[3], (3 * FILE_CHUNK_BYTES as u64, size));
        assert!(ranges.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!(chunk_ranges(0).count(), 0);
        assert_eq!(chunk_ranges(FILE_CHUNK_BYTES as u64).count(), 1);
    }

    #[test]
    fn reassembly_accepts_the_exact_bytes_and_checksum() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let mut sum = Checksum::default();
        let mut reassembly = Reassembly::new(data.len() as u64);
        for (start, end) in chunk_ranges(data.len() as u64) {
            let chunk = &data[start as usize..end as usize];
            sum.update(chunk);
            reassembly.push(chunk).expect("fits");
        }
        assert_eq!(reassembly.received(), 50_000);
        reassembly.finish(&sum.finish()).expect("verified");
    }

    #[test]
    fn reassembly_refuses_extra_missing_or_altered_bytes() {
        let mut long = Reassembly::new(3);
        assert_eq!(long.push(b"abcd"), Err(ReassemblyError::TooLong(3)));

        let mut short = Reassembly::new(4);
        short.push(b"abc").expect("fits");
        let mut sum = Checksum::default();
        sum.update(b"abcd");
        let digest = sum.finish();
        assert!(matches!(
            short.finish(&digest),
            Err(ReassemblyError::TooShort {
                received: 3,
                expected: 4
            })
        ));

        let mut altered = Reassembly::new(4);
        altered.push(b"abce").expect("fits");
        assert_eq!(altered.finish(&digest), Err(ReassemblyError::Checksum));
    }

    #[test]
    fn sha256_of_a_known_input() {
        let mut sum = Checksum::default();
        sum.update(b"test");
        assert_eq!(
            sum.finish(),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }

    #[test]
    fn progress_and_completion_update_only_active_transfers() {
        let list = Transfers::default()
            .apply(TransferAction::Started(transfer(200)))
            .apply(TransferAction::Progressed(key(1), 50));
        assert_eq!(list.list[0].percent(), 25);
        let list = list
            .apply(TransferAction::Cancelled(key(1)))
            .apply(TransferAction::Progressed(key(1), 150))
            .apply(TransferAction::Completed(key(1), Some("blob:x".into())));
        assert_eq!(list.list[0].state, TransferState::Cancelled);
        assert_eq!(list.list[0].bytes, 50);
        assert_eq!(list.list[0].url, None);
    }
}
