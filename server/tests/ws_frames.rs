//! WebSocket frames that break RFC 6455, written byte by byte: each closes its connection
//! with 1002 (protocol error) and the participant's room goes on undisturbed.

mod support;

use meshmeet_protocol::ServerMsg;
use support::{join_msg, test_config, TestRelay, RECV_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TEXT: u8 = 0x1;
const CONTINUATION: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const RSV1: u8 = 0x40;

/// One client frame: `first` is the FIN/RSV/opcode byte; masked unless `masked` is false.
fn frame(first: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

const FIN: u8 = 0x80;

/// A raw WebSocket connection: the handshake done by hand, frames read one at a time.
struct Raw {
    stream: TcpStream,
    buffered: Vec<u8>,
}

impl Raw {
    async fn open(relay: &TestRelay) -> Raw {
        let mut stream = TcpStream::connect(relay.addr).await.expect("connect");
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            relay.addr
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut raw = Raw {
            stream,
            buffered: Vec::new(),
        };
        let head = raw.read_until_blank_line().await;
        assert!(
            head.starts_with("HTTP/1.1 101"),
            "the upgrade was refused: {head}"
        );
        raw
    }

    async fn read_more(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(RECV_TIMEOUT, self.stream.read(&mut chunk))
            .await
            .expect("the relay answered in time")
            .unwrap_or(0);
        self.buffered.extend_from_slice(&chunk[..n]);
        n > 0
    }

    async fn read_until_blank_line(&mut self) -> String {
        loop {
            if let Some(end) = self.buffered.windows(4).position(|w| w == b"\r\n\r\n") {
                let head: Vec<u8> = self.buffered.drain(..end + 4).collect();
                return String::from_utf8_lossy(&head).into_owned();
            }
            assert!(
                self.read_more().await,
                "connection closed during the handshake"
            );
        }
    }

    /// The next server frame as (opcode, payload), or `None` once the connection ends.
    async fn next_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if let Some((len, header)) = parse_server_header(&self.buffered) {
                if self.buffered.len() >= header + len {
                    let opcode = self.buffered[0] & 0x0f;
                    let all: Vec<u8> = self.buffered.drain(..header + len).collect();
                    return Some((opcode, all[header..].to_vec()));
                }
            }
            if !self.read_more().await {
                return None;
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write frame");
    }

    /// Sends a masked text frame.
    async fn send_text(&mut self, text: &str) {
        self.send(&frame(FIN | TEXT, true, text.as_bytes())).await;
    }

    /// The close code the relay ended the connection with, skipping data frames before it.
    async fn close_code(&mut self) -> Option<u16> {
        while let Some((opcode, payload)) = self.next_frame().await {
            if opcode == CLOSE {
                return payload
                    .get(..2)
                    .map(|code| u16::from_be_bytes([code[0], code[1]]));
            }
        }
        None
    }
}

/// (payload length, header length) of an unmasked server frame, once its header is complete.
fn parse_server_header(bytes: &[u8]) -> Option<(usize, usize)> {
    let short = usize::from(*bytes.get(1)? & 0x7f);
    match short {
        126 => Some((
            usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])),
            4,
        )),
        127 => {
            let raw: [u8; 8] = bytes.get(2..10)?.try_into().ok()?;
            Some((usize::try_from(u64::from_be_bytes(raw)).ok()?, 10))
        }
        n => Some((n, 2)),
    }
}

fn violations() -> Vec<(&'static str, Vec<u8>)> {
    let ping_json = br#"{"type":"ping","nonce":1}"#;
    vec![
        (
            "an unmasked client frame",
            frame(FIN | TEXT, false, ping_json),
        ),
        (
            "a reserved bit without an extension",
            frame(FIN | RSV1 | TEXT, true, ping_json),
        ),
        ("a reserved opcode", frame(FIN | 0x3, true, ping_json)),
        (
            "a continuation without a start",
            frame(FIN | CONTINUATION, true, ping_json),
        ),
        ("a ping of 126 bytes", frame(FIN | PING, true, &[b'x'; 126])),
        ("a fragmented ping", frame(PING, true, b"ping")),
        (
            "a close frame of one byte",
            frame(FIN | CLOSE, true, &[0x03]),
        ),
    ]
}

#[tokio::test]
async fn frames_that_break_rfc_6455_close_with_1002_and_the_room_goes_on() {
    let relay = TestRelay::start(test_config()).await;
    let (mut neighbour, _) = relay.join("frames", "Neighbour").await;
    for (nonce, (what, bytes)) in (1u64..).zip(violations()) {
        let mut raw = Raw::open(&relay).await;
        let join = serde_json::to_string(&join_msg("frames", "Raw")).expect("serialise");
        raw.send_text(&join).await;
        let (opcode, welcome) = raw.next_frame().await.expect("a welcome frame");
        assert_eq!(opcode, TEXT, "{what}: the first answer is a text frame");
        assert!(
            String::from_utf8_lossy(&welcome).contains(r#""type":"welcome""#),
            "{what}: joined before the bad frame"
        );
        assert!(matches!(
            neighbour.recv().await,
            ServerMsg::PeerJoined { .. }
        ));

        raw.send(&bytes).await;
        assert_eq!(raw.close_code().await, Some(1002), "{what}: close code");
        assert!(
            matches!(neighbour.recv().await, ServerMsg::PeerLeft { .. }),
            "{what}: the neighbour is told the raw participant left"
        );
        neighbour.assert_alive(nonce).await;
    }
}
