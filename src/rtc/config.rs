//! Turning the relay's ICE settings into an `RTCConfiguration`.

use super::{RtcError, SharedFrameCrypto};
use crate::js::{object_from, JsError};
use meshmeet_protocol::{IceServer, IceTransportPolicy};
use web_sys::{RtcConfiguration, RtcIceTransportPolicy, RtcPeerConnection};

/// Settings shared by every peer connection of a meeting (from the relay's welcome).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkConfig {
    /// STUN/TURN servers.
    pub ice_servers: Vec<IceServer>,
    /// Relay-only or any candidate.
    pub policy: IceTransportPolicy,
    /// In an end-to-end encrypted meeting: what encrypts every frame sent and decrypts every
    /// frame received, on every connection.
    pub frames: Option<SharedFrameCrypto>,
}

impl LinkConfig {
    /// The browser dictionary.
    pub fn to_rtc(&self) -> Result<RtcConfiguration, JsError> {
        let config = RtcConfiguration::new();
        // IceServer already has the browser's field names and shapes.
        config.set_ice_servers(&object_from(&self.ice_servers)?);
        config.set_ice_transport_policy(match self.policy {
            IceTransportPolicy::All => RtcIceTransportPolicy::All,
            IceTransportPolicy::Relay => RtcIceTransportPolicy::Relay,
        });
        Ok(config)
    }

    /// A new peer connection with these settings.
    pub(super) fn new_connection(&self) -> Result<RtcPeerConnection, RtcError> {
        let rtc_config = self.to_rtc().map_err(RtcError::Create)?;
        RtcPeerConnection::new_with_configuration(&rtc_config)
            .map_err(|e| RtcError::Create(JsError::from(e)))
    }
}
