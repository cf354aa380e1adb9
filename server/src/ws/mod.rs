//! One WebSocket connection: reads and checks client messages, answers them, keeps the socket
//! alive, and writes everything queued for it from a separate writer task.
//!
//! The reader never writes to the socket itself. Its replies and everything the registry
//! delivers go through one bounded queue to the writer, so a client that does not read fills
//! its own queue and is disconnected, while the reader keeps noticing pongs and timeouts.
//!
//! Here: the connection and its read loop. Beside it: why a connection ends (`end`), frames
//! before they are messages (`frame`), parsing (`parse`), messages (`message`), chat
//! (`chat`), joining, resuming and leaving (`membership`), and the writer task (`writer`).

mod camera;
mod chat;
mod end;
mod frame;
mod ingest;
mod live;
mod membership;
mod message;
mod parse;
mod sfu;
mod writer;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use meshmeet_protocol::{ServerMsg, SessionToken};
use tokio::sync::{mpsc, Notify};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, warn};

use self::end::{close_code, reconnect_delay_ms, End};
use self::writer::write_queued;
use crate::access::ClientInfo;
use crate::error::RelayError;
use crate::lifecycle::ConnectionSlot;
use crate::limits::TokenBucket;
use crate::member_state::MemberState;
use crate::registry::{Mailbox, MailboxSignal, Membership, Outbound, RoomRegistry};
use crate::upgrade::WebSocket;
use crate::{turn, AppState};

/// How long a closing connection waits for its last frames to be written and for the
/// client's answering close frame. Closing the TCP socket while the client still has bytes
/// in flight can reset the connection and lose the final error message on its side.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// Serves one upgraded socket until it ends; `slot` (and the client's per-address place) is
/// released when this returns.
pub async fn run_connection<R: RoomRegistry>(
    socket: WebSocket,
    state: Arc<AppState<R>>,
    slot: ConnectionSlot,
    client: ClientInfo,
) {
    let (sink, mut stream) = socket.split();
    let (queue, queued) = mpsc::channel(state.config.outbound_queue);
    let signal = Arc::new(MailboxSignal::default());
    let mailbox = Mailbox::new(
        queue.clone(),
        Arc::clone(&signal),
        state.lifecycle.draining_flag(),
    );
    let writer = tokio::spawn(write_queued(sink, queued));
    let writer_abort = writer.abort_handle();

    let now = Instant::now();
    let mut connection = Connection {
        rate: TokenBucket::new(
            state.config.message_burst,
            f64::from(state.config.messages_per_second),
            now.into_std(),
        ),
        // One refused message is forgiven per second.
        bad_messages: TokenBucket::new(state.config.max_bad_messages, 1.0, now.into_std()),
        rate_limit_reported: false,
        membership: None,
        resume_token: None,
        takeover: Arc::new(Notify::new()),
        signal: Arc::clone(&signal),
        queue,
        mailbox,
        client,
        turn_id: turn_credential_id(),
        kept: Arc::default(),
        state: Arc::clone(&state),
    };

    let end = connection.read_until_end(&mut stream, &signal).await;
    let expects_close_reply = connection.finish(end).await;
    drop(connection);

    // The queue's senders are gone now, so the writer stops after the last queued frame.
    let linger = async {
        let _ = writer.await;
        if end.stream_unreadable() {
            // Unread bytes are still arriving (the rest of a refused frame); closing now
            // would reset the connection and could discard the error the client has not
            // read yet. Give it a moment to read it and go.
            tokio::time::sleep(CLOSE_LINGER / 2).await;
        } else if expects_close_reply {
            while let Some(Ok(frame)) = stream.next().await {
                if frame.is_close() {
                    break;
                }
            }
        }
    };
    let wait = if end.close_frame().is_some() {
        CLOSE_LINGER
    } else {
        Duration::ZERO
    };
    if tokio::time::timeout(wait, linger).await.is_err() {
        writer_abort.abort();
    }
    drop(slot);
}

/// One client's connection: its queue, its limits, and the room membership it speaks for.
struct Connection<R> {
    state: Arc<AppState<R>>,
    /// This connection's own queue: replies, pings and closes. Never dropped while draining.
    queue: mpsc::Sender<Outbound>,
    /// The same queue as the registry sees it.
    mailbox: Mailbox,
    membership: Option<Membership>,
    /// The token that resumes the membership after a dropped socket.
    resume_token: Option<SessionToken>,
    /// Woken when another connection resumes this one's session.
    takeover: Arc<Notify>,
    /// This connection's overflow signal (a resumed mailbox is pointed at it).
    signal: Arc<MailboxSignal>,
    rate: TokenBucket,
    bad_messages: TokenBucket,
    /// `rate_limited` is sent once per flood, not once per dropped message.
    rate_limit_reported: bool,
    /// The client's address and its per-address connection place.
    client: ClientInfo,
    /// Names this participant in minted TURN usernames.
    turn_id: String,
    /// What the membership keeps across connections (chat numbering, SFU session), shared
    /// with its resume session.
    kept: Arc<MemberState>,
}

