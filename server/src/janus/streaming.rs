//! A meeting's stage for its live audience, on Janus: a Streaming mountpoint that receives
//! the stage's media over RTP on loopback (the VideoRoom forwards a publisher into it with
//! `rtp_forward`), and viewers that watch it. Switching who is on the stage changes the
//! forwards, not the viewers' connections.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use super::handle::PluginHandle;
use super::videoroom::{decode, expect, field};
use super::wire::JsepKind;
use super::{random, JanusClient, JanusError, JanusRoom};
use crate::config::Secret;

/// Bytes of randomness in a mountpoint's secret and pin.
const MOUNT_SECRET_BYTES: usize = 32;
/// Where forwarded RTP goes: the mountpoint listens on loopback only.
const FORWARD_HOST: &str = "127.0.0.1";

/// A live mountpoint and the ports its forwarded media arrives on. The secret and pin stay
/// in the relay (`Debug` shows `***`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mountpoint {
    /// Janus's mountpoint id.
    pub id: u64,
    /// Needed to destroy it.
    pub secret: Secret,
    /// Needed to watch it: only viewers the relay let in can.
    pub pin: Secret,
    /// The loopback port its audio arrives on.
    pub audio_port: u16,
    /// The loopback port its video arrives on.
    pub video_port: u16,
    /// The loopback port it sends keyframe requests from (to the forward's RTCP port): a
    /// new viewer gets a key frame at once instead of waiting for the next one.
    pub video_rtcp_port: Option<u16>,
    /// The payload type it sends Opus with (forwards rewrite theirs to it).
    pub audio_pt: u8,
    /// The payload type it sends video with.
    pub video_pt: u8,
}

/// Where a forward sends a publisher's microphone and camera: loopback ports, and the
/// payload types they are rewritten to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpTarget {
    /// Where the audio goes.
    pub audio_port: u16,
    /// Where the video goes.
    pub video_port: u16,
    /// Where the forward sends its RTCP and takes keyframe requests from, if anywhere.
    pub video_rtcp_port: Option<u16>,
    /// The audio's payload type there.
    pub audio_pt: u8,
    /// The video's payload type there.
    pub video_pt: u8,
}

impl Mountpoint {
    /// Where a forward into this mountpoint sends.
    pub fn target(&self) -> RtpTarget {
        RtpTarget {
            audio_port: self.audio_port,
            video_port: self.video_port,
            video_rtcp_port: self.video_rtcp_port,
            audio_pt: self.audio_pt,
            video_pt: self.video_pt,
        }
    }
}

/// The video stream of a publisher to forward.
#[derive(Clone, Copy, Debug)]
pub struct VideoSource<'a> {
    /// Its mid in the publisher's SDP.
    pub mid: &'a str,
    /// Whether it comes in simulcast layers.
    pub simulcast: bool,
}

/// One media stream of a mountpoint, as Janus lists it after `create`.
#[derive(Debug, Deserialize)]
struct MountPort {
    #[serde(rename = "type")]
    kind: String,
    port: u16,
    #[serde(default)]
    rtcp_port: Option<u16>,
}

/// One forward of a publisher's stream, as Janus lists it after `rtp_forward`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Forward {
    /// Janus's id of the forward, to stop it.
    pub stream_id: u64,
    /// The publisher's stream (its mid).
    #[serde(default)]
    pub mid: Option<String>,
    /// The loopback port the forward takes keyframe requests on (a video forward given an
    /// RTCP port).
    #[serde(default)]
    pub local_rtcp_port: Option<u16>,
}

/// A publisher's streams forwarded into a mountpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forwarding {
    /// The publisher's feed id.
    pub feed: u64,
    /// What Janus started.
    pub forwards: Vec<Forward>,
}

impl Forwarding {
    /// Asks the publisher for a key frame through each video forward's RTCP port (an RTCP
    /// PLI, which Janus passes on). A simulcast forward sends nothing until a key frame
    /// comes, so a receiver that asks only once it has packets (ffmpeg) would wait forever
    /// for a publisher nobody else asks.
    pub fn request_keyframe(&self) -> std::io::Result<()> {
        let socket = std::net::UdpSocket::bind((FORWARD_HOST, 0))?;
        for port in self.forwards.iter().filter_map(|f| f.local_rtcp_port) {
            socket.send_to(&PLI, (FORWARD_HOST, port))?;
        }
        Ok(())
    }
}

