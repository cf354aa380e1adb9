//! The live rooms this relay runs (the one whose host went live through it): for each, a
//! task that follows the registry's live state and the room's SFU placement, keeps an
//! observer in the Janus room to learn the stage members' feeds, and forwards a stage of one
//! into the room's mountpoints (a stage of several reaches them as the encoder's composite);
//! and the WHEP viewers, each a Janus Streaming handle of its own. The task ends the live (viewers hung up, forwards stopped, mountpoints destroyed)
//! as soon as the registry no longer says the room is live with this token.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use meshmeet_protocol::{LiveInfo, LiveOutputs, PeerId, RoomName};
use subtle::ConstantTimeEq;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::bridge::{bridge, viewer_codecs, StageVideo, ViewerCodecs};
use super::encoder::{live_dir, Encoder, EncoderSettings};
use super::encoder_plan::{EncoderPlan, EncoderPorts, StageInput, AUDIO_PT, VIDEO_PT};
use super::error::LiveError;
use super::fanout::Fanout;
use super::rtmp_push::{PushStates, RtmpPush};
use super::sdp::Sdp;
use super::speaker::SpeakerFollower;
use crate::janus::{
    Feed, FeedStream, Forwarding, HandleEvent, JanusClient, JanusRoom, Mountpoint, Publisher,
    RtpTarget, VideoSource, Viewer,
};
use crate::registry::{Mailbox, RoomRegistry};
use crate::AppState;

/// How often the task looks at the registry (the live state, the placement).
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// The display name of the live's observer in the Janus room (participants' are peer ids).
const OBSERVER: &str = "meshmeet-live";
/// Most mountpoints of one live: one per kind of viewer offer (each browser family numbers
/// its codecs its own way, so a handful covers every player); offers numbering them yet
/// another way are refused rather than each costing a mountpoint and a forward.
const MAX_MOUNTS: usize = 8;

/// The live rooms of this relay.
#[derive(Debug, Default)]
pub struct LiveRooms {
    rooms: Mutex<HashMap<RoomName, Arc<LiveRoom>>>,
}

/// One live room.
#[derive(Debug)]
pub struct LiveRoom {
    room: RoomName,
    token: String,
    max_viewers: u32,
    stage: Mutex<Vec<PeerId>>,
    /// Whether the stage follows whoever speaks (the registry's, as last read).
    follows_speaker: AtomicBool,
    /// Who talks in the room, and who is on the stage since when: kept all along, so a
    /// live that starts following the speaker knows who talks already.
    speakers: Mutex<SpeakerFollower>,
    /// Where the stage also goes (RTMP, HLS): the host's, never told to anyone.
    outputs: Mutex<LiveOutputs>,
    /// The connection of the host that set them, told how each RTMP address is doing.
    host: Arc<Mutex<Option<Mailbox>>>,
    encoder_settings: EncoderSettings,
    /// The running encoder's HLS directory, for the routes (which do not wait for the
    /// media lock, held across Janus requests).
    hls_dir: Mutex<Option<PathBuf>>,
    /// The live's private directory for its encoders' files (one for the whole live, so
    /// HLS players go on across a new encoder), made with the first.
    files: Mutex<Option<PathBuf>>,
    /// ffmpeg's runs so far, across the live's encoders: each names its segments apart.
    runs: Arc<AtomicU32>,
    media: tokio::sync::Mutex<Media>,
    viewers: Mutex<Viewers>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// The live's viewers, and the places taken by offers still being answered.
#[derive(Debug, Default)]
struct Viewers {
    connected: HashMap<String, ViewerEntry>,
    pending: usize,
}

/// Where the live's media is: the Janus room it comes from and the mountpoints it goes to.
#[derive(Debug, Default)]
struct Media {
    placed: Option<Placed>,
    /// Mountpoints by what they send (one per kind of viewer offer).
    mounts: HashMap<(StageVideo, ViewerCodecs), Mount>,
    /// The encoder, while the live has outputs (RTMP, HLS) or a stage of several, and a
    /// stage member publishes.
    encoder: Option<EncoderSlot>,
}

/// The encoder and the forwards that feed it.
#[derive(Debug)]
struct EncoderSlot {
    encoder: Encoder,
    /// What it was started for: another stage, codec or outputs start another.
    key: EncoderKey,
    janus: Arc<JanusClient>,
    room: JanusRoom,
    /// Each member's forward, in the key's order.
    forwardings: Vec<Option<Forwarding>>,
    /// The ffmpeg run the forwards were made for (0: none yet).
    forwarded_run: u32,
    /// Where the composite for the WebRTC audience comes back (a stage of several).
    fanout: Option<Fanout>,
    /// One per RTMP address, fed by the encoder.
    pushes: Vec<RtmpPush>,
}

/// What an encoder runs for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct EncoderKey {
    /// The publishing stage members (feed ids) in the stage's order, and what each sends.
    members: Vec<(u64, StageInput)>,
    outputs: LiveOutputs,
    /// Whether it makes the audience's composite (the stage names several).
    audience: bool,
    /// The Janus room it is fed from.
    room: u64,
}

