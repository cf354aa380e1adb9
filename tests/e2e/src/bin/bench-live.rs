//! `bench-live`: prints the live benchmark (glass-to-glass delay of the meeting, the WebRTC
//! watch page and HLS; Janus's CPU per viewer; the encoder's CPU) as JSON on stdout. Run by
//! `cargo xtask bench --live`; progress goes to stderr.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match meshmeet_e2e::bench_live::run().await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("live benchmark failed: {err}");
            ExitCode::FAILURE
        }
    }
}
