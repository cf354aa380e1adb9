//! The HTTP surface: `/healthz` (the process is alive), `/readyz` (it can serve: not stopping,
//! its room registry is reachable, and so is a Janus if any is configured), the WebSocket at `/ws` (refused with 403 for an origin
//! not allowed, 429 past the per-address connection limit, 503 when full or stopping), and
//! the client for everything else. A request to `/ws` that is not a WebSocket handshake gets
//! 400 (426 for a version other than 13), never the client's 404.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use warp::filters::path::FullPath;
use warp::http::header::{
    HeaderMap, HeaderValue, CACHE_CONTROL, CONNECTION, CONTENT_TYPE, RETRY_AFTER,
    SEC_WEBSOCKET_VERSION,
};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::access::ClientInfo;
use crate::registry::RoomRegistry;
use crate::tls::ClientAddr;
use crate::upgrade::{self, NotAnUpgrade, UpgradeRequest};
use crate::ws::run_connection;
use crate::AppState;

/// Seconds a client refused for load is told to wait before trying again.
const RETRY_AFTER_SECS: &str = "5";

/// Every route of the relay, for `warp::serve` (see [`crate::serve`]).
pub fn routes<R: RoomRegistry>(
    state: Arc<AppState<R>>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    healthz()
        .or(readyz(Arc::clone(&state)))
        .unify()
        .or(websocket(Arc::clone(&state)))
        .unify()
        .or(crate::live::routes::routes(Arc::clone(&state)))
        .unify()
        .or(crate::ingest::routes::routes(Arc::clone(&state)))
        .unify()
        .or(client_files(state))
        .unify()
}

/// `/healthz`: the process is alive.
fn healthz() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static
{
    warp::path!("healthz")
        .and(get_or_head())
        .map(|| plain_text(StatusCode::OK, "ok"))
}

/// `/readyz`: the relay can serve (see [`readiness`]).
fn readyz<R: RoomRegistry>(
    state: Arc<AppState<R>>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    warp::path!("readyz")
        .and(get_or_head())
        .and(with_state(state))
        .then(readiness::<R>)
}

/// For load balancers: a relay that cannot reach Redis or any of its Janus instances keeps
/// running (and says so here) until it can again.
async fn readiness<R: RoomRegistry>(state: Arc<AppState<R>>) -> Response {
    let verdict = if state.lifecycle.is_stopping() {
        Err("shutting down".to_owned())
    } else {
        match state.registry.ready().await {
            Ok(()) => state.janus.ready(),
            Err(reason) => Err(reason),
        }
    };
    match verdict {
        Ok(()) => plain_text(StatusCode::OK, "ready"),
        Err(reason) => plain_text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        ),
    }
}

/// `/ws`: the WebSocket, after the checks in [`accept_or_refuse`].
fn websocket<R: RoomRegistry>(
    state: Arc<AppState<R>>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    warp::path!("ws")
        .and(upgrade::request())
        .and(warp::header::optional::<String>("origin"))
        .and(client_address())
        .and(warp::header::optional::<String>("x-forwarded-for"))
        .and(with_state(state))
        .map(accept_or_refuse::<R>)
}

/// Checks before the handshake (the request's headers, the client's address), answered
/// with plain HTTP before any WebSocket exists, so a refused client costs little; then the
/// upgrade to a connection.
fn accept_or_refuse<R: RoomRegistry>(
    request: Result<UpgradeRequest, NotAnUpgrade>,
    origin: Option<String>,
    peer: Option<SocketAddr>,
    forwarded_for: Option<String>,
    state: Arc<AppState<R>>,
) -> Response {
    let request = match request {
        Ok(request) => request,
        Err(refusal) => return not_an_upgrade(refusal),
    };
    // A page from another site must not open a socket with this site's cookies and
    // network position (cross-site WebSocket hijacking): checked before anything else.
    if !state.access.origin_allowed(origin.as_deref()) {
        return plain_text(StatusCode::FORBIDDEN, "this origin may not use the relay\n");
    }
    let ip = state.access.client_ip(peer, forwarded_for.as_deref());
    let Ok(address_slot) = state.access.admit_connection(ip) else {
        return try_again_later(
            StatusCode::TOO_MANY_REQUESTS,
            "too many connections from your address; close some and try again\n",
        );
    };
    let Some(slot) = state.lifecycle.try_admit() else {
        return unavailable(&state);
    };
    let client = ClientInfo { ip, address_slot };
    let config = upgrade::socket_config(state.config.hard_frame_limit_bytes());
    request.accept(config, move |socket| {
        run_connection(socket, state, slot, client)
    })
}

/// Everything else: the built client.
fn client_files<R: RoomRegistry>(
    state: Arc<AppState<R>>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    get_or_head()
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and(with_state(state))
        .then(
            |path: FullPath, headers: HeaderMap, state: Arc<AppState<R>>| async move {
                state.static_files.respond(path.as_str(), &headers).await
            },
        )
}

/// `GET`, or `HEAD` for the same answer without its body.
fn get_or_head() -> impl Filter<Extract = (), Error = Rejection> + Clone + Send + Sync + 'static {
    warp::get().or(warp::head()).unify()
}

/// Every plain-text reply of the relay's own: no cache keeps it, since each one says how
/// the relay is now.
pub(crate) fn plain_text(status: StatusCode, text: impl Into<String>) -> Response {
    let mut response = Response::new(text.into().into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A refusal for load, with the seconds to wait before trying again.
fn try_again_later(status: StatusCode, text: &'static str) -> Response {
    let mut response = plain_text(status, text);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    response
}

/// The client's socket address: from warp's server for plain HTTP, from the TLS acceptor's
/// extension over HTTPS.
fn client_address() -> impl Filter<Extract = (Option<SocketAddr>,), Error = Infallible> + Clone {
    warp::addr::remote()
        .and(warp::ext::optional::<ClientAddr>())
        .map(|remote: Option<SocketAddr>, tls: Option<ClientAddr>| tls.map(|c| c.0).or(remote))
}

/// A request to `/ws` that is not a WebSocket handshake: 400, or 426 naming the version the
/// relay speaks (RFC 6455 section 4.4), rather than falling through to the static files' 404.
fn not_an_upgrade(refusal: NotAnUpgrade) -> Response {
    let mut response = plain_text(refusal.status(), format!("{refusal}\n"));
    // The client expected to leave HTTP; nothing more should be read from this connection.
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    if refusal == NotAnUpgrade::WrongVersion {
        response
            .headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    }
    response
}

fn with_state<R: RoomRegistry>(
    state: Arc<AppState<R>>,
) -> impl Filter<Extract = (Arc<AppState<R>>,), Error = Infallible> + Clone {
    warp::any().map(move || Arc::clone(&state))
}

/// Refuses an upgrade while the relay is full or stopping. Plain HTTP, before any WebSocket
/// exists, so a full relay spends nothing on the socket.
fn unavailable<R>(state: &AppState<R>) -> Response {
    let text = if state.lifecycle.is_stopping() {
        "the relay is shutting down; reconnect shortly\n"
    } else {
        "the relay has too many connections; try again later\n"
    };
    try_again_later(StatusCode::SERVICE_UNAVAILABLE, text)
}
