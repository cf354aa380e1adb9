//! The `RoomRegistry` contract, written once and run against every implementation: the
//! in-memory registry, one Redis registry, and two Redis registries sharing one Redis (each
//! test then puts its participants on both, as two relays would). Then what only the Redis
//! registry has: expiry of a stopped relay, a lost registration, Redis going away.
//!
//! The Redis variants start their own `redis-server` on a free port and fail (never skip)
//! when it is not installed.
//!
//! Admission is written twice, in Rust (`MemoryRegistry::join`, server/src/registry/memory.rs)
//! and in Lua (server/src/registry/redis/lua/join.lua), and this suite is where the two are
//! held equal: every contract test below runs on both. The rules and the tests that hold
//! them (any change to one copy must keep these passing on both):
//! - a room's password is its first joiner's, unless that one was vouched for or gave an
//!   empty one; any password is accepted in a room without one
//!   (`a_first_joiner_vouched_for_or_with_an_empty_password_leaves_the_room_open`,
//!   `empty_rooms_are_forgotten_with_their_password`);
//! - the password must match exactly (`wrong_password_and_full_room_are_refused_unannounced`);
//!   a vouched-for joiner skips only that check (`a_vouched_for_joiner_skips_the_password_and_no_other_check`);
//! - the checks come in one order, password, removed identity, lock, room size, so a
//!   refusal tells someone without the password nothing more
//!   (`admission_refusals_come_in_one_order_with_the_password_first`);
//! - the room limit counts rooms, not joins (`room_limit_counts_rooms_not_joins`), and
//!   concurrent joins never overfill a room (`concurrent_joins_never_overfill_a_room`);
//! - the list of removed identities and the lock go with the room
//!   (`a_removed_participant_is_told_and_cannot_join_again`,
//!   `the_list_of_removed_participants_goes_with_the_room`,
//!   `ending_the_meeting_tells_everyone_and_forgets_the_room`);
//! - a removal bars an identity, never a joiner without one
//!   (`a_removal_bars_only_an_identity_and_never_a_joiner_without_one`);
//! - the first joiner is host (`the_first_joiner_is_host_and_the_earliest_left_takes_over`).

mod redis_server;

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meshmeet_protocol::{
    IceTransportPolicy, LeaveReason, LiveInfo, MediaMode, MediaState, PeerId, PeerInfo, RoomLimits,
    RoomName, ServerMsg, SessionToken, Signal, Topology,
};
use meshmeet_server::config::Secret;
use meshmeet_server::janus::JanusRoom;
use meshmeet_server::registry::{
    HostAction, JoinRequest, Mailbox, MailboxSignal, Membership, Outbound, PeerChange,
    RegistryStats, SfuPlacement, TopologyPolicy, WelcomeExtras, ENCODER_IDENTITY_PREFIX,
};
use meshmeet_server::topology::TopologyRule;
use meshmeet_server::{MemoryRegistry, RedisOptions, RedisRegistry, RelayError, RoomRegistry};
use redis_server::RedisServer;
use tokio::sync::mpsc;

/// Longest wait for something that should arrive.
const RECV_TIMEOUT: Duration = Duration::from_secs(3);
/// How long "nothing arrives" is watched for (Redis delivery is asynchronous).
const SILENCE: Duration = Duration::from_millis(200);
/// Expiry of the Redis registries in the contract tests: long enough that a starved test
/// machine does not make one registry give the other up for dead.
const CONTRACT_TTL: Duration = Duration::from_secs(5);
/// Expiry in the tests about expiry: short, so they are quick.
const EXPIRY_TTL: Duration = Duration::from_secs(2);
/// Slack on top of a documented bound for a loaded machine's late timers.
const TIMER_SLACK: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------
// Setups

/// Limits a test needs.
#[derive(Clone, Copy)]
struct Limits {
    max_rooms: usize,
    max_participants: u32,
}

const DEFAULT_LIMITS: Limits = Limits {
    max_rooms: 100,
    max_participants: 8,
};

/// The registries under test (participant `i` goes to `on(i)`), and the Redis behind them.
struct Setup<R> {
    registries: Vec<R>,
    redis: Option<RedisServer>,
}

impl<R: RoomRegistry> Setup<R> {
    fn on(&self, i: usize) -> &R {
        &self.registries[i % self.registries.len()]
    }
}

async fn memory_setup(limits: Limits) -> Setup<MemoryRegistry> {
    Setup {
        registries: vec![MemoryRegistry::new(
            limits.max_rooms,
            limits.max_participants,
        )],
        redis: None,
    }
}

async fn redis_setup(limits: Limits) -> Setup<RedisRegistry> {
    redis_relays(limits, 1, CONTRACT_TTL).await
}

async fn redis_two_setup(limits: Limits) -> Setup<RedisRegistry> {
    redis_relays(limits, 2, CONTRACT_TTL).await
}

fn redis_options(redis: &RedisServer, limits: Limits, ttl: Duration) -> RedisOptions {
    RedisOptions {
        url: redis.url(),
        key_prefix: "suite".into(),
        instance_ttl: ttl,
        max_rooms: limits.max_rooms,
        max_participants: limits.max_participants,
    }
}

async fn redis_relays(limits: Limits, count: usize, ttl: Duration) -> Setup<RedisRegistry> {
    let redis = RedisServer::start().await;
    let mut registries = Vec::new();
    for _ in 0..count {
        let registry =
            RedisRegistry::connect(redis_options(&redis, limits, ttl)).expect("connects");
        wait_ready(&registry).await;
        registries.push(registry);
    }
    Setup {
        registries,
        redis: Some(redis),
    }
}

