//! What both sides of the wire must agree on, as checks shared by the native tests
//! (`protocol_doc.rs`) and the browser tests (`tests/web_protocol.rs` of the client): every
//! PROTOCOL.md example reads and writes back identically through [`ProtocolMsg`], and a malformed
//! message gets the same typed [`DecodeError`] on each side.

use meshmeet_protocol::{
    ClientMsg, DecodeError, LiveStatus, PeerMsg, ProtocolMsg, ServerMsg, MAX_NESTING_DEPTH,
};
use serde_json::Value;

/// PROTOCOL.md, compiled in so the browser tests have it too.
pub const PROTOCOL_MD: &str = include_str!("../../../PROTOCOL.md");

/// A fenced block of the document.
pub struct Block {
    /// The text after the opening fence (`json client`, …).
    pub info: String,
    /// The lines inside.
    pub body: String,
    /// The line of the opening fence (1-based).
    pub line: usize,
}

/// Every fenced block of `doc`, in order.
pub fn fenced_blocks(doc: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, line) in doc.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim_end().to_owned(),
                    body: String::new(),
                    line: index + 1,
                });
            }
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some(block), None) => {
                block.body.push_str(line);
                block.body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "PROTOCOL.md has an unclosed code block");
    blocks
}

/// Reads an example as the receiving side does and checks it is canonical: writing it back
/// as the sending side does gives the same JSON.
fn parse_canonical<T: serde::Serialize + serde::de::DeserializeOwned>(block: &Block) -> (T, Value) {
    let written: Value = serde_json::from_str(&block.body).unwrap_or_else(|err| {
        panic!("PROTOCOL.md line {}: not JSON: {err}", block.line);
    });
    let parsed: T = serde_json::from_str(&block.body).unwrap_or_else(|err| {
        panic!(
            "PROTOCOL.md line {}: not a valid `{}` message: {err}",
            block.line, block.info
        );
    });
    let rewritten = serde_json::to_value(&parsed).expect("the types write JSON");
    assert_eq!(
        rewritten, written,
        "PROTOCOL.md line {}: the example is not written the way the types write it",
        block.line
    );
    (parsed, written)
}

/// The examples of PROTOCOL.md, read into the types, each with its JSON.
pub struct Examples {
    /// `json client` blocks.
    pub client: Vec<(ClientMsg, Value)>,
    /// `json server` blocks.
    pub server: Vec<(ServerMsg, Value)>,
    /// `json peer` blocks.
    pub peer: Vec<(PeerMsg, Value)>,
    /// `json live-status` blocks (the answer of `GET /live/<room>/status`).
    pub live_status: Vec<(LiveStatus, Value)>,
}

/// Reads every example of `doc`; panics on one that does not read or write back identically.
pub fn examples(doc: &str) -> Examples {
    let mut examples = Examples {
        client: Vec::new(),
        server: Vec::new(),
        peer: Vec::new(),
        live_status: Vec::new(),
    };
    for block in fenced_blocks(doc) {
        match block.info.as_str() {
            "json client" => examples.client.push(parse_canonical(&block)),
            "json server" => examples.server.push(parse_canonical(&block)),
            "json peer" => examples.peer.push(parse_canonical(&block)),
            "json live-status" => examples.live_status.push(parse_canonical(&block)),
            other => assert!(
                !other.starts_with("json"),
                "PROTOCOL.md line {}: a JSON block must be marked exactly `json client`, \
                 `json server`, `json peer` or `json live-status`, not `{other}`",
                block.line
            ),
        }
    }
    examples
}

/// Checks every example of PROTOCOL.md on this side (native or browser): each reads and
/// writes back identically, and each kind of block has some.
pub fn check_examples() {
    let examples = examples(PROTOCOL_MD);
    assert!(!examples.client.is_empty());
    assert!(!examples.server.is_empty());
    assert!(!examples.peer.is_empty());
    assert!(!examples.live_status.is_empty());
}

