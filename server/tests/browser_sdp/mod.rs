//! SDP as a browser would send it to the relay: a Chromium publisher's offer (the fixture).

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

fn crlf<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines.map(|line| format!("{line}\r\n")).collect()
}
