//! The relay parts of `cargo xtask bench` and the closing smoke step of `cargo xtask test`:
//! builds `meshmeet-loadgen` (profile `relay`) and runs its `bench-relay` driver, which starts
//! the relay and the floor server as child processes on loopback and drives them.

use crate::cmd::{self, heading};
use crate::{build, Result};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Client counts of the relay-vs-floor comparison.
const COUNTS: &str = "100,1000,5000";
/// Runs per count and server.
const RUNS: &str = "3";
/// The load-acceptance run (issue #8).
const LOAD_CLIENTS: &str = "2000";
const LOAD_SECS: &str = "60";

/// `cargo build --profile relay -p meshmeet-loadgen --bins`; returns the `bench-relay` binary.
pub fn build() -> Result<PathBuf> {
    heading("building the load generator (profile relay)");
    cmd::run(cmd::cargo().args([
        "build",
        "--profile",
        "relay",
        "-p",
        "meshmeet-loadgen",
        "--bins",
    ]))?;
    let bin = build::target_dir().join("relay").join("bench-relay");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "the loadgen build finished but {} is missing",
            bin.display()
        ))
    }
}

/// Runs `bench-relay` with `args`, its progress on our stderr; returns its JSON and whether it
/// exited successfully.
fn drive(driver: &Path, relay: &Path, logs: &Path, args: &[&str]) -> Result<(Json, bool)> {
    let mut command = cmd::cmd(driver);
    command
        .arg("--relay-bin")
        .arg(relay)
        .arg("--logs")
        .arg(logs)
        .args(args)
        .stderr(Stdio::inherit());
    let shown = cmd::display(&command);
    println!("$ {shown}");
    let output = command
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    let json = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("`{shown}` printed no JSON report ({}): {e}", output.status))?;
    Ok((json, output.status.success()))
}

/// Relay against floor at 100, 1,000 and 5,000 clients; prints the table. The flag says
/// whether every run was clean (nothing lost, duplicated, misrouted or reordered).
pub fn compare(driver: &Path, relay: &Path, logs: &Path) -> Result<(Json, bool)> {
    heading("benchmark: relay vs floor (throughput, latency, memory per idle connection)");
    let (json, clean) = drive(
        driver,
        relay,
        logs,
        &["compare", "--counts", COUNTS, "--runs", RUNS],
    )?;
    print_compare_table(&json);
    Ok((json, clean))
}

/// Issue #8's acceptance run; prints its figures.
pub fn load(driver: &Path, relay: &Path, logs: &Path) -> Result<Json> {
    heading("benchmark: load acceptance (2,000 clients, 60 s, churn, default limits)");
    let (json, _) = drive(
        driver,
        relay,
        logs,
        &["load", "--clients", LOAD_CLIENTS, "--secs", LOAD_SECS],
    )?;
    print_load(&json);
    Ok(json)
}

/// A few seconds against the relay binary and the floor server: the benchmark still works.
pub fn smoke(relay: &Path) -> Result {
    let driver = build()?;
    let logs = build::target_dir().join("bench").join("smoke-logs");
    let (json, ok) = drive(&driver, relay, &logs, &["smoke"])?;
    for key in ["relay", "floor"] {
        let m = &json[key]["messages"];
        println!(
            "smoke {key}: {} sent, {} delivered, lost {}, misrouted {}, ok {}",
            m["sent"], m["delivered"], m["lost"], m["misrouted"], json[key]["ok"]
        );
    }
    if ok {
        Ok(())
    } else {
        Err("the benchmark smoke run was not clean (above)".into())
    }
}

/// `median (min-max)` of a `{median, min, max}` object.
pub fn spread(s: &Json, decimals: usize) -> String {
    let n = |k: &str| {
        s[k].as_f64()
            .map_or("?".to_owned(), |v| format!("{v:.decimals$}"))
    };
    format!("{} ({}-{})", n("median"), n("min"), n("max"))
}

fn print_compare_table(report: &Json) {
    println!(
        "\n{:>7}  {:>6}  {:>24}  {:>20}  {:>20}  {:>20}",
        "clients", "server", "relayed msg/s", "p50 ms", "p99 ms", "KiB per idle conn"
    );
    println!(
        "{:>7}  {:>6}  {:>24}  {:>20}  {:>20}  {:>20}",
        "", "", "median (min-max)", "median (min-max)", "median (min-max)", "median (min-max)"
    );
    for row in report["results"].as_array().into_iter().flatten() {
        for server in ["relay", "floor"] {
            let s = &row[server];
            println!(
                "{:>7}  {:>6}  {:>24}  {:>20}  {:>20}  {:>20}",
                if server == "relay" {
                    row["clients"].to_string()
                } else {
                    String::new()
                },
                server,
                spread(&s["messages_per_second"], 0),
                spread(&s["latency_p50_ms"], 2),
                spread(&s["latency_p99_ms"], 2),
                spread(&s["memory_per_connection_kib"], 1),
            );
        }
        let ratio = |k: &str| {
            row[k]
                .as_f64()
                .map_or("?".to_owned(), |v| format!("{v:.2}"))
        };
        println!(
            "{:>7}  {:>6}  {:>24}  {:>20}  {:>20}  {:>20}   targets met: {}",
            "",
            "ratio",
            ratio("throughput_ratio"),
            "",
            "",
            ratio("memory_ratio"),
            row["targets_met"]
        );
    }
    println!(
        "(targets: relay throughput ≥ {}× the floor, < {} KiB per idle connection; latency at {} msg/s offered in total, throughput with {} signals in flight per client; {} runs each, {} s phases; {} cores, {})",
        report["targets"]["throughput_ratio_at_least"],
        report["targets"]["bytes_per_idle_connection_under"].as_f64().unwrap_or(0.0) / 1024.0,
        report["latency_phase_total_rate"],
        report["throughput_window"],
        report["runs"],
        report["phase_secs"],
        report["machine"]["cores"],
        report["machine"]["cpu"].as_str().unwrap_or_default(),
    );
}

fn print_load(report: &Json) {
    let c = &report["connections"];
    let m = &report["messages"];
    let p = &report["phases"][0];
    println!(
        "\nclients {} (peak {}, at end {}), {} joins, {} rejoins, {} failures, {} dropped",
        report["config"]["clients"],
        c["peak"],
        c["at_end"],
        c["joins"],
        c["rejoins"],
        c["failures"],
        c["unexpected_closes"]
    );
    println!(
        "{:.0} msg/s relayed; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        p["messages_per_second"].as_f64().unwrap_or(0.0),
        p["latency_us"]["p50"].as_f64().unwrap_or(0.0) / 1000.0,
        p["latency_us"]["p99"].as_f64().unwrap_or(0.0) / 1000.0,
        p["latency_us"]["max"].as_f64().unwrap_or(0.0) / 1000.0,
    );
    println!(
        "{} sent, {} delivered; lost {}, duplicated {}, misrouted {}, reordered {}; excused {} (target left), unknown_peer {}",
        m["sent"],
        m["delivered"],
        m["lost"],
        m["duplicated"],
        m["misrouted"],
        m["reordered"],
        m["excused"],
        m["unknown_peer_refusals"]
    );
    if let Some(mem) = report["memory"].as_object() {
        println!(
            "relay memory: {} KiB idle with all connected ({:.1} KiB per connection)",
            mem["idle_kib"],
            mem["per_connection_bytes"].as_f64().unwrap_or(0.0) / 1024.0
        );
    }
    println!("ok: {}", report["ok"]);
}
