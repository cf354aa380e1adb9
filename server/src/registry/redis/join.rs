//! Joining a room through Redis: the join script decides admission (see `lua/join.lua`),
//! then the newcomer gets its welcome before anything the others sent it meanwhile. A join
//! that does not finish, whatever ends it, is undone.

use ::redis::RedisError;
use meshmeet_protocol::{
    LeaveReason, LiveInfo, PeerId, PeerInfo, RoomName, ServerMsg, Topology, PROTOCOL_VERSION,
};
use tracing::error;

use super::{
    lock, millis, offset_ms, parse_topology, to_json, unavailable, Inner, LocalPeer,
    JOIN_REGISTRATION_WAIT,
};
use crate::error::RelayError;
use crate::registry::{new_peer_id, JoinRequest, Membership, TopologyPolicy, WelcomeExtras};

impl Inner {
    /// [`crate::registry::RoomRegistry::join`] on Redis.
    pub(super) async fn join(&self, request: JoinRequest) -> Result<Membership, RelayError> {
        self.wait_registered(JOIN_REGISTRATION_WAIT).await;
        let peer_id = new_peer_id()?;
        let JoinRequest {
            room,
            name,
            media,
            password,
            vouched,
            identity,
            mailbox,
            welcome,
            topology: policy,
            e2ee,
        } = request;
        let info = PeerInfo {
            id: peer_id.clone(),
            name,
            media,
        };
        let script_args = JoinArgs {
            room: &room,
            peer: &peer_id,
            password: password.filter(|p| !p.is_empty()).unwrap_or_default(),
            info_json: to_json(&info)?,
            joined_json: to_json(&ServerMsg::PeerJoined { peer: info.clone() })?,
            vouched,
            identity: identity.as_deref().unwrap_or(""),
            policy,
            e2ee,
        };

        // Registered before the script runs, so messages sent to the newcomer the moment the
        // others learn about it are kept for after its welcome.
        lock(&self.local).insert(
            peer_id.clone(),
            LocalPeer {
                room: room.clone(),
                info,
                mailbox,
                early: Some(Vec::new()),
            },
        );
        // Until the welcome is out, any way out of here (an error, a refusal, this future
        // being dropped) undoes the local entry, and the Redis one where it may exist.
        let mut pending = PendingJoin {
            inner: self,
            room: room.clone(),
            peer: peer_id.clone(),
            state: Pending::MayBeInRedis,
        };
        // (The script may have run before the connection failed: the guard removes the peer.)
        let reply = self
            .run_join_script(script_args)
            .await
            .map_err(|err| unavailable(self, "joining a room", &err))?;
        let (host, topology, live, e2ee, records) = match reply.as_slice() {
            [status, host, mode, epoch, live, e2ee, records @ ..] if status == "ok" => {
                let topology = parse_topology(mode, epoch).ok_or_else(|| {
                    error!(%mode, %epoch, "unreadable topology from the join script");
                    RelayError::Internal
                })?;
                (host, topology, parse_live(live), e2ee == "1", records)
            }
            refusal => {
                pending.state = Pending::NotInRedis;
                return Err(self.refusal(refusal.first().map(String::as_str)));
            }
        };
        let roster = roster_in_join_order(&room, records);
        let host = (!host.is_empty()).then(|| PeerId(host.clone()));
        self.welcome(
            &peer_id,
            &room,
            roster,
            host,
            (topology, live, e2ee),
            welcome,
        )?;
        pending.state = Pending::Joined;
        Ok(Membership::new(room, peer_id, e2ee))
    }

    /// Runs `lua/join.lua`: `{'ok', host, mode, epoch, live, e2ee, records of the others…}` or
    /// `{refusal}`.
    async fn run_join_script(&self, args: JoinArgs<'_>) -> Result<Vec<String>, RedisError> {
        let mut invocation = self.scripts.join.prepare_invoke();
        invocation
            .arg(&self.prefix)
            .arg(args.room.as_str())
            .arg(args.peer.as_str())
            .arg(&self.instance)
            .arg(&args.password)
            .arg(self.max_participants)
            .arg(self.max_rooms)
            .arg(&args.info_json)
            .arg(&args.joined_json)
            .arg(if args.vouched { "1" } else { "0" })
            .arg(args.identity);
        match args.policy {
            Some(policy) => invocation
                .arg(policy.rule.mesh_max)
                .arg(millis(policy.rule.return_delay))
                .arg(if policy.sfu_reachable { "1" } else { "0" })
                .arg(offset_ms(policy.now)),
            None => invocation.arg("").arg("").arg("").arg(""),
        };
        invocation.arg(if args.e2ee { "1" } else { "0" });
        invocation.invoke_async(&mut self.commands.clone()).await
    }

    /// The error for the join script's refusal.
    fn refusal(&self, status: Option<&str>) -> RelayError {
        match status {
            Some("room_full") => RelayError::RoomFull {
                max: self.max_participants,
            },
            Some("too_many_rooms") => RelayError::TooManyRooms,
            Some("wrong_password") => RelayError::WrongPassword,
            Some("removed") => RelayError::Removed,
            Some("room_locked") => RelayError::RoomLocked,
            Some("sfu_unavailable") => RelayError::SfuUnavailable,
            Some("unregistered") => {
                self.note_problem("this relay is not registered in Redis yet");
                RelayError::Unavailable
            }
            other => {
                error!(status = ?other, "unexpected answer of the join script");
                RelayError::Internal
            }
        }
    }