/// What to do after one frame.
type Flow = Result<(), End>;

impl<R: RoomRegistry> Connection<R> {
    async fn read_until_end(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        signal: &MailboxSignal,
    ) -> End {
        let config = &self.state.config;
        let keepalive_timeout = config.keepalive_timeout;
        let mut ping = tokio::time::interval_at(
            Instant::now() + config.keepalive_interval,
            config.keepalive_interval,
        );
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let idle = tokio::time::sleep(keepalive_timeout);
        tokio::pin!(idle);
        let stopping = self.state.lifecycle.stopping();
        tokio::pin!(stopping);
        let takeover = Arc::clone(&self.takeover);
        // Fresh TURN credentials at half their lifetime, once joined (see `renew_ice`).
        let renewal = turn::renewal_interval(config);
        let mut renew = tokio::time::interval_at(
            Instant::now() + renewal.unwrap_or(Duration::from_secs(3600)),
            renewal.unwrap_or(Duration::from_secs(3600)),
        );
        renew.set_missed_tick_behavior(MissedTickBehavior::Delay);

        loop {
            tokio::select! {
                biased;
                () = &mut stopping => return End::ShuttingDown,
                () = signal.overflowed() => return End::TooSlow,
                () = takeover.notified() => return End::TakenOver,
                () = signal.ended() => return End::EndedByHost,
                () = &mut idle => return End::TimedOut,
                _ = ping.tick() => {
                    if let Err(end) = self.push(Outbound::Ping) {
                        return end;
                    }
                }
                _ = renew.tick(), if renewal.is_some() => {
                    if let Err(end) = self.renew_ice() {
                        return end;
                    }
                }
                frame = stream.next() => {
                    // Any frame proves the client is alive, pongs included.
                    idle.as_mut().reset(Instant::now() + keepalive_timeout);
                    let result = match frame {
                        None => Err(End::Disconnected),
                        Some(Err(err)) => self.on_socket_error(&err),
                        Some(Ok(frame)) => self.on_frame(frame).await,
                    };
                    if let Err(end) = result {
                        return end;
                    }
                }
            }
        }
    }

    /// Leaves the room (or holds the place for a resume) and queues the last frames. Returns
    /// whether a close reply is expected.
    async fn finish(&mut self, end: End) -> bool {
        self.release_membership(end).await;
        if end == End::ShuttingDown {
            let reconnect_after_ms = reconnect_delay_ms(self.state.config.reconnect_after);
            let _ = self.push(Outbound::Msg(ServerMsg::ShuttingDown {
                reconnect_after_ms,
            }));
        }
        match end.close_frame() {
            Some((code, reason)) => self.push(Outbound::Close { code, reason }).is_ok(),
            None => false,
        }
    }

    /// Queues a frame of this connection's own.
    fn push(&self, item: Outbound) -> Flow {
        self.queue.try_send(item).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => End::TooSlow,
            // The writer stopped: the socket is gone.
            mpsc::error::TrySendError::Closed(_) => End::Disconnected,
        })
    }

    /// `name` as a display name (trimmed), or why it cannot be one: for `set_name` and the
    /// devices the host lets in.
    fn display_name(&self, name: &str) -> Result<String, RelayError> {
        meshmeet_protocol::validate_display_name(name, self.state.config.max_display_name_chars)
            .map(str::to_owned)
            .map_err(RelayError::InvalidName)
    }

    fn reply(&self, msg: ServerMsg) -> Flow {
        self.push(Outbound::Msg(msg))
    }

    /// Sends `err` to this client only. Fatal errors end the connection; others end it only
    /// when the client keeps sending refused messages.
    fn refuse(&mut self, err: RelayError) -> Flow {
        let code = err.code();
        debug!(?code, %err, "refused a client message");
        self.reply(err.to_server_msg())?;
        if code.is_fatal() {
            let close = if code == meshmeet_protocol::ErrorCode::Internal {
                close_code::INTERNAL
            } else {
                close_code::POLICY
            };
            return Err(End::Refused(close));
        }
        if !self.bad_messages.try_take(std::time::Instant::now()) {
            warn!("closing a connection that keeps sending refused messages");
            return Err(End::TooManyBadMessages);
        }
        Ok(())
    }

    /// Sends fresh TURN credentials to a participant in a room.
    fn renew_ice(&self) -> Flow {
        if self.membership.is_none() {
            return Ok(());
        }
        let ice_servers = turn::ice_servers(&self.state.config, &self.turn_id, SystemTime::now());
        self.reply(ServerMsg::IceServersRenewed { ice_servers })
    }
}

/// 64 random bits as hex: names the participant in the TURN server's logs without giving
/// away its peer id.
fn turn_credential_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return "meshmeet".to_owned();
    }
    hex::encode(bytes)
}
