//! `cargo xtask bench`: every benchmark, each bounded in time, printed as a table and written
//! as JSON to `target/bench/bench.json` for tracking across commits.
//!
//! - client size: the release build's gzipped `.wasm`, `.js` and `.css` (with call setup);
//! - call setup: click join → first decoded remote frame for 2, 4 and 6 participants in
//!   headless Chromium, beside the floor (two peer connections in one plain page), and the
//!   time from navigation to an interactive lobby (~5 min, most of it the six-person call);
//! - uplink: with 2 and 4 people (and 6 with `--uplink`), each participant's total upload and
//!   its lowest sending video stream, under the default budget (~1 min);
//! - relay: the relay against the floor server (bare warp WebSocket forwarding) at 100, 1,000
//!   and 5,000 clients, three runs each: throughput, latency, memory per idle connection
//!   (~2.5 min, `bench_relay.rs`);
//! - load: issue #8's acceptance run, 2,000 clients for 60 s with churn on the relay's
//!   default limits (~1.5 min);
//! - SFU, only with `--sfu` (it installs and starts Janus): for 2, 4, 6 and 8 people on the
//!   cheap camera, the same call in the mesh and through Janus: the last joiner's click →
//!   frames from everyone, each participant's upload, the browsers' and Janus's CPU and
//!   memory (`tests/e2e/src/bench_sfu.rs`).
//! - encryption, only with `--e2ee` (it installs and starts Janus): for 2 and 4 people, the
//!   same calls with and without end-to-end encryption, in the mesh and through Janus: CPU
//!   per participant and the last joiner's setup time, and encrypted over plain for each
//!   (~3.5 min, `tests/e2e/src/bench_sfu.rs`).
//!
//! - live, only with `--live` (it installs and starts Janus, ffmpeg and aiortc): how far
//!   behind the stage its audience is (a meeting participant through the SFU as the
//!   baseline, the WebRTC watch page, HLS), Janus's CPU per WHEP viewer and the RTMP/HLS
//!   encoder's CPU (~2 min, `tests/e2e/src/bench_live.rs`).
//!
//! `--call-setup`, `--uplink`, `--relay`, `--load`, `--sfu`, `--e2ee` or `--live` runs only
//! that part; the other parts' entries in bench.json are kept. With `MESHMEET_DIST` set, the
//! browser parts load that client build as it is instead of building one.

use crate::bench_relay;
use crate::cmd::{self, heading};
use crate::{build, size, tools, Result};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

/// Measured runs per participant count (the median of these is reported).
const CALL_SETUP_RUNS: &str = "3";
/// Participant counts of the call-setup benchmark.
const CALL_SETUP_COUNTS: [&str; 3] = ["2", "4", "6"];
/// Seconds the uplink benchmark measures, after its warm-up.
const UPLINK_SECONDS: &str = "4";
/// Participant counts of the uplink benchmark on its own (`--uplink`).
const UPLINK_COUNTS: [&str; 3] = ["2", "4", "6"];
/// …and in the full run: six more browsers after the six-person call setup would take the
/// full run past ten minutes on a two-core machine.
const UPLINK_COUNTS_IN_FULL_RUN: [&str; 2] = ["2", "4"];

/// Participant counts of the SFU benchmark (`--sfu`), each in the mesh and in the SFU.
const SFU_COUNTS: [&str; 4] = ["2", "4", "6", "8"];
/// Arguments of the encryption benchmark (`--e2ee`): 2 and 4 people, each count in the
/// mesh and the SFU, plain and encrypted: eight calls in a few minutes on two cores (six and
/// eight people would add eight calls of the heaviest kind).
const E2EE_ARGS: [&str; 3] = ["--e2ee", "2", "4"];
/// Arguments of the SFU smoke in `cargo xtask test`: two people in the mesh and the SFU,
/// and one encrypted call so the encryption checks cannot rot either.
const SFU_SMOKE_ARGS: [&str; 4] = ["2", "mesh", "sfu", "sfu-e2ee"];

