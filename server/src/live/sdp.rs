//! Just enough SDP to bridge a WHEP viewer's offer and Janus's offer: sections, their
//! attributes, ICE credentials, fingerprints, candidates and codecs. Parsing refuses what a
//! browser or a WHEP player would never send (no sections, no ICE credentials), so a hostile
//! body ends in a clear 400, never in a half-built answer.

use std::fmt;

/// Why an SDP cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SdpError(pub String);

fn error(message: impl Into<String>) -> SdpError {
    SdpError(message.into())
}

/// A parsed session description: the session-level lines and the media sections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sdp {
    /// Session-level `a=` attribute values (without `a=`).
    session: Vec<String>,
    /// The media sections, in order.
    pub media: Vec<Media>,
}

/// One media section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, `application`, …
    pub kind: String,
    /// The port (0: rejected).
    pub port: u32,
    /// The transport protocol (`UDP/TLS/RTP/SAVPF`).
    pub proto: String,
    /// The formats (payload types) of the `m=` line.
    pub formats: Vec<String>,
    /// The section's `a=` attribute values (without `a=`).
    attributes: Vec<String>,
}

/// Which way media goes in a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Both ways.
    SendRecv,
    /// The describing side sends only.
    SendOnly,
    /// The describing side receives only.
    RecvOnly,
    /// Neither.
    Inactive,
}

/// A codec of a section: payload type, name, clock rate and channels as `a=rtpmap` gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codec {
    /// The payload type.
    pub pt: u8,
    /// The encoding name, as written (`VP8`, `opus`, `H264`).
    pub name: String,
    /// What follows the name: `90000`, `48000/2`.
    pub rate: String,
}

impl Sdp {
    /// Parses `text`; at least one media section is required.
    pub fn parse(text: &str) -> Result<Sdp, SdpError> {
        let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
        if lines.next() != Some("v=0") {
            return Err(error("an SDP starts with v=0"));
        }
        let mut session = Vec::new();
        let mut media: Vec<Media> = Vec::new();
        for line in lines {
            if line.is_empty() {
                continue;
            }
            let Some((kind, value)) = line.split_once('=') else {
                return Err(error(format!("not an SDP line: {line:.60}")));
            };
            match (kind, media.last_mut()) {
                ("m", _) => media.push(Media::parse(value)?),
                ("a", Some(section)) => section.attributes.push(value.to_owned()),
                ("a", None) => session.push(value.to_owned()),
                _ => {}
            }
        }
        if media.is_empty() {
            return Err(error("the SDP has no media section"));
        }
        Ok(Sdp { session, media })
    }

    /// The first value of attribute `name` in `section` or, failing that, at session level.
    pub fn attribute<'a>(&'a self, section: &'a Media, name: &str) -> Option<&'a str> {
        section
            .attribute(name)
            .or_else(|| attribute(&self.session, name))
    }

    /// ICE username fragment, password and DTLS fingerprint of the first section (bundled:
    /// every section shares them).
    pub fn transport(&self) -> Result<Transport, SdpError> {
        let first = &self.media[0];
        let get = |name: &str| {
            self.attribute(first, name)
                .map(str::to_owned)
                .ok_or_else(|| error(format!("the SDP has no a={name}")))
        };
        Ok(Transport {
            ufrag: get("ice-ufrag")?,
            pwd: get("ice-pwd")?,
            fingerprint: get("fingerprint")?,
            setup: get("setup")?,
            candidates: self
                .media
                .iter()
                .flat_map(|m| m.values("candidate"))
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// What a side's connection is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transport {
    /// `a=ice-ufrag`.
    pub ufrag: String,
    /// `a=ice-pwd`.
    pub pwd: String,
    /// `a=fingerprint` (algorithm and hash).
    pub fingerprint: String,
    /// `a=setup`.
    pub setup: String,
    /// Every `a=candidate` value.
    pub candidates: Vec<String>,
}

impl Media {
    fn parse(value: &str) -> Result<Media, SdpError> {
        let mut parts = value.split_whitespace();
        let (Some(kind), Some(port), Some(proto)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(error(format!("not an m= line: {value:.60}")));
        };
        let port = port
            .split('/')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| error(format!("not a port: {port:.20}")))?;
        Ok(Media {
            kind: kind.to_owned(),
            port,
            proto: proto.to_owned(),
            formats: parts.map(str::to_owned).collect(),
            attributes: Vec::new(),
        })
    }

    /// The first value of attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        attribute(&self.attributes, name)
    }

    /// Every value of attribute `name`.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes
            .iter()
            .filter_map(move |a| value_of(a, name))
    }

