//! The heartbeat, every quarter of the expiry: keeps this relay registered in Redis (and
//! registers it again if its key was lost), retries leaves that could not reach Redis, and
//! removes the peers of relays that stopped.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use ::redis::RedisError;
use meshmeet_protocol::{LeaveReason, PeerId, RoomName};
use tokio::time::MissedTickBehavior;
use tracing::{info, warn};

use super::{lock, Inner, LocalPeer};

impl Inner {
    /// The heartbeat, every quarter of the expiry: keeps this relay registered, retries
    /// leaves that failed, and removes the peers of relays that stopped.
    pub(super) async fn maintain(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.instance_ttl / 4);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = self.heartbeat().await {
                self.note_error("sending the heartbeat", &err);
                continue;
            }
            if let Err(err) = self.retry_leaves().await {
                self.note_error("retrying leaves", &err);
                continue;
            }
            if let Err(err) = self.sweep_dead_relays().await {
                self.note_error("removing the peers of stopped relays", &err);
            }
        }
    }

    async fn heartbeat(&self) -> Result<(), RedisError> {
        let ttl_ms = u64::try_from(self.instance_ttl.as_millis()).unwrap_or(u64::MAX);
        let value = format!("pid {}", std::process::id());
        let alive: i64 = self
            .scripts
            .heartbeat
            .arg(&self.prefix)
            .arg(&self.instance)
            .arg(ttl_ms)
            .arg(&value)
            .invoke_async(&mut self.commands.clone())
            .await?;
        if alive == 0 {
            self.register_again(ttl_ms, &value).await?;
        }
        if !self.redis_reachable.swap(true, Ordering::AcqRel) {
            info!(relay = %self.instance, "Redis reachable; this relay serves rooms");
        }
        Ok(())
    }

    /// This relay has no heartbeat key: it is starting, or it was given up for dead (Redis
    /// restarted, or could not be reached for longer than the expiry) and its peers are, or
    /// are about to be, removed from their rooms. Its clients are disconnected so they
    /// rejoin; then it registers again.
    async fn register_again(&self, ttl_ms: u64, value: &str) -> Result<(), RedisError> {
        let was_registered = self.registered.send_replace(false);
        let evicted: Vec<LocalPeer> = lock(&self.local).drain().map(|(_, peer)| peer).collect();
        if was_registered {
            warn!(
                relay = %self.instance,
                peers = evicted.len(),
                "this relay's registration in Redis was lost (Redis restarted, or was unreachable \
                 longer than the expiry); disconnecting its clients so they rejoin"
            );
        }
        for peer in &evicted {
            peer.mailbox.disconnect();
        }
        // Whatever is left of the old registration goes first, so the new one starts empty
        // (and leaves still waiting to be retried are covered by it).
        self.sweep(&self.instance).await?;
        lock(&self.failed_leaves).clear();
        let _: i64 = self
            .scripts
            .register
            .arg(&self.prefix)
            .arg(&self.instance)
            .arg(ttl_ms)
            .arg(value)
            .invoke_async(&mut self.commands.clone())
            .await?;
        self.registered.send_replace(true);
        Ok(())
    }

    async fn retry_leaves(&self) -> Result<(), RedisError> {
        let pending = std::mem::take(&mut *lock(&self.failed_leaves));
        let mut pending = pending.into_iter();
        while let Some((room, peer, reason)) = pending.next() {
            if let Err(err) = self.leave_in_redis(&room, &peer, reason, None).await {
                let mut failed = lock(&self.failed_leaves);
                failed.push((room, peer, reason));
                failed.extend(pending);
                return Err(err);
            }
        }
        Ok(())
    }

    async fn sweep_dead_relays(&self) -> Result<(), RedisError> {
        let dead: Vec<String> = self
            .scripts
            .dead_instances
            .arg(&self.prefix)
            .invoke_async(&mut self.commands.clone())
            .await?;
        for relay in dead.iter().filter(|relay| **relay != self.instance) {
            self.sweep(relay).await?;
        }
        Ok(())
    }

    /// Removes every peer of a relay whose heartbeat key is gone, then the relay itself.
    /// Safe to run on several relays at once, and against a relay that comes back.
    async fn sweep(&self, relay: &str) -> Result<(), RedisError> {
        let peers_key = format!("{}:instance:{relay}:peers", self.prefix);
        let peers: Vec<(String, String)> = ::redis::cmd("HGETALL")
            .arg(&peers_key)
            .query_async(&mut self.commands.clone())
            .await?;
        let mut removed = 0usize;
        for (peer, room) in peers {
            let (peer, room) = (PeerId(peer), RoomName(room));
            if self
                .leave_in_redis(&room, &peer, LeaveReason::TimedOut, Some(relay))
                .await?
            {
                removed += 1;
            }
        }
        let _: i64 = self
            .scripts
            .forget_instance
            .arg(&self.prefix)
            .arg(relay)
            .invoke_async(&mut self.commands.clone())
            .await?;
        if removed > 0 {
            info!(
                stopped = relay,
                removed, "removed the peers of a relay that stopped sending heartbeats"
            );
        }
        Ok(())
    }
}
