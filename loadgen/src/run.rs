//! One load run: connect every client, settle, send in phases while some clients leave and
//! rejoin, drain what is in flight, then merge what every client counted.
//!
//! Every client is a task that owns its socket and reads it all the time (so pings are
//! answered and queues drain); a coordinator publishes the schedule once everyone has joined
//! and the finish instant once the drain is over.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use meshmeet_protocol::{ClientMsg, ErrorCode, ServerMsg, Signal};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::config::{LoadConfig, Target};
use crate::pacer::{Pacer, Schedule, Step};
use crate::report::{ClientOutcome, Memory, Report, RunFacts};
use crate::sys::rss_kib;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type WsSink = SplitSink<Ws, Message>;
type WsStream = SplitStream<Ws>;
type WsError = tokio_tungstenite::tungstenite::Error;

/// Longest wait for a WebSocket handshake and a `welcome`.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for the relay to close a connection after `leave`.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(5);
/// The drain ends once deliveries have stopped for this long: with churn some messages are
/// never delivered (excused), and a message still missing after a quiet second is lost, not
/// late. (An overloaded machine can hold messages for seconds: `drain` bounds the wait.)
const DRAIN_QUIET: Duration = Duration::from_secs(1);
/// Longest wait for the client tasks to hand in their counts after the finish.
const COLLECT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the clients share.
struct Shared {
    /// The clock every timestamp is read from.
    base: StdInstant,
    sent: AtomicU64,
    delivered: AtomicU64,
    connected: AtomicUsize,
    peak: AtomicUsize,
    /// First connections that joined or gave up.
    settled: AtomicUsize,
    slots: Vec<Slot>,
    /// Limits handshakes in progress while connecting.
    connect_gate: Semaphore,
}

/// One client's send window, shared with whoever receives its signals.
#[derive(Default)]
struct Slot {
    outstanding: AtomicI64,
    wake: Notify,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn at(&self, ns: u64) -> Instant {
        Instant::from_std(self.base + Duration::from_nanos(ns))
    }

