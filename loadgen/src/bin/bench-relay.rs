//! `bench-relay`: the relay benchmark run by `cargo xtask bench`. Starts the relay and the
//! floor server as child processes on loopback and drives them with the load generator in this
//! process. JSON on stdout, progress on stderr.
//!
//! ```text
//! bench-relay --relay-bin target/relay/meshmeet-server compare [--counts 100,1000,5000] [--runs 3]
//! bench-relay --relay-bin … load [--clients 2000] [--secs 60]
//! bench-relay --relay-bin … smoke
//! ```
//!
//! `compare` exits non-zero only if a run lost, duplicated, misrouted or reordered anything
//! (missed performance targets are reported in the JSON, not as a failure); `load` and
//! `smoke` exit non-zero unless their run was clean.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use meshmeet_loadgen::bench::{self, Binaries};

#[derive(Parser, Debug)]
#[command(name = "bench-relay")]
struct Args {
    /// The relay binary (`cargo build --profile relay -p meshmeet-server`).
    #[arg(long)]
    relay_bin: PathBuf,
    /// The floor server binary; default: `floor-server` next to this program.
    #[arg(long)]
    floor_bin: Option<PathBuf>,
    /// Directory for the servers' logs; default: `bench-logs` next to this program.
    #[arg(long)]
    logs: Option<PathBuf>,
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// Relay against floor: throughput, latency and memory per connection.
    Compare {
        /// Client counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "100,1000,5000")]
        counts: Vec<usize>,
        /// Runs per count and server (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// The load-acceptance run: many clients on the relay's default limits, with churn.
    Load {
        /// Clients.
        #[arg(long, default_value_t = 2000)]
        clients: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 60)]
        secs: u64,
    },
    /// A few seconds against each server, to keep the benchmark working.
    Smoke,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("bench-relay: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<bool, String> {
    let limit = meshmeet_loadgen::sys::raise_fd_limit()
        .map_err(|e| format!("raising the file-descriptor limit: {e}"))?;
    let here = std::env::current_exe()
        .map_err(|e| format!("finding this program: {e}"))?
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let bins = Binaries {
        relay: args.relay_bin,
        floor: args.floor_bin.unwrap_or_else(|| here.join("floor-server")),
        log_dir: args.logs.unwrap_or_else(|| here.join("bench-logs")),
    };
    std::fs::create_dir_all(&bins.log_dir)
        .map_err(|e| format!("creating {}: {e}", bins.log_dir.display()))?;
    let (json, ok) = match args.task {
        Task::Compare { counts, runs } => {
            // Each client needs a descriptor here and one in the server (which inherits this
            // limit), plus a few for everything else.
            if let Some(&most) = counts.iter().max() {
                if (limit as usize) < most + 256 {
                    return Err(format!(
                        "{most} clients need more than the {limit} file descriptors allowed; raise the hard limit (ulimit -n)"
                    ));
                }
            }
            let result = bench::compare(&bins, &counts, runs.max(1))?;
            let clean = result["results"].as_array().is_some_and(|rows| {
                rows.iter()
                    .all(|r| r["relay"]["ok"] == true && r["floor"]["ok"] == true)
            });
            (result, clean)
        }
        Task::Load { clients, secs } => {
            let report = bench::load(&bins, clients, Duration::from_secs(secs))?;
            eprintln!("{}", report.summary());
            let ok = report.ok;
            (
                serde_json::to_value(&report).map_err(|e| e.to_string())?,
                ok,
            )
        }
        Task::Smoke => {
            let result = bench::smoke(&bins)?;
            for key in ["relay", "floor"] {
                eprintln!("smoke {key}: ok = {}", result[key]["ok"]);
            }
            let ok = result["relay"]["ok"] == true && result["floor"]["ok"] == true;
            (result, ok)
        }
    };
    let mut json = json;
    if let Some(object) = json.as_object_mut() {
        object.insert("machine".into(), bench::machine());
    }
    println!("{json:#}");
    Ok(ok)
}
