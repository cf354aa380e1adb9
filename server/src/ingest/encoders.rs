//! The encoders publishing now. Each is a participant of its room (the registry's, under
//! its grant's name) and a publisher of the room's Janus VideoRoom, held by a task until
//! the encoder ends it (`DELETE`), its connection closes or never comes up, the host
//! removes it, the meeting ends or the room leaves the SFU. Then the task takes it out of
//! both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use meshmeet_protocol::{LeaveReason, MediaState, RoomName};
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::grants::IngestGrant;
use super::member::{DeviceMember, Done};
use super::IngestError;
use crate::janus::{HandleEvent, Publisher};
use crate::registry::{random_hex_128, RoomRegistry};
use crate::AppState;

/// How long an encoder's connection may take to come up after its answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// One running encoder, as its `DELETE` finds it.
#[derive(Debug)]
struct Running {
    room: RoomName,
    /// The grant it published with: a new `POST` with it replaces this session.
    token: String,
    /// Ends the task (dropped: ends it too).
    stop: oneshot::Sender<()>,
}

/// Every encoder publishing through this relay, by resource id.
#[derive(Debug, Default)]
pub struct Encoders {
    running: Mutex<HashMap<String, Running>>,
}

impl Encoders {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Running>> {
        // Entries are inserted and removed whole.
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ends the encoder session `id` of `room` that publishes with `token` (its `DELETE`).
    pub fn end(&self, room: &RoomName, id: &str, token: &str) -> Result<(), IngestError> {
        let mut running = self.lock();
        match running.get(id) {
            Some(r) if &r.room == room && r.token == token => {
                if let Some(r) = running.remove(id) {
                    let _ = r.stop.send(());
                }
                Ok(())
            }
            _ => Err(IngestError::NoSuchSession),
        }
    }

    /// Ends the session publishing with `token`, if one is (its encoder publishes again).
    fn end_token(&self, token: &str) {
        self.lock().retain(|_, r| r.token != token);
    }

