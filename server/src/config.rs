//! The relay's configuration: every address, path, limit and timer in one struct, read from
//! flags and `MESHMEET_*` environment variables.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;
use meshmeet_protocol::{validate_room_name, IceTransportPolicy, RoomLimits};
pub use meshmeet_protocol::{
    DEFAULT_MAX_CHAT_CHARS, DEFAULT_MAX_DISPLAY_NAME_CHARS, DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_ROOM_NAME_CHARS,
};

use crate::error::ConfigError;
use crate::registry::RedisOptions;

/// Default address: loopback only, so a relay started by hand is not exposed by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default directory of the built client (Trunk's `dist`).
pub const DEFAULT_DIST: &str = "dist";
/// A full mesh of n peers needs n·(n−1)/2 connections; past 8 the uplinks of ordinary
/// home connections give out.
pub const DEFAULT_MAX_PARTICIPANTS: u32 = 8;
/// Large enough for an SDP offer with many codecs and candidates.
pub const DEFAULT_MAX_MESSAGE_BYTES: u32 = 64 * 1024;
/// Sustained messages per second from one connection.
pub const DEFAULT_MESSAGES_PER_SECOND: u32 = 50;
/// Messages one connection may send at once: trickled ICE candidates come in bursts.
pub const DEFAULT_MESSAGE_BURST: u32 = 100;
/// Most rooms open at once on one relay.
pub const DEFAULT_MAX_ROOMS: usize = 10_000;
/// Most WebSocket connections open at once on one relay.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Refused messages tolerated in a burst before a connection is closed.
pub const DEFAULT_MAX_BAD_MESSAGES: u32 = 20;
/// Messages queued for a client that is not reading before it is disconnected.
pub const DEFAULT_OUTBOUND_QUEUE: usize = 256;
/// How often the relay pings each socket.
pub const DEFAULT_KEEPALIVE_INTERVAL_MS: u64 = 5_000;
/// How long a socket may stay silent (not even a pong) before it is dropped.
pub const DEFAULT_KEEPALIVE_TIMEOUT_MS: u64 = 10_000;
/// Suggested wait before reconnecting after a shutdown (each client gets up to twice this,
/// spread at random so they do not all come back at once).
pub const DEFAULT_RECONNECT_AFTER_MS: u64 = 1_000;
/// How long a participant whose socket closed keeps its place for a `resume`. A killed
/// browser's tile leaves everyone's grid after this, so it stays under 10 s.
pub const DEFAULT_RESUME_GRACE_MS: u64 = 8_000;
/// Default `--mesh-max`: the bench shows a mesh's first frame slowing sharply past four.
pub const DEFAULT_MESH_MAX: u32 = 4;
/// Default `--max-viewers`.
pub const DEFAULT_MAX_VIEWERS: u32 = 200;
/// Default `--mesh-return-delay`, in seconds.
pub const DEFAULT_MESH_RETURN_DELAY_SECS: u64 = 10;
/// Longest wait for sockets to close on shutdown.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 5_000;
/// Longest wait for an HTTP request's complete headers.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// An HTTP connection (not a WebSocket) that moves no byte for this long is closed.
pub const DEFAULT_HTTP_IDLE_TIMEOUT_MS: u64 = 60_000;
/// HTTP connections that have not become WebSockets, open at once.
pub const DEFAULT_MAX_PENDING_CONNECTIONS: usize = 1024;
/// The same, from one address (browsers open about six per site).
pub const DEFAULT_MAX_PENDING_CONNECTIONS_PER_IP: usize = 64;
/// Prefix of every Redis key and stream the relays share.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "meshmeet";
/// How long a relay's registration in Redis lives without a heartbeat. Its peers are
/// removed (`peer_left`, `timed_out`) at most 1.25 times this after it stops.
pub const DEFAULT_REDIS_INSTANCE_TTL_MS: u64 = 10_000;
/// Shortest accepted `--redis-instance-ttl`: heartbeats go out every quarter of it.
pub const MIN_REDIS_INSTANCE_TTL_MS: u64 = 1_000;
/// Lifetime of the TURN credentials minted per participant (`--turn-secret`): longer than
/// most meetings, since a browser keeps using the credentials its allocation was made with.
pub const DEFAULT_TURN_CREDENTIAL_TTL_SECS: u64 = 12 * 3600;
/// Shortest accepted `--turn-credential-ttl` (fresh credentials go out at half of it).
pub const MIN_TURN_CREDENTIAL_TTL_MS: u64 = 2_000;
/// Failed joins (wrong password, bad token) one address may make in a burst.
pub const DEFAULT_MAX_FAILED_JOINS: u32 = 10;
/// The window in which `--max-failed-joins` failures are forgiven again.
pub const DEFAULT_FAILED_JOIN_WINDOW_SECS: u64 = 60;

/// A secret from the command line or environment: compared and used, never printed (its
/// `Debug` is `***`, so a logged configuration does not leak it).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            Err("a secret must not be empty".into())
        } else {
            Ok(Secret(text.to_owned()))
        }
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Secret(text.to_owned())
    }
}

/// A room whose password is set by the operator (`--room-password room:password`) rather
/// than by the first person in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomPassword {
    /// The room name.
    pub room: String,
    /// Its password.
    pub password: Secret,
}

