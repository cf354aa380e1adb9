//! One WebSocket connection: reads and checks client messages, answers them, keeps the socket
//! alive, and writes everything queued for it from a separate writer task.
//!
//! The reader never writes to the socket itself. Its replies and everything the registry
//! delivers go through one bounded queue to the writer, so a client that does not read fills
//! its own queue and is disconnected, while the reader keeps noticing pongs and timeouts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use meshmeet_protocol::{
    normalize_chat_text, validate_display_name, validate_room_name, ClientMsg, LeaveReason,
    MediaState, ProtocolMsg as _, ServerMsg, SessionToken, PROTOCOL_VERSION,
};
use serde::Deserialize;
use tokio::sync::{mpsc, Notify};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, info, warn};
use tungstenite::error::ProtocolError;
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;

use crate::access::{is_failed_attempt, ClientInfo, JoinAttempt};
use crate::error::RelayError;
use crate::lifecycle::ConnectionSlot;
use crate::limits::TokenBucket;
use crate::registry::{
    HostAction, JoinRequest, Mailbox, MailboxSignal, Membership, Outbound, PeerChange,
    RoomRegistry, WelcomeExtras,
};
use crate::resume::{Sessions, Taken};
use crate::upgrade::WebSocket;
use crate::{turn, AppState};

/// How long a closing connection waits for its last frames to be written and for the
/// client's answering close frame. Closing the TCP socket while the client still has bytes
/// in flight can reset the connection and lose the final error message on its side.
const CLOSE_LINGER: Duration = Duration::from_secs(1);
/// Places kept free in a resuming connection's queue for its own replies.
const RESUME_HEADROOM: usize = 4;
/// How long a resume waits for the session's old connection to let go.
const TAKEOVER_WAIT: Duration = Duration::from_secs(2);
/// How often it looks meanwhile.
const TAKEOVER_POLL: Duration = Duration::from_millis(20);
/// Longest serde error text echoed back to a client (it can quote the client's input).
const MAX_ERROR_DETAIL_CHARS: usize = 200;

/// WebSocket close codes (RFC 6455, section 7.4.1).
mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    /// Application-defined: another connection resumed this one's session.
    pub const TAKEN_OVER: u16 = 4000;
}

/// Why a connection ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// The client sent `leave`.
    Left,
    /// The client sent a close frame, or the socket closed or failed.
    Disconnected,
    /// Nothing arrived for the keep-alive timeout.
    TimedOut,
    /// The client's queue filled up: it is not reading.
    TooSlow,
    /// A fatal error was sent; the close follows it.
    Refused(u16),
    /// Too many refused messages in a short time.
    TooManyBadMessages,
    /// A frame over the hard limit: it was not read, so the stream cannot continue.
    FrameTooLarge,
    /// A text frame that is not UTF-8 (the WebSocket layer stops reading after it).
    InvalidUtf8,
    /// A frame that breaks RFC 6455 (unmasked, reserved bits or opcodes, a continuation
    /// without a start, a fragmented or oversized control frame, a malformed close).
    ProtocolViolation,
    /// The relay is stopping.
    ShuttingDown,
    /// Another connection resumed this one's session.
    TakenOver,
    /// The host removed the participant or ended the meeting (the message saying so is
    /// already queued).
    EndedByHost,
}

impl End {
    fn leave_reason(self) -> LeaveReason {
        match self {
            End::Left => LeaveReason::Left,
            End::TimedOut => LeaveReason::TimedOut,
            _ => LeaveReason::Disconnected,
        }
    }

    /// Whether the participant keeps its place for a resume: its socket went away without a
    /// `leave`. A connection that went silent is not held: it already had the keep-alive
    /// timeout to come back, and a dead participant must leave the grid within it.
    fn may_resume(self) -> bool {
        matches!(self, End::Disconnected | End::TakenOver)
    }

    /// Whether the WebSocket layer stopped reading (it does after any protocol error).
    fn stream_unreadable(self) -> bool {
        matches!(
            self,
            End::FrameTooLarge | End::InvalidUtf8 | End::ProtocolViolation
        )
    }

