//! The browser client's side of the wire, without serde: reads [`ServerMsg`] and [`PeerMsg`]
//! and writes [`ClientMsg`] and [`PeerMsg`] through the small tree of `json.rs`. The relay
//! keeps serde's derives; tests (here and in `tests/protocol_doc.rs`) check that both read
//! and write the same JSON for every message, so the two cannot drift.
//!
//! Reading follows the flat structs of `wire.rs` (the same checks and the same
//! ``missing field `x` `` errors): a field that is absent or `null` is missing, unknown
//! fields are ignored, a field of the wrong type is refused.

use crate::json::{self, Json, JsonError, ObjectWriter};
use crate::peer::PeerMsg;
use crate::wire::{PeerFields, PeerKind, ServerFields, ServerKind, SignalFields, SignalKind};
use crate::{
    ClientMsg, ErrorCode, IceServer, IceTransportPolicy, LeaveReason, MediaState, PeerId, PeerInfo,
    RoomLimits, RoomName, ServerMsg, SessionToken, Signal, DEFAULT_MAX_FILE_BYTES,
};

type Result<T> = std::result::Result<T, JsonError>;

impl ServerMsg {
    /// Reads a relay message from its JSON text.
    pub fn from_json(text: &str) -> Result<ServerMsg> {
        let value = json::parse(text)?;
        let mut o = Reader::of(&value)?;
        let kind = o.tag("type", ServerMsg::KINDS, server_kind);
        let fields = ServerFields {
            version: o.u32("version"),
            peer_id: o.str("peer_id").map(PeerId),
            room: o.str("room").map(RoomName),
            roster: o.list("roster", peer_info),
            ice_servers: o.list("ice_servers", ice_server),
            ice_transport_policy: o.with("ice_transport_policy", ice_transport_policy),
            limits: o.with("limits", room_limits),
            session: o.str("session").map(SessionToken),
            resume_grace_ms: o.u64("resume_grace_ms"),
            peer: o.with("peer", peer_info),
            reason: o.with("reason", leave_reason),
            from: o.str("from").map(PeerId),
            signal: o.with("signal", signal),
            seq: o.u64("seq"),
            text: o.str("text"),
            sent_at_ms: o.u64("sent_at_ms"),
            nonce: o.u64("nonce"),
            code: o.with("code", error_code),
            message: o.str("message"),
            reconnect_after_ms: o.u64("reconnect_after_ms"),
            host: o.str("host").map(PeerId),
            locked: o.bool("locked"),
            by: o.str("by").map(PeerId),
            kind,
        };
        o.done()?;
        ServerMsg::try_from(fields).map_err(|e| JsonError(e.to_string()))
    }
}

impl PeerMsg {
    /// Reads a data-channel message from its JSON text.
    pub fn from_json(text: &str) -> Result<PeerMsg> {
        let value = json::parse(text)?;
        let mut o = Reader::of(&value)?;
        let kind = o.tag("type", PeerMsg::KINDS, peer_kind);
        let fields = PeerFields {
            seq: o.u64("seq"),
            text: o.str("text"),
            video: o.bool("video"),
            transfer: o.u32("transfer"),
            name: o.str("name"),
            size: o.u64("size"),
            mime: o.str("mime"),
            sha256: o.str("sha256"),
            by_receiver: o.bool("by_receiver"),
            kind,
        };
        o.done()?;
        PeerMsg::try_from(fields).map_err(|e| JsonError(e.to_string()))
    }

    /// This message as JSON text.
    pub fn to_json(&self) -> String {
        let mut w = ObjectWriter::tagged("type", self.kind());
        match self {
            PeerMsg::Chat { seq, text } => w.int("seq", *seq).str("text", text),
            PeerMsg::Prefs { video } => w.bool("video", *video),
            PeerMsg::FileOffer {
                transfer,
                name,
                size,
                mime,
            } => w
                .int("transfer", u64::from(*transfer))
                .str("name", name)
                .int("size", *size)
                .str("mime", mime),
            PeerMsg::FileEnd { transfer, sha256 } => w
                .int("transfer", u64::from(*transfer))
                .str("sha256", sha256),
            PeerMsg::FileCancel {
                transfer,
                by_receiver,
            } => w
                .int("transfer", u64::from(*transfer))
                .bool("by_receiver", *by_receiver),
        };
        w.finish()
    }
}

