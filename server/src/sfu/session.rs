//! One participant's connections to the media server in an SFU room, for one epoch: a task
//! that owns its publisher and subscriber handles, takes the browser's SDP and candidates
//! from the connection (as [`SfuCommand`]s, in order), follows what Janus announces, and
//! delivers answers, offers and errors to the participant's mailbox (which survives a
//! resume, so the media connections do too).
//!
//! The task ends when the [`SfuSession`] is dropped (the membership ended), when the room
//! leaves its epoch, or when the media server fails; its handles are detached as it ends,
//! which takes the participant out of the Janus room.

use std::collections::{BTreeMap, BTreeSet};
use std::future::pending;
use std::ops::DerefMut;
use std::sync::Arc;

use meshmeet_protocol::{PeerId, ServerMsg, SfuLeg, SimulcastLayer, Topology};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::placement::{media_failed, place, Placed};
use super::plan::{Step, SubscriptionPlan};
use super::video_sends::{VideoSends, Want};
use crate::error::RelayError;
use crate::janus::{
    Candidate, HandleEvent, JanusError, PluginHandle, Publisher, Subscriber, Subscription, Updated,
};
use crate::registry::{Mailbox, Membership, RoomRegistry};
use crate::AppState;

/// Requests a participant may have waiting before more are refused.
const COMMAND_QUEUE: usize = 32;
/// Longest a replaced session may take to leave the Janus room before it is dropped (its
/// handles are then detached in the background).
const FINISH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a layer change may take before Janus is told it again: a key frame of the layer
/// normally arrives within a round trip, and Chromium ignores a request that follows its
/// last key frame closely (a retry a second later made the tests' switches take 1.1 s).
const SWITCH_RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Janus's codes for a session description or candidate it cannot use (VideoRoom: invalid
/// element 430, invalid SDP type 431, invalid SDP 437; core: invalid SDP 465, trickle on an
/// unknown stream 466, unknown JSEP type 469).
pub const SDP_REFUSALS: [i64; 6] = [430, 431, 437, 465, 466, 469];
/// VideoRoom: no such room (the Janus that had it restarted).
const NO_SUCH_ROOM: i64 = 426;

/// What the browser asks of its SFU connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SfuCommand {
    /// Publish with this offer: the first command of a session (every publish starts a
    /// session of its own, see `ws/sfu.rs`).
    Publish(String),
    /// The answer to the latest subscription offer.
    Answer(String),
    /// A candidate of one connection.
    Candidate(SfuLeg, Candidate),
    /// Which video the participant wants (see [`VideoSends`]).
    Prefs {
        /// No video at all.
        audio_only: bool,
        /// No camera video from these participants.
        hidden: BTreeSet<PeerId>,
        /// The camera layer wanted of these participants (the others: the highest).
        layers: BTreeMap<PeerId, SimulcastLayer>,
    },
}

/// A running SFU session; dropping it ends the task and takes the participant out of the
/// Janus room.
#[derive(Debug)]
pub struct SfuSession {
    epoch: u64,
    /// `None` once the session is being finished.
    commands: Option<mpsc::Sender<SfuCommand>>,
    /// `None` once finished.
    task: Option<JoinHandle<()>>,
}

impl SfuSession {
    /// Starts the session of `member` for `epoch`; its replies go to `mailbox`. A
    /// `previous` session of the participant is finished first (its handles detached), so
    /// Janus never holds two publishers of one participant.
    pub fn start<R: RoomRegistry>(
        state: Arc<AppState<R>>,
        member: Membership,
        mailbox: Mailbox,
        epoch: u64,
        previous: Option<SfuSession>,
    ) -> SfuSession {
        let (commands, queued) = mpsc::channel(COMMAND_QUEUE);
        let topology = mailbox.topology();
        let task = Task {
            state,
            member,
            mailbox,
            epoch,
            placed: None,
            publisher: None,
            subscriber: None,
            plan: SubscriptionPlan::default(),
            sends: VideoSends::default(),
            switch_retry_at: None,
        };
        let run = async move {
            if let Some(previous) = previous {
                previous.finish().await;
            }
            task.run(queued, topology).await;
        };
        SfuSession {
            epoch,
            commands: Some(commands),
            task: Some(tokio::spawn(run)),
        }
    }

