//! The relay benchmark behind `cargo xtask bench`: the relay binary and the floor server as
//! child processes on loopback, the same load against each, several runs per client count,
//! and the median, min and max of every figure; plus the long load-acceptance run.
//!
//! Each run gets a fresh server process, so its memory figures start from a clean baseline.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::config::{LoadConfig, Phase, Target};
use crate::report::Report;

/// Total signals per second offered in the latency phase, over all clients: the same load
/// whatever the client count, so latencies compare (100 clients send 40 per second each, under
/// the relay's default limit of 50; 5,000 send one every 1.25 s).
pub const LATENCY_PHASE_TOTAL_RATE: f64 = 4_000.0;
/// Signals each client may have in flight in the throughput phase (a closed loop).
pub const THROUGHPUT_WINDOW: u32 = 8;
/// Length of each measured phase.
pub const PHASE: Duration = Duration::from_secs(3);
/// Relay flags for the comparison: no rate limit in the way of the throughput phase, room
/// for 5,000 connections. (The load-acceptance run uses the default limits.)
pub const RELAY_COMPARE_FLAGS: [&str; 8] = [
    "--max-connections",
    "20000",
    "--max-rooms",
    "20000",
    "--messages-per-second",
    "1000000",
    "--message-burst",
    "1000000",
];
/// Targets from issue #11.
pub const TARGET_THROUGHPUT_RATIO: f64 = 0.5;
/// Targets from issue #11, bytes per idle connection.
pub const TARGET_BYTES_PER_CONNECTION: f64 = 32.0 * 1024.0;

/// A server under test, killed when dropped.
pub struct Server {
    child: Child,
    /// Its process id.
    pub pid: u32,
    /// `ws://<address>/ws`.
    pub ws_url: String,
}

impl Server {
    /// Starts `bin` with `args`, its stderr going to `log`, and waits for the line on stdout
    /// that ends in `http://<address>`.
    pub fn spawn(bin: &Path, args: &[&str], log: &Path) -> Result<Server, String> {
        let log_file =
            std::fs::File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Server {
            child,
            pid,
            ws_url: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| format!("{} printed no address in 10 s", bin.display()))?;
        let address = line
            .trim()
            .rsplit_once("http://")
            .map(|(_, a)| a.to_owned())
            .ok_or_else(|| format!("{} printed {line:?}, not an address", bin.display()))?;
        server.ws_url = format!("ws://{address}/ws");
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the binaries are and where logs go.
#[derive(Clone, Debug)]
pub struct Binaries {
    /// `meshmeet-server`.
    pub relay: PathBuf,
    /// `floor-server`.
    pub floor: PathBuf,
    /// Server logs, one file per run.
    pub log_dir: PathBuf,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// One load run against a fresh server.
pub fn run_against(
    bins: &Binaries,
    target: Target,
    extra_relay_flags: &[&str],
    log_name: &str,
    configure: impl FnOnce(&mut LoadConfig),
) -> Result<Report, String> {
    let log = bins.log_dir.join(format!("{log_name}.log"));
    let server = match target {
        Target::Relay => {
            let mut args = vec![
                "--listen",
                "127.0.0.1:0",
                "--dist",
                "/nonexistent/meshmeet-bench",
            ];
            args.extend_from_slice(extra_relay_flags);
            Server::spawn(&bins.relay, &args, &log)?
        }
        Target::Floor => Server::spawn(&bins.floor, &["127.0.0.1:0"], &log)?,
    };
    let mut config = LoadConfig::new(vec![server.ws_url.clone()], target, 0);
    config.server_pid = Some(server.pid);
    configure(&mut config);
    let report = runtime()?.block_on(crate::run(config))?;
    drop(server);
    Ok(report)
}

/// The load of one comparison run: a paced phase for latency, a closed loop for throughput.
pub fn compare_load(config: &mut LoadConfig, clients: usize) {
    config.clients = clients;
    config.phases = vec![
        Phase {
            name: "latency".into(),
            duration: PHASE,
            rate_per_client: LATENCY_PHASE_TOTAL_RATE / clients as f64,
            window: 0,
        },
        Phase {
            name: "throughput".into(),
            duration: PHASE,
            rate_per_client: 0.0,
            window: THROUGHPUT_WINDOW,
        },
    ];
}

/// Median, min and max.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Spread {
    /// The middle value (the mean of the middle two for an even count).
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// Of `values` (at least one).
    pub fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Spread {
            median,
            min: values[0],
            max: values[n - 1],
        }
    }
}

/// The figures of several runs of one target at one client count.
fn summarise(reports: &[Report]) -> Json {
    let phase = |r: &Report, name: &str| r.phases.iter().find(|p| p.name == name).cloned();
    let pick = |f: &dyn Fn(&Report) -> Option<f64>| {
        let values: Vec<f64> = reports.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| Spread::of(values))
    };
    json!({
        "messages_per_second": pick(&|r| phase(r, "throughput").map(|p| p.messages_per_second)),
        "latency_p50_ms": pick(&|r| phase(r, "latency").map(|p| p.latency_us.p50 as f64 / 1000.0)),
        "latency_p99_ms": pick(&|r| phase(r, "latency").map(|p| p.latency_us.p99 as f64 / 1000.0)),
        "memory_per_connection_kib": pick(&|r| r.memory.as_ref().map(|m| m.per_connection_bytes as f64 / 1024.0)),
        "connect_secs": pick(&|r| Some(r.connections.connect_secs)),
        "lost": reports.iter().map(|r| r.messages.lost).sum::<u64>(),
        "misrouted": reports.iter().map(|r| r.messages.misrouted).sum::<u64>(),
        "duplicated": reports.iter().map(|r| r.messages.duplicated).sum::<u64>(),
        "reordered": reports.iter().map(|r| r.messages.reordered).sum::<u64>(),
        "ok": reports.iter().all(|r| r.ok),
    })
}

