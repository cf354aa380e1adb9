//! `bench-sfu [COUNTS…]`: prints the SFU benchmark (mesh and SFU side by side, Janus
//! started here) as JSON on stdout. Run by `cargo xtask bench --sfu`; progress goes to
//! stderr.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![2, 4, 6, 8]
    } else {
        counts
    };
    match meshmeet_e2e::bench_sfu::run(&counts).await {
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
