//! File transfers over the `files` data channel: sending in chunks with backpressure,
//! receiving into JavaScript memory with a running checksum, cancelling from either side.
//!
//! A sender reads the file slice by slice, so a file is never loaded whole; a receiver keeps
//! the chunks as they arrived (views into the received buffers) and only joins them into a
//! `Blob` once the checksum matches.

use crate::rtc::{DataSender, BUFFER_HIGH_BYTES};
use crate::state::{
    chunk_ranges, Checksum, Direction, Reassembly, Transfer, TransferAction, TransferKey,
    TransferState, Transfers,
};
use meshmeet_protocol::{decode_chunk, encode_chunk, PeerId, PeerMsg};
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Blob, BlobPropertyBag, File, Url};
use yew::UseReducerDispatcher;

/// Progress is reported every this many chunks (16 × 16 KiB = 256 KiB), not on every one.
const PROGRESS_EVERY_CHUNKS: usize = 16;

struct Incoming {
    key: TransferKey,
    mime: String,
    reassembly: Reassembly,
    parts: js_sys::Array,
    chunks: usize,
}

/// Every transfer of this participant.
pub(super) struct FileTransfers {
    next_transfer: u32,
    /// Cancel flags of running sends, by (receiver, our transfer number).
    outgoing: HashMap<(PeerId, u32), Rc<Cell<bool>>>,
    /// Files being received, by (sender, their transfer number).
    incoming: HashMap<(PeerId, u32), Incoming>,
    max_file_bytes: u64,
    out: UseReducerDispatcher<Transfers>,
}

fn send_msg(sender: &DataSender, msg: &PeerMsg) {
    use meshmeet_protocol::ProtocolMsg as _;
    let text = msg.to_json();
    if let Err(err) = sender.send_text(&text) {
        web_sys::console::warn_1(&JsValue::from_str(&format!("files channel: {err}")));
    }
}

impl FileTransfers {
    pub(super) fn new(max_file_bytes: u64, out: UseReducerDispatcher<Transfers>) -> Self {
        FileTransfers {
            next_transfer: 1,
            outgoing: HashMap::new(),
            incoming: HashMap::new(),
            max_file_bytes,
            out,
        }
    }

    /// Uses the relay's file size limit (from its welcome).
    pub(super) fn set_max_file_bytes(&mut self, bytes: u64) {
        self.max_file_bytes = bytes;
    }

    /// Starts sending `file` to each target (peer, name, files channel).
    pub(super) fn send(&mut self, file: &File, targets: Vec<(PeerId, String, Option<DataSender>)>) {
        let size = file.size() as u64;
        for (peer, peer_name, sender) in targets {
            let transfer = self.next_transfer;
            self.next_transfer = self.next_transfer.wrapping_add(1);
            let key = TransferKey {
                peer: peer.clone(),
                transfer,
                direction: Direction::Sending,
            };
            self.out.dispatch(TransferAction::Started(Transfer {
                key: key.clone(),
                peer_name,
                name: file.name(),
                size,
                bytes: 0,
                state: TransferState::Active,
                url: None,
            }));
            let failure = if size > self.max_file_bytes {
                Some(format!(
                    "larger than the limit of {} bytes",
                    self.max_file_bytes
                ))
            } else if !sender.as_ref().is_some_and(DataSender::is_open) {
                Some("not connected to this person yet".to_owned())
            } else {
                None
            };
            match (failure, sender) {
                (None, Some(sender)) => {
                    let cancel = Rc::new(Cell::new(false));
                    self.outgoing.insert((peer, transfer), cancel.clone());
                    let job = SendJob {
                        file: file.clone(),
                        key,
                        sender,
                        cancel,
                        out: self.out.clone(),
                    };
                    spawn_local(job.run());
                }
                (why, _) => self
                    .out
                    .dispatch(TransferAction::Failed(key, why.unwrap_or_default())),
            }
        }
    }

