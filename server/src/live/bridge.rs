//! WHEP on Janus 1.1: a WHEP player sends an offer and expects an answer, but Janus's
//! Streaming plugin only makes offers of its own. The relay stands between the two
//! negotiations: it answers the viewer with Janus's side of the connection (ICE credentials,
//! fingerprint, candidates, the stage's streams and their SSRCs) in the viewer's own media
//! sections and payload types, and answers Janus with the viewer's side in Janus's sections.
//! Both ends then run one ICE and DTLS connection between them; the relay only carried the
//! descriptions. The viewer is the DTLS client (`setup:active`), Janus the server.
//!
//! The payload types must agree: Janus sends the mountpoint's, so the relay serves each
//! viewer from a mountpoint made for the payload types its offer uses ([`viewer_codecs`]).
//! No RTP header extensions are negotiated on either side (their ids could not agree
//! either); the viewer tells the streams apart by the SSRCs Janus announced.

use std::fmt::Write as _;

use super::sdp::{Codec, Direction, Media, Sdp, SdpError};

/// The profile of H.264 a browser that can only send H.264 uses, and the one the stage's
/// mountpoint announces (constrained baseline, level 3.1).
const H264_PROFILE_PREFIX: &str = "42";

/// Which video codec the stage sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StageVideo {
    /// VP8 (every browser).
    Vp8,
    /// H.264, packetization mode 1 (a browser that sends nothing else).
    H264,
}

impl StageVideo {
    /// Janus's name for it.
    pub fn janus_name(self) -> &'static str {
        match self {
            StageVideo::Vp8 => "vp8",
            StageVideo::H264 => "h264",
        }
    }
}

/// The payload types a viewer's offer receives the stage's Opus and video on: the
/// mountpoint serving it must send these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ViewerCodecs {
    /// Opus's payload type.
    pub audio_pt: u8,
    /// The stage video codec's payload type.
    pub video_pt: u8,
}

/// What the viewer's `offer` must be to watch a stage sending `video`: a section receiving
/// Opus and one receiving that video, over DTLS-SRTP; their payload types.
pub fn viewer_codecs(offer: &Sdp, video: StageVideo) -> Result<ViewerCodecs, SdpError> {
    let transport = offer.transport()?;
    if transport.setup != "actpass" {
        return Err(SdpError(format!(
            "an offer's a=setup must be actpass, not {}",
            transport.setup
        )));
    }
    let audio =
        receiving(offer, "audio").ok_or_else(|| SdpError("the offer receives no audio".into()))?;
    let video_section =
        receiving(offer, "video").ok_or_else(|| SdpError("the offer receives no video".into()))?;
    let audio_pt = audio
        .codecs()
        .into_iter()
        .find(|c| c.name.eq_ignore_ascii_case("opus") && c.rate == "48000/2")
        .map(|c| c.pt)
        .ok_or_else(|| SdpError("the offer's audio has no Opus".into()))?;
    let video_pt = video_section
        .codecs()
        .into_iter()
        .find(|c| accepts(video_section, c, video))
        .map(|c| c.pt)
        .ok_or_else(|| {
            SdpError(format!(
                "the offer's video has no {} (the stage sends it)",
                video.janus_name().to_uppercase()
            ))
        })?;
    // Opus and the video codecs only ever have dynamic payload types; anything else is a
    // made-up offer, and each distinct numbering costs a mountpoint.
    for pt in [audio_pt, video_pt] {
        if !DYNAMIC_PTS.contains(&pt) {
            return Err(SdpError(format!(
                "payload type {pt} is not a dynamic one (96 to 127)"
            )));
        }
    }
    Ok(ViewerCodecs { audio_pt, video_pt })
}

/// RTP's dynamic payload types (RFC 3551).
const DYNAMIC_PTS: std::ops::RangeInclusive<u8> = 96..=127;

/// The answers of a bridged negotiation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bridged {
    /// For the viewer (the WHEP response's body).
    pub to_viewer: String,
    /// For Janus (the `start` request's JSEP).
    pub to_janus: String,
}