impl ClientMsg {
    /// This message as JSON text.
    pub fn to_json(&self) -> String {
        let mut w = ObjectWriter::tagged("type", self.kind());
        match self {
            ClientMsg::Join {
                version,
                room,
                name,
                password,
                media,
                token,
                client_key,
            } => w
                .int("version", u64::from(*version))
                .str("room", room.as_str())
                .str("name", name)
                .opt_str("password", password.as_deref())
                .raw("media", &media_json(media))
                .opt_str("token", token.as_deref())
                .opt_str("client_key", client_key.as_deref()),
            ClientMsg::Resume { version, session } => w
                .int("version", u64::from(*version))
                .str("session", session.as_str()),
            ClientMsg::Signal { to, signal } => {
                w.str("to", to.as_str()).raw("signal", &signal_json(signal))
            }
            ClientMsg::SetMedia { media } => w.raw("media", &media_json(media)),
            ClientMsg::SetName { name } => w.str("name", name),
            ClientMsg::Chat { seq, text } => w.int("seq", *seq).str("text", text),
            ClientMsg::Ping { nonce } => w.int("nonce", *nonce),
            ClientMsg::LockRoom { locked } => w.bool("locked", *locked),
            ClientMsg::RemovePeer { peer_id }
            | ClientMsg::AskToMute { peer_id }
            | ClientMsg::HandOverHost { peer_id } => w.str("peer_id", peer_id.as_str()),
            ClientMsg::Leave | ClientMsg::EndMeeting => &mut w,
        };
        w.finish()
    }
}

impl IceServer {
    /// This server as JSON text: the browser's `RTCIceServer` dictionary (same field names).
    pub fn to_json(&self) -> String {
        let urls = json::array(self.urls.iter().map(|u| json::string(u)));
        let mut w = ObjectWriter::empty();
        w.raw("urls", &urls)
            .opt_str("username", self.username.as_deref())
            .opt_str("credential", self.credential.as_deref());
        w.finish()
    }
}

fn media_json(media: &MediaState) -> String {
    let mut w = ObjectWriter::empty();
    w.bool("mic", media.mic)
        .bool("camera", media.camera)
        .bool("screen", media.screen);
    w.finish()
}

fn signal_json(signal: &Signal) -> String {
    let mut w = ObjectWriter::tagged("kind", signal.kind());
    match signal {
        Signal::Offer { sdp } | Signal::Answer { sdp } => {
            w.str("sdp", sdp);
        }
        // serde writes these three as `null` when absent (no skip_serializing_if).
        Signal::Candidate {
            candidate,
            sdp_mid,
            sdp_m_line_index,
            username_fragment,
        } => {
            w.str("candidate", candidate)
                .str_or_null("sdp_mid", sdp_mid.as_deref())
                .int_or_null("sdp_m_line_index", sdp_m_line_index.map(u64::from))
                .str_or_null("username_fragment", username_fragment.as_deref());
        }
        Signal::Reset => {}
    }
    w.finish()
}

/// Reads the members of one JSON object by name. A member that is absent, `null` or of the
/// wrong type reads as `None`; the first wrong type (or unknown tag) is kept and returned by
/// [`Reader::done`]. Not stopping at each member keeps the code small: the reads of a message
/// are one straight line of calls rather than an early return (and clean-up) per member.
struct Reader<'a> {
    object: &'a Json,
    error: Option<JsonError>,
}

