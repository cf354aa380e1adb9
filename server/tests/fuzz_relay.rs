//! Property-based fuzzing of the relay over real sockets (proptest; `cargo fuzz` would need
//! nightly). Two properties, a fixed number of cases each, one relay per property:
//!
//! - arbitrary frames (text, JSON-ish text built from the protocol's own words, binary) on a
//!   few connections;
//! - arbitrary well-typed `ClientMsg` sequences from several clients in a few rooms (joins with
//!   odd names and versions, signals to real and made-up peers, chats, leaves, reconnects).
//!
//! After every case: no task of the relay panicked, everything it sent was a `ServerMsg` (so
//! every error was a typed `error`), no signal arrived with a forged or foreign `from`, each
//! fuzz connection was answered up to its last ping (or closed), a control connection still
//! gets its pong, and once the fuzz clients are gone the registry is empty: no room or peer
//! outlives its connections.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use meshmeet_protocol::{
    ClientMsg, MediaState, PeerId, ProtocolMsg, RoomName, ServerMsg, SessionToken, Signal,
    PROTOCOL_VERSION,
};
use meshmeet_server::registry::RegistryStats;
use meshmeet_server::{Config, MemoryRegistry, RoomRegistry};
use proptest::prelude::*;
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestRng, TestRunner,
};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Cases per property: enough to reach the odd corners, few enough for the normal test step.
const CASES: u32 = 256;
/// Cases of message sequences: each is up to 32 round trips.
const SEQUENCE_CASES: u32 = 160;
/// Longest wait for the relay to answer a connection's last ping (or close it).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest wait for the registry to forget the fuzz clients after they hung up.
const FORGET_TIMEOUT: Duration = Duration::from_secs(3);
/// The nonce of the ping that ends every fuzz connection's input.
const LAST_PING: u64 = 0xF022;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Panics on the relay's runtime threads, counted by a hook: a panicking connection task
/// would otherwise only vanish.
static RELAY_PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_relay_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current()
            .name()
            .is_some_and(|name| name.starts_with("tokio-runtime-worker"))
        {
            RELAY_PANICS.fetch_add(1, Ordering::SeqCst);
        }
        previous(info);
    }));
}

/// A relay on a free port, its registry, and a connection that only ever pings.
struct Harness {
    runtime: Runtime,
    address: SocketAddr,
    registry: Arc<MemoryRegistry>,
    control: Ws,
    nonce: u64,
}

