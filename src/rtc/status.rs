//! A peer connection's state as the tiles show it.

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
    /// From `RTCPeerConnection.connectionState` (or `iceConnectionState`, whose names are a
    /// superset, for browsers without the former).
    pub fn from_state_name(state: &str) -> Self {
        match state {
            "connected" | "completed" => ConnectionStatus::Connected,
            "disconnected" => ConnectionStatus::Reconnecting,
            "failed" => ConnectionStatus::Failed,
            "closed" => ConnectionStatus::Closed,
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
    fn browser_states_map_to_tile_states() {
        assert_eq!(
            ConnectionStatus::from_state_name("new"),
            ConnectionStatus::Connecting
        );
        assert_eq!(
            ConnectionStatus::from_state_name("checking"),
            ConnectionStatus::Connecting
        );
        assert_eq!(
            ConnectionStatus::from_state_name("completed"),
            ConnectionStatus::Connected
        );
        assert_eq!(
            ConnectionStatus::from_state_name("disconnected"),
            ConnectionStatus::Reconnecting
        );
        assert_eq!(
            ConnectionStatus::from_state_name("failed").as_attr(),
            "failed"
        );
    }
}
