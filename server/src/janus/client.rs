//! A Janus session on one connection, with the VideoRoom plugin attached and a keepalive
//! task: what the relay's room operations run on. A client whose connection closed stays
//! closed; [`JanusClient::connect`] again makes a new one (a new session).

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

use super::connection::Connection;
use super::wire::{Jsep, Reply, Request};
use super::JanusError;
use crate::config::Secret;

/// Janus's plugin package name for the VideoRoom.
pub(super) const VIDEOROOM_PLUGIN: &str = "janus.plugin.videoroom";
/// Janus's plugin package name for the Streaming plugin (live audiences).
pub(super) const STREAMING_PLUGIN: &str = "janus.plugin.streaming";
/// Longest wait for any one answer (and for the WebSocket to open).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A keepalive this often keeps the session well within deploy/janus's 60 s
/// `session_timeout`, even if one is lost.
pub const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// How patient the client is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JanusOptions {
    /// Longest wait for one answer.
    pub request_timeout: Duration,
    /// Time between keepalives.
    pub keepalive_interval: Duration,
}

impl Default for JanusOptions {
    fn default() -> Self {
        JanusOptions {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            keepalive_interval: DEFAULT_KEEPALIVE_INTERVAL,
        }
    }
}

/// A live session on one Janus, with a VideoRoom handle.
pub struct JanusClient {
    url: String,
    connection: Connection,
    session: u64,
    videoroom: u64,
    /// The Streaming plugin's handle for mountpoint requests, attached when first needed
    /// (rooms that never go live do not need the plugin).
    streaming: tokio::sync::OnceCell<u64>,
    pub(super) admin_key: Secret,
    options: JanusOptions,
    keepalive: JoinHandle<()>,
}

