//! The room registry shared by several relays through one Redis: rooms, rosters and
//! passwords live in Redis, every change is one Lua script (so limits hold across relays),
//! and messages for a peer connected to another relay reach it through that relay's inbox
//! stream.
//!
//! Keys, under a prefix `P` (`--redis-key-prefix`, default `meshmeet`):
//!
//! | key | type | what |
//! |---|---|---|
//! | `P:rooms` | set | names of the rooms with at least one participant (`--max-rooms` counts these) |
//! | `P:room:<room>:peers` | hash | peer id → `<relay id> <join seq> <PeerInfo JSON>`; its length is the room size |
//! | `P:room:<room>:password` | string | the first joiner's password, if it gave one |
//! | `P:room:<room>:host` | string | the host's peer id |
//! | `P:room:<room>:locked` | string | exists while the host has locked the room |
//! | `P:room:<room>:removed` | set | identities of the participants the host removed |
//! | `P:room:<room>:identities` | hash | peer id → identity, for those that have one |
//! | `P:seq` | counter | join order, for the roster |
//! | `P:instances` | set | ids of the relays that may still have peers |
//! | `P:instance:<relay>` | string, expires | the relay's heartbeat: refreshed every quarter of `--redis-instance-ttl` |
//! | `P:instance:<relay>:peers` | hash | peer id → room, for everyone connected to that relay |
//! | `P:instance:<relay>:inbox` | stream | `<peer>[,<peer>…]\n<ServerMsg JSON>` for that relay's peers |
//!
//! Delivery: a script that sends (`send_to`, `broadcast`, presence) appends one entry per
//! target relay to that relay's inbox, in the same atomic step as the membership check. Each
//! relay reads its own inbox in order with `XREAD`, so two peers' messages keep their order
//! whichever relays they are on, and a reader that reconnects resumes where it stopped.
//!
//! Expiry: a relay that stops refreshing its heartbeat key is dead once the key expires.
//! Every relay looks for dead relays every quarter of the expiry and removes their peers
//! (`peer_left`, reason `timed_out`) — with scripts that first check the relay is still dead,
//! so two sweepers, or a relay coming back, cannot remove anyone twice or wrongly. Joins check
//! the joining relay's heartbeat key in the same script, so no peer is ever added under a
//! dead relay. A relay that finds its own key gone (Redis restarted or was unreachable longer
//! than the expiry) disconnects its clients, which rejoin, and registers again.
//!
//! Redis Cluster is not supported: the scripts compute the inbox keys of the relays they
//! deliver to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::streams::StreamReadReply;
use ::redis::{AsyncConnectionConfig, Client, RedisError, Script, Value};
use meshmeet_protocol::{LeaveReason, PeerId, PeerInfo, RoomName, ServerMsg, PROTOCOL_VERSION};
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::MissedTickBehavior;
use tracing::{debug, error, info, warn};

use super::{
    new_peer_id, HostAction, JoinRequest, Mailbox, Membership, PeerChange, RegistryStats,
    RoomRegistry,
};
use crate::config::Config;
use crate::error::{ConfigError, RelayError};

/// Entries an inbox keeps at most (approximately). Its reader trims what it has read, so
/// this only bounds the inbox of a relay that stopped reading (until it is swept).
const INBOX_MAX_ENTRIES: u32 = 10_000;
/// Entries read from the inbox at once.
const INBOX_READ_BATCH: u32 = 512;
/// How long one `XREAD` waits for news before it is sent again. Finite, so a connection that
/// died silently is noticed.
const INBOX_BLOCK_MS: u64 = 1_000;
/// Connecting to Redis gives up after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// A command without an answer after this fails (the scripts take microseconds).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// First and longest wait between attempts to reconnect the inbox reader.
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(100);
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(2);
/// Reconnection attempts the command connection makes per failed command (with
/// exponential backoff up to [`RECONNECT_MAX_DELAY`]); the next command tries again.
const COMMAND_RECONNECT_ATTEMPTS: usize = 2;
/// How long `/readyz` waits for Redis to answer a PING.
const READY_PING_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a join waits for this relay's first registration (right after start).
const JOIN_REGISTRATION_WAIT: Duration = Duration::from_secs(2);

/// What the Redis registry needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisOptions {
    /// `redis://[:password@]host:port[/db]`.
    pub url: String,
    /// Prefix of every key.
    pub key_prefix: String,
    /// How long the relay's heartbeat key lives without a refresh.
    pub instance_ttl: Duration,
    /// Most rooms open at once, across all relays.
    pub max_rooms: usize,
    /// Most participants in one room, across all relays.
    pub max_participants: u32,
}

impl RedisOptions {
    /// The options `config` asks for, if it names a Redis.
    pub fn from_config(config: &Config) -> Option<RedisOptions> {
        Some(RedisOptions {
            url: config.redis_url.clone()?,
            key_prefix: config.redis_key_prefix.clone(),
            instance_ttl: config.redis_instance_ttl,
            max_rooms: config.max_rooms,
            max_participants: config.max_participants,
        })
    }
}

/// `url` with its password (if any) replaced by `***`, for logs and error messages.
pub fn redacted_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
}