/// How the relay writes its log lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event, for people.
    #[default]
    Text,
    /// One JSON object per line (time, level, target, message and the event's fields, such as
    /// `room` and `peer`), for log collectors.
    Json,
}

/// Everything the relay can be told. Built by clap from flags and environment variables in
/// `main`, or directly (starting from [`Config::default`]) in tests.
#[derive(Clone, Debug, PartialEq, Eq, Parser)]
#[command(
    name = "meshmeet-server",
    version,
    about = "meshmeet relay: WebSocket signalling for full-mesh WebRTC meetings, and the built client",
    long_about = None,
    after_help = "Durations take a unit: 500ms, 5s, 2m, 12h (a bare number is seconds).\n\
                  Logs go to stderr; filter them with MESHMEET_LOG or RUST_LOG (e.g. MESHMEET_LOG=debug).\n\
                  On SIGINT/SIGTERM the relay tells every client to reconnect later, closes the sockets and exits 0."
)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port; the real address is printed on stdout).
    #[arg(long, env = "MESHMEET_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Directory of the built client (index.html, wasm, js, css), served at `/`.
    #[arg(long, env = "MESHMEET_DIST", default_value = DEFAULT_DIST)]
    pub dist: PathBuf,

    /// STUN server URL given to clients for ICE (repeatable, or comma-separated in the
    /// environment variable). None by default: peers on one network need none.
    #[arg(long = "stun-url", env = "MESHMEET_STUN_URLS", value_delimiter = ',', value_parser = parse_stun_url)]
    pub stun_urls: Vec<String>,

    /// Most participants in one room.
    #[arg(long, env = "MESHMEET_MAX_PARTICIPANTS", default_value_t = DEFAULT_MAX_PARTICIPANTS,
          value_parser = clap::value_parser!(u32).range(2..=64))]
    pub max_participants: u32,

    /// Largest WebSocket text message accepted, in bytes. Up to twice this is read and refused
    /// with `too_large`; a larger frame is not read at all and closes the connection.
    #[arg(long, env = "MESHMEET_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES,
          value_parser = clap::value_parser!(u32).range(1024..=16 * 1024 * 1024))]
    pub max_message_bytes: u32,

    /// Sustained messages per second accepted from one connection (token bucket refill rate).
    #[arg(long, env = "MESHMEET_MESSAGES_PER_SECOND", default_value_t = DEFAULT_MESSAGES_PER_SECOND,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub messages_per_second: u32,

    /// Messages one connection may send in a burst (token bucket size).
    #[arg(long, env = "MESHMEET_MESSAGE_BURST", default_value_t = DEFAULT_MESSAGE_BURST,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub message_burst: u32,

    /// Most rooms open at once.
    #[arg(long, env = "MESHMEET_MAX_ROOMS", default_value_t = DEFAULT_MAX_ROOMS)]
    pub max_rooms: usize,

    /// Most WebSocket connections open at once; further upgrades get 503.
    #[arg(long, env = "MESHMEET_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Longest room name, in characters.
    #[arg(long, env = "MESHMEET_MAX_ROOM_NAME_CHARS", default_value_t = DEFAULT_MAX_ROOM_NAME_CHARS)]
    pub max_room_name_chars: usize,

    /// Longest display name, in characters.
    #[arg(long, env = "MESHMEET_MAX_DISPLAY_NAME_CHARS", default_value_t = DEFAULT_MAX_DISPLAY_NAME_CHARS)]
    pub max_display_name_chars: usize,

    /// Longest chat message, in characters.
    #[arg(long, env = "MESHMEET_MAX_CHAT_CHARS", default_value_t = DEFAULT_MAX_CHAT_CHARS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_chat_chars: u32,

    /// Largest file participants may send each other (peer to peer; told to clients), bytes.
    #[arg(long, env = "MESHMEET_MAX_FILE_BYTES", default_value_t = DEFAULT_MAX_FILE_BYTES,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_file_bytes: u64,

    /// Refused messages tolerated in a burst (one more is forgiven each second) before the
    /// relay closes the connection.
    #[arg(long, env = "MESHMEET_MAX_BAD_MESSAGES", default_value_t = DEFAULT_MAX_BAD_MESSAGES,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_bad_messages: u32,

    /// Messages queued for one client; a client that lets this many pile up (it is not
    /// reading) is disconnected instead of growing the relay's memory.
    #[arg(long, env = "MESHMEET_OUTBOUND_QUEUE", default_value_t = DEFAULT_OUTBOUND_QUEUE,
          value_parser = parse_queue_len)]
    pub outbound_queue: usize,

    /// How often the relay sends a WebSocket ping on each connection.
    #[arg(long, env = "MESHMEET_KEEPALIVE_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub keepalive_interval: Duration,

    /// A connection from which no frame (not even a pong) arrives for this long is dropped,
    /// and its room is told it timed out.
    #[arg(long, env = "MESHMEET_KEEPALIVE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub keepalive_timeout: Duration,

    /// Base delay suggested to clients in `shutting_down` before they reconnect; each client
    /// gets a random delay between this and twice this.
    #[arg(long, env = "MESHMEET_RECONNECT_AFTER", default_value = "1s", value_parser = parse_duration)]
    pub reconnect_after: Duration,

    /// How long a participant whose socket closed without `leave` keeps its place (same peer
    /// id, messages held) for a `resume`, before its room is told it left. 0 turns resuming
    /// off.
    #[arg(long, env = "MESHMEET_RESUME_GRACE", default_value = "8s", value_parser = parse_duration)]
    pub resume_grace: Duration,

    /// Longest wait on shutdown for sockets to close before the relay exits anyway.
    #[arg(long, env = "MESHMEET_SHUTDOWN_GRACE", default_value = "5s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// An HTTP request whose headers are not complete after this long is dropped (slow
    /// clients holding connections open).
    #[arg(long, env = "MESHMEET_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,

    /// An HTTP connection that has not become a WebSocket and moves no byte for this long is
    /// closed.
    #[arg(long, env = "MESHMEET_HTTP_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub http_idle_timeout: Duration,

    /// Most HTTP connections that have not become WebSockets open at once; past it, the least
    /// recently active is closed to make room. 0: no limit. Lowered at start to half the
    /// process's file-descriptor limit.
    #[arg(long, env = "MESHMEET_MAX_PENDING_CONNECTIONS", default_value_t = DEFAULT_MAX_PENDING_CONNECTIONS)]
    pub max_pending_connections: usize,

    /// The same limit for one address; a `--trusted-proxy`'s connections count only against
    /// the total. 0: no limit.
    #[arg(long, env = "MESHMEET_MAX_PENDING_CONNECTIONS_PER_IP",
          default_value_t = DEFAULT_MAX_PENDING_CONNECTIONS_PER_IP)]
    pub max_pending_connections_per_ip: usize,

    /// Share rooms with every relay using this Redis (`redis://[:password@]host:port[/db]`),
    /// so several relays can run behind one load balancer. Without it, rooms live in this
    /// process only.
    #[arg(long, env = "MESHMEET_REDIS_URL", value_parser = parse_redis_url)]
    pub redis_url: Option<String>,

    /// Prefix of the relay's Redis keys; relays share rooms only with relays using the same
    /// prefix (and Redis).
    #[arg(long, env = "MESHMEET_REDIS_KEY_PREFIX", default_value = DEFAULT_REDIS_KEY_PREFIX,
          value_parser = parse_key_prefix)]
    pub redis_key_prefix: String,

    /// How long this relay's registration in Redis outlives its last heartbeat (sent every
    /// quarter of this). When a relay dies, the others remove its peers, with `peer_left`
    /// reason `timed_out`, at most 1.25 times this after its last heartbeat.
    #[arg(long, env = "MESHMEET_REDIS_INSTANCE_TTL", default_value = "10s", value_parser = parse_duration)]
    pub redis_instance_ttl: Duration,

    /// Serve HTTPS and WSS with this certificate chain (PEM). Needs --tls-key.
    #[arg(
        long,
        env = "MESHMEET_TLS_CERT",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "MESHMEET_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS and WSS with a certificate generated at start (for trials on a LAN); its
    /// SHA-256 fingerprint is printed on stdout so people can check what their browser shows.
    #[arg(long, env = "MESHMEET_TLS_SELF_SIGNED")]
    pub tls_self_signed: bool,

    /// Extra host name or IP address for the self-signed certificate (repeatable; localhost,
    /// 127.0.0.1, ::1 and the listen address are always in it).
    #[arg(
        long = "tls-self-signed-name",
        env = "MESHMEET_TLS_SELF_SIGNED_NAMES",
        value_delimiter = ','
    )]
    pub tls_self_signed_names: Vec<String>,

    /// Also listen for plain HTTP on this address and redirect every request to HTTPS on the
    /// main address (needs TLS).
    #[arg(long, env = "MESHMEET_HTTP_REDIRECT")]
    pub http_redirect: Option<SocketAddr>,

    /// TURN server URL given to clients (`turn:` or `turns:`, with `?transport=udp|tcp` if
    /// wanted; repeatable, or comma-separated in the environment variable). Needs
    /// --turn-secret or --turn-username/--turn-password.
    #[arg(long = "turn-url", env = "MESHMEET_TURN_URLS", value_delimiter = ',', value_parser = parse_turn_url)]
    pub turn_urls: Vec<String>,

    /// Shared secret of the TURN server's REST API (coturn `use-auth-secret` /
    /// `static-auth-secret`): the relay mints short-lived credentials per participant.
    #[arg(long, env = "MESHMEET_TURN_SECRET", conflicts_with_all = ["turn_username", "turn_password"])]
    pub turn_secret: Option<Secret>,

    /// A fixed TURN username given to every client (with --turn-password).
    #[arg(long, env = "MESHMEET_TURN_USERNAME", requires = "turn_password")]
    pub turn_username: Option<String>,

    /// The fixed TURN password (with --turn-username).
    #[arg(long, env = "MESHMEET_TURN_PASSWORD", requires = "turn_username")]
    pub turn_password: Option<Secret>,

    /// Lifetime of the credentials minted with --turn-secret; fresh ones are sent to every
    /// participant at half of it.
    #[arg(long, env = "MESHMEET_TURN_CREDENTIAL_TTL", default_value = "12h", value_parser = parse_duration)]
    pub turn_credential_ttl: Duration,

    /// Tell every client to use TURN relays only (`iceTransportPolicy: relay`): peers never
    /// learn each other's addresses. Needs --turn-url.
    #[arg(long, env = "MESHMEET_RELAY_ONLY")]
    pub relay_only: bool,

    /// A room whose password the operator sets, as `room:password` (repeatable). Everyone
    /// entering it must give that password; it is never replaced by a first joiner's.
    #[arg(long = "room-password", env = "MESHMEET_ROOM_PASSWORDS", value_delimiter = ',',
          value_parser = parse_room_password)]
    pub room_passwords: Vec<RoomPassword>,

    /// Secret for signed join tokens (HMAC-SHA256, JWT HS256 with `room`, `name`, `exp`):
    /// a valid token admits to its room under its name without the room password.
    #[arg(long, env = "MESHMEET_TOKEN_SECRET")]
    pub token_secret: Option<Secret>,

    /// Admit only joins with a valid token (needs --token-secret).
    #[arg(long, env = "MESHMEET_REQUIRE_TOKEN", requires = "token_secret")]
    pub require_token: bool,

    /// Origin allowed to open the WebSocket, like `https://meet.example.org` (repeatable).
    /// When given, an upgrade with any other Origin, or none, gets 403. Without it every
    /// origin is accepted.
    #[arg(long = "allowed-origin", env = "MESHMEET_ALLOWED_ORIGINS", value_delimiter = ',',
          value_parser = parse_origin)]
    pub allowed_origins: Vec<String>,

    /// Most WebSocket connections open at once from one address (IPv6: one /64); further
    /// upgrades get 429. 0: no limit (people behind one office NAT share an address).
    #[arg(long, env = "MESHMEET_MAX_CONNECTIONS_PER_IP", default_value_t = 0)]
    pub max_connections_per_ip: usize,

    /// Failed joins (wrong password, bad or expired token) one address may make in a burst;
    /// after that every join from it is refused with `too_many_attempts` until the window
    /// forgives some.
    #[arg(long, env = "MESHMEET_MAX_FAILED_JOINS", default_value_t = DEFAULT_MAX_FAILED_JOINS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failed_joins: u32,

    /// The time in which --max-failed-joins failures are forgiven (evenly spread).
    #[arg(long, env = "MESHMEET_FAILED_JOIN_WINDOW", default_value = "1m", value_parser = parse_duration)]
    pub failed_join_window: Duration,

    /// Address of a reverse proxy whose `X-Forwarded-For` is believed (repeatable): the
    /// per-address limits then count the client's address, not the proxy's.
    #[arg(
        long = "trusted-proxy",
        env = "MESHMEET_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpAddr>,

    /// WebSocket API of a Janus the relay may put large rooms on, like `ws://127.0.0.1:8188`
    /// (repeatable). Needs --janus-admin-key. Without it every room is a mesh.
    #[arg(long = "janus-url", env = "MESHMEET_JANUS_URLS", value_delimiter = ',',
          value_parser = parse_janus_url)]
    pub janus_urls: Vec<String>,

    /// The VideoRoom `admin_key` of those Janus instances (see deploy/janus). Prefer the
    /// environment variable: a flag's value shows in `ps`.
    #[arg(long, env = "MESHMEET_JANUS_ADMIN_KEY", hide_env_values = true)]
    pub janus_admin_key: Option<Secret>,

    /// With --janus-url: the most people a room holds as a mesh (media browser to browser);
    /// the join past it moves the room to the SFU.
    #[arg(long, env = "MESHMEET_MESH_MAX", default_value_t = DEFAULT_MESH_MAX)]
    pub mesh_max: u32,

    /// With --janus-url: how long an SFU room must stay at --mesh-max people or fewer before
    /// it returns to the mesh.
    #[arg(long, env = "MESHMEET_MESH_RETURN_DELAY", default_value = "10s", value_parser = parse_duration)]
    pub mesh_return_delay: Duration,

    /// How log lines are written: `text` for people, `json` (one object per line, with each
    /// event's fields such as room and peer) for machines. Secrets, passwords and tokens are
    /// never logged, in either.
    #[arg(long, env = "MESHMEET_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// With --janus-url: the most viewers one live room has on this relay (WHEP); more are
    /// answered 503.
    #[arg(long, env = "MESHMEET_MAX_VIEWERS", default_value_t = DEFAULT_MAX_VIEWERS)]
    pub max_viewers: u32,

    /// With --janus-url: the ffmpeg program that encodes a live for its RTMP addresses and
    /// HLS (a name looked up in PATH, or a path).
    #[arg(long, env = "MESHMEET_FFMPEG", default_value = "ffmpeg")]
    pub ffmpeg: PathBuf,

    /// With --janus-url: where each live's HLS playlist and segments are written while it
    /// runs (a directory per live, removed when it ends). Default: meshmeet-live in the
    /// system's temporary directory.
    #[arg(long, env = "MESHMEET_LIVE_DIR")]
    pub live_dir: Option<PathBuf>,
}

