//! What arrives on the socket before it is a message: close, ping and pong frames, socket
//! errors, the per-connection rate limit, binary and oversized frames.

use tracing::debug;
use tungstenite::error::ProtocolError;
use tungstenite::Message;

use super::end::End;
use super::parse::parse_client_msg;
use super::{Connection, Flow};
use crate::error::RelayError;
use crate::registry::RoomRegistry;

impl<R: RoomRegistry> Connection<R> {
    pub(super) fn on_socket_error(&mut self, err: &tungstenite::Error) -> Flow {
        match err {
            tungstenite::Error::Capacity(tungstenite::error::CapacityError::MessageTooLong {
                size,
                ..
            }) => {
                let _ = self.reply(
                    RelayError::TooLarge {
                        size: *size,
                        max: self.state.config.max_message_bytes as usize,
                    }
                    .to_server_msg(),
                );
                Err(End::FrameTooLarge)
            }
            // A peer that vanished mid-frame is not breaking the protocol, just gone.
            tungstenite::Error::Protocol(
                ProtocolError::ResetWithoutClosingHandshake
                | ProtocolError::SendAfterClosing
                | ProtocolError::ReceivedAfterClosing,
            ) => Err(End::Disconnected),
            tungstenite::Error::Protocol(violation) => {
                debug!(%violation, "WebSocket protocol violation");
                Err(End::ProtocolViolation)
            }
            tungstenite::Error::Utf8(_) => {
                let _ = self.reply(
                    RelayError::BadMessage("text frame is not valid UTF-8".into()).to_server_msg(),
                );
                Err(End::InvalidUtf8)
            }
            _ => {
                debug!(%err, "socket error");
                Err(End::Disconnected)
            }
        }
    }

    pub(super) async fn on_frame(&mut self, frame: Message) -> Flow {
        if frame.is_close() {
            return Err(End::Disconnected);
        }
        if frame.is_ping() || frame.is_pong() {
            // The WebSocket layer answers pings itself.
            return Ok(());
        }
        // Checked before parsing, so a flood costs as little as possible.
        if !self.rate.try_take(std::time::Instant::now()) {
            if self.rate_limit_reported {
                return Ok(());
            }
            self.rate_limit_reported = true;
            return self.reply(
                RelayError::RateLimited {
                    per_second: self.state.config.messages_per_second,
                }
                .to_server_msg(),
            );
        }
        self.rate_limit_reported = false;

        if frame.is_binary() {
            return self.refuse(RelayError::BinaryNotSupported);
        }
        let Message::Text(text) = &frame else {
            return self.refuse(RelayError::BadMessage("not a text frame".into()));
        };
        let max = self.state.config.max_message_bytes as usize;
        if text.len() > max {
            return self.refuse(RelayError::TooLarge {
                size: text.len(),
                max,
            });
        }
        match parse_client_msg(text) {
            Ok(msg) => self.on_message(msg).await,
            Err(err) => self.refuse(err),
        }
    }
}
