//! Rooms and presence behind one trait, and the mailbox through which the relay delivers to a
//! connection. Connection handlers never hold each other's sockets: they register a
//! [`Mailbox`] when they join and ask the registry to deliver, so a registry shared between
//! relays ([`RedisRegistry`]) can route a message to a peer connected to another process.

pub mod memory;
pub mod redis;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use meshmeet_protocol::{
    IceServer, IceTransportPolicy, LeaveReason, MediaState, PeerId, RoomLimits, RoomName, ServerMsg,
};
use tokio::sync::{mpsc, Notify};

use crate::error::RelayError;

pub use self::redis::{RedisOptions, RedisRegistry};
pub use memory::MemoryRegistry;

/// What a connection's writer task is asked to send.
#[derive(Debug)]
pub enum Outbound {
    /// A protocol message, serialised by the writer.
    Msg(ServerMsg),
    /// A WebSocket ping frame (keep-alive).
    Ping,
    /// A close frame; the writer stops after it.
    Close {
        /// WebSocket close code.
        code: u16,
        /// Short reason shown in the browser's `CloseEvent`.
        reason: &'static str,
    },
}

/// State one connection shares with every copy of its mailbox.
#[derive(Debug, Default)]
pub struct MailboxSignal {
    overflowed: AtomicBool,
    notify: Notify,
}

impl MailboxSignal {
    /// Resolves once a delivery found the queue full: the client is not reading.
    pub async fn overflowed(&self) {
        self.notify.notified().await;
    }
}

/// The local delivery end of one connection: a bounded queue in front of its socket writer.
///
/// Delivery never waits. When the queue is full the client is not reading fast enough; the
/// mailbox then refuses everything after (so the client never sees a gap followed by later
/// messages) and wakes its connection, which disconnects it.
#[derive(Clone, Debug)]
pub struct Mailbox {
    queue: mpsc::Sender<Outbound>,
    signal: Arc<MailboxSignal>,
    /// Set for the whole relay when it shuts down: clients are about to be told to reconnect,
    /// and news about peers leaving because of that would only confuse them.
    draining: Arc<AtomicBool>,
}

impl Mailbox {
    /// A mailbox in front of `queue`, reporting overflow through `signal`.
    pub fn new(
        queue: mpsc::Sender<Outbound>,
        signal: Arc<MailboxSignal>,
        draining: Arc<AtomicBool>,
    ) -> Self {
        Mailbox {
            queue,
            signal,
            draining,
        }
    }

    /// Queues `msg` for the connection, or gives up on a connection that is not reading.
    pub fn deliver(&self, msg: ServerMsg) {
        if self.draining.load(Ordering::Acquire) || self.signal.overflowed.load(Ordering::Acquire) {
            return;
        }
        match self.queue.try_send(Outbound::Msg(msg)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.signal.overflowed.store(true, Ordering::Release);
                self.signal.notify.notify_one();
            }
            // The connection is ending; its own `leave` follows.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Refuses everything from now on and ends the connection, as if the client had stopped
    /// reading. A shared registry does this when it can no longer serve the participant
    /// (its relay lost its place in the shared state), so the client reconnects and rejoins.
    pub fn disconnect(&self) {
        self.signal.overflowed.store(true, Ordering::Release);
        self.signal.notify.notify_one();
    }
}

/// A participant's place in a room, handed out by [`RoomRegistry::join`]. Holding one is the
/// only way to speak in a room, and it carries the relay-assigned id that is stamped on
/// everything the participant sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    room: RoomName,
    peer_id: PeerId,
}

impl Membership {
    /// Only registries create memberships.
    pub(crate) fn new(room: RoomName, peer_id: PeerId) -> Self {
        Membership { room, peer_id }
    }

    /// The room.
    pub fn room(&self) -> &RoomName {
        &self.room
    }

    /// The participant's relay-assigned id.
    pub fn peer_id(&self) -> &PeerId {
        &self.peer_id
    }
}

/// The parts of `welcome` that come from the relay's configuration, not from the room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WelcomeExtras {
    /// STUN/TURN servers.
    pub ice_servers: Vec<IceServer>,
    /// Whether only relayed candidates may be used.
    pub ice_transport_policy: IceTransportPolicy,
    /// The limits told to the client.
    pub limits: RoomLimits,
}