impl Config {
    /// Where the live encoder is and writes (see `--ffmpeg`, `--live-dir`).
    pub fn encoder_settings(&self) -> crate::live::EncoderSettings {
        crate::live::EncoderSettings {
            ffmpeg: self.ffmpeg.clone(),
            dir: self
                .live_dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("meshmeet-live")),
        }
    }

    /// The topology rule, when a media server is configured.
    pub fn topology_rule(&self) -> Option<crate::topology::TopologyRule> {
        (!self.janus_urls.is_empty()).then(|| crate::topology::TopologyRule {
            mesh_max: usize::try_from(self.mesh_max).unwrap_or(usize::MAX),
            return_delay: self.mesh_return_delay,
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            dist: PathBuf::from(DEFAULT_DIST),
            stun_urls: Vec::new(),
            max_participants: DEFAULT_MAX_PARTICIPANTS,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            messages_per_second: DEFAULT_MESSAGES_PER_SECOND,
            message_burst: DEFAULT_MESSAGE_BURST,
            max_rooms: DEFAULT_MAX_ROOMS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_room_name_chars: DEFAULT_MAX_ROOM_NAME_CHARS,
            max_display_name_chars: DEFAULT_MAX_DISPLAY_NAME_CHARS,
            max_chat_chars: DEFAULT_MAX_CHAT_CHARS,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_bad_messages: DEFAULT_MAX_BAD_MESSAGES,
            outbound_queue: DEFAULT_OUTBOUND_QUEUE,
            keepalive_interval: Duration::from_millis(DEFAULT_KEEPALIVE_INTERVAL_MS),
            keepalive_timeout: Duration::from_millis(DEFAULT_KEEPALIVE_TIMEOUT_MS),
            header_read_timeout: Duration::from_millis(DEFAULT_HEADER_READ_TIMEOUT_MS),
            http_idle_timeout: Duration::from_millis(DEFAULT_HTTP_IDLE_TIMEOUT_MS),
            max_pending_connections: DEFAULT_MAX_PENDING_CONNECTIONS,
            max_pending_connections_per_ip: DEFAULT_MAX_PENDING_CONNECTIONS_PER_IP,
            reconnect_after: Duration::from_millis(DEFAULT_RECONNECT_AFTER_MS),
            resume_grace: Duration::from_millis(DEFAULT_RESUME_GRACE_MS),
            shutdown_grace: Duration::from_millis(DEFAULT_SHUTDOWN_GRACE_MS),
            redis_url: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            redis_instance_ttl: Duration::from_millis(DEFAULT_REDIS_INSTANCE_TTL_MS),
            tls_cert: None,
            tls_key: None,
            tls_self_signed: false,
            tls_self_signed_names: Vec::new(),
            http_redirect: None,
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_username: None,
            turn_password: None,
            turn_credential_ttl: Duration::from_secs(DEFAULT_TURN_CREDENTIAL_TTL_SECS),
            relay_only: false,
            room_passwords: Vec::new(),
            token_secret: None,
            require_token: false,
            allowed_origins: Vec::new(),
            max_connections_per_ip: 0,
            max_failed_joins: DEFAULT_MAX_FAILED_JOINS,
            failed_join_window: Duration::from_secs(DEFAULT_FAILED_JOIN_WINDOW_SECS),
            trusted_proxies: Vec::new(),
            janus_urls: Vec::new(),
            janus_admin_key: None,
            mesh_max: DEFAULT_MESH_MAX,
            mesh_return_delay: Duration::from_secs(DEFAULT_MESH_RETURN_DELAY_SECS),
            log_format: LogFormat::Text,
            max_viewers: DEFAULT_MAX_VIEWERS,
            ffmpeg: PathBuf::from("ffmpeg"),
            live_dir: None,
        }
    }
}