    fn connected(&self) {
        let now = self.connected.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    fn disconnected(&self) {
        self.connected.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs the load described by `config` and reports what happened. Bounded: connecting is
/// limited by `connect_timeout`, the load by its phases, the drain by `drain`, and the
/// collection of counts by a fixed timeout.
pub async fn run(config: LoadConfig) -> Result<Report, String> {
    config.validate()?;
    let config = Arc::new(config);
    let clients = config.clients;
    let baseline_kib = config.server_pid.and_then(rss_kib);
    let shared = Arc::new(Shared {
        base: StdInstant::now(),
        sent: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        connected: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        settled: AtomicUsize::new(0),
        slots: (0..clients).map(|_| Slot::default()).collect(),
        connect_gate: Semaphore::new(config.connect_concurrency),
    });
    let (schedule_tx, schedule_rx) = watch::channel::<Option<Arc<Schedule>>>(None);
    let (finish_tx, finish_rx) = watch::channel::<Option<u64>>(None);
    let floor_ids = (config.target == Target::Floor).then(|| {
        let nonce =
            u64::from(std::process::id()) << 32 | u64::from(shared.base.elapsed().subsec_nanos());
        Arc::new(
            (0..clients)
                .map(|slot| format!("{nonce:016x}{slot:016x}"))
                .collect::<Vec<_>>(),
        )
    });
    let mut churn = churn_offsets(&config);

    let handles: Vec<_> = (0..clients)
        .map(|slot| {
            let client = Client {
                slot,
                config: Arc::clone(&config),
                shared: Arc::clone(&shared),
                schedule: schedule_rx.clone(),
                finish: finish_rx.clone(),
                pacer: Pacer::new(
                    slot,
                    clients,
                    &config.phases,
                    std::mem::take(&mut churn[slot]),
                ),
                floor_ids: floor_ids.clone(),
                out: ClientOutcome::new(config.phases.len()),
                incarnations: 0,
            };
            tokio::spawn(client.run())
        })
        .collect();

    // Connect and join everyone (or give up on the stragglers).
    let connect_deadline = Instant::now() + config.connect_timeout;
    while shared.settled.load(Ordering::Relaxed) < clients && Instant::now() < connect_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_secs = shared.base.elapsed().as_secs_f64();
    tokio::time::sleep(config.settle).await;
    let memory = match (config.server_pid, baseline_kib) {
        (Some(pid), Some(baseline_kib)) => rss_kib(pid).map(|idle_kib| Memory {
            baseline_kib,
            idle_kib,
            per_connection_bytes: idle_kib.saturating_sub(baseline_kib) * 1024 / clients as u64,
        }),
        _ => None,
    };

    // The load.
    let start_ns = shared.now_ns() + 20_000_000;
    let mut phase_end_ns = Vec::new();
    let mut end = start_ns;
    for phase in &config.phases {
        end += u64::try_from(phase.duration.as_nanos()).unwrap_or(u64::MAX / 4);
        phase_end_ns.push(end);
    }
    let schedule = Arc::new(Schedule {
        start_ns,
        phase_end_ns,
    });
    let load_end = shared.at(schedule.end_ns());
    let _ = schedule_tx.send(Some(schedule));
    tokio::time::sleep_until(load_end).await;

    // Drain: wait for what is in flight.
    let drain_deadline = Instant::now() + config.drain;
    let mut last = shared.delivered.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    loop {
        let delivered = shared.delivered.load(Ordering::Relaxed);
        if delivered >= shared.sent.load(Ordering::Relaxed) || Instant::now() >= drain_deadline {
            break;
        }
        if delivered != last {
            last = delivered;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= DRAIN_QUIET {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let at_end = shared.connected.load(Ordering::Relaxed);
    let _ = finish_tx.send(Some(shared.now_ns()));

    let mut outcomes = Vec::with_capacity(clients);
    let collect_deadline = Instant::now() + COLLECT_TIMEOUT;
    for handle in handles {
        let abort = handle.abort_handle();
        match tokio::time::timeout_at(collect_deadline, handle).await {
            Ok(Ok(outcome)) => outcomes.push(outcome),
            Ok(Err(err)) => return Err(format!("a client task failed: {err}")),
            Err(_) => {
                abort.abort();
                return Err("client tasks did not finish in time".into());
            }
        }
    }
    let facts = RunFacts {
        peak: shared.peak.load(Ordering::Relaxed),
        at_end,
        connect_secs,
        memory,
    };
    let config = Arc::try_unwrap(config).unwrap_or_else(|shared| (*shared).clone());
    Ok(Report::merge(config, facts, outcomes))
}

/// Leave-and-rejoin instants per client (ns after the load starts): evenly spaced over the
/// load, each taking the next client at a stride that visits a different room every time.
fn churn_offsets(config: &LoadConfig) -> Vec<Vec<u64>> {
    let mut offsets = vec![Vec::new(); config.clients];
    if config.churn_per_second <= 0.0 {
        return offsets;
    }
    let events = (config.churn_per_second * config.load_duration().as_secs_f64()) as u64;
    let clients = config.clients as u64;
    let mut stride = config.room_size as u64 + 1;
    while gcd(stride, clients) != 1 {
        stride += 1;
    }
    for k in 0..events {
        let at = (k as f64 + 0.5) / config.churn_per_second;
        let slot = (k * stride % clients) as usize;
        offsets[slot].push((at * 1e9) as u64);
    }
    offsets
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// How one connection of a client ended.
enum Ending {
    /// The run finished.
    Finished,
    /// It left on schedule and should rejoin.
    Left,
    /// The server closed it, or it failed.
    Dropped,
}

/// One connection's view: who it is, whom it sees, what it sent and received.
struct Incarnation {
    me: String,
    roster: Vec<String>,
    next_target: usize,
    /// Target → last seq sent.
    seq: HashMap<String, u64>,
    /// Sender → what arrived from it.
    rx: HashMap<String, PairRx>,
    /// Peers announced gone.
    left: HashSet<String>,
}

#[derive(Default)]
struct PairRx {
    max: u64,
    count: u64,
    /// Seqs skipped so far (normally none): a later arrival is reordered, not duplicated.
    missing: HashSet<u64>,
}

/// What a client waits for next.
enum Event {
    Finish,
    Schedule,
    Frame(Option<Result<Message, WsError>>),
    Timer,
}

struct Client {
    slot: usize,
    config: Arc<LoadConfig>,
    shared: Arc<Shared>,
    schedule: watch::Receiver<Option<Arc<Schedule>>>,
    finish: watch::Receiver<Option<u64>>,
    /// When to send and when to leave.
    pacer: Pacer,
    floor_ids: Option<Arc<Vec<String>>>,
    out: ClientOutcome,
    incarnations: usize,
}

impl Client {
    async fn run(mut self) -> ClientOutcome {
        loop {
            let first = self.incarnations == 0;
            let joined = self.connect_and_join(first).await;
            if first {
                self.shared.settled.fetch_add(1, Ordering::Relaxed);
            }
            let (sink, stream, inc) = match joined {
                Ok(joined) => joined,
                Err(err) => {
                    self.out.failures += 1;
                    let slot = self.slot;
                    self.out.problem(|| format!("client {slot}: {err}"));
                    return self.out;
                }
            };
            self.out.joins += 1;
            let ending = self.hold(sink, stream, inc).await;
            self.shared.disconnected();
            self.incarnations += 1;
            match ending {
                Ending::Finished => return self.out,
                Ending::Dropped => {
                    self.out.unexpected_closes += 1;
                    let slot = self.slot;
                    self.out
                        .problem(|| format!("client {slot}: connection closed by the server"));
                    return self.out;
                }
                Ending::Left => {
                    if self.finished(self.shared.now_ns()) {
                        return self.out;
                    }
                    self.out.rejoins += 1;
                }
            }
        }
    }

    fn finished(&self, now_ns: u64) -> bool {
        self.finish.borrow().is_some_and(|f| now_ns >= f)
    }

    fn room(&self) -> usize {
        self.slot / self.config.room_size
    }

    async fn connect_and_join(
        &mut self,
        first: bool,
    ) -> Result<(WsSink, WsStream, Incarnation), String> {
        let urls = &self.config.urls;
        let mut url = urls[(self.slot + self.incarnations) % urls.len()].clone();
        if let Some(ids) = &self.floor_ids {
            url = format!("{url}/{}", ids[self.slot]);
        }
        let shared = Arc::clone(&self.shared);
        let _permit = if first {
            Some(
                shared
                    .connect_gate
                    .acquire()
                    .await
                    .map_err(|_| "connect gate closed".to_owned())?,
            )
        } else {
            None
        };
        let (ws, _) = tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(&url, None, true),
        )
        .await
        .map_err(|_| format!("no WebSocket handshake with {url} in {HANDSHAKE_TIMEOUT:?}"))?
        .map_err(|err| format!("connecting to {url}: {err}"))?;
        self.shared.connected();
        let (mut sink, mut stream) = ws.split();
        let joined = match &self.floor_ids {
            Some(ids) => {
                let room = self.room();
                let members = room * self.config.room_size
                    ..((room + 1) * self.config.room_size).min(self.config.clients);
                Ok(Incarnation::new(
                    ids[self.slot].clone(),
                    members
                        .filter(|&m| m != self.slot)
                        .map(|m| ids[m].clone())
                        .collect(),
                ))
            }
            None => self.join(&mut sink, &mut stream).await,
        };
        match joined {
            Ok(inc) => Ok((sink, stream, inc)),
            Err(err) => {
                self.shared.disconnected();
                Err(err)
            }
        }
    }

    async fn join(&self, sink: &mut WsSink, stream: &mut WsStream) -> Result<Incarnation, String> {
        let join = ClientMsg::Join {
            version: meshmeet_protocol::PROTOCOL_VERSION,
            room: meshmeet_protocol::RoomName(format!(
                "{}-{}",
                self.config.room_prefix,
                self.room()
            )),
            name: format!("load {}", self.slot),
            password: None,
            media: meshmeet_protocol::MediaState::default(),
            token: None,
            client_key: None,
            e2ee: false,
        };
        let text = serde_json::to_string(&join).map_err(|e| e.to_string())?;
        sink.send(Message::text(text))
            .await
            .map_err(|e| format!("sending join: {e}"))?;
        let welcome = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
            while let Some(frame) = stream.next().await {
                let frame = frame.map_err(|e| format!("waiting for welcome: {e}"))?;
                let Message::Text(text) = frame else {
                    continue;
                };
                match serde_json::from_str::<ServerMsg>(&text) {
                    Ok(ServerMsg::Welcome {
                        peer_id, roster, ..
                    }) => {
                        return Ok(Incarnation::new(
                            peer_id.0,
                            roster.into_iter().map(|p| p.id.0).collect(),
                        ))
                    }
                    Ok(ServerMsg::Error { code, message }) => {
                        return Err(format!("join refused: {code:?}: {message}"))
                    }
                    _ => return Err(format!("expected welcome, got {text}")),
                }
            }
            Err("connection closed before welcome".to_owned())
        })
        .await;
        welcome.map_err(|_| format!("no welcome in {HANDSHAKE_TIMEOUT:?}"))?
    }

    /// Holds one connection until the run finishes, the schedule says leave, or it drops;
    /// the pacer says when to send and when to wake.
    async fn hold(
        &mut self,
        mut sink: WsSink,
        mut stream: WsStream,
        mut inc: Incarnation,
    ) -> Ending {
        self.pacer.connected();
        loop {
            let now = self.shared.now_ns();
            if self.finished(now) {
                self.flush(inc);
                return Ending::Finished;
            }
            let schedule = self.schedule.borrow().clone();
            let slot = &self.shared.slots[self.slot];
            let outstanding = slot.outstanding.load(Ordering::Acquire);
            let has_targets = !inc.roster.is_empty();
            let (wake_ns, wait_window) =
                match self
                    .pacer
                    .step(now, schedule.as_deref(), outstanding, has_targets)
                {
                    Step::Leave => return self.leave(sink, stream, inc).await,
                    Step::Send { count, phase } => {
                        if self
                            .send_signals(&mut sink, &mut inc, count, phase)
                            .await
                            .is_err()
                        {
                            self.flush(inc);
                            return Ending::Dropped;
                        }
                        continue;
                    }
                    Step::Wait {
                        wake_ns,
                        for_window,
                    } => (wake_ns, for_window),
                };

            let timer = wake_ns.map(|ns| self.shared.at(ns));
            let waiting_for_schedule = schedule.is_none();
            let slot = &self.shared.slots[self.slot];
            let event = tokio::select! {
                biased;
                _ = self.finish.changed() => Event::Finish,
                _ = self.schedule.changed(), if waiting_for_schedule => Event::Schedule,
                frame = stream.next() => Event::Frame(frame),
                () = sleep_until_opt(timer), if timer.is_some() => Event::Timer,
                () = slot.wake.notified(), if wait_window => Event::Timer,
            };
            match event {
                Event::Finish | Event::Schedule | Event::Timer => {}
                Event::Frame(frame) => {
                    if self.finished(self.shared.now_ns()) {
                        self.flush(inc);
                        return Ending::Finished;
                    }
                    match frame {
                        Some(Ok(Message::Text(text))) => self.on_text(&mut inc, &text),
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                            self.flush(inc);
                            return Ending::Dropped;
                        }
                        Some(Ok(_)) => {}
                    }
                }
            }
        }
    }

    /// Sends `count` signals, counted in `phase`, in one flush.
    async fn send_signals(
        &mut self,
        sink: &mut WsSink,
        inc: &mut Incarnation,
        count: u32,
        phase: usize,
    ) -> Result<(), WsError> {
        for _ in 0..count {
            let frame = self.signal(inc, phase);
            sink.feed(frame).await?;
        }
        sink.flush().await
    }

    /// Sends `leave`, reads (and counts) everything up to the relay's close, and returns.
    async fn leave(
        &mut self,
        mut sink: WsSink,
        mut stream: WsStream,
        mut inc: Incarnation,
    ) -> Ending {
        let sent = sink.send(Message::text(r#"{"type":"leave"}"#)).await;
        if sent.is_err() {
            self.flush(inc);
            return Ending::Dropped;
        }
        let deadline = Instant::now() + LEAVE_TIMEOUT;
        loop {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    if !self.finished(self.shared.now_ns()) {
                        self.on_text(&mut inc, &text);
                    }
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) => break,
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_))) | Err(_) => {
                    let slot = self.slot;
                    self.out
                        .problem(|| format!("client {slot}: no clean close after leave"));
                    break;
                }
            }
        }
        self.flush(inc);
        Ending::Left
    }

