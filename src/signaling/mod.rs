//! The WebSocket to the relay: typed messages in and out, and when to reconnect. Yew-free.
//!
//! The socket is gloo-net's `Stream` of frames and `Sink` of messages, driven by one task that
//! reports what it reads and writes what [`RelaySocket::send`] queued, in order. The liveness, backoff and
//! resume-or-rejoin policies the meeting applies on top live in `liveness.rs`, `backoff.rs`
//! and `resume.rs`.

mod backoff;
mod live_status;
mod liveness;
mod resume;

pub use backoff::reconnect_delay_ms;
pub use live_status::{live_status, whep_path, LiveStatusError};
pub use liveness::Liveness;
pub use resume::{AfterClose, Greeting, RelaySessionState};

use crate::js::{window, JsError};
use futures_channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures_util::future::{poll_fn, select, Either};
use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket as FrameSocket;
use gloo_net::websocket::{Message, WebSocketError};
use meshmeet_protocol::{ClientMsg, ProtocolMsg as _, ServerMsg};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
use web_sys::WebSocket;

/// Why talking to the relay failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelaySocketError {
    /// The socket could not be created (bad URL, blocked by the page's policy).
    #[error("cannot open the relay connection: {0}")]
    Connect(JsError),
    /// A message was sent while the socket was not open.
    #[error("the relay connection is not open")]
    NotOpen,
}

/// Something that happened on the relay connection.
#[derive(Clone, Debug, PartialEq)]
pub enum RelayEvent {
    /// The socket is open; the join can be sent.
    Opened,
    /// A message from the relay.
    Message(ServerMsg),
    /// A frame that is not a message of this protocol version (logged, then ignored).
    Malformed(String),
    /// The socket closed; `opened` tells a refused connection from a lost one.
    Closed {
        /// WebSocket close code.
        code: u16,
        /// Whether the socket had opened before it closed.
        opened: bool,
    },
}

/// An open (or opening) connection to the relay. Dropping it closes the socket once what was
/// queued is sent, and no event of it is reported after that.
pub struct RelaySocket {
    /// The browser's socket, for its state and to close it (gloo-net's wrapper owns the
    /// event listeners).
    socket: WebSocket,
    /// Text frames for the connection's task, in order.
    outgoing: UnboundedSender<String>,
    /// False once dropped: a socket that is being replaced must not report its close.
    live: Rc<Cell<bool>>,
}

impl RelaySocket {
    /// Opens a socket to `url`; every event is passed to `on_event`.
    pub fn connect(url: &str, on_event: Rc<dyn Fn(RelayEvent)>) -> Result<Self, RelaySocketError> {
        let connect_error = |e: JsValue| RelaySocketError::Connect(JsError::from(e));
        let socket = WebSocket::new(url).map_err(connect_error)?;
        let frames = FrameSocket::try_from(socket.clone())
            .map_err(|e| RelaySocketError::Connect(JsError::new(&e.name, e.message)))?;
        let (outgoing, queued) = mpsc::unbounded::<String>();
        let live = Rc::new(Cell::new(true));
        let report = {
            let live = live.clone();
            move |event| {
                if live.get() {
                    on_event(event);
                }
            }
        };
        spawn_local(run(socket.clone(), frames, queued, report));
        Ok(RelaySocket {
            socket,
            outgoing,
            live,
        })
    }

    /// Sends one message (queued in order behind the ones before it).
    pub fn send(&self, msg: &ClientMsg) -> Result<(), RelaySocketError> {
        if self.socket.ready_state() != WebSocket::OPEN {
            return Err(RelaySocketError::NotOpen);
        }
        self.outgoing
            .unbounded_send(msg.to_json())
            .map_err(|_| RelaySocketError::NotOpen)
    }
}

impl Drop for RelaySocket {
    fn drop(&mut self) {
        self.live.set(false);
        // What is queued (the `leave` sent just before dropping, say) still goes out: the
        // task sends the queue in order, then finds it ended and closes the socket. Closing
        // here would drop the queue, and the relay would hold a session that had left. A
        // socket that is not open has nothing to send.
        self.outgoing.close_channel();
        if self.socket.ready_state() != WebSocket::OPEN {
            let _ = self.socket.close_with_code(1000);
        }
    }
}