/// A validated request to enter a room.
#[derive(Debug)]
pub struct JoinRequest {
    /// The room (already validated).
    pub room: RoomName,
    /// The display name (already validated and trimmed).
    pub name: String,
    /// What the participant sends.
    pub media: MediaState,
    /// The password given, if any (empty counts as none).
    pub password: Option<String>,
    /// Where the participant's messages go.
    pub mailbox: Mailbox,
    /// The configuration part of `welcome`.
    pub welcome: WelcomeExtras,
}

/// A change a participant makes to how others see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerChange {
    /// New media state.
    Media(MediaState),
    /// New display name (already validated and trimmed).
    Name(String),
}

/// Counts for logs and health checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryStats {
    /// Rooms with at least one participant.
    pub rooms: usize,
    /// Participants in all rooms.
    pub peers: usize,
}

/// Rooms, their participants, and delivery between them.
///
/// Guarantees every implementation gives:
/// - `join` delivers `welcome` to the newcomer before anything else from the room, then
///   `peer_joined` to the others;
/// - messages from one participant to another arrive in the order they were sent;
/// - a room with nobody in it is forgotten (and its password with it).
pub trait RoomRegistry: Send + Sync + 'static {
    /// Adds a participant to a room, creating the room if needed; refuses with
    /// `RoomFull`, `TooManyRooms` or `WrongPassword`.
    fn join(
        &self,
        request: JoinRequest,
    ) -> impl Future<Output = Result<Membership, RelayError>> + Send;

    /// Removes a participant and tells the others why. Leaving twice is harmless.
    fn leave(&self, member: &Membership, reason: LeaveReason) -> impl Future<Output = ()> + Send;

    /// Applies a change and sends `peer_updated` to the others.
    fn update(
        &self,
        member: &Membership,
        change: PeerChange,
    ) -> impl Future<Output = Result<(), RelayError>> + Send;

    /// Delivers `msg` to one other participant of the member's room; `UnknownPeer` if `to` is
    /// not one (including the member itself).
    fn send_to(
        &self,
        member: &Membership,
        to: &PeerId,
        msg: ServerMsg,
    ) -> impl Future<Output = Result<(), RelayError>> + Send;

    /// Delivers `msg` to every other participant of the member's room.
    fn broadcast(
        &self,
        member: &Membership,
        msg: ServerMsg,
    ) -> impl Future<Output = Result<(), RelayError>> + Send;

    /// Current counts.
    fn stats(&self) -> impl Future<Output = RegistryStats> + Send;

    /// Whether the registry can serve joins now (`/readyz`); `Err` says why not. A registry
    /// in this process always can.
    fn ready(&self) -> impl Future<Output = Result<(), String>> + Send {
        std::future::ready(Ok(()))
    }
}

/// A new unguessable peer id: 128 random bits from the operating system, as 32 hex digits.
pub fn new_peer_id() -> Result<PeerId, RelayError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| {
        tracing::error!(%err, "no randomness for a peer id");
        RelayError::Internal
    })?;
    let mut id = String::with_capacity(32);
    for byte in bytes {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    Ok(PeerId(id))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ids_are_128_bit_hex_and_distinct() {
        let a = new_peer_id().expect("randomness");
        let b = new_peer_id().expect("randomness");
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| HEX.contains(&c)));
        assert_ne!(a, b);
    }

    #[test]
    fn full_mailbox_refuses_everything_after_and_signals_once() {
        let (tx, mut rx) = mpsc::channel(2);
        let signal = Arc::new(MailboxSignal::default());
        let mailbox = Mailbox::new(tx, signal.clone(), Arc::new(AtomicBool::new(false)));
        for nonce in 0..4 {
            mailbox.deliver(ServerMsg::Pong { nonce });
        }
        // Make room: a delivery after the overflow must still be refused (no gaps).
        assert!(matches!(
            rx.try_recv(),
            Ok(Outbound::Msg(ServerMsg::Pong { nonce: 0 }))
        ));
        mailbox.deliver(ServerMsg::Pong { nonce: 9 });
        assert!(matches!(
            rx.try_recv(),
            Ok(Outbound::Msg(ServerMsg::Pong { nonce: 1 }))
        ));
        assert!(rx.try_recv().is_err());
        assert!(signal.overflowed.load(Ordering::Acquire));
    }
}