#[derive(Debug)]
struct Placed {
    janus: Arc<JanusClient>,
    room: JanusRoom,
    /// Publishers of the Janus room by display name (peer id).
    feeds: HashMap<String, Feed>,
}

#[derive(Debug)]
struct Mount {
    /// The Janus and the VideoRoom room it was made on and is fed from: it is destroyed
    /// there even once the live has moved on (a Janus connection that dropped).
    janus: Arc<JanusClient>,
    room: JanusRoom,
    mount: Mountpoint,
    forwarding: Option<Forwarding>,
}

#[derive(Debug)]
struct ViewerEntry {
    connected: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every value behind these locks is replaced whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LiveRooms {
    /// The live room `room`, if this relay runs it.
    pub fn get(&self, room: &RoomName) -> Option<Arc<LiveRoom>> {
        lock(&self.rooms).get(room).cloned()
    }

    /// Runs `room`'s live as the registry now has it, with the `outputs` of the host at
    /// `host`: starts it, or takes its new stage and outputs.
    pub fn run<R: RoomRegistry>(
        self: &Arc<Self>,
        state: &Arc<AppState<R>>,
        room: &RoomName,
        live: &LiveInfo,
        outputs: LiveOutputs,
        host: Mailbox,
    ) {
        let mut rooms = lock(&self.rooms);
        if let Some(running) = rooms.get(room).filter(|r| r.token == live.watch_token) {
            running.take_stage(live);
            *lock(&running.outputs) = outputs;
            *lock(&running.host) = Some(host);
            return;
        }
        let running = Arc::new(LiveRoom {
            room: room.clone(),
            token: live.watch_token.clone(),
            max_viewers: state.config.max_viewers,
            stage: Mutex::new(live.stage.clone()),
            follows_speaker: AtomicBool::new(live.follow_speaker),
            // go_live never makes an empty stage.
            speakers: Mutex::new(SpeakerFollower::new(
                live.stage
                    .first()
                    .cloned()
                    .unwrap_or_else(|| PeerId::from("")),
                Instant::now(),
            )),
            outputs: Mutex::new(outputs),
            host: Arc::new(Mutex::new(Some(host))),
            encoder_settings: state.config.encoder_settings(),
            hls_dir: Mutex::new(None),
            files: Mutex::new(None),
            runs: Arc::new(AtomicU32::new(0)),
            media: tokio::sync::Mutex::new(Media::default()),
            viewers: Mutex::new(Viewers::default()),
            task: Mutex::new(None),
        });
        let task = tokio::spawn(follow(
            Arc::clone(state),
            Arc::downgrade(self),
            Arc::clone(&running),
        ));
        *lock(&running.task) = Some(task);
        if let Some(old) = rooms.insert(room.clone(), running) {
            // A live ended and another began before the old task noticed: its viewers,
            // forwards and mountpoints go now.
            old.abort();
            tokio::spawn(async move { old.tear_down().await });
        }
        info!(room = %room, "live started");
    }

    /// Ends `room`'s live on this relay at once (the registry already says it ended).
    pub async fn end(&self, room: &RoomName) {
        let ended = lock(&self.rooms).remove(room);
        if let Some(live) = ended {
            live.abort();
            live.tear_down().await;
            info!(room = %room, "live ended");
        }
    }

    fn forget(&self, live: &LiveRoom) {
        let mut rooms = lock(&self.rooms);
        if rooms.get(&live.room).is_some_and(|r| r.token == live.token) {
            rooms.remove(&live.room);
        }
    }
}

impl LiveRoom {
    /// Whether `token` is this live's viewer token (compared in constant time).
    pub fn admits(&self, token: &str) -> bool {
        bool::from(token.as_bytes().ct_eq(self.token.as_bytes()))
    }

