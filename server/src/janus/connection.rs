//! One WebSocket to one Janus, shared by every request: each request gets a random
//! transaction id and waits on its own channel; the reader task routes each reply to its
//! waiter. Events that answer no request go to the queue of the plugin handle they concern
//! (see events.rs). When the socket closes, every waiter fails at once with
//! [`JanusError::Closed`] and every handle's event queue ends.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::stream::{SplitSink, StreamExt};
use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::events::{EventQueue, HandleEvent};
use super::wire::{Reply, Request};
use super::{random, JanusError, SUBPROTOCOL};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Waiters = HashMap<String, Waiter>;
/// Each routed plugin handle's event queue, by handle id.
type Routes = Mutex<HashMap<u64, EventQueue>>;

/// Someone waiting for the reply to one transaction.
struct Waiter {
    reply: oneshot::Sender<Result<Reply, JanusError>>,
    /// `keepalive` and `trickle` are answered by `ack` alone; other requests that get an `ack` first (the
    /// plugin's asynchronous ones) are answered later by an `event` with the same transaction.
    ack_is_final: bool,
}

/// The waiters, or, once the socket has closed, why it closed.
type Pending = Mutex<Result<Waiters, String>>;

/// An open WebSocket to Janus.
pub struct Connection {
    sink: tokio::sync::Mutex<SplitSink<Socket, Message>>,
    pending: Arc<Pending>,
    routes: Arc<Routes>,
    closed: watch::Receiver<Option<String>>,
    reader: JoinHandle<()>,
}

impl Connection {
    /// Opens the WebSocket (subprotocol `janus-protocol`) within `timeout`.
    pub async fn open(url: &str, timeout: Duration) -> Result<Connection, JanusError> {
        let mut request = url
            .into_client_request()
            .map_err(|err| JanusError::Unreachable(format!("bad URL: {err}")))?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        let (socket, _) = tokio::time::timeout(timeout, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| JanusError::Unreachable(format!("no answer within {timeout:?}")))?
            .map_err(|err| JanusError::Unreachable(err.to_string()))?;
        let (sink, stream) = socket.split();
        let pending: Arc<Pending> = Arc::new(Mutex::new(Ok(HashMap::new())));
        let routes: Arc<Routes> = Arc::default();
        let (closed_tx, closed) = watch::channel(None);
        let reader = tokio::spawn(read_replies(
            stream,
            Arc::clone(&pending),
            Arc::clone(&routes),
            closed_tx,
        ));
        Ok(Connection {
            sink: tokio::sync::Mutex::new(sink),
            pending,
            routes,
            closed,
            reader,
        })
    }

    /// Sends `request` (its transaction is filled in) and waits at most `timeout` for its
    /// answer; a Janus `error` becomes [`JanusError::Refused`].
    pub async fn request(
        &self,
        request: Request<'_>,
        timeout: Duration,
        what: &str,
    ) -> Result<Reply, JanusError> {
        let unexpected = |detail: String| JanusError::Unexpected {
            request: what.to_owned(),
            detail,
        };
        let transaction = random::hex(12).map_err(unexpected)?;
        let request = Request {
            transaction: &transaction,
            ..request
        };
        let text = serde_json::to_string(&request)
            .map_err(|err| unexpected(format!("cannot encode the request: {err}")))?;
        let (reply, answered) = oneshot::channel();
        let waiter = Waiter {
            reply,
            ack_is_final: matches!(request.janus, "keepalive" | "trickle"),
        };
        match &mut *lock(&self.pending) {
            Ok(waiters) => waiters.insert(transaction.clone(), waiter),
            Err(reason) => return Err(JanusError::Closed(reason.clone())),
        };
        let sent = self.sink.lock().await.send(Message::text(text)).await;
        if let Err(err) = sent {
            self.forget(&transaction);
            return Err(JanusError::Closed(err.to_string()));
        }
        let reply = match tokio::time::timeout(timeout, answered).await {
            Ok(Ok(reply)) => reply?,
            Ok(Err(_)) => return Err(JanusError::Closed(self.close_reason())),
            Err(_) => {
                self.forget(&transaction);
                return Err(JanusError::Timeout {
                    request: what.to_owned(),
                    after: timeout,
                });
            }
        };
        match (reply.janus.as_str(), &reply.error) {
            ("error", Some(error)) => Err(JanusError::Refused {
                request: what.to_owned(),
                code: error.code,
                reason: error.reason.clone(),
            }),
            ("error", None) => Err(unexpected("an error without a reason".into())),
            _ => Ok(reply),
        }
    }

