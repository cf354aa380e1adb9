//! PROTOCOL.md and the types cannot drift: every example in it parses into the types, is
//! written exactly as the types write it, and every message kind and error code has one.
//! The same checks run in the browsers (the client's `tests/web_protocol.rs`).

#[path = "shared/cases.rs"]
mod cases;

use std::collections::BTreeSet;

use cases::{examples, PROTOCOL_MD};
use meshmeet_protocol::{
    ClientMsg, ErrorCode, LeaveReason, PeerMsg, ProtocolMsg, ServerMsg, Signal,
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
    let examples = examples(PROTOCOL_MD);
    assert!(!examples.client.is_empty());
    assert!(!examples.server.is_empty());
    assert!(!examples.peer.is_empty());
}

#[test]
fn malformed_messages_get_the_same_typed_error_from_every_message_type() {
    cases::check_malformed();
}

#[test]
fn every_client_message_kind_has_an_example() {
    let shown = shown(&examples(PROTOCOL_MD).client, "type");
    assert!(!ClientMsg::tags().is_empty());
    for kind in ClientMsg::tags() {
        assert!(
            shown.contains(*kind),
            "no `json client` example of `{kind}`"
        );
    }
}

#[test]
fn every_server_message_kind_has_an_example() {
    let shown = shown(&examples(PROTOCOL_MD).server, "type");
    assert!(!ServerMsg::tags().is_empty());
    for kind in ServerMsg::tags() {
        assert!(
            shown.contains(*kind),
            "no `json server` example of `{kind}`"
        );
    }
}

#[test]
fn every_peer_message_kind_has_an_example() {
    let shown = shown(&examples(PROTOCOL_MD).peer, "type");
    assert!(!PeerMsg::tags().is_empty());
    for kind in PeerMsg::tags() {
        assert!(shown.contains(*kind), "no `json peer` example of `{kind}`");
    }
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
    assert_eq!(ErrorCode::names().len(), 24);
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
    assert_eq!(Signal::tags().len(), 4);
    for kind in Signal::tags() {
        assert!(signal_kinds.contains(kind), "no signal example of `{kind}`");
    }
}