/// An RTCP picture loss indication (RFC 4585: payload-specific feedback, format 1): Janus
/// acts on any from a forward's RTCP port, whatever its SSRCs.
const PLI: [u8; 12] = [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0];

/// A viewer's connection to a mountpoint. It derefs to its [`PluginHandle`] (events,
/// trickle, hangup); dropping it detaches it.
#[derive(Debug)]
pub struct Viewer {
    handle: PluginHandle,
}

impl std::ops::Deref for Viewer {
    type Target = PluginHandle;
    fn deref(&self) -> &PluginHandle {
        &self.handle
    }
}

impl std::ops::DerefMut for Viewer {
    fn deref_mut(&mut self) -> &mut PluginHandle {
        &mut self.handle
    }
}

impl JanusClient {
    /// Creates a private mountpoint for Opus audio and `video_codec` video (`vp8` or
    /// `h264`, what the stage publishes) fed by RTP on loopback ports Janus picks, sending
    /// them to viewers as payload types `audio_pt` and `video_pt`.
    pub async fn create_mountpoint(
        &self,
        description: &str,
        video_codec: &str,
        audio_pt: u8,
        video_pt: u8,
    ) -> Result<Mountpoint, JanusError> {
        let failed = |detail: String| JanusError::Unexpected {
            request: "create mountpoint".into(),
            detail,
        };
        let id = random::room_id().map_err(failed)?;
        let secret = Secret::from(random::hex(MOUNT_SECRET_BYTES).map_err(failed)?.as_str());
        let pin = Secret::from(random::hex(MOUNT_SECRET_BYTES).map_err(failed)?.as_str());
        let mut video = json!({
            "type": "video", "mid": "v", "label": "video", "port": 0, "pt": video_pt,
            "codec": video_codec, "iface": FORWARD_HOST,
            // A port of Janus's choosing for keyframe requests to the forward.
            "rtcpport": 0,
        });
        if video_codec == "h264" {
            video["fmtp"] = json!("profile-level-id=42e01f;packetization-mode=1");
        }
        let body = json!({
            "request": "create",
            "admin_key": self.admin_key.expose(),
            "type": "rtp",
            "id": id,
            "description": description,
            "secret": secret.expose(),
            "pin": pin.expose(),
            "is_private": true,
            "permanent": false,
            "media": [
                { "type": "audio", "mid": "a", "label": "audio", "port": 0, "pt": audio_pt,
                  "codec": "opus", "iface": FORWARD_HOST },
                video,
            ],
        });
        let data = self.streaming("create", &body).await?;
        expect(&data, "create", "created")?;
        let stream = field(&data, "stream");
        if stream.get("id").and_then(Value::as_u64) != Some(id) {
            return Err(failed(format!(
                "created another mountpoint than {id}: {data}"
            )));
        }
        let ports: Vec<MountPort> = decode(field(&stream, "ports"), "create mountpoint")?;
        let port_of = |kind: &str| {
            ports
                .iter()
                .find(|p| p.kind == kind && p.port != 0)
                .map(|p| p.port)
                .ok_or_else(|| failed(format!("no {kind} port in {data}")))
        };
        Ok(Mountpoint {
            id,
            audio_port: port_of("audio")?,
            video_port: port_of("video")?,
            video_rtcp_port: ports
                .iter()
                .find(|p| p.kind == "video")
                .and_then(|p| p.rtcp_port)
                .filter(|port| *port != 0),
            audio_pt,
            video_pt,
            secret,
            pin,
        })
    }

    /// The ids of every mountpoint on this Janus, private ones included (the admin key lets
    /// the relay see them): to check that a live left nothing behind.
    pub async fn mountpoint_ids(&self) -> Result<Vec<u64>, JanusError> {
        #[derive(Deserialize)]
        struct Listed {
            id: u64,
        }
        let body = json!({ "request": "list", "admin_key": self.admin_key.expose() });
        let data = self.streaming("list", &body).await?;
        expect(&data, "list", "list")?;
        let listed: Vec<Listed> = decode(field(&data, "list"), "list")?;
        Ok(listed.into_iter().map(|m| m.id).collect())
    }