    /// Viewers whose connection is up.
    pub fn viewer_count(&self) -> usize {
        lock(&self.viewers)
            .connected
            .values()
            .filter(|v| v.connected.load(Ordering::Relaxed))
            .count()
    }

    /// The directory of the live's HLS playlist and segments, while it writes HLS.
    pub fn hls_dir(&self) -> Option<PathBuf> {
        lock(&self.hls_dir).clone()
    }

    /// Whether the stage's media reaches the mountpoints (a stage member publishes).
    pub async fn on_air(&self) -> bool {
        let stage = lock(&self.stage).clone();
        let media = self.media.lock().await;
        media
            .placed
            .as_ref()
            .is_some_and(|placed| stage.iter().any(|p| placed.feeds.contains_key(p.as_str())))
    }

    /// A new viewer with its WHEP `offer`: its resource id and the SDP answer.
    pub async fn add_viewer(self: &Arc<Self>, offer: &str) -> Result<(String, String), LiveError> {
        let offer = Sdp::parse(offer)?;
        // Everything about the offer alone is checked before anything is made for it.
        let stage_video = self.stage_video().await;
        let codecs = viewer_codecs(&offer, stage_video)?;
        {
            let mut viewers = lock(&self.viewers);
            if viewers.connected.len() + viewers.pending >= self.max_viewers as usize {
                return Err(LiveError::Full(self.max_viewers));
            }
            viewers.pending += 1;
        }
        let added = self.answer(&offer, stage_video, codecs).await;
        let mut viewers = lock(&self.viewers);
        viewers.pending = viewers.pending.saturating_sub(1);
        let (id, answer, entry) = added?;
        viewers.connected.insert(id.clone(), entry);
        Ok((id, answer))
    }