/// Which parts to run.
struct Parts {
    /// Every part (no flag given).
    all: bool,
    call_setup: bool,
    uplink: bool,
    relay: bool,
    load: bool,
    /// Mesh against SFU (not part of a full run: it needs Janus and takes ~15 min).
    sfu: bool,
    /// Encrypted against plain calls (not part of a full run: it needs Janus).
    e2ee: bool,
    /// The live's delays and costs (not part of a full run: it needs Janus and ffmpeg).
    live: bool,
}

fn parts(args: &[String]) -> Result<Parts> {
    if args.is_empty() {
        return Ok(Parts {
            all: true,
            call_setup: true,
            uplink: true,
            relay: true,
            load: true,
            sfu: false,
            e2ee: false,
            live: false,
        });
    }
    let mut parts = Parts {
        all: false,
        call_setup: false,
        uplink: false,
        relay: false,
        load: false,
        sfu: false,
        e2ee: false,
        live: false,
    };
    for arg in args {
        match arg.as_str() {
            "--relay" => parts.relay = true,
            "--load" => parts.load = true,
            "--call-setup" => parts.call_setup = true,
            "--uplink" => parts.uplink = true,
            "--sfu" => parts.sfu = true,
            "--e2ee" => parts.e2ee = true,
            "--live" => parts.live = true,
            other => {
                return Err(format!(
                    "unknown bench flag {other}: use --call-setup, --uplink, --relay, --load, \
                     --sfu, --e2ee or --live (none: all but --sfu, --e2ee and --live)"
                ))
            }
        }
    }
    Ok(parts)
}

/// Builds what the benchmarks need, runs them, prints tables and writes the JSON.
pub fn run(args: &[String]) -> Result {
    let parts = parts(args)?;
    let started = Instant::now();
    let dir = build::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = dir.join("bench.json");
    // A partial run keeps the other parts' last results.
    let mut report: Json = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .filter(Json::is_object)
        .unwrap_or_else(|| serde_json::json!({}));

    // Reported after the JSON is written, so a failed part does not lose the others.
    let mut failures: Vec<&str> = Vec::new();
    let relay = if parts.call_setup || parts.uplink || parts.sfu || parts.e2ee || parts.live {
        let (dist, relay) = client_and_relay()?;
        if parts.call_setup {
            heading("client size (the release build the browsers load)");
            let assets = size::measure(&dist)?;
            size::print(&assets);
            report["client_size"] = size::to_json(&assets);
            let took = Instant::now();
            report["call_setup"] = call_setup(&dist, &relay)?;
            println!("(call setup: {:.0} s)", took.elapsed().as_secs_f64());
        }
        if parts.uplink {
            let took = Instant::now();
            heading("benchmark: uplink (each participant's upload under the default budget)");
            let mut args = vec![UPLINK_SECONDS];
            if parts.all {
                args.extend(UPLINK_COUNTS_IN_FULL_RUN);
            } else {
                args.extend(UPLINK_COUNTS);
            }
            let json = browser_bench("bench-uplink", &args, &dist, &relay)?;
            print_uplink_table(&json);
            report["uplink"] = json;
            println!("(uplink: {:.0} s)", took.elapsed().as_secs_f64());
        }
        if parts.sfu {
            let took = Instant::now();
            tools::ensure_janus()?;
            heading("benchmark: mesh and SFU side by side (2 to 8 people, cheap camera)");
            let json = browser_bench("bench-sfu", &SFU_COUNTS, &dist, &relay)?;
            print_sfu_table(&json);
            report["sfu"] = json;
            println!("(mesh and SFU: {:.0} s)", took.elapsed().as_secs_f64());
        }
        if parts.e2ee {
            let took = Instant::now();
            tools::ensure_janus()?;
            heading("benchmark: encryption's cost (2 and 4 people, mesh and SFU, plain and e2ee)");
            let json = browser_bench("bench-sfu", &E2EE_ARGS, &dist, &relay)?;
            print_e2ee_table(&json);
            report["e2ee"] = json;
            println!("(encryption: {:.0} s)", took.elapsed().as_secs_f64());
        }
        if parts.live {
            let took = Instant::now();
            tools::ensure_janus()?;
            tools::ensure_live_media()?;
            tools::ensure_aiortc()?;
            heading("benchmark: live (glass-to-glass delay, what viewers and the encoder cost)");
            let json = browser_bench("bench-live", &[], &dist, &relay)?;
            print_live_table(&json);
            report["live"] = json;
            println!("(live: {:.0} s)", took.elapsed().as_secs_f64());
        }
        relay
    } else {
        build::relay()?
    };
    if parts.relay || parts.load {
        let driver = bench_relay::build()?;
        let logs = dir.join("logs");
        if parts.relay {
            let took = Instant::now();
            let (json, clean) = bench_relay::compare(&driver, &relay, &logs)?;
            report["relay"] = json;
            if !clean {
                failures.push("a relay-vs-floor run was not clean");
            }
            println!("(relay vs floor: {:.0} s)", took.elapsed().as_secs_f64());
        }
        if parts.load {
            let took = Instant::now();
            report["load"] = bench_relay::load(&driver, &relay, &logs)?;
            println!("(load run: {:.0} s)", took.elapsed().as_secs_f64());
        }
    }

    std::fs::write(&path, format!("{report:#}\n"))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("\nJSON written to {}", path.display());
    println!("bench took {:.0} s", started.elapsed().as_secs_f64());
    if parts.load && report["load"]["ok"] != true {
        failures.push("the load run was not clean");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} (lost, duplicated, misrouted or reordered messages, or dropped connections: see above)",
            failures.join("; ")
        ))
    }
}

