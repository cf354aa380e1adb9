//! The floor: the cheapest server that carries the same traffic on the relay's own stack
//! (warp 0.4 routing, the relay's own WebSocket upgrade and socket configuration from
//! `meshmeet_server::upgrade`, tokio, a bounded queue and a writer task per connection,
//! delivery under one lock), without the protocol: no JSON, no rooms, no presence, no limits.
//!
//! A client connects to `/ws/<id>` with an id of its choosing. Each text frame it sends is
//! `<target id>\n<body>`; the server forwards `<sender id>\n<body>` to the target's queue,
//! or drops it if no such target is connected (or its queue is full). Anything else is
//! ignored. What the relay costs beyond this is what its protocol costs.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{SinkExt, StreamExt};
use meshmeet_server::upgrade::{self, NotAnUpgrade, UpgradeRequest, WebSocket};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use warp::Filter;

/// Frames queued for one connection, as in the relay (`--outbound-queue`, default 256).
pub const QUEUE_LEN: usize = 256;
/// Largest frame read, as in the relay (twice its default message limit).
pub const MAX_FRAME_BYTES: usize = 128 * 1024;

type Peers = Arc<Mutex<HashMap<String, mpsc::Sender<Message>>>>;

/// Serves the floor on `listener` until `shutdown` resolves.
/// Accepted sockets get `TCP_NODELAY`, as the relay's do.
pub async fn serve(listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) {
    if let Err(err) = crate::sys::set_nodelay_on_listener(&listener) {
        eprintln!("floor: could not set TCP_NODELAY: {err}");
    }
    let peers: Peers = Arc::default();
    let routes = warp::path!("ws" / String).and(upgrade::request()).map(
        move |id: String, request: Result<UpgradeRequest, NotAnUpgrade>| match request {
            Ok(request) => {
                let peers = Arc::clone(&peers);
                request.accept(upgrade::socket_config(MAX_FRAME_BYTES), move |socket| {
                    connection(socket, id, peers)
                })
            }
            Err(refusal) => {
                let mut response = warp::reply::Response::new(refusal.to_string().into());
                *response.status_mut() = refusal.status();
                response
            }
        },
    );
    warp::serve(routes)
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
}

async fn connection(socket: WebSocket, id: String, peers: Peers) {
    let (mut sink, mut stream) = socket.split();
    let (queue, mut queued) = mpsc::channel::<Message>(QUEUE_LEN);
    lock(&peers).insert(id.clone(), queue);
    let writer = tokio::spawn(async move {
        while let Some(frame) = queued.recv().await {
            // Flush when the queue is empty, as the relay does.
            let written = if queued.is_empty() {
                sink.send(frame).await
            } else {
                sink.feed(frame).await
            };
            if written.is_err() {
                return;
            }
        }
        let _ = sink.flush().await;
    });
    while let Some(Ok(frame)) = stream.next().await {
        let Message::Text(text) = frame else {
            continue;
        };
        let Some((to, body)) = text.split_once('\n') else {
            continue;
        };
        let peers = lock(&peers);
        if let Some(target) = peers.get(to) {
            let _ = target.try_send(Message::text(format!("{id}\n{body}")));
        }
    }
    lock(&peers).remove(&id);
    let _ = writer.await;
}

fn lock(peers: &Peers) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<Message>>> {
    peers.lock().unwrap_or_else(PoisonError::into_inner)
}