    /// The close frame to send, where the client can still be reached.
    fn close_frame(self) -> Option<(u16, &'static str)> {
        match self {
            End::Left => Some((close_code::NORMAL, "left")),
            End::Disconnected => Some((close_code::NORMAL, "")),
            End::TimedOut | End::TooSlow => None,
            End::Refused(code) => Some((code, "refused")),
            End::TooManyBadMessages => Some((close_code::POLICY, "too many bad messages")),
            End::FrameTooLarge => Some((close_code::TOO_BIG, "message too big")),
            End::InvalidUtf8 => Some((close_code::INVALID_PAYLOAD, "invalid UTF-8")),
            End::ProtocolViolation => Some((close_code::PROTOCOL_ERROR, "protocol error")),
            End::ShuttingDown => Some((close_code::GOING_AWAY, "relay shutting down")),
            End::TakenOver => Some((close_code::TAKEN_OVER, "resumed elsewhere")),
            End::EndedByHost => Some((close_code::NORMAL, "ended by the host")),
        }
    }
}

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
    let mut session = Session {
        rate: TokenBucket::new(
            state.config.message_burst,
            f64::from(state.config.messages_per_second),
            now.into_std(),
        ),
        // One refused message is forgiven per second.
        bad_messages: TokenBucket::new(state.config.max_bad_messages, 1.0, now.into_std()),
        rate_limit_reported: false,
        membership: None,
        session: None,
        takeover: Arc::new(Notify::new()),
        signal: Arc::clone(&signal),
        queue,
        mailbox,
        client,
        turn_id: turn_credential_id(),
        chat_seq: Arc::default(),
        state: Arc::clone(&state),
    };

    let end = session.read_until_end(&mut stream, &signal).await;
    let expects_close_reply = session.finish(end).await;
    drop(session);

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

struct Session<R> {
    state: Arc<AppState<R>>,
    /// This connection's own queue: replies, pings and closes. Never dropped while draining.
    queue: mpsc::Sender<Outbound>,
    /// The same queue as the registry sees it.
    mailbox: Mailbox,
    membership: Option<Membership>,
    /// The resume token of the membership.
    session: Option<SessionToken>,
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
    /// The highest chat `seq` the membership has sent, shared with its resume session.
    chat_seq: Arc<AtomicU64>,
}

/// What to do after one frame.
type Flow = Result<(), End>;

impl<R: RoomRegistry> Session<R> {
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