/// Rooms shared by every relay using the same Redis and key prefix.
///
/// Construct it inside a Tokio runtime: it starts two tasks, the heartbeat (which also sweeps
/// dead relays) and the inbox reader, and stops them when dropped. It connects lazily and
/// keeps reconnecting with backoff, so a relay starts, and reports not ready on `/readyz`,
/// while Redis is unreachable.
#[derive(Debug)]
pub struct RedisRegistry {
    inner: Arc<Inner>,
    tasks: Vec<AbortHandle>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    commands: ConnectionManager,
    prefix: String,
    /// This relay's id in Redis: random, new for every registry.
    instance: String,
    instance_ttl: Duration,
    max_rooms: usize,
    max_participants: u32,
    scripts: Scripts,
    /// This relay's participants: the only place their mailboxes are.
    local: Mutex<HashMap<PeerId, LocalPeer>>,
    /// Whether this relay's heartbeat key is believed to exist.
    registered: watch::Sender<bool>,
    /// Whether the last heartbeat reached Redis.
    redis_reachable: AtomicBool,
    /// Whether the inbox reader is connected.
    reader_connected: AtomicBool,
    /// The last Redis error, for `/readyz`.
    last_error: Mutex<String>,
    /// Leaves that could not reach Redis, retried by the heartbeat.
    failed_leaves: Mutex<Vec<(RoomName, PeerId, LeaveReason)>>,
}

#[derive(Debug)]
struct LocalPeer {
    room: RoomName,
    /// This relay is the only writer of its own peers' entries, so this copy is current.
    info: PeerInfo,
    mailbox: Mailbox,
    /// Messages that arrived between the join script and the welcome: the welcome goes
    /// first, so these wait.
    early: Option<Vec<ServerMsg>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data consistent, so a panic elsewhere does not
    // make it unusable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RedisRegistry {
    /// A registry on the Redis at `options.url`; fails only if the URL is not one.
    pub fn connect(options: RedisOptions) -> Result<RedisRegistry, ConfigError> {
        let shown = redacted_url(&options.url);
        let client = Client::open(options.url.as_str())
            .map_err(|err| ConfigError::Invalid(format!("--redis-url {shown}: {err}")))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(COMMAND_RECONNECT_ATTEMPTS)
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(RECONNECT_MAX_DELAY);
        let commands = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
            .map_err(|err| ConfigError::Invalid(format!("--redis-url {shown}: {err}")))?;
        let instance = new_instance_id()
            .map_err(|_| ConfigError::Invalid("no randomness for the relay's id".into()))?;
        let inner = Arc::new(Inner {
            client,
            commands,
            prefix: options.key_prefix,
            instance,
            instance_ttl: options.instance_ttl,
            max_rooms: options.max_rooms,
            max_participants: options.max_participants,
            scripts: Scripts::new(),
            local: Mutex::new(HashMap::new()),
            registered: watch::Sender::new(false),
            redis_reachable: AtomicBool::new(false),
            reader_connected: AtomicBool::new(false),
            last_error: Mutex::new("not connected yet".into()),
            failed_leaves: Mutex::new(Vec::new()),
        });
        info!(
            redis = %shown,
            relay = %inner.instance,
            prefix = %inner.prefix,
            expiry = ?inner.instance_ttl,
            "rooms are shared through Redis"
        );
        let tasks = vec![
            tokio::spawn(Arc::clone(&inner).maintain()).abort_handle(),
            tokio::spawn(Arc::clone(&inner).read_inbox()).abort_handle(),
        ];
        Ok(RedisRegistry { inner, tasks })
    }

    /// This relay's id in Redis.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance
    }
}

