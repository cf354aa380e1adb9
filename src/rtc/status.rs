//! A peer connection's state as the tiles show it.

use web_sys::{RtcIceConnectionState, RtcPeerConnectionState};

/// The state of the connection to one peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// Negotiating or checking ICE.
    #[default]
    Connecting,
    /// Media can flow.
    Connected,
    /// Connectivity was lost and the browser is trying to recover.
    Reconnecting,
    /// ICE failed.
    Failed,
    /// Closed on purpose.
    Closed,
}

impl ConnectionStatus {
    /// From `RTCPeerConnection.connectionState`; `None` for a value this build does not
    /// know (a browser without the property), where [`Self::from_ice_state`] is used.
    pub fn from_connection_state(state: RtcPeerConnectionState) -> Option<Self> {
        Some(match state {
            RtcPeerConnectionState::New | RtcPeerConnectionState::Connecting => {
                ConnectionStatus::Connecting
            }
            RtcPeerConnectionState::Connected => ConnectionStatus::Connected,
            RtcPeerConnectionState::Disconnected => ConnectionStatus::Reconnecting,
            RtcPeerConnectionState::Failed => ConnectionStatus::Failed,
            RtcPeerConnectionState::Closed => ConnectionStatus::Closed,
            _ => return None,
        })
    }

    /// From `RTCPeerConnection.iceConnectionState`, for browsers without `connectionState`.
    pub fn from_ice_state(state: RtcIceConnectionState) -> Self {
        match state {
            RtcIceConnectionState::Connected | RtcIceConnectionState::Completed => {
                ConnectionStatus::Connected
            }
            RtcIceConnectionState::Disconnected => ConnectionStatus::Reconnecting,
            RtcIceConnectionState::Failed => ConnectionStatus::Failed,
            RtcIceConnectionState::Closed => ConnectionStatus::Closed,
            _ => ConnectionStatus::Connecting,
        }
    }

    /// The value of the tile's `data-connection` attribute.
    pub fn as_attr(self) -> &'static str {
        match self {
            ConnectionStatus::Connecting => "connecting",
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::Reconnecting => "reconnecting",
            ConnectionStatus::Failed => "failed",
            ConnectionStatus::Closed => "closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_states_map_to_tile_states() {
        let cases = [
            (RtcPeerConnectionState::New, ConnectionStatus::Connecting),
            (
                RtcPeerConnectionState::Connecting,
                ConnectionStatus::Connecting,
            ),
            (
                RtcPeerConnectionState::Connected,
                ConnectionStatus::Connected,
            ),
            (
                RtcPeerConnectionState::Disconnected,
                ConnectionStatus::Reconnecting,
            ),
            (RtcPeerConnectionState::Failed, ConnectionStatus::Failed),
            (RtcPeerConnectionState::Closed, ConnectionStatus::Closed),
        ];
        for (state, status) in cases {
            assert_eq!(
                ConnectionStatus::from_connection_state(state),
                Some(status),
                "{state:?}"
            );
        }
    }

    #[test]
    fn ice_states_map_to_the_same_tile_states() {
        let cases = [
            (RtcIceConnectionState::New, ConnectionStatus::Connecting),
            (
                RtcIceConnectionState::Checking,
                ConnectionStatus::Connecting,
            ),
            (
                RtcIceConnectionState::Connected,
                ConnectionStatus::Connected,
            ),
            (
                RtcIceConnectionState::Completed,
                ConnectionStatus::Connected,
            ),
            (
                RtcIceConnectionState::Disconnected,
                ConnectionStatus::Reconnecting,
            ),
            (RtcIceConnectionState::Failed, ConnectionStatus::Failed),
            (RtcIceConnectionState::Closed, ConnectionStatus::Closed),
        ];
        for (state, status) in cases {
            assert_eq!(ConnectionStatus::from_ice_state(state), status, "{state:?}");
        }
        assert_eq!(ConnectionStatus::Failed.as_attr(), "failed");
    }
}
