//! Connection statistics: a `getStats()` report ([`stats_of`]) reduced to the figures
//! meshmeet uses, and the pure arithmetic that turns two successive reports into rates, loss
//! and quality.

use serde_json::Value as Json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

use crate::js::{json_of, JsError};

/// What one `getStats()` call said, reduced to what matters here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// When the report was taken (the stats' own clock), in milliseconds.
    pub timestamp_ms: f64,
    /// Sent RTP streams.
    pub outbound: Vec<RtpSent>,
    /// Received RTP streams.
    pub inbound: Vec<RtpReceived>,
    /// What the other side reports about our streams (`remote-inbound-rtp`).
    pub remote_inbound: Vec<RemoteInbound>,
    /// The selected ICE candidate pair.
    pub pair: Option<CandidatePair>,
    /// The microphone's level (0–1) where the browser reports it.
    pub mic_level: Option<f64>,
}

/// A statistics snapshot of a peer connection.
pub async fn stats_of(pc: &RtcPeerConnection) -> Result<Snapshot, JsError> {
    let report = JsFuture::from(pc.get_stats()).await?;
    // The report is a maplike of plain dictionaries, each read into a tree.
    let values = js_sys::Reflect::get(&report, &JsValue::from_str("values"))?
        .dyn_into::<js_sys::Function>()
        .map_err(|_| JsError::new("TypeError", "RTCStatsReport.values is missing"))?
        .call0(&report)?;
    let reports: Vec<_> = js_sys::Array::from(&values)
        .iter()
        .map(|entry| json_of(&entry))
        .collect();
    Ok(Snapshot::from_reports(&reports))
}

/// One sent RTP stream (`outbound-rtp`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RtpSent {
    /// `audio` or `video`.
    pub kind: String,
    /// The stream's SSRC, to match reports over time.
    pub ssrc: u64,
    /// Total bytes sent.
    pub bytes: f64,
    /// Total packets sent.
    pub packets: f64,
    /// Frames per second now.
    pub fps: Option<f64>,
    /// Frame width and height.
    pub size: Option<(u32, u32)>,
    /// Why the encoder holds back (`none`, `bandwidth`, `cpu`, `other`).
    pub limitation: Option<String>,
}

/// One received RTP stream (`inbound-rtp`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RtpReceived {
    /// `audio` or `video`.
    pub kind: String,
    /// The stream's SSRC.
    pub ssrc: u64,
    /// Total bytes received.
    pub bytes: f64,
    /// Total packets received.
    pub packets: f64,
    /// Total packets lost.
    pub lost: f64,
    /// Jitter, in seconds.
    pub jitter_s: Option<f64>,
    /// Frames per second now.
    pub fps: Option<f64>,
    /// Frame width and height.
    pub size: Option<(u32, u32)>,
    /// Total frames decoded.
    pub frames_decoded: f64,
    /// The received sound's level now (0–1), for audio.
    pub audio_level: Option<f64>,
    /// The media section it arrives on, where the browser says.
    pub mid: Option<String>,
}

/// The far side's view of one of our streams (`remote-inbound-rtp`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteInbound {
    /// `audio` or `video`.
    pub kind: String,
    /// Round-trip time, in seconds.
    pub rtt_s: Option<f64>,
    /// Fraction of our packets lost lately (0–1).
    pub fraction_lost: Option<f64>,
}

/// An ICE candidate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidate {
    /// `host`, `srflx`, `prflx` or `relay`.
    pub kind: String,
    /// IP address (or mDNS name).
    pub address: String,
    /// Port.
    pub port: u16,
    /// `udp` or `tcp`.
    pub protocol: String,
}

/// The selected candidate pair.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CandidatePair {
    /// Current round-trip time, in seconds.
    pub rtt_s: Option<f64>,
    /// The browser's estimate of the bitrate we can send, in bits per second.
    pub available_outgoing_bps: Option<f64>,
    /// Our end.
    pub local: Candidate,
    /// Their end.
    pub remote: Candidate,
}

fn num(v: &Json, key: &str) -> Option<f64> {
    v.get(key).and_then(Json::as_f64)
}

fn text(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_owned)
}

fn size(v: &Json) -> Option<(u32, u32)> {
    Some((num(v, "frameWidth")? as u32, num(v, "frameHeight")? as u32))
}