impl Drop for RedisRegistry {
    fn drop(&mut self) {
        // The heartbeat stops with the tasks: the other relays remove whoever is still
        // registered here once the key expires.
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn new_instance_id() -> Result<String, RelayError> {
    // 64 bits are plenty to tell a few relays apart; a peer id is 128.
    new_peer_id().map(|id| id.as_str()[..16].to_owned())
}

/// Why a Redis operation failed, logged once per outage.
fn unavailable(inner: &Inner, what: &str, err: &RedisError) -> RelayError {
    inner.note_error(what, err);
    RelayError::Unavailable
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, RelayError> {
    serde_json::to_string(value).map_err(|err| {
        error!(%err, "could not serialise for Redis");
        RelayError::Internal
    })
}

impl RoomRegistry for RedisRegistry {
    async fn join(&self, request: JoinRequest) -> Result<Membership, RelayError> {
        let inner = &*self.inner;
        inner.wait_registered(JOIN_REGISTRATION_WAIT).await;
        let peer_id = new_peer_id()?;
        let JoinRequest {
            room,
            name,
            media,
            password,
            vouched,
            identity,
            mailbox,
            welcome,
        } = request;
        let password = password.filter(|p| !p.is_empty()).unwrap_or_default();
        let info = PeerInfo {
            id: peer_id.clone(),
            name,
            media,
        };
        let info_json = to_json(&info)?;
        let joined_json = to_json(&ServerMsg::PeerJoined { peer: info.clone() })?;

        // Registered before the script runs, so messages sent to the newcomer the moment the
        // others learn about it are kept for after its welcome.
        lock(&inner.local).insert(
            peer_id.clone(),
            LocalPeer {
                room: room.clone(),
                info,
                mailbox,
                early: Some(Vec::new()),
            },
        );
        // Until the welcome is out, any way out of here (an error, a refusal, this future
        // being dropped) undoes the local entry, and the Redis one where it may exist.
        let mut pending = PendingJoin {
            inner,
            room: room.clone(),
            peer: peer_id.clone(),
            state: Pending::MayBeInRedis,
        };
        let reply: Result<Vec<String>, RedisError> = inner
            .scripts
            .join
            .arg(&inner.prefix)
            .arg(room.as_str())
            .arg(peer_id.as_str())
            .arg(&inner.instance)
            .arg(&password)
            .arg(inner.max_participants)
            .arg(inner.max_rooms)
            .arg(&info_json)
            .arg(&joined_json)
            .arg(if vouched { "1" } else { "0" })
            .arg(identity.as_deref().unwrap_or(""))
            .invoke_async(&mut inner.commands.clone())
            .await;
        // (The script may have run before the connection failed: the guard removes the peer.)
        let reply = reply.map_err(|err| unavailable(inner, "joining a room", &err))?;
        let (host, roster) = match reply.as_slice() {
            [status, host, roster @ ..] if status == "ok" => (host, roster),
            refusal => {
                pending.state = Pending::NotInRedis;
                return Err(match refusal.first().map(String::as_str) {
                    Some("room_full") => RelayError::RoomFull {
                        max: inner.max_participants,
                    },
                    Some("too_many_rooms") => RelayError::TooManyRooms,
                    Some("wrong_password") => RelayError::WrongPassword,
                    Some("removed") => RelayError::Removed,
                    Some("room_locked") => RelayError::RoomLocked,
                    Some("unregistered") => {
                        inner.note_problem("this relay is not registered in Redis yet");
                        RelayError::Unavailable
                    }
                    other => {
                        error!(status = ?other, "unexpected answer of the join script");
                        RelayError::Internal
                    }
                });
            }
        };
        let mut roster: Vec<(u64, PeerInfo)> = roster
            .iter()
            .filter_map(|record| match parse_record(record) {
                Some((_, seq, info)) => Some((seq, info)),
                None => {
                    error!(%record, room = %room, "unreadable peer record in Redis; left out of a roster");
                    None
                }
            })
            .collect();
        roster.sort_by_key(|(seq, _)| *seq);

        let mut local = lock(&inner.local);
        // Gone if this relay lost its registration while the script ran: the guard undoes it.
        let entry = local.get_mut(&peer_id).ok_or(RelayError::Unavailable)?;
        entry.mailbox.deliver(ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            peer_id: peer_id.clone(),
            room: room.clone(),
            roster: roster.into_iter().map(|(_, info)| info).collect(),
            ice_servers: welcome.ice_servers,
            ice_transport_policy: welcome.ice_transport_policy,
            limits: welcome.limits,
            session: welcome.session,
            resume_grace_ms: welcome.resume_grace_ms,
            host: (!host.is_empty()).then(|| PeerId(host.clone())),
            // A locked room admits nobody, so a room just entered is never locked.
            locked: false,
        });
        for msg in entry.early.take().unwrap_or_default() {
            entry.mailbox.deliver(msg);
        }
        drop(local);
        pending.state = Pending::Joined;
        Ok(Membership::new(room, peer_id))
    }

    async fn leave(&self, member: &Membership, reason: LeaveReason) {
        let inner = &*self.inner;
        lock(&inner.local).remove(member.peer_id());
        if let Err(err) = inner
            .leave_in_redis(member.room(), member.peer_id(), reason, None)
            .await
        {
            inner.note_error("leaving a room", &err);
            inner.queue_leave(member.room().clone(), member.peer_id().clone(), reason);
        }
    }

    async fn update(&self, member: &Membership, change: PeerChange) -> Result<(), RelayError> {
        let inner = &*self.inner;
        let mut info = lock(&inner.local)
            .get(member.peer_id())
            .map(|peer| peer.info.clone())
            .ok_or(RelayError::NotJoined)?;
        match change {
            PeerChange::Media(media) => info.media = media,
            PeerChange::Name(name) => info.name = name,
        }
        let info_json = to_json(&info)?;
        let msg = to_json(&ServerMsg::PeerUpdated { peer: info.clone() })?;
        let updated: i64 = inner
            .scripts
            .update
            .arg(&inner.prefix)
            .arg(member.room().as_str())
            .arg(member.peer_id().as_str())
            .arg(&info_json)
            .arg(&msg)
            .invoke_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "updating a peer", &err))?;
        if updated == 0 {
            return Err(RelayError::NotJoined);
        }
        if let Some(peer) = lock(&inner.local).get_mut(member.peer_id()) {
            peer.info = info;
        }
        Ok(())
    }