/// A message of `levels` levels of nesting (its own object included), tagged `tag`.
fn nested(tag: &str, levels: usize) -> String {
    let arrays = levels - 1;
    format!(
        r#"{{"type":"{tag}","x":{}{}}}"#,
        "[".repeat(arrays),
        "]".repeat(arrays)
    )
}

/// Malformed texts and the error every message type must give for them.
pub fn malformed() -> Vec<(String, DecodeError)> {
    vec![
        (
            r#"{"type":"shout","text":"hi"}"#.into(),
            DecodeError::UnknownTag("shout".into()),
        ),
        (
            r#"{"text":"hi"}"#.into(),
            DecodeError::MissingField("type".into()),
        ),
        (
            r#"{"type":7}"#.into(),
            DecodeError::WrongType("invalid type: integer `7`, expected variant identifier".into()),
        ),
        (
            "42".into(),
            DecodeError::WrongType(
                "invalid type: integer `42`, expected internally tagged enum".into(),
            ),
        ),
        (nested("chat", MAX_NESTING_DEPTH + 1), DecodeError::TooDeep),
        (
            "{\"type\":".into(),
            DecodeError::NotJson("EOF while parsing a value".into()),
        ),
    ]
}

/// Malformed texts of one message type's own tags, with the error it must give.
fn malformed_fields() -> Vec<(&'static str, String, DecodeError)> {
    vec![
        (
            "client",
            r#"{"type":"ping"}"#.into(),
            DecodeError::MissingField("nonce".into()),
        ),
        (
            "client",
            r#"{"type":"ping","nonce":"1"}"#.into(),
            DecodeError::WrongType(r#"invalid type: string "1", expected u64"#.into()),
        ),
        (
            // A chat's seq names it (protocol 2): one without it is refused, not defaulted.
            "client",
            r#"{"type":"chat","text":"hi"}"#.into(),
            DecodeError::MissingField("seq".into()),
        ),
        (
            "server",
            r#"{"type":"chat","from":"p1","id":"1","text":"hi","sent_at_ms":5}"#.into(),
            DecodeError::MissingField("seq".into()),
        ),
        (
            "server",
            r#"{"type":"peer_left","reason":"left"}"#.into(),
            DecodeError::MissingField("peer_id".into()),
        ),
        (
            "server",
            r#"{"type":"pong","nonce":-1}"#.into(),
            DecodeError::WrongType("invalid value: integer `-1`, expected u64".into()),
        ),
        (
            "peer",
            r#"{"type":"file_end","transfer":1}"#.into(),
            DecodeError::MissingField("sha256".into()),
        ),
        (
            "peer",
            r#"{"type":"prefs","video":"no"}"#.into(),
            DecodeError::WrongType(r#"invalid type: string "no", expected a boolean"#.into()),
        ),
    ]
}

/// The error of `text` read as `side`'s message type.
fn decode_error(side: &str, text: &str) -> Option<DecodeError> {
    match side {
        "client" => ClientMsg::from_json(text).err(),
        "server" => ServerMsg::from_json(text).err(),
        _ => PeerMsg::from_json(text).err(),
    }
}

/// Checks every malformed case on this side (native or browser): each message type refuses
/// it with the expected error.
pub fn check_malformed() {
    for (text, expected) in malformed() {
        for side in ["client", "server", "peer"] {
            let got = decode_error(side, &text);
            let same = match (&got, &expected) {
                // serde names the type it expected; compare up to that name.
                (Some(DecodeError::WrongType(got)), DecodeError::WrongType(want)) => {
                    got.starts_with(want.as_str())
                }
                (got, want) => got.as_ref() == Some(want),
            };
            assert!(same, "{side} `{text:.80}`: got {got:?}, want {expected:?}");
        }
    }
    for (side, text, expected) in malformed_fields() {
        assert_eq!(decode_error(side, &text), Some(expected), "{side} `{text}`");
    }
}