async fn wait_ready(registry: &impl RoomRegistry) {
    let started = Instant::now();
    loop {
        match registry.ready().await {
            Ok(()) => return,
            Err(reason) if started.elapsed() > Duration::from_secs(5) => {
                panic!("registry not ready after 5 s: {reason}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Participants

/// What a participant's connection would have written to its socket.
struct Inbox {
    rx: mpsc::Receiver<Outbound>,
    signal: Arc<MailboxSignal>,
}

impl Inbox {
    async fn next(&mut self) -> ServerMsg {
        match tokio::time::timeout(RECV_TIMEOUT, self.rx.recv()).await {
            Ok(Some(Outbound::Msg(msg))) => msg,
            Ok(other) => panic!("expected a message, got {other:?}"),
            Err(_) => panic!("no message within {RECV_TIMEOUT:?}"),
        }
    }

    async fn silent(&mut self) {
        // `None`: the registry let go of the mailbox (after a leave), so nothing can come.
        if let Ok(Some(item)) = tokio::time::timeout(SILENCE, self.rx.recv()).await {
            panic!("expected nothing, got {item:?}");
        }
    }

    /// The welcome (roster, host and topology), which must already be there when `join`
    /// returns.
    fn welcome(&mut self) -> (Vec<PeerInfo>, Option<PeerId>, Topology, bool) {
        match self.rx.try_recv() {
            Ok(Outbound::Msg(ServerMsg::Welcome {
                roster,
                host,
                topology,
                e2ee,
                ..
            })) => (roster, host, topology, e2ee),
            other => panic!("expected the welcome first, got {other:?}"),
        }
    }
}

fn mailbox() -> (Mailbox, Inbox) {
    let (tx, rx) = mpsc::channel(1024);
    let signal = Arc::new(MailboxSignal::default());
    let mailbox = Mailbox::new(tx, Arc::clone(&signal), Arc::new(AtomicBool::new(false)));
    (mailbox, Inbox { rx, signal })
}

fn request(room: &str, name: &str, password: Option<&str>, mailbox: Mailbox) -> JoinRequest {
    JoinRequest {
        room: RoomName(room.into()),
        name: name.into(),
        media: MediaState::default(),
        password: password.map(str::to_owned),
        // Set by `try_join_vouched_for`.
        vouched: false,
        // Each test participant is recognisable by its name (as by a client key).
        identity: Some(format!("key:{name}")),
        mailbox,
        welcome: WelcomeExtras {
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            limits: RoomLimits {
                max_participants: 8,
                max_message_bytes: 65536,
                messages_per_second: 50,
                max_chat_chars: 2000,
                max_file_bytes: 1 << 30,
            },
            session: SessionToken("s".into()),
            resume_grace_ms: 0,
        },
        topology: None,
        e2ee: false,
    }
}

/// A participant that joined: its membership, inbox, welcome roster and the host it was told.
struct Joined {
    member: Membership,
    inbox: Inbox,
    roster: Vec<PeerInfo>,
    host: Option<PeerId>,
    topology: Topology,
    /// Whether its welcome said the room is end-to-end encrypted.
    e2ee: bool,
}

impl Joined {
    fn id(&self) -> &PeerId {
        self.member.peer_id()
    }

    fn info(&self, name: &str) -> PeerInfo {
        PeerInfo {
            id: self.id().clone(),
            name: name.into(),
            media: MediaState::default(),
        }
    }
}

async fn try_join<R: RoomRegistry>(
    registry: &R,
    room: &str,
    name: &str,
    password: Option<&str>,
) -> Result<Joined, RelayError> {
    try_join_as(registry, room, name, password, |request| request).await
}

/// Like [`try_join`], for someone admitted by a join token or the operator's password.
async fn try_join_vouched_for<R: RoomRegistry>(
    registry: &R,
    room: &str,
    name: &str,
    password: Option<&str>,
) -> Result<Joined, RelayError> {
    try_join_as(registry, room, name, password, |request| JoinRequest {
        vouched: true,
        ..request
    })
    .await
}

/// For [`try_join_as`]: someone with neither a client key nor a join token, whom nothing
/// recognises again.
fn without_identity(request: JoinRequest) -> JoinRequest {
    JoinRequest {
        identity: None,
        ..request
    }
}

/// Joins with [`request`]'s request as `adjust` changes it.
async fn try_join_as<R: RoomRegistry>(
    registry: &R,
    room: &str,
    name: &str,
    password: Option<&str>,
    adjust: impl FnOnce(JoinRequest) -> JoinRequest,
) -> Result<Joined, RelayError> {
    let (mailbox, inbox) = mailbox();
    let request = adjust(request(room, name, password, mailbox));
    finish_join(registry, request, inbox).await
}

async fn finish_join<R: RoomRegistry>(
    registry: &R,
    request: JoinRequest,
    mut inbox: Inbox,
) -> Result<Joined, RelayError> {
    let member = registry.join(request).await?;
    let (roster, host, topology, e2ee) = inbox.welcome();
    Ok(Joined {
        member,
        inbox,
        roster,
        host,
        topology,
        e2ee,
    })
}

async fn join<R: RoomRegistry>(registry: &R, room: &str, name: &str) -> Joined {
    try_join(registry, room, name, None)
        .await
        .unwrap_or_else(|err| panic!("{name} could not join {room}: {err}"))
}

fn signal(from: &PeerId, n: usize) -> ServerMsg {
    ServerMsg::Signal {
        from: from.clone(),
        signal: Signal::Candidate {
            candidate: format!("candidate:{n} 1 udp 2122260223 192.0.2.1 {n} typ host"),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        },
    }
}

fn host_changed(who: &Joined) -> ServerMsg {
    ServerMsg::HostChanged {
        peer_id: who.id().clone(),
    }
}

fn left(who: &Joined, reason: LeaveReason) -> ServerMsg {
    ServerMsg::PeerLeft {
        peer_id: who.id().clone(),
        reason,
    }
}

// ---------------------------------------------------------------------------------------
// The contract, for every registry

async fn welcome_comes_first_then_peer_joined_with_the_roster_in_join_order<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join(s.on(0), "standup", "Ana").await;
    assert!(ana.roster.is_empty());
    let mut bo = join(s.on(1), "standup", "Bo").await;
    assert_eq!(bo.roster, vec![ana.info("Ana")]);
    let cy = join(s.on(2), "standup", "Cy").await;
    assert_eq!(cy.roster, vec![ana.info("Ana"), bo.info("Bo")]);

    for who in [&bo, &cy] {
        let name = if who.id() == bo.id() { "Bo" } else { "Cy" };
        assert_eq!(
            ana.inbox.next().await,
            ServerMsg::PeerJoined {
                peer: who.info(name)
            }
        );
    }
    assert_eq!(
        bo.inbox.next().await,
        ServerMsg::PeerJoined {
            peer: cy.info("Cy")
        }
    );
    // Another room hears nothing of this.
    let mut di = join(s.on(1), "retro", "Di").await;
    assert!(di.roster.is_empty());
    ana.inbox.silent().await;
    bo.inbox.silent().await;
    di.inbox.silent().await;
}

async fn messages_between_two_peers_keep_their_order<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    const COUNT: usize = 200;
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join(s.on(0), "mesh", "Ana").await;
    let mut bo = join(s.on(1), "mesh", "Bo").await;
    ana.inbox.next().await; // Bo joined
    let (a, b) = (s.on(0), s.on(1));

    // Both directions at once, each side sending one after the other like a connection does.
    let ana_sends = async {
        for n in 0..COUNT {
            a.send_to(&ana.member, bo.id(), signal(ana.id(), n))
                .await
                .expect("ana → bo");
        }
    };
    let bo_sends = async {
        for n in 0..COUNT {
            b.send_to(&bo.member, ana.id(), signal(bo.id(), n))
                .await
                .expect("bo → ana");
        }
    };
    tokio::join!(ana_sends, bo_sends);
    for n in 0..COUNT {
        assert_eq!(bo.inbox.next().await, signal(ana.id(), n), "to Bo, #{n}");
        assert_eq!(ana.inbox.next().await, signal(bo.id(), n), "to Ana, #{n}");
    }
    ana.inbox.silent().await;
    bo.inbox.silent().await;
}

async fn signals_only_reach_other_participants_of_the_room<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let ana = join(s.on(0), "one", "Ana").await;
    let mut bo = join(s.on(1), "one", "Bo").await;
    let mut cy = join(s.on(1), "two", "Cy").await;
    let a = s.on(0);
    for to in [cy.id().clone(), ana.id().clone(), PeerId("nobody".into())] {
        assert_eq!(
            a.send_to(&ana.member, &to, signal(ana.id(), 0)).await,
            Err(RelayError::UnknownPeer(to.to_string()))
        );
    }
    a.leave(&ana.member, LeaveReason::Left).await;
    assert_eq!(
        a.send_to(&ana.member, bo.id(), signal(ana.id(), 1)).await,
        Err(RelayError::NotJoined),
        "a membership is worthless after leaving"
    );
    assert_eq!(
        a.broadcast(&ana.member, signal(ana.id(), 2)).await,
        Err(RelayError::NotJoined)
    );
    assert_eq!(bo.inbox.next().await, left(&ana, LeaveReason::Left));
    assert_eq!(bo.inbox.next().await, host_changed(&bo), "Ana was host");
    bo.inbox.silent().await;
    cy.inbox.silent().await;
}

async fn broadcast_reaches_everyone_else_once<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut people = Vec::new();
    for (i, name) in ["Ana", "Bo", "Cy", "Di"].into_iter().enumerate() {
        people.push(join(s.on(i), "chat", name).await);
    }
    for (i, person) in people.iter_mut().enumerate() {
        for _ in i + 1..4 {
            assert!(matches!(
                person.inbox.next().await,
                ServerMsg::PeerJoined { .. }
            ));
        }
    }
    let chat = ServerMsg::Chat {
        from: people[1].id().clone(),
        seq: 1,
        text: "hello".into(),
        sent_at_ms: 1,
    };
    s.on(1)
        .broadcast(&people[1].member, chat.clone())
        .await
        .expect("broadcast");
    for (i, person) in people.iter_mut().enumerate() {
        if i != 1 {
            assert_eq!(person.inbox.next().await, chat);
        }
        person.inbox.silent().await;
    }
}

async fn updates_reach_the_others_and_later_rosters<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join(s.on(0), "updates", "Ana").await;
    let mut bo = join(s.on(1), "updates", "Bo").await;
    ana.inbox.next().await;
    let media = MediaState {
        mic: true,
        camera: false,
        screen: true,
    };
    s.on(0)
        .update(&ana.member, PeerChange::Media(media))
        .await
        .expect("media");
    let mut expected = PeerInfo {
        media,
        ..ana.info("Ana")
    };
    assert_eq!(
        bo.inbox.next().await,
        ServerMsg::PeerUpdated {
            peer: expected.clone()
        }
    );
    s.on(0)
        .update(&ana.member, PeerChange::Name("Ana B.".into()))
        .await
        .expect("name");
    expected.name = "Ana B.".into();
    assert_eq!(
        bo.inbox.next().await,
        ServerMsg::PeerUpdated {
            peer: expected.clone()
        }
    );
    ana.inbox.silent().await;
    let cy = join(s.on(2), "updates", "Cy").await;
    assert_eq!(cy.roster, vec![expected, bo.info("Bo")]);
}

