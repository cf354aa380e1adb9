//! `bench-sfu [--e2ee] [TOPOLOGIES…] [COUNTS…]`: prints the SFU benchmark (mesh and SFU
//! side by side, Janus started here) as JSON on stdout. Run by `cargo xtask bench --sfu`
//! (counts 2 to 8, mesh and SFU) and `cargo xtask bench --e2ee` (counts 2 and 4, each
//! topology plain and encrypted); progress goes to stderr. Topologies are named as in the
//! report (`mesh`, `mesh-e2ee`, `sfu`, `sfu-e2ee`).

use meshmeet_e2e::bench_sfu::{self, Topology};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut counts: Vec<usize> = Vec::new();
    let mut topologies: Vec<Topology> = Vec::new();
    let mut e2ee = false;
    for arg in std::env::args().skip(1) {
        if arg == "--e2ee" {
            e2ee = true;
        } else if let Ok(count) = arg.parse() {
            counts.push(count);
        } else if let Some(topology) = Topology::from_name(&arg) {
            topologies.push(topology);
        } else {
            // A typo must not quietly run the fifteen-minute default.
            eprintln!(
                "bench-sfu: unknown argument {arg:?}: give --e2ee, participant counts or \
                 topologies (mesh, mesh-e2ee, sfu, sfu-e2ee)"
            );
            return ExitCode::from(2);
        }
    }
    if e2ee && topologies.is_empty() {
        topologies = Topology::ALL.to_vec();
    } else if topologies.is_empty() {
        topologies = vec![Topology::Mesh, Topology::Sfu];
    }
    if counts.is_empty() {
        // Four browsers are as many as two cores carry for the encryption comparison in a
        // few minutes; mesh against SFU goes up to eight.
        counts = if e2ee { vec![2, 4] } else { vec![2, 4, 6, 8] };
    }
    match bench_sfu::run(&counts, &topologies).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("SFU benchmark failed: {err}");
            ExitCode::FAILURE
        }
    }
}
