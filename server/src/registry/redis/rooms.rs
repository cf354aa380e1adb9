//! The `RoomRegistry` operations on Redis, each one script call (the join is in `join.rs`).

use std::sync::atomic::Ordering;

use ::redis::RedisError;
use meshmeet_protocol::{LeaveReason, LiveInfo, PeerId, RoomName, ServerMsg};
use serde::{Deserialize, Serialize};
use tracing::error;

use super::{
    lock, millis, offset_ms, parse_topology, to_json, unavailable, Inner, RedisRegistry,
    READY_PING_TIMEOUT,
};
use crate::config::Secret;
use crate::error::RelayError;
use crate::janus::JanusRoom;
use crate::registry::{
    wrong_topology, HostAction, JoinRequest, Membership, PeerChange, RegistryStats, RoomRegistry,
    SfuPlacement, TopologyPolicy,
};

impl RoomRegistry for RedisRegistry {
    async fn join(&self, request: JoinRequest) -> Result<Membership, RelayError> {
        self.inner.join(request).await
    }

    async fn leave(&self, member: &Membership, reason: LeaveReason) {
        let inner = &*self.inner;
        lock(&inner.local).remove(member.peer_id());
        if let Err(err) = inner
            .leave_in_redis(member.room(), member.peer_id(), reason, None)
            .await
        {
            inner.note_error("leaving a room", &err);
            inner.queue_leave(member.room().clone(), member.peer_id().clone(), reason);
        }
    }

