//! What one load run does: whom to connect to, how many clients, and the load phases.

use std::time::Duration;

use serde::Serialize;

/// The server under load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The meshmeet relay: `join`, `signal`, `leave` over its JSON protocol.
    Relay,
    /// The floor server ([`crate::floor`]): the same frames behind a `<to>\n` header, no
    /// protocol, no rooms, no presence. Churn is not possible against it.
    Floor,
}

/// One stretch of load with a fixed send pattern.
#[derive(Clone, Debug, Serialize)]
pub struct Phase {
    /// Shown in the report.
    pub name: String,
    /// How long it lasts.
    #[serde(serialize_with = "crate::report::secs")]
    pub duration: Duration,
    /// Signals each client sends per second; 0 sends as fast as the window allows.
    pub rate_per_client: f64,
    /// Most signals of one client in flight (sent, not yet received); 0 is unlimited. A closed
    /// loop: with a window and no rate, the run measures how much the server can relay.
    pub window: u32,
}

/// Everything one run needs.
#[derive(Clone, Debug, Serialize)]
pub struct LoadConfig {
    /// WebSocket URLs (`ws://127.0.0.1:port/ws`), used round-robin by client and incarnation.
    pub urls: Vec<String>,
    /// Relay or floor.
    pub target: Target,
    /// Clients held open at once.
    pub clients: usize,
    /// Clients per room (the last room may have fewer).
    pub room_size: usize,
    /// Handshakes in progress at once while connecting.
    pub connect_concurrency: usize,
    /// Longest wait for every client to connect and join.
    #[serde(serialize_with = "crate::report::secs")]
    pub connect_timeout: Duration,
    /// Idle time after everyone joined, before the idle memory sample and the load.
    #[serde(serialize_with = "crate::report::secs")]
    pub settle: Duration,
    /// The load, phase after phase.
    pub phases: Vec<Phase>,
    /// Leave-and-rejoin events per second over all clients, spread evenly (relay only).
    pub churn_per_second: f64,
    /// Longest wait after the last phase for messages in flight.
    #[serde(serialize_with = "crate::report::secs")]
    pub drain: Duration,
    /// The server's process id, for its memory (`/proc/<pid>/status` VmRSS).
    pub server_pid: Option<u32>,
    /// Room names are `<prefix>-<n>`; a fresh prefix keeps runs on a shared registry apart.
    pub room_prefix: String,
}

impl LoadConfig {
    /// A relay run with no phases yet: rooms of 4, 200 handshakes at a time.
    pub fn new(urls: Vec<String>, target: Target, clients: usize) -> Self {
        LoadConfig {
            urls,
            target,
            clients,
            room_size: 4,
            connect_concurrency: 200,
            connect_timeout: Duration::from_secs(60),
            settle: Duration::from_secs(1),
            phases: Vec::new(),
            churn_per_second: 0.0,
            drain: Duration::from_secs(20),
            server_pid: None,
            room_prefix: format!("lg{:x}", std::process::id()),
        }
    }

    /// Total length of the load phases.
    pub fn load_duration(&self) -> Duration {
        self.phases.iter().map(|p| p.duration).sum()
    }

    /// Refuses settings that cannot give a meaningful run.
    pub fn validate(&self) -> Result<(), String> {
        if self.urls.is_empty() {
            return Err("no server URL".into());
        }
        if self.clients == 0 || self.room_size < 2 {
            return Err("need at least one client and rooms of at least 2".into());
        }
        if self.connect_concurrency == 0 {
            return Err("connect concurrency must be at least 1".into());
        }
        if self.churn_per_second < 0.0 || !self.churn_per_second.is_finite() {
            return Err("churn must be a finite rate ≥ 0".into());
        }
        if self.churn_per_second > 0.0 {
            if self.target == Target::Floor {
                return Err(
                    "the floor server has no rooms or presence: churn needs the relay".into(),
                );
            }
            // A message to a peer that left is never acknowledged, so a window would stall.
            if self.phases.iter().any(|p| p.window > 0) {
                return Err("churn and a send window do not mix: use a rate instead".into());
            }
        }
        for phase in &self.phases {
            if phase.rate_per_client < 0.0 || !phase.rate_per_client.is_finite() {
                return Err(format!("phase {}: rate must be finite and ≥ 0", phase.name));
            }
            if phase.rate_per_client == 0.0 && phase.window == 0 {
                return Err(format!(
                    "phase {}: an unpaced phase needs a window, or it floods the server",
                    phase.name
                ));
            }
        }
        Ok(())
    }
}