fn candidate(reports: &[Json], id: Option<&str>) -> Candidate {
    let Some(found) = id.and_then(|id| reports.iter().find(|r| r["id"] == id)) else {
        return Candidate::default();
    };
    Candidate {
        kind: text(found, "candidateType").unwrap_or_default(),
        address: text(found, "address")
            .or_else(|| text(found, "ip"))
            .unwrap_or_default(),
        port: num(found, "port").unwrap_or(0.0) as u16,
        protocol: text(found, "protocol").unwrap_or_default(),
    }
}

impl Snapshot {
    /// One participant's part of an SFU subscriber's snapshot: the streams received on the
    /// media sections `theirs` names, with the subscriber's timestamp and candidate pair,
    /// beside what we send (`sent`: our publisher's snapshot, the same for everyone).
    pub fn sfu_share(&self, theirs: impl Fn(&str) -> bool, sent: Option<&Snapshot>) -> Snapshot {
        Snapshot {
            timestamp_ms: self.timestamp_ms,
            inbound: self
                .inbound
                .iter()
                .filter(|r| r.mid.as_deref().is_some_and(&theirs))
                .cloned()
                .collect(),
            outbound: sent.map(|s| s.outbound.clone()).unwrap_or_default(),
            remote_inbound: sent.map(|s| s.remote_inbound.clone()).unwrap_or_default(),
            pair: self.pair.clone(),
            mic_level: sent.and_then(|s| s.mic_level),
        }
    }

    /// Reads the entries of an `RTCStatsReport` (as JSON objects).
    pub fn from_reports(reports: &[Json]) -> Snapshot {
        let mut snapshot = Snapshot::default();
        let kind = |r: &Json| {
            text(r, "kind")
                .or_else(|| text(r, "mediaType"))
                .unwrap_or_default()
        };
        for r in reports {
            snapshot.timestamp_ms = snapshot
                .timestamp_ms
                .max(num(r, "timestamp").unwrap_or(0.0));
            match r["type"].as_str().unwrap_or_default() {
                "outbound-rtp" => snapshot.outbound.push(RtpSent {
                    kind: kind(r),
                    ssrc: num(r, "ssrc").unwrap_or(0.0) as u64,
                    bytes: num(r, "bytesSent").unwrap_or(0.0),
                    packets: num(r, "packetsSent").unwrap_or(0.0),
                    fps: num(r, "framesPerSecond"),
                    size: size(r),
                    limitation: text(r, "qualityLimitationReason"),
                }),
                "inbound-rtp" => snapshot.inbound.push(RtpReceived {
                    kind: kind(r),
                    ssrc: num(r, "ssrc").unwrap_or(0.0) as u64,
                    bytes: num(r, "bytesReceived").unwrap_or(0.0),
                    packets: num(r, "packetsReceived").unwrap_or(0.0),
                    lost: num(r, "packetsLost").unwrap_or(0.0).max(0.0),
                    jitter_s: num(r, "jitter"),
                    fps: num(r, "framesPerSecond"),
                    size: size(r),
                    frames_decoded: num(r, "framesDecoded").unwrap_or(0.0),
                    audio_level: num(r, "audioLevel"),
                    mid: text(r, "mid"),
                }),
                "remote-inbound-rtp" => snapshot.remote_inbound.push(RemoteInbound {
                    kind: kind(r),
                    rtt_s: num(r, "roundTripTime"),
                    fraction_lost: num(r, "fractionLost"),
                }),
                "media-source" if kind(r) == "audio" => {
                    snapshot.mic_level = num(r, "audioLevel");
                }
                _ => {}
            }
        }
        // The selected pair: the transport names it (Chrome); else the pair flagged
        // `selected` (Firefox) or the nominated, succeeded one.
        let selected_id = reports
            .iter()
            .find(|r| r["type"] == "transport")
            .and_then(|t| t["selectedCandidatePairId"].as_str());
        let pair = reports.iter().find(|r| {
            r["type"] == "candidate-pair"
                && match selected_id {
                    Some(id) => r["id"] == id,
                    None => {
                        r["selected"] == true
                            || (r["nominated"] == true && r["state"] == "succeeded")
                    }
                }
        });
        snapshot.pair = pair.map(|p| CandidatePair {
            rtt_s: num(p, "currentRoundTripTime"),
            available_outgoing_bps: num(p, "availableOutgoingBitrate"),
            local: candidate(reports, p["localCandidateId"].as_str()),
            remote: candidate(reports, p["remoteCandidateId"].as_str()),
        });
        snapshot
    }
}

/// How a connection is doing, as the tile shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quality {
    /// Loss under 2 % and round trip under 250 ms.
    #[default]
    Good,
    /// Loss under 8 % and round trip under 500 ms.
    Fair,
    /// Worse, or video that should arrive does not.
    Poor,
}

