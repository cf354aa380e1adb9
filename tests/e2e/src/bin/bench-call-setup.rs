//! `bench-call-setup [RUNS] [COUNTS…]`: prints the call-setup benchmark (with its floor and
//! the time to an interactive lobby) as JSON on stdout.
//! Run by `cargo xtask bench`; progress goes to stderr.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let runs = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let counts: Vec<usize> = args.filter_map(|a| a.parse().ok()).collect();
    let counts = if counts.is_empty() {
        vec![2, 4, 6]
    } else {
        counts
    };
    match meshmeet_e2e::bench::call_setup(&counts, runs).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("call-setup benchmark failed: {err}");
            ExitCode::FAILURE
        }
    }
}