impl Harness {
    fn start() -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            dist: PathBuf::from("/nonexistent/meshmeet-fuzz-dist"),
            // Short, so hung-up clients can resume within a case and are forgotten soon
            // after it.
            resume_grace: Duration::from_millis(200),
            // Small rooms, so a few clients also reach `room_full`.
            max_participants: 3,
            max_rooms: 4,
            // The control connection pings once per case, hundreds of times a second; fuzz
            // connections send far fewer messages than the burst either way.
            messages_per_second: 10_000,
            // Every fuzz client is 127.0.0.1: wrong passwords must not lock them all out.
            max_failed_joins: u32::MAX,
            ..Config::default()
        };
        let registry = Arc::new(MemoryRegistry::new(
            config.max_rooms,
            config.max_participants,
        ));
        let (address, control) = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .expect("bind");
            let address = listener.local_addr().expect("address");
            tokio::spawn(meshmeet_server::serve_with_registry(
                config,
                // Shared with the test, so it can look at the counts.
                Arc::clone(&registry),
                listener,
                std::future::pending(),
            ));
            (address, connect(address).await)
        });
        Harness {
            runtime,
            address,
            registry,
            control,
            nonce: 0,
        }
    }

    /// The checks after every case.
    fn after_case(&mut self) -> Result<(), TestCaseError> {
        let panics = RELAY_PANICS.load(Ordering::SeqCst);
        prop_assert_eq!(panics, 0, "a relay task panicked");
        self.nonce += 1;
        let nonce = self.nonce;
        let registry = Arc::clone(&self.registry);
        let control = &mut self.control;
        self.runtime.block_on(async move {
            let answer = ping(control, nonce).await;
            prop_assert!(
                matches!(answer, Answered::Pong(_)),
                "the control connection got no pong: {:?}",
                answer
            );
            let deadline = tokio::time::Instant::now() + FORGET_TIMEOUT;
            loop {
                let stats = registry.stats().await;
                if stats == RegistryStats::default() {
                    return Ok(());
                }
                prop_assert!(
                    tokio::time::Instant::now() < deadline,
                    "registry still holds {:?} after every fuzz client hung up",
                    stats
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    }
}

async fn connect(address: SocketAddr) -> Ws {
    let (ws, _) = tokio::time::timeout(
        ANSWER_TIMEOUT,
        tokio_tungstenite::connect_async(format!("ws://{address}/ws")),
    )
    .await
    .expect("handshake in time")
    .expect("handshake");
    ws
}

/// What a connection saw after its last ping.
#[derive(Debug)]
enum Answered {
    /// The pong, with every protocol message before it.
    Pong(Vec<ServerMsg>),
    /// The relay closed the connection (after these messages).
    Closed(Vec<ServerMsg>),
}

/// Sends a ping and reads until its pong or the end of the connection. Panics (failing the
/// case) on anything that is not a `ServerMsg` or on silence.
async fn ping(ws: &mut Ws, nonce: u64) -> Answered {
    let text = serde_json::to_string(&ClientMsg::Ping { nonce }).expect("serialise");
    // The relay may have closed already; reading tells.
    let _ = ws.send(Message::text(text)).await;
    read_until_pong(ws, nonce).await
}

async fn read_until_pong(ws: &mut Ws, nonce: u64) -> Answered {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| {
                panic!("the relay neither answered ping {nonce} nor closed; before: {seen:?}")
            });
        match frame {
            Some(Ok(Message::Text(text))) => {
                let msg: ServerMsg = serde_json::from_str(&text).unwrap_or_else(|err| {
                    panic!("the relay sent something that is not a ServerMsg ({err}): {text}")
                });
                if msg == (ServerMsg::Pong { nonce }) {
                    return Answered::Pong(seen);
                }
                seen.push(msg);
            }
            Some(Ok(Message::Binary(bytes))) => {
                panic!("the relay sent a binary frame: {bytes:?}")
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Answered::Closed(seen),
            Some(Ok(_)) => {}
        }
    }
}

// ----- (a) arbitrary frames -----

/// One fuzz frame.
#[derive(Clone, Debug)]
enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// Words of the protocol, so JSON-ish input often gets past the outer parse.
const WORDS: &[&str] = &[
    "type",
    "join",
    "version",
    "room",
    "name",
    "password",
    "media",
    "mic",
    "camera",
    "screen",
    "signal",
    "to",
    "kind",
    "offer",
    "answer",
    "candidate",
    "sdp",
    "sdp_mid",
    "set_media",
    "set_name",
    "chat",
    "seq",
    "text",
    "leave",
    "ping",
    "nonce",
    "standup",
];

fn json_ish() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let word = proptest::sample::select(WORDS).prop_map(str::to_owned);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            Just(1i64),
            Just(0),
            Just(-1),
            Just(u32::MAX as i64 + 1),
            any::<i64>()
        ]
        .prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        word.clone().prop_map(Value::String),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        let key = prop_oneof![word.clone(), ".{0,6}"];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::vec((key, inner), 0..6)
                .prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        4 => json_ish().prop_map(|v| Frame::Text(v.to_string())),
        2 => any::<String>().prop_map(Frame::Text),
        1 => proptest::collection::vec(any::<u8>(), 0..48).prop_map(Frame::Binary),
        1 => Just(Frame::Text(String::new())),
        1 => (1usize..200_000).prop_map(|n| Frame::Text("x".repeat(n))),
    ]
}

