//! A real WebRTC endpoint for the Janus tests (str0m: ICE and DTLS, no media sent): Janus
//! only announces a publisher, lets others subscribe to it and says `webrtcup` once its
//! connection is up, which hand-written SDP cannot do. It runs on its own thread, on the
//! address Janus offers its host candidate on (the same machine), until dropped.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Input, Output, Rtc};

/// A publisher that has made its offer and waits for Janus's answer.
pub struct Offering {
    rtc: Rtc,
    pending: SdpPendingOffer,
    mids: Vec<String>,
    /// The socket and candidate its offer already carries (a WHIP encoder's).
    bound: Option<(UdpSocket, Candidate)>,
}

/// A connection running on its own thread until dropped.
pub struct Running {
    /// The local candidate (`candidate:…`), to trickle to Janus.
    pub candidate: String,
    /// The mids of its offer, in order (str0m makes them up), where it made the offer.
    pub mids: Vec<String>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A publisher's offer: one audio and one video stream, send-only.
pub fn publisher_offer() -> (Offering, String) {
    offering(Direction::SendOnly)
}

/// An offer of one audio and one video stream in `direction`.
fn offering(direction: Direction) -> (Offering, String) {
    let mut rtc = Rtc::new(Instant::now());
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, direction, None, None, None);
    change.add_media(MediaKind::Video, direction, None, None, None);
    let (offer, pending) = change.apply().expect("an offer");
    let offer = offer.to_sdp_string();
    let mids = offer
        .lines()
        .filter_map(|line| line.strip_prefix("a=mid:"))
        .map(|mid| mid.trim().to_owned())
        .collect();
    (
        Offering {
            rtc,
            pending,
            mids,
            bound: None,
        },
        offer,
    )
}

/// An encoder's offer, as WHIP needs it: one audio and one video stream, send-only, with its
/// host candidate in the offer (nothing is trickled). The candidate is on the address this
/// machine would reach others from (Janus offers those), or on loopback without a route.
pub fn complete_publisher_offer() -> (Offering, String) {
    let ip = UdpSocket::bind("0.0.0.0:0")
        .and_then(|probe| {
            // No packet is sent: connecting a UDP socket only picks the route.
            probe.connect("10.255.255.255:9")?;
            probe.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind a UDP socket");
    let address = socket.local_addr().expect("local address");
    let candidate = Candidate::host(address, "udp").expect("a host candidate");
    let mut rtc = Rtc::new(Instant::now());
    rtc.add_local_candidate(candidate.clone());
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
    let (offer, pending) = change.apply().expect("an offer");
    let offer = offer.to_sdp_string();
    assert!(
        offer.contains("a=candidate:"),
        "the offer carries its candidate:\n{offer}"
    );
    (
        Offering {
            rtc,
            pending,
            mids: Vec::new(),
            bound: Some((socket, candidate)),
        },
        offer,
    )
}

/// A viewer's offer, as a WHEP player makes it: one audio and one video stream, receive
/// only.
pub fn viewer_offer() -> (Offering, String) {
    offering(Direction::RecvOnly)
}

impl Offering {
    /// Takes Janus's answer and connects (its candidates are in the answer).
    pub fn connect(mut self, answer: &str) -> Running {
        let (socket, candidate) = match self.bound.take() {
            Some(bound) => bound,
            None => {
                let (socket, candidate) = bind_near(answer);
                self.rtc.add_local_candidate(candidate.clone());
                (socket, candidate)
            }
        };
        drain(&mut self.rtc, &socket);
        let answer = SdpAnswer::from_sdp_string(answer).expect("Janus's answer parses");
        self.rtc
            .sdp_api()
            .accept_answer(self.pending, answer)
            .expect("Janus's answer is accepted");
        let mut running = run(self.rtc, socket, candidate);
        running.mids = self.mids;
        running
    }
}

/// A subscriber answering Janus's `offer` and connecting: the running peer and its answer.
pub fn answer_and_connect(offer: &str) -> (Running, String) {
    let mut rtc = Rtc::new(Instant::now());
    let (socket, candidate) = bind_near(offer);
    rtc.add_local_candidate(candidate.clone());
    drain(&mut rtc, &socket);
    let offer = SdpOffer::from_sdp_string(offer).expect("Janus's offer parses");
    let answer = rtc.sdp_api().accept_offer(offer).expect("an answer");
    (run(rtc, socket, candidate), answer.to_sdp_string())
}

/// A UDP socket on the address of the first candidate in `sdp`, and its host candidate.
fn bind_near(sdp: &str) -> (UdpSocket, Candidate) {
    let ip: IpAddr = sdp
        .lines()
        .find_map(|line| line.strip_prefix("a=candidate:"))
        .and_then(|line| line.split_whitespace().nth(4))
        .and_then(|ip| ip.parse().ok())
        .unwrap_or_else(|| panic!("no candidate address in Janus's SDP:\n{sdp}"));
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind a UDP socket");
    let address = socket.local_addr().expect("local address");
    let candidate = Candidate::host(address, "udp").expect("a host candidate");
    (socket, candidate)
}

fn run(mut rtc: Rtc, socket: UdpSocket, candidate: Candidate) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let local = socket.local_addr().expect("local address");
        let mut buffer = vec![0u8; 2000];
        while !stopping.load(Ordering::Relaxed) {
            let Some(deadline) = drain(&mut rtc, &socket) else {
                return;
            };
            // Short reads, so a drop stops the thread promptly.
            let wait = deadline
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), Duration::from_millis(50));
            socket.set_read_timeout(Some(wait)).expect("read timeout");
            let input = match socket.recv_from(&mut buffer) {
                Ok((n, source)) => match Receive::new(Protocol::Udp, source, local, &buffer[..n]) {
                    Ok(receive) => Input::Receive(Instant::now(), receive),
                    Err(_) => continue,
                },
                Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    Input::Timeout(Instant::now())
                }
                Err(_) => return,
            };
            if rtc.handle_input(input).is_err() {
                return;
            }
        }
    });
    Running {
        candidate: candidate.to_sdp_string(),
        mids: Vec::new(),
        stop,
        thread: Some(thread),
    }
}

/// Sends what `rtc` has to send; the next deadline, or `None` once it gave up.
fn drain(rtc: &mut Rtc, socket: &UdpSocket) -> Option<Instant> {
    loop {
        match rtc.poll_output() {
            Ok(Output::Timeout(deadline)) => return Some(deadline),
            Ok(Output::Transmit(transmit)) => {
                let _ = socket.send_to(&transmit.contents, transmit.destination);
            }
            Ok(Output::Event(_)) => {}
            Err(_) => return None,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
