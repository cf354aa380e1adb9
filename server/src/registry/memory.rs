//! The in-process room registry: every room of this relay in one map behind one mutex.
//!
//! One lock for all rooms is enough here: each operation is a few map lookups and
//! non-blocking queue pushes, never I/O, so the lock is held for microseconds.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use meshmeet_protocol::{
    LeaveReason, LiveInfo, PeerId, PeerInfo, RoomName, ServerMsg, PROTOCOL_VERSION,
};
use subtle::ConstantTimeEq;

use super::{
    check_sfu_epoch, is_encoder, new_peer_id, HostAction, JoinRequest, Mailbox, Membership,
    PeerChange, RegistryStats, RoomRegistry, SfuPlacement, TopologyPolicy,
};
use crate::error::RelayError;
use crate::topology::{Mode, RoomTopology, TopologyRule};

/// Rooms of this process only.
#[derive(Debug)]
pub struct MemoryRegistry {
    max_rooms: usize,
    max_participants: u32,
    rooms: Mutex<HashMap<RoomName, Room>>,
}

#[derive(Debug)]
struct Room {
    /// Set by the first joiner, if it gave one; forgotten with the room.
    password: Option<String>,
    /// In join order, which is the roster order.
    members: Vec<Member>,
    /// The host: the first joiner, then whoever it hands over to, or the earliest joiner
    /// left when it leaves.
    host: PeerId,
    /// Nobody new may join.
    locked: bool,
    /// Identities of the participants the host removed.
    removed: HashSet<String>,
    /// Mesh or SFU, and since when small enough to return to the mesh.
    topology: RoomTopology,
    /// The rule the room's joins bring (none without a media server).
    rule: Option<TopologyRule>,
    /// Where the SFU of the current epoch runs, once a relay placed it.
    sfu: Option<SfuPlacement>,
    /// The stage and viewer token while the room is live.
    live: Option<LiveInfo>,
    /// Whether it is end-to-end encrypted (as its first participant asked).
    e2ee: bool,
}

#[derive(Debug)]
struct Member {
    info: PeerInfo,
    mailbox: Mailbox,
    identity: Option<String>,
}

impl Room {
    fn member_mut(&mut self, id: &PeerId) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| &m.info.id == id)
    }

    fn deliver_to_others(&self, except: &PeerId, msg: &ServerMsg) {
        for member in self.members.iter().filter(|m| &m.info.id != except) {
            member.mailbox.deliver(msg.clone());
        }
    }

    fn deliver_to_all(&self, msg: &ServerMsg) {
        for member in &self.members {
            member.mailbox.deliver(msg.clone());
        }
    }

    /// The room has one participant fewer: an SFU room starts its wait to return to the mesh.
    /// The count the topology rule weighs: a live room stays on the SFU whatever its size.
    fn count_for_rule(&self) -> usize {
        if self.live.is_some() {
            usize::MAX
        } else {
            self.members.len()
        }
    }

    fn shrank(&mut self) {
        if let Some(rule) = self.rule {
            let count = self.count_for_rule();
            if self
                .topology
                .on_count(&rule, count, Instant::now())
                .is_some()
            {
                self.switched();
            }
        }
    }

    /// Tells everyone the room's new topology; a mesh forgets its SFU placement.
    fn switched(&mut self) {
        if self.topology.mode() == Mode::Mesh {
            self.sfu = None;
        }
        let topology = self.topology.topology();
        self.deliver_to_all(&ServerMsg::TopologyChanged { topology });
    }

    /// Whether `member` is in the room.
    fn has(&self, member: &PeerId) -> bool {
        self.members.iter().any(|m| &m.info.id == member)
    }

    /// Another participant than `host`, by id.
    fn other(&self, host: &PeerId, target: &PeerId) -> Result<usize, RelayError> {
        self.members
            .iter()
            .position(|m| &m.info.id == target && target != host)
            .ok_or_else(|| RelayError::UnknownPeer(target.to_string()))
    }
}