/// The client and the relay the browser benchmarks run: the client in `MESHMEET_DIST` when
/// it is set (a build made before, benchmarked as it is, e.g. while its sources are being
/// edited), else a fresh release build; the relay is always built.
fn client_and_relay() -> Result<(PathBuf, PathBuf)> {
    let Some(dist) = std::env::var_os("MESHMEET_DIST").map(PathBuf::from) else {
        return build::all();
    };
    if !dist.join("index.html").is_file() {
        return Err(format!(
            "MESHMEET_DIST is {} but it holds no index.html: build the client there \
             (`cargo xtask size`) or unset it",
            dist.display()
        ));
    }
    println!(
        "benchmarking the client already built in {} (MESHMEET_DIST), not a fresh build",
        dist.display()
    );
    Ok((dist, build::relay()?))
}

fn call_setup(dist: &std::path::Path, relay: &std::path::Path) -> Result<Json> {
    heading("benchmark: call setup (click join → first decoded remote frame) and lobby start");
    let mut args = vec![CALL_SETUP_RUNS];
    args.extend(CALL_SETUP_COUNTS);
    let call_setup = browser_bench("bench-call-setup", &args, dist, relay)?;
    print_call_setup_table(&call_setup);
    Ok(call_setup)
}

/// A one-run, two-participant call-setup benchmark (floor, app and lobby mark) for
/// `cargo xtask test`, so that code cannot rot between benchmark runs.
pub fn call_setup_smoke(dist: &std::path::Path, relay: &std::path::Path) -> Result {
    heading("benchmark smoke: call setup, its floor and the lobby mark (one run, 2 participants)");
    let report = browser_bench("bench-call-setup", &["1", "2"], dist, relay)?;
    print_call_setup_table(&report);
    if report["ratios"]["two_participants_vs_floor"].is_number() {
        Ok(())
    } else {
        Err("the call-setup smoke run measured no ratio to the floor".into())
    }
}

