//! One VideoRoom plugin handle of a participant (its publisher or its subscriber
//! connection), on the relay's session: plugin requests, trickle, hangup, detach, and the
//! queue of events Janus sends about it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::events::HandleEvent;
use super::videoroom::expect;
use super::wire::{Jsep, JsepKind};
use super::{JanusClient, JanusError};

/// An ICE candidate from the browser, or the end of its candidates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Candidate {
    /// One candidate, as `RTCIceCandidate` gives it.
    Candidate {
        /// The `candidate:` line.
        candidate: String,
        /// The media section it belongs to.
        sdp_mid: Option<String>,
        /// The index of that media section.
        sdp_m_line_index: Option<u32>,
    },
    /// No more candidates.
    Completed,
}

impl Candidate {
    fn to_json(&self) -> Value {
        match self {
            Candidate::Candidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
            } => json!({
                "candidate": candidate,
                "sdpMid": sdp_mid,
                "sdpMLineIndex": sdp_m_line_index,
            }),
            Candidate::Completed => json!({ "completed": true }),
        }
    }
}

/// A VideoRoom handle of its own. [`PluginHandle::detach`] frees it in Janus (it leaves the
/// room); dropping it stops its events and detaches it in the background, so a participant
/// the relay forgets does not linger in the Janus room.
pub struct PluginHandle {
    client: Arc<JanusClient>,
    id: u64,
    events: mpsc::Receiver<HandleEvent>,
    dropped: Arc<AtomicU64>,
    detached: bool,
}

impl std::fmt::Debug for PluginHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHandle")
            .field("id", &self.id)
            .finish()
    }
}

impl PluginHandle {
    /// Attaches a new VideoRoom handle on `client`'s session and starts routing its events.
    pub(super) async fn attach(client: &Arc<JanusClient>) -> Result<PluginHandle, JanusError> {
        Self::attach_to(client, super::client::VIDEOROOM_PLUGIN).await
    }

    /// Attaches a new handle of `plugin` on `client`'s session and routes its events.
    pub(super) async fn attach_to(
        client: &Arc<JanusClient>,
        plugin: &'static str,
    ) -> Result<PluginHandle, JanusError> {
        let id = client.attach(plugin).await?;
        let (events, dropped) = client.connection().route(id);
        Ok(PluginHandle {
            client: Arc::clone(client),
            id,
            events,
            dropped,
            detached: false,
        })
    }

    /// Janus's id of this handle.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next event Janus sent about this handle; `None` once the connection closed.
    pub async fn next_event(&mut self) -> Option<HandleEvent> {
        self.events.recv().await
    }

    /// How many events were dropped because this handle's queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Passes one of the browser's ICE candidates (or their end) to Janus.
    pub async fn trickle(&self, candidate: &Candidate) -> Result<(), JanusError> {
        let candidate = candidate.to_json();
        self.client
            .on_handle("trickle", self.id, Some(&candidate))
            .await
    }

    /// Gives Janus the SDP `answer` to the offer it made this handle (a subscriber's or a
    /// viewer's): media starts flowing.
    pub async fn start(&self, answer: &str) -> Result<(), JanusError> {
        let body = json!({ "request": "start" });
        let jsep = Jsep::answer(answer);
        self.request("start", &body, Some(&jsep), "event", None)
            .await
            .map(drop)
    }

    /// Closes the handle's PeerConnection; the handle stays usable for a new negotiation.
    pub async fn hangup(&self) -> Result<(), JanusError> {
        self.client.on_handle("hangup", self.id, None).await
    }

    /// Leaves the room (as a publisher or a subscriber); the handle stays attached until
    /// [`PluginHandle::detach`].
    pub async fn leave(&self) -> Result<(), JanusError> {
        self.plain("leave").await
    }

    /// A VideoRoom request with no parameters, answered by an `event`.
    pub(super) async fn plain(&self, request: &str) -> Result<(), JanusError> {
        let body = json!({ "request": request });
        self.request(request, &body, None, "event", None)
            .await
            .map(drop)
    }

    /// Frees the handle in Janus (it leaves the room if it had joined).
    pub async fn detach(mut self) -> Result<(), JanusError> {
        self.detached = true;
        self.client.on_handle("detach", self.id, None).await
    }

    /// A plugin request on this handle: the plugin's data, checked to be a `videoroom`
    /// answer of kind `kind`, and Janus's SDP if `sdp` says one must come with it.
    pub(super) async fn request(
        &self,
        what: &str,
        body: &Value,
        jsep: Option<&Jsep>,
        kind: &str,
        sdp: Option<JsepKind>,
    ) -> Result<(Value, Option<String>), JanusError> {
        let (data, jsep) = self.client.message(self.id, what, body, jsep).await?;
        let unexpected = |detail: String| JanusError::Unexpected {
            request: what.to_owned(),
            detail,
        };
        expect(&data, what, kind)?;
        match (sdp, jsep) {
            (None, _) => Ok((data, None)),
            (Some(wanted), Some(jsep)) if jsep.kind == wanted => Ok((data, Some(jsep.sdp))),
            (Some(wanted), other) => Err(unexpected(format!(
                "expected an SDP {wanted:?}, got {:?}",
                other.map(|jsep| jsep.kind)
            ))),
        }
    }
}

impl PluginHandle {
    /// Like [`PluginHandle::request`] where Janus may answer with an SDP of kind `wanted`
    /// or with none (a change it had nothing to negotiate for).
    pub(super) async fn request_maybe_sdp(
        &self,
        what: &str,
        body: &Value,
        kind: &str,
        wanted: JsepKind,
    ) -> Result<(Value, Option<String>), JanusError> {
        let (data, jsep) = self.client.message(self.id, what, body, None).await?;
        expect(&data, what, kind)?;
        match jsep {
            None => Ok((data, None)),
            Some(jsep) if jsep.kind == wanted => Ok((data, Some(jsep.sdp))),
            Some(jsep) => Err(JanusError::Unexpected {
                request: what.to_owned(),
                detail: format!("expected an SDP {wanted:?} or none, got {:?}", jsep.kind),
            }),
        }
    }
}

impl Drop for PluginHandle {
    fn drop(&mut self) {
        self.client.connection().unroute(self.id);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.detached || self.client.is_closed() {
            return;
        }
        let (client, id) = (Arc::clone(&self.client), self.id);
        runtime.spawn(async move {
            if let Err(err) = client.on_handle("detach", id, None).await {
                tracing::debug!(handle = id, %err, "could not detach a dropped Janus handle");
            }
        });
    }
}