impl<'a> Reader<'a> {
    fn of(value: &'a Json) -> Result<Reader<'a>> {
        match value {
            Json::Obj(_) => Ok(Reader {
                object: value,
                error: None,
            }),
            other => Err(invalid(other, "a map")),
        }
    }

    /// The first error met, if any.
    fn done(self) -> Result<()> {
        self.error.map_or(Ok(()), Err)
    }

    /// Keeps `error` unless an earlier one is kept already.
    #[inline(never)]
    fn first(&mut self, error: JsonError) {
        self.error.get_or_insert(error);
    }

    fn fail(&mut self, key: &str, error: JsonError) {
        self.first(JsonError(format!("{error} (in `{key}`)")));
    }

    /// The member `key` unless absent or `null`.
    #[inline(never)]
    fn get(&self, key: &str) -> Option<&'a Json> {
        self.object.get(key).filter(|v| **v != Json::Null)
    }

    fn with<T>(&mut self, key: &str, read: fn(&Json) -> Result<T>) -> Option<T> {
        match read(self.get(key)?) {
            Ok(value) => Some(value),
            Err(error) => {
                self.fail(key, error);
                None
            }
        }
    }

    #[inline(never)]
    fn str(&mut self, key: &str) -> Option<String> {
        self.with(key, string)
    }

    #[inline(never)]
    fn bool(&mut self, key: &str) -> Option<bool> {
        self.with(key, boolean)
    }

    /// An integer from 0 to `max`.
    #[inline(never)]
    fn int(&mut self, key: &str, max: u64) -> Option<u64> {
        let value = self.get(key)?;
        let error = match value {
            Json::Int(n) => match u64::try_from(*n) {
                Ok(n) if n <= max => return Some(n),
                _ => JsonError(format!("invalid value: integer `{n}` out of range")),
            },
            other => invalid(other, "an integer"),
        };
        self.fail(key, error);
        None
    }

    fn u64(&mut self, key: &str) -> Option<u64> {
        self.int(key, u64::MAX)
    }

    fn u32(&mut self, key: &str) -> Option<u32> {
        // In range by the check.
        self.int(key, u32::MAX.into()).map(|n| n as u32)
    }

    fn u16(&mut self, key: &str) -> Option<u16> {
        self.int(key, u16::MAX.into()).map(|n| n as u16)
    }

    #[inline(never)]
    fn list<T>(&mut self, key: &str, read: fn(&Json) -> Result<T>) -> Option<Vec<T>> {
        let read_all = |value: &Json| match value {
            Json::Arr(items) => items.iter().map(read).collect(),
            other => Err(invalid(other, "a sequence")),
        };
        match read_all(self.get(key)?) {
            Ok(items) => Some(items),
            Err(error) => {
                self.fail(key, error);
                None
            }
        }
    }

    /// The tag `key` (required), one of `kinds`, turned into its enum by `kind`; a missing
    /// or unknown tag is the error.
    fn tag<K: Default>(&mut self, key: &str, kinds: &[&str], kind: fn(&str) -> Option<K>) -> K {
        let Some(name) = self.str(key) else {
            self.first(JsonError(format!("missing field `{key}`")));
            return K::default();
        };
        kind(&name).unwrap_or_else(|| {
            self.first(unknown(&name, kinds));
            K::default()
        })
    }

    /// A required member: `None` is recorded as missing.
    fn need<T>(&mut self, value: Option<T>, key: &str) -> Option<T> {
        if value.is_none() {
            self.first(JsonError(format!("missing field `{key}`")));
        }
        value
    }
}

fn invalid(value: &Json, expected: &str) -> JsonError {
    JsonError(format!(
        "invalid type: {}, expected {expected}",
        value.describe()
    ))
}

fn unknown(name: &str, kinds: &[&str]) -> JsonError {
    let expected: Vec<String> = kinds.iter().map(|k| format!("`{k}`")).collect();
    JsonError(format!(
        "unknown variant `{name}`, expected one of {}",
        expected.join(", ")
    ))
}

fn string(value: &Json) -> Result<String> {
    match value {
        Json::Str(s) => Ok(s.clone()),
        other => Err(invalid(other, "a string")),
    }
}

fn boolean(value: &Json) -> Result<bool> {
    match value {
        Json::Bool(b) => Ok(*b),
        other => Err(invalid(other, "a boolean")),
    }
}

