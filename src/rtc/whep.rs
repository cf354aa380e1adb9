//! A WHEP viewer (draft-ietf-wish-whep), as the watch page uses it: one receive-only
//! connection offering audio and video, its offer posted with the viewer token as a bearer
//! token, the answer applied, and what arrives gathered in one `MediaStream`. No trickle:
//! the offer waits for its candidates, as the relay's WHEP endpoint expects. Yew-free.

use super::description::{create_and_set_local, set_remote};
use super::RtcError;
use crate::js::{fetch_text, JsError};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{
    MediaStream, RtcIceGatheringState, RtcPeerConnection, RtcPeerConnectionState,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcTrackEvent,
};

/// Longest wait for the offer's candidates before it is sent with those it has.
const GATHERING_WAIT_MS: u32 = 3_000;
/// How often the gathering state is looked at meanwhile.
const GATHERING_POLL_MS: u32 = 50;

/// Why watching failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WhepError {
    /// The connection could not be made or negotiated.
    #[error(transparent)]
    Rtc(#[from] RtcError),
    /// The endpoint could not be reached.
    #[error("the live could not be reached: {0}")]
    Network(String),
    /// The endpoint refused the offer (its status and words).
    #[error("the live refused to play ({status}): {text}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// What it said.
        text: String,
    },
}

/// A playing WHEP connection; [`WhepViewer::close`] ends it on the server too.
pub struct WhepViewer {
    pc: RtcPeerConnection,
    /// The viewer's resource (`Location`), for the `DELETE`.
    resource: Option<String>,
    token: String,
    stream: MediaStream,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
}

impl WhepViewer {
    /// Offers to receive from the WHEP `endpoint` (`/whep/<room>`) with `token`.
    pub async fn connect(endpoint: &str, token: &str) -> Result<WhepViewer, WhepError> {
        let pc = RtcPeerConnection::new().map_err(|e| RtcError::Create(e.into()))?;
        let stream = MediaStream::new().map_err(|e| RtcError::Create(e.into()))?;
        let on_track = {
            let stream = Clone::clone(&stream);
            Closure::<dyn FnMut(RtcTrackEvent)>::new(move |event: RtcTrackEvent| {
                stream.add_track(&event.track());
            })
        };
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        let viewer = WhepViewer {
            pc,
            resource: None,
            token: token.to_owned(),
            stream,
            _on_track: on_track,
        };
        match viewer.negotiate(endpoint).await {
            Ok(resource) => Ok(WhepViewer { resource, ..viewer }),
            Err(err) => {
                // What the server made for us is ended already (see `negotiate`).
                viewer.pc.close();
                Err(err)
            }
        }
    }

    /// Offers, posts, applies the answer: the viewer's resource, if the server named one.
    async fn negotiate(&self, endpoint: &str) -> Result<Option<String>, WhepError> {
        for kind in ["audio", "video"] {
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Recvonly);
            self.pc.add_transceiver_with_str_and_init(kind, &init);
        }
        create_and_set_local(&self.pc, true).await?;
        self.gathered().await;
        let offer = self
            .pc
            .local_description()
            .map(|d| d.sdp())
            .ok_or_else(|| RtcError::Negotiation(JsError::new("Error", "no local description")))?;
        let bearer = format!("Bearer {}", self.token);
        let headers = [
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/sdp"),
        ];
        let reply = fetch_text("POST", endpoint, &headers, Some(&offer))
            .await
            .map_err(|e| WhepError::Network(e.to_string()))?;
        if reply.status != 201 {
            return Err(WhepError::Refused {
                status: reply.status,
                text: reply.text.trim().to_owned(),
            });
        }
        if let Err(err) = set_remote(&self.pc, RtcSdpType::Answer, &reply.text).await {
            // The server made a viewer for us: end it rather than leave it waiting.
            if let Some(resource) = reply.location {
                end_resource(resource, self.token.clone());
            }
            return Err(err.into());
        }
        Ok(reply.location)
    }

    /// Waits (bounded) until the offer has its candidates.
    async fn gathered(&self) {
        let mut waited = 0;
        while self.pc.ice_gathering_state() != RtcIceGatheringState::Complete
            && waited < GATHERING_WAIT_MS
        {
            gloo_timers::future::TimeoutFuture::new(GATHERING_POLL_MS).await;
            waited += GATHERING_POLL_MS;
        }
    }

    /// What arrives: the stage's sound and picture.
    pub fn stream(&self) -> MediaStream {
        Clone::clone(&self.stream)
    }

    /// Whether the connection failed or closed (the page then watches anew).
    pub fn is_broken(&self) -> bool {
        matches!(
            self.pc.connection_state(),
            RtcPeerConnectionState::Failed | RtcPeerConnectionState::Closed
        )
    }

    /// Ends the connection, and the viewer's resource on the server (in the background).
    pub fn close(self) {
        self.pc.close();
        if let Some(resource) = self.resource {
            end_resource(resource, self.token);
        }
    }
}

/// `DELETE`s a viewer's resource on the server, in the background (nothing waits for it).
fn end_resource(resource: String, token: String) {
    wasm_bindgen_futures::spawn_local(async move {
        let bearer = format!("Bearer {token}");
        let _ = fetch_text("DELETE", &resource, &[("Authorization", &bearer)], None).await;
    });
}
