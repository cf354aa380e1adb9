//! How the browser-bound messages ([`ServerMsg`], [`PeerMsg`], [`Signal`]) are read: each
//! through one flat struct holding every field any of its variants has, then checked and
//! turned into the variant its tag names (`#[serde(try_from = …)]` on the type).
//!
//! Why not serde's internally tagged derive, which reads the same JSON: it buffers every
//! message into a generic tree first and then has a deserializer per variant over that tree.
//! In the WebAssembly client that machinery was about 55 KB of code for these three types,
//! most of the margin by which the client missed its size budget (issue #11). One flat
//! struct per type is read straight from the JSON text.
//!
//! The JSON accepted is the same, with one difference on input that is wrong anyway: a field
//! this message type has but this variant does not must still have its type's shape (a
//! `pong` with `"peer": 5` is refused; the derive ignored it as unknown). Errors read as
//! serde's do: ``missing field `peer_id` ``, ``unknown variant `shout`, expected one of …``.
//! The messages' serialisation is still derived.

use std::fmt;

use serde::Deserialize;

use crate::peer::PeerMsg;
use crate::{
    ErrorCode, IceServer, IceTransportPolicy, LeaveReason, PeerId, PeerInfo, RoomLimits, RoomName,
    ServerMsg, SessionToken, Signal,
};

/// A required field of the tagged variant is absent (or `null`).
#[derive(Debug, PartialEq, Eq)]
pub struct MissingField(&'static str);

impl fmt::Display for MissingField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "missing field `{}`", self.0)
    }
}