fn media_state(value: &Json) -> Result<MediaState> {
    let mut o = Reader::of(value)?;
    let (mic, camera) = (o.bool("mic"), o.bool("camera"));
    let screen = o.bool("screen").unwrap_or_default();
    let (mic, camera) = (o.need(mic, "mic"), o.need(camera, "camera"));
    o.done()?;
    Ok(MediaState {
        mic: mic.unwrap_or_default(),
        camera: camera.unwrap_or_default(),
        screen,
    })
}

fn peer_info(value: &Json) -> Result<PeerInfo> {
    let mut o = Reader::of(value)?;
    let (id, name, media) = (o.str("id"), o.str("name"), o.with("media", media_state));
    let (id, name, media) = (
        o.need(id, "id"),
        o.need(name, "name"),
        o.need(media, "media"),
    );
    o.done()?;
    Ok(PeerInfo {
        id: PeerId(id.unwrap_or_default()),
        name: name.unwrap_or_default(),
        media: media.unwrap_or_default(),
    })
}

fn ice_server(value: &Json) -> Result<IceServer> {
    let mut o = Reader::of(value)?;
    let urls = o.list("urls", string);
    let urls = o.need(urls, "urls");
    let server = IceServer {
        urls: urls.unwrap_or_default(),
        username: o.str("username"),
        credential: o.str("credential"),
    };
    o.done()?;
    Ok(server)
}

fn room_limits(value: &Json) -> Result<RoomLimits> {
    let mut o = Reader::of(value)?;
    let need = |o: &mut Reader, key| {
        let n = o.u32(key);
        o.need(n, key).unwrap_or_default()
    };
    let limits = RoomLimits {
        max_participants: need(&mut o, "max_participants"),
        max_message_bytes: need(&mut o, "max_message_bytes"),
        messages_per_second: need(&mut o, "messages_per_second"),
        max_chat_chars: need(&mut o, "max_chat_chars"),
        max_file_bytes: o.u64("max_file_bytes").unwrap_or(DEFAULT_MAX_FILE_BYTES),
    };
    o.done()?;
    Ok(limits)
}

fn signal(value: &Json) -> Result<Signal> {
    let mut o = Reader::of(value)?;
    let kind = o.tag("kind", Signal::KINDS, signal_kind);
    let fields = SignalFields {
        sdp: o.str("sdp"),
        candidate: o.str("candidate"),
        sdp_mid: o.str("sdp_mid"),
        sdp_m_line_index: o.u16("sdp_m_line_index"),
        username_fragment: o.str("username_fragment"),
        kind,
    };
    o.done()?;
    Signal::try_from(fields).map_err(|e| JsonError(e.to_string()))
}

/// Reads a string naming one of `all` by its `as_str`.
fn named<T: Copy>(value: &Json, all: &[T], name_of: fn(T) -> &'static str) -> Result<T> {
    let name = string(value)?;
    all.iter()
        .copied()
        .find(|v| name_of(*v) == name)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name_of(*v)).collect();
            unknown(&name, &names)
        })
}

fn error_code(value: &Json) -> Result<ErrorCode> {
    named(value, ErrorCode::ALL, ErrorCode::as_str)
}

fn leave_reason(value: &Json) -> Result<LeaveReason> {
    named(value, LeaveReason::ALL, LeaveReason::as_str)
}

fn ice_transport_policy(value: &Json) -> Result<IceTransportPolicy> {
    named(
        value,
        &[IceTransportPolicy::All, IceTransportPolicy::Relay],
        |p| match p {
            IceTransportPolicy::All => "all",
            IceTransportPolicy::Relay => "relay",
        },
    )
}

fn server_kind(name: &str) -> Option<ServerKind> {
    Some(match name {
        "welcome" => ServerKind::Welcome,
        "resumed" => ServerKind::Resumed,
        "peer_joined" => ServerKind::PeerJoined,
        "peer_left" => ServerKind::PeerLeft,
        "peer_updated" => ServerKind::PeerUpdated,
        "signal" => ServerKind::Signal,
        "chat" => ServerKind::Chat,
        "pong" => ServerKind::Pong,
        "error" => ServerKind::Error,
        "shutting_down" => ServerKind::ShuttingDown,
        "host_changed" => ServerKind::HostChanged,
        "lock_changed" => ServerKind::LockChanged,
        "mute_requested" => ServerKind::MuteRequested,
        "removed" => ServerKind::Removed,
        "meeting_ended" => ServerKind::MeetingEnded,
        "ice_servers_renewed" => ServerKind::IceServersRenewed,
        _ => return None,
    })
}

