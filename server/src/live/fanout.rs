//! The composite of a stage of several, for the WebRTC audience: ffmpeg sends one VP8 and one
//! Opus RTP stream to two loopback sockets of the relay, which copies every packet into each
//! of the live's mountpoints with the payload type that mountpoint's viewers negotiated
//! (one encode for every kind of viewer offer).

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tracing::warn;

use super::encoder::loopback_pair;
use super::encoder_plan::AudiencePorts;
use crate::janus::RtpTarget;

/// Largest datagram taken (ffmpeg sends at most 1,200 bytes; more is not RTP from it).
const MAX_PACKET: usize = 1500;

/// The relay's sockets for the audience's composite and the task copying it. Dropping it
/// stops the copying and frees the ports.
#[derive(Debug)]
pub struct Fanout {
    ports: AudiencePorts,
    targets: Arc<Mutex<Vec<RtpTarget>>>,
    task: JoinHandle<()>,
}

impl Fanout {
    /// Binds the sockets (each with the next port for ffmpeg's RTCP, taken and ignored) and
    /// starts copying to nobody yet.
    pub fn bind() -> io::Result<Fanout> {
        let (audio, audio_rtcp) = loopback_pair(&[])?;
        let audio_port = audio.local_addr()?.port();
        let (video, video_rtcp) = loopback_pair(&[audio_port])?;
        let ports = AudiencePorts {
            audio: audio_port,
            video: video.local_addr()?.port(),
        };
        let tokio_socket = |socket: std::net::UdpSocket| {
            socket.set_nonblocking(true)?;
            UdpSocket::from_std(socket)
        };
        let audio = tokio_socket(audio)?;
        let video = tokio_socket(video)?;
        let out = tokio_socket(std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?)?;
        let targets = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(copy(
            audio,
            video,
            out,
            Arc::clone(&targets),
            // Held while copying: nobody else gets ffmpeg's RTCP ports.
            (audio_rtcp, video_rtcp),
        ));
        Ok(Fanout {
            ports,
            targets,
            task,
        })
    }

    /// Where ffmpeg sends the composite.
    pub fn ports(&self) -> AudiencePorts {
        self.ports
    }

    /// The mountpoints to copy into from now on.
    pub fn set_targets(&self, targets: Vec<RtpTarget>) {
        *self.targets.lock().unwrap_or_else(PoisonError::into_inner) = targets;
    }
}