    /// The one on the stage, when it is one (a stage of several is the encoder's composite).
    fn stage_of_one(&self) -> Option<PeerId> {
        match &lock(&self.stage)[..] {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    /// The stage's video codec, as its camera publishes it (VP8 until it publishes, and the
    /// composite of a stage of several is VP8).
    async fn stage_video(&self) -> StageVideo {
        let stage = self.stage_of_one();
        let media = self.media.lock().await;
        let feed = media
            .placed
            .as_ref()
            .zip(stage)
            .and_then(|(placed, peer)| placed.feeds.get(peer.as_str()).map(stage_video));
        feed.unwrap_or(StageVideo::Vp8)
    }

    /// Watches the mountpoint for `codecs` (made now if needed) with `offer`.
    async fn answer(
        self: &Arc<Self>,
        offer: &Sdp,
        video: StageVideo,
        codecs: ViewerCodecs,
    ) -> Result<(String, String, ViewerEntry), LiveError> {
        let (janus, mount) = self.mount_for(video, codecs).await?;
        // The media lock is not held from here: a slow Janus delays this viewer only.
        let (viewer, janus_offer) = janus.watch(&mount).await?;
        let id = crate::registry::random_hex_128().map_err(|_| LiveError::NotReady)?;
        let bridged = bridge(offer, &Sdp::parse(&janus_offer)?, session_number(&id))?;
        viewer.start(&bridged.to_janus).await?;
        let connected = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(watch_viewer(
            Arc::downgrade(self),
            id.clone(),
            viewer,
            Arc::clone(&connected),
        ));
        Ok((id, bridged.to_viewer, ViewerEntry { connected, task }))
    }

    /// The mountpoint that sends `video` with `codecs`' payload types, made (and fed from
    /// the stage) if the live has none yet.
    async fn mount_for(
        &self,
        video: StageVideo,
        codecs: ViewerCodecs,
    ) -> Result<(Arc<JanusClient>, Mountpoint), LiveError> {
        // A stage of several reaches the mountpoints through the encoder, not a forward.
        let stage = self.stage_of_one();
        let mut media = self.media.lock().await;
        let media = &mut *media;
        let placed = media.placed.as_ref().ok_or(LiveError::NotReady)?;
        if let Some(existing) = media.mounts.get(&(video, codecs)) {
            return Ok((Arc::clone(&existing.janus), existing.mount.clone()));
        }
        if media.mounts.len() >= MAX_MOUNTS {
            return Err(LiveError::TooManyKinds(MAX_MOUNTS));
        }
        let mount = placed
            .janus
            .create_mountpoint(
                "meshmeet live",
                video.janus_name(),
                codecs.audio_pt,
                codecs.video_pt,
            )
            .await?;
        let feed = stage.and_then(|p| placed.feeds.get(p.as_str()));
        let forwarding = match feed.filter(|f| stage_video(f) == video) {
            Some(feed) => forward(placed, feed, &mount.target()).await,
            None => None,
        };
        let made = (Arc::clone(&placed.janus), mount.clone());
        media.mounts.insert(
            (video, codecs),
            Mount {
                janus: Arc::clone(&placed.janus),
                room: placed.room.clone(),
                mount,
                forwarding,
            },
        );
        if let Some(fanout) = media.encoder.as_ref().and_then(|e| e.fanout.as_ref()) {
            fanout.set_targets(audience_targets(&media.mounts));
        }
        Ok(made)
    }

    /// Ends viewer `id` (its WHEP `DELETE`).
    pub fn remove_viewer(&self, id: &str) -> Result<(), LiveError> {
        let entry = lock(&self.viewers)
            .connected
            .remove(id)
            .ok_or(LiveError::NoSuchViewer)?;
        // Dropping the handle detaches it: Janus hangs the viewer up.
        entry.task.abort();
        Ok(())
    }

    fn abort(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }

    /// Hangs every viewer up, stops the forwards and destroys the mountpoints (the live
    /// ended, or its room moved to another Janus room).
    async fn tear_down(&self) {
        for (_, viewer) in lock(&self.viewers).connected.drain() {
            viewer.task.abort();
        }
        let mut media = self.media.lock().await;
        media.placed = None;
        let mounts: Vec<Mount> = media.mounts.drain().map(|(_, m)| m).collect();
        let encoder = media.encoder.take();
        drop(media);
        for mount in mounts {
            unmount(mount).await;
        }
        if let Some(slot) = encoder {
            self.stop_encoder(slot).await;
        }
        let files = lock(&self.files).take();
        if let Some(files) = files {
            if let Err(err) = tokio::fs::remove_dir_all(&files).await {
                warn!(%err, dir = %files.display(), "could not remove a live's files");
            }
        }
    }

    /// Stops the encoder (ffmpeg finishes its outputs while the stage still flows, and is
    /// gone when this returns), then its forward.
    async fn stop_encoder(&self, slot: EncoderSlot) {
        *lock(&self.hls_dir) = None;
        // All at once: each push ends its stream while the encoder's last packets reach it.
        let pushes = futures_util::future::join_all(slot.pushes.into_iter().map(RtmpPush::stop));
        futures_util::future::join(pushes, slot.encoder.stop()).await;
        for forwarding in slot.forwardings.iter().flatten() {
            if let Err(err) = slot.janus.stop_forwarding(&slot.room, forwarding).await {
                warn!(%err, "could not stop the live encoder's forward");
            }
        }
    }
}

/// The task of one live room: follows the registry and the stage's feed until the live ends.
async fn follow<R: RoomRegistry>(
    state: Arc<AppState<R>>,
    rooms: Weak<LiveRooms>,
    live: Arc<LiveRoom>,
) {
    let mut observer: Option<Publisher> = None;
    // A tick every second however many events come between (who talks, in a busy room):
    // the registry is read on each.
    let mut checks = tokio::time::interval(CHECK_EVERY);
    checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let event = match observer.as_mut() {
            Some(handle) => tokio::select! {
                event = handle.next_event() => Some(event),
                _ = checks.tick() => None,
            },
            None => {
                checks.tick().await;
                None
            }
        };
        match event {
            Some(Some(HandleEvent::Talking { id, talking })) => {
                live.on_talking(id, talking).await;
                live.follow_speaker(&state).await;
                continue;
            }
            Some(Some(event)) => {
                live.on_feed_event(event).await;
                continue;
            }
            // The observer's connection to Janus is gone: place again below.
            Some(None) => {
                observer = None;
                live.media.lock().await.placed = None;
            }
            None => {}
        }
        match state.registry.room_live(&live.room).await {
            Ok(Some(now)) if now.watch_token == live.token => live.take_stage(&now),
            Ok(_) => break,
            // Redis unreachable: keep what runs, look again later.
            Err(err) => {
                warn!(room = %live.room, %err, "could not read the live state");
                continue;
            }
        }
        if let Err(err) = live.follow_placement(&state, &mut observer).await {
            warn!(room = %live.room, %err, "the live could not follow its room's media server");
        }
        live.sync_forwards().await;
        live.follow_speaker(&state).await;
    }
    if let Some(rooms) = rooms.upgrade() {
        rooms.forget(&live);
    }
    live.tear_down().await;
    info!(room = %live.room, "live ended");
}

impl LiveRoom {
    /// Joins the observer into the Janus room the registry names, if it is not there.
    async fn follow_placement<R: RoomRegistry>(
        &self,
        state: &Arc<AppState<R>>,
        observer: &mut Option<Publisher>,
    ) -> Result<(), LiveError> {
        let placement = state
            .registry
            .room_sfu_placement(&self.room)
            .await
            .map_err(|_| LiveError::NotReady)?;
        let current = self.media.lock().await.placed.as_ref().map(|p| p.room.id);
        if current.is_some() && current == placement.as_ref().map(|p| p.room.id) {
            return Ok(());
        }
        // Another Janus room (or none): what ran on the old one goes.
        *observer = None;
        self.tear_down().await;
        let Some(placement) = placement else {
            return Ok(());
        };
        let Some(janus) = state.janus.client_for(&placement.janus_url) else {
            return Err(LiveError::NotReady);
        };
        let (handle, joined) = janus.join_publisher(&placement.room, OBSERVER).await?;
        let talking = joined
            .publishers
            .iter()
            .filter(|feed| feed.talking)
            .filter_map(|feed| Some(PeerId::from(feed.display.as_deref()?)))
            .collect();
        lock(&self.speakers).talking_now(talking);
        let feeds = joined
            .publishers
            .into_iter()
            .filter_map(|feed| Some((feed.display.clone()?, feed)))
            .collect();
        self.media.lock().await.placed = Some(Placed {
            janus,
            room: placement.room,
            feeds,
        });
        *observer = Some(handle);
        Ok(())
    }