    /// Sends the events that concern plugin handle `handle` to the returned queue (with the
    /// count of events dropped because it was full), until [`Connection::unroute`] or the
    /// socket closes. On a closed connection the queue ends at once.
    pub fn route(&self, handle: u64) -> (mpsc::Receiver<HandleEvent>, Arc<AtomicU64>) {
        let (queue, events, dropped) = EventQueue::new();
        if !self.is_closed() {
            lock(&self.routes).insert(handle, queue);
        }
        (events, dropped)
    }

    /// Stops routing `handle`'s events (they are logged and dropped from now on).
    pub fn unroute(&self, handle: u64) {
        lock(&self.routes).remove(&handle);
    }

    /// Whether the socket has closed.
    pub fn is_closed(&self) -> bool {
        self.closed.borrow().is_some()
    }

    /// Resolves when the socket closes, with the reason.
    pub async fn closed(&self) -> String {
        let mut closed = self.closed.clone();
        let reason = match closed.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            Err(_) => "the reader stopped".to_owned(),
        };
        reason
    }

    fn close_reason(&self) -> String {
        match &*lock(&self.pending) {
            Err(reason) => reason.clone(),
            Ok(_) => "the reply was dropped".to_owned(),
        }
    }

    fn forget(&self, transaction: &str) {
        if let Ok(waiters) = &mut *lock(&self.pending) {
            waiters.remove(transaction);
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The reader owns the socket's read half: stopping it closes the TCP connection.
        self.reader.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Routes each message to the waiter of its transaction until the socket closes, then fails
/// every waiter left.
async fn read_replies(
    mut stream: futures_util::stream::SplitStream<Socket>,
    pending: Arc<Pending>,
    routes: Arc<Routes>,
    closed: watch::Sender<Option<String>>,
) {
    let reason = loop {
        let text = match stream.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                break format!("Janus closed the socket ({frame:?})");
            }
            Some(Ok(_)) => continue,
            Some(Err(err)) => break err.to_string(),
            None => break "the socket ended".to_owned(),
        };
        let reply: Reply = match serde_json::from_str(text.as_str()) {
            Ok(reply) => reply,
            Err(err) => {
                tracing::warn!(%err, "ignoring a message from Janus that is not its API");
                continue;
            }
        };
        if reply.janus == "timeout" {
            // Janus dropped the session: nothing sent on this connection can work now.
            break "Janus timed the session out".to_owned();
        }
        deliver(&pending, &routes, reply);
    };
    // Dropping the queues ends every handle's event stream.
    lock(&routes).clear();
    let waiters = std::mem::replace(&mut *lock(&pending), Err(reason.clone()));
    if let Ok(waiters) = waiters {
        for (_, waiter) in waiters {
            let _ = waiter.reply.send(Err(JanusError::Closed(reason.clone())));
        }
    }
    let _ = closed.send(Some(reason));
}

/// Hands `reply` to its waiter (an `ack` is held back unless it is the whole answer), or,
/// when it answers no request, to its handle's event queue.
fn deliver(pending: &Pending, routes: &Routes, reply: Reply) {
    let Some(transaction) = reply.transaction.clone() else {
        route_event(routes, &reply);
        return;
    };
    let mut guard = lock(pending);
    let Ok(waiters) = &mut *guard else { return };
    let is_answer = match waiters.get(&transaction) {
        Some(waiter) => reply.janus != "ack" || waiter.ack_is_final,
        None => false,
    };
    if is_answer {
        if let Some(waiter) = waiters.remove(&transaction) {
            let _ = waiter.reply.send(Ok(reply));
        }
    } else if reply.janus != "ack" {
        // The late answer of a request that timed out: nobody waits for it any more.
        tracing::debug!(kind = %reply.janus, %transaction, "dropping a late Janus answer");
    }
}

/// Queues an event on the handle it concerns; events for handles nobody routes (the
/// client's own handle, handles already let go) are logged and dropped.
fn route_event(routes: &Routes, reply: &Reply) {
    let event = HandleEvent::from_reply(reply);
    let routes = lock(routes);
    let queue = reply
        .sender
        .and_then(|handle| Some((handle, routes.get(&handle)?)));
    match (queue, event) {
        (Some((handle, queue)), Some(event)) => queue.push(handle, event),
        (_, event) => {
            let handle = reply.sender;
            tracing::debug!(kind = %reply.janus, ?handle, ?event, "unrouted Janus event");
        }
    }
}