/// The SFU benchmark with two people only (a Janus of its own, the mesh, the SFU and the
/// SFU encrypted), for `cargo xtask test`: fails unless every topology measured the last
/// joiner and the upload, and the encrypted call its ratios to the plain one.
pub fn sfu_smoke(dist: &std::path::Path, relay: &std::path::Path) -> Result {
    heading("benchmark smoke: mesh, SFU and encrypted SFU with two people");
    let report = browser_bench("bench-sfu", &SFU_SMOKE_ARGS, dist, relay)?;
    print_sfu_table(&report);
    print_e2ee_ratios(&report);
    let measured = |topology: &str| {
        report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|row| {
                row["topology"] == topology
                    && row["last_joiner_all_frames_ms"]
                        .as_f64()
                        .is_some_and(|ms| ms > 0.0)
                    && row["upload_median_bps"]
                        .as_f64()
                        .is_some_and(|bps| bps > 0.0)
            })
    };
    let compared = report["ratios"]["e2ee"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|ratio| {
            ratio["topology"] == "sfu"
                && ratio["cpu_per_participant_ratio"].is_number()
                && ratio["last_joiner_ratio"].is_number()
        });
    if !(measured("mesh") && measured("sfu")) {
        Err("the mesh-and-SFU smoke run did not measure both topologies".into())
    } else if !(measured("sfu-e2ee") && compared) {
        Err("the smoke run did not measure the encrypted SFU call against the plain one".into())
    } else {
        Ok(())
    }
}

/// Runs a browser benchmark binary of the e2e crate and returns the JSON it prints.
fn browser_bench(
    bin: &str,
    args: &[&str],
    dist: &std::path::Path,
    relay: &std::path::Path,
) -> Result<Json> {
    let browsers = tools::ensure_browsers()?;
    let output = cmd::cargo()
        .args(["run", "--quiet", "-p", "meshmeet-e2e", "--bin", bin, "--"])
        .args(args)
        .env("MESHMEET_SERVER_BIN", relay)
        .env("MESHMEET_DIST", dist)
        .env("CHROMEDRIVER", &browsers.chromedriver)
        .env("GECKODRIVER", &browsers.geckodriver)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run {bin}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{bin} failed (its error is above)"));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{bin} printed no JSON report: {e}"))
}

/// Prints the live report: the delays behind the stage, then what the audience costs.
fn print_live_table(report: &Json) {
    let figure = |v: &Json| number(v, 0, "");
    println!("camera: {}", report["camera"].as_str().unwrap_or("?"));
    println!(
        "\n{:>34}  {:>10}  {:>8}  {:>7}",
        "behind the stage's own preview", "median ms", "p90 ms", "frames"
    );
    for (label, key) in [
        ("a participant, through the SFU", "meeting_through_sfu"),
        ("the WebRTC watch page", "watch_page_webrtc"),
        ("HLS (segment published)", "hls_segment_available"),
    ] {
        let row = &report[key];
        match row["error"].as_str() {
            Some(error) => println!("{label:>34}  {error}"),
            None => println!(
                "{label:>34}  {:>10}  {:>8}  {:>7}",
                figure(&row["median_ms"]),
                figure(&row["p90_ms"]),
                figure(&row["frames"])
            ),
        }
    }
    let ratio = |v: &Json| number(v, 2, "x");
    println!(
        "watch page: {} of the meeting's delay, {} ms more (target: within 500 ms); HLS: {}",
        ratio(&report["watch_page_over_meeting"]),
        figure(&report["watch_page_minus_meeting_ms"]),
        ratio(&report["hls_over_meeting"])
    );
    let percent = |v: &Json| number(v, 1, " %");
    println!(
        "Janus CPU: {} with the watch page, {} with {} aiortc viewers more ({} receiving): \
         {} of a core per viewer, about {} viewers per core; the RTMP/HLS encoder: {}",
        percent(&report["janus_cpu_percent_one_viewer"]),
        percent(&report["janus_cpu_percent_with_aiortc"]),
        figure(&report["aiortc_viewers"]),
        figure(&report["aiortc_viewers_receiving"]),
        percent(&report["janus_cpu_percent_per_viewer"]),
        figure(&report["viewers_per_core_estimate"]),
        percent(&report["encoder_cpu_percent"])
    );
}

/// `v` with `decimals` and `unit`, or `-` when it is not a number.
fn number(v: &Json, decimals: usize, unit: &str) -> String {
    v.as_f64()
        .map_or_else(|| "-".to_owned(), |n| format!("{n:.decimals$}{unit}"))
}