impl Config {
    /// Checks the values that only make sense together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.keepalive_interval.is_zero() {
            return Err(ConfigError::Invalid(
                "--keepalive-interval must be longer than zero".into(),
            ));
        }
        if self.keepalive_timeout <= self.keepalive_interval {
            return Err(ConfigError::Invalid(format!(
                "--keepalive-timeout ({:?}) must be longer than --keepalive-interval ({:?}), \
                 or every healthy client would time out between two pings",
                self.keepalive_timeout, self.keepalive_interval
            )));
        }
        if self.header_read_timeout.is_zero() || self.http_idle_timeout.is_zero() {
            return Err(ConfigError::Invalid(
                "--header-read-timeout and --http-idle-timeout must be longer than zero".into(),
            ));
        }
        if self.max_room_name_chars == 0 || self.max_display_name_chars == 0 {
            return Err(ConfigError::Invalid(
                "name length limits must be at least 1 character".into(),
            ));
        }
        if self.max_rooms == 0 || self.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "--max-rooms and --max-connections must be at least 1".into(),
            ));
        }
        if self.redis_instance_ttl < Duration::from_millis(MIN_REDIS_INSTANCE_TTL_MS) {
            return Err(ConfigError::Invalid(format!(
                "--redis-instance-ttl ({:?}) must be at least {MIN_REDIS_INSTANCE_TTL_MS}ms",
                self.redis_instance_ttl
            )));
        }
        if let Some(url) = &self.redis_url {
            parse_redis_url(url).map_err(ConfigError::Invalid)?;
        }
        parse_key_prefix(&self.redis_key_prefix).map_err(ConfigError::Invalid)?;
        self.validate_private()
    }

    /// The checks of the TLS, TURN and access flags.
    fn validate_private(&self) -> Result<(), ConfigError> {
        let invalid = |text: &str| Err(ConfigError::Invalid(text.to_owned()));
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return invalid("--tls-cert and --tls-key go together");
        }
        if self.tls_self_signed && self.tls_cert.is_some() {
            return invalid("--tls-self-signed and --tls-cert exclude each other");
        }
        if self.http_redirect.is_some() && !self.tls_enabled() {
            return invalid(
                "--http-redirect redirects to HTTPS: it needs --tls-cert/--tls-key or --tls-self-signed",
            );
        }
        let has_turn_auth = self.turn_secret.is_some() || self.turn_username.is_some();
        if !self.turn_urls.is_empty() && !has_turn_auth {
            return invalid(
                "--turn-url needs --turn-secret, or --turn-username and --turn-password",
            );
        }
        if self.turn_urls.is_empty() && has_turn_auth {
            return invalid("TURN credentials were given without any --turn-url");
        }
        if self.turn_username.is_some() != self.turn_password.is_some() {
            return invalid("--turn-username and --turn-password go together");
        }
        if self.turn_secret.is_some() && self.turn_username.is_some() {
            return invalid("--turn-secret and --turn-username/--turn-password exclude each other");
        }
        if self.relay_only && self.turn_urls.is_empty() {
            return invalid(
                "--relay-only needs at least one --turn-url: without a TURN relay no call could connect",
            );
        }
        if self.turn_credential_ttl < Duration::from_millis(MIN_TURN_CREDENTIAL_TTL_MS) {
            return Err(ConfigError::Invalid(format!(
                "--turn-credential-ttl ({:?}) must be at least {MIN_TURN_CREDENTIAL_TTL_MS}ms",
                self.turn_credential_ttl
            )));
        }
        if self.require_token && self.token_secret.is_none() {
            return invalid("--require-token needs --token-secret");
        }
        if self.failed_join_window.is_zero() || self.max_failed_joins == 0 {
            return invalid("--max-failed-joins and --failed-join-window must be above zero");
        }
        for entry in &self.room_passwords {
            parse_room_password(&format!("{}:{}", entry.room, entry.password.expose()))
                .map_err(ConfigError::Invalid)?;
        }
        self.validate_janus()
    }

    /// The checks of the Janus flags.
    fn validate_janus(&self) -> Result<(), ConfigError> {
        let invalid = |text: &str| Err(ConfigError::Invalid(text.to_owned()));
        for url in &self.janus_urls {
            parse_janus_url(url).map_err(ConfigError::Invalid)?;
        }
        match (&self.janus_admin_key, self.janus_urls.is_empty()) {
            (None, false) => invalid(
                "--janus-url needs the VideoRoom admin key: set MESHMEET_JANUS_ADMIN_KEY (or --janus-admin-key)",
            ),
            _ if self.mesh_max == 0 => invalid("--mesh-max must be at least 1"),
            (Some(_), true) => invalid("a Janus admin key was given without any --janus-url"),
            (Some(key), false) if key.expose() == crate::janus::ADMIN_KEY_PLACEHOLDER => invalid(
                "the Janus admin key is still the placeholder of deploy/janus: put a random key in janus.plugin.videoroom.jcfg and janus.plugin.streaming.jcfg and give the relay the same",
            ),
            _ => Ok(()),
        }
    }

    /// Whether the relay serves HTTPS/WSS.
    pub fn tls_enabled(&self) -> bool {
        self.tls_self_signed || self.tls_cert.is_some()
    }

    /// The ICE policy told to clients in `welcome`.
    pub fn ice_transport_policy(&self) -> IceTransportPolicy {
        if self.relay_only {
            IceTransportPolicy::Relay
        } else {
            IceTransportPolicy::All
        }
    }

    /// The limits told to clients in `welcome`.
    pub fn room_limits(&self) -> RoomLimits {
        RoomLimits {
            max_participants: self.max_participants,
            max_message_bytes: self.max_message_bytes,
            messages_per_second: self.messages_per_second,
            max_chat_chars: self.max_chat_chars,
            max_file_bytes: self.max_file_bytes,
        }
    }

    /// What the Redis registry needs, if rooms are shared through a Redis.
    pub fn redis_options(&self) -> Option<RedisOptions> {
        Some(RedisOptions {
            url: self.redis_url.clone()?,
            key_prefix: self.redis_key_prefix.clone(),
            instance_ttl: self.redis_instance_ttl,
            max_rooms: self.max_rooms,
            max_participants: self.max_participants,
        })
    }

    /// The limits on HTTP connections that have not become WebSockets.
    pub fn http_limits(&self) -> crate::accept::HttpLimits {
        crate::accept::HttpLimits {
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.http_idle_timeout,
            pending: crate::pending::PendingLimits {
                total: self.max_pending_connections,
                per_ip: self.max_pending_connections_per_ip,
            },
            trusted_proxies: self.trusted_proxies.clone().into(),
        }
    }

    /// The largest frame the WebSocket layer buffers at all. Between `max_message_bytes` and
    /// this, a message is read and refused politely; past it the connection is closed,
    /// because a frame that was not read cannot be skipped.
    pub fn hard_frame_limit_bytes(&self) -> usize {
        (self.max_message_bytes as usize).saturating_mul(2)
    }
}