/// Answers the viewer's `viewer` offer with Janus's side of `janus`'s offer, and Janus's
/// offer with the viewer's side. `session` numbers the viewer's answer (its `o=` line).
pub fn bridge(viewer: &Sdp, janus: &Sdp, session: u64) -> Result<Bridged, SdpError> {
    let viewer_side = viewer.transport()?;
    if viewer_side.setup != "actpass" {
        return Err(SdpError(format!(
            "an offer's a=setup must be actpass, not {}",
            viewer_side.setup
        )));
    }
    let janus_side = janus.transport()?;
    // Each of the viewer's sections paired with Janus's of the same kind (first come).
    let mut pairs: Vec<Option<usize>> = Vec::new();
    let mut taken = vec![false; janus.media.len()];
    for section in &viewer.media {
        let receives = matches!(
            section.direction(),
            Direction::RecvOnly | Direction::SendRecv
        );
        let partner = (receives && section.port != 0)
            .then(|| {
                janus
                    .media
                    .iter()
                    .enumerate()
                    .position(|(i, j)| !taken[i] && j.kind == section.kind && j.port != 0)
            })
            .flatten();
        if let Some(i) = partner {
            taken[i] = true;
        }
        pairs.push(partner);
    }
    if pairs.iter().all(Option::is_none) {
        return Err(SdpError(
            "the offer receives nothing the stage sends".into(),
        ));
    }

    let mut to_viewer = header(session);
    let bundle: Vec<&str> = viewer
        .media
        .iter()
        .zip(&pairs)
        .filter(|(_, p)| p.is_some())
        .filter_map(|(m, _)| m.mid())
        .collect();
    let _ = writeln!(to_viewer, "a=group:BUNDLE {}\r", bundle.join(" "));
    let _ = writeln!(to_viewer, "a=msid-semantic: WMS *\r");
    let mut candidates_written = false;
    for (section, pair) in viewer.media.iter().zip(&pairs) {
        let Some(i) = *pair else {
            rejected(&mut to_viewer, section);
            continue;
        };
        let theirs = &janus.media[i];
        let codec = codec_in_both(section, theirs)?;
        open_section(
            &mut to_viewer,
            section,
            codec.pt,
            &janus_side.ufrag,
            &janus_side.pwd,
            &janus_side.fingerprint,
            "passive",
        );
        let _ = writeln!(to_viewer, "a=sendonly\r");
        codec_lines(&mut to_viewer, section, &codec);
        for line in theirs
            .values("msid")
            .map(|v| format!("msid:{v}"))
            .chain(theirs.values("ssrc").map(|v| format!("ssrc:{v}")))
            .chain(
                theirs
                    .values("ssrc-group")
                    .map(|v| format!("ssrc-group:{v}")),
            )
        {
            let _ = writeln!(to_viewer, "a={line}\r");
        }
        if !candidates_written {
            candidate_lines(&mut to_viewer, &janus_side.candidates);
            candidates_written = true;
        }
    }

    let mut to_janus = header(session);
    let bundle: Vec<&str> = janus
        .media
        .iter()
        .enumerate()
        .filter(|(i, _)| taken[*i])
        .filter_map(|(_, m)| m.mid())
        .collect();
    let _ = writeln!(to_janus, "a=group:BUNDLE {}\r", bundle.join(" "));
    let mut candidates_written = false;
    for (i, section) in janus.media.iter().enumerate() {
        if !taken[i] {
            rejected(&mut to_janus, section);
            continue;
        }
        let codec = section.codecs().into_iter().next().ok_or_else(|| {
            SdpError("the media server's offer has a section without a codec".into())
        })?;
        open_section(
            &mut to_janus,
            section,
            codec.pt,
            &viewer_side.ufrag,
            &viewer_side.pwd,
            &viewer_side.fingerprint,
            "active",
        );
        let _ = writeln!(to_janus, "a=recvonly\r");
        codec_lines(&mut to_janus, section, &codec);
        if !candidates_written {
            candidate_lines(&mut to_janus, &viewer_side.candidates);
            candidates_written = true;
        }
    }
    Ok(Bridged {
        to_viewer,
        to_janus,
    })
}

/// The first section of `kind` that receives, if any.
fn receiving<'a>(offer: &'a Sdp, kind: &str) -> Option<&'a Media> {
    offer.media.iter().find(|m| {
        m.kind == kind
            && m.port != 0
            && m.proto.contains("SAVPF")
            && matches!(m.direction(), Direction::RecvOnly | Direction::SendRecv)
    })
}

/// Whether `codec` of `section` can carry the stage's `video`.
fn accepts(section: &Media, codec: &Codec, video: StageVideo) -> bool {
    match video {
        StageVideo::Vp8 => codec.name.eq_ignore_ascii_case("VP8"),
        StageVideo::H264 => {
            let fmtp = section.fmtp(codec.pt).unwrap_or_default();
            codec.name.eq_ignore_ascii_case("H264")
                && fmtp.contains("packetization-mode=1")
                && fmtp
                    .split(';')
                    .filter_map(|p| p.trim().strip_prefix("profile-level-id="))
                    .all(|id| id.starts_with(H264_PROFILE_PREFIX))
        }
    }
}

