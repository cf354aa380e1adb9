//! The relay's SFU upkeep, once a second: rooms that stayed small return to the mesh (or fall
//! back to it when no media server is reachable), and Janus rooms this relay created are
//! destroyed once the registry no longer names them (the room went back to the mesh, ended,
//! or moved to another Janus).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;
use tracing::{debug, info};

use crate::registry::{RoomRegistry, TopologyPolicy};
use crate::AppState;

/// How often the upkeep runs: the return delay is counted to within this.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(1);
/// VideoRoom: no such room.
const NO_SUCH_ROOM: i64 = 426;

/// Runs the upkeep until the task is aborted; returns at once without a media server.
pub async fn run_upkeep<R: RoomRegistry>(state: Arc<AppState<R>>) {
    let Some(rule) = state.config.topology_rule() else {
        return;
    };
    let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let policy = TopologyPolicy {
            rule,
            sfu_reachable: state.janus.ready().is_ok(),
            now: Instant::now(),
        };
        state.registry.settle_topology(policy).await;
        retire_unused_rooms(&state).await;
    }
}

/// Destroys the Janus rooms of this relay that the registry no longer names.
async fn retire_unused_rooms<R: RoomRegistry>(state: &AppState<R>) {
    for (room, placement) in state.sfu_rooms.all() {
        match state.registry.room_sfu_placement(&room).await {
            Ok(Some(current)) if current.room.id == placement.room.id => continue,
            Ok(_) => {}
            // The registry cannot say now: ask again next time.
            Err(_) => continue,
        }
        // A Janus that is down keeps the room in the list: when it is back, the room is
        // either still there (destroyed now) or gone with the restart (426).
        let Some(client) = state.janus.client_for(&placement.janus_url) else {
            continue;
        };
        match client.destroy_room(&placement.room).await {
            Ok(()) => {
                info!(%room, epoch = placement.epoch, "SFU room retired");
                state.sfu_rooms.remove(placement.room.id);
            }
            Err(err) if err.code() == Some(NO_SUCH_ROOM) => {
                state.sfu_rooms.remove(placement.room.id);
            }
            Err(err) => debug!(%err, "could not destroy a retired Janus room yet"),
        }
    }
}