impl Drop for Fanout {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which of a target's ports and payload types a packet goes to.
#[derive(Clone, Copy)]
enum Kind {
    Audio,
    Video,
}

async fn copy(
    audio: UdpSocket,
    video: UdpSocket,
    out: UdpSocket,
    targets: Arc<Mutex<Vec<RtpTarget>>>,
    _rtcp: (std::net::UdpSocket, std::net::UdpSocket),
) {
    let mut audio_buf = [0u8; MAX_PACKET];
    let mut video_buf = [0u8; MAX_PACKET];
    loop {
        let (received, buf, kind) = tokio::select! {
            r = audio.recv_from(&mut audio_buf) => (r, &mut audio_buf, Kind::Audio),
            r = video.recv_from(&mut video_buf) => (r, &mut video_buf, Kind::Video),
        };
        match received {
            Ok((len, from)) => {
                let targets = targets
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                relay(&mut buf[..len], from, kind, &targets, &out);
            }
            Err(err) => {
                // An ICMP error from an earlier send, or a socket gone: go on unless gone.
                if err.kind() != io::ErrorKind::ConnectionRefused {
                    warn!(%err, "the live's composite could not be read");
                    return;
                }
            }
        }
    }
}

/// Sends `packet` to every target with its payload type, if it is RTP from this machine.
fn relay(packet: &mut [u8], from: SocketAddr, kind: Kind, targets: &[RtpTarget], out: &UdpSocket) {
    if !from.ip().is_loopback() || !is_rtp(packet) {
        return;
    }
    for target in targets {
        let (port, pt) = match kind {
            Kind::Audio => (target.audio_port, target.audio_pt),
            Kind::Video => (target.video_port, target.video_pt),
        };
        set_payload_type(packet, pt);
        // A full socket buffer drops the packet for this mountpoint, as the network would.
        let _ = out.try_send_to(packet, SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
}

/// An RTP packet: version 2, a full header.
fn is_rtp(packet: &[u8]) -> bool {
    packet.len() >= 12 && packet[0] >> 6 == 2
}

/// Rewrites the payload type, keeping the marker bit.
fn set_payload_type(packet: &mut [u8], pt: u8) {
    if let Some(byte) = packet.get_mut(1) {
        *byte = (*byte & 0x80) | (pt & 0x7f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn target(audio_port: u16, video_port: u16, audio_pt: u8, video_pt: u8) -> RtpTarget {
        RtpTarget {
            audio_port,
            video_port,
            video_rtcp_port: None,
            audio_pt,
            video_pt,
        }
    }

    async fn receiver() -> (UdpSocket, u16) {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("a socket");
        let port = socket.local_addr().expect("its address").port();
        (socket, port)
    }

    async fn next(socket: &UdpSocket) -> Vec<u8> {
        let mut buf = [0u8; MAX_PACKET];
        let (len, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
            .await
            .expect("a packet in time")
            .expect("a packet");
        buf[..len].to_vec()
    }

    #[tokio::test]
    async fn each_mountpoint_gets_every_packet_with_its_own_payload_types() {
        let fanout = Fanout::bind().expect("bound");
        let ports = fanout.ports();
        let (firefox_audio, fa) = receiver().await;
        let (firefox_video, fv) = receiver().await;
        let (chromium_video, cv) = receiver().await;
        let (chromium_audio, ca) = receiver().await;
        fanout.set_targets(vec![target(fa, fv, 109, 120), target(ca, cv, 111, 96)]);
        let ffmpeg = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("a sender");
        // VP8 with the marker bit, payload type 96, then Opus 111.
        let mut video = vec![0x80, 0x80 | 96, 0, 1, 0, 0, 0, 9, 0, 0, 0, 7];
        video.extend_from_slice(b"frame");
        ffmpeg
            .send_to(&video, (Ipv4Addr::LOCALHOST, ports.video))
            .expect("sent");
        let got = next(&firefox_video).await;
        assert_eq!(
            got[1],
            0x80 | 120,
            "the marker kept, the payload type Firefox's"
        );
        assert_eq!(&got[2..], &video[2..]);
        assert_eq!(next(&chromium_video).await[1], 0x80 | 96);
        let audio = [0x80, 111, 0, 1, 0, 0, 0, 9, 0, 0, 0, 8, 1, 2];
        ffmpeg
            .send_to(&audio, (Ipv4Addr::LOCALHOST, ports.audio))
            .expect("sent");
        assert_eq!(next(&firefox_audio).await[1], 109);
        assert_eq!(next(&chromium_audio).await[1], 111);
    }

    #[tokio::test]
    async fn what_is_not_rtp_goes_nowhere() {
        let fanout = Fanout::bind().expect("bound");
        let (video_in, port) = receiver().await;
        fanout.set_targets(vec![target(1, port, 111, 96)]);
        let sender = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("a sender");
        let ports = fanout.ports();
        // Too short, then version 1: dropped; a real packet after them arrives first.
        sender
            .send_to(&[0x80, 96, 0], (Ipv4Addr::LOCALHOST, ports.video))
            .expect("sent");
        let mut old = vec![0x40, 96];
        old.extend_from_slice(&[0; 10]);
        sender
            .send_to(&old, (Ipv4Addr::LOCALHOST, ports.video))
            .expect("sent");
        let mut rtp = vec![0x80, 96];
        rtp.extend_from_slice(&[7; 10]);
        sender
            .send_to(&rtp, (Ipv4Addr::LOCALHOST, ports.video))
            .expect("sent");
        assert_eq!(next(&video_in).await, rtp);
    }
}