    /// A publisher arrived, changed or left.
    async fn on_feed_event(&self, event: HandleEvent) {
        let mut media = self.media.lock().await;
        let Some(placed) = media.placed.as_mut() else {
            return;
        };
        match event {
            HandleEvent::Publishers(feeds) => {
                for feed in feeds {
                    if let Some(display) = feed.display.clone() {
                        placed.feeds.insert(display, feed);
                    }
                }
            }
            HandleEvent::Unpublished(id) | HandleEvent::Leaving(id) | HandleEvent::Kicked(id) => {
                let mut speakers = lock(&self.speakers);
                placed.feeds.retain(|display, feed| {
                    let stays = feed.id != id;
                    if !stays {
                        speakers.gone(&PeerId::from(display.as_str()));
                    }
                    stays
                });
            }
            _ => return,
        }
        drop(media);
        self.sync_forwards().await;
    }

    /// Takes the stage the registry has for this live (the host's choice, or the speaker the
    /// relay moved it to).
    fn take_stage(&self, live: &LiveInfo) {
        *lock(&self.stage) = live.stage.clone();
        self.follows_speaker
            .store(live.follow_speaker, Ordering::Relaxed);
        if let Some(first) = live.stage.first() {
            lock(&self.speakers).moved(first.clone(), Instant::now());
        }
    }

    /// Publisher `id` started or stopped talking.
    async fn on_talking(&self, id: u64, talking: bool) {
        let media = self.media.lock().await;
        let display = media
            .placed
            .as_ref()
            .and_then(|placed| placed.feeds.iter().find(|(_, feed)| feed.id == id))
            .map(|(display, _)| PeerId::from(display.as_str()));
        drop(media);
        if let Some(peer) = display {
            lock(&self.speakers).talking(&peer, talking);
        }
    }

