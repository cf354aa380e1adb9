//! The meshmeet relay: WebSocket signalling between the participants of a room, presence
//! (who is in which room), and the built browser client.
//!
//! [`serve`] runs the whole relay on a listener until a shutdown future resolves; `main` and
//! the tests both use it. [`routes`] is the warp filter alone, for embedding.

#![warn(missing_docs)]

pub mod accept;
pub mod access;
pub mod config;
pub mod error;
pub mod fd_limit;
pub mod ingest;
pub mod janus;
pub mod lifecycle;
pub mod limits;
pub mod live;
pub mod member_state;
pub mod pending;
pub mod registry;
pub mod resume;
pub mod routes;
pub mod sdp_http;
pub mod sfu;
pub mod static_files;
pub mod tls;
pub mod token;
pub mod topology;
pub mod turn;
pub mod upgrade;
pub mod ws;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tracing::{info, warn};

pub use config::{Config, LogFormat};
pub use error::{ConfigError, RelayError, ServeError};
pub use registry::{MemoryRegistry, RedisOptions, RedisRegistry, RoomRegistry};
pub use routes::routes;
pub use tls::TlsSetup;

use access::Access;
use lifecycle::Lifecycle;
use static_files::StaticFiles;

/// Everything the routes and connections share.
#[derive(Debug)]
pub struct AppState<R> {
    /// The configuration the relay was started with.
    pub config: Config,
    /// Rooms and delivery.
    pub registry: R,
    /// Open connections and shutdown.
    pub lifecycle: Arc<Lifecycle>,
    /// The built client.
    pub static_files: StaticFiles,
    /// Sessions that can be resumed after a dropped socket.
    pub sessions: resume::Sessions,
    /// Origins, per-address limits, operator passwords and join tokens.
    pub access: Arc<Access>,
    /// The Janus instances for large rooms (none without `--janus-url`).
    pub janus: janus::JanusPool,
    /// The Janus rooms this relay created, destroyed once unused.
    pub sfu_rooms: sfu::OwnedRooms,
    /// The live rooms this relay runs, and their viewers.
    pub live: Arc<live::LiveRooms>,
    /// Encoders publishing into rooms over WHIP, and their tokens.
    pub ingest: ingest::Ingest,
}

impl<R: RoomRegistry> AppState<R> {
    /// State for a relay with this configuration and registry. With `--janus-url`, starts
    /// connecting to Janus in the background (so it needs a Tokio runtime).
    pub fn new(config: Config, registry: R) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(AppState {
            janus: janus::JanusPool::start(
                &config.janus_urls,
                config.janus_admin_key.as_ref(),
                janus::JanusOptions::default(),
            ),
            lifecycle: Arc::new(Lifecycle::new(config.max_connections)),
            static_files: StaticFiles::new(config.dist.clone()),
            access: Arc::new(Access::new(&config)),
            registry,
            config,
            sessions: resume::Sessions::default(),
            sfu_rooms: sfu::OwnedRooms::default(),
            live: Arc::new(live::LiveRooms::default()),
            ingest: ingest::Ingest::default(),
        })
    }

    /// The topology rule for a join now, when the relay has a media server.
    pub fn topology_policy(&self) -> Option<registry::TopologyPolicy> {
        self.config
            .topology_rule()
            .map(|rule| registry::TopologyPolicy {
                rule,
                sfu_reachable: self.janus.ready().is_ok(),
                now: std::time::Instant::now(),
            })
    }
}