    async fn update(&self, member: &Membership, change: PeerChange) -> Result<(), RelayError> {
        let inner = &*self.inner;
        let mut info = lock(&inner.local)
            .get(member.peer_id())
            .map(|peer| peer.info.clone())
            .ok_or(RelayError::NotJoined)?;
        match change {
            PeerChange::Media(media) => info.media = media,
            PeerChange::Name(name) => info.name = name,
        }
        let info_json = to_json(&info)?;
        let msg = to_json(&ServerMsg::PeerUpdated { peer: info.clone() })?;
        let updated: i64 = inner
            .scripts
            .update
            .arg(&inner.prefix)
            .arg(member.room().as_str())
            .arg(member.peer_id().as_str())
            .arg(&info_json)
            .arg(&msg)
            .invoke_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "updating a peer", &err))?;
        if updated == 0 {
            return Err(RelayError::NotJoined);
        }
        if let Some(peer) = lock(&inner.local).get_mut(member.peer_id()) {
            peer.info = info;
        }
        Ok(())
    }

    async fn send_to(
        &self,
        member: &Membership,
        to: &PeerId,
        msg: ServerMsg,
    ) -> Result<(), RelayError> {
        let inner = &*self.inner;
        inner.check_local(member)?;
        let msg = to_json(&msg)?;
        let status: String = inner
            .scripts
            .send_to
            .arg(&inner.prefix)
            .arg(member.room().as_str())
            .arg(member.peer_id().as_str())
            .arg(to.as_str())
            .arg(&msg)
            .invoke_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "relaying a message", &err))?;
        script_status(&status, to)
    }

    async fn broadcast(&self, member: &Membership, msg: ServerMsg) -> Result<(), RelayError> {
        let inner = &*self.inner;
        inner.check_local(member)?;
        let msg = to_json(&msg)?;
        let status: String = inner
            .scripts
            .broadcast
            .arg(&inner.prefix)
            .arg(member.room().as_str())
            .arg(member.peer_id().as_str())
            .arg(&msg)
            .invoke_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "broadcasting a message", &err))?;
        script_status(&status, member.peer_id())
    }

    async fn host_action(&self, member: &Membership, action: HostAction) -> Result<(), RelayError> {
        let inner = &*self.inner;
        inner.check_local(member)?;
        // For live: the LiveInfo JSON ('' to stop), the message and the stage's ids.
        let (live_json, changed, stage) = match &action {
            HostAction::Live(live) => (
                live.as_ref().map(to_json).transpose()?.unwrap_or_default(),
                to_json(&ServerMsg::LiveChanged { live: live.clone() })?,
                live.as_ref().map(|l| l.stage.clone()).unwrap_or_default(),
            ),
            _ => Default::default(),
        };
        let (name, target) = match &action {
            HostAction::Lock(locked) => ("lock", if *locked { "1" } else { "0" }),
            HostAction::Remove(peer) => ("remove", peer.as_str()),
            HostAction::AskToMute(peer) => ("mute", peer.as_str()),
            HostAction::HandOver(peer) => ("hand_over", peer.as_str()),
            HostAction::EndMeeting => ("end", ""),
            HostAction::Live(_) => ("live", live_json.as_str()),
            HostAction::AdmitDevice => ("ingest", ""),
        };
        let mut invocation = inner.scripts.host.prepare_invoke();
        invocation
            .arg(&inner.prefix)
            .arg(member.room().as_str())
            .arg(member.peer_id().as_str())
            .arg(name)
            .arg(target)
            .arg(&changed);
        for peer in &stage {
            invocation.arg(peer.as_str());
        }
        let status: String = invocation
            .invoke_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "a host action", &err))?;
        match status.as_str() {
            "not_host" => Err(RelayError::NotHost),
            other => match other.strip_prefix("unknown_peer ") {
                Some(stranger) => Err(RelayError::UnknownPeer(stranger.to_owned())),
                None => script_status(&status, &PeerId(target.to_owned())),
            },
        }
    }

    async fn stats(&self) -> RegistryStats {
        let inner = &*self.inner;
        let counts: Result<(usize, usize), RedisError> = inner
            .scripts
            .stats
            .arg(&inner.prefix)
            .invoke_async(&mut inner.commands.clone())
            .await;
        match counts {
            Ok((rooms, peers)) => RegistryStats { rooms, peers },
            Err(err) => {
                inner.note_error("counting rooms", &err);
                RegistryStats::default()
            }
        }
    }

    async fn ready(&self) -> Result<(), String> {
        let inner = &*self.inner;
        let reason = || lock(&inner.last_error).clone();
        if !*inner.registered.borrow() || !inner.redis_reachable.load(Ordering::Acquire) {
            return Err(format!("not registered in Redis: {}", reason()));
        }
        if !inner.reader_connected.load(Ordering::Acquire) {
            return Err(format!("not reading its Redis inbox: {}", reason()));
        }
        let mut connection = inner.commands.clone();
        let ping = ::redis::cmd("PING");
        match tokio::time::timeout(
            READY_PING_TIMEOUT,
            ping.query_async::<String>(&mut connection),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(format!("Redis does not answer: {err}")),
            Err(_) => Err(format!(
                "Redis does not answer within {READY_PING_TIMEOUT:?}"
            )),
        }
    }

    async fn sfu_placement(
        &self,
        member: &Membership,
        epoch: u64,
    ) -> Result<Option<SfuPlacement>, RelayError> {
        self.inner.placement(member, epoch, None).await
    }

    async fn claim_sfu_placement(
        &self,
        member: &Membership,
        placement: SfuPlacement,
        replacing: Option<u64>,
    ) -> Result<SfuPlacement, RelayError> {
        let epoch = placement.epoch;
        self.inner
            .placement(member, epoch, Some((&placement, replacing)))
            .await?
            .ok_or(RelayError::Internal)
    }

    async fn room_sfu_placement(
        &self,
        room: &RoomName,
    ) -> Result<Option<SfuPlacement>, RelayError> {
        let inner = &*self.inner;
        let json: Option<String> = ::redis::cmd("HGET")
            .arg(format!("{}:room:{}:sfu", inner.prefix, room.as_str()))
            .arg("json")
            .query_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "reading a room's SFU placement", &err))?;
        json.map(|json| placement_from_json(&json)).transpose()
    }

    async fn room_live(&self, room: &RoomName) -> Result<Option<LiveInfo>, RelayError> {
        let inner = &*self.inner;
        let json: Option<String> = ::redis::cmd("GET")
            .arg(format!("{}:room:{}:live", inner.prefix, room.as_str()))
            .query_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "reading a room's live state", &err))?;
        Ok(json.as_deref().and_then(super::join::parse_live))
    }

    async fn follow_speaker(
        &self,
        room: &RoomName,
        watch_token: &str,
        speaker: &PeerId,
    ) -> Result<Option<LiveInfo>, RelayError> {
        let inner = &*self.inner;
        let live = LiveInfo {
            stage: vec![speaker.clone()],
            watch_token: watch_token.to_owned(),
            follow_speaker: true,
        };
        let changed = to_json(&ServerMsg::LiveChanged {
            live: Some(live.clone()),
        })?;
        let status: String = inner
            .scripts
            .speaker
            .arg(&inner.prefix)
            .arg(room.as_str())
            .arg(watch_token)
            .arg(speaker.as_str())
            .arg(to_json(&live)?)
            .arg(&changed)
            .invoke_async(&mut inner.commands.clone())
            .await
            .map_err(|err| unavailable(inner, "moving a live's stage to its speaker", &err))?;
        Ok((status == "ok").then_some(live))
    }

    async fn settle_topology(&self, policy: TopologyPolicy) {
        let inner = &*self.inner;
        let settled: Result<i64, RedisError> = inner
            .scripts
            .settle
            .arg(&inner.prefix)
            .arg(policy.rule.mesh_max)
            .arg(millis(policy.rule.return_delay))
            .arg(if policy.sfu_reachable { "1" } else { "0" })
            .arg(offset_ms(policy.now))
            .invoke_async(&mut inner.commands.clone())
            .await;
        if let Err(err) = settled {
            inner.note_error("settling topologies", &err);
        }
    }
}