impl Quality {
    /// The `data-quality` attribute value.
    pub fn as_attr(self) -> &'static str {
        match self {
            Quality::Good => "good",
            Quality::Fair => "fair",
            Quality::Poor => "poor",
        }
    }

    /// Grades loss (0–1) and round-trip time; the thresholds are those of the variants.
    pub fn grade(loss: f64, rtt_ms: Option<f64>) -> Quality {
        let rtt = rtt_ms.unwrap_or(0.0);
        if loss < 0.02 && rtt < 250.0 {
            Quality::Good
        } else if loss < 0.08 && rtt < 500.0 {
            Quality::Fair
        } else {
            Quality::Poor
        }
    }
}

/// The figures of one peer connection over the last interval.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeerStats {
    /// Video we send to this peer, bits per second.
    pub out_video_bps: f64,
    /// Audio we send, bits per second.
    pub out_audio_bps: f64,
    /// Video we receive, bits per second.
    pub in_video_bps: f64,
    /// Audio we receive, bits per second.
    pub in_audio_bps: f64,
    /// Share of their packets we lost (0–1).
    pub in_loss: f64,
    /// Share of our packets they lost, as they report it (0–1).
    pub out_loss: f64,
    /// Receive jitter, milliseconds.
    pub jitter_ms: Option<f64>,
    /// Round-trip time, milliseconds.
    pub rtt_ms: Option<f64>,
    /// Frame rate of the video we send.
    pub out_fps: Option<f64>,
    /// Frame rate of the video we receive.
    pub in_fps: Option<f64>,
    /// Resolution of the video we send.
    pub out_size: Option<(u32, u32)>,
    /// Resolution of the video we receive.
    pub in_size: Option<(u32, u32)>,
    /// Why our encoder holds back.
    pub limitation: Option<String>,
    /// The browser's estimate of what we can send, bits per second.
    pub available_out_bps: Option<f64>,
    /// The selected candidate pair.
    pub pair: Option<(Candidate, Candidate)>,
    /// Graded quality of the connection.
    pub quality: Quality,
}