fn signal_kind(name: &str) -> Option<SignalKind> {
    Some(match name {
        "offer" => SignalKind::Offer,
        "answer" => SignalKind::Answer,
        "candidate" => SignalKind::Candidate,
        "reset" => SignalKind::Reset,
        _ => return None,
    })
}

fn peer_kind(name: &str) -> Option<PeerKind> {
    Some(match name {
        "chat" => PeerKind::Chat,
        "prefs" => PeerKind::Prefs,
        "file_offer" => PeerKind::FileOffer,
        "file_end" => PeerKind::FileEnd,
        "file_cancel" => PeerKind::FileCancel,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn written(msg: &impl serde::Serialize) -> Value {
        serde_json::to_value(msg).expect("serialises")
    }

    fn ours(text: &str) -> Value {
        serde_json::from_str(text).expect("our output is JSON")
    }

    #[test]
    fn candidates_without_optional_fields_are_written_with_nulls_as_serde_does() {
        let msg = ClientMsg::Signal {
            to: PeerId::from("p2"),
            signal: Signal::Candidate {
                candidate: String::new(),
                sdp_mid: None,
                sdp_m_line_index: None,
                username_fragment: None,
            },
        };
        assert_eq!(ours(&msg.to_json()), written(&msg));
    }

    #[test]
    fn join_leaves_out_absent_secrets_as_serde_does() {
        let msg = ClientMsg::Join {
            version: 1,
            room: RoomName("r".into()),
            name: "Ana \"A\" \n".into(),
            password: None,
            media: MediaState::default(),
            token: None,
            client_key: Some("0123456789abcdef".into()),
        };
        assert_eq!(ours(&msg.to_json()), written(&msg));
        let chat = ClientMsg::Chat {
            seq: 3,
            text: "雪".into(),
        };
        assert_eq!(ours(&chat.to_json()), written(&chat));
    }

    #[test]
    fn defaults_fill_absent_optional_fields() {
        let text = json!({
            "type": "welcome", "version": 2, "peer_id": "p1", "room": "r", "roster": [
                { "id": "p2", "name": "Bo", "media": { "mic": true, "camera": false } }
            ],
            "ice_servers": [], "limits": { "max_participants": 8, "max_message_bytes": 1,
            "messages_per_second": 2, "max_chat_chars": 3 }, "session": "s",
            "resume_grace_ms": 5, "host": null, "extra": [1.5, {"x": null}]
        })
        .to_string();
        let theirs: ServerMsg = serde_json::from_str(&text).expect("serde reads it");
        assert_eq!(ServerMsg::from_json(&text), Ok(theirs));
    }

    #[test]
    fn missing_and_mistyped_fields_and_unknown_kinds_are_refused_like_serde() {
        let cases = [
            (r#"{"type":"pong"}"#, "missing field `nonce`"),
            (r#"{"type":"pong","nonce":null}"#, "missing field `nonce`"),
            (
                r#"{"type":"pong","nonce":"7"}"#,
                "invalid type: a string, expected an integer",
            ),
            (
                r#"{"type":"pong","nonce":1.5}"#,
                "invalid type: a number, expected an integer",
            ),
            (r#"{"type":"pong","nonce":-1}"#, "out of range"),
            (
                r#"{"type":"shout"}"#,
                "unknown variant `shout`, expected one of `welcome`",
            ),
            (r#"{"nonce":1}"#, "missing field `type`"),
            (r#"[1]"#, "invalid type: a sequence, expected a map"),
            (
                r#"{"type":"error","code":"nope","message":"m"}"#,
                "unknown variant `nope`",
            ),
            (
                r#"{"type":"peer_joined","peer":{"id":"p","name":"n"}}"#,
                "missing field `media`",
            ),
            (
                r#"{"type":"signal","from":"p","signal":{"kind":"offer"}}"#,
                "missing field `sdp`",
            ),
            (
                r#"{"type":"lock_changed","locked":1}"#,
                "invalid type: a number, expected a boolean",
            ),
            (r#"{"type":"pong","nonce":1} x"#, "trailing characters"),
        ];
        for (text, expected) in cases {
            let err = ServerMsg::from_json(text).expect_err(text).0;
            assert!(err.contains(expected), "{text}: {err}");
            assert!(
                serde_json::from_str::<ServerMsg>(text).is_err(),
                "serde accepts {text}"
            );
        }
    }

    #[test]
    fn integers_out_of_their_field_range_are_refused() {
        let text = r#"{"type":"signal","from":"p","signal":{"kind":"candidate","candidate":"c","sdp_m_line_index":70000}}"#;
        assert!(ServerMsg::from_json(text).is_err());
        assert!(serde_json::from_str::<ServerMsg>(text).is_err());
        let text = r#"{"type":"file_end","transfer":4294967296,"sha256":"00"}"#;
        assert!(PeerMsg::from_json(text).is_err());
        assert!(serde_json::from_str::<PeerMsg>(text).is_err());
    }

    #[test]
    fn every_peer_message_round_trips_and_matches_serde() {
        let all = [
            PeerMsg::Chat {
                seq: u64::MAX,
                text: "<b>hi</b> \u{1}".into(),
            },
            PeerMsg::Prefs { video: false },
            PeerMsg::FileOffer {
                transfer: u32::MAX,
                name: "a \"b\".txt".into(),
                size: 1 << 40,
                mime: String::new(),
            },
            PeerMsg::FileEnd {
                transfer: 0,
                sha256: "ab".into(),
            },
            PeerMsg::FileCancel {
                transfer: 3,
                by_receiver: true,
            },
        ];
        for msg in all {
            let text = msg.to_json();
            assert_eq!(ours(&text), written(&msg), "{text}");
            assert_eq!(PeerMsg::from_json(&text), Ok(msg.clone()));
            let theirs = serde_json::to_string(&msg).expect("serialises");
            assert_eq!(PeerMsg::from_json(&theirs), Ok(msg));
        }
    }

    #[test]
    fn ice_servers_are_written_as_serde_writes_them() {
        for server in [
            IceServer {
                urls: vec![
                    "stun:127.0.0.1:3478".into(),
                    "turn:h:1?transport=tcp".into(),
                ],
                username: Some("1700000000:ana".into()),
                credential: Some("c/+=".into()),
            },
            IceServer {
                urls: vec![],
                username: None,
                credential: None,
            },
        ] {
            assert_eq!(ours(&server.to_json()), written(&server));
        }
    }

    #[test]
    fn every_tag_of_every_message_type_is_read() {
        assert!(ServerMsg::KINDS.iter().all(|k| server_kind(k).is_some()));
        assert!(PeerMsg::KINDS.iter().all(|k| peer_kind(k).is_some()));
        assert!(Signal::KINDS.iter().all(|k| signal_kind(k).is_some()));
        assert!(server_kind("shout").is_none() && signal_kind("shout").is_none());
    }

    #[test]
    fn every_leave_reason_is_listed() {
        // A new variant fails to compile here until it is listed in `ALL` too.
        let listed = |r: LeaveReason| match r {
            LeaveReason::Left
            | LeaveReason::Disconnected
            | LeaveReason::TimedOut
            | LeaveReason::Removed => LeaveReason::ALL.contains(&r),
        };
        assert!([
            LeaveReason::Left,
            LeaveReason::Disconnected,
            LeaveReason::TimedOut,
            LeaveReason::Removed
        ]
        .into_iter()
        .all(listed));
    }

    #[test]
    fn leave_reasons_and_error_codes_are_named_as_serde_names_them() {
        for reason in LeaveReason::ALL {
            assert_eq!(written(reason), json!(reason.as_str()));
        }
        for code in ErrorCode::ALL {
            assert_eq!(written(code), json!(code.as_str()));
        }
    }
}
