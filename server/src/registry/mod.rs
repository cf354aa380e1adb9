//! Rooms and presence behind one trait, and the mailbox through which the relay delivers to a
//! connection. Connection handlers never hold each other's sockets: they register a
//! [`Mailbox`] when they join and ask the registry to deliver, so a registry shared between
//! relays ([`RedisRegistry`]) can route a message to a peer connected to another process.

pub mod memory;
pub mod redis;
mod sfu;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use meshmeet_protocol::{
    ClientMsg, IceServer, IceTransportPolicy, LeaveReason, LiveInfo, MediaState, PeerId,
    RoomLimits, RoomName, ServerMsg, SessionToken, Topology,
};
use tokio::sync::{mpsc, watch, Notify};

use crate::error::RelayError;

pub use self::redis::{RedisOptions, RedisRegistry};
pub use memory::MemoryRegistry;
pub use sfu::{check_sfu_epoch, wrong_topology, SfuPlacement, TopologyPolicy};

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
    /// Set once a message that ends the session ([`ServerMsg::ends_session`]) is queued.
    ended: AtomicBool,
    ended_notify: Notify,
}

impl MailboxSignal {
    /// Resolves once a delivery found the queue full: the client is not reading.
    pub async fn overflowed(&self) {
        self.notify.notified().await;
    }

    /// Resolves once the host removed the participant or ended the meeting: the message
    /// saying so is queued, and the connection should close after it.
    pub async fn ended(&self) {
        self.ended_notify.notified().await;
    }

    /// Whether [`ended`](Self::ended) has happened.
    pub fn has_ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }
}

/// The local delivery end of one participant: a bounded queue in front of its connection's
/// socket writer.
///
/// Delivery never waits. When the queue is full the client is not reading fast enough; the
/// mailbox then refuses everything after (so the client never sees a gap followed by later
/// messages) and wakes its connection, which disconnects it.
///
/// Every copy shares one target, which a resume moves: while the participant's socket is
/// gone its messages wait in a holding queue ([`Mailbox::hold`]), and the connection that
/// resumes the session takes them over in order ([`Mailbox::release_into`]). The registry
/// keeps delivering to the same mailbox throughout and never notices.
#[derive(Clone, Debug)]
pub struct Mailbox {
    target: Arc<Mutex<Target>>,
    /// The room's topology as the participant was last told it (in `welcome` or
    /// `topology_changed`): what its SFU messages are checked against, and what ends its SFU
    /// connections when the room leaves that epoch.
    topology: Arc<watch::Sender<Topology>>,
    /// Set for the whole relay when it shuts down: clients are about to be told to reconnect,
    /// and news about peers leaving because of that would only confuse them.
    draining: Arc<AtomicBool>,
}

/// Where a mailbox delivers right now.
#[derive(Debug)]
struct Target {
    queue: mpsc::Sender<Outbound>,
    signal: Arc<MailboxSignal>,
}

/// Messages held for a participant whose socket is gone, waiting for a resume.
#[derive(Debug)]
pub struct HeldMessages {
    queue: mpsc::Receiver<Outbound>,
    signal: Arc<MailboxSignal>,
}

impl HeldMessages {
    /// Whether more arrived than the hold keeps: the participant missed messages, so its
    /// session cannot be resumed.
    pub fn overflowed(&self) -> bool {
        self.signal.overflowed.load(Ordering::Acquire)
    }
}

/// A resume found more held messages than a connection's queue takes: the session is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldOverflow;

impl Mailbox {
    /// A mailbox in front of `queue`, reporting overflow through `signal`.
    pub fn new(
        queue: mpsc::Sender<Outbound>,
        signal: Arc<MailboxSignal>,
        draining: Arc<AtomicBool>,
    ) -> Self {
        Mailbox {
            target: Arc::new(Mutex::new(Target { queue, signal })),
            topology: Arc::new(watch::Sender::new(Topology::default())),
            draining,
        }
    }

