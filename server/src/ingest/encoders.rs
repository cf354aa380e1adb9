//! The encoders publishing now. Each is a participant of its room (the registry's, under
//! its grant's name) and a publisher of the room's Janus VideoRoom, held by a task until
//! the encoder ends it (`DELETE`), its connection closes or never comes up, the host
//! removes it, the meeting ends or the room leaves the SFU. Then the task takes it out of
//! both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use meshmeet_protocol::{
    LeaveReason, MediaMode, MediaState, RoomName, ServerMsg, SessionToken, Topology,
};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

use super::grants::IngestGrant;
use super::IngestError;
use crate::janus::{HandleEvent, Publisher};
use crate::registry::{
    random_hex_128, JoinRequest, Mailbox, MailboxSignal, Membership, Outbound, RoomRegistry,
    WelcomeExtras, ENCODER_IDENTITY_PREFIX,
};
use crate::sfu::place;
use crate::AppState;

/// How long an encoder's connection may take to come up after its answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages of the room queued for an encoder: it reads them at once (and ignores most).
const INBOX: usize = 256;

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

    /// How many encoders publish through this relay.
    pub fn count(&self) -> usize {
        self.lock().len()
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
    if state.config.janus_urls.is_empty() || state.janus.ready().is_err() {
        return Err(IngestError::NoMediaServer);
    }
    // Only into a meeting that is on the SFU now: a join would otherwise create a room the
    // meeting has left, or put a peer browsers cannot call into a mesh.
    let placed_before = state
        .registry
        .room_sfu_placement(&grant.room)
        .await
        .map_err(IngestError::from_relay)?;
    if placed_before.is_none() {
        return Err(IngestError::NotOnSfu);
    }
    state.ingest.encoders.end_token(&grant.token);

    let (queue, inbox) = mpsc::channel(INBOX);
    let signal = Arc::new(MailboxSignal::default());
    let mailbox = Mailbox::new(queue, signal, state.lifecycle.draining_flag());
    let topology = mailbox.topology();
    let config = &state.config;
    let request = JoinRequest {
        room: grant.room.clone(),
        name: grant.name.clone(),
        media,
        password: None,
        // The host let it in; removing it bars its token.
        vouched: true,
        identity: Some(format!("{ENCODER_IDENTITY_PREFIX}{}", grant.token)),
        mailbox,
        welcome: WelcomeExtras {
            // The encoder talks to Janus directly with the candidates of its offer.
            ice_servers: Vec::new(),
            ice_transport_policy: config.ice_transport_policy(),
            limits: config.room_limits(),
            // Never registered: an encoder's session cannot be resumed.
            session: SessionToken(random_hex_128().map_err(IngestError::from_relay)?),
            resume_grace_ms: 0,
        },
        topology: state.topology_policy(),
    };
    let member = state
        .registry
        .join(request)
        .await
        .map_err(IngestError::from_relay)?;
    let joined_topology = *topology.borrow();
    match connect(state, &member, joined_topology, offer).await {
        Ok((publisher, answer)) => {
            let id = random_hex_128().map_err(IngestError::from_relay);
            let id = match id {
                Ok(id) => id,
                Err(err) => {
                    finish(state, &member, publisher, LeaveReason::Left).await;
                    return Err(err);
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
            info!(room = %member.room(), peer = %member.peer_id(), "encoder publishing");
            let task = Task {
                state: Arc::clone(state),
                id: id.clone(),
                member,
                publisher,
                inbox,
                topology,
                joined_topology,
            };
            tokio::spawn(task.run(stopped));
            Ok((id, answer))
        }
        Err(err) => {
            state.registry.leave(&member, LeaveReason::Left).await;
            Err(err)
        }
    }
}

/// Joins the room's Janus room as `member` and publishes `offer`.
async fn connect<R: RoomRegistry>(
    state: &Arc<AppState<R>>,
    member: &Membership,
    topology: Topology,
    offer: &str,
) -> Result<(Publisher, String), IngestError> {
    if topology.mode != MediaMode::Sfu {
        return Err(IngestError::NotOnSfu);
    }
    let placed = place(state, member, topology.epoch, None)
        .await
        .map_err(IngestError::from_relay)?;
    let (publisher, _) = placed
        .client
        .join_publisher(&placed.placement.room, member.peer_id().as_str())
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
    member: &Membership,
    publisher: Publisher,
    reason: LeaveReason,
) {
    if let Err(err) = publisher.detach().await {
        warn!(%err, "could not detach an encoder's handle");
    }
    state.registry.leave(member, reason).await;
}

/// Why an encoder's session ended.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// `DELETE`, or another session with the same grant.
    Deleted,
    /// Its connection closed, or never came up.
    Disconnected,
    /// The host removed it or ended the meeting (the registry took it out already).
    Ended,
    /// The room left the epoch it published in.
    Moved,
}

/// One encoder's session, until it ends.
struct Task<R> {
    state: Arc<AppState<R>>,
    id: String,
    member: Membership,
    publisher: Publisher,
    inbox: mpsc::Receiver<Outbound>,
    topology: watch::Receiver<Topology>,
    joined_topology: Topology,
}

impl<R: RoomRegistry> Task<R> {
    async fn run(mut self, mut stopped: oneshot::Receiver<()>) {
        let ending = self.follow(&mut stopped).await;
        info!(room = %self.member.room(), peer = %self.member.peer_id(), ?ending, "encoder ended");
        self.state.ingest.encoders.ended(&self.id);
        let reason = match ending {
            Ending::Deleted => LeaveReason::Left,
            _ => LeaveReason::Disconnected,
        };
        finish(&self.state, &self.member, self.publisher, reason).await;
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
                queued = self.inbox.recv() => match queued {
                    Some(Outbound::Msg(msg)) if msg.ends_session() => {
                        if msg == ServerMsg::MeetingEnded {
                            self.state.ingest.grants.forget_room(self.member.room());
                        }
                        return Ending::Ended;
                    }
                    Some(Outbound::Close { .. }) | None => return Ending::Ended,
                    Some(_) => {}
                },
                changed = self.topology.changed() => {
                    if changed.is_err() || *self.topology.borrow() != self.joined_topology {
                        return Ending::Moved;
                    }
                }
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