/// The figures between two snapshots of the same connection (`None` until there are two).
pub fn derive(previous: &Snapshot, current: &Snapshot) -> Option<PeerStats> {
    let seconds = (current.timestamp_ms - previous.timestamp_ms) / 1000.0;
    if seconds <= 0.0 {
        return None;
    }
    let rate = |now: f64, before: f64| ((now - before).max(0.0) * 8.0) / seconds;
    let mut stats = PeerStats::default();
    let (mut in_packets, mut in_lost) = (0.0, 0.0);
    for sent in &current.outbound {
        let before = previous
            .outbound
            .iter()
            .find(|p| p.ssrc == sent.ssrc)
            .map_or(sent.bytes, |p| p.bytes);
        let bps = rate(sent.bytes, before);
        if sent.kind == "video" {
            stats.out_video_bps += bps;
            // The busiest video stream (camera rather than an idle screen) describes it.
            if sent.fps.is_some() && stats.out_fps.is_none_or(|f| sent.fps > Some(f)) {
                stats.out_fps = sent.fps;
                stats.out_size = sent.size;
                stats.limitation = sent.limitation.clone();
            }
        } else {
            stats.out_audio_bps += bps;
        }
    }
    for received in &current.inbound {
        let prev = previous.inbound.iter().find(|p| p.ssrc == received.ssrc);
        let bps = rate(received.bytes, prev.map_or(received.bytes, |p| p.bytes));
        in_packets += received.packets - prev.map_or(received.packets, |p| p.packets);
        in_lost += received.lost - prev.map_or(received.lost, |p| p.lost);
        if received.kind == "video" {
            stats.in_video_bps += bps;
            if received.fps.is_some() && stats.in_fps.is_none_or(|f| received.fps > Some(f)) {
                stats.in_fps = received.fps;
                stats.in_size = received.size;
            }
        } else {
            stats.in_audio_bps += bps;
        }
        if let Some(jitter) = received.jitter_s {
            let ms = jitter * 1000.0;
            stats.jitter_ms = Some(stats.jitter_ms.map_or(ms, |j: f64| j.max(ms)));
        }
    }
    let in_total = in_packets + in_lost.max(0.0);
    stats.in_loss = if in_total > 0.0 {
        in_lost.max(0.0) / in_total
    } else {
        0.0
    };
    stats.out_loss = current
        .remote_inbound
        .iter()
        .filter_map(|r| r.fraction_lost)
        .fold(0.0, f64::max);
    let remote_rtt = current
        .remote_inbound
        .iter()
        .filter_map(|r| r.rtt_s)
        .reduce(f64::max);
    stats.rtt_ms = current
        .pair
        .as_ref()
        .and_then(|p| p.rtt_s)
        .or(remote_rtt)
        .map(|s| s * 1000.0);
    stats.available_out_bps = current.pair.as_ref().and_then(|p| p.available_outgoing_bps);
    stats.pair = current
        .pair
        .as_ref()
        .map(|p| (p.local.clone(), p.remote.clone()));
    stats.quality = Quality::grade(stats.in_loss.max(stats.out_loss), stats.rtt_ms);
    Some(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Reports as the client reads them from the browser (`crate::js::json_of`): every
    /// number a float.
    fn read(reports: Vec<Json>) -> Vec<Json> {
        fn floats(value: &Json) -> Json {
            match value {
                Json::Number(n) => n.as_f64().map_or(Json::Null, Json::from),
                Json::Array(items) => Json::Array(items.iter().map(floats).collect()),
                Json::Object(members) => Json::Object(
                    members
                        .iter()
                        .map(|(k, v)| (k.clone(), floats(v)))
                        .collect(),
                ),
                other => other.clone(),
            }
        }
        reports.iter().map(floats).collect()
    }

    fn report(t: f64, sent: f64, received: f64, lost: f64) -> Vec<Json> {
        read(vec![
            json!({ "id": "OT1", "type": "outbound-rtp", "kind": "video", "ssrc": 11, "timestamp": t,
                    "bytesSent": sent, "packetsSent": sent / 1000.0, "framesPerSecond": 15,
                    "frameWidth": 320, "frameHeight": 180, "qualityLimitationReason": "bandwidth" }),
            json!({ "id": "OA1", "type": "outbound-rtp", "kind": "audio", "ssrc": 12, "timestamp": t,
                    "bytesSent": sent / 10.0, "packetsSent": 1 }),
            json!({ "id": "IT1", "type": "inbound-rtp", "kind": "video", "ssrc": 21, "timestamp": t,
                    "bytesReceived": received, "packetsReceived": received / 1000.0,
                    "packetsLost": lost, "jitter": 0.004, "framesPerSecond": 14,
                    "frameWidth": 640, "frameHeight": 360, "framesDecoded": 100 }),
            json!({ "id": "RI1", "type": "remote-inbound-rtp", "kind": "video", "timestamp": t,
                    "roundTripTime": 0.03, "fractionLost": 0.01 }),
            json!({ "id": "T1", "type": "transport", "timestamp": t, "selectedCandidatePairId": "CP1" }),
            json!({ "id": "CP1", "type": "candidate-pair", "timestamp": t, "localCandidateId": "L1",
                    "remoteCandidateId": "R1", "currentRoundTripTime": 0.002,
                    "availableOutgoingBitrate": 1_500_000.0, "state": "succeeded", "nominated": true }),
            json!({ "id": "CP2", "type": "candidate-pair", "timestamp": t, "localCandidateId": "L2",
                    "remoteCandidateId": "R1", "state": "failed" }),
            json!({ "id": "L1", "type": "local-candidate", "candidateType": "host",
                    "address": "127.0.0.1", "port": 50000, "protocol": "udp" }),
            json!({ "id": "L2", "type": "local-candidate", "candidateType": "relay",
                    "address": "10.0.0.1", "port": 3478, "protocol": "udp" }),
            json!({ "id": "R1", "type": "remote-candidate", "candidateType": "host",
                    "address": "127.0.0.1", "port": 50001, "protocol": "udp" }),
        ])
    }

    #[test]
    fn an_sfu_subscribers_snapshot_is_shared_out_by_media_section_beside_what_we_send() {
        let subscriber = Snapshot::from_reports(&read(vec![
            json!({ "id": "A0", "type": "inbound-rtp", "kind": "audio", "mid": "0", "ssrc": 1,
                    "timestamp": 2000, "bytesReceived": 100, "audioLevel": 0.5 }),
            json!({ "id": "V1", "type": "inbound-rtp", "kind": "video", "mid": "1", "ssrc": 2,
                    "timestamp": 2000, "bytesReceived": 900 }),
            json!({ "id": "A3", "type": "inbound-rtp", "kind": "audio", "mid": "3", "ssrc": 3,
                    "timestamp": 2000, "bytesReceived": 50, "audioLevel": 0.01 }),
            json!({ "id": "X", "type": "inbound-rtp", "kind": "audio", "ssrc": 4,
                    "timestamp": 2000, "bytesReceived": 7 }),
        ]));
        let publisher = Snapshot::from_reports(&read(report(1000.0, 5000.0, 0.0, 0.0)));
        let bens = subscriber.sfu_share(|mid| mid == "0" || mid == "1", Some(&publisher));
        let mids: Vec<_> = bens.inbound.iter().map(|r| r.mid.as_deref()).collect();
        assert_eq!(
            mids,
            [Some("0"), Some("1")],
            "Ben's sections only, none unnamed"
        );
        assert_eq!(bens.inbound[0].audio_level, Some(0.5));
        assert_eq!(bens.timestamp_ms, 2000.0, "the subscriber's clock");
        assert_eq!(
            bens.outbound, publisher.outbound,
            "what we send, to everyone"
        );
        let nobodys = subscriber.sfu_share(|mid| mid == "9", None);
        assert!(nobodys.inbound.is_empty() && nobodys.outbound.is_empty());
    }

    #[test]
    fn two_reports_give_bitrates_per_direction_and_kind() {
        let before = Snapshot::from_reports(&report(1_000.0, 10_000.0, 50_000.0, 0.0));
        let after = Snapshot::from_reports(&report(3_000.0, 110_000.0, 250_000.0, 0.0));
        let stats = derive(&before, &after).expect("two seconds apart");
        assert_eq!(stats.out_video_bps, 400_000.0); // 100 kB in 2 s
        assert_eq!(stats.out_audio_bps, 40_000.0);
        assert_eq!(stats.in_video_bps, 800_000.0);
        assert_eq!(stats.out_fps, Some(15.0));
        assert_eq!(stats.in_size, Some((640, 360)));
        assert_eq!(stats.limitation.as_deref(), Some("bandwidth"));
        assert_eq!(stats.jitter_ms, Some(4.0));
    }

    #[test]
    fn the_selected_pair_gives_rtt_candidates_and_available_bitrate() {
        let before = Snapshot::from_reports(&report(0.0, 0.0, 0.0, 0.0));
        let after = Snapshot::from_reports(&report(1_000.0, 0.0, 0.0, 0.0));
        let stats = derive(&before, &after).expect("one second apart");
        let (local, remote) = stats.pair.expect("a selected pair");
        assert_eq!(local.kind, "host");
        assert_eq!(local.address, "127.0.0.1");
        assert_eq!(remote.port, 50001);
        assert_eq!(stats.rtt_ms, Some(2.0));
        assert_eq!(stats.available_out_bps, Some(1_500_000.0));
    }

    #[test]
    fn loss_is_lost_over_expected_packets_in_the_interval() {
        // 200 packets arrived and 50 were lost in the interval: 20 % loss.
        let before = Snapshot::from_reports(&report(0.0, 0.0, 100_000.0, 10.0));
        let after = Snapshot::from_reports(&report(1_000.0, 0.0, 300_000.0, 60.0));
        let stats = derive(&before, &after).expect("one second apart");
        assert!((stats.in_loss - 0.2).abs() < 1e-9, "{}", stats.in_loss);
        assert_eq!(stats.out_loss, 0.01);
        assert_eq!(stats.quality, Quality::Poor);
    }

    #[test]
    fn reports_at_the_same_time_give_nothing() {
        let same = Snapshot::from_reports(&report(5.0, 1.0, 1.0, 0.0));
        assert_eq!(derive(&same, &same), None);
    }

    #[test]
    fn firefox_style_pair_without_transport_is_found_by_selected_flag() {
        let reports = read(vec![
            json!({ "id": "P", "type": "candidate-pair", "selected": true, "timestamp": 1.0,
                    "localCandidateId": "L", "remoteCandidateId": "R" }),
            json!({ "id": "L", "type": "local-candidate", "candidateType": "srflx", "ip": "192.0.2.1", "port": 1 }),
        ]);
        let snapshot = Snapshot::from_reports(&reports);
        let pair = snapshot.pair.expect("pair");
        assert_eq!(pair.local.kind, "srflx");
        assert_eq!(pair.local.address, "192.0.2.1");
    }

    #[test]
    fn quality_thresholds() {
        assert_eq!(Quality::grade(0.0, Some(20.0)), Quality::Good);
        assert_eq!(Quality::grade(0.03, Some(20.0)), Quality::Fair);
        assert_eq!(Quality::grade(0.0, Some(300.0)), Quality::Fair);
        assert_eq!(Quality::grade(0.1, None), Quality::Poor);
        assert_eq!(Quality::grade(0.0, Some(600.0)), Quality::Poor);
    }
}