#[test]
fn arbitrary_frames_get_typed_answers_and_leave_nothing_behind() {
    count_relay_panics();
    let harness = std::cell::RefCell::new(Harness::start());
    let mut runner = seeded_runner(CASES);
    let input = proptest::collection::vec(proptest::collection::vec(frame(), 1..8), 1..4);
    let reached: std::cell::RefCell<HashMap<String, usize>> = Default::default();
    runner
        .run(&input, |connections| {
            let mut harness = harness.borrow_mut();
            let address = harness.address;
            let reached = &reached;
            harness.runtime.block_on(async move {
                let mut sockets = Vec::new();
                for frames in &connections {
                    let mut ws = connect(address).await;
                    for frame in frames {
                        let message = match frame {
                            Frame::Text(text) => Message::text(text.clone()),
                            Frame::Binary(bytes) => Message::binary(bytes.clone()),
                        };
                        // The relay may close mid-way (too large, too many bad messages).
                        if ws.send(message).await.is_err() {
                            break;
                        }
                    }
                    sockets.push(ws);
                }
                for ws in &mut sockets {
                    // Panics inside fail the case with the message.
                    let (Answered::Pong(seen) | Answered::Closed(seen)) = ping(ws, LAST_PING).await;
                    tally(&mut reached.borrow_mut(), &seen);
                }
            });
            harness.after_case()
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_reached(
        &reached.borrow(),
        &[
            "error bad_message",
            "error binary_not_supported",
            "error too_large",
        ],
    );
}

/// Seed of the fuzz cases unless `MESHMEET_FUZZ_SEED` names another. Fixed, because the tests
/// also check that the cases reached every kind of answer: with a new seed each run, a rare
/// kind (a non-host's host action) was missed now and then and failed CI for no fault of
/// the relay's. Set the variable to explore other cases.
const DEFAULT_FUZZ_SEED: u64 = 0x6d65_7368_6d65_6574;

/// A runner of `cases` cases, seeded as [`DEFAULT_FUZZ_SEED`] says.
fn seeded_runner(cases: u32) -> TestRunner {
    let seed = std::env::var("MESHMEET_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(DEFAULT_FUZZ_SEED);
    eprintln!("fuzz seed {seed} (MESHMEET_FUZZ_SEED to change it)");
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Counts kinds of messages (errors by code) into `reached`.
fn tally(reached: &mut HashMap<String, usize>, seen: &[ServerMsg]) {
    for msg in seen {
        let kind = match msg {
            ServerMsg::Error { code, .. } => format!(
                "error {}",
                serde_json::to_value(code)
                    .expect("code")
                    .as_str()
                    .unwrap_or("?")
            ),
            other => other.tag().to_owned(),
        };
        *reached.entry(kind).or_default() += 1;
    }
}

/// Fails unless the cases reached every kind in `expected`.
fn assert_reached(reached: &HashMap<String, usize>, expected: &[&str]) {
    for kind in expected {
        assert!(
            reached.get(*kind).is_some_and(|&n| n > 0),
            "no case reached {kind}; reached: {reached:?}"
        );
    }
}

// ----- (b) well-typed message sequences -----

/// Fuzz clients per case.
const CLIENTS: usize = 4;

/// Whom a signal is for.
#[derive(Clone, Debug)]
enum To {
    /// Another fuzz client, by index (its current peer id, if it has one).
    Client(usize),
    /// An id nobody has.
    Made(String),
}

#[derive(Clone, Debug)]
enum Action {
    Join {
        version: u32,
        room: String,
        name: String,
        password: Option<String>,
        media: MediaState,
    },
    Signal(To, Signal),
    SetMedia(MediaState),
    SetName(String),
    Chat(u64, String),
    Leave,
    Ping(u64),
    /// A host action (refused with `not_host` unless the client is its room's host).
    Host(HostMove),
    /// Hang up without a word; the next action of this client reconnects.
    Hangup,
    /// Resume this client's last session (`true`) or a made-up one.
    Resume(bool),
}

#[derive(Clone, Debug)]
enum HostMove {
    Lock(bool),
    Remove(To),
    AskToMute(To),
    HandOver(To),
    End,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 _.-]{1,12}",
        2 => ".{0,16}",
        1 => Just(String::new()),
        1 => Just(" \t ".to_owned()),
        1 => (30usize..3000).prop_map(|n| "é".repeat(n)),
    ]
}

fn media() -> impl Strategy<Value = MediaState> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(mic, camera, screen)| MediaState {
        mic,
        camera,
        screen,
    })
}