    /// Destroys `mount`; its viewers are hung up.
    pub async fn destroy_mountpoint(&self, mount: &Mountpoint) -> Result<(), JanusError> {
        let body = json!({
            "request": "destroy",
            "id": mount.id,
            "secret": mount.secret.expose(),
            "permanent": false,
        });
        let data = self.streaming("destroy", &body).await?;
        expect(&data, "destroy", "destroyed")
    }

    /// Forwards publisher `feed`'s audio (`audio_mid`) and video (its highest simulcast
    /// layer, if it has layers) in `room` to `target` on loopback (a mountpoint, an
    /// encoder).
    pub async fn forward_rtp(
        &self,
        room: &JanusRoom,
        feed: u64,
        audio_mid: Option<&str>,
        video: Option<VideoSource<'_>>,
        target: &RtpTarget,
    ) -> Result<Forwarding, JanusError> {
        let mut streams = Vec::new();
        if let Some(mid) = audio_mid {
            streams.push(json!({ "mid": mid, "port": target.audio_port, "pt": target.audio_pt }));
        }
        if let Some(video) = video {
            let mut stream = json!({
                "mid": video.mid, "port": target.video_port, "pt": target.video_pt,
            });
            if video.simulcast {
                // One stream of the layers, switched by Janus on key frames: the highest.
                // Only for layers: Janus 1.1.2 knows no SSRC of a single-layer stream
                // (an encoder's, Safari's) to switch on, and such a forward sends nothing.
                stream["simulcast"] = json!(true);
                stream["substream"] = json!(2);
            }
            if let Some(rtcp_port) = target.video_rtcp_port {
                // Keyframe requests from the receiver reach the publisher through it.
                stream["rtcp_port"] = json!(rtcp_port);
            }
            streams.push(stream);
        }
        let body = json!({
            "request": "rtp_forward",
            "admin_key": self.admin_key.expose(),
            "secret": room.secret.expose(),
            "room": room.id,
            "publisher_id": feed,
            "host": FORWARD_HOST,
            "streams": streams,
        });
        let data = self.videoroom("rtp_forward", &body).await?;
        expect(&data, "rtp_forward", "rtp_forward")?;
        let forwards = decode(field(&data, "forwarders"), "rtp_forward")?;
        Ok(Forwarding { feed, forwards })
    }

    /// Stops the forwards of `forwarding` (those Janus still has: a publisher that left
    /// took its forwards with it).
    pub async fn stop_forwarding(
        &self,
        room: &JanusRoom,
        forwarding: &Forwarding,
    ) -> Result<(), JanusError> {
        for forward in &forwarding.forwards {
            let body = json!({
                "request": "stop_rtp_forward",
                "admin_key": self.admin_key.expose(),
                "secret": room.secret.expose(),
                "room": room.id,
                "publisher_id": forwarding.feed,
                "stream_id": forward.stream_id,
            });
            match self.videoroom("stop_rtp_forward", &body).await {
                Ok(data) => expect(&data, "stop_rtp_forward", "stop_rtp_forward")?,
                // No such feed or forward: gone already, which is what was wanted.
                Err(JanusError::Refused {
                    code: 428 | 453, ..
                }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// A viewer of `mount` on a new handle: the viewer and Janus's SDP offer, to be
    /// answered with [`PluginHandle::start`]. (Janus 1.1's Streaming plugin makes the offer
    /// itself: it ignores one from the viewer, which WHEP players send.)
    pub async fn watch(
        self: &Arc<Self>,
        mount: &Mountpoint,
    ) -> Result<(Viewer, String), JanusError> {
        let handle = PluginHandle::attach_to(self, super::client::STREAMING_PLUGIN).await?;
        let body = json!({
            "request": "watch",
            "id": mount.id,
            "pin": mount.pin.expose(),
        });
        // On failure, the handle is dropped, which detaches it.
        let (_, offer) = handle
            .request("watch", &body, None, "event", Some(JsepKind::Offer))
            .await?;
        let offer = offer.ok_or_else(|| JanusError::Unexpected {
            request: "watch".into(),
            detail: "no offer".into(),
        })?;
        Ok((Viewer { handle }, offer))
    }
}