/// Relay against floor at each client count, `runs` times each (alternating, so drift in the
/// machine's state hits both alike). Progress goes to stderr.
pub fn compare(bins: &Binaries, counts: &[usize], runs: usize) -> Result<Json, String> {
    let mut results = Vec::new();
    let mut all_met = true;
    for &clients in counts {
        let mut relay = Vec::new();
        let mut floor = Vec::new();
        for run in 1..=runs {
            for target in [Target::Relay, Target::Floor] {
                let name = format!("{target:?}-{clients}-{run}").to_lowercase();
                let report = run_against(bins, target, &RELAY_COMPARE_FLAGS, &name, |c| {
                    compare_load(c, clients)
                })?;
                eprintln!(
                    "[bench] {name}: {:.0} msg/s, p50 {:.2} ms, p99 {:.2} ms, {:.1} KiB/conn{}",
                    report.phases[1].messages_per_second,
                    report.phases[0].latency_us.p50 as f64 / 1000.0,
                    report.phases[0].latency_us.p99 as f64 / 1000.0,
                    report
                        .memory
                        .as_ref()
                        .map_or(f64::NAN, |m| m.per_connection_bytes as f64 / 1024.0),
                    if report.ok { "" } else { "  NOT OK" }
                );
                if !report.ok {
                    eprintln!("{}", report.summary());
                }
                match target {
                    Target::Relay => relay.push(report),
                    Target::Floor => floor.push(report),
                }
            }
        }
        let relay = summarise(&relay);
        let floor = summarise(&floor);
        let median = |v: &Json, k: &str| v[k]["median"].as_f64();
        let throughput_ratio = median(&relay, "messages_per_second")
            .zip(median(&floor, "messages_per_second"))
            .map(|(r, f)| r / f);
        let memory_ratio = median(&relay, "memory_per_connection_kib")
            .zip(median(&floor, "memory_per_connection_kib"))
            .map(|(r, f)| r / f);
        let relay_bytes = median(&relay, "memory_per_connection_kib").map(|k| k * 1024.0);
        let met = throughput_ratio.is_some_and(|r| r >= TARGET_THROUGHPUT_RATIO)
            && relay_bytes.is_some_and(|b| b < TARGET_BYTES_PER_CONNECTION)
            && relay["ok"] == true
            && floor["ok"] == true;
        all_met &= met;
        results.push(json!({
            "clients": clients,
            "relay": relay,
            "floor": floor,
            "throughput_ratio": throughput_ratio,
            "memory_ratio": memory_ratio,
            "targets_met": met,
        }));
    }
    Ok(json!({
        "runs": runs,
        "latency_phase_total_rate": LATENCY_PHASE_TOTAL_RATE,
        "throughput_window": THROUGHPUT_WINDOW,
        "phase_secs": PHASE.as_secs_f64(),
        "relay_flags": RELAY_COMPARE_FLAGS,
        "targets": {
            "throughput_ratio_at_least": TARGET_THROUGHPUT_RATIO,
            "bytes_per_idle_connection_under": TARGET_BYTES_PER_CONNECTION,
        },
        "targets_met": all_met,
        "results": results,
    }))
}

/// Issue #8's acceptance run: `clients` clients on the relay with its default limits for
/// `duration`, 5 signals per second each (a tenth of the default limit) and 10 leave-and-rejoin
/// cycles per second.
pub fn load(bins: &Binaries, clients: usize, duration: Duration) -> Result<Report, String> {
    run_against(bins, Target::Relay, &[], "load", |c| {
        c.clients = clients;
        c.phases = vec![Phase {
            name: "steady".into(),
            duration,
            rate_per_client: 5.0,
            window: 0,
        }];
        c.churn_per_second = 10.0;
    })
}

/// A few seconds of each, to keep this code working (`cargo xtask test`).
pub fn smoke(bins: &Binaries) -> Result<Json, String> {
    let relay = run_against(bins, Target::Relay, &[], "smoke-relay", |c| {
        c.clients = 50;
        c.settle = Duration::from_millis(200);
        c.phases = vec![Phase {
            name: "steady".into(),
            duration: Duration::from_secs(3),
            rate_per_client: 10.0,
            window: 0,
        }];
        c.churn_per_second = 5.0;
    })?;
    let floor = run_against(bins, Target::Floor, &[], "smoke-floor", |c| {
        compare_load(c, 50);
        c.settle = Duration::from_millis(200);
        for phase in &mut c.phases {
            phase.duration = Duration::from_secs(1);
        }
    })?;
    Ok(json!({ "relay": relay, "floor": floor }))
}

/// The machine, for the record: cores and CPU model.
pub fn machine() -> Json {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({ "cores": cores, "cpu": cpu, "os": std::env::consts::OS })
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn spread_takes_the_median_of_odd_and_even_counts() {
        let s = Spread::of(vec![3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of(vec![4.0, 1.0]).median, 2.5);
    }
}
