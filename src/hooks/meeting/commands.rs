//! What the user asks of the meeting, and what only the host may ask of the room.

use crate::rtc::LocalTracks;
use crate::state::TransferKey;
use meshmeet_protocol::{CameraLayer, LiveOutputs, MediaState, PeerId};

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
    /// The simulcast layer each small camera tile needs (SFU rooms; unlisted: the highest).
    CameraLayers(Vec<CameraLayer>),
    /// Something only the host may do (the relay refuses it from anyone else).
    Host(HostCommand),
    /// Send a reaction (shown on our tile here and everywhere else).
    React(meshmeet_protocol::Reaction),
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
    /// Go live with these participants on the stage (one to four, in this order), or put
    /// them there instead, and send it to these outputs too (RTMP, HLS).
    GoLive {
        /// Who is on the stage (with `follow_speaker`: who is on it first).
        stage: Vec<PeerId>,
        /// Where the live also goes.
        outputs: LiveOutputs,
        /// Whether the stage follows whoever speaks.
        follow_speaker: bool,
    },
    /// End the live.
    StopLive,
    /// Let an encoder of this name publish into the room over WHIP.
    CreateIngest(String),
    /// Add the RTSP camera at this address under this name.
    AddCamera(String, String),
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
            HostCommand::GoLive {
                stage,
                outputs,
                follow_speaker,
            } => ClientMsg::GoLive {
                stage: stage.clone(),
                outputs: outputs.clone(),
                follow_speaker: *follow_speaker,
            },
            HostCommand::StopLive => ClientMsg::StopLive,
            HostCommand::CreateIngest(name) => ClientMsg::CreateIngest { name: name.clone() },
            HostCommand::AddCamera(name, url) => ClientMsg::AddCamera {
                name: name.clone(),
                url: url.clone(),
            },
        }
    }
}