async fn leaving_tells_the_others_its_reason_once<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join(s.on(0), "bye", "Ana").await;
    let bo = join(s.on(1), "bye", "Bo").await;
    let mut cy = join(s.on(0), "bye", "Cy").await;
    ana.inbox.next().await;
    ana.inbox.next().await;

    s.on(1).leave(&bo.member, LeaveReason::Left).await;
    s.on(1).leave(&bo.member, LeaveReason::Left).await;
    assert_eq!(ana.inbox.next().await, left(&bo, LeaveReason::Left));
    assert_eq!(cy.inbox.next().await, left(&bo, LeaveReason::Left));
    s.on(0).leave(&cy.member, LeaveReason::TimedOut).await;
    assert_eq!(ana.inbox.next().await, left(&cy, LeaveReason::TimedOut));
    ana.inbox.silent().await;
    cy.inbox.silent().await;
    assert_eq!(s.on(1).stats().await, RegistryStats { rooms: 1, peers: 1 });
}

async fn empty_rooms_are_forgotten_with_their_password<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(Limits {
        max_rooms: 1,
        ..DEFAULT_LIMITS
    })
    .await;
    let host = try_join(s.on(0), "r", "Host", Some("secret"))
        .await
        .expect("host");
    assert_eq!(
        try_join(s.on(1), "r", "Guest", Some("guess")).await.err(),
        Some(RelayError::WrongPassword)
    );
    s.on(0).leave(&host.member, LeaveReason::Left).await;
    assert_eq!(s.on(1).stats().await, RegistryStats::default());
    // The room slot is free again and the password went with the room.
    let guest = try_join(s.on(1), "r", "Guest", None).await.expect("joins");
    assert!(guest.roster.is_empty());
}

async fn wrong_password_and_full_room_are_refused_unannounced<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(Limits {
        max_participants: 2,
        ..DEFAULT_LIMITS
    })
    .await;
    let mut host = try_join(s.on(0), "private", "Host", Some("pw"))
        .await
        .expect("host");
    for wrong in [None, Some("pW"), Some("pw "), Some("")] {
        assert_eq!(
            try_join(s.on(1), "private", "Guest", wrong).await.err(),
            Some(RelayError::WrongPassword),
            "{wrong:?}"
        );
    }
    let guest = try_join(s.on(1), "private", "Guest", Some("pw"))
        .await
        .expect("right password");
    assert_eq!(
        try_join(s.on(0), "private", "Third", Some("pw"))
            .await
            .err(),
        Some(RelayError::RoomFull { max: 2 })
    );
    assert_eq!(
        host.inbox.next().await,
        ServerMsg::PeerJoined {
            peer: guest.info("Guest")
        }
    );
    host.inbox.silent().await;
}

async fn room_limit_counts_rooms_not_joins<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(Limits {
        max_rooms: 1,
        ..DEFAULT_LIMITS
    })
    .await;
    let ana = join(s.on(0), "one", "Ana").await;
    let bo = join(s.on(1), "one", "Bo").await;
    assert_eq!(
        try_join(s.on(1), "two", "Cy", None).await.err(),
        Some(RelayError::TooManyRooms)
    );
    s.on(0).leave(&ana.member, LeaveReason::Left).await;
    s.on(1).leave(&bo.member, LeaveReason::Left).await;
    join(s.on(1), "two", "Cy").await;
}

async fn concurrent_joins_never_overfill_a_room<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    const JOINERS: usize = 10;
    let s = setup(Limits {
        max_participants: 3,
        ..DEFAULT_LIMITS
    })
    .await;
    for round in 0..3 {
        let room = format!("race-{round}");
        let attempts = (0..JOINERS).map(|i| try_join(s.on(i), &room, "Racer", None));
        let results = futures_util::future::join_all(attempts).await;
        let joined = results.iter().filter(|r| r.is_ok()).count();
        let full = results
            .iter()
            .filter(|r| matches!(r, Err(RelayError::RoomFull { max: 3 })))
            .count();
        assert_eq!(
            (joined, full),
            (3, JOINERS - 3),
            "round {round}: exactly three get in"
        );
    }
    assert_eq!(s.on(0).stats().await, RegistryStats { rooms: 3, peers: 9 });
}

async fn the_first_joiner_is_host_and_the_earliest_left_takes_over<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join(s.on(0), "hosted", "Ana").await;
    let mut bo = join(s.on(1), "hosted", "Bo").await;
    let mut cy = join(s.on(2), "hosted", "Cy").await;
    assert_eq!(ana.host.as_ref(), Some(ana.id()));
    assert_eq!(bo.host.as_ref(), Some(ana.id()));
    assert_eq!(cy.host.as_ref(), Some(ana.id()));
    ana.inbox.next().await; // Bo joined
    ana.inbox.next().await; // Cy joined
    bo.inbox.next().await; // Cy joined

    s.on(0).leave(&ana.member, LeaveReason::Left).await;
    for who in [&mut bo, &mut cy] {
        assert_eq!(who.inbox.next().await, left(&ana, LeaveReason::Left));
    }
    let bo_host = host_changed(&bo);
    assert_eq!(bo.inbox.next().await, bo_host);
    assert_eq!(cy.inbox.next().await, bo_host, "Bo joined before Cy");
    // Bo is host now: its actions work, Cy's do not.
    assert_eq!(
        s.on(2)
            .host_action(&cy.member, HostAction::Lock(true))
            .await,
        Err(RelayError::NotHost)
    );
    s.on(1)
        .host_action(&bo.member, HostAction::Lock(true))
        .await
        .expect("the new host may lock");
    for who in [&mut bo, &mut cy] {
        assert_eq!(
            who.inbox.next().await,
            ServerMsg::LockChanged { locked: true }
        );
    }
}

async fn only_the_host_may_act_and_each_action_reaches_the_right_people<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join(s.on(0), "controls", "Ana").await;
    let mut bo = join(s.on(1), "controls", "Bo").await;
    let mut other_room = join(s.on(1), "elsewhere", "Di").await;
    ana.inbox.next().await; // Bo joined

    // Bo is not host: every host action is refused, and nobody hears of it.
    for action in [
        HostAction::Lock(true),
        HostAction::Remove(ana.id().clone()),
        HostAction::AskToMute(ana.id().clone()),
        HostAction::HandOver(bo.id().clone()),
        HostAction::EndMeeting,
        HostAction::AdmitDevice,
    ] {
        assert_eq!(
            s.on(1).host_action(&bo.member, action.clone()).await,
            Err(RelayError::NotHost),
            "{action:?}"
        );
    }
    ana.inbox.silent().await;
    bo.inbox.silent().await;
    // Letting an encoder in is only the host's check: it tells nobody anything.
    s.on(0)
        .host_action(&ana.member, HostAction::AdmitDevice)
        .await
        .expect("the host may let an encoder in");
    ana.inbox.silent().await;
    bo.inbox.silent().await;

    // Targets must be another participant of the room.
    for target in [
        ana.id().clone(),
        other_room.id().clone(),
        PeerId("nobody".into()),
    ] {
        assert_eq!(
            s.on(0)
                .host_action(&ana.member, HostAction::AskToMute(target.clone()))
                .await,
            Err(RelayError::UnknownPeer(target.to_string()))
        );
    }

    s.on(0)
        .host_action(&ana.member, HostAction::AskToMute(bo.id().clone()))
        .await
        .expect("host asks");
    assert_eq!(
        bo.inbox.next().await,
        ServerMsg::MuteRequested {
            by: ana.id().clone()
        }
    );
    ana.inbox.silent().await;

    s.on(0)
        .host_action(&ana.member, HostAction::Lock(true))
        .await
        .expect("host locks");
    for who in [&mut ana, &mut bo] {
        assert_eq!(
            who.inbox.next().await,
            ServerMsg::LockChanged { locked: true }
        );
    }
    assert_eq!(
        try_join(s.on(1), "controls", "Newcomer", None).await.err(),
        Some(RelayError::RoomLocked)
    );

    s.on(0)
        .host_action(&ana.member, HostAction::HandOver(bo.id().clone()))
        .await
        .expect("host hands over");
    let bo_host = host_changed(&bo);
    assert_eq!(ana.inbox.next().await, bo_host);
    assert_eq!(bo.inbox.next().await, bo_host);
    assert_eq!(
        s.on(0)
            .host_action(&ana.member, HostAction::Lock(false))
            .await,
        Err(RelayError::NotHost),
        "the old host is an ordinary participant now"
    );
    s.on(1)
        .host_action(&bo.member, HostAction::Lock(false))
        .await
        .expect("the new host unlocks");
    for who in [&mut ana, &mut bo] {
        assert_eq!(
            who.inbox.next().await,
            ServerMsg::LockChanged { locked: false }
        );
    }
    join(s.on(0), "controls", "Newcomer").await;
    other_room.inbox.silent().await;
}