/// Prints the SFU report: one line per count and topology, then the ratios to the targets.
fn print_sfu_table(report: &Json) {
    println!(
        "\n{:>12}  {:>9}  {:>22}  {:>24}  {:>20}  {:>18}",
        "participants",
        "topology",
        "last joiner, all ms",
        "median upload kbit/s",
        "browsers CPU %, MiB",
        "Janus CPU %, MiB"
    );
    let number = |v: &Json, scale: f64| {
        v.as_f64()
            .map_or_else(|| "-".to_owned(), |n| format!("{:.0}", n / scale))
    };
    for row in report["results"].as_array().into_iter().flatten() {
        if let Some(error) = row["error"].as_str() {
            println!(
                "{:>12}  {:>9}  not measured: {error}",
                number(&row["participants"], 1.0),
                row["topology"].as_str().unwrap_or_default()
            );
            continue;
        }
        println!(
            "{:>12}  {:>9}  {:>22}  {:>24}  {:>20}  {:>18}",
            // A JSON value ignores the width, its number does not.
            number(&row["participants"], 1.0),
            row["topology"].as_str().unwrap_or_default(),
            number(&row["last_joiner_all_frames_ms"], 1.0),
            number(&row["upload_median_bps"], 1000.0),
            format!(
                "{}, {}",
                number(&row["browsers_cpu_percent"], 1.0),
                number(&row["browsers_memory_mib"], 1.0)
            ),
            format!(
                "{}, {}",
                number(&row["janus_cpu_percent"], 1.0),
                number(&row["janus_memory_mib"], 1.0)
            ),
        );
    }
    let ratios = &report["ratios"];
    println!(
        "SFU, 8 people against 2: upload {} (target ≤ {}), last joiner sees everyone {} (target ≤ {}); mesh: upload {}, last joiner {}",
        ratios["sfu_upload_8_vs_2"],
        ratios["sfu_upload_8_vs_2_target"],
        ratios["sfu_last_joiner_8_vs_2"],
        ratios["sfu_last_joiner_8_vs_2_target"],
        ratios["mesh_upload_8_vs_2"],
        ratios["mesh_last_joiner_8_vs_2"],
    );
    println!("({})", report["browser"].as_str().unwrap_or_default());
}

/// Prints the encryption report: one line per count and topology (plain and encrypted next to
/// each other), then encrypted over plain for each.
fn print_e2ee_table(report: &Json) {
    println!(
        "\n{:>12}  {:>9}  {:>20}  {:>13}  {:>17}  {:>12}  {:>11}",
        "participants",
        "topology",
        "last joiner, all ms",
        "browsers CPU %",
        "CPU %/participant",
        "browsers MiB",
        "Janus CPU %"
    );
    for row in report["results"].as_array().into_iter().flatten() {
        let topology = row["topology"].as_str().unwrap_or_default();
        if let Some(error) = row["error"].as_str() {
            println!(
                "{:>12}  {topology:>9}  not measured: {error}",
                number(&row["participants"], 0, "")
            );
            continue;
        }
        println!(
            "{:>12}  {topology:>9}  {:>20}  {:>13}  {:>17}  {:>12}  {:>11}",
            number(&row["participants"], 0, ""),
            number(&row["last_joiner_all_frames_ms"], 0, ""),
            number(&row["browsers_cpu_percent"], 1, ""),
            number(&row["cpu_per_participant_percent"], 1, ""),
            number(&row["browsers_memory_mib"], 0, ""),
            number(&row["janus_cpu_percent"], 1, ""),
        );
    }
    print_e2ee_ratios(report);
    println!("({})", report["browser"].as_str().unwrap_or_default());
}