    async fn send_to(
        &self,
        member: &Membership,
        to: &PeerId,
        msg: ServerMsg,
    ) -> Result<(), RelayError> {
        let inner = &*self.inner;
        inner.check_local(member)?;
        let msg = to_json(&msg)?;
        let status: String = inner
            .scripts
            .send_to
            .arg(&inner.prefix)
            .arg(member.room().as_str())
            .arg(member.peer_id().as_str())
            .arg(to.as_str())
            .arg(&msg)
            .invoke_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "relaying a message", &err))?;
        script_status(&status, to)
    }

    async fn broadcast(&self, member: &Membership, msg: ServerMsg) -> Result<(), RelayError> {
        let inner = &*self.inner;
        inner.check_local(member)?;
        let msg = to_json(&msg)?;
        let status: String = inner
            .scripts
            .broadcast
            .arg(&inner.prefix)
            .arg(member.room().as_str())
            .arg(member.peer_id().as_str())
            .arg(&msg)
            .invoke_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "broadcasting a message", &err))?;
        script_status(&status, member.peer_id())
    }

    async fn host_action(&self, member: &Membership, action: HostAction) -> Result<(), RelayError> {
        let inner = &*self.inner;
        inner.check_local(member)?;
        let (name, target) = match &action {
            HostAction::Lock(locked) => ("lock", if *locked { "1" } else { "0" }),
            HostAction::Remove(peer) => ("remove", peer.as_str()),
            HostAction::AskToMute(peer) => ("mute", peer.as_str()),
            HostAction::HandOver(peer) => ("hand_over", peer.as_str()),
            HostAction::EndMeeting => ("end", ""),
        };
        let status: String = inner
            .scripts
            .host
            .arg(&inner.prefix)
            .arg(member.room().as_str())
            .arg(member.peer_id().as_str())
            .arg(name)
            .arg(target)
            .invoke_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "a host action", &err))?;
        match status.as_str() {
            "not_host" => Err(RelayError::NotHost),
            _ => script_status(&status, &PeerId(target.to_owned())),
        }
    }

    async fn stats(&self) -> RegistryStats {
        let inner = &*self.inner;
        let counts: Result<(usize, usize), RedisError> = inner
            .scripts
            .stats
            .arg(&inner.prefix)
            .invoke_async(&mut inner.commands.clone())
            .await;
        match counts {
            Ok((rooms, peers)) => RegistryStats { rooms, peers },
            Err(err) => {
                inner.note_error("counting rooms", &err);
                RegistryStats::default()
            }
        }
    }

    async fn ready(&self) -> Result<(), String> {
        let inner = &*self.inner;
        let reason = || lock(&inner.last_error).clone();
        if !*inner.registered.borrow() || !inner.redis_reachable.load(Ordering::Acquire) {
            return Err(format!("not registered in Redis: {}", reason()));
        }
        if !inner.reader_connected.load(Ordering::Acquire) {
            return Err(format!("not reading its Redis inbox: {}", reason()));
        }
        let mut connection = inner.commands.clone();
        let ping = ::redis::cmd("PING");
        match tokio::time::timeout(
            READY_PING_TIMEOUT,
            ping.query_async::<String>(&mut connection),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(format!("Redis does not answer: {err}")),
            Err(_) => Err(format!(
                "Redis does not answer within {READY_PING_TIMEOUT:?}"
            )),
        }
    }
}

/// Undoes a join that did not finish, whatever ended it.
struct PendingJoin<'a> {
    inner: &'a Inner,
    room: RoomName,
    peer: PeerId,
    state: Pending,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// The join script may have added the peer.
    MayBeInRedis,
    /// The join script refused it.
    NotInRedis,
    /// Welcomed: nothing to undo.
    Joined,
}

impl Drop for PendingJoin<'_> {
    fn drop(&mut self) {
        if self.state == Pending::Joined {
            return;
        }
        lock(&self.inner.local).remove(&self.peer);
        if self.state == Pending::MayBeInRedis {
            // Retried by the heartbeat; a no-op if the script never ran.
            self.inner.queue_leave(
                self.room.clone(),
                self.peer.clone(),
                LeaveReason::Disconnected,
            );
        }
    }
}

fn script_status(status: &str, peer: &PeerId) -> Result<(), RelayError> {
    match status {
        "ok" => Ok(()),
        "not_joined" => Err(RelayError::NotJoined),
        "unknown_peer" => Err(RelayError::UnknownPeer(peer.to_string())),
        other => {
            error!(status = other, "unexpected answer of a delivery script");
            Err(RelayError::Internal)
        }
    }
}

/// `<relay> <seq> <PeerInfo JSON>` → its parts.
fn parse_record(record: &str) -> Option<(&str, u64, PeerInfo)> {
    let (instance, rest) = record.split_once(' ')?;
    let (seq, json) = rest.split_once(' ')?;
    Some((
        instance,
        seq.parse().ok()?,
        serde_json::from_str(json).ok()?,
    ))
}

/// `<peer>[,<peer>…]\n<ServerMsg JSON>` → its parts.
fn parse_envelope(text: &str) -> Option<(impl Iterator<Item = &str>, ServerMsg)> {
    let (targets, json) = text.split_once('\n')?;
    let msg = serde_json::from_str(json).ok()?;
    Some((targets.split(','), msg))
}

impl Inner {
    fn inbox_key(&self) -> String {
        format!("{}:instance:{}:inbox", self.prefix, self.instance)
    }

    fn check_local(&self, member: &Membership) -> Result<(), RelayError> {
        let here = lock(&self.local)
            .get(member.peer_id())
            .is_some_and(|peer| &peer.room == member.room());
        if here {
            Ok(())
        } else {
            Err(RelayError::NotJoined)
        }
    }

    /// Logs a Redis failure: a warning for the first of an outage, debug for the rest.
    fn note_error(&self, what: &str, err: &RedisError) {
        let first = self.redis_reachable.swap(false, Ordering::AcqRel);
        *lock(&self.last_error) = format!("{what}: {err}");
        if first {
            warn!(%err, "Redis failed while {what}; retrying with backoff");
        } else {
            debug!(%err, "Redis failed while {what}");
        }
    }

    fn note_problem(&self, problem: &str) {
        *lock(&self.last_error) = problem.to_owned();
    }

    fn queue_leave(&self, room: RoomName, peer: PeerId, reason: LeaveReason) {
        lock(&self.failed_leaves).push((room, peer, reason));
    }

