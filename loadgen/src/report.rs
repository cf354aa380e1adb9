//! The result of a run: what each client counted, merged, as JSON and as a short summary.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::config::LoadConfig;

/// Serialises a duration as fractional seconds.
pub(crate) fn secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Everything one run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What was run.
    pub config: LoadConfig,
    /// Connections and joins.
    pub connections: Connections,
    /// The server's memory, where its pid was given and readable.
    pub memory: Option<Memory>,
    /// Throughput and latency per load phase.
    pub phases: Vec<PhaseReport>,
    /// Delivery accounting over the whole run (see the crate docs for the definitions).
    pub messages: Messages,
    /// Errors from the server by code, other than `unknown_peer` (counted in `messages`).
    pub errors: BTreeMap<String, u64>,
    /// The first few problems, described.
    pub problems: Vec<String>,
    /// Whether nothing was lost, duplicated, misrouted or reordered, every client connected,
    /// no connection was dropped by the server and it reported no error.
    pub ok: bool,
}

/// Connection counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Connections {
    /// Most connections open at once.
    pub peak: usize,
    /// Open when the run finished.
    pub at_end: usize,
    /// Successful joins (relay) or connections (floor), rejoins included.
    pub joins: u64,
    /// Leave-and-rejoin cycles completed.
    pub rejoins: u64,
    /// Connections or joins that failed.
    pub failures: u64,
    /// Connections the server closed or dropped without being asked to.
    pub unexpected_closes: u64,
    /// Seconds from the first connection attempt until every client had joined.
    pub connect_secs: f64,
}

/// Resident memory of the server.
#[derive(Clone, Debug, Serialize)]
pub struct Memory {
    /// Before the first connection.
    pub baseline_kib: u64,
    /// With every client connected and joined, idle.
    pub idle_kib: u64,
    /// `(idle − baseline) / clients`, in bytes.
    pub per_connection_bytes: u64,
}

/// One phase's figures.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseReport {
    /// The phase's name.
    pub name: String,
    /// Signals sent during the phase.
    pub sent: u64,
    /// Signals received during the phase.
    pub delivered: u64,
    /// `delivered / duration`.
    pub messages_per_second: f64,
    /// Send → receive latency of the signals sent during the phase.
    pub latency_us: Latency,
}

/// A latency distribution in microseconds (nearest-rank percentiles).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl Latency {
    /// Percentiles of `samples` (sorted here).
    pub fn of(mut samples: Vec<u32>) -> Self {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let rank = |p: usize| samples[(samples.len() * p).div_ceil(100).max(1) - 1];
        Latency {
            count: samples.len() as u64,
            p50: u64::from(rank(50)),
            p99: u64::from(rank(99)),
            max: u64::from(samples[samples.len() - 1]),
        }
    }
}

/// Delivery accounting.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Messages {
    /// Signals sent.
    pub sent: u64,
    /// Signals received by their target, once each.
    pub delivered: u64,
    /// Sent, never received, target still there: must be 0.
    pub lost: u64,
    /// Sent to a target that left (the sender was told `peer_left`), never received.
    pub excused: u64,
    /// Received twice: must be 0.
    pub duplicated: u64,
    /// Received by the wrong client, or with the wrong sender: must be 0.
    pub misrouted: u64,
    /// Received after a later one of the same pair: must be 0.
    pub reordered: u64,
    /// `unknown_peer` refusals: a signal that crossed its target's departure (expected with
    /// churn; the sender is told `peer_left` too, which excuses the message).
    pub unknown_peer_refusals: u64,
}

/// What one client (all its incarnations) counted.
#[derive(Debug, Default)]
pub(crate) struct ClientOutcome {
    /// (sender, target) → signals sent.
    pub sent: Vec<((String, String), u64)>,
    /// (sender, target) → distinct signals received.
    pub received: Vec<((String, String), u64)>,
    /// (sender, target) pairs whose target the sender saw leave.
    pub excused: Vec<(String, String)>,
    pub duplicated: u64,
    pub misrouted: u64,
    pub reordered: u64,
    pub unknown_peer_refusals: u64,
    pub errors: BTreeMap<String, u64>,
    /// Per phase: latencies (µs) by send time, sent and delivered by wall time.
    pub latencies_us: Vec<Vec<u32>>,
    pub sent_in_phase: Vec<u64>,
    pub delivered_in_phase: Vec<u64>,
    pub joins: u64,
    pub rejoins: u64,
    pub failures: u64,
    pub unexpected_closes: u64,
    pub problems: Vec<String>,
}

