//! PROTOCOL.md and the types cannot drift: every example in it parses into the types, is
//! written exactly as the types write it, and every message kind and error code has one.
//! The same checks run in the browsers (the client's `tests/web_protocol.rs`).

#[path = "shared/cases.rs"]
mod cases;

use std::collections::BTreeSet;

use cases::{examples, PROTOCOL_MD};
use meshmeet_protocol::{
    validate_display_name, validate_room_name, ClientMsg, ErrorCode, LeaveReason, PeerMsg,
    ProtocolMsg, ServerMsg, Signal, TextError,
};
use serde_json::Value;

/// The values of `key` (a tag) across `examples`' JSON.
fn shown<'a, T: 'a>(
    examples: impl IntoIterator<Item = &'a (T, Value)>,
    key: &str,
) -> BTreeSet<String> {
    examples
        .into_iter()
        .filter_map(|(_, json)| json[key].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn every_example_parses_and_is_canonical() {
    cases::check_examples();
}

#[test]
fn malformed_messages_get_the_same_typed_error_from_every_message_type() {
    cases::check_malformed();
}

/// Every tag in `tags` (one message type's, from its derive) is shown by some example of
/// `examples`; `block` names their kind of block in the failure.
fn assert_every_tag_shown<T>(examples: &[(T, Value)], tags: &[&str], block: &str) {
    let shown = shown(examples, "type");
    assert!(!tags.is_empty());
    for kind in tags {
        assert!(shown.contains(*kind), "no `{block}` example of `{kind}`");
    }
}

#[test]
fn every_client_message_kind_has_an_example() {
    let examples = examples(PROTOCOL_MD);
    assert_every_tag_shown(&examples.client, ClientMsg::tags(), "json client");
}

#[test]
fn every_server_message_kind_has_an_example() {
    let examples = examples(PROTOCOL_MD);
    assert_every_tag_shown(&examples.server, ServerMsg::tags(), "json server");
}

#[test]
fn every_peer_message_kind_has_an_example() {
    let examples = examples(PROTOCOL_MD);
    assert_every_tag_shown(&examples.peer, PeerMsg::tags(), "json peer");
}

#[test]
fn every_error_code_has_an_error_example() {
    let examples = examples(PROTOCOL_MD);
    let shown: BTreeSet<&str> = examples
        .server
        .iter()
        .filter(|(msg, _)| matches!(msg, ServerMsg::Error { .. }))
        .filter_map(|(_, json)| json["code"].as_str())
        .collect();
    assert_eq!(ErrorCode::names().len(), 32);
    for code in ErrorCode::names() {
        assert!(shown.contains(code), "no `error` example with code {code}");
    }
}

/// The rows of PROTOCOL.md's error table: code and whether it says the code is fatal.
fn error_table() -> Vec<(String, String)> {
    let start = PROTOCOL_MD
        .find("| code | fatal | when |")
        .expect("PROTOCOL.md has the error table");
    PROTOCOL_MD[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            let mut cells = line.split('|').skip(1).map(str::trim);
            let code = cells.next()?.trim_matches('`').to_owned();
            let fatal = cells.next()?.to_owned();
            Some((code, fatal))
        })
        .collect()
}

#[test]
fn all_error_codes_are_listed_once_in_the_error_table_in_declaration_order_with_their_fatality() {
    let table = error_table();
    let listed: Vec<&str> = table.iter().map(|(code, _)| code.as_str()).collect();
    // The names come from ErrorCode's derive (tags.rs), so a new variant is in them at once
    // and fails here until PROTOCOL.md's table has its row.
    assert_eq!(listed, ErrorCode::names());
    for (code, fatal) in &table {
        let parsed: ErrorCode =
            serde_json::from_value(Value::String(code.clone())).expect("a known code");
        let expected = if parsed.is_fatal() { "yes" } else { "no" };
        assert_eq!(fatal, expected, "fatal column of `{code}`");
    }
}

#[test]
fn every_leave_reason_and_signal_kind_has_an_example() {
    let examples = examples(PROTOCOL_MD);
    let reasons: BTreeSet<&str> = examples
        .server
        .iter()
        .filter(|(msg, _)| matches!(msg, ServerMsg::PeerLeft { .. }))
        .filter_map(|(_, json)| json["reason"].as_str())
        .collect();
    assert_eq!(LeaveReason::names().len(), 4);
    for reason in LeaveReason::names() {
        assert!(
            reasons.contains(reason),
            "no peer_left example for {reason}"
        );
    }
    let signal_kinds: BTreeSet<&str> = examples
        .client
        .iter()
        .filter(|(msg, _)| matches!(msg, ClientMsg::Signal { .. }))
        .filter_map(|(_, json)| json["signal"]["kind"].as_str())
        .collect();
    assert_eq!(Signal::tags().len(), 5);
    for kind in Signal::tags() {
        assert!(signal_kinds.contains(kind), "no signal example of `{kind}`");
    }
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
    let names = section(PROTOCOL_MD, "### Names");
    let control = listed_code_points(&names, "**Control characters**");
    let invisible = listed_code_points(&names, "**Invisible characters**");
    let trimmed = listed_code_points(&names, "**Trimmed**");

    let refused_inside: BTreeSet<char> = every_char()
        .filter(|&c| {
            validate_display_name(&format!("a{c}b"), 40) == Err(TextError::BadCharacter(c))
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
            Err(TextError::BadCharacter(*c)),
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

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation other than `-` and
/// `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every `](#anchor)` link inside PROTOCOL.md leads to one of its headings.
#[test]
fn every_link_inside_protocol_md_leads_to_a_heading() {
    let anchors: BTreeSet<String> = PROTOCOL_MD
        .lines()
        .filter(|line| line.starts_with('#'))
        .map(anchor)
        .collect();
    assert!(anchors.contains("chat-identity-order-and-de-duplication"));
    let mut links = 0;
    let mut rest = PROTOCOL_MD;
    while let Some(at) = rest.find("](#") {
        rest = &rest[at + 3..];
        let end = rest.find(')').expect("a link ends with )");
        let target = &rest[..end];
        assert!(
            anchors.contains(target),
            "PROTOCOL.md links to missing #{target}"
        );
        links += 1;
    }
    assert!(links >= 3, "found only {links} links");
}
