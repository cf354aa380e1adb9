//! The writer task: the only code that writes to the socket, fed by the connection's queue.

use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use meshmeet_protocol::ProtocolMsg as _;
use tokio::sync::mpsc;
use tracing::{debug, warn};
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;

use crate::registry::Outbound;
use crate::upgrade::WebSocket;

/// Writes queued frames until a close frame or until every sender is gone.
pub(super) async fn write_queued(
    mut sink: SplitSink<WebSocket, Message>,
    mut queued: mpsc::Receiver<Outbound>,
) {
    while let Some(item) = queued.recv().await {
        let frame = match item {
            Outbound::Msg(msg) => match serde_json::to_string(&msg) {
                Ok(text) => Message::text(text),
                Err(err) => {
                    warn!(%err, kind = msg.tag(), "could not serialise a message");
                    continue;
                }
            },
            Outbound::Ping => Message::Ping(Default::default()),
            Outbound::Close { code, reason } => {
                let close = CloseFrame {
                    code: code.into(),
                    reason: reason.into(),
                };
                let _ = sink.send(Message::Close(Some(close))).await;
                return;
            }
        };
        // Flush once the queue is empty rather than after every frame: a burst of
        // candidates then goes out in few TCP writes.
        let written = if queued.is_empty() {
            sink.send(frame).await
        } else {
            sink.feed(frame).await
        };
        if let Err(err) = written {
            debug!(%err, "socket write failed");
            return;
        }
    }
    let _ = sink.flush().await;
}