async fn a_removed_participant_is_told_and_cannot_join_again<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join(s.on(0), "strict", "Ana").await;
    let mut bo = join(s.on(1), "strict", "Bo").await;
    let mut cy = join(s.on(2), "strict", "Cy").await;
    ana.inbox.next().await;
    ana.inbox.next().await;
    bo.inbox.next().await;

    s.on(0)
        .host_action(&ana.member, HostAction::Remove(bo.id().clone()))
        .await
        .expect("host removes Bo");
    assert_eq!(bo.inbox.next().await, ServerMsg::Removed);
    assert!(
        bo.inbox.signal.has_ended(),
        "Bo's connection is told to close"
    );
    for who in [&mut ana, &mut cy] {
        assert_eq!(who.inbox.next().await, left(&bo, LeaveReason::Removed));
    }
    // Bo's own leave (its connection closing) changes nothing any more.
    s.on(1).leave(&bo.member, LeaveReason::Disconnected).await;
    ana.inbox.silent().await;
    assert_eq!(
        s.on(1)
            .send_to(&bo.member, ana.id(), signal(bo.id(), 0))
            .await,
        Err(RelayError::NotJoined)
    );

    // The same person (same identity) is refused, even with the room unlocked; someone
    // else is not.
    assert_eq!(
        try_join(s.on(1), "strict", "Bo", None).await.err(),
        Some(RelayError::Removed)
    );
    join(s.on(1), "strict", "Di").await;
    // The host cannot remove itself (it would leave a room without a host).
    assert_eq!(
        s.on(0)
            .host_action(&ana.member, HostAction::Remove(ana.id().clone()))
            .await,
        Err(RelayError::UnknownPeer(ana.id().to_string()))
    );
}

async fn ending_the_meeting_tells_everyone_and_forgets_the_room<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join(s.on(0), "allhands", "Ana").await;
    let mut bo = join(s.on(1), "allhands", "Bo").await;
    let mut other = join(s.on(1), "standup", "Di").await;
    ana.inbox.next().await;
    s.on(0)
        .host_action(&ana.member, HostAction::Lock(true))
        .await
        .expect("lock");
    ana.inbox.next().await;
    bo.inbox.next().await;

    s.on(0)
        .host_action(&ana.member, HostAction::EndMeeting)
        .await
        .expect("host ends the meeting");
    for who in [&mut ana, &mut bo] {
        assert_eq!(who.inbox.next().await, ServerMsg::MeetingEnded);
        assert!(who.inbox.signal.has_ended());
    }
    assert_eq!(s.on(0).stats().await, RegistryStats { rooms: 1, peers: 1 });
    other.inbox.silent().await;
    // The room is gone with its lock: the next one in opens it again and is host.
    let fresh = join(s.on(1), "allhands", "Bo").await;
    assert!(fresh.roster.is_empty());
    assert_eq!(fresh.host.as_ref(), Some(fresh.id()));
}

async fn admission_refusals_come_in_one_order_with_the_password_first<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(Limits {
        max_participants: 3,
        ..DEFAULT_LIMITS
    })
    .await;
    let ana = try_join(s.on(0), "gate", "Ana", Some("pw"))
        .await
        .expect("host");
    let bo = try_join(s.on(1), "gate", "Bo", Some("pw"))
        .await
        .expect("Bo");
    s.on(0)
        .host_action(&ana.member, HostAction::Remove(bo.id().clone()))
        .await
        .expect("host removes Bo");
    let _cy = try_join(s.on(1), "gate", "Cy", Some("pw"))
        .await
        .expect("Cy");
    let di = try_join(s.on(0), "gate", "Di", Some("pw"))
        .await
        .expect("Di fills the room");
    s.on(0)
        .host_action(&ana.member, HostAction::Lock(true))
        .await
        .expect("host locks");

    // The room is full and locked, and Bo was removed: each refusal is the first rule broken.
    let refusals = [
        ("Bo", Some("wrong"), RelayError::WrongPassword),
        ("Bo", Some("pw"), RelayError::Removed),
        ("Eve", Some("wrong"), RelayError::WrongPassword),
        ("Eve", Some("pw"), RelayError::RoomLocked),
    ];
    for (name, password, refusal) in refusals {
        assert_eq!(
            try_join(s.on(1), "gate", name, password).await.err(),
            Some(refusal),
            "{name} with {password:?}, locked"
        );
    }
    s.on(0)
        .host_action(&ana.member, HostAction::Lock(false))
        .await
        .expect("host unlocks");
    let refusals = [
        ("Bo", Some("pw"), RelayError::Removed),
        ("Eve", None, RelayError::WrongPassword),
        ("Eve", Some("pw"), RelayError::RoomFull { max: 3 }),
    ];
    for (name, password, refusal) in refusals {
        assert_eq!(
            try_join(s.on(1), "gate", name, password).await.err(),
            Some(refusal),
            "{name} with {password:?}, unlocked"
        );
    }
    s.on(0).leave(&di.member, LeaveReason::Left).await;
    try_join(s.on(1), "gate", "Eve", Some("pw"))
        .await
        .expect("a place is free again");
}

async fn a_vouched_for_joiner_skips_the_password_and_no_other_check<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(Limits {
        max_participants: 3,
        ..DEFAULT_LIMITS
    })
    .await;
    let ana = try_join(s.on(0), "vip", "Ana", Some("pw"))
        .await
        .expect("host");
    for password in [None, Some("wrong")] {
        assert_eq!(
            try_join(s.on(1), "vip", "Bo", password).await.err(),
            Some(RelayError::WrongPassword),
            "not vouched for, {password:?}"
        );
    }
    let bo = try_join_vouched_for(s.on(1), "vip", "Bo", None)
        .await
        .expect("vouched for, no password needed");
    s.on(0)
        .host_action(&ana.member, HostAction::Lock(true))
        .await
        .expect("host locks");
    assert_eq!(
        try_join_vouched_for(s.on(1), "vip", "Cy", None).await.err(),
        Some(RelayError::RoomLocked)
    );
    s.on(0)
        .host_action(&ana.member, HostAction::Lock(false))
        .await
        .expect("host unlocks");
    try_join_vouched_for(s.on(1), "vip", "Cy", Some("wrong"))
        .await
        .expect("vouched for, a wrong password is not even read");
    assert_eq!(
        try_join_vouched_for(s.on(1), "vip", "Di", None).await.err(),
        Some(RelayError::RoomFull { max: 3 })
    );
    s.on(0)
        .host_action(&ana.member, HostAction::Remove(bo.id().clone()))
        .await
        .expect("host removes Bo");
    assert_eq!(
        try_join_vouched_for(s.on(1), "vip", "Bo", None).await.err(),
        Some(RelayError::Removed)
    );
}