/// Parses a duration as humantime writes it (`500ms`, `5s`, `2m`, `12h`, `1h 30m`) or a
/// bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text)
        .map_err(|err| format!("`{text}` is not a duration (try 500ms, 5s, 2m or 12h): {err}"))
}

fn parse_queue_len(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (8..=65_536).contains(&n) => Ok(n),
        _ => Err(format!("`{text}` is not a queue length from 8 to 65536")),
    }
}

/// Checks that `text` is a Redis URL the client library understands. `rediss://` (TLS) is
/// refused: the relay is built without TLS support.
fn parse_redis_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.starts_with("rediss:") {
        return Err(format!(
            "`{}`: TLS to Redis is not built in; use redis:// (on a private network or through a TLS tunnel)",
            crate::registry::redis::redacted_url(text)
        ));
    }
    match redis::Client::open(text) {
        Ok(_) => Ok(text.to_owned()),
        Err(err) => Err(format!(
            "`{}` is not a Redis URL (expected redis://host:port): {err}",
            crate::registry::redis::redacted_url(text)
        )),
    }
}

fn parse_key_prefix(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a key prefix (1 to 64 of A-Z a-z 0-9 - _ . :)"
        ))
    }
}

/// `turn:host[:port][?transport=udp|tcp]` or `turns:…`.
fn parse_turn_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let rest = text
        .strip_prefix("turns:")
        .or_else(|| text.strip_prefix("turn:"))
        .ok_or_else(|| {
            format!("`{text}` is not a TURN URL (expected turn:host:port or turns:host:port)")
        })?;
    let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
    if host.is_empty() || host.contains('/') || host.contains('@') {
        return Err(format!(
            "`{text}` has no usable host (expected turn:host:port)"
        ));
    }
    if !query.is_empty() && query != "transport=udp" && query != "transport=tcp" {
        return Err(format!(
            "`{text}`: the only query a TURN URL takes is ?transport=udp or ?transport=tcp"
        ));
    }
    Ok(text.to_owned())
}