/// The error for a delivery or host script's answer about `peer`.
fn script_status(status: &str, peer: &PeerId) -> Result<(), RelayError> {
    match status {
        "ok" => Ok(()),
        "not_joined" => Err(RelayError::NotJoined),
        "unknown_peer" => Err(RelayError::UnknownPeer(peer.to_string())),
        other => {
            error!(status = other, "unexpected answer of a delivery script");
            Err(RelayError::Internal)
        }
    }
}

impl Inner {
    /// Runs `lua/placement.lua`: reads the placement of `epoch`, or claims `claim` (the
    /// placement and the Janus room it replaces) unless another holds the epoch.
    async fn placement(
        &self,
        member: &Membership,
        epoch: u64,
        claim: Option<(&SfuPlacement, Option<u64>)>,
    ) -> Result<Option<SfuPlacement>, RelayError> {
        let mut invocation = self.scripts.placement.prepare_invoke();
        invocation
            .arg(&self.prefix)
            .arg(member.room().as_str())
            .arg(member.peer_id().as_str())
            .arg(epoch);
        match claim {
            Some((placement, replacing)) => invocation
                .arg(placement.room.id)
                .arg(placement_to_json(placement)?)
                .arg(replacing.map(|id| id.to_string()).unwrap_or_default()),
            None => invocation.arg("").arg("").arg(""),
        };
        let reply: Vec<String> = invocation
            .invoke_async(&mut self.commands.clone())
            .await
            .map_err(|err| unavailable(self, "the SFU placement", &err))?;
        match reply.as_slice() {
            [status, json] if status == "ok" => (!json.is_empty())
                .then(|| placement_from_json(json))
                .transpose(),
            [status] if status == "not_joined" => Err(RelayError::NotJoined),
            [status, mode, now] if status == "wrong_topology" => match parse_topology(mode, now) {
                Some(now) => Err(wrong_topology(epoch, now)),
                None => Err(RelayError::Internal),
            },
            other => {
                error!(reply = ?other, "unexpected answer of the placement script");
                Err(RelayError::Internal)
            }
        }
    }
}

/// A placement as stored in Redis (the Janus room's secret and pin with it: Redis is as
/// trusted as the relays sharing it).
#[derive(Serialize, Deserialize)]
struct StoredPlacement {
    epoch: u64,
    janus_url: String,
    id: u64,
    secret: String,
    pin: String,
}

fn placement_to_json(placement: &SfuPlacement) -> Result<String, RelayError> {
    to_json(&StoredPlacement {
        epoch: placement.epoch,
        janus_url: placement.janus_url.clone(),
        id: placement.room.id,
        secret: placement.room.secret.expose().to_owned(),
        pin: placement.room.pin.expose().to_owned(),
    })
}

fn placement_from_json(json: &str) -> Result<SfuPlacement, RelayError> {
    let stored: StoredPlacement = serde_json::from_str(json).map_err(|err| {
        error!(%err, "unreadable SFU placement in Redis");
        RelayError::Internal
    })?;
    Ok(SfuPlacement {
        epoch: stored.epoch,
        janus_url: stored.janus_url,
        room: JanusRoom {
            id: stored.id,
            secret: Secret::from(stored.secret.as_str()),
            pin: Secret::from(stored.pin.as_str()),
        },
    })
}
