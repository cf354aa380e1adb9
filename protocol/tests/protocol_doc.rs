//! PROTOCOL.md and the types cannot drift: every example in it parses into the types, is
//! written exactly as the types write it, and every message kind and error code has one.

use std::collections::BTreeSet;

use meshmeet_protocol::{
    validate_display_name, validate_room_name, ClientMsg, ErrorCode, LeaveReason, NameError,
    PeerMsg, ServerMsg, Signal,
};
use serde_json::Value;

/// A fenced block of the document.
struct Block {
    info: String,
    body: String,
    line: usize,
}

fn document() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../PROTOCOL.md");
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {path}: {err}"))
}

fn fenced_blocks(doc: &str) -> Vec<Block> {
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

/// Parses an example and checks it is canonical: the types write it back identically.
fn parse_canonical<T>(block: &Block) -> T
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let written: Value = serde_json::from_str(&block.body).unwrap_or_else(|err| {
        panic!("PROTOCOL.md line {}: not JSON: {err}", block.line);
    });
    let parsed: T = serde_json::from_value(written.clone()).unwrap_or_else(|err| {
        panic!(
            "PROTOCOL.md line {}: not a valid `{}` message: {err}",
            block.line, block.info
        );
    });
    let rewritten = serde_json::to_value(&parsed).expect("serialises");
    assert_eq!(
        rewritten, written,
        "PROTOCOL.md line {}: the example is not written the way the types write it",
        block.line
    );
    parsed
}

struct Examples {
    client: Vec<ClientMsg>,
    server: Vec<ServerMsg>,
    peer: Vec<PeerMsg>,
}

fn examples() -> Examples {
    let mut client = Vec::new();
    let mut server = Vec::new();
    let mut peer = Vec::new();
    for block in fenced_blocks(&document()) {
        match block.info.as_str() {
            "json client" => client.push(parse_canonical::<ClientMsg>(&block)),
            "json server" => server.push(parse_canonical::<ServerMsg>(&block)),
            "json peer" => peer.push(parse_canonical::<PeerMsg>(&block)),
            other => assert!(
                !other.starts_with("json"),
                "PROTOCOL.md line {}: a JSON block must be marked exactly `json client`, \
                 `json server` or `json peer`, not `{other}`",
                block.line
            ),
        }
    }
    Examples {
        client,
        server,
        peer,
    }
}

#[test]
fn every_example_parses_and_is_canonical() {
    let examples = examples();
    assert!(!examples.client.is_empty());
    assert!(!examples.server.is_empty());
}

/// The client reads and writes without serde (`codec.rs`): for every example, it must read
/// what serde reads and write what serde writes.
#[test]
fn the_clients_codec_reads_and_writes_every_example_as_serde_does() {
    let examples = examples();
    for msg in &examples.server {
        let text = serde_json::to_string(msg).expect("serialises");
        assert_eq!(ServerMsg::from_json(&text).as_ref(), Ok(msg), "{text}");
    }
    for msg in &examples.client {
        let ours: Value = serde_json::from_str(&msg.to_json()).expect("our output is JSON");
        assert_eq!(ours, serde_json::to_value(msg).expect("serialises"));
    }
    for msg in &examples.peer {
        let text = serde_json::to_string(msg).expect("serialises");
        assert_eq!(PeerMsg::from_json(&text).as_ref(), Ok(msg), "{text}");
        let ours: Value = serde_json::from_str(&msg.to_json()).expect("our output is JSON");
        assert_eq!(ours, serde_json::to_value(msg).expect("serialises"));
    }
}

#[test]
fn every_client_message_kind_has_an_example() {
    let shown: BTreeSet<&str> = examples().client.iter().map(ClientMsg::kind).collect();
    for kind in ClientMsg::KINDS {
        assert!(shown.contains(kind), "no `json client` example of `{kind}`");
    }
}

#[test]
fn every_server_message_kind_has_an_example() {
    let shown: BTreeSet<&str> = examples().server.iter().map(ServerMsg::kind).collect();
    for kind in ServerMsg::KINDS {
        assert!(shown.contains(kind), "no `json server` example of `{kind}`");
    }
}

#[test]
fn every_peer_message_kind_has_an_example() {
    let shown: BTreeSet<&str> = examples().peer.iter().map(PeerMsg::kind).collect();
    for kind in PeerMsg::KINDS {
        assert!(shown.contains(kind), "no `json peer` example of `{kind}`");
    }
}

#[test]
fn every_error_code_has_an_error_example() {
    let shown: Vec<ErrorCode> = examples()
        .server
        .iter()
        .filter_map(|msg| match msg {
            ServerMsg::Error { code, .. } => Some(*code),
            _ => None,
        })
        .collect();
    for code in ErrorCode::ALL {
        assert!(
            shown.contains(code),
            "no `error` example with code {code:?}"
        );
    }
}