async fn a_first_joiner_vouched_for_or_with_an_empty_password_leaves_the_room_open<R, F, Fut>(
    setup: F,
) where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    try_join_vouched_for(s.on(0), "booked", "Ana", Some("pw"))
        .await
        .expect("vouched-for host");
    try_join(s.on(1), "booked", "Bo", None)
        .await
        .expect("the vouched-for host's password was not set");

    try_join(s.on(0), "blank", "Cy", Some(""))
        .await
        .expect("host with an empty password");
    try_join(s.on(1), "blank", "Di", None)
        .await
        .expect("an empty password is none");
    try_join(s.on(1), "blank", "Eve", Some("anything"))
        .await
        .expect("a room without a password takes any");
}

async fn the_list_of_removed_participants_goes_with_the_room<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let ana = join(s.on(0), "weekly", "Ana").await;
    let bo = join(s.on(1), "weekly", "Bo").await;
    s.on(0)
        .host_action(&ana.member, HostAction::Remove(bo.id().clone()))
        .await
        .expect("host removes Bo");
    assert_eq!(
        try_join(s.on(1), "weekly", "Bo", None).await.err(),
        Some(RelayError::Removed)
    );
    s.on(0).leave(&ana.member, LeaveReason::Left).await;
    let bo = join(s.on(1), "weekly", "Bo").await;
    assert_eq!(bo.host.as_ref(), Some(bo.id()), "a new room, opened by Bo");
}

async fn a_removal_bars_only_an_identity_and_never_a_joiner_without_one<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let ana = join(s.on(0), "open-door", "Ana").await;
    let bo = try_join_as(s.on(1), "open-door", "Bo", None, without_identity)
        .await
        .expect("Bo, unrecognisable");
    let cy = join(s.on(2), "open-door", "Cy").await;
    for removed in [&bo, &cy] {
        s.on(0)
            .host_action(&ana.member, HostAction::Remove(removed.id().clone()))
            .await
            .expect("host removes");
    }
    try_join_as(s.on(1), "open-door", "Bo", None, without_identity)
        .await
        .expect("nothing was recorded that could keep Bo out");
    assert_eq!(
        try_join(s.on(2), "open-door", "Cy", None).await.err(),
        Some(RelayError::Removed)
    );
    try_join_as(s.on(2), "open-door", "Cy", None, without_identity)
        .await
        .expect("a joiner without an identity matches no removed one");
}

async fn an_encoder_never_becomes_host_while_a_person_is_in_the_room<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let ana = join(s.on(0), "stage", "Ana").await;
    let encoder = try_join_as(s.on(1), "stage", "Studio camera", None, |request| {
        JoinRequest {
            identity: Some(format!("{ENCODER_IDENTITY_PREFIX}0123")),
            ..request
        }
    })
    .await
    .expect("the encoder joins");
    let mut bo = join(s.on(2), "stage", "Bo").await;
    s.on(0).leave(&ana.member, LeaveReason::Left).await;
    assert_eq!(bo.inbox.next().await, left(&ana, LeaveReason::Left));
    assert_eq!(
        bo.inbox.next().await,
        host_changed(&bo),
        "Bo, though the encoder joined before him"
    );
    // With only encoders left, one is host (nobody else could be).
    let mut encoder = encoder;
    s.on(2).leave(&bo.member, LeaveReason::Left).await;
    encoder.inbox.next().await; // Bo joined
    assert_eq!(encoder.inbox.next().await, left(&ana, LeaveReason::Left));
    assert_eq!(encoder.inbox.next().await, host_changed(&bo));
    assert_eq!(encoder.inbox.next().await, left(&bo, LeaveReason::Left));
    assert_eq!(encoder.inbox.next().await, host_changed(&encoder));
}

/// Every contract test, for the in-memory registry, one Redis registry, and two Redis
/// registries on one Redis.
async fn the_first_joiner_decides_whether_the_room_is_end_to_end_encrypted<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: Fn(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let encrypted = |request| JoinRequest {
        e2ee: true,
        ..request
    };
    let ana = try_join_as(s.on(0), "private", "Ana", None, encrypted)
        .await
        .expect("Ana opens the room");
    assert!(ana.e2ee && ana.member.e2ee());
    // Later joiners read it, whatever they asked for; another room is not touched.
    let bo = join(s.on(1), "private", "Bo").await;
    assert!(bo.e2ee && bo.member.e2ee(), "Bo joins the encrypted room");
    let cy = join(s.on(1), "open", "Cy").await;
    let di = try_join_as(s.on(0), "open", "Di", None, encrypted)
        .await
        .expect("Di joins");
    assert!(
        !cy.e2ee && !di.e2ee && !di.member.e2ee(),
        "a later joiner changes nothing"
    );
    // The room is forgotten with its encryption once everyone left: opened again, it is new.
    s.on(0).leave(&ana.member, LeaveReason::Left).await;
    s.on(1).leave(&bo.member, LeaveReason::Left).await;
    let eve = join(s.on(0), "private", "Eve").await;
    assert!(!eve.e2ee && !eve.member.e2ee());
}

