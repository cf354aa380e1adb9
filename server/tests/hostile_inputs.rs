//! Malformed and hostile input, table-driven: each case gets the right typed error on its own
//! connection, survives it unless the error is fatal, and a room next door never notices.

mod support;

use bytes::Bytes;
use meshmeet_protocol::{ClientMsg, ErrorCode, PeerId, ServerMsg};
use serde_json::json;
use support::{candidate, test_config, Client, Closed, TestRelay};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

/// Where the connection is when the input arrives.
#[derive(Clone, Copy, Debug)]
enum Setup {
    /// Connected, not joined.
    Fresh,
    /// Joined a room of its own.
    Joined,
}

/// What happens to the connection after the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    /// It keeps working.
    Survives,
    /// The relay closes it with this code.
    Closes(u16),
}

/// What the case sends. Closures get the ids they may need.
enum Input {
    Text(String),
    Frame(Message),
    /// Built from (own id, id of a peer in another room).
    Targeted(fn(&PeerId, &PeerId) -> String),
}

struct Case {
    name: &'static str,
    setup: Setup,
    input: Input,
    expect: ErrorCode,
    after: After,
}

fn text(value: impl Into<String>) -> Input {
    Input::Text(value.into())
}

fn join_json(room: serde_json::Value, name: serde_json::Value) -> Input {
    text(json!({"type": "join", "version": 2, "room": room, "name": name}).to_string())
}

fn name(name: &str) -> Input {
    join_json(json!("table"), json!(name))
}

fn room(room: &str) -> Input {
    join_json(json!(room), json!("Ana"))
}

fn chat(text_value: &str) -> Input {
    text(json!({"type": "chat", "seq": 1, "text": text_value}).to_string())
}