impl std::fmt::Debug for JanusClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JanusClient")
            .field("url", &self.url)
            .field("session", &self.session)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl JanusClient {
    /// Connects to the Janus at `url` (`ws://127.0.0.1:8188`), creates a session and attaches
    /// the VideoRoom plugin. `admin_key` is the VideoRoom's, needed to create rooms.
    pub async fn connect(
        url: &str,
        admin_key: Secret,
        options: JanusOptions,
    ) -> Result<Arc<JanusClient>, JanusError> {
        let connection = Connection::open(url, options.request_timeout).await?;
        let timeout = options.request_timeout;
        let created = connection
            .request(Request::new("create", ""), timeout, "create")
            .await?;
        let session = new_id(&created, "create")?;
        let videoroom = attach(&connection, session, VIDEOROOM_PLUGIN, timeout).await?;
        Ok(Arc::new_cyclic(|weak: &Weak<JanusClient>| JanusClient {
            url: url.to_owned(),
            connection,
            session,
            videoroom,
            streaming: tokio::sync::OnceCell::new(),
            admin_key,
            keepalive: tokio::spawn(keep_alive(weak.clone(), options.keepalive_interval)),
            options,
        }))
    }

    /// The URL this client connected to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the connection has closed (every request now fails with `Closed`).
    pub fn is_closed(&self) -> bool {
        self.connection.is_closed()
    }

    /// Resolves when the connection closes, with the reason.
    pub async fn closed(&self) -> String {
        self.connection.closed().await
    }

    /// Sends a VideoRoom request on the client's handle and returns the plugin's data (a
    /// synchronous request: the answer is a `success` with `plugindata`). A plugin error
    /// (`error_code`) becomes [`JanusError::Refused`].
    pub(super) async fn videoroom(&self, what: &str, body: &Value) -> Result<Value, JanusError> {
        let (data, _) = self.message(self.videoroom, what, body, None).await?;
        Ok(data)
    }

    /// Sends a Streaming plugin request on the client's own handle (attached on first use)
    /// and returns the plugin's data, as [`JanusClient::videoroom`] does.
    pub(super) async fn streaming(&self, what: &str, body: &Value) -> Result<Value, JanusError> {
        let handle = *self
            .streaming
            .get_or_try_init(|| self.attach(STREAMING_PLUGIN))
            .await?;
        let (data, _) = self.message(handle, what, body, None).await?;
        Ok(data)
    }

    /// Attaches a new handle of `plugin` on this client's session.
    pub(super) async fn attach(&self, plugin: &'static str) -> Result<u64, JanusError> {
        attach(
            &self.connection,
            self.session,
            plugin,
            self.options.request_timeout,
        )
        .await
    }

    /// The connection, for routing a handle's events.
    pub(super) fn connection(&self) -> &Connection {
        &self.connection
    }

    /// A core request on `handle` that answers with no data: `trickle` (with `candidate`),
    /// `hangup`, `detach`.
    pub(super) async fn on_handle(
        &self,
        janus: &str,
        handle: u64,
        candidate: Option<&Value>,
    ) -> Result<(), JanusError> {
        let mut request = Request::new(janus, "");
        request.session_id = Some(self.session);
        request.handle_id = Some(handle);
        request.candidate = candidate;
        self.connection
            .request(request, self.options.request_timeout, janus)
            .await
            .map(drop)
    }

    /// Sends a plugin request (with an SDP, if any) on `handle` and returns the plugin's data
    /// and Janus's SDP. Synchronous requests are answered by a `success`, asynchronous ones
    /// (`join`, `configure`, `start`, …) by an `ack` and then an `event`: both carry
    /// `plugindata`. A plugin error (`error_code`) becomes [`JanusError::Refused`].
    pub(super) async fn message(
        &self,
        handle: u64,
        what: &str,
        body: &Value,
        jsep: Option<&Jsep>,
    ) -> Result<(Value, Option<Jsep>), JanusError> {
        let mut message = Request::new("message", "");
        message.session_id = Some(self.session);
        message.handle_id = Some(handle);
        message.body = Some(body);
        message.jsep = jsep;
        let reply = self
            .connection
            .request(message, self.options.request_timeout, what)
            .await?;
        let unexpected = |detail: String| JanusError::Unexpected {
            request: what.to_owned(),
            detail,
        };
        let Some(plugin) = reply.plugindata else {
            return Err(unexpected(format!(
                "a `{}` without plugindata",
                reply.janus
            )));
        };
        let data = plugin.data;
        if let Some(code) = data.get("error_code").and_then(Value::as_i64) {
            return Err(JanusError::Refused {
                request: what.to_owned(),
                code,
                reason: data
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        Ok((data, reply.jsep))
    }

    async fn keepalive(&self) -> Result<Reply, JanusError> {
        let mut keepalive = Request::new("keepalive", "");
        keepalive.session_id = Some(self.session);
        self.connection
            .request(keepalive, self.options.request_timeout, "keepalive")
            .await
    }
}

impl Drop for JanusClient {
    fn drop(&mut self) {
        self.keepalive.abort();
    }
}

/// Attaches `plugin` on `session`: the new handle's id.
async fn attach(
    connection: &Connection,
    session: u64,
    plugin: &'static str,
    timeout: Duration,
) -> Result<u64, JanusError> {
    let mut attach = Request::new("attach", "");
    attach.session_id = Some(session);
    attach.plugin = Some(plugin);
    let attached = connection.request(attach, timeout, "attach").await?;
    new_id(&attached, "attach")
}

/// The `id` in a `create` or `attach` answer.
fn new_id(reply: &Reply, what: &str) -> Result<u64, JanusError> {
    match (&reply.janus[..], &reply.data) {
        ("success", Some(data)) => Ok(data.id),
        _ => Err(JanusError::Unexpected {
            request: what.to_owned(),
            detail: format!("a `{}` without an id", reply.janus),
        }),
    }
}

/// Sends a keepalive every `interval` while the client exists and its connection is open.
async fn keep_alive(client: Weak<JanusClient>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(client) = client.upgrade() else {
            return;
        };
        match client.keepalive().await {
            Ok(_) => {}
            Err(JanusError::Closed(_)) => return,
            Err(err) => tracing::warn!(url = %client.url, %err, "Janus keepalive failed"),
        }
    }
}
