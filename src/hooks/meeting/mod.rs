//! The meeting: a relay session, a media topology (the mesh of peer links) and the features on
//! top (chat, files, statistics, preferences), driven by a single task that handles every
//! event in order (relay messages, peer events, user commands, the clock) and mirrored into
//! reducers for rendering: the room, the remote streams, the chat, the transfers and the
//! statistics.
//!
//! Data flows one way: relay and peer events → the task → reducers → view; a click → a
//! [`Command`] → the task → the browser layers or the relay.

mod actor;
mod chat;
mod commands;
mod files;
mod frame_keys;
mod mesh;
mod relay_session;
mod sfu;
mod topology;

pub use commands::{Command, HostCommand};

use crate::rtc::{LocalTracks, PeerEvent, SfuLinkEvent, Snapshot};
use crate::signaling::RelayEvent;
use crate::state::{ChatState, RoomState, StatsState, Transfers};
use actor::{Meeting, Outputs};
use futures_channel::mpsc::{unbounded, UnboundedSender};
use meshmeet_protocol::{MediaState, PeerId, RoomName, SfuLeg};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;
use yew::prelude::*;

/// The meeting's clock: statistics are read once per tick.
pub(crate) const TICK_MS: u32 = 1_000;

/// Who to join as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinRequest {
    /// The room.
    pub room: RoomName,
    /// Display name.
    pub name: String,
    /// Room password, if any.
    pub password: Option<String>,
    /// Join token from the meeting link, if any.
    pub token: Option<String>,
    /// This browser's own key (so a removed participant is recognised).
    pub client_key: Option<String>,
    /// Use TURN relays only, whatever the relay says (the person's privacy setting).
    pub relay_only: bool,
    /// Receive no video from anyone from the start (chosen in the lobby; switchable in the
    /// call), so a slow link or a busy device never has to decode it.
    pub audio_only: bool,
    /// Video upload budget, bits per second.
    pub video_budget_bps: u32,
    /// The passphrase of an end-to-end encrypted meeting (from the link's `#fragment`):
    /// asks for the room to be encrypted if we open it, and authenticates its key exchange.
    pub e2ee_passphrase: Option<String>,
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
    CameraChanged(PeerId, MediaStream),
    /// A peer's screen stream arrived or changed.
    ScreenChanged(PeerId, MediaStream),
    /// The connection to a peer closed (it left, or the link is being rebuilt).
    ConnectionClosed(PeerId),
    /// We left: every connection closed.
    AllClosed,
}

impl Reducible for RemoteStreams {
    type Action = StreamChange;

    fn reduce(self: Rc<Self>, change: StreamChange) -> Rc<Self> {
        let (mut camera, mut screen) = (self.camera.clone(), self.screen.clone());
        match change {
            StreamChange::CameraChanged(id, stream) => {
                camera.insert(id, stream);
            }
            StreamChange::ScreenChanged(id, stream) => {
                screen.insert(id, stream);
            }
            StreamChange::ConnectionClosed(id) => {
                camera.remove(&id);
                screen.remove(&id);
            }
            StreamChange::AllClosed => {
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
    /// Chat messages.
    pub chat: UseReducerHandle<ChatState>,
    /// File transfers.
    pub transfers: UseReducerHandle<Transfers>,
    /// Connection figures.
    pub stats: UseReducerHandle<StatsState>,
    /// Sends a command to the meeting.
    pub command: Callback<Command>,
}

pub(crate) enum Input {
    Relay(RelayEvent),
    Peer(PeerId, PeerEvent),
    /// An event of the SFU connections of one attempt.
    Sfu(u32, SfuLeg, SfuLinkEvent),
    Command(Command),
    Stats(PeerId, Snapshot),
    /// The SFU subscriber's and publisher's statistics, of one attempt.
    SfuStats(u32, Box<(Snapshot, Option<Snapshot>)>),
    Tick,
    /// Time to try the relay again.
    Reconnect,
    /// Frame keys' work done in the background (an encrypted room).
    Keys(frame_keys::KeyEvent),
    Shutdown,
}

/// Joins the meeting on mount and leaves it on unmount.
#[hook]
pub fn use_meeting(join: JoinRequest, tracks: LocalTracks, media: MediaState) -> MeetingHandle {
    let audio_only = join.audio_only;
    let state = use_reducer(|| RoomState::new(audio_only));
    let streams = use_reducer(RemoteStreams::default);
    let chat = use_reducer(ChatState::default);
    let transfers = use_reducer(Transfers::default);
    let stats = use_reducer(StatsState::default);
    let inputs = use_mut_ref(|| Option::<UnboundedSender<Input>>::None);

    {
        let inputs = inputs.clone();
        let outputs = Outputs {
            state: state.dispatcher(),
            streams: streams.dispatcher(),
            chat: chat.dispatcher(),
            transfers: transfers.dispatcher(),
            stats: stats.dispatcher(),
        };
        let (tracks, media) = (tracks.clone(), media);
        use_effect_with(join, move |join| {
            let (tx, rx) = unbounded();
            *inputs.borrow_mut() = Some(tx.clone());
            let meeting = Meeting::new(join.clone(), tracks, media, tx.clone(), outputs);
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
        chat,
        transfers,
        stats,
        command,
    }
}

/// Logs a problem the person cannot act on (they see its effect in the room's state).
fn warn(text: &str) {
    web_sys::console::warn_1(&wasm_bindgen::JsValue::from_str(text));
}

fn send(inputs: &Rc<std::cell::RefCell<Option<UnboundedSender<Input>>>>, input: Input) {
    if let Some(tx) = inputs.borrow().as_ref() {
        let _ = tx.unbounded_send(input);
    }
}

async fn ticker(tx: UnboundedSender<Input>) {
    loop {
        gloo_timers::future::TimeoutFuture::new(TICK_MS).await;
        if tx.unbounded_send(Input::Tick).is_err() {
            break;
        }
    }
}