    fn target(&self) -> MutexGuard<'_, Target> {
        // The target is replaced whole under the lock, never left half-changed.
        self.target.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `msg` for the connection, or gives up on a connection that is not reading.
    pub fn deliver(&self, msg: ServerMsg) {
        if let ServerMsg::Welcome { topology, .. } | ServerMsg::TopologyChanged { topology } = &msg
        {
            self.topology.send_replace(*topology);
        }
        if self.draining.load(Ordering::Acquire) {
            return;
        }
        let target = self.target();
        if target.signal.overflowed.load(Ordering::Acquire) {
            return;
        }
        let ends_session = msg.ends_session();
        match target.queue.try_send(Outbound::Msg(msg)) {
            Ok(()) if ends_session => {
                target.signal.ended.store(true, Ordering::Release);
                target.signal.ended_notify.notify_one();
            }
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                target.signal.overflowed.store(true, Ordering::Release);
                target.signal.notify.notify_one();
            }
            // The connection is ending; its own `leave` (or hold) follows.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// The room's topology as the participant was last told it, and its changes.
    pub fn topology(&self) -> watch::Receiver<Topology> {
        self.topology.subscribe()
    }

    /// Refuses everything from now on and ends the connection, as if the client had stopped
    /// reading. A shared registry does this when it can no longer serve the participant
    /// (its relay lost its place in the shared state), so the client reconnects and rejoins.
    pub fn disconnect(&self) {
        let target = self.target();
        target.signal.overflowed.store(true, Ordering::Release);
        target.signal.notify.notify_one();
    }

    /// From now on, keeps up to `capacity` messages aside instead of delivering them: the
    /// participant's socket closed and it may resume.
    pub fn hold(&self, capacity: usize) -> HeldMessages {
        let (queue, held) = mpsc::channel(capacity.max(1));
        let signal = Arc::new(MailboxSignal::default());
        *self.target() = Target {
            queue,
            signal: Arc::clone(&signal),
        };
        HeldMessages {
            queue: held,
            signal,
        }
    }

    /// Moves the held messages, in order, into a resuming connection's `queue` and delivers
    /// there from now on. Nothing can be delivered in between: the target stays locked.
    pub fn release_into(
        &self,
        mut held: HeldMessages,
        queue: mpsc::Sender<Outbound>,
        signal: Arc<MailboxSignal>,
    ) -> Result<(), HeldOverflow> {
        let mut target = self.target();
        if held.overflowed() {
            return Err(HeldOverflow);
        }
        while let Ok(item) = held.queue.try_recv() {
            queue.try_send(item).map_err(|_| HeldOverflow)?;
        }
        // Removed or ended by the host while away: the resumed connection closes after
        // reading why.
        if held.signal.ended.load(Ordering::Acquire) {
            signal.ended.store(true, Ordering::Release);
            signal.ended_notify.notify_one();
        }
        *target = Target { queue, signal };
        Ok(())
    }
}

/// A participant's place in a room, handed out by [`RoomRegistry::join`]. Holding one is the
/// only way to speak in a room, and it carries the relay-assigned id that is stamped on
/// everything the participant sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    room: RoomName,
    peer_id: PeerId,
    e2ee: bool,
}

impl Membership {
    /// Only registries create memberships; `e2ee`: whether the room is end-to-end
    /// encrypted (fixed when it opened).
    pub(crate) fn new(room: RoomName, peer_id: PeerId, e2ee: bool) -> Self {
        Membership {
            room,
            peer_id,
            e2ee,
        }
    }

    /// Whether the room is end-to-end encrypted: nothing that needs the server to see the
    /// media may start in it.
    pub fn e2ee(&self) -> bool {
        self.e2ee
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
    /// The participant's resume token.
    pub session: SessionToken,
    /// How long the relay holds the place of a participant whose socket closed.
    pub resume_grace_ms: u64,
}

/// The identity of a participant that is an encoder publishing over WHIP (followed by its
/// token): the registries never make one host while a person is in the room.
pub const ENCODER_IDENTITY_PREFIX: &str = "ingest:";

/// Whether a participant of this identity is an encoder ([`ENCODER_IDENTITY_PREFIX`]).
pub fn is_encoder(identity: Option<&str>) -> bool {
    identity.is_some_and(|id| id.starts_with(ENCODER_IDENTITY_PREFIX))
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
    /// Already admitted by a join token or the operator's room password: no password is
    /// checked, and none is set if the room is new.
    pub vouched: bool,
    /// Who the participant is, for the room's list of removed participants (see
    /// [`crate::access::Admission::identity`]).
    pub identity: Option<String>,
    /// Where the participant's messages go.
    pub mailbox: Mailbox,
    /// The configuration part of `welcome`.
    pub welcome: WelcomeExtras,
    /// The topology rule, when the relay has a media server (without one every room is a
    /// mesh).
    pub topology: Option<TopologyPolicy>,
    /// Whether the room is to be end-to-end encrypted, if this join opens it (a later
    /// joiner's wish changes nothing).
    pub e2ee: bool,
}

/// A change a participant makes to how others see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerChange {
    /// New media state.
    Media(MediaState),
    /// New display name (already validated and trimmed).
    Name(String),
}