fn cases() -> Vec<Case> {
    use After::*;
    use ErrorCode::*;
    use Setup::*;
    let case = |name, setup, input, expect, after| Case {
        name,
        setup,
        input,
        expect,
        after,
    };
    let nested = format!(
        r#"{{"type":"ping","nonce":{}1{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    vec![
        // Not a message at all.
        case(
            "plain text",
            Fresh,
            text("hello relay"),
            BadMessage,
            Survives,
        ),
        case("empty frame", Fresh, text(""), BadMessage, Survives),
        case(
            "truncated JSON",
            Fresh,
            text(r#"{"type":"ping","nonce":"#),
            BadMessage,
            Survives,
        ),
        case("JSON array", Fresh, text("[1,2,3]"), BadMessage, Survives),
        case(
            "JSON string",
            Fresh,
            text(r#""join""#),
            BadMessage,
            Survives,
        ),
        case("JSON number", Fresh, text("42"), BadMessage, Survives),
        case("JSON null", Fresh, text("null"), BadMessage, Survives),
        case(
            "object without type",
            Fresh,
            text("{}"),
            BadMessage,
            Survives,
        ),
        case(
            "unknown type",
            Fresh,
            text(r#"{"type":"shout"}"#),
            BadMessage,
            Survives,
        ),
        case(
            "type in wrong case",
            Fresh,
            text(r#"{"type":"PING","nonce":1}"#),
            BadMessage,
            Survives,
        ),
        case(
            "type not a string",
            Fresh,
            text(r#"{"type":7}"#),
            BadMessage,
            Survives,
        ),
        case(
            "raw NUL byte in JSON",
            Fresh,
            text("{\"type\":\"ping\",\"nonce\":1}\0"),
            BadMessage,
            Survives,
        ),
        case(
            "unescaped control char in string",
            Fresh,
            text("{\"type\":\"join\",\"version\":2,\"room\":\"r\",\"name\":\"a\u{1}b\"}"),
            BadMessage,
            Survives,
        ),
        case(
            "deeply nested JSON",
            Fresh,
            text(nested),
            BadMessage,
            Survives,
        ),
        // Wrong types and ranges.
        case(
            "nonce as string",
            Fresh,
            text(r#"{"type":"ping","nonce":"1"}"#),
            BadMessage,
            Survives,
        ),
        case(
            "nonce negative",
            Fresh,
            text(r#"{"type":"ping","nonce":-1}"#),
            BadMessage,
            Survives,
        ),
        case(
            "nonce above u64",
            Fresh,
            text(r#"{"type":"ping","nonce":18446744073709551616}"#),
            BadMessage,
            Survives,
        ),
        case(
            "nonce fractional",
            Fresh,
            text(r#"{"type":"ping","nonce":1.5}"#),
            BadMessage,
            Survives,
        ),
        case(
            "join without name",
            Fresh,
            text(r#"{"type":"join","version":2,"room":"r"}"#),
            BadMessage,
            Survives,
        ),
        case(
            "join version as string",
            Fresh,
            text(r#"{"type":"join","version":"1","room":"r","name":"n"}"#),
            BadMessage,
            Survives,
        ),
        case(
            "room as number",
            Fresh,
            join_json(json!(5), json!("Ana")),
            BadMessage,
            Survives,
        ),
        case(
            "media with wrong types",
            Fresh,
            text(
                r#"{"type":"join","version":2,"room":"r","name":"n","media":{"mic":"yes","camera":true}}"#,
            ),
            BadMessage,
            Survives,
        ),
        // Versions.
        case(
            "older version",
            Fresh,
            text(r#"{"type":"join","version":0,"room":"r","name":"n"}"#),
            VersionMismatch,
            Closes(1008),
        ),
        case(
            "newer version",
            Fresh,
            text(r#"{"type":"join","version":3,"room":"r","name":"n"}"#),
            VersionMismatch,
            Closes(1008),
        ),
        case(
            "newer version, new shape",
            Fresh,
            text(r#"{"type":"join","version":3,"lobby":{"room":"r"}}"#),
            VersionMismatch,
            Closes(1008),
        ),
        // Room names.
        case(
            "room with path traversal",
            Fresh,
            room("../x"),
            InvalidRoom,
            Survives,
        ),
        case("room with slash", Fresh, room("a/b"), InvalidRoom, Survives),
        case(
            "room with space",
            Fresh,
            room("team standup"),
            InvalidRoom,
            Survives,
        ),
        case("room empty", Fresh, room(""), InvalidRoom, Survives),
        case("room dots only", Fresh, room(".."), InvalidRoom, Survives),
        case(
            "room too long",
            Fresh,
            room(&"r".repeat(65)),
            InvalidRoom,
            Survives,
        ),
        case(
            "room with zero-width space",
            Fresh,
            room("stand\u{200B}up"),
            InvalidRoom,
            Survives,
        ),
        case(
            "room with percent escape",
            Fresh,
            room("a%2fb"),
            InvalidRoom,
            Survives,
        ),
        // Display names.
        case("name empty", Fresh, name(""), InvalidName, Survives),
        case(
            "name only spaces",
            Fresh,
            name("   "),
            InvalidName,
            Survives,
        ),
        case(
            "name with RTL override",
            Fresh,
            name("admin\u{202E}gpj.exe"),
            InvalidName,
            Survives,
        ),
        case(
            "name with zero-width joiner",
            Fresh,
            name("bo\u{200D}b"),
            InvalidName,
            Survives,
        ),
        case(
            "name with BOM",
            Fresh,
            name("\u{FEFF}Ana"),
            InvalidName,
            Survives,
        ),
        case(
            "name with bell",
            Fresh,
            name("a\u{7}b"),
            InvalidName,
            Survives,
        ),
        case(
            "name with escaped NUL",
            Fresh,
            name("a\u{0}b"),
            InvalidName,
            Survives,
        ),
        case(
            "name with newline",
            Fresh,
            name("Ana\nAdmin"),
            InvalidName,
            Survives,
        ),
        case(
            "name too long",
            Fresh,
            name(&"n".repeat(41)),
            InvalidName,
            Survives,
        ),
        // Frames.
        case(
            "binary frame",
            Fresh,
            Input::Frame(Message::binary(vec![0x7b, 0x7d])),
            BinaryNotSupported,
            Survives,
        ),
        case(
            "text over the size limit",
            Fresh,
            text(format!(
                r#"{{"type":"chat","seq":1,"text":"{}"}}"#,
                "x".repeat(100_000)
            )),
            TooLarge,
            Survives,
        ),
        case(
            "frame over the hard limit",
            Fresh,
            text("x".repeat(200_000)),
            TooLarge,
            Closes(1009),
        ),
        case(
            "text frame with invalid UTF-8",
            Fresh,
            Input::Frame(Message::Frame(Frame::message(
                Bytes::from_static(&[b'{', 0xff, 0xfe, b'}']),
                OpCode::Data(Data::Text),
                true,
            ))),
            BadMessage,
            Closes(1007),
        ),
        // Order of messages.
        case(
            "signal before join",
            Fresh,
            text(r#"{"type":"signal","to":"x","signal":{"kind":"offer","sdp":"v=0"}}"#),
            NotJoined,
            Survives,
        ),
        case("chat before join", Fresh, chat("hi"), NotJoined, Survives),
        case(
            "set_media before join",
            Fresh,
            text(r#"{"type":"set_media","media":{"mic":true,"camera":true}}"#),
            NotJoined,
            Survives,
        ),
        case(
            "leave before join",
            Fresh,
            text(r#"{"type":"leave"}"#),
            NotJoined,
            Survives,
        ),
        case(
            "second join",
            Joined,
            text(json!({"type":"join","version":2,"room":"elsewhere","name":"Ana"}).to_string()),
            AlreadyJoined,
            Survives,
        ),
        // Signals.
        case(
            "signal to unknown id",
            Joined,
            text(
                r#"{"type":"signal","to":"00000000000000000000000000000000","signal":{"kind":"offer","sdp":"v=0"}}"#,
            ),
            UnknownPeer,
            Survives,
        ),
        case(
            "signal to self",
            Joined,
            Input::Targeted(|me, _| {
                json!({"type":"signal","to":me,"signal":{"kind":"offer","sdp":"v=0"}}).to_string()
            }),
            UnknownPeer,
            Survives,
        ),
        case(
            "signal to a peer in another room",
            Joined,
            Input::Targeted(|_, other| {
                json!({"type":"signal","to":other,"signal":{"kind":"answer","sdp":"v=0"}})
                    .to_string()
            }),
            UnknownPeer,
            Survives,
        ),
        case(
            "signal with unknown kind",
            Joined,
            Input::Targeted(|_, other| {
                json!({"type":"signal","to":other,"signal":{"kind":"bogus"}}).to_string()
            }),
            BadMessage,
            Survives,
        ),
        case(
            "signal without target",
            Joined,
            text(r#"{"type":"signal","signal":{"kind":"offer","sdp":"v=0"}}"#),
            BadMessage,
            Survives,
        ),
        case(
            "candidate m-line index out of range",
            Joined,
            Input::Targeted(|_, other| {
                json!({"type":"signal","to":other,"signal":{"kind":"candidate","candidate":"c","sdp_m_line_index":70000}}).to_string()
            }),
            BadMessage,
            Survives,
        ),
        // Chat and updates.
        case("empty chat", Joined, chat(""), InvalidText, Survives),
        case(
            "whitespace chat",
            Joined,
            chat(" \n\t "),
            InvalidText,
            Survives,
        ),
        case(
            "chat too long",
            Joined,
            chat(&"c".repeat(2001)),
            InvalidText,
            Survives,
        ),
        case(
            "chat with NUL",
            Joined,
            chat("a\u{0}b"),
            InvalidText,
            Survives,
        ),
        case(
            "chat without seq",
            Joined,
            text(json!({"type":"chat","text":"hi"}).to_string()),
            BadMessage,
            Survives,
        ),
        case(
            "chat with seq 0",
            Joined,
            text(json!({"type":"chat","seq":0,"text":"hi"}).to_string()),
            InvalidSeq,
            Survives,
        ),
        case(
            "set_name with RTL override",
            Joined,
            text(json!({"type":"set_name","name":"\u{202E}nimda"}).to_string()),
            InvalidName,
            Survives,
        ),
        case(
            "set_name too long",
            Joined,
            text(json!({"type":"set_name","name":"n".repeat(41)}).to_string()),
            InvalidName,
            Survives,
        ),
        case(
            "set_media missing camera",
            Joined,
            text(r#"{"type":"set_media","media":{"mic":true}}"#),
            BadMessage,
            Survives,
        ),
    ]
}

#[tokio::test]
async fn each_hostile_input_gets_its_typed_error_and_a_neighbouring_room_keeps_working() {
    let relay = TestRelay::start(test_config()).await;
    let (mut x, x_welcome) = relay.join("bystanders", "X").await;
    let (mut y, y_welcome) = relay.join("bystanders", "Y").await;
    assert!(matches!(x.recv().await, ServerMsg::PeerJoined { .. }));

    let cases = cases();
    assert!(cases.len() >= 30, "the table must stay substantial");
    for (n, case) in cases.into_iter().enumerate() {
        let mut client: Client = relay.connect().await;
        let own_id = match case.setup {
            Setup::Fresh => PeerId::from("not-joined"),
            Setup::Joined => client.join(&format!("case-{n}"), "Ana").await.peer_id,
        };
        match case.input {
            Input::Text(text) => client.send_text(&text).await,
            Input::Frame(frame) => client.send_frame(frame).await,
            Input::Targeted(build) => client.send_text(&build(&own_id, &x_welcome.peer_id)).await,
        }
        match client.recv().await {
            ServerMsg::Error { code, message } => {
                assert_eq!(code, case.expect, "case {:?}: {message}", case.name);
                assert!(!message.is_empty(), "case {:?} has no message", case.name);
            }
            other => panic!("case {:?}: expected an error, got {other:?}", case.name),
        }
        match case.after {
            After::Survives => client.assert_alive(n as u64).await,
            After::Closes(code) => {
                assert_eq!(
                    client.expect_closed().await,
                    Closed::Frame(code),
                    "case {:?}",
                    case.name
                );
            }
        }
    }

    // The neighbouring room saw nothing of it and still works.
    x.expect_silence().await;
    y.expect_silence().await;
    x.send(&ClientMsg::Signal {
        to: y_welcome.peer_id.clone(),
        signal: candidate(7),
    })
    .await;
    assert_eq!(
        y.recv().await,
        ServerMsg::Signal {
            from: x_welcome.peer_id.clone(),
            signal: candidate(7),
        }
    );
}
