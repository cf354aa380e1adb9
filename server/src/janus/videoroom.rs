//! The VideoRoom operations the relay uses to run a room on Janus: create it (with the admin
//! key, a fresh secret and a fresh pin of its own), look at it, remove someone from it,
//! destroy it.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{random, JanusClient, JanusError};
use crate::config::Secret;

/// Codecs every room offers: VP8 for everyone, H.264 for browsers that send nothing else
/// (Safari), so every stream can be decoded by every participant.
const VIDEO_CODECS: &str = "vp8,h264";
const AUDIO_CODECS: &str = "opus";
/// Bytes of randomness in a room's secret.
const ROOM_SECRET_BYTES: usize = 32;
/// Audio packets (20 ms each) over which Janus averages a publisher's level before saying
/// it started or stopped talking: one second, so the live's stage follows a speaker soon;
/// the relay's hold time keeps it from flapping.
const TALK_WINDOW_PACKETS: u32 = 50;

/// What a new room should allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomSpec {
    /// Most participants publishing at once.
    pub publishers: u32,
    /// A label in Janus's logs (never the meeting's name, which may be private).
    pub description: String,
}

/// A room on Janus, the secret that lets the relay manage it and the pin that lets a
/// participant's handle join it. Neither leaves the relay (their `Debug` is `***`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JanusRoom {
    /// Janus's room id.
    pub id: u64,
    /// The room's `secret`, needed to destroy it or remove someone.
    pub secret: Secret,
    /// The room's `pin`, needed to join it as a publisher or a subscriber: the relay joins
    /// participants only into rooms it let them into, and nobody else on Janus's API can.
    pub pin: Secret,
}

/// Someone in a room, as Janus sees them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Participant {
    /// Janus's participant id.
    pub id: u64,
    /// The display name given at join, if any.
    #[serde(default)]
    pub display: Option<String>,
    /// Whether they are publishing media.
    #[serde(default)]
    pub publisher: bool,
}

impl JanusClient {
    /// Creates a private, temporary room with a random id, secret and pin. Janus refuses it
    /// (433) unless this client's admin key is the one Janus was configured with.
    pub async fn create_room(&self, spec: &RoomSpec) -> Result<JanusRoom, JanusError> {
        let failed = |detail: String| JanusError::Unexpected {
            request: "create".into(),
            detail,
        };
        let id = random::room_id().map_err(failed)?;
        let secret = Secret::from(random::hex(ROOM_SECRET_BYTES).map_err(failed)?.as_str());
        let pin = Secret::from(random::hex(ROOM_SECRET_BYTES).map_err(failed)?.as_str());
        let body = json!({
            "request": "create",
            "admin_key": self.admin_key.expose(),
            "room": id,
            "secret": secret.expose(),
            "pin": pin.expose(),
            "description": spec.description,
            "publishers": spec.publishers,
            "videocodec": VIDEO_CODECS,
            "audiocodec": AUDIO_CODECS,
            "is_private": true,
            "permanent": false,
            // Who talks, for a live that follows the speaker (events on changes only).
            "audiolevel_event": true,
            "audio_active_packets": TALK_WINDOW_PACKETS,
        });
        let data = self.videoroom("create", &body).await?;
        expect(&data, "create", "created")?;
        if data.get("room").and_then(Value::as_u64) != Some(id) {
            return Err(failed(format!("created another room than {id}: {data}")));
        }
        Ok(JanusRoom { id, secret, pin })
    }

    /// Destroys `room`; everyone still in it is disconnected by Janus.
    pub async fn destroy_room(&self, room: &JanusRoom) -> Result<(), JanusError> {
        let body = json!({
            "request": "destroy",
            "room": room.id,
            "secret": room.secret.expose(),
            "permanent": false,
        });
        let data = self.videoroom("destroy", &body).await?;
        expect(&data, "destroy", "destroyed")
    }

    /// Whether a room with this id exists on this Janus.
    pub async fn room_exists(&self, room_id: u64) -> Result<bool, JanusError> {
        let body = json!({ "request": "exists", "room": room_id });
        let data = self.videoroom("exists", &body).await?;
        expect(&data, "exists", "success")?;
        decode(field(&data, "exists"), "exists")
    }

    /// Who is in the room.
    pub async fn list_participants(&self, room_id: u64) -> Result<Vec<Participant>, JanusError> {
        let body = json!({ "request": "listparticipants", "room": room_id });
        let data = self.videoroom("listparticipants", &body).await?;
        expect(&data, "listparticipants", "participants")?;
        decode(field(&data, "participants"), "listparticipants")
    }

    /// Removes a participant from the room (Janus hangs up their connections).
    pub async fn kick(&self, room: &JanusRoom, participant_id: u64) -> Result<(), JanusError> {
        let body = json!({
            "request": "kick",
            "room": room.id,
            "secret": room.secret.expose(),
            "id": participant_id,
        });
        let data = self.videoroom("kick", &body).await?;
        expect(&data, "kick", "success")
    }
}

/// `data[name]`, or `null` where it is missing (which [`decode`] then refuses, unless null
/// is a valid value of the type asked for).
pub(super) fn field(data: &Value, name: &str) -> Value {
    data.get(name).cloned().unwrap_or(Value::Null)
}

/// Reads a plugin answer (or part of one) as `T`; anything else is an unexpected reply to
/// `request`.
pub(super) fn decode<T: DeserializeOwned>(value: Value, request: &str) -> Result<T, JanusError> {
    serde_json::from_value(value).map_err(|err| JanusError::Unexpected {
        request: request.to_owned(),
        detail: err.to_string(),
    })
}

/// Checks the plugin's `"videoroom": …` (or `"streaming": …`) answer kind.
pub(super) fn expect(data: &Value, request: &str, kind: &str) -> Result<(), JanusError> {
    let answer = data.get("videoroom").or_else(|| data.get("streaming"));
    if answer.and_then(Value::as_str) == Some(kind) {
        Ok(())
    } else {
        Err(JanusError::Unexpected {
            request: request.to_owned(),
            detail: format!("expected `{kind}`, got {data}"),
        })
    }
}
