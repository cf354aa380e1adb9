//! `bench-uplink [SECONDS] [COUNTS…]`: prints the uplink benchmark as JSON on stdout. Run by
//! `cargo xtask bench`; progress goes to stderr.

use std::process::ExitCode;
use std::time::Duration;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let seconds = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let counts: Vec<usize> = args.filter_map(|a| a.parse().ok()).collect();
    let counts = if counts.is_empty() {
        vec![2, 4, 6]
    } else {
        counts
    };
    match meshmeet_e2e::bench::uplink(&counts, Duration::from_secs(seconds)).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("uplink benchmark failed: {err}");
            ExitCode::FAILURE
        }
    }
}