/// What only a room's host may do ([`RoomRegistry::host_action`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostAction {
    /// Lock (nobody new may join) or unlock the room; everyone gets `lock_changed`.
    Lock(bool),
    /// Remove a participant: it gets `removed` (its connection then closes), the others
    /// `peer_left` with reason `removed`, and it cannot join the room again.
    Remove(PeerId),
    /// Ask a participant to mute: it gets `mute_requested`.
    AskToMute(PeerId),
    /// Make another participant the host; everyone gets `host_changed`.
    HandOver(PeerId),
    /// End the meeting: everyone gets `meeting_ended`, their connections close, and the
    /// room is forgotten.
    EndMeeting,
    /// Go live with this stage (participants of the room, `UnknownPeer` otherwise) or end
    /// the live (`None`); everyone gets `live_changed`. A live room moves to the SFU at once
    /// (when it has a topology rule) and stays there while it is live.
    Live(Option<LiveInfo>),
    /// Nothing changes: only the check that the participant is the host, before the relay
    /// lets a device into the room (an encoder's token, a camera: the relay keeps them).
    AdmitDevice,
}

impl HostAction {
    /// The host action a client message asks for, if it is one.
    pub fn from_client_msg(msg: ClientMsg) -> Option<HostAction> {
        match msg {
            ClientMsg::LockRoom { locked } => Some(HostAction::Lock(locked)),
            ClientMsg::RemovePeer { peer_id } => Some(HostAction::Remove(peer_id)),
            ClientMsg::AskToMute { peer_id } => Some(HostAction::AskToMute(peer_id)),
            ClientMsg::HandOverHost { peer_id } => Some(HostAction::HandOver(peer_id)),
            ClientMsg::EndMeeting => Some(HostAction::EndMeeting),
            _ => None,
        }
    }
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
/// - a room with nobody in it is forgotten (and its password, lock, host and list of
///   removed participants with it);
/// - the first participant of a room is its host; when the host leaves, the participant who
///   joined earliest of those left becomes host, and everyone gets `host_changed`.
pub trait RoomRegistry: Send + Sync + 'static {
    /// Adds a participant to a room, creating the room if needed; refuses with
    /// `RoomFull`, `TooManyRooms`, `WrongPassword`, `Removed` (the host removed this
    /// identity) or `RoomLocked`.
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

    /// Does what only the host may; `NotHost` from anyone else, `UnknownPeer` for a target
    /// that is not another participant of the room.
    fn host_action(
        &self,
        member: &Membership,
        action: HostAction,
    ) -> impl Future<Output = Result<(), RelayError>> + Send;

    /// Current counts.
    fn stats(&self) -> impl Future<Output = RegistryStats> + Send;

    /// Where the member's room runs its SFU for `epoch`, if a relay placed it already;
    /// `WrongTopology` unless the room is on the SFU with that epoch.
    fn sfu_placement(
        &self,
        member: &Membership,
        epoch: u64,
    ) -> impl Future<Output = Result<Option<SfuPlacement>, RelayError>> + Send;

    /// Records `placement` for the member's room if the room has none for its epoch, or has
    /// the Janus room `replacing` (one that failed); returns the placement in force, which is
    /// another relay's when it was quicker. `WrongTopology` unless the room is on the SFU
    /// with `placement.epoch`.
    fn claim_sfu_placement(
        &self,
        member: &Membership,
        placement: SfuPlacement,
        replacing: Option<u64>,
    ) -> impl Future<Output = Result<SfuPlacement, RelayError>> + Send;