/// What woke the connection's task.
enum Step {
    /// A frame, an error or the end of the socket.
    Frame(Option<Result<Message, WebSocketError>>),
    /// A message to send, or `None`: the [`RelaySocket`] was dropped.
    Send(Option<String>),
}

/// The connection's task: reports the opening, then every frame until the socket closes,
/// and sends what is queued, in order.
async fn run(
    socket: WebSocket,
    mut frames: FrameSocket,
    mut queued: UnboundedReceiver<String>,
    report: impl Fn(RelayEvent),
) {
    // gloo-net's sink is ready once the socket left CONNECTING, whether it opened or failed.
    if poll_fn(|cx| frames.poll_ready_unpin(cx)).await.is_err() {
        return;
    }
    let opened = socket.ready_state() == WebSocket::OPEN;
    if opened {
        report(RelayEvent::Opened);
    }
    loop {
        let step = match select(frames.next(), queued.next()).await {
            Either::Left((frame, _)) => Step::Frame(frame),
            Either::Right((text, _)) => Step::Send(text),
        };
        match step {
            Step::Frame(Some(Ok(Message::Text(text)))) => report(decode(Some(text))),
            Step::Frame(Some(Ok(Message::Bytes(_)))) => report(decode(None)),
            // An error event is always followed by the close event.
            Step::Frame(Some(Err(WebSocketError::ConnectionError))) => {}
            Step::Frame(Some(Err(WebSocketError::ConnectionClose(close)))) => {
                report(RelayEvent::Closed {
                    code: close.code,
                    opened,
                });
                return;
            }
            Step::Frame(Some(Err(err))) => report(RelayEvent::Malformed(err.to_string())),
            Step::Frame(None) => return,
            // The [`RelaySocket`] was dropped and everything queued before is sent.
            Step::Send(None) => {
                let _ = socket.close_with_code(1000);
                return;
            }
            Step::Send(Some(text)) => {
                if let Err(err) = frames.send(Message::Text(text)).await {
                    // Only a socket that stopped being open refuses; its close event follows.
                    web_sys::console::warn_1(&JsValue::from_str(&format!("relay send: {err}")));
                }
            }
        }
    }
}

fn decode(text: Option<String>) -> RelayEvent {
    match text {
        Some(text) => match ServerMsg::from_json(&text) {
            Ok(msg) => RelayEvent::Message(msg),
            Err(err) => RelayEvent::Malformed(format!("{err}: {text:.200}")),
        },
        None => RelayEvent::Malformed("binary frame".into()),
    }
}

/// The relay's WebSocket URL for the page at `location` (`ws://host/ws` or `wss://host/ws`).
pub fn relay_url_for(protocol: &str, host: &str) -> String {
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/ws")
}

/// The relay's WebSocket URL for the current page.
pub fn relay_url() -> Result<String, JsError> {
    let location = window()?.location();
    Ok(relay_url_for(&location.protocol()?, &location.host()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_url_follows_the_page_scheme() {
        assert_eq!(
            relay_url_for("http:", "127.0.0.1:8080"),
            "ws://127.0.0.1:8080/ws"
        );
        assert_eq!(
            relay_url_for("https:", "meet.example.org"),
            "wss://meet.example.org/ws"
        );
    }

    #[test]
    fn frames_that_are_not_protocol_messages_are_reported_not_dropped() {
        assert!(matches!(decode(None), RelayEvent::Malformed(_)));
        assert!(matches!(
            decode(Some("{\"type\":\"nope\"}".into())),
            RelayEvent::Malformed(_)
        ));
        assert_eq!(
            decode(Some("{\"type\":\"pong\",\"nonce\":3}".into())),
            RelayEvent::Message(ServerMsg::Pong { nonce: 3 })
        );
    }
}