    /// Leaves the room and queues the last frames. Returns whether a close reply is expected.
    async fn finish(&mut self, end: End) -> bool {
        if let Some(member) = self.membership.take() {
            let session = self.session.take();
            let grace = self.state.config.resume_grace;
            let hold = match &session {
                Some(token) if end.may_resume() && !grace.is_zero() => {
                    // Room for `resumed` and a few pongs beside the held messages in the
                    // resuming connection's queue, which is as long as this one's.
                    let capacity = self
                        .state
                        .config
                        .outbound_queue
                        .saturating_sub(RESUME_HEADROOM);
                    self.state.sessions.hold(token, capacity.max(1))
                }
                _ => None,
            };
            match (session, hold) {
                (Some(token), Some(hold)) => {
                    info!(room = %member.room(), peer = %member.peer_id(), ?end, "peer held for a resume");
                    let state = Arc::clone(&self.state);
                    tokio::spawn(async move {
                        tokio::time::sleep(grace).await;
                        if let Some(member) = state.sessions.expire(&token, hold) {
                            state
                                .registry
                                .leave(&member, LeaveReason::Disconnected)
                                .await;
                            info!(room = %member.room(), peer = %member.peer_id(), "peer left: not resumed in time");
                        }
                    });
                }
                (session, _) => {
                    if let Some(token) = session {
                        self.state.sessions.forget(&token);
                    }
                    self.state.registry.leave(&member, end.leave_reason()).await;
                    info!(room = %member.room(), peer = %member.peer_id(), ?end, "peer left");
                }
            }
        } else {
            debug!(?end, "connection ended before joining");
        }
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

    fn on_socket_error(&mut self, err: &tungstenite::Error) -> Flow {
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

    async fn on_frame(&mut self, frame: Message) -> Flow {
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

    async fn on_message(&mut self, msg: ClientMsg) -> Flow {
        // Ping works before joining too: the lobby may measure the relay's round trip.
        if let ClientMsg::Ping { nonce } = msg {
            return self.reply(ServerMsg::Pong { nonce });
        }
        let Some(member) = self.membership.clone() else {
            return match msg {
                ClientMsg::Join {
                    version,
                    room,
                    name,
                    password,
                    media,
                    token,
                    client_key,
                } => {
                    let join = JoinAttempt {
                        room: &room,
                        name: &name,
                        password: password.as_deref(),
                        token: token.as_deref(),
                        client_key: client_key.as_deref(),
                    };
                    self.join(version, join, media).await
                }
                ClientMsg::Resume { version, session } => self.resume(version, session).await,
                _ => self.refuse(RelayError::NotJoined),
            };
        };
        let registry = &self.state.registry;
        let result = match msg {
            ClientMsg::Join { .. } | ClientMsg::Resume { .. } => Err(RelayError::AlreadyJoined),
            ClientMsg::Signal { to, signal } => {
                // The sender is stamped here, from the membership the relay handed out:
                // whatever the client put in its message, it cannot speak as someone else.
                let from = member.peer_id().clone();
                registry
                    .send_to(&member, &to, ServerMsg::Signal { from, signal })
                    .await
            }
            ClientMsg::SetMedia { media } => {
                registry.update(&member, PeerChange::Media(media)).await
            }
            ClientMsg::SetName { name } => {
                match validate_display_name(&name, self.state.config.max_display_name_chars) {
                    Ok(name) => {
                        registry
                            .update(&member, PeerChange::Name(name.to_owned()))
                            .await
                    }
                    Err(err) => Err(RelayError::InvalidName(err)),
                }
            }
            ClientMsg::Chat { seq, text } => match self.check_chat(seq, &text) {
                Ok(text) => {
                    let msg = ServerMsg::Chat {
                        from: member.peer_id().clone(),
                        seq,
                        text,
                        sent_at_ms: unix_time_ms(),
                    };
                    registry.broadcast(&member, msg).await
                }
                Err(err) => Err(err),
            },
            ClientMsg::Leave => return Err(End::Left),
            ClientMsg::Ping { .. } => Ok(()),
            host @ (ClientMsg::LockRoom { .. }
            | ClientMsg::RemovePeer { .. }
            | ClientMsg::AskToMute { .. }
            | ClientMsg::HandOverHost { .. }
            | ClientMsg::EndMeeting) => match HostAction::from_client_msg(host) {
                Some(action) => registry.host_action(&member, action).await,
                None => Ok(()),
            },
        };
        match result {
            Ok(()) => Ok(()),
            Err(err) => self.refuse(err),
        }
    }

    async fn join(&mut self, version: u32, attempt: JoinAttempt<'_>, media: MediaState) -> Flow {
        let config = &self.state.config;
        if let Err(err) = check_version(version) {
            return self.refuse(err);
        }
        if let Err(err) = validate_room_name(attempt.room.as_str(), config.max_room_name_chars) {
            return self.refuse(RelayError::InvalidRoom(err));
        }
        let access = &self.state.access;
        let ip = self.client.ip;
        // An address that used up its failed attempts is refused before its password or
        // token is even looked at, right or wrong, so guessing gains nothing.
        if let Err(err) = access.check_attempts(ip, std::time::Instant::now()) {
            return self.refuse(err);
        }
        let admitted = match access.admit_join(attempt, SystemTime::now()) {
            Ok(admitted) => admitted,
            Err(err) => return self.refuse_join(err),
        };
        let session = match Sessions::new_token() {
            Ok(token) => token,
            Err(err) => return self.refuse(err),
        };
        let request = JoinRequest {
            room: attempt.room.clone(),
            name: admitted.name,
            media,
            password: admitted.password,
            vouched: admitted.vouched,
            identity: admitted.identity,
            mailbox: self.mailbox.clone(),
            welcome: WelcomeExtras {
                ice_servers: turn::ice_servers(config, &self.turn_id, SystemTime::now()),
                ice_transport_policy: config.ice_transport_policy(),
                limits: config.room_limits(),
                session: session.clone(),
                resume_grace_ms: u64::try_from(config.resume_grace.as_millis()).unwrap_or(u64::MAX),
            },
        };
        match self.state.registry.join(request).await {
            Ok(member) => {
                info!(room = %member.room(), peer = %member.peer_id(), "peer joined");
                self.become_member(session, member, self.mailbox.clone());
                Ok(())
            }
            Err(err) => self.refuse_join(err),
        }
    }

    /// Speaks for `member` from now on, resumable under `session`.
    fn become_member(&mut self, session: SessionToken, member: Membership, mailbox: Mailbox) {
        self.state.sessions.register(
            session.clone(),
            member.clone(),
            mailbox.clone(),
            Arc::clone(&self.chat_seq),
            Arc::clone(&self.takeover),
        );
        self.membership = Some(member);
        self.session = Some(session);
        self.mailbox = mailbox;
    }

    /// Takes back a session whose socket dropped: `resumed`, then what was held, in order.
    async fn resume(&mut self, version: u32, session: SessionToken) -> Flow {
        if let Err(err) = check_version(version) {
            return self.refuse(err);
        }
        let mut taken = self.state.sessions.take(&session);
        // The old connection is still open (its network dropped silently): it was told to let
        // go and holds the session in a moment.
        let deadline = Instant::now() + TAKEOVER_WAIT;
        while matches!(taken, Taken::Live) && Instant::now() < deadline {
            tokio::time::sleep(TAKEOVER_POLL).await;
            taken = self.state.sessions.take(&session);
        }
        let Taken::Held {
            member,
            mailbox,
            chat_seq,
            held,
        } = taken
        else {
            return self.refuse(RelayError::SessionExpired);
        };
        if held.overflowed() {
            // More arrived while it was away than the relay keeps: the room moved on
            // without it, so it starts over with a new join.
            warn!(room = %member.room(), peer = %member.peer_id(), "held messages overflowed; the session is lost");
            self.state
                .registry
                .leave(&member, LeaveReason::Disconnected)
                .await;
            return self.refuse(RelayError::SessionExpired);
        }
        self.reply(ServerMsg::Resumed {
            peer_id: member.peer_id().clone(),
            room: member.room().clone(),
        })?;
        if mailbox
            .release_into(held, self.queue.clone(), Arc::clone(&self.signal))
            .is_err()
        {
            // Held messages and this connection's own replies together do not fit its
            // queue: end it; its next `resume` gets `session_expired` and it joins anew.
            warn!(room = %member.room(), peer = %member.peer_id(), "held messages do not fit; the session is lost");
            self.state
                .registry
                .leave(&member, LeaveReason::Disconnected)
                .await;
            return Err(End::TooSlow);
        }
        info!(room = %member.room(), peer = %member.peer_id(), "peer resumed");
        self.chat_seq = chat_seq;
        self.become_member(session, member, mailbox);
        Ok(())
    }

    /// Refuses a join, counting wrong passwords and bad tokens against the address.
    fn refuse_join(&mut self, err: RelayError) -> Flow {
        if is_failed_attempt(&err) {
            self.state
                .access
                .record_failure(self.client.ip, std::time::Instant::now());
        }
        self.refuse(err)
    }

    /// Sends fresh TURN credentials to a participant in a room.
    fn renew_ice(&self) -> Flow {
        if self.membership.is_none() {
            return Ok(());
        }
        let ice_servers = turn::ice_servers(&self.state.config, &self.turn_id, SystemTime::now());
        self.reply(ServerMsg::IceServersRenewed { ice_servers })
    }

    /// Checks a chat and takes its `seq`: receivers name a message by `(sender, seq)`, so
    /// the relay lets each number through once per membership, going up (resumes included:
    /// the count lives with the session). Returns the text with its line breaks normalised.
    fn check_chat(&self, seq: u64, text: &str) -> Result<String, RelayError> {
        let max = self.state.config.max_chat_chars as usize;
        let text = normalize_chat_text(text, max).map_err(RelayError::InvalidText)?;
        let last = self.chat_seq.load(Ordering::Relaxed);
        if seq <= last {
            return Err(RelayError::InvalidSeq { seq, last });
        }
        self.chat_seq.store(seq, Ordering::Relaxed);
        Ok(text.into_owned())
    }
}

/// Just enough of a message to recognise a join from another protocol version, whose other
/// fields this version may not understand.
#[derive(Deserialize)]
struct VersionProbe {
    #[serde(rename = "type")]
    kind: String,
    version: u64,
}

/// `join` and `resume` must speak this relay's protocol version.
fn check_version(version: u32) -> Result<(), RelayError> {
    if version == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(RelayError::VersionMismatch {
            got: u64::from(version),
            expected: PROTOCOL_VERSION,
        })
    }
}

fn parse_client_msg(text: &str) -> Result<ClientMsg, RelayError> {
    match ClientMsg::from_json(text) {
        Ok(msg) => Ok(msg),
        Err(err) => {
            if let Ok(probe) = serde_json::from_str::<VersionProbe>(text) {
                if probe.kind == "join" && probe.version != u64::from(PROTOCOL_VERSION) {
                    return Err(RelayError::VersionMismatch {
                        got: probe.version,
                        expected: PROTOCOL_VERSION,
                    });
                }
            }
            let mut detail: String = err.to_string();
            if detail.chars().count() > MAX_ERROR_DETAIL_CHARS {
                detail = detail.chars().take(MAX_ERROR_DETAIL_CHARS).collect();
                detail.push('…');
            }
            Err(RelayError::BadMessage(detail))
        }
    }
}

/// Writes queued frames until a close frame or until every sender is gone.
async fn write_queued(
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

/// 64 random bits as hex: names the participant in the TURN server's logs without giving
/// away its peer id.
fn turn_credential_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return "meshmeet".to_owned();
    }
    hex::encode(bytes)
}

fn unix_time_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The base delay plus up to as much again at random, so clients told to reconnect at the
/// same moment do not all come back at the same moment.
fn reconnect_delay_ms(base: Duration) -> u64 {
    let base_ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
    let mut bytes = [0u8; 8];
    let jitter = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes) % base_ms.saturating_add(1),
        Err(_) => 0,
    };
    base_ms.saturating_add(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshmeet_protocol::ErrorCode;

    fn code_of(text: &str) -> Option<ErrorCode> {
        parse_client_msg(text).err().map(|e| e.code())
    }

    #[test]
    fn join_of_another_version_is_a_version_mismatch_even_if_its_shape_changed() {
        assert_eq!(
            code_of(r#"{"type":"join","version":3,"room":"r","name":"n"}"#),
            None,
            "well-formed joins are checked later, in join()"
        );
        assert_eq!(
            code_of(r#"{"type":"join","version":7,"lobby":{"room":"r"}}"#),
            Some(ErrorCode::VersionMismatch)
        );
        assert_eq!(
            code_of(r#"{"type":"join","version":2,"lobby":{"room":"r"}}"#),
            Some(ErrorCode::BadMessage)
        );
    }

    #[test]
    fn long_parse_errors_are_cut_short() {
        let kind = "x".repeat(5000);
        let err = parse_client_msg(&format!(r#"{{"type":"{kind}"}}"#)).expect_err("refused");
        assert!(err.to_string().chars().count() < MAX_ERROR_DETAIL_CHARS + 50);
    }

    #[test]
    fn reconnect_delay_stays_between_base_and_twice_base() {
        for _ in 0..100 {
            let ms = reconnect_delay_ms(Duration::from_millis(1000));
            assert!((1000..=2000).contains(&ms), "{ms}");
        }
        assert_eq!(reconnect_delay_ms(Duration::ZERO), 0);
    }
}