macro_rules! for_each_registry {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $( #[tokio::test] async fn $test() { super::$test(super::memory_setup).await } )*
        }
        mod redis_one_relay {
            $( #[tokio::test] async fn $test() { super::$test(super::redis_setup).await } )*
        }
        mod redis_two_relays {
            $( #[tokio::test] async fn $test() { super::$test(super::redis_two_setup).await } )*
        }
    };
}

for_each_registry!(
    welcome_comes_first_then_peer_joined_with_the_roster_in_join_order,
    messages_between_two_peers_keep_their_order,
    signals_only_reach_other_participants_of_the_room,
    broadcast_reaches_everyone_else_once,
    updates_reach_the_others_and_later_rosters,
    leaving_tells_the_others_its_reason_once,
    empty_rooms_are_forgotten_with_their_password,
    wrong_password_and_full_room_are_refused_unannounced,
    room_limit_counts_rooms_not_joins,
    concurrent_joins_never_overfill_a_room,
    the_first_joiner_is_host_and_the_earliest_left_takes_over,
    only_the_host_may_act_and_each_action_reaches_the_right_people,
    a_removed_participant_is_told_and_cannot_join_again,
    ending_the_meeting_tells_everyone_and_forgets_the_room,
    admission_refusals_come_in_one_order_with_the_password_first,
    a_vouched_for_joiner_skips_the_password_and_no_other_check,
    a_first_joiner_vouched_for_or_with_an_empty_password_leaves_the_room_open,
    the_list_of_removed_participants_goes_with_the_room,
    a_removal_bars_only_an_identity_and_never_a_joiner_without_one,
    an_encoder_never_becomes_host_while_a_person_is_in_the_room,
    the_first_joiner_decides_whether_the_room_is_end_to_end_encrypted,
);

// ---------------------------------------------------------------------------------------
// Topology: when a room moves to the SFU and back, and where its SFU is

/// Rooms of two are meshes; the third person moves the room to the SFU.
const SMALL_MESH: TopologyRule = TopologyRule {
    mesh_max: 2,
    return_delay: Duration::from_secs(10),
};

fn policy(sfu_reachable: bool, now: Instant) -> TopologyPolicy {
    TopologyPolicy {
        rule: SMALL_MESH,
        sfu_reachable,
        now,
    }
}

/// Joins `room` under the topology rule, with a media server reachable or not.
async fn try_join_with_sfu<R: RoomRegistry>(
    registry: &R,
    room: &str,
    name: &str,
    sfu_reachable: bool,
) -> Result<Joined, RelayError> {
    try_join_as(registry, room, name, None, |request| JoinRequest {
        topology: Some(policy(sfu_reachable, Instant::now())),
        ..request
    })
    .await
}

async fn join_with_sfu<R: RoomRegistry>(registry: &R, room: &str, name: &str) -> Joined {
    try_join_with_sfu(registry, room, name, true)
        .await
        .unwrap_or_else(|err| panic!("{name} could not join {room}: {err}"))
}

fn topology(mode: MediaMode, epoch: u64) -> Topology {
    Topology { mode, epoch }
}

fn changed(mode: MediaMode, epoch: u64) -> ServerMsg {
    ServerMsg::TopologyChanged {
        topology: topology(mode, epoch),
    }
}

fn placement(epoch: u64, room_id: u64) -> SfuPlacement {
    SfuPlacement {
        epoch,
        janus_url: "ws://127.0.0.1:8188".into(),
        room: JanusRoom {
            id: room_id,
            secret: Secret::from("room-secret"),
            pin: Secret::from("room-pin"),
        },
    }
}

async fn the_join_past_mesh_max_moves_the_room_to_the_sfu_and_everyone_is_told<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: FnOnce(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join_with_sfu(s.on(0), "grow", "Ana").await;
    let mut bo = join_with_sfu(s.on(1), "grow", "Bo").await;
    assert_eq!(ana.topology, topology(MediaMode::Mesh, 0));
    assert_eq!(bo.topology, topology(MediaMode::Mesh, 0));
    assert!(matches!(
        ana.inbox.next().await,
        ServerMsg::PeerJoined { .. }
    ));

    let cy = join_with_sfu(s.on(2), "grow", "Cy").await;
    assert_eq!(cy.topology, topology(MediaMode::Sfu, 1), "read in welcome");
    for who in [&mut ana, &mut bo] {
        assert_eq!(who.inbox.next().await, changed(MediaMode::Sfu, 1));
        assert!(matches!(
            who.inbox.next().await,
            ServerMsg::PeerJoined { .. }
        ));
    }
    // A fourth joins the SFU room as it is.
    let di = join_with_sfu(s.on(3), "grow", "Di").await;
    assert_eq!(di.topology, topology(MediaMode::Sfu, 1));
    // Another room is not touched.
    let other = join_with_sfu(s.on(0), "quiet", "Ed").await;
    assert_eq!(other.topology, topology(MediaMode::Mesh, 0));
}

async fn without_a_reachable_media_server_the_join_past_mesh_max_is_refused<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: FnOnce(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = try_join_with_sfu(s.on(0), "down", "Ana", false)
        .await
        .expect("a mesh needs no media server");
    let _bo = try_join_with_sfu(s.on(1), "down", "Bo", false)
        .await
        .expect("two fit the mesh");
    ana.inbox.next().await;
    let refused = try_join_with_sfu(s.on(2), "down", "Cy", false).await;
    assert_eq!(refused.err(), Some(RelayError::SfuUnavailable));
    ana.inbox.silent().await;
    assert_eq!(s.on(0).stats().await.peers, 2);
    // Once one is reachable, the same join moves the room.
    let cy = join_with_sfu(s.on(2), "down", "Cy").await;
    assert_eq!(cy.topology, topology(MediaMode::Sfu, 1));
}

async fn a_room_back_at_mesh_size_returns_after_the_delay_and_forgets_its_placement<R, F, Fut>(
    setup: F,
) where
    R: RoomRegistry,
    F: FnOnce(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join_with_sfu(s.on(0), "shrink", "Ana").await;
    let bo = join_with_sfu(s.on(1), "shrink", "Bo").await;
    let cy = join_with_sfu(s.on(2), "shrink", "Cy").await;
    ana.inbox.next().await;
    ana.inbox.next().await;
    ana.inbox.next().await;
    s.on(0)
        .claim_sfu_placement(&ana.member, placement(1, 41), None)
        .await
        .expect("placed");

    s.on(2).leave(&cy.member, LeaveReason::Left).await;
    assert_eq!(ana.inbox.next().await, left(&cy, LeaveReason::Left));
    let left_at = Instant::now();
    // Within the delay nothing changes.
    s.on(0)
        .settle_topology(policy(true, left_at + Duration::from_secs(5)))
        .await;
    ana.inbox.silent().await;
    s.on(0)
        .settle_topology(policy(true, left_at + Duration::from_secs(11)))
        .await;
    assert_eq!(ana.inbox.next().await, changed(MediaMode::Mesh, 2));
    assert_eq!(
        s.on(0).room_sfu_placement(bo.member.room()).await,
        Ok(None),
        "a mesh has no SFU room"
    );
    assert!(matches!(
        s.on(0).sfu_placement(&ana.member, 1).await,
        Err(RelayError::WrongTopology { got: 1, .. })
    ));
}

async fn one_placement_holds_per_epoch_and_only_a_failed_one_is_replaced<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: FnOnce(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let ana = join_with_sfu(s.on(0), "place", "Ana").await;
    let mesh = s.on(0).sfu_placement(&ana.member, 0).await;
    assert!(
        matches!(mesh, Err(RelayError::WrongTopology { .. })),
        "a mesh room has no SFU: {mesh:?}"
    );
    let bo = join_with_sfu(s.on(1), "place", "Bo").await;
    let cy = join_with_sfu(s.on(2), "place", "Cy").await;
    assert_eq!(s.on(0).sfu_placement(&ana.member, 1).await, Ok(None));

    let first = s
        .on(0)
        .claim_sfu_placement(&ana.member, placement(1, 41), None);
    assert_eq!(first.await, Ok(placement(1, 41)));
    let late = s
        .on(1)
        .claim_sfu_placement(&bo.member, placement(1, 42), None);
    assert_eq!(late.await, Ok(placement(1, 41)), "the first claim holds");
    let stale = s
        .on(1)
        .claim_sfu_placement(&bo.member, placement(1, 43), Some(99));
    assert_eq!(stale.await, Ok(placement(1, 41)), "41 did not fail");
    let replaced = s
        .on(2)
        .claim_sfu_placement(&cy.member, placement(1, 44), Some(41));
    assert_eq!(replaced.await, Ok(placement(1, 44)));
    assert_eq!(
        s.on(0).sfu_placement(&ana.member, 1).await,
        Ok(Some(placement(1, 44)))
    );
    let wrong_epoch = s
        .on(0)
        .claim_sfu_placement(&ana.member, placement(2, 45), None);
    assert!(matches!(
        wrong_epoch.await,
        Err(RelayError::WrongTopology { got: 2, .. })
    ));
    let outsider = join_with_sfu(s.on(0), "elsewhere", "Di").await;
    assert_eq!(
        s.on(0).sfu_placement(&outsider.member, 1).await.err(),
        Some(RelayError::WrongTopology {
            got: 1,
            now: "a mesh now (epoch 0)".into()
        }),
        "another room's member sees its own room"
    );
}

async fn an_sfu_room_falls_back_to_the_mesh_without_a_media_server_only_if_it_fits<R, F, Fut>(
    setup: F,
) where
    R: RoomRegistry,
    F: FnOnce(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let mut ana = join_with_sfu(s.on(0), "fallback", "Ana").await;
    join_with_sfu(s.on(1), "fallback", "Bo").await;
    let cy = join_with_sfu(s.on(2), "fallback", "Cy").await;
    for _ in 0..3 {
        ana.inbox.next().await;
    }
    s.on(0).settle_topology(policy(false, Instant::now())).await;
    ana.inbox.silent().await;
    s.on(2).leave(&cy.member, LeaveReason::Left).await;
    ana.inbox.next().await;
    s.on(0).settle_topology(policy(false, Instant::now())).await;
    assert_eq!(
        ana.inbox.next().await,
        changed(MediaMode::Mesh, 2),
        "two fit the mesh: no waiting for the delay"
    );
}

/// Ana (the host, on the first relay) and Bo (on the second) in the room `hearing`, Ana's
/// news of Bo read.
async fn hearing_of_two<R: RoomRegistry>(s: &Setup<R>) -> (Joined, Joined) {
    let mut ana = join_with_sfu(s.on(0), "hearing", "Ana").await;
    let bo = join_with_sfu(s.on(1), "hearing", "Bo").await;
    ana.inbox.next().await;
    (ana, bo)
}

async fn a_live_room_moves_to_the_sfu_and_stays_there_until_the_live_ends<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: FnOnce(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let (mut ana, mut bo) = hearing_of_two(&s).await;
    let live = LiveInfo {
        stage: vec![bo.id().clone()],
        watch_token: "4f0c9e2a7b1d3c5e6f8a9b0c1d2e3f4a".into(),
        follow_speaker: false,
    };
    // Only the host goes live, and only with people of the room on the stage.
    assert_eq!(
        s.on(1)
            .host_action(&bo.member, HostAction::Live(Some(live.clone())))
            .await,
        Err(RelayError::NotHost)
    );
    let stranger = PeerId::from("0123456789abcdef0123456789abcdef");
    let with_stranger = LiveInfo {
        stage: vec![bo.id().clone(), stranger.clone()],
        ..live.clone()
    };
    assert_eq!(
        s.on(0)
            .host_action(&ana.member, HostAction::Live(Some(with_stranger)))
            .await,
        Err(RelayError::UnknownPeer(stranger.to_string()))
    );
    ana.inbox.silent().await;
    assert_eq!(s.on(1).room_live(bo.member.room()).await, Ok(None));

    // Two people fit a mesh, but a live room goes to the SFU, and everyone hears of both.
    s.on(0)
        .host_action(&ana.member, HostAction::Live(Some(live.clone())))
        .await
        .expect("live");
    let went_live = ServerMsg::LiveChanged {
        live: Some(live.clone()),
    };
    for who in [&mut ana, &mut bo] {
        assert_eq!(who.inbox.next().await, changed(MediaMode::Sfu, 1));
        assert_eq!(who.inbox.next().await, went_live);
    }
    assert_eq!(
        s.on(1).room_live(ana.member.room()).await,
        Ok(Some(live.clone()))
    );
    // Small, but live: it stays on the SFU however long.
    let later = Instant::now() + Duration::from_secs(60);
    s.on(0).settle_topology(policy(true, later)).await;
    ana.inbox.silent().await;
    // Without a media server it is only as large as it is, and falls back to the mesh; back
    // on the SFU as soon as one is reachable again, since it is still live.
    s.on(0).settle_topology(policy(false, Instant::now())).await;
    assert_eq!(ana.inbox.next().await, changed(MediaMode::Mesh, 2));
    s.on(1).settle_topology(policy(true, Instant::now())).await;
    assert_eq!(ana.inbox.next().await, changed(MediaMode::Sfu, 3));

    // The live ends: everyone is told, and the room may return to the mesh after the delay.
    s.on(0)
        .host_action(&ana.member, HostAction::Live(None))
        .await
        .expect("stop");
    assert_eq!(
        ana.inbox.next().await,
        ServerMsg::LiveChanged { live: None }
    );
    assert_eq!(s.on(1).room_live(bo.member.room()).await, Ok(None));
    let now = Instant::now();
    s.on(0).settle_topology(policy(true, now)).await;
    s.on(0)
        .settle_topology(policy(true, now + Duration::from_secs(11)))
        .await;
    assert_eq!(ana.inbox.next().await, changed(MediaMode::Mesh, 4));
}

async fn a_live_that_follows_the_speaker_moves_its_stage_only_with_its_token<R, F, Fut>(setup: F)
where
    R: RoomRegistry,
    F: FnOnce(Limits) -> Fut,
    Fut: Future<Output = Setup<R>>,
{
    let s = setup(DEFAULT_LIMITS).await;
    let (mut ana, mut bo) = hearing_of_two(&s).await;
    let token = "4f0c9e2a7b1d3c5e6f8a9b0c1d2e3f4a";
    let room = ana.member.room().clone();
    let fixed = LiveInfo {
        stage: vec![ana.id().clone()],
        watch_token: token.into(),
        follow_speaker: false,
    };
    // A stage the host fixed is not the relay's to move.
    s.on(0)
        .host_action(&ana.member, HostAction::Live(Some(fixed.clone())))
        .await
        .expect("live");
    for who in [&mut ana, &mut bo] {
        who.inbox.next().await; // topology_changed
        who.inbox.next().await; // live_changed
    }
    assert_eq!(
        s.on(1).follow_speaker(&room, token, bo.id()).await,
        Ok(None)
    );
    let following = LiveInfo {
        follow_speaker: true,
        ..fixed.clone()
    };
    s.on(0)
        .host_action(&ana.member, HostAction::Live(Some(following.clone())))
        .await
        .expect("follow the speaker");
    for who in [&mut ana, &mut bo] {
        who.inbox.next().await; // live_changed
    }
    // Another token (a live that ended and began again), a stranger, or who is on it
    // already: nothing changes, nobody is told.
    let stranger = PeerId::from("0123456789abcdef0123456789abcdef");
    for (t, speaker) in [
        ("0000000000000000000000000000000a", bo.id()),
        (token, &stranger),
        (token, ana.id()),
    ] {
        assert_eq!(
            s.on(1).follow_speaker(&room, t, speaker).await,
            Ok(None),
            "{t} {speaker}"
        );
    }
    ana.inbox.silent().await;
    assert_eq!(s.on(0).room_live(&room).await, Ok(Some(following.clone())));
    // Bo talks: the relay running the live (either) puts him on the stage and is given the
    // live as it is now; everyone is told.
    let moved = LiveInfo {
        stage: vec![bo.id().clone()],
        ..following
    };
    assert_eq!(
        s.on(1).follow_speaker(&room, token, bo.id()).await,
        Ok(Some(moved.clone()))
    );
    for who in [&mut ana, &mut bo] {
        assert_eq!(
            who.inbox.next().await,
            ServerMsg::LiveChanged {
                live: Some(moved.clone())
            }
        );
    }
    assert_eq!(s.on(0).room_live(&room).await, Ok(Some(moved)));
    // The live ended: nothing to move.
    s.on(0)
        .host_action(&ana.member, HostAction::Live(None))
        .await
        .expect("stop");
    assert_eq!(
        s.on(0).follow_speaker(&room, token, ana.id()).await,
        Ok(None)
    );
}

/// The topology contract, on every registry.
mod topology {
    use super::*;

    for_each_registry!(
        the_join_past_mesh_max_moves_the_room_to_the_sfu_and_everyone_is_told,
        without_a_reachable_media_server_the_join_past_mesh_max_is_refused,
        a_room_back_at_mesh_size_returns_after_the_delay_and_forgets_its_placement,
        one_placement_holds_per_epoch_and_only_a_failed_one_is_replaced,
        an_sfu_room_falls_back_to_the_mesh_without_a_media_server_only_if_it_fits,
        a_live_room_moves_to_the_sfu_and_stays_there_until_the_live_ends,
        a_live_that_follows_the_speaker_moves_its_stage_only_with_its_token,
    );
}

#[tokio::test]
async fn relays_sharing_redis_agree_on_the_topology_and_the_placement_of_a_room() {
    let s = redis_relays(DEFAULT_LIMITS, 2, CONTRACT_TTL).await;
    let (a, b) = (s.on(0), s.on(1));
    let mut ana = join_with_sfu(a, "shared", "Ana").await;
    let mut bo = join_with_sfu(b, "shared", "Bo").await;
    ana.inbox.next().await;

    // The join on relay B past the mesh's size moves the room for both relays.
    let cy = join_with_sfu(b, "shared", "Cy").await;
    assert_eq!(cy.topology, topology(MediaMode::Sfu, 1));
    for who in [&mut ana, &mut bo] {
        assert_eq!(who.inbox.next().await, changed(MediaMode::Sfu, 1));
        assert!(matches!(
            who.inbox.next().await,
            ServerMsg::PeerJoined { .. }
        ));
    }

    // A placement claimed through relay A is the one relay B reads, and keeps.
    let claimed = a.claim_sfu_placement(&ana.member, placement(1, 41), None);
    assert_eq!(claimed.await, Ok(placement(1, 41)));
    assert_eq!(
        b.sfu_placement(&bo.member, 1).await,
        Ok(Some(placement(1, 41)))
    );
    assert_eq!(
        b.room_sfu_placement(bo.member.room()).await,
        Ok(Some(placement(1, 41)))
    );
    let late = b.claim_sfu_placement(&cy.member, placement(1, 42), None);
    assert_eq!(late.await, Ok(placement(1, 41)), "the first claim holds");

    // Small again after a leave on relay B; relay A's upkeep returns it to the mesh.
    b.leave(&cy.member, LeaveReason::Left).await;
    let left_at = Instant::now();
    ana.inbox.next().await;
    bo.inbox.next().await;
    a.settle_topology(policy(true, left_at + Duration::from_secs(11)))
        .await;
    for who in [&mut ana, &mut bo] {
        assert_eq!(who.inbox.next().await, changed(MediaMode::Mesh, 2));
    }
    assert_eq!(b.room_sfu_placement(bo.member.room()).await, Ok(None));
}

// ---------------------------------------------------------------------------------------
// Redis only: relays that stop, registrations that are lost, Redis that goes away

#[tokio::test]
async fn peers_of_a_relay_that_stopped_leave_with_timed_out_within_the_expiry() {
    let mut s = redis_relays(DEFAULT_LIMITS, 2, EXPIRY_TTL).await;
    let mut ana = join(s.on(0), "crash", "Ana").await;
    let bo = join(s.on(1), "crash", "Bo").await;
    let cy = join(s.on(1), "crash", "Cy").await;
    ana.inbox.next().await;
    ana.inbox.next().await;

    // The second relay dies: its heartbeat stops, nobody leaves.
    let started = Instant::now();
    drop(s.registries.pop());
    let bound = EXPIRY_TTL * 5 / 4;
    let mut gone = vec![ana.inbox.next_within(bound + TIMER_SLACK).await];
    gone.push(ana.inbox.next().await);
    let waited = started.elapsed();
    eprintln!("peers of the stopped relay removed after {waited:?} (expiry {EXPIRY_TTL:?})");
    gone.sort_by_key(|msg| format!("{msg:?}"));
    let mut expected = vec![
        left(&bo, LeaveReason::TimedOut),
        left(&cy, LeaveReason::TimedOut),
    ];
    expected.sort_by_key(|msg| format!("{msg:?}"));
    assert_eq!(gone, expected);
    assert!(
        waited <= bound + TIMER_SLACK,
        "took {waited:?}; the documented bound is {bound:?}"
    );
    ana.inbox.silent().await;
    let di = join(s.on(0), "crash", "Di").await;
    assert_eq!(di.roster, vec![ana.info("Ana")]);
    assert_eq!(s.on(0).stats().await, RegistryStats { rooms: 1, peers: 2 });
    // Nothing of the dead relay is left in Redis.
    let mut redis = s.redis.as_ref().expect("redis").connection().await;
    let relays: Vec<String> = redis::cmd("SMEMBERS")
        .arg("suite:instances")
        .query_async(&mut redis)
        .await
        .expect("smembers");
    assert_eq!(relays, vec![s.on(0).instance_id().to_owned()]);
}

#[tokio::test]
async fn a_relay_that_lost_its_registration_disconnects_its_clients_and_serves_again() {
    let s = redis_relays(DEFAULT_LIMITS, 1, EXPIRY_TTL).await;
    let ana = join(s.on(0), "flush", "Ana").await;
    let mut redis = s.redis.as_ref().expect("redis").connection().await;
    // All shared state gone at once, as when Redis restarts without persistence.
    let _: () = redis::cmd("FLUSHALL")
        .query_async(&mut redis)
        .await
        .expect("flushall");
    let started = Instant::now();
    // Noticed at the next heartbeat: a quarter of the expiry.
    tokio::time::timeout(EXPIRY_TTL / 4 + TIMER_SLACK, ana.inbox.signal.overflowed())
        .await
        .expect("Ana's connection is told to end within a heartbeat or two");
    eprintln!("lost registration noticed after {:?}", started.elapsed());
    wait_ready(s.on(0)).await;
    let bo = join(s.on(0), "flush", "Bo").await;
    assert!(
        bo.roster.is_empty(),
        "Ana is not in the room any more: {:?}",
        bo.roster
    );
}

#[tokio::test]
async fn unreachable_redis_refuses_joins_as_unavailable_and_recovers() {
    let mut s = redis_relays(DEFAULT_LIMITS, 1, EXPIRY_TTL).await;
    let ana = join(s.on(0), "outage", "Ana").await;
    let port = {
        let redis = s.redis.as_mut().expect("redis");
        redis.kill();
        redis.port
    };
    let started = Instant::now();
    let refused = tokio::time::timeout(
        Duration::from_secs(10),
        try_join(s.on(0), "outage", "Bo", None),
    )
    .await
    .expect("a join fails in time rather than hanging");
    assert_eq!(refused.err(), Some(RelayError::Unavailable));
    assert_eq!(
        s.on(0)
            .send_to(&ana.member, &PeerId("x".into()), signal(ana.id(), 0))
            .await,
        Err(RelayError::Unavailable)
    );
    eprintln!("join refused after {:?} without Redis", started.elapsed());
    let not_ready = s.on(0).ready().await.expect_err("not ready without Redis");
    assert!(not_ready.contains("Redis"), "{not_ready}");

    // Redis comes back, empty: the relay reconnects on its own and serves again.
    s.redis = Some(RedisServer::start_on(port).await);
    let started = Instant::now();
    wait_ready(s.on(0)).await;
    eprintln!("ready again {:?} after Redis came back", started.elapsed());
    let bo = join(s.on(0), "outage", "Bo").await;
    assert!(bo.roster.is_empty());
}

#[tokio::test]
async fn a_join_abandoned_midway_leaves_no_ghost_in_the_room() {
    let s = redis_relays(DEFAULT_LIMITS, 1, EXPIRY_TTL).await;
    let mut ana = join(s.on(0), "ghost", "Ana").await;
    let (mailbox, _inbox) = mailbox();
    // Redis stalls; the join script goes out and waits there; the connection goes away
    // before the answer, and then Redis runs the script.
    let redis = s.redis.as_ref().expect("redis");
    let mut stalled = redis.connection().await;
    let stall = tokio::spawn(async move {
        let _: Result<(), _> = redis::cmd("DEBUG")
            .arg("SLEEP")
            .arg("0.5")
            .query_async(&mut stalled)
            .await;
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let abandoned = tokio::time::timeout(
        Duration::from_millis(200),
        s.on(0).join(request("ghost", "Ghost", None, mailbox)),
    )
    .await;
    assert!(
        abandoned.is_err(),
        "the join was abandoned while Redis stalled"
    );
    stall.await.expect("stall task");
    let started = Instant::now();
    while s.on(0).stats().await.peers != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the abandoned joiner is still counted: {:?}",
            s.on(0).stats().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Ana saw the ghost arrive, and go.
    let ghost = match ana.inbox.next().await {
        ServerMsg::PeerJoined { peer } => peer,
        other => panic!("expected the ghost's peer_joined, got {other:?}"),
    };
    assert_eq!(
        ana.inbox.next().await,
        ServerMsg::PeerLeft {
            peer_id: ghost.id,
            reason: LeaveReason::Disconnected,
        }
    );
    ana.inbox.silent().await;
    let bo = join(s.on(0), "ghost", "Bo").await;
    assert_eq!(bo.roster, vec![ana.info("Ana")]);
}

#[tokio::test]
async fn inboxes_are_trimmed_once_read() {
    let s = redis_two_setup(DEFAULT_LIMITS).await;
    let mut ana = join(s.on(0), "trim", "Ana").await;
    let mut bo = join(s.on(1), "trim", "Bo").await;
    ana.inbox.next().await;
    for n in 0..100 {
        s.on(0)
            .send_to(&ana.member, bo.id(), signal(ana.id(), n))
            .await
            .expect("send");
    }
    for n in 0..100 {
        assert_eq!(bo.inbox.next().await, signal(ana.id(), n));
    }
    let mut redis = s.redis.as_ref().expect("redis").connection().await;
    let started = Instant::now();
    loop {
        let key = format!("suite:instance:{}:inbox", s.on(1).instance_id());
        let len: usize = redis::cmd("XLEN")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .expect("xlen");
        // The newest entry read stays (XTRIM MINID keeps it), nothing older.
        if len <= 1 {
            break;
        }
        assert!(
            started.elapsed() < RECV_TIMEOUT,
            "{key} still holds {len} entries"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ana.inbox.silent().await;
}

impl Inbox {
    async fn next_within(&mut self, limit: Duration) -> ServerMsg {
        match tokio::time::timeout(limit, self.rx.recv()).await {
            Ok(Some(Outbound::Msg(msg))) => msg,
            Ok(other) => panic!("expected a message, got {other:?}"),
            Err(_) => panic!("no message within {limit:?}"),
        }
    }
}