    /// Forgets `id` once its task ended by itself.
    fn ended(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// What an offer publishes, read from its media sections; `BadOffer` when it is not an
/// SDP offer that sends audio or video.
pub fn offered_media(offer: &str) -> Result<MediaState, IngestError> {
    if !offer.starts_with("v=0") {
        return Err(IngestError::BadOffer(
            "it is not a session description".into(),
        ));
    }
    let mut media = MediaState {
        mic: false,
        camera: false,
        screen: false,
    };
    for line in offer.lines() {
        match line.split_whitespace().next() {
            Some("m=audio") => media.mic = true,
            Some("m=video") => media.camera = true,
            _ => {}
        }
    }
    if !media.mic && !media.camera {
        return Err(IngestError::BadOffer(
            "it has no audio or video section to publish".into(),
        ));
    }
    Ok(media)
}

/// Publishes `offer` into the grant's room as the grant's encoder: its resource id and
/// Janus's answer. A session already publishing with the same grant ends first (an encoder
/// that reconnects replaces itself).
pub async fn publish<R: RoomRegistry>(
    state: &Arc<AppState<R>>,
    grant: IngestGrant,
    offer: &str,
) -> Result<(String, String), IngestError> {
    let media = offered_media(offer)?;
    state.ingest.encoders.end_token(&grant.token);
    let device = DeviceMember::join(state, &grant.room, &grant.name, &grant.token, media).await?;
    let (publisher, answer) = match connect(state, &device, offer).await {
        Ok(connected) => connected,
        Err(err) => {
            device.leave(state, LeaveReason::Left).await;
            return Err(err);
        }
    };
    let id = match random_hex_128() {
        Ok(id) => id,
        Err(err) => {
            finish(state, &device, publisher, LeaveReason::Left).await;
            return Err(IngestError::from_relay(err));
        }
    };
    let (stop, stopped) = oneshot::channel();
    state.ingest.encoders.lock().insert(
        id.clone(),
        Running {
            room: grant.room.clone(),
            token: grant.token.clone(),
            stop,
        },
    );
    info!(room = %grant.room, peer = %device.member.peer_id(), "encoder publishing");
    let task = Task {
        state: Arc::clone(state),
        id: id.clone(),
        device,
        publisher,
    };
    tokio::spawn(task.run(stopped));
    Ok((id, answer))
}

/// Joins the room's Janus room as the device and publishes `offer`.
async fn connect<R: RoomRegistry>(
    state: &Arc<AppState<R>>,
    device: &DeviceMember,
    offer: &str,
) -> Result<(Publisher, String), IngestError> {
    let placed = device.place(state).await?;
    let (publisher, _) = placed
        .client
        .join_publisher(&placed.placement.room, device.member.peer_id().as_str())
        .await?;
    match publisher.publish_complete(offer).await {
        Ok(answer) => Ok((publisher, answer)),
        Err(err) => {
            if let Err(err) = publisher.detach().await {
                warn!(%err, "could not detach a refused encoder's handle");
            }
            Err(err.into())
        }
    }
}

/// Takes the encoder out of Janus and of the room.
async fn finish<R: RoomRegistry>(
    state: &AppState<R>,
    device: &DeviceMember,
    publisher: Publisher,
    reason: LeaveReason,
) {
    if let Err(err) = publisher.detach().await {
        warn!(%err, "could not detach an encoder's handle");
    }
    device.leave(state, reason).await;
}

/// Why an encoder's session ended.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// `DELETE`, or another session with the same grant.
    Deleted,
    /// Its connection closed, or never came up.
    Disconnected,
    /// The meeting is done with it (see [`Done`]).
    Meeting(Done),
}

/// One encoder's session, until it ends.
struct Task<R> {
    state: Arc<AppState<R>>,
    id: String,
    device: DeviceMember,
    publisher: Publisher,
}

impl<R: RoomRegistry> Task<R> {
    async fn run(mut self, mut stopped: oneshot::Receiver<()>) {
        let ending = self.follow(&mut stopped).await;
        let member = &self.device.member;
        info!(room = %member.room(), peer = %member.peer_id(), ?ending, "encoder ended");
        self.state.ingest.encoders.ended(&self.id);
        let reason = match ending {
            Ending::Deleted => LeaveReason::Left,
            _ => LeaveReason::Disconnected,
        };
        finish(&self.state, &self.device, self.publisher, reason).await;
    }

    async fn follow(&mut self, stopped: &mut oneshot::Receiver<()>) -> Ending {
        let connect_deadline = tokio::time::sleep(CONNECT_TIMEOUT);
        tokio::pin!(connect_deadline);
        let mut up = false;
        loop {
            tokio::select! {
                _ = &mut *stopped => return Ending::Deleted,
                () = &mut connect_deadline, if !up => return Ending::Disconnected,
                event = self.publisher.next_event() => match event {
                    Some(HandleEvent::WebrtcUp) => up = true,
                    Some(
                        HandleEvent::Hangup { .. }
                        | HandleEvent::Detached
                        | HandleEvent::RoomDestroyed
                        | HandleEvent::Left { .. },
                    )
                    | None => return Ending::Disconnected,
                    Some(_) => {}
                },
                done = self.device.done(&self.state) => return Ending::Meeting(done),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_publishes_what_its_sections_carry() {
        let both = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
        let media = offered_media(both).expect("usable");
        assert!(media.mic && media.camera && !media.screen);
        let video = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
        let media = offered_media(video).expect("usable");
        assert!(!media.mic && media.camera);
    }

    #[test]
    fn an_offer_without_media_or_not_an_sdp_is_refused() {
        for bad in [
            "",
            "hello",
            "v=0\r\ns=-\r\n",
            "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
        ] {
            assert!(
                matches!(offered_media(bad), Err(IngestError::BadOffer(_))),
                "{bad:?}"
            );
        }
    }
}