fn signal() -> impl Strategy<Value = Signal> {
    prop_oneof![
        text().prop_map(|sdp| Signal::Offer { sdp }),
        text().prop_map(|sdp| Signal::Answer { sdp }),
        (
            text(),
            proptest::option::of(text()),
            proptest::option::of(any::<u16>()),
            proptest::option::of(text())
        )
            .prop_map(
                |(candidate, sdp_mid, sdp_m_line_index, username_fragment)| {
                    Signal::Candidate {
                        candidate,
                        sdp_mid,
                        sdp_m_line_index,
                        username_fragment,
                    }
                }
            ),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let room = prop_oneof![
        6 => proptest::sample::select(&["a", "b", "c"][..]).prop_map(str::to_owned),
        1 => text(),
    ];
    let version = prop_oneof![9 => Just(PROTOCOL_VERSION), 1 => any::<u32>()];
    // Mostly valid names, so joins succeed and rooms fill up.
    let name = prop_oneof![6 => "[a-zA-Z]{1,10}", 1 => text()];
    let to = to_strategy();
    prop_oneof![
        4 => (version, room, name, proptest::option::of(prop_oneof![3 => Just("pw".to_owned()), 1 => text()]), media())
            .prop_map(|(version, room, name, password, media)| Action::Join { version, room, name, password, media }),
        6 => (to, signal()).prop_map(|(to, signal)| Action::Signal(to, signal)),
        1 => media().prop_map(Action::SetMedia),
        1 => text().prop_map(Action::SetName),
        2 => (prop_oneof![3 => 1..1_000u64, 1 => any::<u64>()], prop_oneof![3 => "[a-z ]{1,20}", 1 => text()]).prop_map(|(seq, text)| Action::Chat(seq, text)),
        1 => Just(Action::Leave),
        1 => any::<u64>().prop_map(Action::Ping),
        1 => Just(Action::Hangup),
        2 => prop_oneof![4 => Just(true), 1 => Just(false)].prop_map(Action::Resume),
        2 => host_move(to_strategy()).prop_map(Action::Host),
    ]
}

fn to_strategy() -> impl Strategy<Value = To> + Clone {
    prop_oneof![
        4 => (0..CLIENTS).prop_map(To::Client),
        1 => "[0-9a-f]{0,32}".prop_map(To::Made),
    ]
}

fn host_move(to: impl Strategy<Value = To> + Clone) -> impl Strategy<Value = HostMove> {
    prop_oneof![
        1 => any::<bool>().prop_map(HostMove::Lock),
        4 => to.clone().prop_map(HostMove::Remove),
        1 => to.clone().prop_map(HostMove::AskToMute),
        1 => to.prop_map(HostMove::HandOver),
        1 => Just(HostMove::End),
    ]
}

/// The peer id a target stands for: a fuzz client's (or a made-up one if it has none).
fn resolve(clients: &[FuzzClient], to: To) -> PeerId {
    match to {
        To::Client(i) => clients[i]
            .peer_id
            .clone()
            .unwrap_or_else(|| PeerId("nobody".into())),
        To::Made(id) => PeerId(id),
    }
}

/// One fuzz client: its socket (if connected) and its peer id (if joined).
#[derive(Default)]
struct FuzzClient {
    ws: Option<Ws>,
    peer_id: Option<PeerId>,
    /// The last session token it was welcomed with; kept across hang-ups.
    session: Option<SessionToken>,
}

impl FuzzClient {
    /// Takes in what arrived: the peer id from a welcome, and checks on every signal.
    fn absorb(
        &mut self,
        me: usize,
        messages: &[ServerMsg],
        ids_ever: &HashMap<PeerId, usize>,
    ) -> Result<(), TestCaseError> {
        for msg in messages {
            match msg {
                ServerMsg::Welcome {
                    peer_id, session, ..
                } => {
                    self.peer_id = Some(peer_id.clone());
                    self.session = Some(session.clone());
                }
                ServerMsg::Resumed { peer_id, .. } => self.peer_id = Some(peer_id.clone()),
                ServerMsg::Signal { from, .. } | ServerMsg::Chat { from, .. } => {
                    let sender = ids_ever.get(from);
                    prop_assert!(
                        sender.is_some_and(|&s| s != me),
                        "client {} got a message from {}, which is not another fuzz client",
                        me,
                        from
                    );
                    prop_assert!(
                        self.peer_id.is_some(),
                        "client {} got {:?} before its welcome",
                        me,
                        msg
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[test]
fn arbitrary_message_sequences_from_several_clients_keep_the_relay_sound() {
    count_relay_panics();
    let harness = std::cell::RefCell::new(Harness::start());
    let mut runner = seeded_runner(SEQUENCE_CASES);
    let input = proptest::collection::vec((0..CLIENTS, action()), 4..32);
    // What the cases reached, so a generator that stopped producing joins or deliverable
    // signals fails loudly instead of fuzzing nothing.
    let reached: std::cell::RefCell<HashMap<String, usize>> = Default::default();
    runner
        .run(&input, |actions| {
            let mut harness = harness.borrow_mut();
            let address = harness.address;
            let reached = &reached;
            harness.runtime.block_on(async move {
                let mut clients: Vec<FuzzClient> =
                    (0..CLIENTS).map(|_| FuzzClient::default()).collect();
                // Every peer id a fuzz client ever had, and whose it was.
                let mut ids_ever: HashMap<PeerId, usize> = HashMap::new();
                for (step, (who, action)) in actions.into_iter().enumerate() {
                    if matches!(action, Action::Hangup) {
                        clients[who] = FuzzClient {
                            session: clients[who].session.take(),
                            ..FuzzClient::default()
                        };
                        continue;
                    }
                    let msg = match action {
                        Action::Join {
                            version,
                            room,
                            name,
                            password,
                            media,
                        } => ClientMsg::Join {
                            version,
                            room: RoomName(room),
                            name,
                            password,
                            media,
                            token: None,
                            client_key: None,
                            e2ee: false,
                        },
                        Action::Signal(to, signal) => ClientMsg::Signal {
                            to: resolve(&clients, to),
                            signal,
                        },
                        Action::Host(HostMove::Lock(locked)) => ClientMsg::LockRoom { locked },
                        Action::Host(HostMove::Remove(to)) => ClientMsg::RemovePeer {
                            peer_id: resolve(&clients, to),
                        },
                        Action::Host(HostMove::AskToMute(to)) => ClientMsg::AskToMute {
                            peer_id: resolve(&clients, to),
                        },
                        Action::Host(HostMove::HandOver(to)) => ClientMsg::HandOverHost {
                            peer_id: resolve(&clients, to),
                        },
                        Action::Host(HostMove::End) => ClientMsg::EndMeeting,
                        Action::SetMedia(media) => ClientMsg::SetMedia { media },
                        Action::SetName(name) => ClientMsg::SetName { name },
                        Action::Chat(seq, text) => ClientMsg::Chat { seq, text },
                        Action::Leave => ClientMsg::Leave,
                        Action::Ping(nonce) => ClientMsg::Ping { nonce },
                        Action::Resume(own) => ClientMsg::Resume {
                            version: PROTOCOL_VERSION,
                            session: match (own, &clients[who].session) {
                                (true, Some(session)) => session.clone(),
                                _ => SessionToken("f".repeat(32)),
                            },
                        },
                        Action::Hangup => unreachable!("handled above"),
                    };
                    let client = &mut clients[who];
                    if client.ws.is_none() {
                        client.ws = Some(connect(address).await);
                        client.peer_id = None;
                    }
                    let ws = client.ws.as_mut().expect("connected above");
                    let text = serde_json::to_string(&msg).expect("serialise");
                    let _ = ws.send(Message::text(text)).await;
                    // Sync: everything the relay answered comes before this pong.
                    let nonce = LAST_PING + step as u64;
                    let (seen, closed) = match ping(ws, nonce).await {
                        Answered::Pong(seen) => (seen, false),
                        Answered::Closed(seen) => (seen, true),
                    };
                    client.absorb(who, &seen, &ids_ever)?;
                    tally(&mut reached.borrow_mut(), &seen);
                    if let Some(id) = &client.peer_id {
                        ids_ever.insert(id.clone(), who);
                    }
                    if closed {
                        *client = FuzzClient {
                            session: client.session.take(),
                            ..FuzzClient::default()
                        };
                    }
                }
                // Read what the others sent meanwhile, then hang up.
                for (who, client) in clients.iter_mut().enumerate() {
                    if let Some(ws) = client.ws.as_mut() {
                        let seen = match ping(ws, LAST_PING - 1).await {
                            Answered::Pong(seen) | Answered::Closed(seen) => seen,
                        };
                        client.absorb(who, &seen, &ids_ever)?;
                        tally(&mut reached.borrow_mut(), &seen);
                    }
                }
                Ok::<(), TestCaseError>(())
            })?;
            harness.after_case()
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_reached(
        &reached.borrow(),
        &[
            "welcome",
            "peer_joined",
            "peer_left",
            "signal",
            "chat",
            "error unknown_peer",
            "error not_joined",
            "error already_joined",
            "resumed",
            "error session_expired",
            // (Removals and handovers need two clients in one room with the host acting on
            // the other: too rare here to require; the registry suite covers them.)
            "error not_host",
            "lock_changed",
        ],
    );
}