    /// The placement in force for `room` (any epoch), for the relay that created the Janus
    /// room: it destroys it once this is no longer it.
    fn room_sfu_placement(
        &self,
        room: &RoomName,
    ) -> impl Future<Output = Result<Option<SfuPlacement>, RelayError>> + Send;

    /// Whether `room` is live, and its stage: for the relay that runs the live, which ends
    /// it once this no longer says so (the live ended, the room emptied).
    fn room_live(
        &self,
        room: &RoomName,
    ) -> impl Future<Output = Result<Option<LiveInfo>, RelayError>> + Send;

    /// For the relay running `room`'s live that follows the speaker: puts `speaker` alone
    /// on the stage, and everyone gets `live_changed`: the live as it is now. `Ok(None)`,
    /// and nothing changes, when the room is no longer live with `watch_token` following
    /// the speaker (the host chose someone meanwhile, or the live ended), `speaker` is not
    /// in the room, or is on the stage already.
    fn follow_speaker(
        &self,
        room: &RoomName,
        watch_token: &str,
        speaker: &PeerId,
    ) -> impl Future<Output = Result<Option<LiveInfo>, RelayError>> + Send;

    /// Moves back to the mesh every SFU room that has been small enough for the rule's
    /// return delay, and every SFU room small enough for the mesh when no media server is
    /// reachable; everyone in them gets `topology_changed`. Called every second or so.
    fn settle_topology(&self, policy: TopologyPolicy) -> impl Future<Output = ()> + Send;

    /// Whether the registry can serve joins now (`/readyz`); `Err` says why not. A registry
    /// in this process always can.
    fn ready(&self) -> impl Future<Output = Result<(), String>> + Send {
        std::future::ready(Ok(()))
    }
}

/// A registry shared with someone else (a test that looks at its counts) is still one.
impl<R: RoomRegistry> RoomRegistry for Arc<R> {
    async fn join(&self, request: JoinRequest) -> Result<Membership, RelayError> {
        (**self).join(request).await
    }
    async fn leave(&self, member: &Membership, reason: LeaveReason) {
        (**self).leave(member, reason).await;
    }
    async fn update(&self, member: &Membership, change: PeerChange) -> Result<(), RelayError> {
        (**self).update(member, change).await
    }
    async fn send_to(
        &self,
        member: &Membership,
        to: &PeerId,
        msg: ServerMsg,
    ) -> Result<(), RelayError> {
        (**self).send_to(member, to, msg).await
    }
    async fn broadcast(&self, member: &Membership, msg: ServerMsg) -> Result<(), RelayError> {
        (**self).broadcast(member, msg).await
    }
    async fn host_action(&self, member: &Membership, action: HostAction) -> Result<(), RelayError> {
        (**self).host_action(member, action).await
    }
    async fn stats(&self) -> RegistryStats {
        (**self).stats().await
    }
    async fn ready(&self) -> Result<(), String> {
        (**self).ready().await
    }
    async fn sfu_placement(
        &self,
        member: &Membership,
        epoch: u64,
    ) -> Result<Option<SfuPlacement>, RelayError> {
        (**self).sfu_placement(member, epoch).await
    }
    async fn claim_sfu_placement(
        &self,
        member: &Membership,
        placement: SfuPlacement,
        replacing: Option<u64>,
    ) -> Result<SfuPlacement, RelayError> {
        (**self)
            .claim_sfu_placement(member, placement, replacing)
            .await
    }
    async fn room_sfu_placement(
        &self,
        room: &RoomName,
    ) -> Result<Option<SfuPlacement>, RelayError> {
        (**self).room_sfu_placement(room).await
    }
    async fn room_live(&self, room: &RoomName) -> Result<Option<LiveInfo>, RelayError> {
        (**self).room_live(room).await
    }
    async fn follow_speaker(
        &self,
        room: &RoomName,
        watch_token: &str,
        speaker: &PeerId,
    ) -> Result<Option<LiveInfo>, RelayError> {
        (**self).follow_speaker(room, watch_token, speaker).await
    }
    async fn settle_topology(&self, policy: TopologyPolicy) {
        (**self).settle_topology(policy).await;
    }
}

