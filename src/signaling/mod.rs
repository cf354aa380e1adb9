//! The WebSocket to the relay: typed messages in and out, and when to reconnect. Yew-free.

mod backoff;
mod liveness;

pub use backoff::reconnect_delay_ms;
pub use liveness::Liveness;

use crate::js::{window, JsError};
use meshmeet_protocol::{ClientMsg, ProtocolMsg as _, ServerMsg};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Why talking to the relay failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignalingError {
    /// The socket could not be created (bad URL, blocked by the page's policy).
    #[error("cannot open the relay connection: {0}")]
    Connect(JsError),
    /// A message was sent while the socket was not open.
    #[error("the relay connection is not open")]
    NotOpen,
    /// The browser refused to send.
    #[error("sending to the relay failed: {0}")]
    Send(JsError),
}

/// Something that happened on the relay connection.
#[derive(Clone, Debug, PartialEq)]
pub enum SignalingEvent {
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

/// An open (or opening) connection to the relay. Dropping it closes the socket.
pub struct Signaling {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Signaling {
    /// Opens a socket to `url`; every event is passed to `on_event`.
    pub fn connect(
        url: &str,
        on_event: Rc<dyn Fn(SignalingEvent)>,
    ) -> Result<Self, SignalingError> {
        let socket = WebSocket::new(url).map_err(|e| SignalingError::Connect(JsError::from(e)))?;
        let opened = Rc::new(std::cell::Cell::new(false));

        let on_open = {
            let (on_event, opened) = (on_event.clone(), opened.clone());
            Closure::<dyn FnMut()>::new(move || {
                opened.set(true);
                on_event(SignalingEvent::Opened);
            })
        };
        let on_message = {
            let on_event = on_event.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                on_event(decode(event.data().as_string()));
            })
        };
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            on_event(SignalingEvent::Closed {
                code: event.code(),
                opened: opened.get(),
            });
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Signaling {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends one message.
    pub fn send(&self, msg: &ClientMsg) -> Result<(), SignalingError> {
        if self.socket.ready_state() != WebSocket::OPEN {
            return Err(SignalingError::NotOpen);
        }
        let text = msg.to_json();
        self.socket
            .send_with_str(&text)
            .map_err(|e| SignalingError::Send(JsError::from(e)))
    }
}

impl Drop for Signaling {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close_with_code(1000);
    }
}

fn decode(text: Option<String>) -> SignalingEvent {
    match text {
        Some(text) => match ServerMsg::from_json(&text) {
            Ok(msg) => SignalingEvent::Message(msg),
            Err(err) => SignalingEvent::Malformed(format!("{err}: {text:.200}")),
        },
        None => SignalingEvent::Malformed("binary frame".into()),
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
        assert!(matches!(decode(None), SignalingEvent::Malformed(_)));
        assert!(matches!(
            decode(Some("{\"type\":\"nope\"}".into())),
            SignalingEvent::Malformed(_)
        ));
        assert_eq!(
            decode(Some("{\"type\":\"pong\",\"nonce\":3}".into())),
            SignalingEvent::Message(ServerMsg::Pong { nonce: 3 })
        );
    }
}