    /// Ends the task the orderly way: it leaves the Janus room (both handles detached)
    /// before this returns, or within [`FINISH_TIMEOUT`].
    async fn finish(mut self) {
        // The last sender gone, the task's loop ends and it closes its handles.
        self.commands = None;
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(FINISH_TIMEOUT, task).await.is_err() {
                abort.abort();
            }
        }
    }

    /// The epoch the session belongs to.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Whether the task still runs (it stops on a media server failure or a switch).
    pub fn is_running(&self) -> bool {
        self.commands.as_ref().is_some_and(|c| !c.is_closed())
    }

    /// Queues a request for the task.
    pub fn send(&self, command: SfuCommand) -> Result<(), RelayError> {
        let commands = self.commands.as_ref().ok_or(RelayError::SfuOutOfOrder(
            "the SFU session ended; publish again",
        ))?;
        commands.try_send(command).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => {
                RelayError::SfuOutOfOrder("too many SFU requests are waiting; slow down")
            }
            mpsc::error::TrySendError::Closed(_) => {
                RelayError::SfuOutOfOrder("the SFU session ended; publish again")
            }
        })
    }
}

impl Drop for SfuSession {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// How a request went wrong.
enum Failure {
    /// The request is refused; the session goes on.
    Refused(RelayError),
    /// The media server failed; the session ends and the browser publishes again.
    Fatal(RelayError),
}

impl From<RelayError> for Failure {
    fn from(err: RelayError) -> Self {
        match err {
            RelayError::MediaServerFailed(_) | RelayError::WrongTopology { .. } => {
                Failure::Fatal(err)
            }
            other => Failure::Refused(other),
        }
    }
}

/// A Janus error during a request carrying the browser's SDP or candidate.
fn sdp_failure(err: JanusError) -> Failure {
    match err {
        JanusError::Refused { code, reason, .. } if SDP_REFUSALS.contains(&code) => {
            Failure::Refused(RelayError::InvalidSdp(reason))
        }
        other => Failure::Fatal(media_failed(other)),
    }
}

/// What woke the task.
enum Input {
    Command(SfuCommand),
    Publisher(Option<HandleEvent>),
    Subscriber(Option<HandleEvent>),
    /// Time to tell Janus again the layer changes it has not made.
    SwitchRetry,
}

struct Task<R> {
    state: Arc<AppState<R>>,
    member: Membership,
    mailbox: Mailbox,
    epoch: u64,
    placed: Option<Placed>,
    publisher: Option<Publisher>,
    subscriber: Option<Subscriber>,
    plan: SubscriptionPlan,
    sends: VideoSends,
    /// When to tell Janus again the layer changes it has not made.
    switch_retry_at: Option<tokio::time::Instant>,
}

impl<R: RoomRegistry> Task<R> {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<SfuCommand>,
        mut topology: watch::Receiver<Topology>,
    ) {
        loop {
            let input = tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => Input::Command(command),
                    None => break,
                },
                changed = topology.changed() => {
                    let now = *topology.borrow_and_update();
                    if changed.is_err() || now.epoch != self.epoch {
                        debug!(peer = %self.member.peer_id(), "the room left the SFU epoch");
                        break;
                    }
                    continue;
                }
                event = next_event(&mut self.publisher) => Input::Publisher(event),
                event = next_event(&mut self.subscriber) => Input::Subscriber(event),
                () = sleep_until(self.switch_retry_at) => Input::SwitchRetry,
            };
            let outcome = match input {
                Input::Command(command) => self.on_command(command).await,
                Input::Publisher(event) => self.on_publisher_event(event).await,
                Input::Subscriber(event) => self.on_subscriber_event(event).await,
                Input::SwitchRetry => {
                    self.switch_retry_at = None;
                    let again = self.sends.retries();
                    self.configure_sends(again).await
                }
            };
            // A layer change not made yet is told again a moment after it was last told
            // (`configure_sends` sets when).
            if !self.sends.is_switching() {
                self.switch_retry_at = None;
            }
            match outcome {
                Ok(()) => {}
                Err(Failure::Refused(err)) => self.mailbox.deliver(err.to_server_msg()),
                Err(Failure::Fatal(err)) => {
                    warn!(room = %self.member.room(), peer = %self.member.peer_id(), %err, "SFU session ended");
                    self.mailbox.deliver(err.to_server_msg());
                    break;
                }
            }
        }
        self.close().await;
    }

    async fn on_command(&mut self, command: SfuCommand) -> Result<(), Failure> {
        match command {
            SfuCommand::Publish(offer) => self.publish(&offer).await,
            SfuCommand::Answer(answer) => {
                if !self.plan.answered() {
                    return Err(Failure::Refused(RelayError::SfuOutOfOrder(
                        "no subscription offer is waiting for an answer",
                    )));
                }
                let subscriber =
                    self.subscriber
                        .as_ref()
                        .ok_or(Failure::Refused(RelayError::SfuOutOfOrder(
                            "no subscription offer is waiting for an answer",
                        )))?;
                subscriber.start(&answer).await.map_err(sdp_failure)?;
                self.step().await
            }
            SfuCommand::Candidate(leg, candidate) => {
                let handle: Option<&PluginHandle> = match leg {
                    SfuLeg::Publish => self.publisher.as_deref(),
                    SfuLeg::Subscribe => self.subscriber.as_deref(),
                };
                let handle = handle.ok_or(Failure::Refused(RelayError::SfuOutOfOrder(
                    "a candidate for a connection that does not exist yet",
                )))?;
                handle.trickle(&candidate).await.map_err(sdp_failure)
            }
            SfuCommand::Prefs {
                audio_only,
                hidden,
                layers,
            } => {
                self.sends.set_prefs(audio_only, hidden, layers);
                self.send_video().await
            }
        }
    }

    /// Joins the Janus room and publishes the browser's offer (a session's first command).
    async fn publish(&mut self, offer: &str) -> Result<(), Failure> {
        self.join().await?;
        let publisher = self
            .publisher
            .as_ref()
            .ok_or(Failure::Fatal(RelayError::Internal))?;
        let answer = publisher.publish(offer).await.map_err(sdp_failure)?;
        self.mailbox.deliver(ServerMsg::SfuPublished {
            epoch: self.epoch,
            sdp: answer,
        });
        self.step().await
    }

    /// Joins the room's Janus room as a publisher under the peer id; a room gone with a
    /// restarted Janus is placed again, once.
    async fn join(&mut self) -> Result<(), Failure> {
        let mut failed = None;
        for _ in 0..2 {
            let placed = place(&self.state, &self.member, self.epoch, failed).await?;
            let joined = placed
                .client
                .join_publisher(&placed.placement.room, self.member.peer_id().as_str())
                .await;
            match joined {
                Ok((publisher, joined)) => {
                    info!(room = %self.member.room(), peer = %self.member.peer_id(), feed = publisher.feed_id(), "joined the SFU room");
                    self.plan
                        .publishers(&joined.publishers, Some(publisher.feed_id()));
                    self.publisher = Some(publisher);
                    self.placed = Some(placed);
                    return Ok(());
                }
                Err(err) if err.code() == Some(NO_SUCH_ROOM) => {
                    failed = Some(placed.placement.room.id);
                }
                Err(err) => return Err(Failure::Fatal(media_failed(err))),
            }
        }
        Err(Failure::Fatal(RelayError::MediaServerFailed(
            "the room could not be placed on a media server".to_owned(),
        )))
    }

    /// Asks Janus for the subscription the plan wants now, if it wants a change.
    async fn step(&mut self) -> Result<(), Failure> {
        let Some(step) = self.plan.next() else {
            return Ok(());
        };
        let placed = self
            .placed
            .as_ref()
            .ok_or(Failure::Fatal(RelayError::Internal))?;
        let result = match (&step, &self.subscriber) {
            (Step::Create(add), _) => {
                match placed.client.subscribe(&placed.placement.room, add).await {
                    Ok((subscriber, subscription)) => {
                        self.subscriber = Some(subscriber);
                        Ok(Updated::Offer(subscription))
                    }
                    Err(err) => Err(err),
                }
            }
            (Step::Update { add, remove }, Some(subscriber)) => {
                subscriber.update(add, remove).await
            }
            (Step::Update { .. }, None) => return Err(Failure::Fatal(RelayError::Internal)),
        };
        match result {
            Ok(Updated::Offer(subscription)) => {
                self.offer(subscription);
                self.send_video().await
            }
            Ok(Updated::Unchanged(streams)) => {
                // Janus's own renegotiation (an event) brings the subscription as it is.
                if let Some(streams) = streams {
                    self.sends.set_streams(&self.plan.described(&streams));
                }
                self.send_video().await
            }
            // A publisher left between its announcement and this request: Janus tells the
            // others it left, and the plan forgets it.
            Err(JanusError::Refused { code, reason, .. }) => {
                debug!(code, %reason, "Janus refused a subscription change");
                self.plan.failed(&step);
                Ok(())
            }
            Err(err) => Err(Failure::Fatal(media_failed(err))),
        }
    }

    /// Tells Janus which video to send, where that changed.
    async fn send_video(&mut self) -> Result<(), Failure> {
        if self.subscriber.is_none() {
            // Applied once there is a subscription.
            return Ok(());
        }
        let changes = self.sends.changes();
        self.configure_sends(changes).await
    }

    /// Tells Janus `changes` (send and layer by mid).
    async fn configure_sends(&mut self, changes: Vec<(String, Want)>) -> Result<(), Failure> {
        let Some(subscriber) = &self.subscriber else {
            return Ok(());
        };
        if changes.is_empty() {
            return Ok(());
        }
        let sends: Vec<(String, bool, Option<u8>)> = changes
            .iter()
            .map(|(mid, want)| (mid.clone(), want.send, want.substream))
            .collect();
        match subscriber.send_streams(&sends).await {
            Ok(()) => {
                debug!(peer = %self.member.peer_id(), ?changes, "video sends configured");
                // A layer change just told is told again only a full wait later.
                if self.sends.is_switching() {
                    self.switch_retry_at = Some(tokio::time::Instant::now() + SWITCH_RETRY_AFTER);
                }
                Ok(())
            }
            // A stream went away meanwhile: the next description decides again.
            Err(JanusError::Refused { code, reason, .. }) => {
                debug!(code, %reason, "Janus refused a change of video sends");
                self.sends.refused(&changes);
                Ok(())
            }
            Err(err) => Err(Failure::Fatal(media_failed(err))),
        }
    }

    /// Sends Janus's subscription offer to the browser.
    fn offer(&mut self, subscription: Subscription) {
        let streams = self.plan.offered(&subscription.streams);
        self.sends.set_streams(&streams);
        let streams = streams.into_iter().map(|(stream, _)| stream).collect();
        self.mailbox.deliver(ServerMsg::SfuSubscription {
            epoch: self.epoch,
            sdp: subscription.offer,
            streams,
        });
    }

    async fn on_publisher_event(&mut self, event: Option<HandleEvent>) -> Result<(), Failure> {
        let own = self.publisher.as_ref().map(|p| p.feed_id());
        match event {
            None | Some(HandleEvent::Detached) => Err(lost()),
            Some(HandleEvent::Publishers(feeds)) => {
                self.plan.publishers(&feeds, own);
                self.step().await
            }
            Some(
                HandleEvent::Unpublished(feed)
                | HandleEvent::Leaving(feed)
                | HandleEvent::Kicked(feed),
            ) => {
                self.plan.gone(feed);
                self.step().await
            }
            Some(HandleEvent::RoomDestroyed | HandleEvent::Left { .. }) => Err(lost()),
            Some(event) => {
                debug!(peer = %self.member.peer_id(), ?event, "publisher event");
                Ok(())
            }
        }
    }

    async fn on_subscriber_event(&mut self, event: Option<HandleEvent>) -> Result<(), Failure> {
        match event {
            None | Some(HandleEvent::Detached) => Err(lost()),
            Some(HandleEvent::Updated { streams, offer }) => {
                match offer {
                    Some(offer) => self.offer(Subscription { offer, streams }),
                    None => {
                        self.sends.set_streams(&self.plan.described(&streams));
                    }
                }
                self.send_video().await
            }
            Some(HandleEvent::RoomDestroyed) => Err(lost()),
            Some(HandleEvent::Substream { mid, substream }) => {
                debug!(peer = %self.member.peer_id(), %mid, substream, "layer switched");
                self.sends.switched(&mid);
                Ok(())
            }
            Some(event) => {
                debug!(peer = %self.member.peer_id(), ?event, "subscriber event");
                Ok(())
            }
        }
    }

    /// Leaves the Janus room: both handles detached.
    async fn close(&mut self) {
        if let Some(subscriber) = self.subscriber.take() {
            let _ = subscriber.detach().await;
        }
        if let Some(publisher) = self.publisher.take() {
            let _ = publisher.detach().await;
        }
    }
}

/// The media server connection or room went away.
fn lost() -> Failure {
    Failure::Fatal(RelayError::MediaServerFailed(
        "the media server connection was lost".to_owned(),
    ))
}

/// Fires at `deadline`, never without one.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => pending::<()>().await,
    }
}

/// The next event of a handle, or never when there is none.
async fn next_event<H: DerefMut<Target = PluginHandle>>(
    handle: &mut Option<H>,
) -> Option<HandleEvent> {
    match handle {
        Some(handle) => handle.next_event().await,
        None => pending().await,
    }
}