    /// While the stage follows the speaker: moves it to whoever talks once the one on it is
    /// silent and has had it for the hold time (see [`SpeakerFollower::next`]).
    async fn follow_speaker<R: RoomRegistry>(&self, state: &AppState<R>) {
        if !self.follows_speaker.load(Ordering::Relaxed) {
            return;
        }
        let Some(next) = lock(&self.speakers).next(Instant::now()).cloned() else {
            return;
        };
        match state
            .registry
            .follow_speaker(&self.room, &self.token, &next)
            .await
        {
            Ok(Some(live)) => {
                info!(room = %self.room, speaker = %next, "the live's stage follows its speaker");
                self.take_stage(&live);
                self.sync_forwards().await;
            }
            // On the stage already (another relay moved it), the host chose meanwhile, or
            // not in the room: the registry's state, read within a second, says which (one
            // who left is forgotten when Janus says so).
            Ok(None) => debug!(room = %self.room, speaker = %next, "the registry kept the stage"),
            Err(err) => warn!(room = %self.room, %err, "could not move the live to its speaker"),
        }
    }

    /// Every mountpoint carries the stage (or nothing, while no member publishes), and the
    /// encoder runs for what the live needs now.
    async fn sync_forwards(&self) {
        let stage = lock(&self.stage).clone();
        let mut media = self.media.lock().await;
        let media = &mut *media;
        let Some(placed) = media.placed.as_ref() else {
            return;
        };
        let feeds: Vec<&Feed> = stage
            .iter()
            .filter_map(|p| placed.feeds.get(p.as_str()))
            .collect();
        // A stage of one goes from the VideoRoom straight into the mountpoints (the least
        // delay); a stage of several reaches them as the encoder's composite.
        let several = stage.len() > 1;
        let direct = feeds.first().copied().filter(|_| !several);
        for ((video, _), mount) in media.mounts.iter_mut() {
            // A mountpoint carries one video codec: a stage sending another is not for it.
            let feed = direct.filter(|f| stage_video(f) == *video);
            let current = mount.forwarding.as_ref().map(|f| f.feed);
            if current == feed.map(|f| f.id) {
                continue;
            }
            if let Some(old) = mount.forwarding.take() {
                if let Err(err) = placed.janus.stop_forwarding(&placed.room, &old).await {
                    warn!(%err, "could not stop a live forward");
                }
            }
            if let Some(feed) = feed {
                mount.forwarding = forward(placed, feed, &mount.mount.target()).await;
            }
        }
        // The encoder runs while there are outputs or several on the stage, and a member
        // publishes; another stage, codec or set of outputs gets a new one (a new picture
        // from a key frame).
        let outputs = lock(&self.outputs).clone();
        let wanted = EncoderKey {
            members: feeds
                .iter()
                .map(|f| (f.id, stage_input(f)))
                .filter(|(_, input)| input.audio || input.video.is_some())
                .collect(),
            outputs,
            audience: several,
            room: placed.room.id,
        };
        let wanted =
            Some(wanted).filter(|k| !k.members.is_empty() && (k.audience || !k.outputs.is_empty()));
        if media.encoder.as_ref().map(|e| &e.key) != wanted.as_ref() {
            if let Some(slot) = media.encoder.take() {
                self.stop_encoder(slot).await;
            }
            if let Some(key) = wanted {
                media.encoder = self.start_encoder(placed, key);
            }
        }
        let Some(slot) = media.encoder.as_mut() else {
            return;
        };
        if let Some(fanout) = &slot.fanout {
            fanout.set_targets(audience_targets(&media.mounts));
        }
        // Each ffmpeg run that listens gets forwards of its own (Janus tells the receiver
        // where key frame requests go only when a forward starts); failed ones are tried
        // again on the next pass.
        let run = slot.encoder.ready_run();
        if run <= slot.forwarded_run {
            return;
        }
        for old in slot.forwardings.drain(..).flatten() {
            if let Err(err) = slot.janus.stop_forwarding(&slot.room, &old).await {
                warn!(%err, "could not stop a live encoder's forward");
            }
        }
        let mut all = true;
        for ((id, _), ports) in slot.key.members.iter().zip(slot.encoder.ports()) {
            let feed = feeds.iter().find(|f| f.id == *id);
            let forwarding = match feed {
                Some(feed) => forward(placed, feed, &encoder_target(*ports)).await,
                None => None,
            };
            if let Some(Err(err)) = forwarding.as_ref().map(Forwarding::request_keyframe) {
                warn!(%err, "could not ask the stage for a key frame");
            }
            all &= forwarding.is_some();
            slot.forwardings.push(forwarding);
        }
        if all {
            slot.forwarded_run = run;
        }
        info!(
            room = %self.room,
            run,
            members = slot.forwardings.len(),
            fed = slot.forwardings.iter().flatten().count(),
            "the live encoder is fed"
        );
    }

