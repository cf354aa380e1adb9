//! `cargo xtask bench`: every benchmark, each bounded in time, printed as a table and written
//! as JSON to `target/bench/bench.json` for tracking across commits.

use crate::cmd::{self, heading};
use crate::{build, tools, Result};
use serde_json::Value as Json;
use std::process::Stdio;

/// Measured runs per participant count (the median of these is reported).
const CALL_SETUP_RUNS: &str = "3";
/// Participant counts of the call-setup benchmark.
const CALL_SETUP_COUNTS: [&str; 2] = ["2", "4"];

/// Builds what the benchmarks need, runs them, prints a table and writes the JSON.
pub fn run() -> Result {
    let (dist, relay) = build::all()?;
    let browsers = tools::ensure_browsers()?;
    heading("benchmark: call setup (click join → first decoded remote frame)");
    let output = cmd::cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "meshmeet-e2e",
            "--bin",
            "bench-call-setup",
            "--",
            CALL_SETUP_RUNS,
        ])
        .args(CALL_SETUP_COUNTS)
        .env("MESHMEET_SERVER_BIN", &relay)
        .env("MESHMEET_DIST", &dist)
        .env("CHROMEDRIVER", &browsers.chromedriver)
        .env("GECKODRIVER", &browsers.geckodriver)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run the call-setup benchmark: {e}"))?;
    if !output.status.success() {
        return Err("the call-setup benchmark failed (its error is above)".into());
    }
    let call_setup: Json = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("the call-setup benchmark printed no JSON report: {e}"))?;
    print_call_setup_table(&call_setup);

    let dir = build::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = dir.join("bench.json");
    let report = serde_json::json!({ "call_setup": call_setup });
    std::fs::write(&path, format!("{report:#}\n"))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("\nJSON written to {}", path.display());
    Ok(())
}

/// Prints the call-setup report as a table.
fn print_call_setup_table(report: &Json) {
    println!(
        "\n{:>12}  {:>26}  {:>26}",
        "participants", "first remote frame ms", "all remote frames ms"
    );
    println!(
        "{:>12}  {:>26}  {:>26}",
        "", "median (min-max)", "median (min-max)"
    );
    let stat = |s: &Json| {
        let n = |k: &str| s[k].as_f64().map_or("?".to_owned(), |v| format!("{v:.0}"));
        format!("{} ({}-{})", n("median"), n("min"), n("max"))
    };
    for row in report["results"].as_array().into_iter().flatten() {
        println!(
            "{:>12}  {:>26}  {:>26}",
            row["participants"],
            stat(&row["join_to_first_remote_frame_ms"]),
            stat(&row["join_to_all_remote_frames_ms"])
        );
    }
    println!("({})", report["browser"].as_str().unwrap_or_default());
}
