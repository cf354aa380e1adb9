//! The parts of messages about going live: a meeting's stage carried to an audience outside
//! it (see PROTOCOL.md, "Live").

use serde::{Deserialize, Serialize};

use crate::PeerId;

/// Most participants on a live stage.
pub const MAX_STAGE: usize = 4;
/// Encoders' WHIP tokens a relay keeps per room (the oldest is forgotten when the host
/// creates one more); the host's page keeps as many.
pub const MAX_INGESTS_PER_ROOM: usize = 8;
/// Most RTMP(S) addresses one live is pushed to.
pub const MAX_RTMP_TARGETS: usize = 4;
/// Longest RTMP(S) address, in bytes (a platform's ingest URL with its stream key).
pub const MAX_RTMP_URL_BYTES: usize = 1024;

/// Where a live goes besides its watch link, encoded once on the server: RTMP(S) addresses
/// (a platform's ingest URL ending with its stream key) and HLS. Only the host sends them
/// and only the relay running the live keeps them: no other participant ever sees a stream
/// key.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveOutputs {
    /// `rtmp://` or `rtmps://` addresses, at most [`MAX_RTMP_TARGETS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rtmp: Vec<String>,
    /// Whether the relay also writes HLS, served at `/live/<room>/index.m3u8?t=<token>`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hls: bool,
}

/// Stream keys masked: outputs may be logged with `{:?}`.
impl std::fmt::Debug for LiveOutputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked: Vec<String> = self.rtmp.iter().map(|u| mask_rtmp_url(u)).collect();
        f.debug_struct("LiveOutputs")
            .field("rtmp", &masked)
            .field("hls", &self.hls)
            .finish()
    }
}

impl LiveOutputs {
    /// Whether the live goes to its watch link only (nothing to encode on the server).
    pub fn is_empty(&self) -> bool {
        self.rtmp.is_empty() && !self.hls
    }

    /// Checks every address: at most [`MAX_RTMP_TARGETS`], each `rtmp://` or `rtmps://`
    /// with a host and an application path, at most [`MAX_RTMP_URL_BYTES`], without
    /// spaces, control characters or the characters the encoder's output list reserves
    /// (`|`, `[`, `]`, `\`, quotes). The reason names the address masked.
    pub fn validate(&self) -> Result<(), String> {
        if self.rtmp.len() > MAX_RTMP_TARGETS {
            return Err(format!("at most {MAX_RTMP_TARGETS} RTMP addresses"));
        }
        for url in &self.rtmp {
            let rest = url
                .strip_prefix("rtmp://")
                .or_else(|| url.strip_prefix("rtmps://"));
            let bad = |why: &str| Err(format!("{}: {why}", mask_rtmp_url(url)));
            let Some(rest) = rest else {
                return bad("an RTMP address starts with rtmp:// or rtmps://");
            };
            if url.len() > MAX_RTMP_URL_BYTES {
                return bad("longer than an RTMP address can be");
            }
            if url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "|[]\\'\"".contains(c))
            {
                return bad("contains a space or a character an RTMP address cannot hold");
            }
            match rest.split_once('/') {
                Some((host, path)) if !host.is_empty() && !path.is_empty() => {}
                _ => return bad("an RTMP address names a host and an application"),
            }
        }
        Ok(())
    }
}

/// `url` with its last path segment (an RTMP stream key), any query and any user and
/// password hidden, for logs and error messages: `rtmp://host/app/****`.
pub fn mask_rtmp_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    let trimmed = without_query.trim_end_matches('/');
    let Some((scheme, rest)) = trimmed.split_once("://") else {
        return "****".to_owned();
    };
    let Some((authority, path)) = rest.split_once('/') else {
        return "****".to_owned();
    };
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => format!("****@{host}"),
        None => authority.to_owned(),
    };
    // Everything but the path's last segment: the application (and any instance).
    match path.rsplit_once('/') {
        Some((app, _)) => format!("{scheme}://{host}/{app}/****"),
        None => format!("{scheme}://{host}/****"),
    }
}

