//! The meeting: one relay connection and one peer link per remote participant, driven by a
//! single task that handles every event in order (relay messages, peer events, user
//! commands), and mirrored into a [`RoomState`] reducer for rendering.

use crate::rtc::{is_polite, LinkConfig, LocalTracks, PeerEvent, PeerLink, TrackKind};
use crate::signaling::{relay_url, Signaling, SignalingEvent};
use crate::state::{Action, Notice, RoomFailure, RoomState};
use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use meshmeet_protocol::{ClientMsg, MediaState, PeerId, RoomName, ServerMsg, PROTOCOL_VERSION};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;
use yew::prelude::*;

/// How often the client pings the relay, so dead connections are noticed from this side too.
const PING_INTERVAL_MS: u32 = 15_000;

/// What the user asks of the meeting.
#[derive(Clone, Debug)]
pub enum Command {
    /// The local tracks changed (device switch, camera on/off).
    Tracks(LocalTracks),
    /// Microphone/camera flags changed: tell everyone.
    Media(MediaState),
    /// Leave the meeting.
    Leave,
}

/// Who to join as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinRequest {
    /// The room.
    pub room: RoomName,
    /// Display name.
    pub name: String,
    /// Room password, if any.
    pub password: Option<String>,
}

/// Remote media streams by peer.
#[derive(Default, PartialEq)]
pub struct RemoteStreams {
    /// Camera and microphone.
    pub camera: HashMap<PeerId, MediaStream>,
    /// Screen share video.
    pub screen: HashMap<PeerId, MediaStream>,
}

/// A change to [`RemoteStreams`].
pub enum StreamChange {
    /// A peer's camera stream arrived or changed.
    Camera(PeerId, MediaStream),
    /// A peer's screen stream arrived or changed.
    Screen(PeerId, MediaStream),
    /// A peer left.
    Remove(PeerId),
    /// The meeting ended.
    Clear,
}

impl Reducible for RemoteStreams {
    type Action = StreamChange;

    fn reduce(self: Rc<Self>, change: StreamChange) -> Rc<Self> {
        let (mut camera, mut screen) = (self.camera.clone(), self.screen.clone());
        match change {
            StreamChange::Camera(id, stream) => {
                camera.insert(id, stream);
            }
            StreamChange::Screen(id, stream) => {
                screen.insert(id, stream);
            }
            StreamChange::Remove(id) => {
                camera.remove(&id);
                screen.remove(&id);
            }
            StreamChange::Clear => {
                camera.clear();
                screen.clear();
            }
        }
        Rc::new(RemoteStreams { camera, screen })
    }
}

/// The meeting as components see it.
#[derive(Clone, PartialEq)]
pub struct MeetingHandle {
    /// Roster, connection states, phase.
    pub state: UseReducerHandle<RoomState>,
    /// Remote media by peer.
    pub streams: UseReducerHandle<RemoteStreams>,
    /// Sends a command to the meeting.
    pub command: Callback<Command>,
}

enum Input {
    Relay(SignalingEvent),
    Peer(PeerId, PeerEvent),
    Command(Command),
    Tick,
    Shutdown,
}

/// Joins the meeting on mount and leaves it on unmount.
#[hook]
pub fn use_meeting(join: JoinRequest, tracks: LocalTracks, media: MediaState) -> MeetingHandle {
    let state = use_reducer(|| RoomState::new(media));
    let streams = use_reducer(RemoteStreams::default);
    let inputs = use_mut_ref(|| Option::<UnboundedSender<Input>>::None);

    {
        let (inputs, state, streams) = (inputs.clone(), state.dispatcher(), streams.dispatcher());
        let (tracks, media) = (tracks.clone(), media);
        use_effect_with(join, move |join| {
            let (tx, rx) = unbounded();
            *inputs.borrow_mut() = Some(tx.clone());
            let meeting = Meeting {
                join: join.clone(),
                signaling: None,
                self_id: None,
                config: LinkConfig::default(),
                links: HashMap::new(),
                local: tracks,
                media,
                inputs: tx.clone(),
                state,
                streams,
                left: false,
            };
            spawn_local(meeting.run(rx));
            spawn_local(ticker(tx.clone()));
            move || {
                let _ = tx.unbounded_send(Input::Shutdown);
            }
        });
    }

    // Local changes flow into the meeting task as commands.
    {
        let inputs = inputs.clone();
        use_effect_with(tracks, move |tracks| {
            send(&inputs, Input::Command(Command::Tracks(tracks.clone())));
        });
    }
    {
        let inputs = inputs.clone();
        use_effect_with(media, move |media| {
            send(&inputs, Input::Command(Command::Media(*media)));
        });
    }

    let command = Callback::from(move |command| send(&inputs, Input::Command(command)));
    MeetingHandle {
        state,
        streams,
        command,
    }
}