    async fn wait_registered(&self, limit: Duration) {
        let mut registered = self.registered.subscribe();
        let _ = tokio::time::timeout(limit, registered.wait_for(|r| *r)).await;
    }

    /// Removes `peer` from `room` and tells the others. With `dead_relay`, only if that
    /// relay's heartbeat key is gone and the peer is still its (the sweeper's guard).
    async fn leave_in_redis(
        &self,
        room: &RoomName,
        peer: &PeerId,
        reason: LeaveReason,
        dead_relay: Option<&str>,
    ) -> Result<bool, RedisError> {
        let msg = serde_json::to_string(&ServerMsg::PeerLeft {
            peer_id: peer.clone(),
            reason,
        })
        .unwrap_or_default();
        let removed: i64 = self
            .scripts
            .leave
            .arg(&self.prefix)
            .arg(room.as_str())
            .arg(peer.as_str())
            .arg(&msg)
            .arg(dead_relay.unwrap_or(""))
            .invoke_async(&mut self.commands.clone())
            .await?;
        Ok(removed == 1)
    }

    /// The heartbeat, every quarter of the expiry: keeps this relay registered, retries
    /// leaves that failed, and removes the peers of relays that stopped.
    async fn maintain(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.instance_ttl / 4);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = self.heartbeat().await {
                self.note_error("sending the heartbeat", &err);
                continue;
            }
            if let Err(err) = self.retry_leaves().await {
                self.note_error("retrying leaves", &err);
                continue;
            }
            if let Err(err) = self.sweep_dead_relays().await {
                self.note_error("removing the peers of stopped relays", &err);
            }
        }
    }

    async fn heartbeat(&self) -> Result<(), RedisError> {
        let ttl_ms = u64::try_from(self.instance_ttl.as_millis()).unwrap_or(u64::MAX);
        let value = format!("pid {}", std::process::id());
        let alive: i64 = self
            .scripts
            .heartbeat
            .arg(&self.prefix)
            .arg(&self.instance)
            .arg(ttl_ms)
            .arg(&value)
            .invoke_async(&mut self.commands.clone())
            .await?;
        if alive == 0 {
            self.register_again(ttl_ms, &value).await?;
        }
        if !self.redis_reachable.swap(true, Ordering::AcqRel) {
            info!(relay = %self.instance, "Redis reachable; this relay serves rooms");
        }
        Ok(())
    }

    /// This relay has no heartbeat key: it is starting, or it was given up for dead (Redis
    /// restarted, or could not be reached for longer than the expiry) and its peers are, or
    /// are about to be, removed from their rooms. Its clients are disconnected so they
    /// rejoin; then it registers again.
    async fn register_again(&self, ttl_ms: u64, value: &str) -> Result<(), RedisError> {
        let was_registered = self.registered.send_replace(false);
        let evicted: Vec<LocalPeer> = lock(&self.local).drain().map(|(_, peer)| peer).collect();
        if was_registered {
            warn!(
                relay = %self.instance,
                peers = evicted.len(),
                "this relay's registration in Redis was lost (Redis restarted, or was unreachable \
                 longer than the expiry); disconnecting its clients so they rejoin"
            );
        }
        for peer in &evicted {
            peer.mailbox.disconnect();
        }
        // Whatever is left of the old registration goes first, so the new one starts empty
        // (and leaves still waiting to be retried are covered by it).
        self.sweep(&self.instance).await?;
        lock(&self.failed_leaves).clear();
        let _: i64 = self
            .scripts
            .register
            .arg(&self.prefix)
            .arg(&self.instance)
            .arg(ttl_ms)
            .arg(value)
            .invoke_async(&mut self.commands.clone())
            .await?;
        self.registered.send_replace(true);
        Ok(())
    }

    async fn retry_leaves(&self) -> Result<(), RedisError> {
        let pending = std::mem::take(&mut *lock(&self.failed_leaves));
        let mut pending = pending.into_iter();
        while let Some((room, peer, reason)) = pending.next() {
            if let Err(err) = self.leave_in_redis(&room, &peer, reason, None).await {
                let mut failed = lock(&self.failed_leaves);
                failed.push((room, peer, reason));
                failed.extend(pending);
                return Err(err);
            }
        }
        Ok(())
    }

    async fn sweep_dead_relays(&self) -> Result<(), RedisError> {
        let dead: Vec<String> = self
            .scripts
            .dead_instances
            .arg(&self.prefix)
            .invoke_async(&mut self.commands.clone())
            .await?;
        for relay in dead.iter().filter(|relay| **relay != self.instance) {
            self.sweep(relay).await?;
        }
        Ok(())
    }

    /// Removes every peer of a relay whose heartbeat key is gone, then the relay itself.
    /// Safe to run on several relays at once, and against a relay that comes back.
    async fn sweep(&self, relay: &str) -> Result<(), RedisError> {
        let peers_key = format!("{}:instance:{relay}:peers", self.prefix);
        let peers: Vec<(String, String)> = ::redis::cmd("HGETALL")
            .arg(&peers_key)
            .query_async(&mut self.commands.clone())
            .await?;
        let mut removed = 0usize;
        for (peer, room) in peers {
            let (peer, room) = (PeerId(peer), RoomName(room));
            if self
                .leave_in_redis(&room, &peer, LeaveReason::TimedOut, Some(relay))
                .await?
            {
                removed += 1;
            }
        }
        let _: i64 = self
            .scripts
            .forget_instance
            .arg(&self.prefix)
            .arg(relay)
            .invoke_async(&mut self.commands.clone())
            .await?;
        if removed > 0 {
            info!(
                stopped = relay,
                removed, "removed the peers of a relay that stopped sending heartbeats"
            );
        }
        Ok(())
    }

    /// Reads this relay's inbox for ever, reconnecting with backoff, and hands each message
    /// to the local mailboxes it names.
    async fn read_inbox(self: Arc<Self>) {
        let key = self.inbox_key();
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(
                Duration::from_millis(INBOX_BLOCK_MS) + RESPONSE_TIMEOUT,
            ));
        // The inbox is new with this relay's id: everything in it is for us.
        let mut last_id = "0-0".to_owned();
        let mut delay = RECONNECT_MIN_DELAY;
        loop {
            match self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(mut connection) => {
                    self.reader_connected.store(true, Ordering::Release);
                    loop {
                        let read: Result<Option<StreamReadReply>, RedisError> =
                            ::redis::cmd("XREAD")
                                .arg("COUNT")
                                .arg(INBOX_READ_BATCH)
                                .arg("BLOCK")
                                .arg(INBOX_BLOCK_MS)
                                .arg("STREAMS")
                                .arg(&key)
                                .arg(&last_id)
                                .query_async(&mut connection)
                                .await;
                        match read {
                            Ok(reply) => {
                                delay = RECONNECT_MIN_DELAY;
                                let mut read_any = false;
                                for stream in reply.map(|r| r.keys).unwrap_or_default() {
                                    for entry in stream.ids {
                                        self.dispatch(entry.map.get("m"));
                                        last_id = entry.id;
                                        read_any = true;
                                    }
                                }
                                // What was read is no longer needed (a signal can hold a 64 KiB
                                // SDP): the inbox stays near empty while this relay keeps up.
                                if read_any {
                                    let trimmed: Result<i64, RedisError> = ::redis::cmd("XTRIM")
                                        .arg(&key)
                                        .arg("MINID")
                                        .arg(&last_id)
                                        .query_async(&mut connection)
                                        .await;
                                    if let Err(err) = trimmed {
                                        self.note_error("trimming the inbox", &err);
                                        break;
                                    }
                                }
                            }
                            Err(err) => {
                                self.note_error("reading the inbox", &err);
                                break;
                            }
                        }
                    }
                }
                Err(err) => self.note_error("connecting the inbox reader", &err),
            }
            self.reader_connected.store(false, Ordering::Release);
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RECONNECT_MAX_DELAY);
        }
    }

    fn dispatch(&self, field: Option<&Value>) {
        let text = field.and_then(|value| ::redis::from_redis_value::<String>(value.clone()).ok());
        let Some((targets, msg)) = text.as_deref().and_then(parse_envelope) else {
            error!(entry = ?field, "unreadable entry in this relay's Redis inbox");
            return;
        };
        let mut local = lock(&self.local);
        for target in targets {
            // Not here any more: it left or was disconnected after the message was sent.
            let Some(peer) = local.get_mut(&PeerId(target.to_owned())) else {
                continue;
            };
            match &mut peer.early {
                Some(early) => early.push(msg.clone()),
                None => peer.mailbox.deliver(msg.clone()),
            }
        }
    }
}