    /// The next signal, round-robin over the roster.
    fn signal(&mut self, inc: &mut Incarnation, phase: usize) -> Message {
        let to = inc.roster[inc.next_target % inc.roster.len()].clone();
        inc.next_target = inc.next_target.wrapping_add(1);
        let seq = inc.seq.entry(to.clone()).or_insert(0);
        *seq += 1;
        let now = self.shared.now_ns();
        // Ids are hex (relay) or hex of our own (floor): nothing to escape.
        let json = format!(
            r#"{{"type":"signal","to":"{to}","signal":{{"kind":"candidate","candidate":"lg {} {} {to} {seq} {now}"}}}}"#,
            self.slot, inc.me
        );
        self.shared.slots[self.slot]
            .outstanding
            .fetch_add(1, Ordering::AcqRel);
        self.shared.sent.fetch_add(1, Ordering::Relaxed);
        self.out.sent_in_phase[phase] += 1;
        match self.config.target {
            Target::Relay => Message::text(json),
            Target::Floor => Message::text(format!("{to}\n{json}")),
        }
    }

    fn on_text(&mut self, inc: &mut Incarnation, text: &str) {
        if self.floor_ids.is_some() {
            let parsed =
                text.split_once('\n').and_then(|(from, body)| {
                    match serde_json::from_str::<ClientMsg>(body) {
                        Ok(ClientMsg::Signal {
                            signal: Signal::Candidate { candidate, .. },
                            ..
                        }) => Some((from, candidate)),
                        _ => None,
                    }
                });
            match parsed {
                Some((from, candidate)) => self.on_signal(inc, from, &candidate),
                None => self.misrouted(|| format!("unreadable floor frame {text:.120}")),
            }
            return;
        }
        match serde_json::from_str::<ServerMsg>(text) {
            Ok(ServerMsg::Signal {
                from,
                signal: Signal::Candidate { candidate, .. },
            }) => self.on_signal(inc, from.as_str(), &candidate),
            Ok(ServerMsg::PeerJoined { peer }) => {
                if peer.id.0 != inc.me && !inc.roster.contains(&peer.id.0) {
                    inc.roster.push(peer.id.0);
                }
            }
            Ok(ServerMsg::PeerLeft { peer_id, .. }) => {
                inc.roster.retain(|p| p != peer_id.as_str());
                inc.left.insert(peer_id.0);
            }
            Ok(ServerMsg::Error {
                code: ErrorCode::UnknownPeer,
                ..
            }) => self.out.unknown_peer_refusals += 1,
            Ok(ServerMsg::Error { code, message }) => {
                let code = serde_json::to_value(code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("{code:?}"));
                let slot = self.slot;
                self.out
                    .problem(|| format!("client {slot}: error {code}: {message}"));
                *self.out.errors.entry(code).or_default() += 1;
            }
            Ok(ServerMsg::ShuttingDown { .. }) => {
                *self.out.errors.entry("shutting_down".into()).or_default() += 1;
            }
            Ok(ServerMsg::Signal { .. }) => {
                self.misrouted(|| format!("a signal this load generator never sends: {text:.120}"));
            }
            Ok(ServerMsg::Welcome { .. }) => {
                *self.out.errors.entry("second_welcome".into()).or_default() += 1;
            }
            Ok(ServerMsg::Resumed { .. }) => {
                // This load generator never resumes.
                *self
                    .out
                    .errors
                    .entry("unexpected_resumed".into())
                    .or_default() += 1;
            }
            // Presence and host news that load rooms cause (their first client is host) and
            // that the load generator does not act on.
            Ok(
                ServerMsg::PeerUpdated { .. }
                | ServerMsg::Chat { .. }
                | ServerMsg::Pong { .. }
                | ServerMsg::HostChanged { .. }
                | ServerMsg::LockChanged { .. }
                | ServerMsg::MuteRequested { .. }
                | ServerMsg::IceServersRenewed { .. }
                | ServerMsg::TopologyChanged { .. }
                | ServerMsg::LiveChanged { .. }
                | ServerMsg::IngestCreated { .. }
                | ServerMsg::LiveOutputs { .. }
                | ServerMsg::Reacted { .. },
            ) => {}
            Ok(ServerMsg::SfuPublished { .. } | ServerMsg::SfuSubscription { .. }) => {
                // This load generator never publishes to an SFU.
                self.misrouted(|| format!("an SFU answer nobody asked for: {text:.120}"));
            }
            Ok(ServerMsg::Removed | ServerMsg::MeetingEnded) => {
                *self.out.errors.entry("ended_by_host".into()).or_default() += 1;
            }
            Err(err) => {
                let slot = self.slot;
                self.out
                    .problem(|| format!("client {slot}: unreadable frame ({err}): {text:.120}"));
                *self.out.errors.entry("unreadable".into()).or_default() += 1;
            }
        }
    }