impl ClientOutcome {
    pub fn new(phases: usize) -> Self {
        ClientOutcome {
            latencies_us: vec![Vec::new(); phases],
            sent_in_phase: vec![0; phases],
            delivered_in_phase: vec![0; phases],
            ..ClientOutcome::default()
        }
    }

    /// Keeps the first few problem descriptions.
    pub fn problem(&mut self, text: impl FnOnce() -> String) {
        if self.problems.len() < 5 {
            self.problems.push(text());
        }
    }
}

/// Measurements taken by the coordinator rather than the clients.
pub(crate) struct RunFacts {
    pub peak: usize,
    pub at_end: usize,
    pub connect_secs: f64,
    pub memory: Option<Memory>,
}

impl Report {
    /// Merges the clients' counts.
    pub(crate) fn merge(config: LoadConfig, facts: RunFacts, outcomes: Vec<ClientOutcome>) -> Self {
        let phases = config.phases.len();
        let mut sent: HashMap<(String, String), u64> = HashMap::new();
        let mut received: HashMap<(String, String), u64> = HashMap::new();
        let mut excused: HashSet<(String, String)> = HashSet::new();
        let mut messages = Messages::default();
        let mut errors = BTreeMap::new();
        let mut latencies: Vec<Vec<u32>> = vec![Vec::new(); phases];
        let mut sent_in_phase = vec![0u64; phases];
        let mut delivered_in_phase = vec![0u64; phases];
        let mut connections = Connections {
            peak: facts.peak,
            at_end: facts.at_end,
            connect_secs: facts.connect_secs,
            ..Connections::default()
        };
        let mut problems = Vec::new();
        for outcome in outcomes {
            for (pair, n) in outcome.sent {
                *sent.entry(pair).or_default() += n;
            }
            for (pair, n) in outcome.received {
                *received.entry(pair).or_default() += n;
            }
            excused.extend(outcome.excused);
            messages.duplicated += outcome.duplicated;
            messages.misrouted += outcome.misrouted;
            messages.reordered += outcome.reordered;
            messages.unknown_peer_refusals += outcome.unknown_peer_refusals;
            for (code, n) in outcome.errors {
                *errors.entry(code).or_default() += n;
            }
            for (i, mut l) in outcome.latencies_us.into_iter().enumerate() {
                latencies[i].append(&mut l);
            }
            for i in 0..phases {
                sent_in_phase[i] += outcome.sent_in_phase[i];
                delivered_in_phase[i] += outcome.delivered_in_phase[i];
            }
            connections.joins += outcome.joins;
            connections.rejoins += outcome.rejoins;
            connections.failures += outcome.failures;
            connections.unexpected_closes += outcome.unexpected_closes;
            for p in outcome.problems {
                if problems.len() < 10 {
                    problems.push(p);
                }
            }
        }
        for (pair, n) in &sent {
            messages.sent += n;
            let got = received.get(pair).copied().unwrap_or(0);
            messages.delivered += got.min(*n);
            let missing = n.saturating_sub(got);
            if missing == 0 {
                continue;
            }
            if excused.contains(pair) {
                messages.excused += missing;
            } else {
                messages.lost += missing;
                if problems.len() < 10 {
                    problems.push(format!(
                        "{missing} of {n} signals from {} to {} lost",
                        pair.0, pair.1
                    ));
                }
            }
        }
        for (pair, n) in &received {
            // Received from a pair nobody sent on (or more than was sent): not ours.
            let extra = n.saturating_sub(sent.get(pair).copied().unwrap_or(0));
            messages.misrouted += extra;
        }
        let phase_reports = config
            .phases
            .iter()
            .zip(latencies)
            .enumerate()
            .map(|(i, (phase, samples))| PhaseReport {
                name: phase.name.clone(),
                sent: sent_in_phase[i],
                delivered: delivered_in_phase[i],
                messages_per_second: delivered_in_phase[i] as f64
                    / phase.duration.as_secs_f64().max(f64::EPSILON),
                latency_us: Latency::of(samples),
            })
            .collect();
        let ok = messages.lost == 0
            && messages.duplicated == 0
            && messages.misrouted == 0
            && messages.reordered == 0
            && connections.failures == 0
            && connections.unexpected_closes == 0
            && errors.is_empty();
        Report {
            config,
            connections,
            memory: facts.memory,
            phases: phase_reports,
            messages,
            errors,
            problems,
            ok,
        }
    }