/// The Lua scripts, each one atomic step on the shared state.
#[derive(Debug)]
struct Scripts {
    join: Script,
    leave: Script,
    update: Script,
    send_to: Script,
    broadcast: Script,
    stats: Script,
    heartbeat: Script,
    register: Script,
    dead_instances: Script,
    forget_instance: Script,
    host: Script,
}

impl Scripts {
    fn new() -> Scripts {
        let prelude = LUA_PRELUDE.replace("INBOX_MAX_ENTRIES", &INBOX_MAX_ENTRIES.to_string());
        let script = |body: &str| Script::new(&format!("{prelude}{body}"));
        Scripts {
            join: script(LUA_JOIN),
            leave: script(LUA_LEAVE),
            update: script(LUA_UPDATE),
            send_to: script(LUA_SEND_TO),
            broadcast: script(LUA_BROADCAST),
            stats: script(LUA_STATS),
            heartbeat: script(LUA_HEARTBEAT),
            register: script(LUA_REGISTER),
            dead_instances: script(LUA_DEAD_INSTANCES),
            forget_instance: script(LUA_FORGET_INSTANCE),
            host: script(LUA_HOST),
        }
    }
}

/// Shared by every script: ARGV[1] is the key prefix.
const LUA_PRELUDE: &str = r#"
local p = ARGV[1]
local function room_peers(room) return p .. ':room:' .. room .. ':peers' end
local function room_password(room) return p .. ':room:' .. room .. ':password' end
local function room_host(room) return p .. ':room:' .. room .. ':host' end
local function room_locked(room) return p .. ':room:' .. room .. ':locked' end
local function room_removed(room) return p .. ':room:' .. room .. ':removed' end
local function room_identities(room) return p .. ':room:' .. room .. ':identities' end
-- Everything about a room but its roster.
local function forget_room(room)
  redis.call('DEL', room_password(room), room_host(room), room_locked(room), room_removed(room),
    room_identities(room))
  redis.call('SREM', p .. ':rooms', room)