    /// A control message from `peer` on the files channel.
    pub(super) fn on_message(
        &mut self,
        peer: &PeerId,
        peer_name: &str,
        msg: PeerMsg,
        reply: Option<DataSender>,
    ) {
        match msg {
            PeerMsg::FileOffer {
                transfer,
                name,
                size,
                mime,
            } => {
                let key = TransferKey {
                    peer: peer.clone(),
                    transfer,
                    direction: Direction::Receiving,
                };
                self.out.dispatch(TransferAction::Started(Transfer {
                    key: key.clone(),
                    peer_name: peer_name.to_owned(),
                    name,
                    size,
                    bytes: 0,
                    state: TransferState::Active,
                    url: None,
                }));
                if size > self.max_file_bytes {
                    if let Some(reply) = &reply {
                        send_msg(
                            reply,
                            &PeerMsg::FileCancel {
                                transfer,
                                by_receiver: true,
                            },
                        );
                    }
                    self.out.dispatch(TransferAction::Failed(
                        key,
                        format!("larger than the limit of {} bytes", self.max_file_bytes),
                    ));
                    return;
                }
                self.incoming.insert(
                    (peer.clone(), transfer),
                    Incoming {
                        key,
                        mime,
                        reassembly: Reassembly::new(size),
                        parts: js_sys::Array::new(),
                        chunks: 0,
                    },
                );
            }
            PeerMsg::FileEnd { transfer, sha256 } => {
                let Some(incoming) = self.incoming.remove(&(peer.clone(), transfer)) else {
                    return;
                };
                let Incoming {
                    key,
                    mime,
                    reassembly,
                    parts,
                    ..
                } = incoming;
                match reassembly.finish(&sha256) {
                    Ok(()) => match object_url(&parts, &mime) {
                        Ok(url) => self.out.dispatch(TransferAction::Completed(key, Some(url))),
                        Err(err) => self.out.dispatch(TransferAction::Failed(key, err)),
                    },
                    Err(err) => {
                        self.out
                            .dispatch(TransferAction::Failed(key, err.to_string()));
                    }
                }
            }
            PeerMsg::FileCancel {
                transfer,
                by_receiver: true,
            } => {
                if let Some(flag) = self.outgoing.remove(&(peer.clone(), transfer)) {
                    flag.set(true);
                    self.out.dispatch(TransferAction::Cancelled(TransferKey {
                        peer: peer.clone(),
                        transfer,
                        direction: Direction::Sending,
                    }));
                }
            }
            PeerMsg::FileCancel {
                transfer,
                by_receiver: false,
            } => {
                if let Some(incoming) = self.incoming.remove(&(peer.clone(), transfer)) {
                    self.out.dispatch(TransferAction::Cancelled(incoming.key));
                }
            }
            PeerMsg::Chat { .. } | PeerMsg::Prefs { .. } => {}
        }
    }

    /// A binary chunk from `peer`.
    pub(super) fn on_chunk(
        &mut self,
        peer: &PeerId,
        frame: &js_sys::Uint8Array,
        reply: Option<DataSender>,
    ) {
        let header = frame.subarray(0, 4.min(frame.length())).to_vec();
        let Some((transfer, _)) = decode_chunk(&header) else {
            return;
        };
        let id = (peer.clone(), transfer);
        let Some(incoming) = self.incoming.get_mut(&id) else {
            return; // cancelled or unknown: drop it
        };
        let data = frame.subarray(4, frame.length());
        // The bytes are copied into wasm only for hashing, one chunk at a time; the chunk
        // itself stays in JavaScript memory until the Blob is made.
        if let Err(err) = incoming.reassembly.push(&data.to_vec()) {
            let key = incoming.key.clone();
            self.incoming.remove(&id);
            if let Some(reply) = &reply {
                send_msg(
                    reply,
                    &PeerMsg::FileCancel {
                        transfer,
                        by_receiver: true,
                    },
                );
            }
            self.out
                .dispatch(TransferAction::Failed(key, err.to_string()));
            return;
        }
        incoming.parts.push(&data);
        incoming.chunks += 1;
        if incoming.chunks % PROGRESS_EVERY_CHUNKS == 0 {
            self.out.dispatch(TransferAction::Progressed(
                incoming.key.clone(),
                incoming.reassembly.received(),
            ));
        }
    }

