//! The meeting: one relay connection and one peer link per remote participant, driven by a
//! single task that handles every event in order (relay messages, peer events, user
//! commands), and mirrored into reducers for rendering: the room, the remote streams, the
//! chat and the file transfers.

mod actor;
mod files;

use crate::rtc::{LocalTracks, PeerEvent, Snapshot};
use crate::signaling::SignalingEvent;
use crate::state::{Action, ChatState, RoomState, StatsState, TransferKey, Transfers};
use actor::{Meeting, Outputs};
use futures_channel::mpsc::{unbounded, UnboundedSender};
use meshmeet_protocol::{MediaState, PeerId, RoomName};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;
use yew::prelude::*;

/// The meeting's clock: statistics are read once per tick.
pub(crate) const TICK_MS: u32 = 1_000;

/// What the user asks of the meeting.
#[derive(Clone, Debug)]
pub enum Command {
    /// The local tracks changed (device switch, camera on/off).
    Tracks(LocalTracks),
    /// Microphone/camera flags changed: tell everyone.
    Media(MediaState),
    /// Send a chat message to everyone.
    Chat(String),
    /// Send a file to one peer, or to everyone.
    SendFile(web_sys::File, Option<PeerId>),
    /// Stop a transfer (either direction).
    CancelTransfer(TransferKey),
    /// Whether a peer's tile is on screen (we want its video only then).
    VideoWanted(PeerId, bool),
    /// Receive no video at all (saves bandwidth); audio keeps flowing.
    AudioOnly(bool),
    /// Something only the host may do (the relay refuses it from anyone else).
    Host(HostCommand),
    /// Leave the meeting.
    Leave,
}

/// What the host can ask of the room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostCommand {
    /// Lock or unlock the room.
    Lock(bool),
    /// Remove a participant.
    Remove(PeerId),
    /// Ask a participant to mute.
    AskToMute(PeerId),
    /// Make another participant the host.
    HandOver(PeerId),
    /// End the meeting for everyone.
    EndMeeting,
}

impl HostCommand {
    /// The relay message that carries it.
    pub fn to_client_msg(&self) -> meshmeet_protocol::ClientMsg {
        use meshmeet_protocol::ClientMsg;
        match self {
            HostCommand::Lock(locked) => ClientMsg::LockRoom { locked: *locked },
            HostCommand::Remove(peer_id) => ClientMsg::RemovePeer {
                peer_id: peer_id.clone(),
            },
            HostCommand::AskToMute(peer_id) => ClientMsg::AskToMute {
                peer_id: peer_id.clone(),
            },
            HostCommand::HandOver(peer_id) => ClientMsg::HandOverHost {
                peer_id: peer_id.clone(),
            },
            HostCommand::EndMeeting => ClientMsg::EndMeeting,
        }
    }
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
    Relay(SignalingEvent),
    Peer(PeerId, PeerEvent),
    Command(Command),
    Stats(PeerId, Snapshot),
    Tick,
    /// Time to try the relay again.
    Reconnect,
    Shutdown,
}

/// Joins the meeting on mount and leaves it on unmount.
#[hook]
pub fn use_meeting(join: JoinRequest, tracks: LocalTracks, media: MediaState) -> MeetingHandle {
    let audio_only = join.audio_only;
    let state = use_reducer(|| RoomState::new(media).apply(Action::SetAudioOnly(audio_only)));
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