end
local function instance_key(id) return p .. ':instance:' .. id end
local function instance_peers(id) return p .. ':instance:' .. id .. ':peers' end
local function inbox(id) return p .. ':instance:' .. id .. ':inbox' end
local function owner_of(record) return string.match(record, '^(%S+)') end
local function post(id, targets, msg)
  redis.call('XADD', inbox(id), 'MAXLEN', '~', INBOX_MAX_ENTRIES, '*', 'm', targets .. '\n' .. msg)
end
-- msg to everyone in the room but `except`: one inbox entry per relay.
local function deliver(room, except, msg)
  local all = redis.call('HGETALL', room_peers(room))
  local targets, order = {}, {}
  for i = 1, #all, 2 do
    if all[i] ~= except then
      local id = owner_of(all[i + 1])
      if targets[id] == nil then
        targets[id] = {}
        order[#order + 1] = id
      end
      table.insert(targets[id], all[i])
    end
  end
  for _, id in ipairs(order) do post(id, table.concat(targets[id], ','), msg) end
end
local function host_changed(room, host)
  deliver(room, '', cjson.encode({type = 'host_changed', peer_id = host}))
end
-- Compares every byte whatever the first difference, like the in-memory registry.
local function same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i))) end
  return diff == 0
end
"#;

/// ARGV: prefix, room, peer, relay, password ('' = none), max participants, max rooms,
/// record JSON, peer_joined JSON, vouched ('1': no password is checked or set), identity
/// ('' = none). Returns {'ok', host, records of the others…} or {refusal}.
const LUA_JOIN: &str = r#"
local room, peer, me, password = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local vouched, identity = ARGV[10] == '1', ARGV[11]
if redis.call('EXISTS', instance_key(me)) == 0 then return {'unregistered'} end
local peers = room_peers(room)
local count = redis.call('HLEN', peers)
if count > 0 then
  local expected = redis.call('GET', room_password(room))
  if expected and not vouched and not same(expected, password) then return {'wrong_password'} end
  if identity ~= '' and redis.call('SISMEMBER', room_removed(room), identity) == 1 then
    return {'removed'}
  end
  if redis.call('EXISTS', room_locked(room)) == 1 then return {'room_locked'} end
  if count >= tonumber(ARGV[6]) then return {'room_full'} end
else
  if redis.call('SCARD', p .. ':rooms') >= tonumber(ARGV[7])
     and redis.call('SISMEMBER', p .. ':rooms', room) == 0 then
    return {'too_many_rooms'}
  end
  forget_room(room)
  if password ~= '' and not vouched then redis.call('SET', room_password(room), password) end
  redis.call('SET', room_host(room), peer)
  redis.call('SADD', p .. ':rooms', room)
end
local roster = redis.call('HVALS', peers)
deliver(room, peer, ARGV[9])
local seq = redis.call('INCR', p .. ':seq')
redis.call('HSET', peers, peer, me .. ' ' .. seq .. ' ' .. ARGV[8])
redis.call('HSET', instance_peers(me), peer, room)
if identity ~= '' then redis.call('HSET', room_identities(room), peer, identity) end
table.insert(roster, 1, redis.call('GET', room_host(room)) or '')
table.insert(roster, 1, 'ok')
return roster
"#;

/// ARGV: prefix, room, peer, peer_left JSON, dead relay ('' = a normal leave). Returns 1 if
/// the peer was removed.
const LUA_LEAVE: &str = r#"
local room, peer, dead = ARGV[2], ARGV[3], ARGV[5]
if dead ~= '' and redis.call('EXISTS', instance_key(dead)) == 1 then return 0 end
local peers = room_peers(room)
local record = redis.call('HGET', peers, peer)
local owner = record and owner_of(record)
if not record or (dead ~= '' and owner ~= dead) then
  if dead ~= '' then redis.call('HDEL', instance_peers(dead), peer) end
  return 0
end
redis.call('HDEL', peers, peer)
redis.call('HDEL', instance_peers(owner), peer)
redis.call('HDEL', room_identities(room), peer)
if redis.call('HLEN', peers) == 0 then
  forget_room(room)
  return 1
end
deliver(room, peer, ARGV[4])
if redis.call('GET', room_host(room)) == peer then
  -- The earliest joiner left becomes host.
  local all = redis.call('HGETALL', peers)
  local next_host, lowest = nil, nil
  for i = 1, #all, 2 do
    local seq = tonumber(string.match(all[i + 1], '^%S+ (%d+) '))
    if seq and (lowest == nil or seq < lowest) then next_host, lowest = all[i], seq end
  end
  if next_host then
    redis.call('SET', room_host(room), next_host)
    host_changed(room, next_host)
  end
end
return 1
"#;

/// ARGV: prefix, room, acting peer, action (lock, remove, mute, hand_over, end), target
/// ('1'/'0' for lock, a peer id, or ''). Returns ok, not_joined, not_host or unknown_peer.
const LUA_HOST: &str = r#"
local room, actor, action, target = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local peers = room_peers(room)
if redis.call('HEXISTS', peers, actor) == 0 then return 'not_joined' end
if redis.call('GET', room_host(room)) ~= actor then return 'not_host' end
if action == 'lock' then
  if target == '1' then redis.call('SET', room_locked(room), '1')
  else redis.call('DEL', room_locked(room)) end
  deliver(room, '', cjson.encode({type = 'lock_changed', locked = target == '1'}))
  return 'ok'
end
if action == 'end' then
  deliver(room, '', '{"type":"meeting_ended"}')
  local all = redis.call('HGETALL', peers)
  for i = 1, #all, 2 do redis.call('HDEL', instance_peers(owner_of(all[i + 1])), all[i]) end
  redis.call('DEL', peers)
  forget_room(room)
  return 'ok'
