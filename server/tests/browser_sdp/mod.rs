//! SDP as a browser would send it to the relay: a Chromium publisher's offer (the fixture),
//! and a receive-only answer to an offer from Janus, built the way a browser answers.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

/// The browser's ICE and DTLS identity in answers (Janus checks neither until media flows).
const UFRAG: &str = "Wd3s";
const PWD: &str = "Gk8pZr2xVb6nTq4mLc9hJy7e";
const FINGERPRINT: &str = "sha-256 1F:C2:9A:47:E0:3B:88:D5:6C:21:F4:0E:B7:93:5A:CC:12:6D:\
    E8:3F:A1:77:0B:94:C5:2E:68:D1:F9:43:BA:07";

/// A Chromium 120+ offer: audio (Opus) and video (VP8, H.264, AV1, three simulcast layers),
/// BUNDLE, rtcp-mux, `setup:actpass`, CRLF line ends as browsers send them.
pub fn publisher_offer() -> String {
    let text = include_str!("../fixtures/chromium_publisher_offer.sdp");
    crlf(text.lines())
}

/// The media sections (`m=` lines) of `sdp`.
pub fn m_lines(sdp: &str) -> Vec<&str> {
    sdp.lines().filter(|line| line.starts_with("m=")).collect()
}

/// What a receive-only browser answers to `offer`: every media section accepted with its
/// offered codecs, `setup:active`, the browser's ICE credentials and fingerprint.
pub fn answer_to(offer: &str) -> String {
    let mut out = vec![
        "v=0".to_owned(),
        "o=- 5097245818311203641 2 IN IP4 127.0.0.1".to_owned(),
        "s=-".to_owned(),
        "t=0 0".to_owned(),
    ];
    let mut in_media = false;
    for line in offer.lines().map(str::trim_end) {
        if line.starts_with("m=") {
            in_media = true;
            out.push(line.to_owned());
            out.push("c=IN IP4 0.0.0.0".to_owned());
            out.push(format!("a=ice-ufrag:{UFRAG}"));
            out.push(format!("a=ice-pwd:{PWD}"));
            out.push(format!("a=fingerprint:{FINGERPRINT}"));
            out.push("a=setup:active".to_owned());
            continue;
        }
        if !in_media {
            if line.starts_with("a=group:BUNDLE") {
                out.push(line.to_owned());
            }
            continue;
        }
        let kept = [
            "a=mid:",
            "a=rtpmap:",
            "a=fmtp:",
            "a=rtcp-fb:",
            "a=rtcp-mux",
            "a=rtcp-rsize",
            "a=extmap:",
            "a=sctp-port:",
        ];
        if kept.iter().any(|prefix| line.starts_with(prefix)) {
            out.push(line.to_owned());
        } else if line == "a=sendonly" || line == "a=sendrecv" {
            out.push("a=recvonly".to_owned());
        } else if line == "a=inactive" {
            out.push(line.to_owned());
        }
    }
    crlf(out.iter().map(String::as_str))
}

fn crlf<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines.map(|line| format!("{line}\r\n")).collect()
}