    /// Starts an encoder for `key` (each member forwarded once ffmpeg listens).
    fn start_encoder(&self, placed: &Placed, key: EncoderKey) -> Option<EncoderSlot> {
        let fanout = match key.audience.then(Fanout::bind).transpose() {
            Ok(fanout) => fanout,
            Err(err) => {
                warn!(room = %self.room, %err, "no loopback ports for the live's composite");
                return None;
            }
        };
        let pushes = match self.start_pushes(&key.outputs.rtmp) {
            Ok(pushes) => pushes,
            Err(err) => {
                warn!(room = %self.room, %err, "no loopback ports for the live's RTMP addresses");
                return None;
            }
        };
        let plan = EncoderPlan {
            inputs: key.members.iter().map(|(_, input)| *input).collect(),
            outputs: key.outputs.clone(),
            audience: fanout.as_ref().map(Fanout::ports),
            pushes: pushes.iter().map(RtmpPush::port).collect(),
        };
        let started = self.files_dir().and_then(|dir| {
            Encoder::start(&self.encoder_settings, &dir, Arc::clone(&self.runs), &plan)
                .map(|encoder| (dir, encoder))
        });
        let (dir, encoder) = match started {
            Ok(started) => started,
            Err(err) => {
                warn!(room = %self.room, %err, "could not start the live encoder");
                return None;
            }
        };
        *lock(&self.hls_dir) = encoder.writes_hls().then_some(dir);
        Some(EncoderSlot {
            encoder,
            key,
            janus: Arc::clone(&placed.janus),
            room: placed.room.clone(),
            forwardings: Vec::new(),
            forwarded_run: 0,
            fanout,
            pushes,
        })
    }

    /// One push per RTMP address, each telling the host how it is doing.
    fn start_pushes(&self, urls: &[String]) -> std::io::Result<Vec<RtmpPush>> {
        let host = Arc::clone(&self.host);
        let states = PushStates::new(urls, move |rtmp| {
            if let Some(host) = lock(&host).as_ref() {
                host.deliver(meshmeet_protocol::ServerMsg::LiveOutputs { rtmp });
            }
        });
        urls.iter()
            .enumerate()
            .map(|(index, url)| {
                RtmpPush::start(
                    &self.encoder_settings.ffmpeg,
                    url.clone(),
                    index,
                    Arc::clone(&states),
                )
            })
            .collect()
    }