    /// Cancels a transfer from this side.
    pub(super) fn cancel(&mut self, key: &TransferKey, channel: Option<DataSender>) {
        let id = (key.peer.clone(), key.transfer);
        let known = match key.direction {
            Direction::Sending => self
                .outgoing
                .remove(&id)
                .map(|flag| flag.set(true))
                .is_some(),
            Direction::Receiving => self.incoming.remove(&id).is_some(),
        };
        if !known {
            return;
        }
        if let Some(channel) = channel {
            send_msg(
                &channel,
                &PeerMsg::FileCancel {
                    transfer: key.transfer,
                    by_receiver: key.direction == Direction::Receiving,
                },
            );
        }
        self.out.dispatch(TransferAction::Cancelled(key.clone()));
    }

    /// `peer` left: whatever was moving to or from them failed.
    pub(super) fn peer_gone(&mut self, peer: &PeerId) {
        const WHY: &str = "the other person left";
        let out = &self.out;
        self.outgoing.retain(|(p, transfer), cancel| {
            if p != peer {
                return true;
            }
            cancel.set(true);
            let key = TransferKey {
                peer: p.clone(),
                transfer: *transfer,
                direction: Direction::Sending,
            };
            out.dispatch(TransferAction::Failed(key, WHY.into()));
            false
        });
        self.incoming.retain(|(p, _), incoming| {
            if p != peer {
                return true;
            }
            out.dispatch(TransferAction::Failed(incoming.key.clone(), WHY.into()));
            false
        });
    }
}

/// Joins the received chunks into a Blob and returns a download URL for it.
fn object_url(parts: &js_sys::Array, mime: &str) -> Result<String, String> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(parts, &options)
        .map_err(|e| crate::js::JsError::from(e).to_string())?;
    Url::create_object_url_with_blob(&blob).map_err(|e| crate::js::JsError::from(e).to_string())
}

/// One file on its way to one peer.
struct SendJob {
    file: File,
    key: TransferKey,
    sender: DataSender,
    cancel: Rc<Cell<bool>>,
    out: UseReducerDispatcher<Transfers>,
}

impl SendJob {
    async fn run(self) {
        let result = self.send().await;
        if self.cancel.get() {
            return; // the canceller already reported it
        }
        match result {
            Ok(()) => self
                .out
                .dispatch(TransferAction::Completed(self.key.clone(), None)),
            Err(why) => self
                .out
                .dispatch(TransferAction::Failed(self.key.clone(), why)),
        }
    }

    async fn send(&self) -> Result<(), String> {
        let transfer = self.key.transfer;
        let size = self.file.size() as u64;
        send_msg(
            &self.sender,
            &PeerMsg::FileOffer {
                transfer,
                name: self.file.name(),
                size,
                mime: self.file.type_(),
            },
        );
        let mut sum = Checksum::default();
        for (index, (start, end)) in chunk_ranges(size).enumerate() {
            if self.cancel.get() {
                return Ok(());
            }
            let blob = self
                .file
                .slice_with_f64_and_f64(start as f64, end as f64)
                .map_err(|e| crate::js::JsError::from(e).to_string())?;
            let buffer = JsFuture::from(blob.array_buffer())
                .await
                .map_err(|e| format!("reading the file: {}", crate::js::JsError::from(e)))?;
            let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
            sum.update(&bytes);
            self.sender
                .send_bytes(&encode_chunk(transfer, &bytes))
                .map_err(|e| e.to_string())?;
            // Backpressure: let the channel drain instead of queueing the whole file.
            if self.sender.buffered() > BUFFER_HIGH_BYTES && !self.sender.drained().await {
                return Err("the connection closed".into());
            }
            if index % PROGRESS_EVERY_CHUNKS == 0 || end == size {
                self.out
                    .dispatch(TransferAction::Progressed(self.key.clone(), end));
            }
        }
        if self.cancel.get() {
            return Ok(());
        }
        send_msg(
            &self.sender,
            &PeerMsg::FileEnd {
                transfer,
                sha256: sum.finish(),
            },
        );
        Ok(())
    }
}