/// The codec Janus sends in `janus_section`, as the viewer's `section` names it: the same
/// codec at the same payload type (the mountpoint was made for the viewer's).
fn codec_in_both(section: &Media, janus_section: &Media) -> Result<Codec, SdpError> {
    let sent =
        janus_section.codecs().into_iter().next().ok_or_else(|| {
            SdpError("the media server's offer has a section without a codec".into())
        })?;
    section
        .codecs()
        .into_iter()
        .find(|c| c.pt == sent.pt && c.name.eq_ignore_ascii_case(&sent.name))
        .ok_or_else(|| {
            SdpError(format!(
                "the offer has no {} at payload type {}",
                sent.name, sent.pt
            ))
        })
}

fn header(session: u64) -> String {
    format!("v=0\r\no=- {session} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
}

/// A section the answer turns down, keeping the offer's order.
fn rejected(out: &mut String, section: &Media) {
    let format = section.formats.first().map_or("0", String::as_str);
    let _ = write!(
        out,
        "m={} 0 {} {format}\r\nc=IN IP4 0.0.0.0\r\n",
        section.kind, section.proto
    );
    if let Some(mid) = section.mid() {
        let _ = writeln!(out, "a=mid:{mid}\r");
    }
    let _ = writeln!(out, "a=inactive\r");
}

fn open_section(
    out: &mut String,
    section: &Media,
    pt: u8,
    ufrag: &str,
    pwd: &str,
    fingerprint: &str,
    setup: &str,
) {
    let _ = write!(
        out,
        "m={} 9 {} {pt}\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
         a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=ice-options:trickle\r\n\
         a=fingerprint:{fingerprint}\r\na=setup:{setup}\r\n",
        section.kind, section.proto
    );
    if let Some(mid) = section.mid() {
        let _ = writeln!(out, "a=mid:{mid}\r");
    }
    let _ = writeln!(out, "a=rtcp-mux\r");
}

/// The codec's rtpmap, fmtp and the feedback both ends understand without extensions.
fn codec_lines(out: &mut String, section: &Media, codec: &Codec) {
    let _ = writeln!(out, "a=rtpmap:{} {}/{}\r", codec.pt, codec.name, codec.rate);
    if let Some(fmtp) = section.fmtp(codec.pt) {
        let _ = writeln!(out, "a=fmtp:{} {fmtp}\r", codec.pt);
    }
    for feedback in section.feedback(codec.pt) {
        if matches!(feedback, "nack" | "nack pli" | "ccm fir") {
            let _ = writeln!(out, "a=rtcp-fb:{} {feedback}\r", codec.pt);
        }
    }
}

fn candidate_lines(out: &mut String, candidates: &[String]) {
    for candidate in candidates {
        let _ = writeln!(out, "a=candidate:{candidate}\r");
    }
    let _ = writeln!(out, "a=end-of-candidates\r");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Firefox-like WHEP offer: Opus at 109, VP8 at 120, H.264 at 126, and a data channel.
    const VIEWER: &str = "v=0\r\no=mozilla 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        a=fingerprint:sha-256 VI:EW\r\na=group:BUNDLE 0 1 2\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 109 9\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n\
        a=ice-ufrag:vuf\r\na=ice-pwd:vpw\r\na=setup:actpass\r\na=rtcp-mux\r\n\
        a=rtpmap:109 opus/48000/2\r\na=fmtp:109 maxplaybackrate=48000;stereo=1\r\n\
        a=rtpmap:9 G722/8000/1\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
        a=candidate:0 1 UDP 2122 127.0.0.1 50000 typ host\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 120 126\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\n\
        a=rtpmap:120 VP8/90000\r\na=rtcp-fb:120 nack\r\na=rtcp-fb:120 nack pli\r\n\
        a=rtcp-fb:120 goog-remb\r\na=rtcp-fb:120 transport-cc\r\n\
        a=rtpmap:126 H264/90000\r\n\
        a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n\
        a=sctp-port:5000\r\n";

    /// Janus's Streaming offer for a mountpoint made for that viewer.
    const JANUS: &str = "v=0\r\no=- 9 1 IN IP4 127.0.0.1\r\ns=Mountpoint\r\nt=0 0\r\n\
        a=group:BUNDLE a v\r\na=ice-options:trickle\r\n\
        a=fingerprint:sha-256 JA:NU\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 109\r\nc=IN IP4 127.0.0.1\r\na=sendonly\r\na=mid:a\r\n\
        a=rtcp-mux\r\na=ice-ufrag:juf\r\na=ice-pwd:jpw\r\na=setup:actpass\r\n\
        a=rtpmap:109 opus/48000/2\r\na=msid:janus janusa\r\na=ssrc:111 cname:janus\r\n\
        a=candidate:1 1 udp 2015 127.0.0.1 20000 typ host\r\na=end-of-candidates\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 120\r\nc=IN IP4 127.0.0.1\r\na=sendonly\r\na=mid:v\r\n\
        a=rtcp-mux\r\na=ice-ufrag:juf\r\na=ice-pwd:jpw\r\na=setup:actpass\r\n\
        a=rtpmap:120 VP8/90000\r\na=rtcp-fb:120 nack\r\na=rtcp-fb:120 nack pli\r\n\
        a=msid:janus janusv\r\na=ssrc:222 cname:janus\r\n";

    fn parse(text: &str) -> Sdp {
        Sdp::parse(text).expect("parses")
    }

    #[test]
    fn a_viewer_offer_names_the_payload_types_its_mountpoint_must_send() {
        let offer = parse(VIEWER);
        let vp8 = viewer_codecs(&offer, StageVideo::Vp8).expect("codecs");
        assert_eq!((vp8.audio_pt, vp8.video_pt), (109, 120));
        let h264 = viewer_codecs(&offer, StageVideo::H264).expect("codecs");
        assert_eq!(h264.video_pt, 126);
        let no_h264 = VIEWER.replace("a=rtpmap:126 H264/90000\r\n", "");
        assert!(viewer_codecs(&parse(&no_h264), StageVideo::H264).is_err());
        let deaf = VIEWER.replace("a=rtpmap:109 opus/48000/2", "a=rtpmap:109 PCMA/8000");
        assert!(viewer_codecs(&parse(&deaf), StageVideo::Vp8).is_err());
        let sending = VIEWER.replace("a=recvonly", "a=sendonly");
        assert!(viewer_codecs(&parse(&sending), StageVideo::Vp8).is_err());
        let passive = VIEWER.replace("a=setup:actpass", "a=setup:passive");
        assert!(viewer_codecs(&parse(&passive), StageVideo::Vp8).is_err());
        let static_pt = VIEWER.replace("120", "34");
        assert!(viewer_codecs(&parse(&static_pt), StageVideo::Vp8).is_err());
    }

    #[test]
    fn the_viewer_gets_janus_side_in_its_own_sections_and_janus_gets_the_viewer_side() {
        let bridged = bridge(&parse(VIEWER), &parse(JANUS), 7).expect("bridged");
        let viewer = parse(&bridged.to_viewer);
        assert_eq!(viewer.media.len(), 3, "one answer section per offered one");
        let (audio, video, data) = (&viewer.media[0], &viewer.media[1], &viewer.media[2]);
        assert_eq!((audio.mid(), video.mid()), (Some("0"), Some("1")));
        assert_eq!(audio.formats, ["109"]);
        assert_eq!(video.formats, ["120"]);
        assert_eq!(audio.direction(), Direction::SendOnly);
        assert_eq!(data.port, 0, "the data channel is turned down");
        assert!(bridged.to_viewer.contains("a=group:BUNDLE 0 1\r\n"));
        let side = viewer.transport().expect("transport");
        assert_eq!((side.ufrag.as_str(), side.pwd.as_str()), ("juf", "jpw"));
        assert_eq!(side.fingerprint, "sha-256 JA:NU");
        assert_eq!(side.setup, "passive");
        assert_eq!(side.candidates, ["1 1 udp 2015 127.0.0.1 20000 typ host"]);
        assert_eq!(
            video.values("ssrc").collect::<Vec<_>>(),
            ["222 cname:janus"]
        );
        assert_eq!(
            video.feedback(120),
            ["nack", "nack pli"],
            "no REMB or transport-cc"
        );
        assert!(!bridged.to_viewer.contains("extmap"));

        let janus = parse(&bridged.to_janus);
        assert_eq!(janus.media.len(), 2);
        assert_eq!(janus.media[0].mid(), Some("a"));
        assert_eq!(janus.media[1].direction(), Direction::RecvOnly);
        let side = janus.transport().expect("transport");
        assert_eq!(
            (side.ufrag.as_str(), side.setup.as_str()),
            ("vuf", "active")
        );
        assert_eq!(side.fingerprint, "sha-256 VI:EW");
        assert_eq!(side.candidates, ["0 1 UDP 2122 127.0.0.1 50000 typ host"]);
    }

    #[test]
    fn offers_that_cannot_be_bridged_are_refused() {
        let janus = parse(JANUS);
        let passive = VIEWER.replace("a=setup:actpass", "a=setup:passive");
        assert!(bridge(&parse(&passive), &janus, 1).is_err());
        let other_pt = VIEWER.replace("120", "98");
        assert!(
            bridge(&parse(&other_pt), &janus, 1).is_err(),
            "VP8 at another pt"
        );
        let nothing = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
            a=ice-ufrag:a\r\na=ice-pwd:b\r\na=fingerprint:sha-256 X\r\na=setup:actpass\r\n";
        assert!(bridge(&parse(nothing), &janus, 1).is_err());
    }
}
