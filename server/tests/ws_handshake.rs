//! Requests to `/ws` that are not a WebSocket opening handshake get 400 (426 for a wrong
//! version), as RFC 6455 section 4.2.2 asks, instead of falling through to the client's 404.

mod support;

use support::{http_raw, test_config, TestRelay};

/// The handshake of RFC 6455 section 1.3, on HTTP/1.1, with `edit` applied to its header lines.
fn handshake(version: &str, edit: impl Fn(&mut Vec<(&'static str, &'static str)>)) -> String {
    let mut headers = vec![
        ("Host", "relay.test"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ];
    edit(&mut headers);
    let mut request = format!("GET /ws {version}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

fn without(name: &'static str) -> impl Fn(&mut Vec<(&'static str, &'static str)>) {
    move |headers| headers.retain(|(n, _)| *n != name)
}

fn with(
    name: &'static str,
    value: &'static str,
) -> impl Fn(&mut Vec<(&'static str, &'static str)>) {
    move |headers| {
        headers.retain(|(n, _)| *n != name);
        headers.push((name, value));
    }
}

#[tokio::test]
async fn broken_handshakes_get_400_and_a_wrong_version_426_naming_13() {
    let relay = TestRelay::start(test_config()).await;
    let cases = [
        (
            "no Upgrade header",
            handshake("HTTP/1.1", without("Upgrade")),
            400,
        ),
        (
            "no Connection header",
            handshake("HTTP/1.1", without("Connection")),
            400,
        ),
        (
            "no key",
            handshake("HTTP/1.1", without("Sec-WebSocket-Key")),
            400,
        ),
        (
            "a key of one character",
            handshake("HTTP/1.1", with("Sec-WebSocket-Key", "x")),
            400,
        ),
        (
            "a key of 15 bytes",
            handshake(
                "HTTP/1.1",
                with("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA"),
            ),
            400,
        ),
        ("HTTP/1.0", handshake("HTTP/1.0", |_| {}), 400),
        (
            "version 8",
            handshake("HTTP/1.1", with("Sec-WebSocket-Version", "8")),
            426,
        ),
        (
            "no version",
            handshake("HTTP/1.1", without("Sec-WebSocket-Version")),
            426,
        ),
    ];
    for (what, request, status) in cases {
        let response = http_raw(relay.addr, &request).await;
        assert_eq!(response.status, status, "{what}: {}", response.text());
        if status == 426 {
            assert_eq!(
                response.header("sec-websocket-version"),
                Some("13"),
                "{what}"
            );
        }
    }
    // A whole handshake is still accepted, and the relay still serves it.
    let (mut client, _) = relay.join("handshakes", "Ana").await;
    client.assert_alive(1).await;
}