/// `room:password` (room names cannot contain `:`).
fn parse_room_password(text: &str) -> Result<RoomPassword, String> {
    let (room, password) = text
        .split_once(':')
        .ok_or_else(|| "expected room:password".to_owned())?;
    validate_room_name(room, DEFAULT_MAX_ROOM_NAME_CHARS)
        .map_err(|err| format!("room `{room}` in --room-password: {err}"))?;
    if password.is_empty() {
        return Err(format!("the password of room `{room}` is empty"));
    }
    Ok(RoomPassword {
        room: room.to_owned(),
        password: Secret(password.to_owned()),
    })
}

/// `scheme://host[:port]`, as browsers send it in `Origin` (no path, no trailing slash).
fn parse_origin(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/');
    let (scheme, host) = text
        .split_once("://")
        .ok_or_else(|| format!("`{text}` is not an origin (expected https://host[:port])"))?;
    if !matches!(scheme, "http" | "https") || host.is_empty() || host.contains('/') {
        return Err(format!(
            "`{text}` is not an origin (expected https://host[:port], without a path)"
        ));
    }
    Ok(text.to_ascii_lowercase())
}

/// `ws://host:port`: Janus's WebSocket API, on loopback or a private network (the relay is
/// built without TLS for it).
fn parse_janus_url(text: &str) -> Result<String, String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let text = text.trim();
    if text.starts_with("wss:") {
        return Err(format!(
            "`{text}`: TLS to Janus is not built in; keep Janus's API on loopback and use ws://"
        ));
    }
    if !text.starts_with("ws://") {
        return Err(format!(
            "`{text}` is not a Janus WebSocket URL (expected ws://127.0.0.1:8188)"
        ));
    }
    match text.into_client_request() {
        Ok(_) => Ok(text.to_owned()),
        Err(err) => Err(format!("`{text}` is not a usable URL: {err}")),
    }
}

