//! What someone who controls the media server can do, for the end-to-end encryption test: a
//! tap in front of Janus's API port reads the relay's requests on the wire (and so each
//! room's id and secret), and with them a client of its own asks Janus to forward a
//! publisher's RTP to a local port, as the live feature does, where the test records it.

use crate::{Error, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value as Json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// How long one request to Janus may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What one connection's client sent so far.
type Sent = Arc<Mutex<Vec<u8>>>;

/// A TCP tap in front of Janus: forwards every connection and keeps what the client (the
/// relay) sent. Dropping it stops it and cuts every connection.
pub struct JanusTap {
    addr: SocketAddr,
    sent: Arc<Mutex<Vec<Sent>>>,
    acceptor: JoinHandle<()>,
}

impl JanusTap {
    /// Listens on 127.0.0.1 and forwards to Janus's API on `janus_port`.
    pub async fn start(janus_port: u16) -> Result<JanusTap> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
        let kept = Arc::clone(&sent);
        let acceptor = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let buffer = Arc::new(Mutex::new(Vec::new()));
                kept.lock().unwrap().push(Arc::clone(&buffer));
                tokio::spawn(tap(inbound, janus_port, buffer));
            }
        });
        Ok(JanusTap {
            addr,
            sent,
            acceptor,
        })
    }

    /// The tap's URL, for the relay's `--janus-url`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Every JSON text message the relay sent to Janus so far, in order per connection.
    pub fn requests(&self) -> Vec<Json> {
        let buffers: Vec<Vec<u8>> = self
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|b| b.lock().unwrap().clone())
            .collect();
        buffers
            .iter()
            .flat_map(|bytes| client_texts(bytes))
            .filter_map(|text| serde_json::from_str(&text).ok())
            .collect()
    }

    /// The id and secret of every VideoRoom room the relay created, oldest first.
    pub fn room_secrets(&self) -> Vec<(u64, String)> {
        self.requests()
            .iter()
            .filter_map(|msg| {
                let body = msg.get("body")?;
                if body.get("request")?.as_str()? != "create" {
                    return None;
                }
                Some((
                    body.get("room")?.as_u64()?,
                    body.get("secret")?.as_str()?.to_owned(),
                ))
            })
            .collect()
    }
}

impl Drop for JanusTap {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

/// Copies `inbound` to Janus and back, keeping a copy of what `inbound` sends.
async fn tap(mut inbound: TcpStream, janus_port: u16, sent: Sent) {
    let Ok(outbound) = TcpStream::connect(("127.0.0.1", janus_port)).await else {
        return;
    };
    let (mut from_relay, mut to_relay) = inbound.split();
    let (mut from_janus, mut to_janus) = outbound.into_split();
    let upstream = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from_relay.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    sent.lock().unwrap().extend_from_slice(&buf[..n]);
                    if to_janus.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to_janus.shutdown().await;
    };
    let downstream = async {
        let _ = tokio::io::copy(&mut from_janus, &mut to_relay).await;
    };
    tokio::join!(upstream, downstream);
}

/// The text messages in a WebSocket client's byte stream: the HTTP upgrade request, then
/// masked frames (RFC 6455 §5.2). Fragmented messages are joined.
pub fn client_texts(bytes: &[u8]) -> Vec<String> {
    let Some(start) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Vec::new();
    };
    let mut at = start + 4;
    let mut texts = Vec::new();
    let mut message = Vec::new();
    while let Some((frame, used)) = frame_at(&bytes[at..]) {
        at += used;
        if frame.opcode == 1 || frame.opcode == 0 {
            message.extend_from_slice(&frame.payload);
            if frame.fin {
                texts.push(String::from_utf8_lossy(&message).into_owned());
                message.clear();
            }
        }
    }
    texts
}

struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// The frame at the start of `bytes` and its length, if it is all there.
fn frame_at(bytes: &[u8]) -> Option<(Frame, usize)> {
    let (&b0, &b1) = (bytes.first()?, bytes.get(1)?);
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7f {
        126 => (
            u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let mask: Option<[u8; 4]> = if masked {
        let key = bytes.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(key)
    } else {
        None
    };
    let mut payload = bytes.get(at..at + len)?.to_vec();
    if let Some(mask) = mask {
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
    }
    let frame = Frame {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0f,
        payload,
    };
    Some((frame, at + len))
}

/// A client of Janus's API of our own, attached to the VideoRoom plugin.
pub struct JanusOperator {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    session: u64,
    handle: u64,
    next: u64,
}

impl JanusOperator {
    /// Connects to Janus's API on `port` and attaches to the VideoRoom plugin.
    pub async fn connect(port: u16) -> Result<JanusOperator> {
        let mut request = format!("ws://127.0.0.1:{port}")
            .into_client_request()
            .map_err(|e| Error::new(format!("janus request: {e}")))?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            http::HeaderValue::from_static("janus-protocol"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| Error::new(format!("connecting to Janus: {e}")))?;
        let mut operator = JanusOperator {
            socket,
            session: 0,
            handle: 0,
            next: 0,
        };
        let created = operator.call(json!({"janus": "create"})).await?;
        operator.session = id_of(&created)?;
        let attached = operator
            .call(json!({"janus": "attach", "session_id": operator.session,
                         "plugin": "janus.plugin.videoroom"}))
            .await?;
        operator.handle = id_of(&attached)?;
        Ok(operator)
    }

    /// Sends a VideoRoom request, answered synchronously: the plugin's data.
    pub async fn videoroom(&mut self, body: Json) -> Result<Json> {
        let reply = self
            .call(json!({"janus": "message", "session_id": self.session,
                         "handle_id": self.handle, "body": body}))
            .await?;
        let data = reply["plugindata"]["data"].clone();
        if data.get("error").is_some() {
            return Err(Error::new(format!("Janus refused: {data}")));
        }
        Ok(data)
    }

    /// The ids of the publishers in `room` whose display name (the relay's peer id) is
    /// `display`.
    pub async fn publisher(&mut self, room: u64, display: &str) -> Result<u64> {
        let data = self
            .videoroom(json!({"request": "listparticipants", "room": room}))
            .await?;
        data["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["display"].as_str() == Some(display) && p["publisher"] == json!(true))
            .and_then(|p| p["id"].as_u64())
            .ok_or_else(|| Error::new(format!("no publisher {display} in room {room}: {data}")))
    }

    /// Forwards `publisher`'s microphone (mid `0`) and camera (mid `1`, meshmeet's
    /// publisher order) in `room` (secret `secret`, admin key `admin_key`) as plain RTP to
    /// 127.0.0.1: audio (payload type 111) to `audio_port`, video (96) to `video_ports`, one
    /// per simulcast layer (a camera as small as the tests' sends only one, the last).
    /// Returns the ports where Janus takes RTCP feedback for the video (see [`pli`]).
    pub async fn forward(
        &mut self,
        room: u64,
        secret: &str,
        admin_key: &str,
        publisher: u64,
        audio_port: u16,
        video_ports: [u16; 3],
    ) -> Result<Vec<u16>> {
        let [low, mid, high] = video_ports;
        let data = self
            .videoroom(json!({
                "request": "rtp_forward", "room": room, "secret": secret,
                "admin_key": admin_key, "publisher_id": publisher, "host": "127.0.0.1",
                "streams": [
                    {"mid": "0", "port": audio_port, "pt": 111},
                    {"mid": "1", "port": low, "pt": 96, "port_2": mid, "pt_2": 96,
                     "port_3": high, "pt_3": 96, "rtcp_port": low},
                ],
            }))
            .await?;
        Ok(data["forwarders"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["local_rtcp_port"].as_u64()?.try_into().ok())
            .collect())
    }

    /// Sends `msg` with a new transaction and waits for the reply to it (events of other
    /// transactions are skipped).
    async fn call(&mut self, mut msg: Json) -> Result<Json> {
        self.next += 1;
        let transaction = format!("op{}", self.next);
        msg["transaction"] = json!(transaction);
        self.socket
            .send(Message::text(msg.to_string()))
            .await
            .map_err(|e| Error::new(format!("sending to Janus: {e}")))?;
        let wait = async {
            while let Some(frame) = self.socket.next().await {
                let frame = frame.map_err(|e| Error::new(format!("reading Janus: {e}")))?;
                let Message::Text(text) = frame else {
                    continue;
                };
                let reply: Json = serde_json::from_str(&text)?;
                if reply["transaction"] == json!(transaction) && reply["janus"] != json!("ack") {
                    return Ok(reply);
                }
            }
            Err(Error::new("Janus closed the API socket"))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, wait)
            .await
            .map_err(|_| Error::new(format!("Janus did not answer {msg}")))?
    }
}

fn id_of(reply: &Json) -> Result<u64> {
    reply["data"]["id"]
        .as_u64()
        .ok_or_else(|| Error::new(format!("Janus gave no id: {reply}")))
}

/// The payload of an RTP packet (after the CSRCs and any header extension, without
/// padding), or `None` for something that is not RTP version 2.
pub fn rtp_payload(packet: &[u8]) -> Option<&[u8]> {
    let (&b0, _) = (packet.first()?, packet.get(1)?);
    if b0 >> 6 != 2 {
        return None;
    }
    let mut at = 12 + 4 * usize::from(b0 & 0x0f);
    if b0 & 0x10 != 0 {
        let words = u16::from_be_bytes([*packet.get(at + 2)?, *packet.get(at + 3)?]);
        at += 4 + 4 * usize::from(words);
    }
    let mut end = packet.len();
    if b0 & 0x20 != 0 {
        end = end.checked_sub(usize::from(*packet.last()?))?;
    }
    packet.get(at..end)
}

/// An RTCP picture loss indication (RFC 4585 §6.3.1): sent to a forwarder's RTCP port, it
/// makes Janus ask the publisher for a key frame.
pub fn pli() -> [u8; 12] {
    [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0]
}

/// Reassembles VP8 frames from RTP packets (RFC 7741) into an IVF file ffmpeg reads:
/// packets of one timestamp make a frame, which starts with a packet whose descriptor has
/// S set and partition 0. Frames missing their start are dropped.
pub fn vp8_ivf(packets: &[Vec<u8>]) -> (Vec<u8>, usize) {
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<(u32, Vec<u8>)> = None;
    for packet in packets {
        let (Some(payload), Some(ts)) = (rtp_payload(packet), packet.get(4..8)) else {
            continue;
        };
        let ts = u32::from_be_bytes([ts[0], ts[1], ts[2], ts[3]]);
        let Some((start, data)) = vp8_descriptor(payload) else {
            continue;
        };
        match &mut current {
            Some((at, frame)) if *at == ts && !start => frame.extend_from_slice(data),
            _ => {
                if let Some((_, frame)) = current.take() {
                    frames.push(frame);
                }
                if start {
                    current = Some((ts, data.to_vec()));
                }
            }
        }
    }
    if let Some((_, frame)) = current {
        frames.push(frame);
    }
    let mut ivf = Vec::new();
    ivf.extend_from_slice(b"DKIF");
    ivf.extend_from_slice(&0u16.to_le_bytes());
    ivf.extend_from_slice(&32u16.to_le_bytes());
    ivf.extend_from_slice(b"VP80");
    ivf.extend_from_slice(&160u16.to_le_bytes());
    ivf.extend_from_slice(&90u16.to_le_bytes());
    ivf.extend_from_slice(&5u32.to_le_bytes());
    ivf.extend_from_slice(&1u32.to_le_bytes());
    ivf.extend_from_slice(&(frames.len() as u32).to_le_bytes());
    ivf.extend_from_slice(&0u32.to_le_bytes());
    for (pts, frame) in frames.iter().enumerate() {
        ivf.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        ivf.extend_from_slice(&(pts as u64).to_le_bytes());
        ivf.extend_from_slice(frame);
    }
    (ivf, frames.len())
}

/// Whether a VP8 RTP payload starts a frame, and the VP8 data after its descriptor.
fn vp8_descriptor(payload: &[u8]) -> Option<(bool, &[u8])> {
    let b0 = *payload.first()?;
    let start = b0 & 0x10 != 0 && b0 & 0x07 == 0;
    let mut at = 1;
    if b0 & 0x80 != 0 {
        let x = *payload.get(1)?;
        at = 2;
        if x & 0x80 != 0 {
            at += if payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            at += 1;
        }
        if x & 0x30 != 0 {
            at += 1;
        }
    }
    Some((start, payload.get(at..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_client_frames_are_read_back_as_texts() {
        let mut bytes = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        for text in ["{\"a\":1}", &"x".repeat(300)] {
            let mask = [1u8, 2, 3, 4];
            bytes.push(0x81);
            if text.len() < 126 {
                bytes.push(0x80 | text.len() as u8);
            } else {
                bytes.push(0x80 | 126);
                bytes.extend_from_slice(&(text.len() as u16).to_be_bytes());
            }
            bytes.extend_from_slice(&mask);
            bytes.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        }
        // A frame cut short is not read.
        bytes.extend_from_slice(&[0x81, 0x85, 0, 0]);
        assert_eq!(
            client_texts(&bytes),
            vec!["{\"a\":1}".to_owned(), "x".repeat(300)]
        );
    }

    #[test]
    fn an_rtp_payload_skips_csrcs_and_extensions_and_drops_padding() {
        let mut packet = vec![0xb1, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2];
        packet.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        packet.extend_from_slice(&[0xbe, 0xde, 0, 1, 7, 7, 7, 7]); // one extension word
        packet.extend_from_slice(&[42, 43]);
        packet.extend_from_slice(&[0, 2]); // two bytes of padding
        assert_eq!(rtp_payload(&packet), Some(&[42u8, 43][..]));
        assert_eq!(rtp_payload(&[0x40, 0]), None);
    }
}
