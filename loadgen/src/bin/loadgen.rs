//! `loadgen`: one load run against one or more relays (or the floor server). The report goes
//! to stdout as JSON, a summary to stderr; the exit code is 0 only if nothing was lost,
//! duplicated, misrouted or reordered.
//!
//! ```sh
//! ulimit -n 20000   # the relay needs a descriptor per client too
//! cargo run --profile relay -p meshmeet-server -- --listen 127.0.0.1:8080 &
//! cargo run --profile relay -p meshmeet-loadgen --bin loadgen -- \
//!     --url ws://127.0.0.1:8080/ws --clients 2000 --duration 60 --rate 5 --churn 10 \
//!     --server-pid $(pgrep -n meshmeet-server)
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use meshmeet_loadgen::{LoadConfig, Phase, Target};

/// Many WebSocket clients in rooms, exchanging signals, leaving and rejoining.
#[derive(Parser, Debug)]
#[command(name = "loadgen")]
struct Args {
    /// Server WebSocket URL, e.g. ws://127.0.0.1:8080/ws (repeat for several relays: clients
    /// use them round-robin).
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// Drive the floor server (`floor-server`) instead of the relay.
    #[arg(long)]
    floor: bool,
    /// Clients held open at once.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Clients per room.
    #[arg(long, default_value_t = 4)]
    room_size: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Signals per second per client (0: as fast as --window allows).
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// Most signals of one client in flight (0: unlimited).
    #[arg(long, default_value_t = 0)]
    window: u32,
    /// Leave-and-rejoin cycles per second over all clients (relay only).
    #[arg(long, default_value_t = 0.0)]
    churn: f64,
    /// Seconds idle after everyone joined (the idle memory sample is taken at its end).
    #[arg(long, default_value_t = 1.0)]
    settle: f64,
    /// Longest wait in seconds for messages in flight after the load.
    #[arg(long, default_value_t = 20.0)]
    drain: f64,
    /// Handshakes in progress at once.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Longest wait in seconds for everyone to connect.
    #[arg(long, default_value_t = 60.0)]
    connect_timeout: f64,
    /// The server's pid, for its memory (VmRSS) before and with everyone connected.
    #[arg(long)]
    server_pid: Option<u32>,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match meshmeet_loadgen::sys::raise_fd_limit() {
        Ok(limit) if (limit as usize) < args.clients + 64 => eprintln!(
            "loadgen: warning: only {limit} file descriptors for {} clients; raise the hard limit (ulimit -n)",
            args.clients
        ),
        Ok(_) => {}
        Err(err) => eprintln!("loadgen: could not raise the file-descriptor limit: {err}"),
    }
    let target = if args.floor {
        Target::Floor
    } else {
        Target::Relay
    };
    let mut config = LoadConfig::new(args.urls, target, args.clients);
    config.room_size = args.room_size;
    config.connect_concurrency = args.connect_concurrency;
    config.connect_timeout = secs(args.connect_timeout);
    config.settle = secs(args.settle);
    config.drain = secs(args.drain);
    config.churn_per_second = args.churn;
    config.server_pid = args.server_pid;
    config.phases = vec![Phase {
        name: "steady".into(),
        duration: secs(args.duration),
        rate_per_client: args.rate,
        window: args.window,
    }];
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("loadgen: tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let report = match runtime.block_on(meshmeet_loadgen::run(config)) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("loadgen: {err}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("{}", report.summary());
    match serde_json::to_string_pretty(&report) {
        Ok(json) => println!("{json}"),
        Err(err) => {
            eprintln!("loadgen: could not write the report: {err}");
            return ExitCode::FAILURE;
        }
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