fn parse_stun_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    if (text.starts_with("stun:") || text.starts_with("stuns:")) && text.len() > 6 {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a STUN URL (expected stun:host:port)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_command_line_defaults() {
        let parsed = Config::try_parse_from(["meshmeet-server"]).expect("parses");
        assert_eq!(parsed, Config::default());
        assert!(parsed.keepalive_timeout <= Duration::from_secs(10));
        parsed.validate().expect("defaults are valid");
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn stun_urls_are_repeatable_and_checked() {
        let parsed = Config::try_parse_from([
            "meshmeet-server",
            "--stun-url",
            "stun:stun.example.org:3478",
            "--stun-url",
            "stun:[::1]:3478",
        ])
        .expect("parses");
        assert_eq!(parsed.stun_urls.len(), 2);
        assert!(Config::try_parse_from(["meshmeet-server", "--stun-url", "http://x"]).is_err());
    }

    #[test]
    fn redis_flags_are_checked() {
        let parsed = Config::try_parse_from([
            "meshmeet-server",
            "--redis-url",
            "redis://127.0.0.1:6379/2",
            "--redis-instance-ttl",
            "3s",
        ])
        .expect("parses");
        assert_eq!(
            parsed.redis_url.as_deref(),
            Some("redis://127.0.0.1:6379/2")
        );
        assert_eq!(parsed.redis_instance_ttl, Duration::from_secs(3));
        parsed.validate().expect("valid");
        for bad in ["http://x", "rediss://:pw@host:6380", "not a url"] {
            assert!(Config::try_parse_from(["meshmeet-server", "--redis-url", bad]).is_err());
            // (clap quotes the value given; our own explanation does not repeat a password.)
            let err = parse_redis_url(bad).expect_err(bad);
            assert!(!err.contains("pw@"), "{err}");
        }
        assert!(Config::try_parse_from(["meshmeet-server", "--redis-key-prefix", "a b"]).is_err());
        let short = Config {
            redis_instance_ttl: Duration::from_millis(200),
            ..Config::default()
        };
        assert!(short.validate().is_err());
    }

    #[test]
    fn private_deployment_flags_parse_and_are_checked_together() {
        let parsed = Config::try_parse_from([
            "meshmeet-server",
            "--turn-url",
            "turn:turn.example.org:3478?transport=udp",
            "--turn-url",
            "turns:turn.example.org:5349",
            "--turn-secret",
            "north",
            "--relay-only",
            "--room-password",
            "board:s3cret:with:colons",
            "--allowed-origin",
            "https://Meet.example.org/",
            "--turn-credential-ttl",
            "2h",
        ])
        .expect("parses");
        parsed.validate().expect("valid");
        assert_eq!(parsed.turn_urls.len(), 2);
        assert_eq!(parsed.ice_transport_policy(), IceTransportPolicy::Relay);
        assert_eq!(parsed.room_passwords[0].room, "board");
        assert_eq!(
            parsed.room_passwords[0].password.expose(),
            "s3cret:with:colons"
        );
        assert_eq!(parsed.allowed_origins, ["https://meet.example.org"]);
        assert_eq!(parsed.turn_credential_ttl, Duration::from_secs(7200));
        assert!(
            !format!("{parsed:?}").contains("north"),
            "secrets stay out of Debug"
        );

        for bad in [
            vec!["--turn-url", "http://x"],
            vec!["--turn-url", "turn:x?transport=sctp"],
            vec!["--room-password", "no-colon"],
            vec!["--room-password", "bad/room:pw"],
            vec!["--allowed-origin", "meet.example.org"],
            vec!["--tls-cert", "cert.pem"],
            vec!["--require-token"],
        ] {
            let args = std::iter::once("meshmeet-server").chain(bad.iter().copied());
            assert!(Config::try_parse_from(args).is_err(), "{bad:?}");
        }
        let needs_turn = Config {
            relay_only: true,
            ..Config::default()
        };
        assert!(needs_turn.validate().is_err());
        let needs_auth = Config {
            turn_urls: vec!["turn:x:3478".into()],
            ..Config::default()
        };
        assert!(needs_auth.validate().is_err());
        let redirect_without_tls = Config {
            http_redirect: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..Config::default()
        };
        assert!(redirect_without_tls.validate().is_err());
    }

    #[test]
    fn janus_flags_are_checked_together() {
        let parsed = Config::try_parse_from([
            "meshmeet-server",
            "--janus-url",
            "ws://127.0.0.1:8188",
            "--janus-url",
            "ws://10.0.0.2:8188",
            "--janus-admin-key",
            "k3y",
        ])
        .expect("parses");
        parsed.validate().expect("valid");
        assert_eq!(parsed.janus_urls.len(), 2);
        assert!(!format!("{parsed:?}").contains("k3y"));
        for bad in ["http://127.0.0.1:8188", "wss://127.0.0.1:8989", "ws://"] {
            assert!(
                Config::try_parse_from(["meshmeet-server", "--janus-url", bad]).is_err(),
                "{bad}"
            );
        }
        let without_key = Config {
            janus_urls: vec!["ws://127.0.0.1:8188".into()],
            ..Config::default()
        };
        let err = without_key.validate().expect_err("needs a key");
        assert!(
            err.to_string().contains("MESHMEET_JANUS_ADMIN_KEY"),
            "{err}"
        );
        let placeholder = Config {
            janus_admin_key: Some(Secret::from(crate::janus::ADMIN_KEY_PLACEHOLDER)),
            ..without_key.clone()
        };
        assert!(placeholder.validate().is_err());
        let key_alone = Config {
            janus_admin_key: Some(Secret::from("k3y")),
            ..Config::default()
        };
        assert!(key_alone.validate().is_err());
    }

    #[test]
    fn timeout_not_longer_than_interval_is_refused() {
        let config = Config {
            keepalive_interval: Duration::from_secs(5),
            keepalive_timeout: Duration::from_secs(5),
            ..Config::default()
        };
        assert!(config.validate().is_err());
    }
}
