//! Where a room's SFU runs: the first participant of an epoch to publish creates a VideoRoom
//! room on the least loaded reachable Janus and claims it in the registry; everyone else of
//! the room (on any relay) finds it there. The relay that created a Janus room destroys it
//! once the registry no longer names it ([`OwnedRooms`], checked by the upkeep task).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use meshmeet_protocol::RoomName;
use tracing::{info, warn};

use crate::error::RelayError;
use crate::janus::{JanusClient, JanusError, JanusPool, RoomSpec};
use crate::registry::{Membership, RoomRegistry, SfuPlacement};
use crate::AppState;

/// A placement and a connected client of its Janus.
#[derive(Clone, Debug)]
pub struct Placed {
    /// The Janus the room is on.
    pub client: Arc<JanusClient>,
    /// The room there.
    pub placement: SfuPlacement,
}

/// The Janus rooms this relay created and must destroy once they are no longer used.
#[derive(Debug, Default)]
pub struct OwnedRooms {
    rooms: Mutex<Vec<(RoomName, SfuPlacement)>>,
}

impl OwnedRooms {
    fn lock(&self) -> MutexGuard<'_, Vec<(RoomName, SfuPlacement)>> {
        // Entries are pushed or removed whole.
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a room this relay created and the registry now names.
    fn add(&self, room: RoomName, placement: SfuPlacement) {
        self.lock().push((room, placement));
    }

    /// Every room, for the upkeep task to check.
    pub fn all(&self) -> Vec<(RoomName, SfuPlacement)> {
        self.lock().clone()
    }

    /// Forgets a room (destroyed, or its Janus went away with it).
    pub fn remove(&self, janus_room: u64) {
        self.lock().retain(|(_, p)| p.room.id != janus_room);
    }

    /// How many rooms this relay has on the Janus at `url`.
    fn count_on(&self, url: &str) -> usize {
        self.lock()
            .iter()
            .filter(|(_, p)| p.janus_url == url)
            .count()
    }
}

/// The media server room of `member`'s room for `epoch`: the one in force, or a new one.
/// `failed` names a Janus room found unusable (gone after a Janus restart), to be replaced.
pub async fn place<R: RoomRegistry>(
    state: &AppState<R>,
    member: &Membership,
    epoch: u64,
    failed: Option<u64>,
) -> Result<Placed, RelayError> {
    if let Some(current) = state.registry.sfu_placement(member, epoch).await? {
        let usable = Some(current.room.id) != failed;
        if let (true, Some(client)) = (usable, state.janus.client_for(&current.janus_url)) {
            return Ok(Placed {
                client,
                placement: current,
            });
        }
        // Its Janus is down or lost the room: put the room somewhere else.
        return create_and_claim(state, member, epoch, Some(current.room.id)).await;
    }
    create_and_claim(state, member, epoch, None).await
}

/// Creates a room on the least loaded reachable Janus and claims it; when another relay
/// claimed one first, destroys the new room and uses that one.
async fn create_and_claim<R: RoomRegistry>(
    state: &AppState<R>,
    member: &Membership,
    epoch: u64,
    replacing: Option<u64>,
) -> Result<Placed, RelayError> {
    let client = least_loaded(&state.janus, &state.sfu_rooms)
        .ok_or_else(|| RelayError::MediaServerFailed("no media server is reachable".to_owned()))?;
    let spec = RoomSpec {
        publishers: state.config.max_participants,
        // Janus logs this; the meeting's name may be private.
        description: "meshmeet".to_owned(),
    };
    let room = client.create_room(&spec).await.map_err(media_failed)?;
    let ours = SfuPlacement {
        epoch,
        janus_url: client.url().to_owned(),
        room,
    };
    let claimed = state
        .registry
        .claim_sfu_placement(member, ours.clone(), replacing)
        .await;
    match claimed {
        Ok(won) if won == ours => {
            info!(room = %member.room(), epoch, janus = %ours.janus_url, "SFU room placed");
            state.sfu_rooms.add(member.room().clone(), ours);
            Ok(Placed {
                client,
                placement: won,
            })
        }
        Ok(theirs) => {
            destroy_later(&client, ours);
            let client = state.janus.client_for(&theirs.janus_url).ok_or_else(|| {
                RelayError::MediaServerFailed("the room's media server is unreachable".into())
            })?;
            Ok(Placed {
                client,
                placement: theirs,
            })
        }
        Err(err) => {
            destroy_later(&client, ours);
            Err(err)
        }
    }
}

/// The connected Janus with the fewest of this relay's rooms (the first on a tie).
fn least_loaded(pool: &JanusPool, owned: &OwnedRooms) -> Option<Arc<JanusClient>> {
    pool.connected()
        .into_iter()
        .min_by_key(|client| owned.count_on(client.url()))
}

/// Destroys a Janus room nobody uses, in the background.
pub fn destroy_later(client: &Arc<JanusClient>, placement: SfuPlacement) {
    let client = Arc::clone(client);
    tokio::spawn(async move {
        if let Err(err) = client.destroy_room(&placement.room).await {
            warn!(%err, janus_room = placement.room.id, "could not destroy an unused Janus room");
        }
    });
}

/// A Janus failure as the participant is told it.
pub fn media_failed(err: JanusError) -> RelayError {
    warn!(%err, "media server request failed");
    RelayError::MediaServerFailed(match err {
        JanusError::Timeout { .. } => "it did not answer in time".to_owned(),
        JanusError::Closed(_) | JanusError::Unreachable(_) => "it is unreachable".to_owned(),
        JanusError::Refused { reason, .. } => reason,
        JanusError::Unexpected { .. } => "it answered something unexpected".to_owned(),
    })
}