fn send(inputs: &Rc<std::cell::RefCell<Option<UnboundedSender<Input>>>>, input: Input) {
    if let Some(tx) = inputs.borrow().as_ref() {
        let _ = tx.unbounded_send(input);
    }
}

async fn ticker(tx: UnboundedSender<Input>) {
    loop {
        gloo_timers::future::TimeoutFuture::new(PING_INTERVAL_MS).await;
        if tx.unbounded_send(Input::Tick).is_err() {
            break;
        }
    }
}

struct Meeting {
    join: JoinRequest,
    signaling: Option<Signaling>,
    self_id: Option<PeerId>,
    config: LinkConfig,
    links: HashMap<PeerId, PeerLink>,
    local: LocalTracks,
    media: MediaState,
    inputs: UnboundedSender<Input>,
    state: UseReducerDispatcher<RoomState>,
    streams: UseReducerDispatcher<RemoteStreams>,
    left: bool,
}

fn warn(text: &str) {
    web_sys::console::warn_1(&JsValue::from_str(text));
}

impl Meeting {
    async fn run(mut self, mut rx: UnboundedReceiver<Input>) {
        self.connect();
        while let Some(input) = rx.next().await {
            match input {
                Input::Relay(event) => self.on_relay(event),
                Input::Peer(id, event) => self.on_peer(id, event),
                Input::Command(command) => self.on_command(command),
                Input::Tick => self.send(&ClientMsg::Ping { nonce: 0 }),
                Input::Shutdown => break,
            }
        }
        self.leave();
        // Dropping `rx` ends the ticker: its next send fails.
    }

    fn connect(&mut self) {
        let tx = self.inputs.clone();
        let on_event = Rc::new(move |event| {
            let _ = tx.unbounded_send(Input::Relay(event));
        });
        let connected = relay_url()
            .map_err(|e| e.to_string())
            .and_then(|url| Signaling::connect(&url, on_event).map_err(|e| e.to_string()));
        match connected {
            Ok(signaling) => self.signaling = Some(signaling),
            Err(err) => {
                warn(&format!("relay: {err}"));
                self.state
                    .dispatch(Action::Failed(RoomFailure::Unreachable));
            }
        }
    }

    fn send(&self, msg: &ClientMsg) {
        if let Some(signaling) = &self.signaling {
            if let Err(err) = signaling.send(msg) {
                warn(&format!("relay send ({}): {err}", msg.kind()));
            }
        }
    }

    fn on_relay(&mut self, event: SignalingEvent) {
        match event {
            SignalingEvent::Opened => self.send(&ClientMsg::Join {
                version: PROTOCOL_VERSION,
                room: self.join.room.clone(),
                name: self.join.name.clone(),
                password: self.join.password.clone(),
                media: self.media,
            }),
            SignalingEvent::Message(msg) => self.on_message(msg),
            SignalingEvent::Malformed(text) => {
                warn(&format!("relay sent an unknown frame: {text}"))
            }
            SignalingEvent::Closed { opened, .. } => {
                self.signaling = None;
                if self.left {
                    return;
                }
                if self.self_id.is_some() {
                    // Peer connections do not need the relay once established: keep them.
                    self.state.dispatch(Action::Notice(Notice::RelayLost));
                } else {
                    let failure = if opened {
                        RoomFailure::Lost
                    } else {
                        RoomFailure::Unreachable
                    };
                    self.state.dispatch(Action::Failed(failure));
                }
            }
        }
    }

