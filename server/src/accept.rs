//! The relay's own accept loop, for plain HTTP and TLS alike: accept errors (out of file
//! descriptors) back off instead of spinning; every connection that has not become a
//! WebSocket is counted ([`crate::pending`]), must send its request headers within the
//! header-read timeout, and is closed after the idle timeout without a byte either way.
//!
//! warp's own server has none of these and cannot be configured, so connections are served
//! here the way warp serves them: hyper's HTTP/1.1 connection with upgrades around
//! `warp::service(routes)`, shut down gracefully with the relay.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::pending::{Activity, PendingConnections, PendingLimits};
use crate::tls::ClientAddr;

/// A client that has not finished the TLS handshake after this long is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The first pause after a failed accept; it doubles up to [`MAX_ACCEPT_BACKOFF`].
const FIRST_ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// The limits on connections that have not upgraded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Longest wait for a request's complete headers.
    pub header_read_timeout: Duration,
    /// A connection that moves no byte for this long is closed.
    pub idle_timeout: Duration,
    /// How many may be open at once.
    pub pending: PendingLimits,
    /// Reverse proxies: their connections count only against the total.
    pub trusted_proxies: Arc<[IpAddr]>,
}

/// Serves `routes` on `listener` (over TLS when `tls` is given) until `stop` resolves, then
/// waits for open HTTP exchanges to finish. Upgraded WebSockets run on their own tasks.
pub async fn serve<F>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    routes: F,
    limits: HttpLimits,
    stop: impl Future<Output = ()> + Send + 'static,
) where
    F: Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
{
    let graceful = GracefulShutdown::new();
    let pending = PendingConnections::new(limits.pending);
    let limits = Arc::new(limits);
    let mut backoff = FIRST_ACCEPT_BACKOFF;
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff = FIRST_ACCEPT_BACKOFF;
                    accepted
                }
                Err(err) => {
                    // Out of file descriptors and the like: wait for some to close.
                    warn!(%err, pause_ms = backoff.as_millis(), "accepting a connection failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let counted = pending.admit(peer.ip(), !limits.trusted_proxies.contains(&peer.ip()));
        let idle_timeout = limits.idle_timeout;
        let connection = Connection {
            peer,
            header_read_timeout: limits.header_read_timeout,
            watcher: graceful.watcher(),
            service: warp::service(routes.clone()),
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            let io = Tracked {
                inner: tcp,
                activity: Arc::clone(&counted.activity),
            };
            let served = async {
                match tls {
                    Some(acceptor) => {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(io)).await
                        {
                            Ok(Ok(stream)) => connection.run(stream).await,
                            Ok(Err(err)) => debug!(%peer, %err, "TLS handshake failed"),
                            Err(_) => debug!(%peer, "TLS handshake timed out"),
                        }
                    }
                    None => connection.run(io).await,
                }
            };
            tokio::select! {
                () = served => {}
                () = counted.evicted.notified() => {
                    debug!(%peer, "closed to make room for a newer connection");
                }
                () = idle(&counted.activity, idle_timeout) => {
                    debug!(%peer, "closed after the idle timeout");
                }
            }
            drop(counted);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Resolves once `activity` has been idle for `timeout`.
async fn idle(activity: &Activity, timeout: Duration) {
    loop {
        let idle_for = activity.idle_for();
        if idle_for >= timeout {
            return;
        }
        tokio::time::sleep(timeout - idle_for).await;
    }
}

/// One accepted connection, before its I/O is known (plain or TLS).
struct Connection<S> {
    peer: SocketAddr,
    header_read_timeout: Duration,
    watcher: Watcher,
    service: S,
}

impl<S> Connection<S>
where
    S: tower_service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    async fn run<IO>(self, io: IO)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            peer,
            header_read_timeout,
            watcher,
            service,
        } = self;
        let service = hyper::service::service_fn(move |mut request| {
            request.extensions_mut().insert(ClientAddr(peer));
            let mut service = service.clone();
            tower_service::Service::call(&mut service, request)
        });
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout);
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        if let Err(err) = watcher.watch(connection).await {
            debug!(%peer, %err, "HTTP connection ended with an error");
        }
    }
}

/// A socket that records when it last moved bytes.
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