    fn misrouted(&mut self, what: impl FnOnce() -> String) {
        self.out.misrouted += 1;
        let slot = self.slot;
        self.out
            .problem(|| format!("client {slot}: misrouted: {}", what()));
    }

    /// Checks and counts one received signal.
    fn on_signal(&mut self, inc: &mut Incarnation, from: &str, candidate: &str) {
        let now = self.shared.now_ns();
        let mut words = candidate.split(' ');
        let fields = (
            words.next(),
            words.next().and_then(|w| w.parse::<usize>().ok()),
            words.next(),
            words.next(),
            words.next().and_then(|w| w.parse::<u64>().ok()),
            words.next().and_then(|w| w.parse::<u64>().ok()),
        );
        let (Some("lg"), Some(sender_slot), Some(sender), Some(target), Some(seq), Some(sent_ns)) =
            fields
        else {
            return self.misrouted(|| format!("not a load signal: {candidate:.120}"));
        };
        if target != inc.me || sender != from || !inc.roster.iter().any(|p| p == from) {
            let me = inc.me.clone();
            return self.misrouted(|| {
                format!("signal {sender}→{target} #{seq} stamped from {from} arrived at {me}")
            });
        }
        if let Some(slot) = self.shared.slots.get(sender_slot) {
            slot.outstanding.fetch_sub(1, Ordering::AcqRel);
            slot.wake.notify_one();
        }
        self.shared.delivered.fetch_add(1, Ordering::Relaxed);
        let pair = inc.rx.entry(from.to_owned()).or_default();
        if seq == pair.max + 1 {
            pair.max = seq;
        } else if seq > pair.max {
            // A gap: remember what is missing (bounded) to tell late arrivals from duplicates.
            for missing in (pair.max + 1..seq).take(10_000) {
                pair.missing.insert(missing);
            }
            pair.max = seq;
        } else if pair.missing.remove(&seq) {
            self.out.reordered += 1;
            let me = inc.me.clone();
            self.out
                .problem(|| format!("signal {from}→{me} #{seq} arrived after a later one"));
        } else {
            self.out.duplicated += 1;
            let me = inc.me.clone();
            self.out
                .problem(|| format!("signal {from}→{me} #{seq} arrived twice"));
            return;
        }
        pair.count += 1;
        if let Some(s) = self.schedule.borrow().as_ref() {
            if let Some(i) = s.phase_of(sent_ns) {
                let micros = now.saturating_sub(sent_ns) / 1000;
                self.out.latencies_us[i].push(u32::try_from(micros).unwrap_or(u32::MAX));
            }
            if let Some(i) = s.phase_of(now) {
                self.out.delivered_in_phase[i] += 1;
            }
        }
    }