end
if target == actor then return 'unknown_peer' end
local record = redis.call('HGET', peers, target)
if not record then return 'unknown_peer' end
local owner = owner_of(record)
if action == 'mute' then
  post(owner, target, cjson.encode({type = 'mute_requested', by = actor}))
elseif action == 'hand_over' then
  redis.call('SET', room_host(room), target)
  host_changed(room, target)
elseif action == 'remove' then
  redis.call('HDEL', peers, target)
  redis.call('HDEL', instance_peers(owner), target)
  local identity = redis.call('HGET', room_identities(room), target)
  if identity then
    redis.call('SADD', room_removed(room), identity)
    redis.call('HDEL', room_identities(room), target)
  end
  post(owner, target, '{"type":"removed"}')
  deliver(room, '', cjson.encode({type = 'peer_left', peer_id = target, reason = 'removed'}))
else
  return 'unknown_action'
end
return 'ok'
"#;

/// ARGV: prefix, room, peer, new PeerInfo JSON, peer_updated JSON. Returns 1 if updated.
const LUA_UPDATE: &str = r#"
local peers = room_peers(ARGV[2])
local record = redis.call('HGET', peers, ARGV[3])
if not record then return 0 end
local owner, seq = string.match(record, '^(%S+) (%S+) ')
redis.call('HSET', peers, ARGV[3], owner .. ' ' .. seq .. ' ' .. ARGV[4])
deliver(ARGV[2], ARGV[3], ARGV[5])
return 1
"#;

/// ARGV: prefix, room, from, to, message JSON.
const LUA_SEND_TO: &str = r#"
local peers = room_peers(ARGV[2])
if redis.call('HEXISTS', peers, ARGV[3]) == 0 then return 'not_joined' end
if ARGV[4] == ARGV[3] then return 'unknown_peer' end
local record = redis.call('HGET', peers, ARGV[4])
if not record then return 'unknown_peer' end
post(owner_of(record), ARGV[4], ARGV[5])
return 'ok'
"#;

/// ARGV: prefix, room, from, message JSON.
const LUA_BROADCAST: &str = r#"
if redis.call('HEXISTS', room_peers(ARGV[2]), ARGV[3]) == 0 then return 'not_joined' end
deliver(ARGV[2], ARGV[3], ARGV[4])
return 'ok'
"#;

/// ARGV: prefix. Returns {rooms, peers}.
const LUA_STATS: &str = r#"
local rooms = redis.call('SMEMBERS', p .. ':rooms')
local peers = 0
for _, room in ipairs(rooms) do peers = peers + redis.call('HLEN', room_peers(room)) end
return {#rooms, peers}
"#;

/// ARGV: prefix, relay, ttl ms, value. Returns 0 if the relay is not registered.
const LUA_HEARTBEAT: &str = r#"
if not redis.call('SET', instance_key(ARGV[2]), ARGV[4], 'XX', 'PX', ARGV[3]) then return 0 end
redis.call('SADD', p .. ':instances', ARGV[2])
return 1
"#;

/// ARGV: prefix, relay, ttl ms, value.
const LUA_REGISTER: &str = r#"
redis.call('SET', instance_key(ARGV[2]), ARGV[4], 'PX', ARGV[3])
redis.call('SADD', p .. ':instances', ARGV[2])
return 1
"#;

/// ARGV: prefix. Returns the relays whose heartbeat key is gone.
const LUA_DEAD_INSTANCES: &str = r#"
local dead = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. ':instances')) do
  if redis.call('EXISTS', instance_key(id)) == 0 then dead[#dead + 1] = id end
end
return dead
"#;

/// ARGV: prefix, relay. Forgets a dead relay that has no peers left.
const LUA_FORGET_INSTANCE: &str = r#"
if redis.call('EXISTS', instance_key(ARGV[2])) == 1 then return 0 end
if redis.call('HLEN', instance_peers(ARGV[2])) > 0 then return 0 end
redis.call('DEL', inbox(ARGV[2]))
redis.call('SREM', p .. ':instances', ARGV[2])
return 1
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use meshmeet_protocol::MediaState;

    #[test]
    fn passwords_stay_out_of_logged_urls() {
        assert_eq!(
            redacted_url("redis://:s3cret@db.internal:6379/2"),
            "redis://:***@db.internal:6379/2"
        );
        assert_eq!(
            redacted_url("redis://relay:s3cret@db:6379"),
            "redis://relay:***@db:6379"
        );
        assert_eq!(
            redacted_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(redacted_url("nonsense"), "nonsense");
    }

    #[test]
    fn records_and_envelopes_round_trip() {
        let info = PeerInfo {
            id: PeerId("ab".into()),
            name: "Ana de la Cruz".into(),
            media: MediaState::default(),
        };
        let record = format!("r1 42 {}", serde_json::to_string(&info).expect("json"));
        assert_eq!(parse_record(&record), Some(("r1", 42, info)));
        assert_eq!(parse_record("r1 x {}"), None);

        let msg = ServerMsg::Pong { nonce: 3 };
        let text = format!("a,b\n{}", serde_json::to_string(&msg).expect("json"));
        let (targets, parsed) = parse_envelope(&text).expect("parses");
        assert_eq!(targets.collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(parsed, msg);
        assert!(parse_envelope("no newline").is_none());
    }
}