    /// A few lines for a person.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let c = &self.connections;
        let _ = writeln!(
            s,
            "{:?} at {}: {} clients in rooms of {}; connections peak {}, at end {}; {} joins, {} rejoins, {} failures, {} dropped by the server; connected in {:.1}s",
            self.config.target,
            self.config.urls.join(", "),
            self.config.clients,
            self.config.room_size,
            c.peak,
            c.at_end,
            c.joins,
            c.rejoins,
            c.failures,
            c.unexpected_closes,
            c.connect_secs
        );
        if let Some(m) = &self.memory {
            let _ = writeln!(
                s,
                "server memory: {} KiB before, {} KiB with all connected and idle: {:.1} KiB per connection",
                m.baseline_kib,
                m.idle_kib,
                m.per_connection_bytes as f64 / 1024.0
            );
        }
        for p in &self.phases {
            let _ = writeln!(
                s,
                "phase {}: {} sent, {} delivered, {:.0} msg/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
                p.name,
                p.sent,
                p.delivered,
                p.messages_per_second,
                p.latency_us.p50 as f64 / 1000.0,
                p.latency_us.p99 as f64 / 1000.0,
                p.latency_us.max as f64 / 1000.0,
                p.latency_us.count
            );
        }
        let m = &self.messages;
        let _ = writeln!(
            s,
            "messages: {} sent, {} delivered; lost {}, duplicated {}, misrouted {}, reordered {}; excused (target left) {}, unknown_peer refusals {}",
            m.sent, m.delivered, m.lost, m.duplicated, m.misrouted, m.reordered, m.excused, m.unknown_peer_refusals
        );
        if !self.errors.is_empty() {
            let _ = writeln!(s, "server errors: {:?}", self.errors);
        }
        for p in &self.problems {
            let _ = writeln!(s, "  problem: {p}");
        }
        let _ = write!(s, "{}", if self.ok { "OK" } else { "NOT OK" });
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let l = Latency::of((1..=100).rev().collect());
        assert_eq!((l.count, l.p50, l.p99, l.max), (100, 50, 99, 100));
        let one = Latency::of(vec![7]);
        assert_eq!((one.p50, one.p99, one.max), (7, 7, 7));
        assert_eq!(Latency::of(Vec::new()).count, 0);
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.into(), b.into())
    }

    #[test]
    fn missing_messages_are_lost_unless_the_target_left() {
        let config = LoadConfig::new(vec!["ws://x".into()], crate::Target::Relay, 2);
        let facts = || RunFacts {
            peak: 2,
            at_end: 2,
            connect_secs: 0.0,
            memory: None,
        };
        let client = |excused: bool| {
            let mut o = ClientOutcome::new(0);
            o.sent = vec![(pair("a", "b"), 5)];
            o.received = vec![(pair("a", "b"), 3)];
            if excused {
                o.excused = vec![pair("a", "b")];
            }
            o
        };
        let lost = Report::merge(config.clone(), facts(), vec![client(false)]);
        assert_eq!((lost.messages.lost, lost.messages.excused), (2, 0));
        assert!(!lost.ok);
        let excused = Report::merge(config, facts(), vec![client(true)]);
        assert_eq!((excused.messages.lost, excused.messages.excused), (0, 2));
        assert!(excused.ok);
    }
}