/// Runs the relay on `listener` until `shutdown` resolves, then tells every client
/// `shutting_down`, closes the sockets (waiting at most `config.shutdown_grace`) and returns.
///
/// Rooms live in this process ([`MemoryRegistry`]), or, with `config.redis_url`, in Redis,
/// shared with every relay using the same Redis ([`RedisRegistry`]).
///
/// ```no_run
/// # async fn example() -> Result<(), meshmeet_server::ServeError> {
/// use meshmeet_server::Config;
/// let config = Config { dist: "dist".into(), ..Config::default() };
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(meshmeet_server::ServeError::Listener)?;
/// let address = listener.local_addr().map_err(meshmeet_server::ServeError::Listener)?;
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let relay = tokio::spawn(meshmeet_server::serve(config, listener, async move {
///     let _ = stopped.await;
/// }));
/// println!("ws://{address}/ws");
/// let _ = stop.send(());
/// relay.await.expect("relay task")?;
/// # Ok(())
/// # }
/// ```
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    config.validate()?;
    let tls = TlsSetup::from_config(&config)?;
    serve_with_tls(config, listener, tls, shutdown).await
}

/// [`serve`] with the certificate already loaded or generated (`main` prints its
/// fingerprint first; `None` serves plain HTTP whatever the configuration says).
pub async fn serve_with_tls(
    config: Config,
    listener: TcpListener,
    tls: Option<TlsSetup>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if let Some(options) = config.redis_options() {
        config.validate()?;
        let registry = RedisRegistry::connect(options)?;
        return serve_inner(config, registry, listener, tls, shutdown).await;
    }
    let registry = MemoryRegistry::new(config.max_rooms, config.max_participants);
    serve_inner(config, registry, listener, tls, shutdown).await
}

/// [`serve`] with a registry of the caller's choice.
pub async fn serve_with_registry<R: RoomRegistry>(
    config: Config,
    registry: R,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    config.validate()?;
    let tls = TlsSetup::from_config(&config)?;
    serve_inner(config, registry, listener, tls, shutdown).await
}

async fn serve_inner<R: RoomRegistry>(
    config: Config,
    registry: R,
    listener: TcpListener,
    tls: Option<TlsSetup>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let redirect_listener = match config.http_redirect {
        Some(address) if tls.is_some() => Some(
            TcpListener::bind(address)
                .await
                .map_err(ServeError::Listener)?,
        ),
        _ => None,
    };
    let state = Arc::new(AppState::new(config, registry)?);
    let address = listener.local_addr().map_err(ServeError::Listener)?;
    if let Err(err) = set_nodelay(&listener) {
        warn!(%err, "could not set TCP_NODELAY: small messages may wait for the peer's ACK");
    }
    if !state.static_files.has_client() {
        warn!(
            dist = %state.static_files.root().display(),
            "no built client (index.html) in the dist directory: pages answer 404 until it is built; /ws works"
        );
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    info!(%address, scheme, "relay listening");

    let (stop_http, http_stopped) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut stopped = http_stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let limits = state.config.http_limits();
    if let Some(redirect) = redirect_listener {
        tokio::spawn(tls::serve_redirect(
            redirect,
            address.port(),
            limits.clone(),
            stopped(),
        ));
    }
    let upkeep = tokio::spawn(sfu::run_upkeep(Arc::clone(&state)));
    let mut server_task = tokio::spawn(accept::serve(
        listener,
        tls.as_ref().map(TlsSetup::acceptor),
        routes(Arc::clone(&state)),
        limits,
        stopped(),
    ));

    tokio::select! {
        () = shutdown => {}
        result = &mut server_task => {
            // Before shutdown the server only stops if its task failed; take the sockets
            // down with it rather than leave a relay that accepts nothing.
            state.lifecycle.begin_shutdown();
            let reason = match result {
                Err(err) => err.to_string(),
                Ok(()) => "it returned".to_owned(),
            };
            upkeep.abort();
            return Err(ServeError::ServerStopped(reason));
        }
    }

    let open = state.lifecycle.open_connections();
    info!(open, "shutting down: telling clients to reconnect later");
    state.lifecycle.begin_shutdown();
    let _ = stop_http.send(true);
    let drained = tokio::time::timeout(state.config.shutdown_grace, async {
        state.lifecycle.all_closed().await;
        let _ = (&mut server_task).await;
    })
    .await;
    if drained.is_err() {
        warn!(
            open = state.lifecycle.open_connections(),
            "connections still open after the shutdown grace period; stopping anyway"
        );
        server_task.abort();
    }
    upkeep.abort();
    state.janus.stop();
    info!("relay stopped");
    Ok(())
}

/// Sets `TCP_NODELAY` on the listening socket; accepted sockets inherit it (Linux, BSDs).
/// Without it, a signalling message written while the previous one is unacknowledged waits
/// for the client's delayed ACK (40 ms on Linux): the load generator saw a p99 of 44 ms at
/// 4,000 messages per second instead of 1.6 ms. warp's acceptor is sealed, so the option
/// cannot be set per accepted socket.
fn set_nodelay(listener: &TcpListener) -> std::io::Result<()> {
    socket2::SockRef::from(listener).set_tcp_nodelay(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_sockets_inherit_nodelay_from_the_listener() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        set_nodelay(&listener).expect("setsockopt");
        let address = listener.local_addr().expect("address");
        let _client = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let (accepted, _) = listener.accept().await.expect("accept");
        assert!(accepted.nodelay().expect("getsockopt"));
    }
}