    /// Delivers the welcome, then whatever arrived for the newcomer meanwhile.
    fn welcome(
        &self,
        peer_id: &PeerId,
        room: &RoomName,
        roster: Vec<PeerInfo>,
        host: Option<PeerId>,
        (topology, live, e2ee): (Topology, Option<LiveInfo>, bool),
        welcome: WelcomeExtras,
    ) -> Result<(), RelayError> {
        let mut local = lock(&self.local);
        // Gone if this relay lost its registration while the script ran: the guard undoes it.
        let entry = local.get_mut(peer_id).ok_or(RelayError::Unavailable)?;
        entry.mailbox.deliver(ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            peer_id: peer_id.clone(),
            room: room.clone(),
            roster,
            ice_servers: welcome.ice_servers,
            ice_transport_policy: welcome.ice_transport_policy,
            limits: welcome.limits,
            session: welcome.session,
            resume_grace_ms: welcome.resume_grace_ms,
            host,
            // A locked room admits nobody, so a room just entered is never locked.
            locked: false,
            topology,
            live: live.map(Box::new),
            e2ee,
        });
        for msg in entry.early.take().unwrap_or_default() {
            entry.mailbox.deliver(msg);
        }
        Ok(())
    }
}

/// What the join script is told besides this relay's own settings.
struct JoinArgs<'a> {
    room: &'a RoomName,
    peer: &'a PeerId,
    /// Empty for none.
    password: String,
    info_json: String,
    joined_json: String,
    vouched: bool,
    /// Empty for none.
    identity: &'a str,
    policy: Option<TopologyPolicy>,
    /// Whether the room is to be end-to-end encrypted, if this join opens it.
    e2ee: bool,
}

/// The room's live state as the join script read it (`''` when not live); an unreadable
/// one is logged and taken as not live.
pub(super) fn parse_live(json: &str) -> Option<LiveInfo> {
    if json.is_empty() {
        return None;
    }
    serde_json::from_str(json)
        .inspect_err(|err| error!(%err, "unreadable live state in Redis"))
        .ok()
}

/// The others' records (`<relay> <seq> <PeerInfo JSON>`, in no order) as a roster in join
/// order; an unreadable record is logged and left out.
fn roster_in_join_order(room: &RoomName, records: &[String]) -> Vec<PeerInfo> {
    let mut roster: Vec<(u64, PeerInfo)> = records
        .iter()
        .filter_map(|record| match parse_record(record) {
            Some((_, seq, info)) => Some((seq, info)),
            None => {
                error!(%record, room = %room, "unreadable peer record in Redis; left out of a roster");
                None
            }
        })
        .collect();
    roster.sort_by_key(|(seq, _)| *seq);
    roster.into_iter().map(|(_, info)| info).collect()
}

/// `<relay> <seq> <PeerInfo JSON>` → its parts.
fn parse_record(record: &str) -> Option<(&str, u64, PeerInfo)> {
    let (instance, rest) = record.split_once(' ')?;
    let (seq, json) = rest.split_once(' ')?;
    Some((
        instance,
        seq.parse().ok()?,
        serde_json::from_str(json).ok()?,
    ))
}

/// Undoes a join that did not finish, whatever ended it.
struct PendingJoin<'a> {
    inner: &'a Inner,
    room: RoomName,
    peer: PeerId,
    state: Pending,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// The join script may have added the peer.
    MayBeInRedis,
    /// The join script refused it.
    NotInRedis,
    /// Welcomed: nothing to undo.
    Joined,
}

impl Drop for PendingJoin<'_> {
    fn drop(&mut self) {
        if self.state == Pending::Joined {
            return;
        }
        lock(&self.inner.local).remove(&self.peer);
        if self.state == Pending::MayBeInRedis {
            // Retried by the heartbeat; a no-op if the script never ran.
            self.inner.queue_leave(
                self.room.clone(),
                self.peer.clone(),
                LeaveReason::Disconnected,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshmeet_protocol::MediaState;

    fn record(relay: &str, seq: u64, name: &str) -> (String, PeerInfo) {
        let info = PeerInfo {
            id: PeerId(name.to_lowercase()),
            name: name.into(),
            media: MediaState::default(),
        };
        let json = serde_json::to_string(&info).expect("json");
        (format!("{relay} {seq} {json}"), info)
    }

    #[test]
    fn records_round_trip_and_malformed_ones_are_refused() {
        let (text, info) = record("r1", 42, "Ana de la Cruz");
        assert_eq!(parse_record(&text), Some(("r1", 42, info)));
        assert_eq!(parse_record("r1 x {}"), None);
        assert_eq!(parse_record("r1"), None);
    }

    #[test]
    fn rosters_are_in_join_order_without_unreadable_records() {
        let (cy, cy_info) = record("r2", 30, "Cy");
        let (ana, ana_info) = record("r1", 4, "Ana");
        let (bo, bo_info) = record("r1", 12, "Bo");
        let records = [cy, "garbage".to_owned(), ana, bo];
        assert_eq!(
            roster_in_join_order(&RoomName("r".into()), &records),
            [ana_info, bo_info, cy_info]
        );
    }
}