    /// The live's private directory, made on first use.
    fn files_dir(&self) -> Result<PathBuf, super::encoder::EncoderError> {
        let mut files = lock(&self.files);
        if let Some(dir) = files.as_ref() {
            return Ok(dir.clone());
        }
        let name =
            crate::registry::random_hex_128().map_err(|_| super::encoder::EncoderError::Files {
                dir: self.encoder_settings.dir.clone(),
                source: std::io::Error::other("no randomness for a directory name"),
            })?;
        let dir = live_dir(&self.encoder_settings, &name)?;
        *files = Some(dir.clone());
        Ok(dir)
    }
}

/// Where a forward into the encoder sends one member: its `ports`, with the RTCP port for
/// the video (ffmpeg's key frame requests reach the publisher through Janus).
fn encoder_target(ports: EncoderPorts) -> RtpTarget {
    RtpTarget {
        audio_port: ports.audio,
        video_port: ports.video,
        video_rtcp_port: Some(ports.video + 1),
        audio_pt: AUDIO_PT,
        video_pt: VIDEO_PT,
    }
}

/// Where the audience's composite goes: every mountpoint that sends VP8 (the composite's).
fn audience_targets(mounts: &HashMap<(StageVideo, ViewerCodecs), Mount>) -> Vec<RtpTarget> {
    mounts
        .iter()
        .filter(|((video, _), _)| *video == StageVideo::Vp8)
        .map(|(_, mount)| mount.mount.target())
        .collect()
}

/// What the encoder reads of a stage member: its camera's codec and whether it is heard.
fn stage_input(feed: &Feed) -> StageInput {
    StageInput {
        video: stage_stream(feed, "video").map(|_| stage_video(feed)),
        audio: stage_stream(feed, "audio").is_some(),
    }
}

/// Forwards `feed`'s sound and picture (see [`stage_stream`]) to `target` (a mountpoint,
/// the encoder).
async fn forward(placed: &Placed, feed: &Feed, target: &RtpTarget) -> Option<Forwarding> {
    let audio = stage_stream(feed, "audio").map(|s| s.mid.as_str());
    let video = stage_stream(feed, "video").map(|s| VideoSource {
        mid: &s.mid,
        simulcast: s.simulcast,
    });
    match placed
        .janus
        .forward_rtp(&placed.room, feed.id, audio, video, target)
        .await
    {
        Ok(forwarding) => Some(forwarding),
        Err(err) => {
            warn!(%err, feed = feed.id, "could not forward the stage into the live");
            None
        }
    }
}

/// Stops `mount`'s forward and destroys it, on the Janus it was made on.
async fn unmount(mount: Mount) {
    if let Some(forwarding) = &mount.forwarding {
        if let Err(err) = mount.janus.stop_forwarding(&mount.room, forwarding).await {
            warn!(%err, "could not stop a live forward");
        }
    }
    if let Err(err) = mount.janus.destroy_mountpoint(&mount.mount).await {
        warn!(%err, "could not destroy a live mountpoint");
    }
}

/// The stage's video codec, from its camera stream as Janus negotiated it.
fn stage_video(feed: &Feed) -> StageVideo {
    let camera = stage_stream(feed, "video").and_then(|s| s.codec.as_deref());
    match camera {
        Some(codec) if codec.eq_ignore_ascii_case("h264") => StageVideo::H264,
        _ => StageVideo::Vp8,
    }
}

/// The stream of `kind` (`audio`, `video`) the audience gets of a stage member: its first of
/// that kind, unless stopped. A browser's are microphone, camera, screen (the screen is
/// not the stage's); a camera has only its picture, an encoder what it sends.
fn stage_stream<'a>(feed: &'a Feed, kind: &str) -> Option<&'a FeedStream> {
    feed.streams
        .iter()
        .find(|s| s.kind == kind)
        .filter(|s| !s.disabled)
}

/// A number for the `o=` line of a viewer's answer, from its resource id.
fn session_number(id: &str) -> u64 {
    let head: String = id.chars().take(12).collect();
    u64::from_str_radix(&head, 16).unwrap_or(1)
}

/// Follows one viewer's connection until Janus hangs it up or it is removed.
async fn watch_viewer(
    live: Weak<LiveRoom>,
    id: String,
    mut viewer: Viewer,
    connected: Arc<AtomicBool>,
) {
    while let Some(event) = viewer.next_event().await {
        match event {
            HandleEvent::WebrtcUp => connected.store(true, Ordering::Relaxed),
            HandleEvent::Hangup { .. } | HandleEvent::Detached => break,
            _ => {}
        }
    }
    if let Some(live) = live.upgrade() {
        lock(&live.viewers).connected.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(kind: &str, mid: &str, disabled: bool) -> FeedStream {
        FeedStream {
            kind: kind.into(),
            mid: mid.into(),
            codec: Some(if kind == "audio" { "opus" } else { "vp8" }.into()),
            disabled,
            simulcast: false,
        }
    }

    fn feed(streams: Vec<FeedStream>) -> Feed {
        Feed {
            id: 1,
            display: None,
            streams,
            talking: false,
        }
    }

    #[test]
    fn the_stage_s_sound_and_picture_are_its_first_of_each_kind() {
        // A browser: microphone, camera, screen. The screen is never the stage's picture.
        let browser = feed(vec![
            stream("audio", "0", false),
            stream("video", "1", false),
            stream("video", "2", false),
        ]);
        assert_eq!(
            stage_stream(&browser, "audio").map(|s| &s.mid[..]),
            Some("0")
        );
        assert_eq!(
            stage_stream(&browser, "video").map(|s| &s.mid[..]),
            Some("1")
        );
        let camera_off = feed(vec![
            stream("audio", "0", false),
            stream("video", "1", true),
            stream("video", "2", false),
        ]);
        assert!(stage_stream(&camera_off, "video").is_none());
        // An RTSP camera: its picture only, first.
        let camera = feed(vec![stream("video", "0", false)]);
        assert_eq!(
            stage_stream(&camera, "video").map(|s| &s.mid[..]),
            Some("0")
        );
        assert!(stage_stream(&camera, "audio").is_none());
    }
}