    /// Hands one incarnation's counts to the outcome.
    fn flush(&mut self, inc: Incarnation) {
        let Incarnation {
            me, seq, rx, left, ..
        } = inc;
        for (to, n) in seq {
            if left.contains(&to) {
                self.out.excused.push((me.clone(), to.clone()));
            }
            self.out.sent.push(((me.clone(), to), n));
        }
        for (from, pair) in rx {
            self.out.received.push(((from, me.clone()), pair.count));
        }
    }
}

impl Incarnation {
    fn new(me: String, roster: Vec<String>) -> Self {
        Incarnation {
            me,
            roster,
            next_target: 0,
            seq: HashMap::new(),
            rx: HashMap::new(),
            left: HashSet::new(),
        }
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Phase;

    #[test]
    fn churn_visits_every_client_evenly_and_stays_in_the_load() {
        let mut config = LoadConfig::new(vec!["ws://x".into()], Target::Relay, 8);
        config.phases = vec![Phase {
            name: "steady".into(),
            duration: Duration::from_secs(2),
            rate_per_client: 1.0,
            window: 0,
        }];
        config.churn_per_second = 8.0;
        let offsets = churn_offsets(&config);
        assert!(offsets.iter().all(|o| o.len() == 2), "{offsets:?}");
        assert!(offsets.iter().flatten().all(|&ns| ns < 2_000_000_000));
        // Consecutive events hit different rooms (rooms of 4: stride 5).
        assert!(offsets[0][0] < offsets[5][0]);
    }
}
