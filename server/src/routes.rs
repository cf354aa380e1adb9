//! The HTTP surface: `/healthz` (the process is alive), `/readyz` (it can serve: not stopping,
//! and its room registry is reachable), the WebSocket at `/ws` (refused with 403 for an origin
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

/// Every route of the relay, for `warp::serve` (see [`crate::serve`]).
pub fn routes<R: RoomRegistry>(
    state: Arc<AppState<R>>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    let healthz = warp::path!("healthz")
        .and(warp::get().or(warp::head()).unify())
        .map(|| {
            let mut response = Response::new("ok".into());
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        });

    // For load balancers: a relay that cannot reach Redis keeps running (and says so here)
    // until it can again.
    let readyz = warp::path!("readyz")
        .and(warp::get().or(warp::head()).unify())
        .and(with_state(Arc::clone(&state)))
        .then(|state: Arc<AppState<R>>| async move {
            let verdict = if state.lifecycle.is_stopping() {
                Err("shutting down".to_owned())
            } else {
                state.registry.ready().await
            };
            match verdict {
                Ok(()) => plain_text(StatusCode::OK, "ready".into()),
                Err(reason) => plain_text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("not ready: {reason}\n"),
                ),
            }
        });

    // Checks before the handshake (the request's headers, the client's address) go here,
    // answering plain HTTP as `unavailable` does.
    let websocket = warp::path!("ws")
        .and(upgrade::request())
        .and(warp::header::optional::<String>("origin"))
        .and(client_address())
        .and(warp::header::optional::<String>("x-forwarded-for"))
        .and(with_state(Arc::clone(&state)))
        .map(
            |request: Result<UpgradeRequest, NotAnUpgrade>,
             origin: Option<String>,
             peer: Option<SocketAddr>,
             forwarded_for: Option<String>,
             state: Arc<AppState<R>>| {
                let request = match request {
                    Ok(request) => request,
                    Err(refusal) => return not_an_upgrade(refusal),
                };
                // A page from another site must not open a socket with this site's cookies and
                // network position (cross-site WebSocket hijacking): checked before anything else.
                if !state.access.origin_allowed(origin.as_deref()) {
                    return refused(StatusCode::FORBIDDEN, "this origin may not use the relay\n");
                }
                let ip = state.access.client_ip(peer, forwarded_for.as_deref());
                let Ok(address_slot) = state.access.admit_connection(ip) else {
                    return refused(
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
            },
        );

    let files = warp::get()
        .or(warp::head())
        .unify()
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and(with_state(state))
        .then(
            |path: FullPath, headers: HeaderMap, state: Arc<AppState<R>>| async move {
                state.static_files.respond(path.as_str(), &headers).await
            },
        );

    healthz
        .or(readyz)
        .unify()
        .or(websocket)
        .unify()
        .or(files)
        .unify()
}

fn plain_text(status: StatusCode, text: String) -> Response {
    let mut response = Response::new(text.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
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

/// A refused upgrade, as plain text.
fn refused(status: StatusCode, text: &'static str) -> Response {
    let mut response = plain_text(status, text.to_owned());
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("5"));
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
    let mut response = Response::new(text.into());
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