    /// Whether the section carries flag attribute `name` (`rtcp-mux`).
    pub fn has(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a == name)
    }

    /// The section's `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.attribute("mid")
    }

    /// The section's direction (`sendrecv` when unsaid).
    pub fn direction(&self) -> Direction {
        for a in &self.attributes {
            match a.as_str() {
                "sendonly" => return Direction::SendOnly,
                "recvonly" => return Direction::RecvOnly,
                "inactive" => return Direction::Inactive,
                "sendrecv" => return Direction::SendRecv,
                _ => {}
            }
        }
        Direction::SendRecv
    }

    /// The section's codecs, in the `m=` line's order of preference.
    pub fn codecs(&self) -> Vec<Codec> {
        let mut codecs: Vec<Codec> = self
            .values("rtpmap")
            .filter_map(|v| {
                let (pt, encoding) = v.split_once(' ')?;
                let (name, rate) = encoding.split_once('/')?;
                Some(Codec {
                    pt: pt.parse().ok()?,
                    name: name.to_owned(),
                    rate: rate.to_owned(),
                })
            })
            .collect();
        let rank = |pt: u8| {
            self.formats
                .iter()
                .position(|f| f.parse() == Ok(pt))
                .unwrap_or(usize::MAX)
        };
        codecs.sort_by_key(|c| rank(c.pt));
        codecs
    }

    /// The `a=fmtp` parameters of payload type `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        let prefix = format!("{pt} ");
        self.values("fmtp")
            .find_map(|v| v.strip_prefix(prefix.as_str()))
    }

    /// The `a=rtcp-fb` feedback types of payload type `pt` (`nack`, `nack pli`, …).
    pub fn feedback(&self, pt: u8) -> Vec<&str> {
        let prefix = format!("{pt} ");
        self.values("rtcp-fb")
            .filter_map(|v| v.strip_prefix(prefix.as_str()))
            .collect()
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        })
    }
}

/// The value of `attr` if it is attribute `name` (`name:value`, or `name` alone → "").
fn value_of<'a>(attr: &'a str, name: &str) -> Option<&'a str> {
    match attr.strip_prefix(name)? {
        "" => Some(""),
        rest => rest.strip_prefix(':'),
    }
}

fn attribute<'a>(attributes: &'a [String], name: &str) -> Option<&'a str> {
    attributes.iter().find_map(|a| value_of(a, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        a=group:BUNDLE 0 1\r\na=fingerprint:sha-256 AB:CD\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n\
        a=ice-ufrag:uf\r\na=ice-pwd:pw\r\na=setup:actpass\r\na=recvonly\r\na=rtcp-mux\r\n\
        a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
        a=rtpmap:0 PCMU/8000\r\na=candidate:1 1 udp 2122 127.0.0.1 5000 typ host\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 102 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\n\
        a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n\
        a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1\r\n";

    #[test]
    fn a_browser_offer_gives_its_sections_codecs_and_transport() {
        let sdp = Sdp::parse(OFFER).expect("parses");
        assert_eq!(sdp.media.len(), 2);
        let (audio, video) = (&sdp.media[0], &sdp.media[1]);
        assert_eq!((audio.kind.as_str(), audio.mid()), ("audio", Some("0")));
        assert_eq!(audio.direction(), Direction::RecvOnly);
        assert!(audio.has("rtcp-mux"));
        assert_eq!(audio.fmtp(111), Some("minptime=10;useinbandfec=1"));
        let names: Vec<_> = video.codecs().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["H264", "VP8"], "in the m= line's order");
        assert_eq!(video.feedback(96), ["nack", "nack pli"]);
        let transport = sdp.transport().expect("transport");
        assert_eq!(transport.ufrag, "uf");
        assert_eq!(
            transport.fingerprint, "sha-256 AB:CD",
            "from the session level"
        );
        assert_eq!(transport.candidates.len(), 1);
    }

    #[test]
    fn what_is_not_an_offer_is_refused_with_a_reason() {
        for bad in [
            "",
            "hello",
            "v=0\r\ns=-\r\n",
            "v=0\r\nm=audio\r\n",
            "v=0\r\nm=audio x UDP 1\r\n",
            "v=0\r\nbroken line\r\n",
        ] {
            assert!(Sdp::parse(bad).is_err(), "{bad:?}");
        }
        let no_ice = Sdp::parse("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n").expect("parses");
        assert!(no_ice.transport().is_err());
    }
}
