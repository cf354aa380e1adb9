//! The WebSocket upgrade (RFC 6455 opening handshake), done here rather than by warp's `ws()`
//! filter so the socket's buffers can be sized: warp leaves tungstenite's 128 KiB read buffer,
//! which it zero-fills on the first read, and that alone made an idle connection cost about
//! 140 KiB.
//!
//! [`request`] is the filter: it recognises an upgrade request and hands back an
//! [`UpgradeRequest`], so checks that belong before the handshake (where the request came
//! from, how many sockets one address holds: warp's own filters beside it in `routes.rs`) can
//! still refuse with plain HTTP. [`UpgradeRequest::accept`] answers `101 Switching Protocols`
//! and runs the connection on the upgraded socket.

use std::future::Future;

use base64::Engine as _;

use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tracing::debug;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::{Role, WebSocketConfig};
use warp::http::header::{
    HeaderMap, HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

/// An upgraded connection: a stream of incoming and a sink of outgoing WebSocket messages.
pub type WebSocket = WebSocketStream<TokioIo<Upgraded>>;

/// Bytes read from the socket at a time, allocated (and zero-filled) once per connection.
/// Signalling messages are small (an ICE candidate is about 300 bytes, an SDP offer a few
/// KiB); a larger frame grows the buffer for as long as it takes to read it.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Outgoing frames are collected up to this many bytes before a write to the socket (the
/// connection also flushes whenever its queue runs empty). tungstenite keeps the buffer's
/// capacity, so this bounds what a burst leaves behind on an idle connection.
pub const WRITE_BUFFER_BYTES: usize = 8 * 1024;

/// The socket configuration of every connection: the buffer sizes above, and incoming frames
/// and messages limited to `max_frame_bytes` (larger ones end the connection with
/// `tungstenite::Error::Capacity`, before their payload is read).
pub fn socket_config(max_frame_bytes: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        // Only grows past `WRITE_BUFFER_BYTES` while writes fail; room for one more frame.
        .max_write_buffer_size(WRITE_BUFFER_BYTES.saturating_add(max_frame_bytes.max(1)))
        .max_message_size(Some(max_frame_bytes))
        .max_frame_size(Some(max_frame_bytes))
}

/// Whether a `Sec-WebSocket-Key` is what RFC 6455 says it is: 16 bytes, base64-encoded.
fn is_valid_key(key: &[u8]) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(key)
        .is_ok_and(|bytes| bytes.len() == 16)
}

/// A WebSocket opening handshake that has been recognised but not yet answered.
#[derive(Debug)]
pub struct UpgradeRequest {
    accept_key: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Why a request to the WebSocket endpoint is not an opening handshake the relay can answer
/// (RFC 6455 section 4.2.1): each is refused with 400, a wrong version with 426.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAnUpgrade {
    /// No `Connection: upgrade` or no `Upgrade: websocket`: an ordinary request.
    #[error("this address is a WebSocket endpoint; send an upgrade request")]
    MissingUpgradeHeaders,
    /// `Sec-WebSocket-Version` missing or other than 13.
    #[error("unsupported WebSocket version; this relay speaks version 13")]
    WrongVersion,
    /// `Sec-WebSocket-Key` missing, or not 16 bytes in base64.
    #[error("Sec-WebSocket-Key must be 16 bytes in base64")]
    BadKey,
    /// A connection that cannot be upgraded (HTTP/1.0, HTTP/2).
    #[error("a WebSocket upgrade needs HTTP/1.1")]
    NotHttp11,
}

impl NotAnUpgrade {
    /// The HTTP status the refusal is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            NotAnUpgrade::WrongVersion => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// Reads a `GET` to the WebSocket endpoint: the [`UpgradeRequest`] to accept, or why it is
/// not one (answered by the caller, so the endpoint never falls through to the static files).
pub fn request(
) -> impl Filter<Extract = (Result<UpgradeRequest, NotAnUpgrade>,), Error = Rejection> + Clone {
    warp::get()
        .and(warp::header::headers_cloned())
        .and(warp::ext::optional::<OnUpgrade>())
        .map(|headers: HeaderMap, on_upgrade: Option<OnUpgrade>| {
            UpgradeRequest::new(&headers, on_upgrade)
        })
}

impl UpgradeRequest {
    fn new(headers: &HeaderMap, on_upgrade: Option<OnUpgrade>) -> Result<Self, NotAnUpgrade> {
        let has_token = |name, token: &str| {
            headers.get_all(name).iter().any(|value| {
                value.to_str().is_ok_and(|list| {
                    list.split(',')
                        .any(|item| item.trim().eq_ignore_ascii_case(token))
                })
            })
        };
        if !has_token(CONNECTION, "upgrade") || !has_token(UPGRADE, "websocket") {
            return Err(NotAnUpgrade::MissingUpgradeHeaders);
        }
        if headers.get(SEC_WEBSOCKET_VERSION).is_none_or(|v| v != "13") {
            return Err(NotAnUpgrade::WrongVersion);
        }
        let key = headers
            .get(SEC_WEBSOCKET_KEY)
            .filter(|key| is_valid_key(key.as_bytes()))
            .ok_or(NotAnUpgrade::BadKey)?;
        let accept_key = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
            .map_err(|_| NotAnUpgrade::BadKey)?;
        Ok(UpgradeRequest {
            accept_key,
            // hyper offers no upgrade on HTTP/1.0 or HTTP/2 connections.
            on_upgrade: on_upgrade.ok_or(NotAnUpgrade::NotHttp11)?,
        })
    }

