//! The Janus client's transaction handling against a scripted stand-in for Janus (what a
//! real Janus does not do on demand): an `ack` followed later by the `event` resolves on the
//! event, a silent Janus times a request out, and a socket that drops fails the request
//! waiting on it at once.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use meshmeet_server::config::Secret;
use meshmeet_server::janus::{JanusClient, JanusError, JanusOptions, RoomSpec, SUBPROTOCOL};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// What the stand-in does with a plugin `message`.
#[derive(Clone, Copy)]
enum OnMessage {
    /// `ack`, an unrelated event, then the answer as an `event`.
    AckThenEvent,
    /// Nothing.
    Silent,
    /// Drops the connection.
    Drop,
}

/// Serves one connection: answers `create` and `attach` like Janus, then `message` as told.
async fn stand_in(on_message: OnMessage) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut socket = tokio_tungstenite::accept_hdr_async(stream, agree)
            .await
            .expect("handshake");
        while let Some(Ok(Message::Text(text))) = socket.next().await {
            let request: Value = serde_json::from_str(text.as_str()).expect("JSON");
            let transaction = request["transaction"].clone();
            let replies = match (request["janus"].as_str(), on_message) {
                (Some("create" | "attach"), _) => vec![json!({
                    "janus": "success", "transaction": transaction, "data": { "id": 7 }
                })],
                (Some("message"), OnMessage::AckThenEvent) => vec![
                    json!({ "janus": "ack", "transaction": transaction, "session_id": 7 }),
                    json!({ "janus": "webrtcup", "session_id": 7, "sender": 7 }),
                    json!({
                        "janus": "event", "transaction": transaction, "sender": 7,
                        "plugindata": { "plugin": "janus.plugin.videoroom", "data": {
                            "videoroom": "created", "room": request["body"]["room"]
                        }}
                    }),
                ],
                (Some("message"), OnMessage::Silent) => vec![],
                (Some("message"), OnMessage::Drop) => return,
                _ => vec![],
            };
            for reply in replies {
                socket
                    .send(Message::text(reply.to_string()))
                    .await
                    .expect("send");
            }
        }
    });
    url
}

/// Answers the handshake with Janus's subprotocol, which the client insists on. The
/// signature is tungstenite's callback (its error type is large).
#[allow(clippy::result_large_err)]
fn agree(_: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    response.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    Ok(response)
}

fn spec() -> RoomSpec {
    RoomSpec {
        publishers: 4,
        description: "stand-in".into(),
    }
}

async fn client(url: &str, request_timeout: Duration) -> std::sync::Arc<JanusClient> {
    let options = JanusOptions {
        request_timeout,
        ..JanusOptions::default()
    };
    JanusClient::connect(url, Secret::from("key"), options)
        .await
        .expect("connect to the stand-in")
}

#[tokio::test]
async fn an_ack_is_held_back_and_the_event_with_the_same_transaction_answers() {
    let url = stand_in(OnMessage::AckThenEvent).await;
    let client = client(&url, Duration::from_secs(600)).await;
    let room = client
        .create_room(&spec())
        .await
        .expect("answered by the event");
    assert!(room.id >= 1);
}

#[tokio::test]
async fn a_request_janus_never_answers_times_out() {
    let url = stand_in(OnMessage::Silent).await;
    let client = client(&url, Duration::from_millis(300)).await;
    match client.create_room(&spec()).await {
        Err(JanusError::Timeout { request, .. }) => assert_eq!(request, "create"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        !client.is_closed(),
        "a slow answer does not close the connection"
    );
}

#[tokio::test]
async fn a_request_in_flight_fails_at_once_when_the_socket_drops() {
    let url = stand_in(OnMessage::Drop).await;
    // Far longer than the test: only the closed socket can end the wait.
    let client = client(&url, Duration::from_secs(600)).await;
    match client.create_room(&spec()).await {
        Err(JanusError::Closed(_)) => {}
        other => panic!("expected a closed connection, got {other:?}"),
    }
    assert!(client.is_closed());
}