impl MemoryRegistry {
    /// An empty registry with these limits.
    pub fn new(max_rooms: usize, max_participants: u32) -> Self {
        MemoryRegistry {
            max_rooms,
            max_participants,
            rooms: Mutex::new(HashMap::new()),
        }
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<RoomName, Room>> {
        // Nothing under this lock can leave the map half-changed, so a panic elsewhere while
        // it was held does not make the data unusable.
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn passwords_match(expected: &str, given: Option<&str>) -> bool {
    // Constant time over the bytes, so response timing does not reveal how much of a guess
    // was right. (The length can still be inferred; the password is a shared room secret,
    // not an account credential.)
    given.is_some_and(|given| bool::from(expected.as_bytes().ct_eq(given.as_bytes())))
}

impl RoomRegistry for MemoryRegistry {
    async fn join(&self, request: JoinRequest) -> Result<Membership, RelayError> {
        let peer_id = new_peer_id()?;
        let JoinRequest {
            room: room_name,
            name,
            media,
            password,
            vouched,
            identity,
            mailbox,
            welcome,
            topology: policy,
            e2ee: request_e2ee,
        } = request;
        let password = password.filter(|p| !p.is_empty() && !vouched);

        // The same rules, in the same order, are in redis/lua/join.lua; the shared suite
        // (server/tests/registry_suite.rs) holds the two equal.
        let mut rooms = self.rooms();
        let room_count = rooms.len();
        let room = match rooms.entry(room_name.clone()) {
            Entry::Occupied(entry) => {
                let room = entry.into_mut();
                if let (Some(expected), false) = (&room.password, vouched) {
                    if !passwords_match(expected, password.as_deref()) {
                        return Err(RelayError::WrongPassword);
                    }
                }
                // After the password: someone without it learns nothing about the room.
                if identity
                    .as_ref()
                    .is_some_and(|id| room.removed.contains(id))
                {
                    return Err(RelayError::Removed);
                }
                if room.locked {
                    return Err(RelayError::RoomLocked);
                }
                if room.members.len() >= self.max_participants as usize {
                    return Err(RelayError::RoomFull {
                        max: self.max_participants,
                    });
                }
                room
            }
            Entry::Vacant(entry) => {
                if room_count >= self.max_rooms {
                    return Err(RelayError::TooManyRooms);
                }
                entry.insert(Room {
                    password,
                    members: Vec::new(),
                    host: peer_id.clone(),
                    locked: false,
                    removed: HashSet::new(),
                    topology: RoomTopology::default(),
                    rule: policy.map(|p| p.rule),
                    sfu: None,
                    live: None,
                    e2ee: request_e2ee,
                })
            }
        };

        // The newcomer may be the one too many for a mesh: without a media server to take
        // the room, it is refused and the room stays as it is.
        let mut topology = room.topology.clone();
        let switched = match policy {
            Some(policy) => {
                let count = room.count_for_rule().saturating_add(1);
                let switch = topology.on_count(&policy.rule, count, policy.now);
                if switch == Some(Mode::Sfu) && !policy.sfu_reachable {
                    return Err(RelayError::SfuUnavailable);
                }
                switch.is_some()
            }
            None => false,
        };
        room.topology = topology;
        if switched {
            // Those already in the room learn it first; the newcomer reads it in `welcome`.
            room.switched();
        }

        let info = PeerInfo {
            id: peer_id.clone(),
            name,
            media,
        };
        // Under the lock, so nobody can send the newcomer anything before its welcome.
        mailbox.deliver(ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            peer_id: peer_id.clone(),
            room: room_name.clone(),
            roster: room.members.iter().map(|m| m.info.clone()).collect(),
            ice_servers: welcome.ice_servers,
            ice_transport_policy: welcome.ice_transport_policy,
            limits: welcome.limits,
            session: welcome.session,
            resume_grace_ms: welcome.resume_grace_ms,
            host: Some(room.host.clone()),
            locked: room.locked,
            topology: room.topology.topology(),
            live: room.live.clone().map(Box::new),
            e2ee: room.e2ee,
        });
        room.deliver_to_others(&peer_id, &ServerMsg::PeerJoined { peer: info.clone() });
        room.members.push(Member {
            info,
            mailbox,
            identity,
        });
        Ok(Membership::new(room_name, peer_id, room.e2ee))
    }

    async fn leave(&self, member: &Membership, reason: LeaveReason) {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(member.room()) else {
            return;
        };
        let before = room.members.len();
        room.members.retain(|m| &m.info.id != member.peer_id());
        if room.members.len() == before {
            return;
        }
        if room.members.is_empty() {
            rooms.remove(member.room());
            return;
        }
        room.deliver_to_others(
            member.peer_id(),
            &ServerMsg::PeerLeft {
                peer_id: member.peer_id().clone(),
                reason,
            },
        );
        room.shrank();
        if &room.host == member.peer_id() {
            // Members are in join order: the first is the earliest joiner left. An encoder
            // cannot act as host: a person is preferred (the same rule is in leave.lua).
            let next = room
                .members
                .iter()
                .find(|m| !is_encoder(m.identity.as_deref()))
                .unwrap_or(&room.members[0]);
            room.host = next.info.id.clone();
            room.deliver_to_all(&ServerMsg::HostChanged {
                peer_id: room.host.clone(),
            });
        }
    }

    async fn host_action(&self, member: &Membership, action: HostAction) -> Result<(), RelayError> {
        let mut rooms = self.rooms();
        let room = rooms.get_mut(member.room()).ok_or(RelayError::NotJoined)?;
        let me = member.peer_id();
        if !room.members.iter().any(|m| &m.info.id == me) {
            return Err(RelayError::NotJoined);
        }
        if &room.host != me {
            return Err(RelayError::NotHost);
        }
        match action {
            // The relay keeps the device; the registry only says who is host.
            HostAction::AdmitDevice => {}
            HostAction::Lock(locked) => {
                room.locked = locked;
                room.deliver_to_all(&ServerMsg::LockChanged { locked });
            }
            HostAction::Remove(target) => {
                let index = room.other(me, &target)?;
                let removed = room.members.remove(index);
                if let Some(identity) = removed.identity {
                    room.removed.insert(identity);
                }
                // Its connection closes after this message.
                removed.mailbox.deliver(ServerMsg::Removed);
                room.deliver_to_all(&ServerMsg::PeerLeft {
                    peer_id: target,
                    reason: LeaveReason::Removed,
                });
                room.shrank();
            }
            HostAction::AskToMute(target) => {
                let index = room.other(me, &target)?;
                room.members[index]
                    .mailbox
                    .deliver(ServerMsg::MuteRequested { by: me.clone() });
            }
            HostAction::HandOver(target) => {
                room.other(me, &target)?;
                room.host = target.clone();
                room.deliver_to_all(&ServerMsg::HostChanged { peer_id: target });
            }
            HostAction::EndMeeting => {
                if let Some(room) = rooms.remove(member.room()) {
                    room.deliver_to_all(&ServerMsg::MeetingEnded);
                }
            }
            HostAction::Live(live) => {
                // The same rules are in redis/lua/host.lua.
                let stage = live.as_ref().map_or(&[][..], |l| &l.stage[..]);
                if let Some(stranger) = stage.iter().find(|id| !room.has(id)) {
                    return Err(RelayError::UnknownPeer(stranger.to_string()));
                }
                room.live = live.clone();
                if let Some(rule) = room.rule.filter(|_| live.is_some()) {
                    let count = room.count_for_rule();
                    if room
                        .topology
                        .on_count(&rule, count, Instant::now())
                        .is_some()
                    {
                        room.switched();
                    }
                }
                room.deliver_to_all(&ServerMsg::LiveChanged { live });
            }
        }
        Ok(())
    }

    async fn update(&self, member: &Membership, change: PeerChange) -> Result<(), RelayError> {
        let mut rooms = self.rooms();
        let room = rooms.get_mut(member.room()).ok_or(RelayError::NotJoined)?;
        let me = room
            .member_mut(member.peer_id())
            .ok_or(RelayError::NotJoined)?;
        match change {
            PeerChange::Media(media) => me.info.media = media,
            PeerChange::Name(name) => me.info.name = name,
        }
        let peer = me.info.clone();
        room.deliver_to_others(member.peer_id(), &ServerMsg::PeerUpdated { peer });
        Ok(())
    }

    async fn send_to(
        &self,
        member: &Membership,
        to: &PeerId,
        msg: ServerMsg,
    ) -> Result<(), RelayError> {
        let rooms = self.rooms();
        let room = rooms.get(member.room()).ok_or(RelayError::NotJoined)?;
        if !room.members.iter().any(|m| &m.info.id == member.peer_id()) {
            return Err(RelayError::NotJoined);
        }
        let target = room
            .members
            .iter()
            .find(|m| &m.info.id == to && to != member.peer_id())
            .ok_or_else(|| RelayError::UnknownPeer(to.to_string()))?;
        target.mailbox.deliver(msg);
        Ok(())
    }

    async fn broadcast(&self, member: &Membership, msg: ServerMsg) -> Result<(), RelayError> {
        let rooms = self.rooms();
        let room = rooms.get(member.room()).ok_or(RelayError::NotJoined)?;
        if !room.members.iter().any(|m| &m.info.id == member.peer_id()) {
            return Err(RelayError::NotJoined);
        }
        room.deliver_to_others(member.peer_id(), &msg);
        Ok(())
    }

    async fn stats(&self) -> RegistryStats {
        let rooms = self.rooms();
        RegistryStats {
            rooms: rooms.len(),
            peers: rooms.values().map(|r| r.members.len()).sum(),
        }
    }

    async fn sfu_placement(
        &self,
        member: &Membership,
        epoch: u64,
    ) -> Result<Option<SfuPlacement>, RelayError> {
        let rooms = self.rooms();
        let room = rooms.get(member.room()).ok_or(RelayError::NotJoined)?;
        if !room.has(member.peer_id()) {
            return Err(RelayError::NotJoined);
        }
        check_sfu_epoch(epoch, room.topology.topology())?;
        Ok(room.sfu.clone())
    }

    async fn claim_sfu_placement(
        &self,
        member: &Membership,
        placement: SfuPlacement,
        replacing: Option<u64>,
    ) -> Result<SfuPlacement, RelayError> {
        let mut rooms = self.rooms();
        let room = rooms.get_mut(member.room()).ok_or(RelayError::NotJoined)?;
        if !room.has(member.peer_id()) {
            return Err(RelayError::NotJoined);
        }
        check_sfu_epoch(placement.epoch, room.topology.topology())?;
        let current = room.sfu.as_ref().map(|p| p.room.id);
        if current.is_none() || current == replacing {
            room.sfu = Some(placement);
        }
        room.sfu.clone().ok_or(RelayError::Internal)
    }

    async fn room_sfu_placement(
        &self,
        room: &RoomName,
    ) -> Result<Option<SfuPlacement>, RelayError> {
        Ok(self.rooms().get(room).and_then(|r| r.sfu.clone()))
    }

    async fn room_live(&self, room: &RoomName) -> Result<Option<LiveInfo>, RelayError> {
        Ok(self.rooms().get(room).and_then(|r| r.live.clone()))
    }

    async fn follow_speaker(
        &self,
        room: &RoomName,
        watch_token: &str,
        speaker: &PeerId,
    ) -> Result<Option<LiveInfo>, RelayError> {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(room) else {
            return Ok(None);
        };
        // The same rules are in redis/lua/speaker.lua.
        let present = room.has(speaker);
        let Some(live) = room
            .live
            .as_mut()
            .filter(|live| live.follow_speaker && live.watch_token == watch_token && present)
        else {
            return Ok(None);
        };
        if live.stage == [speaker.clone()] {
            return Ok(None);
        }
        live.stage = vec![speaker.clone()];
        let live = live.clone();
        room.deliver_to_all(&ServerMsg::LiveChanged {
            live: Some(live.clone()),
        });
        Ok(Some(live))
    }

    async fn settle_topology(&self, policy: TopologyPolicy) {
        let mut rooms = self.rooms();
        for room in rooms.values_mut() {
            // The same rules are in redis/lua/settle.lua.
            let switch = match (room.topology.mode(), policy.sfu_reachable) {
                // A live room that fell back while no media server was reachable goes back
                // to the SFU once one is.
                (Mode::Mesh, true) if room.live.is_some() => {
                    room.topology
                        .on_count(&policy.rule, room.count_for_rule(), policy.now)
                }
                (Mode::Mesh, _) => continue,
                (Mode::Sfu, true) => {
                    room.topology
                        .on_count(&policy.rule, room.count_for_rule(), policy.now)
                }
                // Without a media server a live room is only as large as it is.
                (Mode::Sfu, false) => room.topology.fall_back(&policy.rule, room.members.len()),
            };
            if switch.is_some() {
                room.switched();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    use meshmeet_protocol::{IceTransportPolicy, MediaState, RoomLimits, SessionToken};
    use tokio::sync::mpsc;

    use super::*;
    use crate::registry::{MailboxSignal, Outbound, WelcomeExtras};

    fn request(room: &str, password: Option<&str>) -> (JoinRequest, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(16);
        let mailbox = Mailbox::new(
            tx,
            Arc::new(MailboxSignal::default()),
            Arc::new(AtomicBool::new(false)),
        );
        let request = JoinRequest {
            room: RoomName(room.into()),
            name: "Ana".into(),
            media: MediaState::default(),
            password: password.map(str::to_owned),
            vouched: false,
            identity: None,
            mailbox,
            welcome: WelcomeExtras {
                ice_servers: Vec::new(),
                ice_transport_policy: IceTransportPolicy::All,
                limits: RoomLimits {
                    max_participants: 2,
                    max_message_bytes: 1024,
                    messages_per_second: 1,
                    max_chat_chars: 10,
                    max_file_bytes: 1 << 30,
                },
                session: SessionToken("s".into()),
                resume_grace_ms: 0,
            },
            topology: None,
            e2ee: false,
        };
        (request, rx)
    }

    #[tokio::test]
    async fn empty_rooms_are_forgotten_with_their_password() {
        let registry = MemoryRegistry::new(10, 2);
        let (req, _rx) = request("r", Some("secret"));
        let ana = registry.join(req).await.expect("joins");
        let (req, _rx2) = request("r", Some("guess"));
        assert_eq!(
            registry.join(req).await.err(),
            Some(RelayError::WrongPassword)
        );
        registry.leave(&ana, LeaveReason::Left).await;
        assert_eq!(registry.stats().await, RegistryStats::default());
        let (req, _rx3) = request("r", None);
        assert!(registry.join(req).await.is_ok());
    }

    #[tokio::test]
    async fn room_limit_counts_rooms_not_joins() {
        let registry = MemoryRegistry::new(1, 2);
        let (req, _a) = request("one", None);
        registry.join(req).await.expect("first room");
        let (req, _b) = request("one", None);
        registry.join(req).await.expect("same room");
        let (req, _c) = request("two", None);
        assert_eq!(
            registry.join(req).await.err(),
            Some(RelayError::TooManyRooms)
        );
    }

    #[test]
    fn password_comparison_needs_the_exact_password() {
        assert!(passwords_match("pw", Some("pw")));
        assert!(!passwords_match("pw", Some("pW")));
        assert!(!passwords_match("pw", Some("pw ")));
        assert!(!passwords_match("pw", None));
    }
}