#[test]
fn every_leave_reason_and_signal_kind_has_an_example() {
    let examples = examples();
    let reasons: Vec<LeaveReason> = examples
        .server
        .iter()
        .filter_map(|msg| match msg {
            ServerMsg::PeerLeft { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect();
    for reason in [
        LeaveReason::Left,
        LeaveReason::Disconnected,
        LeaveReason::TimedOut,
        LeaveReason::Removed,
    ] {
        assert!(
            reasons.contains(&reason),
            "no peer_left example for {reason:?}"
        );
    }
    let signal_kinds: BTreeSet<&str> = examples
        .client
        .iter()
        .filter_map(|msg| match msg {
            ClientMsg::Signal { signal, .. } => Some(signal),
            _ => None,
        })
        .map(|signal| match signal {
            Signal::Offer { .. } => "offer",
            Signal::Answer { .. } => "answer",
            Signal::Candidate { .. } => "candidate",
            Signal::Reset => "reset",
        })
        .collect();
    assert_eq!(
        signal_kinds.len(),
        4,
        "offer, answer, candidate and reset each need an example"
    );
}

/// The text of the section under `heading` (a whole line, `### Names` say), up to the next
/// heading.
fn section(doc: &str, heading: &str) -> String {
    let start = doc
        .lines()
        .position(|line| line == heading)
        .unwrap_or_else(|| panic!("PROTOCOL.md has no `{heading}`"));
    doc.lines()
        .skip(start + 1)
        .take_while(|line| !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every code point a paragraph of `section` that starts with `label` lists, as `U+XXXX` or
/// a range `U+XXXX–U+YYYY`.
fn listed_code_points(section: &str, label: &str) -> BTreeSet<char> {
    let paragraph = section
        .split("\n\n")
        .find(|p| p.starts_with(label))
        .unwrap_or_else(|| panic!("no paragraph starting with {label}"));
    let hex = |text: &str| -> Option<(u32, usize)> {
        let digits = text.strip_prefix("U+")?;
        let len = digits.chars().take_while(char::is_ascii_hexdigit).count();
        u32::from_str_radix(&digits[..len], 16)
            .ok()
            .map(|cp| (cp, 2 + len))
    };
    let mut listed = BTreeSet::new();
    let mut rest = paragraph;
    while let Some(at) = rest.find("U+") {
        let (first, len) = hex(&rest[at..]).expect("a code point after U+");
        rest = &rest[at + len..];
        let last = match rest.strip_prefix('–').and_then(hex) {
            Some((last, len)) => {
                rest = &rest['–'.len_utf8() + len..];
                last
            }
            None => first,
        };
        listed.extend((first..=last).filter_map(char::from_u32));
    }
    assert!(!listed.is_empty(), "{label} lists nothing");
    listed
}

fn every_char() -> impl Iterator<Item = char> {
    (0..=u32::from(char::MAX)).filter_map(char::from_u32)
}

/// The name rules' lists in PROTOCOL.md are the relay's: a display name refuses exactly the
/// listed control and invisible characters inside it, a room name refuses every invisible
/// one, and exactly the listed white space is trimmed from a display name's ends.
#[test]
fn name_rules_refuse_and_trim_exactly_the_characters_protocol_md_lists() {
    let names = section(&document(), "### Names");
    let control = listed_code_points(&names, "**Control characters**");
    let invisible = listed_code_points(&names, "**Invisible characters**");
    let trimmed = listed_code_points(&names, "**Trimmed**");

    let refused_inside: BTreeSet<char> = every_char()
        .filter(|&c| {
            validate_display_name(&format!("a{c}b"), 40) == Err(NameError::BadCharacter(c))
        })
        .collect();
    let listed: BTreeSet<char> = control.union(&invisible).copied().collect();
    assert_eq!(
        refused_inside.difference(&listed).collect::<Vec<_>>(),
        Vec::<&char>::new(),
        "refused inside a display name but not listed"
    );
    assert_eq!(
        listed.difference(&refused_inside).collect::<Vec<_>>(),
        Vec::<&char>::new(),
        "listed but accepted inside a display name"
    );
    for c in &invisible {
        assert_eq!(
            validate_room_name(&format!("a{c}b"), 64),
            Err(NameError::BadCharacter(*c)),
            "U+{:04X} in a room name",
            u32::from(*c)
        );
    }

    let trimmed_by_relay: BTreeSet<char> = every_char()
        .filter(|&c| validate_display_name(&format!("{c}Bo{c}"), 40) == Ok("Bo"))
        .collect();
    assert_eq!(
        trimmed_by_relay, trimmed,
        "trimmed from a display name's ends"
    );

    // The examples under the lists.
    assert_eq!(validate_display_name("\u{0085}Bo\u{0085}", 40), Ok("Bo"));
    assert!(validate_display_name("B\u{0085}o", 40).is_err());
    assert_eq!(
        validate_display_name("Ana\u{00a0}María", 40),
        Ok("Ana\u{00a0}María")
    );
}
