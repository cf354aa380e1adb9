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
//!
//! Where things are: `join.rs` (admission and the welcome), `rooms.rs` (the other
//! `RoomRegistry` operations), `inbox.rs` (reading this relay's inbox), `heartbeat.rs`
//! (registration, retried leaves, sweeping stopped relays), `scripts.rs` and `lua/` (the
//! scripts).

mod heartbeat;
mod inbox;
mod join;
mod rooms;
mod scripts;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisError};
use meshmeet_protocol::{LeaveReason, MediaMode, PeerId, PeerInfo, RoomName, ServerMsg, Topology};
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tracing::{debug, error, info, warn};

use self::scripts::Scripts;
use super::{new_peer_id, Mailbox, Membership};
use crate::error::{ConfigError, RelayError};

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

/// A duration in whole milliseconds, for a script.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// How far `at` is from now, in milliseconds (negative in the past): scripts add it to
/// Redis's clock, so every relay measures the topology's waits on that one clock.
fn offset_ms(at: Instant) -> i64 {
    let now = Instant::now();
    let (later, sign) = match at.checked_duration_since(now) {
        Some(ahead) => (ahead, 1),
        None => (now.saturating_duration_since(at), -1),
    };
    sign * i64::try_from(later.as_millis()).unwrap_or(i64::MAX)
}

/// A topology as the scripts give it: mode (`mesh`/`sfu`) and epoch.
fn parse_topology(mode: &str, epoch: &str) -> Option<Topology> {
    let mode = match mode {
        "mesh" => MediaMode::Mesh,
        "sfu" => MediaMode::Sfu,
        _ => return None,
    };
    Some(Topology {
        mode,
        epoch: epoch.parse().ok()?,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, RelayError> {
    serde_json::to_string(value).map_err(|err| {
        error!(%err, "could not serialise for Redis");
        RelayError::Internal
    })
}

impl Inner {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