/// The value of a field the variant requires.
fn need<T>(value: Option<T>, field: &'static str) -> Result<T, MissingField> {
    value.ok_or(MissingField(field))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ServerKind {
    #[default]
    Welcome,
    Resumed,
    PeerJoined,
    PeerLeft,
    PeerUpdated,
    Signal,
    Chat,
    Pong,
    Error,
    ShuttingDown,
    HostChanged,
    LockChanged,
    MuteRequested,
    Removed,
    MeetingEnded,
    IceServersRenewed,
}

/// Every field of every [`ServerMsg`] variant.
#[derive(Deserialize)]
pub struct ServerFields {
    #[serde(rename = "type")]
    pub(crate) kind: ServerKind,
    pub(crate) version: Option<u32>,
    pub(crate) peer_id: Option<PeerId>,
    pub(crate) room: Option<RoomName>,
    pub(crate) roster: Option<Vec<PeerInfo>>,
    pub(crate) ice_servers: Option<Vec<IceServer>>,
    pub(crate) ice_transport_policy: Option<IceTransportPolicy>,
    pub(crate) limits: Option<RoomLimits>,
    pub(crate) session: Option<SessionToken>,
    pub(crate) resume_grace_ms: Option<u64>,
    pub(crate) peer: Option<PeerInfo>,
    pub(crate) reason: Option<LeaveReason>,
    pub(crate) from: Option<PeerId>,
    pub(crate) signal: Option<Signal>,
    pub(crate) seq: Option<u64>,
    pub(crate) text: Option<String>,
    pub(crate) sent_at_ms: Option<u64>,
    pub(crate) nonce: Option<u64>,
    pub(crate) code: Option<ErrorCode>,
    pub(crate) message: Option<String>,
    pub(crate) reconnect_after_ms: Option<u64>,
    pub(crate) host: Option<PeerId>,
    pub(crate) locked: Option<bool>,
    pub(crate) by: Option<PeerId>,
}

impl TryFrom<ServerFields> for ServerMsg {
    type Error = MissingField;

    fn try_from(f: ServerFields) -> Result<Self, MissingField> {
        Ok(match f.kind {
            ServerKind::Welcome => ServerMsg::Welcome {
                version: need(f.version, "version")?,
                peer_id: need(f.peer_id, "peer_id")?,
                room: need(f.room, "room")?,
                roster: need(f.roster, "roster")?,
                ice_servers: need(f.ice_servers, "ice_servers")?,
                ice_transport_policy: f.ice_transport_policy.unwrap_or_default(),
                limits: need(f.limits, "limits")?,
                session: need(f.session, "session")?,
                resume_grace_ms: need(f.resume_grace_ms, "resume_grace_ms")?,
                host: f.host,
                locked: f.locked.unwrap_or_default(),
            },
            ServerKind::Resumed => ServerMsg::Resumed {
                peer_id: need(f.peer_id, "peer_id")?,
                room: need(f.room, "room")?,
            },
            ServerKind::PeerJoined => ServerMsg::PeerJoined {
                peer: need(f.peer, "peer")?,
            },
            ServerKind::PeerLeft => ServerMsg::PeerLeft {
                peer_id: need(f.peer_id, "peer_id")?,
                reason: need(f.reason, "reason")?,
            },
            ServerKind::PeerUpdated => ServerMsg::PeerUpdated {
                peer: need(f.peer, "peer")?,
            },
            ServerKind::Signal => ServerMsg::Signal {
                from: need(f.from, "from")?,
                signal: need(f.signal, "signal")?,
            },
            ServerKind::Chat => ServerMsg::Chat {
                from: need(f.from, "from")?,
                seq: need(f.seq, "seq")?,
                text: need(f.text, "text")?,
                sent_at_ms: need(f.sent_at_ms, "sent_at_ms")?,
            },
            ServerKind::Pong => ServerMsg::Pong {
                nonce: need(f.nonce, "nonce")?,
            },
            ServerKind::Error => ServerMsg::Error {
                code: need(f.code, "code")?,
                message: need(f.message, "message")?,
            },
            ServerKind::ShuttingDown => ServerMsg::ShuttingDown {
                reconnect_after_ms: need(f.reconnect_after_ms, "reconnect_after_ms")?,
            },
            ServerKind::HostChanged => ServerMsg::HostChanged {
                peer_id: need(f.peer_id, "peer_id")?,
            },
            ServerKind::LockChanged => ServerMsg::LockChanged {
                locked: need(f.locked, "locked")?,
            },
            ServerKind::MuteRequested => ServerMsg::MuteRequested {
                by: need(f.by, "by")?,
            },
            ServerKind::Removed => ServerMsg::Removed,
            ServerKind::MeetingEnded => ServerMsg::MeetingEnded,
            ServerKind::IceServersRenewed => ServerMsg::IceServersRenewed {
                ice_servers: need(f.ice_servers, "ice_servers")?,
            },
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SignalKind {
    #[default]
    Offer,
    Answer,
    Candidate,
    Reset,
}

/// Every field of every [`Signal`] variant.
#[derive(Deserialize)]
pub struct SignalFields {
    pub(crate) kind: SignalKind,
    pub(crate) sdp: Option<String>,
    pub(crate) candidate: Option<String>,
    pub(crate) sdp_mid: Option<String>,
    pub(crate) sdp_m_line_index: Option<u16>,
    pub(crate) username_fragment: Option<String>,
}

impl TryFrom<SignalFields> for Signal {
    type Error = MissingField;

    fn try_from(f: SignalFields) -> Result<Self, MissingField> {
        Ok(match f.kind {
            SignalKind::Offer => Signal::Offer {
                sdp: need(f.sdp, "sdp")?,
            },
            SignalKind::Answer => Signal::Answer {
                sdp: need(f.sdp, "sdp")?,
            },
            SignalKind::Candidate => Signal::Candidate {
                candidate: need(f.candidate, "candidate")?,
                sdp_mid: f.sdp_mid,
                sdp_m_line_index: f.sdp_m_line_index,
                username_fragment: f.username_fragment,
            },
            SignalKind::Reset => Signal::Reset,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PeerKind {
    #[default]
    Chat,
    Prefs,
    FileOffer,
    FileEnd,
    FileCancel,
}

/// Every field of every [`PeerMsg`] variant.
#[derive(Deserialize)]
pub struct PeerFields {
    #[serde(rename = "type")]
    pub(crate) kind: PeerKind,
    pub(crate) seq: Option<u64>,
    pub(crate) text: Option<String>,
    pub(crate) video: Option<bool>,
    pub(crate) transfer: Option<u32>,
    pub(crate) name: Option<String>,
    pub(crate) size: Option<u64>,
    pub(crate) mime: Option<String>,
    pub(crate) sha256: Option<String>,
    pub(crate) by_receiver: Option<bool>,
}

impl TryFrom<PeerFields> for PeerMsg {
    type Error = MissingField;

    fn try_from(f: PeerFields) -> Result<Self, MissingField> {
        Ok(match f.kind {
            PeerKind::Chat => PeerMsg::Chat {
                seq: need(f.seq, "seq")?,
                text: need(f.text, "text")?,
            },
            PeerKind::Prefs => PeerMsg::Prefs {
                video: need(f.video, "video")?,
            },
            PeerKind::FileOffer => PeerMsg::FileOffer {
                transfer: need(f.transfer, "transfer")?,
                name: need(f.name, "name")?,
                size: need(f.size, "size")?,
                mime: need(f.mime, "mime")?,
            },
            PeerKind::FileEnd => PeerMsg::FileEnd {
                transfer: need(f.transfer, "transfer")?,
                sha256: need(f.sha256, "sha256")?,
            },
            PeerKind::FileCancel => PeerMsg::FileCancel {
                transfer: need(f.transfer, "transfer")?,
                by_receiver: need(f.by_receiver, "by_receiver")?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MediaState;

    fn error_of<T: for<'de> Deserialize<'de> + fmt::Debug>(json: &str) -> String {
        serde_json::from_str::<T>(json)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn every_variant_reads_back_what_the_derived_serialisation_writes() {
        let peer = PeerInfo {
            id: PeerId::from("p2"),
            name: "Bo".into(),
            media: MediaState {
                mic: true,
                camera: false,
                screen: true,
            },
        };
        let server = [
            ServerMsg::Welcome {
                version: 1,
                peer_id: PeerId::from("p1"),
                room: RoomName("standup".into()),
                roster: vec![peer.clone()],
                ice_servers: vec![IceServer {
                    urls: vec!["turn:127.0.0.1:3478".into()],
                    username: Some("u".into()),
                    credential: Some("c".into()),
                }],
                ice_transport_policy: IceTransportPolicy::Relay,
                limits: RoomLimits {
                    max_participants: 8,
                    max_message_bytes: 65536,
                    messages_per_second: 50,
                    max_chat_chars: 2000,
                    max_file_bytes: 7,
                },
                session: SessionToken("s3cr3t".into()),
                resume_grace_ms: 8000,
                host: Some(PeerId::from("p0")),
                locked: true,
            },
            ServerMsg::Resumed {
                peer_id: PeerId::from("p1"),
                room: RoomName("standup".into()),
            },
            ServerMsg::PeerJoined { peer: peer.clone() },
            ServerMsg::PeerLeft {
                peer_id: PeerId::from("p2"),
                reason: LeaveReason::TimedOut,
            },
            ServerMsg::PeerUpdated { peer },
            ServerMsg::Signal {
                from: PeerId::from("p2"),
                signal: Signal::Answer { sdp: "v=0".into() },
            },
            ServerMsg::Chat {
                from: PeerId::from("p2"),
                seq: 1,
                text: "hi".into(),
                sent_at_ms: 5,
            },
            ServerMsg::Pong { nonce: 9 },
            ServerMsg::Error {
                code: ErrorCode::RoomFull,
                message: "full".into(),
            },
            ServerMsg::ShuttingDown {
                reconnect_after_ms: 1500,
            },
            ServerMsg::HostChanged {
                peer_id: PeerId::from("p2"),
            },
            ServerMsg::LockChanged { locked: false },
            ServerMsg::MuteRequested {
                by: PeerId::from("p0"),
            },
            ServerMsg::Removed,
            ServerMsg::MeetingEnded,
            ServerMsg::IceServersRenewed {
                ice_servers: Vec::new(),
            },
        ];
        for msg in server {
            let json = serde_json::to_string(&msg).expect("serializes");
            assert_eq!(serde_json::from_str::<ServerMsg>(&json).ok(), Some(msg));
        }
        let signals = [
            Signal::Offer { sdp: "v=0".into() },
            Signal::Reset,
            Signal::Candidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
                username_fragment: Some("abcd".into()),
            },
            Signal::Candidate {
                candidate: String::new(),
                sdp_mid: None,
                sdp_m_line_index: None,
                username_fragment: None,
            },
        ];
        for signal in signals {
            let json = serde_json::to_string(&signal).expect("serializes");
            assert_eq!(serde_json::from_str::<Signal>(&json).ok(), Some(signal));
        }
        let peer = [
            PeerMsg::Chat {
                seq: 1,
                text: "x".into(),
            },
            PeerMsg::Prefs { video: false },
            PeerMsg::FileOffer {
                transfer: 2,
                name: "a.txt".into(),
                size: 3,
                mime: String::new(),
            },
            PeerMsg::FileEnd {
                transfer: 2,
                sha256: "00".into(),
            },
            PeerMsg::FileCancel {
                transfer: 2,
                by_receiver: true,
            },
        ];
        for msg in peer {
            let json = serde_json::to_string(&msg).expect("serializes");
            assert_eq!(serde_json::from_str::<PeerMsg>(&json).ok(), Some(msg));
        }
    }

    /// Exhaustive on purpose: a new variant does not compile until it has a tag here, and
    /// the tag enums above must then learn it too (this test fails until they do).
    #[test]
    fn every_tag_the_types_write_is_one_the_flat_structs_read() {
        fn server(msg: &ServerMsg) -> &'static str {
            match msg {
                ServerMsg::Welcome { .. }
                | ServerMsg::Resumed { .. }
                | ServerMsg::PeerJoined { .. }
                | ServerMsg::PeerLeft { .. }
                | ServerMsg::PeerUpdated { .. }
                | ServerMsg::Signal { .. }
                | ServerMsg::Chat { .. }
                | ServerMsg::Pong { .. }
                | ServerMsg::Error { .. }
                | ServerMsg::ShuttingDown { .. }
                | ServerMsg::HostChanged { .. }
                | ServerMsg::LockChanged { .. }
                | ServerMsg::MuteRequested { .. }
                | ServerMsg::Removed
                | ServerMsg::MeetingEnded
                | ServerMsg::IceServersRenewed { .. } => msg.kind(),
            }
        }
        // (Signal's tags: `Signal::kind` is exhaustive, and a test in lib.rs holds it to
        // `Signal::KINDS`.)
        let _ = server;
        for tag in ServerMsg::KINDS {
            let read = serde_json::from_value::<ServerKind>(serde_json::json!(tag));
            assert!(read.is_ok(), "{tag}");
        }
        for tag in PeerMsg::KINDS {
            let read = serde_json::from_value::<PeerKind>(serde_json::json!(tag));
            assert!(read.is_ok(), "{tag}");
        }
        for tag in Signal::KINDS {
            let read = serde_json::from_value::<SignalKind>(serde_json::json!(tag));
            assert!(read.is_ok(), "{tag}");
        }
    }

    #[test]
    fn tag_may_come_anywhere_and_defaults_apply() {
        let msg: ServerMsg = serde_json::from_str(
            r#"{"roster":[],"ice_servers":[],"peer_id":"p1","room":"r","version":2,
                "session":"s","resume_grace_ms":8000,
                "limits":{"max_participants":8,"max_message_bytes":1,"messages_per_second":1,
                "max_chat_chars":1},"type":"welcome"}"#,
        )
        .expect("parses");
        match msg {
            ServerMsg::Welcome {
                ice_transport_policy,
                limits,
                ..
            } => {
                assert_eq!(ice_transport_policy, IceTransportPolicy::All);
                assert_eq!(limits.max_file_bytes, crate::DEFAULT_MAX_FILE_BYTES);
            }
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    #[test]
    fn refusals_name_the_missing_field_or_the_unknown_tag() {
        assert!(
            error_of::<ServerMsg>(r#"{"type":"peer_left","reason":"left"}"#)
                .starts_with("missing field `peer_id`")
        );
        assert!(error_of::<ServerMsg>(r#"{"type":"shout"}"#)
            .starts_with("unknown variant `shout`, expected one of `welcome`"));
        assert!(error_of::<ServerMsg>(r#"{"nonce":1}"#).starts_with("missing field `type`"));
        assert!(error_of::<ServerMsg>(r#"{"type":"pong","nonce":null}"#)
            .starts_with("missing field `nonce`"));
        assert!(error_of::<ServerMsg>(r#"{"type":"pong","nonce":"1"}"#)
            .starts_with("invalid type: string \"1\", expected u64"));
        assert!(error_of::<Signal>(r#"{"kind":"offer","candidate":"x"}"#)
            .starts_with("missing field `sdp`"));
        assert!(error_of::<PeerMsg>(r#"{"type":"file_end","transfer":1}"#)
            .starts_with("missing field `sha256`"));
        assert!(serde_json::from_str::<ServerMsg>("[1,2]").is_err());
    }
}
