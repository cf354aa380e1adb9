//! The nested `getUserMedia` / `getDisplayMedia` constraint dictionaries, as serde types:
//! web-sys has no builders for them, so they reach the browser as JSON (`js::object_from`).

use serde::{Serialize, Serializer};

/// `{ "ideal": n }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Ideal {
    /// The preferred value.
    pub ideal: u32,
}

/// `{ "ideal": n, "max": m }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct IdealMax {
    /// The preferred value.
    pub ideal: u32,
    /// The most allowed.
    pub max: u32,
}

/// `{ "exact": "…" }`: a device that must be used, not merely preferred.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exact {
    /// The device id.
    pub exact: String,
}

/// The `audio` member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioConstraints {
    /// A chosen microphone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Exact>,
    /// Always on: meetings without headsets echo otherwise.
    pub echo_cancellation: bool,
    /// Always on.
    pub noise_suppression: bool,
}

/// The `video` member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoConstraints {
    /// Width in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<Ideal>,
    /// Height in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<Ideal>,
    /// Frames per second.
    pub frame_rate: IdealMax,
    /// A chosen camera.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Exact>,
}

/// A kind of media to capture, or `false` for one not wanted (as the browser expects).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted<T> {
    /// Not captured: `false`.
    No,
    /// Captured with these constraints.
    Yes(T),
}

impl<T: Serialize> Serialize for Wanted<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Wanted::No => serializer.serialize_bool(false),
            Wanted::Yes(constraints) => constraints.serialize(serializer),
        }
    }
}