/// Prints encrypted over plain (`ratios.e2ee`), one line per count and topology.
fn print_e2ee_ratios(report: &Json) {
    let Some(ratios) = report["ratios"]["e2ee"]
        .as_array()
        .filter(|ratios| !ratios.is_empty())
    else {
        return;
    };
    println!("\nencrypted over plain, measured in the same run:");
    println!(
        "{:>12}  {:>9}  {:>19}  {:>19}",
        "participants", "topology", "CPU per participant", "last joiner, all ms"
    );
    for ratio in ratios {
        println!(
            "{:>12}  {:>9}  {:>19}  {:>19}",
            // A JSON value ignores the width, its number does not.
            number(&ratio["participants"], 0, ""),
            ratio["topology"].as_str().unwrap_or_default(),
            number(&ratio["cpu_per_participant_ratio"], 2, "x"),
            number(&ratio["last_joiner_ratio"], 2, "x"),
        );
    }
}

/// Prints the uplink report: kbit/s per participant.
fn print_uplink_table(report: &Json) {
    let kbps = |v: &Json| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|b| format!("{:.0}", b.as_f64().unwrap_or(0.0) / 1000.0))
            .collect()
    };
    println!(
        "\n{:>12}  {:<36}  lowest video stream kbit/s",
        "participants", "upload per participant kbit/s"
    );
    for row in report["results"].as_array().into_iter().flatten() {
        if let Some(error) = row["error"].as_str() {
            println!("{:>12}  not measured: {error}", row["participants"]);
            continue;
        }
        println!(
            "{:>12}  {:<36}  {}",
            row["participants"],
            kbps(&row["upload_bps"]).join(" "),
            kbps(&row["lowest_video_stream_bps"]).join(" ")
        );
    }
    println!("({})", report["browser"].as_str().unwrap_or_default());
}

/// Prints the call-setup report as a table.
fn print_call_setup_table(report: &Json) {
    println!(
        "\n{:>12}  {:>18}  {:>26}  {:>26}",
        "participants", "camera", "first remote frame ms", "all remote frames ms"
    );
    println!(
        "{:>12}  {:>18}  {:>26}  {:>26}",
        "", "", "median (min-max)", "median (min-max)"
    );
    let floor = &report["floor"]["first_remote_frame_ms"];
    println!(
        "{:>12}  {:>18}  {:>26}  {:>26}",
        "floor",
        "320x180 at 15 fps",
        bench_relay::spread(floor, 0),
        ""
    );
    for row in report["results"].as_array().into_iter().flatten() {
        if let Some(error) = row["error"].as_str() {
            println!("{:>12}  not measured: {error}", row["participants"]);
            continue;
        }
        println!(
            "{:>12}  {:>18}  {:>26}  {:>26}",
            row["participants"],
            row["camera"].as_str().unwrap_or_default(),
            bench_relay::spread(&row["join_to_first_remote_frame_ms"], 0),
            bench_relay::spread(&row["join_to_all_remote_frames_ms"], 0)
        );
    }
    let ratios = &report["ratios"];
    let ratio = |key: &str| {
        ratios[key]
            .as_f64()
            .map_or("not measured".to_owned(), |r| format!("{r:.2}"))
    };
    println!(
        "2 participants / floor: {} (target ≤ {}); 6th joiner to all 5 / 2 participants: {} (target ≤ {})",
        ratio("two_participants_vs_floor"),
        ratios["two_participants_vs_floor_target"],
        ratio("sixth_joiner_all_vs_two_participants"),
        ratios["sixth_joiner_all_vs_two_participants_target"],
    );
    println!(
        "navigation to an interactive lobby: {} ms ({} samples: fresh browsers, 320x180 camera)",
        bench_relay::spread(&report["lobby"]["navigation_to_ready_ms"], 0),
        report["lobby"]["samples"]
    );
    println!("({})", report["browser"].as_str().unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::parts;

    #[test]
    fn the_encryption_benchmark_runs_only_when_asked() {
        let all = parts(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(all.all && !all.e2ee && !all.sfu);
        let e2ee = parts(&["--e2ee".to_owned()]).unwrap_or_else(|e| panic!("{e}"));
        assert!(e2ee.e2ee && !e2ee.sfu && !e2ee.all && !e2ee.call_setup);
        assert!(parts(&["--e2e".to_owned()]).is_err());
    }
}