/// A new unguessable peer id: 128 random bits from the operating system, as 32 hex digits.
pub fn new_peer_id() -> Result<PeerId, RelayError> {
    random_hex_128().map(PeerId)
}

/// 128 random bits from the operating system, as 32 hex digits.
pub fn random_hex_128() -> Result<String, RelayError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| {
        tracing::error!(%err, "no randomness for an id");
        RelayError::Internal
    })?;
    let mut id = String::with_capacity(32);
    for byte in bytes {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    Ok(id)
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

    fn mailbox(capacity: usize) -> (Mailbox, mpsc::Receiver<Outbound>, Arc<MailboxSignal>) {
        let (tx, rx) = mpsc::channel(capacity);
        let signal = Arc::new(MailboxSignal::default());
        let mailbox = Mailbox::new(tx, signal.clone(), Arc::new(AtomicBool::new(false)));
        (mailbox, rx, signal)
    }

    fn nonces(rx: &mut mpsc::Receiver<Outbound>) -> Vec<u64> {
        let mut got = Vec::new();
        while let Ok(Outbound::Msg(ServerMsg::Pong { nonce })) = rx.try_recv() {
            got.push(nonce);
        }
        got
    }

    #[test]
    fn held_messages_reach_the_resuming_connection_before_later_ones_in_order() {
        let (mailbox, mut old_rx, _) = mailbox(8);
        let registry_copy = mailbox.clone();
        registry_copy.deliver(ServerMsg::Pong { nonce: 1 });
        let held = mailbox.hold(8);
        registry_copy.deliver(ServerMsg::Pong { nonce: 2 });
        registry_copy.deliver(ServerMsg::Pong { nonce: 3 });
        assert_eq!(
            nonces(&mut old_rx),
            [1],
            "the old socket gets nothing after the hold"
        );

        let (tx, mut new_rx) = mpsc::channel(8);
        tx.try_send(Outbound::Ping).expect("room");
        mailbox
            .release_into(held, tx, Arc::new(MailboxSignal::default()))
            .expect("fits");
        registry_copy.deliver(ServerMsg::Pong { nonce: 4 });
        assert!(matches!(new_rx.try_recv(), Ok(Outbound::Ping)));
        assert_eq!(nonces(&mut new_rx), [2, 3, 4]);
    }

    #[test]
    fn a_hold_that_overflowed_cannot_be_released() {
        let (mailbox, _old_rx, _) = mailbox(8);
        let held = mailbox.hold(2);
        for nonce in 0..3 {
            mailbox.deliver(ServerMsg::Pong { nonce });
        }
        let (tx, _new_rx) = mpsc::channel(8);
        assert_eq!(
            mailbox.release_into(held, tx, Arc::new(MailboxSignal::default())),
            Err(HeldOverflow)
        );
    }

    #[test]
    fn held_messages_that_do_not_fit_the_new_queue_lose_the_session() {
        let (mailbox, _old_rx, _) = mailbox(8);
        let held = mailbox.hold(4);
        for nonce in 0..3 {
            mailbox.deliver(ServerMsg::Pong { nonce });
        }
        let (tx, _new_rx) = mpsc::channel(2);
        assert_eq!(
            mailbox.release_into(held, tx, Arc::new(MailboxSignal::default())),
            Err(HeldOverflow)
        );
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

    #[test]
    fn a_message_that_ends_the_session_is_queued_then_signals_the_end() {
        let (tx, mut rx) = mpsc::channel(4);
        let signal = Arc::new(MailboxSignal::default());
        let mailbox = Mailbox::new(tx, signal.clone(), Arc::new(AtomicBool::new(false)));
        mailbox.deliver(ServerMsg::Pong { nonce: 1 });
        assert!(!signal.ended.load(Ordering::Acquire));
        mailbox.deliver(ServerMsg::Removed);
        assert!(signal.ended.load(Ordering::Acquire));
        assert!(matches!(
            rx.try_recv(),
            Ok(Outbound::Msg(ServerMsg::Pong { nonce: 1 }))
        ));
        assert!(matches!(
            rx.try_recv(),
            Ok(Outbound::Msg(ServerMsg::Removed))
        ));
    }
}