    /// Answers `101 Switching Protocols` and, once the client has it, runs `on_socket` on the
    /// upgraded socket (in a task of its own). If the upgrade fails, `on_socket` never runs
    /// and is dropped with everything it owns.
    pub fn accept<F, U>(self, config: WebSocketConfig, on_socket: F) -> Response
    where
        F: FnOnce(WebSocket) -> U + Send + 'static,
        U: Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let io = TokioIo::new(upgraded);
                    let socket =
                        WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
                    on_socket(socket).await;
                }
                Err(err) => debug!(%err, "WebSocket upgrade failed"),
            }
        });
        let mut response = Response::default();
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(SEC_WEBSOCKET_ACCEPT, self.accept_key);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `OnUpgrade` that never completes, as hyper gives for a request it cannot upgrade.
    fn no_upgrade() -> OnUpgrade {
        hyper::upgrade::on(warp::http::Request::new(()))
    }

    /// The headers of the example handshake in RFC 6455, section 1.3.
    fn handshake(connection: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static(connection));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        headers.insert(
            SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        headers
    }

    #[test]
    fn accept_key_is_the_one_from_the_rfc_example() {
        let request = UpgradeRequest::new(&handshake("Upgrade"), Some(no_upgrade()))
            .expect("a valid handshake");
        assert_eq!(request.accept_key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn upgrade_token_is_found_in_a_connection_list_in_any_case() {
        // Firefox sends `keep-alive, Upgrade`.
        for connection in ["keep-alive, Upgrade", "upgrade", "UPGRADE,keep-alive"] {
            assert!(
                UpgradeRequest::new(&handshake(connection), Some(no_upgrade())).is_ok(),
                "{connection}"
            );
        }
        assert_eq!(
            UpgradeRequest::new(&handshake("keep-alive"), Some(no_upgrade())).err(),
            Some(NotAnUpgrade::MissingUpgradeHeaders)
        );
    }

    #[test]
    fn each_broken_handshake_gets_its_own_refusal() {
        use NotAnUpgrade::*;
        // (header, its new value or none to remove it, the refusal)
        let cases = [
            (UPGRADE, None, MissingUpgradeHeaders),
            (SEC_WEBSOCKET_VERSION, None, WrongVersion),
            (SEC_WEBSOCKET_VERSION, Some("8"), WrongVersion),
            (SEC_WEBSOCKET_KEY, None, BadKey),
            (SEC_WEBSOCKET_KEY, Some("AAAAAAAAAAAAAAAAAAAA"), BadKey), // 15 bytes
            (SEC_WEBSOCKET_KEY, Some("not base64 at all!!!!!=="), BadKey),
            (SEC_WEBSOCKET_KEY, Some("x"), BadKey),
        ];
        for (header, value, expected) in cases {
            let mut headers = handshake("Upgrade");
            match value {
                Some(value) => headers.insert(&header, HeaderValue::from_static(value)),
                None => headers.remove(&header),
            };
            assert_eq!(
                UpgradeRequest::new(&headers, Some(no_upgrade())).err(),
                Some(expected),
                "{header}: {value:?}"
            );
        }
        assert_eq!(
            UpgradeRequest::new(&handshake("Upgrade"), None).err(),
            Some(NotHttp11)
        );
        assert_eq!(WrongVersion.status(), StatusCode::UPGRADE_REQUIRED);
        assert_eq!(BadKey.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn socket_config_has_small_buffers_and_the_given_frame_limit() {
        let config = socket_config(128 * 1024);
        assert_eq!(config.read_buffer_size, READ_BUFFER_BYTES);
        assert_eq!(config.write_buffer_size, WRITE_BUFFER_BYTES);
        // tungstenite panics on a write buffer limit not above the write buffer size.
        assert!(config.max_write_buffer_size > config.write_buffer_size);
        assert_eq!(config.max_message_size, Some(128 * 1024));
        assert_eq!(config.max_frame_size, Some(128 * 1024));
        assert!(socket_config(0).max_write_buffer_size > WRITE_BUFFER_BYTES);
    }
}