/// A room that is live: who is on the stage, and the token that lets the audience watch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveInfo {
    /// The participants the audience sees and hears, in order (one to [`MAX_STAGE`]).
    pub stage: Vec<PeerId>,
    /// The viewer token of the watch link `/live/<room>?t=<token>` and of WHEP's
    /// `Authorization: Bearer`: it lets its holder watch this live and nothing else, and
    /// stops working when the live ends.
    pub watch_token: String,
    /// Whether the stage follows whoever speaks (it then names one: who speaks now, as the
    /// relay running the live moves it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_speaker: bool,
}

/// How one RTMP address of a live is doing, as its host is told: the address with its
/// stream key masked, and whether the stage reaches it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtmpOutputState {
    /// The address as it may be shown (`rtmp://host/app/****`).
    pub address: String,
    /// Whether it receives the stage.
    pub status: RtmpOutputStatus,
    /// While failing: what went wrong, as the encoder said it (stream key masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// While failing: seconds until the next try (doubling to 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_secs: Option<u32>,
}

/// Whether an RTMP address receives the stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RtmpOutputStatus {
    /// Being connected to (the first time, or again after a failure).
    Connecting,
    /// Receiving the stage.
    Sending,
    /// It refused or dropped the stream; tried again after `retry_secs`.
    Failing,
}

/// What `GET /live/<room>/status?t=<token>` answers: whether the room is live and, while it
/// is, whether the stage's media is flowing and how many watch over WebRTC. A room that is
/// not live answers `{"live": false}` whatever the token, so a guess learns nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStatus {
    /// Whether the room is live.
    pub live: bool,
    /// Whether the stage's media reaches the audience (the stage participant publishes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_air: Option<bool>,
    /// Viewers connected over WebRTC (WHEP) on the relay that runs the live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewers: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(urls: &[&str]) -> LiveOutputs {
        LiveOutputs {
            rtmp: urls.iter().map(|u| (*u).to_owned()).collect(),
            hls: false,
        }
    }

    #[test]
    fn stream_keys_are_masked_in_what_is_logged() {
        assert_eq!(
            mask_rtmp_url("rtmp://live.example.com/app/sk_live_123"),
            "rtmp://live.example.com/app/****"
        );
        assert_eq!(
            mask_rtmp_url("rtmps://h:443/app/key?token=abc"),
            "rtmps://h:443/app/****"
        );
        assert_eq!(mask_rtmp_url("rtmp://hostonly"), "****");
        assert_eq!(mask_rtmp_url("rtmp://h/app/KEY/"), "rtmp://h/app/****");
        assert_eq!(
            mask_rtmp_url("rtmp://user:pass@h/app/key"),
            "rtmp://****@h/app/****"
        );
        let outputs = LiveOutputs {
            rtmp: vec!["rtmp://h/app/sk_123".into()],
            hls: true,
        };
        assert!(!format!("{outputs:?}").contains("sk_123"));
        assert_eq!(mask_rtmp_url("garbage"), "****");
    }

    #[test]
    fn rtmp_addresses_are_accepted_only_when_an_encoder_can_use_them_safely() {
        assert!(
            outputs(&["rtmp://127.0.0.1:1935/live/key", "rtmps://a.b/app/k"])
                .validate()
                .is_ok()
        );
        for bad in [
            "http://example.com/app/key",
            "file:///etc/passwd",
            "rtmp://",
            "rtmp://host",
            "rtmp:///app",
            "rtmp://host/app/key|file:/tmp/x",
            "rtmp://host/app/[f=flv]key",
            "rtmp://host/app/k ey",
            "rtmp://host/app/k\nx",
        ] {
            let err = outputs(&[bad]).validate().expect_err(bad);
            assert!(!err.contains("key") || err.contains("****"), "{err}");
        }
        let long = format!("rtmp://host/app/{}", "k".repeat(MAX_RTMP_URL_BYTES));
        assert!(outputs(&[&long]).validate().is_err());
        let five = ["rtmp://h/a/k"; MAX_RTMP_TARGETS + 1];
        assert!(outputs(&five).validate().is_err());
    }
}
