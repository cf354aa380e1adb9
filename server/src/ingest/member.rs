//! A device in a meeting (an encoder, a camera): a participant of the registry under the
//! name the host gave it, whose mailbox the relay reads itself, and which is done when the
//! host removes it, the meeting ends, or the room leaves the SFU epoch it joined in.

use std::sync::Arc;

use meshmeet_protocol::Topology;
use meshmeet_protocol::{LeaveReason, MediaMode, MediaState, RoomName, ServerMsg, SessionToken};
use tokio::sync::{mpsc, watch};

use super::IngestError;
use crate::error::DEVICE_IN_ENCRYPTED_ROOM;
use crate::registry::{
    random_hex_128, JoinRequest, Mailbox, MailboxSignal, Membership, Outbound, RoomRegistry,
    WelcomeExtras, ENCODER_IDENTITY_PREFIX,
};
use crate::sfu::{place, Placed};
use crate::AppState;

/// Messages of the room queued for a device: it reads them at once (and ignores most).
const INBOX: usize = 256;

/// Why a device's time in the meeting ended, on the meeting's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    /// The host removed it or ended the meeting (the registry took it out already).
    Ended,
    /// The room left the epoch it joined in (back to the mesh, or a new SFU epoch).
    Moved,
}

/// A device's place in a meeting on the SFU.
#[derive(Debug)]
pub struct DeviceMember {
    /// Its membership (its peer id is its Janus display name).
    pub member: Membership,
    /// The room's topology when it joined: an SFU epoch.
    pub joined: Topology,
    inbox: mpsc::Receiver<Outbound>,
    topology: watch::Receiver<Topology>,
}

impl DeviceMember {
    /// Joins `room` as `name` sending `media`, known by `identity` (after
    /// [`ENCODER_IDENTITY_PREFIX`]: the host removing it bars it, and it never becomes host
    /// while a person is in the room). Only into a meeting that is on the SFU now: a join
    /// would otherwise create a room the meeting has left, or put a peer that browsers
    /// cannot call into a mesh.
    pub async fn join<R: RoomRegistry>(
        state: &Arc<AppState<R>>,
        room: &RoomName,
        name: &str,
        identity: &str,
        media: MediaState,
    ) -> Result<DeviceMember, IngestError> {
        if state.config.janus_urls.is_empty() || state.janus.ready().is_err() {
            return Err(IngestError::NoMediaServer);
        }
        let placed = state
            .registry
            .room_sfu_placement(room)
            .await
            .map_err(IngestError::from_relay)?;
        if placed.is_none() {
            return Err(IngestError::NotOnSfu);
        }
        let (queue, inbox) = mpsc::channel(INBOX);
        let signal = Arc::new(MailboxSignal::default());
        let mailbox = Mailbox::new(queue, signal, state.lifecycle.draining_flag());
        let topology = mailbox.topology();
        let config = &state.config;
        let request = JoinRequest {
            room: room.clone(),
            name: name.to_owned(),
            media,
            password: None,
            // The host let it in.
            vouched: true,
            identity: Some(format!("{ENCODER_IDENTITY_PREFIX}{identity}")),
            mailbox,
            welcome: WelcomeExtras {
                // A device talks to Janus directly (or on loopback).
                ice_servers: Vec::new(),
                ice_transport_policy: config.ice_transport_policy(),
                limits: config.room_limits(),
                // Never registered: a device's session cannot be resumed.
                session: SessionToken(random_hex_128().map_err(IngestError::from_relay)?),
                resume_grace_ms: 0,
            },
            topology: state.topology_policy(),
            // A device never opens a room: its host is in it.
            e2ee: false,
        };
        let member = state
            .registry
            .join(request)
            .await
            .map_err(IngestError::from_relay)?;
        let joined = *topology.borrow();
        let device = DeviceMember {
            member,
            joined,
            inbox,
            topology,
        };
        if joined.mode != MediaMode::Sfu {
            device.leave(state, LeaveReason::Left).await;
            return Err(IngestError::NotOnSfu);
        }
        // Its frames are not encrypted: in a room that opened encrypted since its host let
        // it in, nobody could decode it, and the server would carry plain media there.
        if device.member.e2ee() {
            device.leave(state, LeaveReason::Left).await;
            return Err(IngestError::Refused(DEVICE_IN_ENCRYPTED_ROOM.to_owned()));
        }
        Ok(device)
    }

    /// The room's Janus room for the epoch it joined in.
    pub async fn place<R: RoomRegistry>(&self, state: &AppState<R>) -> Result<Placed, IngestError> {
        place(state, &self.member, self.joined.epoch, None)
            .await
            .map_err(IngestError::from_relay)
    }

    /// Resolves once the meeting is done with the device. A meeting that ended voids the
    /// room's grants too.
    pub async fn done<R: RoomRegistry>(&mut self, state: &AppState<R>) -> Done {
        loop {
            tokio::select! {
                queued = self.inbox.recv() => match queued {
                    Some(Outbound::Msg(msg)) if msg.ends_session() => {
                        if msg == ServerMsg::MeetingEnded {
                            state.ingest.grants.forget_room(self.member.room());
                        }
                        return Done::Ended;
                    }
                    Some(Outbound::Close { .. }) | None => return Done::Ended,
                    Some(_) => {}
                },
                changed = self.topology.changed() => {
                    if changed.is_err() || *self.topology.borrow() != self.joined {
                        return Done::Moved;
                    }
                }
            }
        }
    }

    /// Takes the device out of the room.
    pub async fn leave<R: RoomRegistry>(&self, state: &AppState<R>, reason: LeaveReason) {
        state.registry.leave(&self.member, reason).await;
    }
}