    fn on_message(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::Welcome {
                peer_id,
                roster,
                ice_servers,
                ice_transport_policy,
                ..
            } => {
                self.config = LinkConfig {
                    ice_servers,
                    policy: ice_transport_policy,
                };
                self.self_id = Some(peer_id.clone());
                // We are the newcomer: we offer to everyone already here, all at once.
                for peer in &roster {
                    self.open_link(peer.id.clone(), true);
                }
                self.state.dispatch(Action::Welcomed {
                    self_id: peer_id,
                    roster,
                });
            }
            ServerMsg::PeerJoined { peer } => {
                self.open_link(peer.id.clone(), false);
                self.state.dispatch(Action::PeerJoined(peer));
            }
            ServerMsg::PeerLeft { peer_id, .. } => {
                self.links.remove(&peer_id);
                self.streams.dispatch(StreamChange::Remove(peer_id.clone()));
                self.state.dispatch(Action::PeerLeft(peer_id));
            }
            ServerMsg::PeerUpdated { peer } => self.state.dispatch(Action::PeerUpdated(peer)),
            ServerMsg::Signal { from, signal } => match self.links.get(&from) {
                Some(link) => link.handle_signal(signal),
                None => warn(&format!("signal from unknown peer {from}")),
            },
            ServerMsg::Chat { .. } | ServerMsg::Pong { .. } => {}
            ServerMsg::Error { code, message } => {
                warn(&format!("relay refused: {code:?}: {message}"));
                if code.is_fatal() || self.self_id.is_none() {
                    self.signaling = None;
                    self.state
                        .dispatch(Action::Failed(RoomFailure::from_error(code, &message)));
                } else {
                    self.state
                        .dispatch(Action::Notice(Notice::Refused(message)));
                }
            }
            ServerMsg::ShuttingDown { .. } => {
                self.state.dispatch(Action::Notice(Notice::RelayLost));
            }
        }
    }

    fn open_link(&mut self, peer: PeerId, initiator: bool) {
        let Some(self_id) = &self.self_id else {
            return;
        };
        let polite = is_polite(self_id, &peer);
        let tx = self.inputs.clone();
        let id = peer.clone();
        let on_event = Rc::new(move |event| {
            let _ = tx.unbounded_send(Input::Peer(id.clone(), event));
        });
        match PeerLink::new(
            &self.config,
            polite,
            initiator,
            self.local.clone(),
            on_event,
        ) {
            Ok(link) => {
                self.links.insert(peer, link);
            }
            Err(err) => {
                warn(&format!("peer {peer}: {err}"));
                self.state.dispatch(Action::Connection(
                    peer,
                    crate::rtc::ConnectionStatus::Failed,
                ));
            }
        }
    }

    fn on_peer(&mut self, peer: PeerId, event: PeerEvent) {
        if !self.links.contains_key(&peer) {
            return; // a late event from a link already closed
        }
        match event {
            PeerEvent::Signal(signal) => self.send(&ClientMsg::Signal { to: peer, signal }),
            PeerEvent::RemoteStream(stream) => {
                self.streams.dispatch(StreamChange::Camera(peer, stream))
            }
            PeerEvent::RemoteScreen(stream) => {
                self.streams.dispatch(StreamChange::Screen(peer, stream))
            }
            PeerEvent::Status(status) => self.state.dispatch(Action::Connection(peer, status)),
            PeerEvent::Error(_) => {} // logged by the link
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Tracks(tracks) => {
                for kind in TrackKind::ALL {
                    if tracks.get(kind) != self.local.get(kind) {
                        for link in self.links.values() {
                            link.replace_track(kind, tracks.get(kind).cloned());
                        }
                    }
                }
                self.local = tracks;
            }
            Command::Media(media) => {
                if media != self.media {
                    self.media = media;
                    if self.self_id.is_some() {
                        self.send(&ClientMsg::SetMedia { media });
                    }
                }
                self.state.dispatch(Action::LocalMedia(media));
            }
            Command::Leave => {
                self.leave();
                self.state.dispatch(Action::Left);
            }
        }
    }

    fn leave(&mut self) {
        if self.left {
            return;
        }
        self.left = true;
        if self.self_id.is_some() {
            self.send(&ClientMsg::Leave);
        }
        self.links.clear();
        self.signaling = None;
        self.streams.dispatch(StreamChange::Clear);
    }
}
