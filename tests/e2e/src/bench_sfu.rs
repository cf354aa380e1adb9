//! The SFU benchmark (`cargo xtask bench --sfu`): for each participant count, the same call
//! in the mesh and through Janus, side by side in one run: the last joiner's click → first
//! frame from everyone, each participant's upload, and the CPU and memory of the browsers
//! and of Janus while the call runs.

use crate::bench::{join_measured, upload_of};
use crate::{Browser, BrowserKind, Error, Janus, Relay, Result, CHEAP_CAMERA, CHEAP_CAMERA_ARG};
use serde_json::{json, Value as Json};
use std::time::{Duration, Instant};

/// How long the people already in the call, and then the last joiner, may take to decode
/// everyone.
const DECODE_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest one call may take, from the first join to the end of its measurements: a count
/// the two cores cannot carry is reported as such, not waited for.
const CALL_TIMEOUT: Duration = Duration::from_secs(360);
/// Time for the bandwidth estimators and the budget to settle before the upload is measured.
const SETTLE: Duration = Duration::from_secs(5);
/// How long upload and CPU are measured.
const MEASURE: Duration = Duration::from_secs(5);

/// A topology of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Browser to browser (a relay without Janus).
    Mesh,
    /// Through Janus (a relay with `--mesh-max 1`).
    Sfu,
}

impl Topology {
    /// The name in the report and in `data-topology`.
    pub fn name(self) -> &'static str {
        match self {
            Topology::Mesh => "mesh",
            Topology::Sfu => "sfu",
        }
    }
}

/// What one call of `participants` measured.
#[derive(Clone, Debug, PartialEq)]
pub struct CallRun {
    /// People in the call, the last joiner included.
    pub participants: usize,
    /// Click to the first decoded frame of each of the others, in milliseconds: the slowest.
    pub last_joiner_all_frames_ms: f64,
    /// …and the fastest.
    pub last_joiner_first_frame_ms: f64,
    /// Each participant's upload (audio and video, every connection), bits per second.
    pub upload_bps: Vec<f64>,
    /// Every Chromium process's CPU while the call ran, in percent of one core.
    pub browsers_cpu_percent: f64,
    /// Every Chromium process's proportional set size, summed, in MiB.
    pub browsers_memory_mib: f64,
    /// Janus's CPU while the call ran (percent of one core), when it ran.
    pub janus_cpu_percent: Option<f64>,
    /// Janus's resident memory, in MiB.
    pub janus_memory_mib: Option<f64>,
}

/// Runs one call of `participants` in `topology` on `relay`: everyone but the last joins
/// and decodes everyone, then the last joins measured; then upload, CPU and memory.
pub async fn measure_call(
    relay: &Relay,
    janus: Option<&Janus>,
    topology: Topology,
    participants: usize,
) -> Result<CallRun> {
    let url = format!("/r/sfu-bench-{}-{participants}?video=tiny", topology.name());
    let mut browsers = Vec::with_capacity(participants);
    for _ in 0..participants {
        let browser = Browser::launch_with_args(
            BrowserKind::Chromium,
            Some(relay.url()),
            &[CHEAP_CAMERA_ARG],
        )
        .await;
        match browser {
            Ok(browser) => browsers.push(browser),
            Err(err) => {
                close_all(&browsers).await;
                return Err(err);
            }
        }
    }
    let measured = tokio::time::timeout(
        CALL_TIMEOUT,
        measure_with(&browsers, &url, janus, topology),
    )
    .await
    .unwrap_or_else(|_| {
        Err(Error::new(format!(
            "the call of {participants} did not get to everyone decoding everyone within {CALL_TIMEOUT:?}"
        )))
    });
    close_all(&browsers).await;
    measured
}

async fn close_all(browsers: &[Browser]) {
    for browser in browsers {
        let _ = browser.close().await;
    }
}

async fn measure_with(
    browsers: &[Browser],
    url: &str,
    janus: Option<&Janus>,
    topology: Topology,
) -> Result<CallRun> {
    let (last, early) = browsers
        .split_last()
        .ok_or_else(|| Error::new("no participants"))?;
    for (i, browser) in browsers.iter().enumerate() {
        browser.ready_to_join(url, &format!("P{i}")).await?;
        browser.record_peer_connections().await?;
    }
    for browser in early {
        browser.join_from_lobby().await?;
    }
    for (i, browser) in early.iter().enumerate() {
        let others: Vec<String> = (0..early.len())
            .filter(|j| *j != i)
            .map(|j| format!("P{j}"))
            .collect();
        browser
            .wait_until_peer_tiles_decode(&others, DECODE_TIMEOUT)
            .await?;
    }
    let joined = join_measured(last, early.len(), DECODE_TIMEOUT).await?;
    let selector = format!("[data-testid=tile-grid][data-topology={}]", topology.name());
    last.wait_for(&selector, DECODE_TIMEOUT).await?;
    tokio::time::sleep(SETTLE).await;

    let janus_pid = janus.and_then(Janus::pid);
    let cpu_before = Cpu::read(janus_pid);
    let started = Instant::now();
    let upload_bps = upload_of(browsers, MEASURE)
        .await?
        .iter()
        .map(|sample| sample.total_bps)
        .collect();
    let cpu_after = Cpu::read(janus_pid);
    let seconds = started.elapsed().as_secs_f64();
    let percent = |before: u64, after: u64| {
        (after.saturating_sub(before)) as f64 / clock_ticks() / seconds * 100.0
    };
    Ok(CallRun {
        participants: browsers.len(),
        last_joiner_all_frames_ms: joined.all_frames_ms,
        last_joiner_first_frame_ms: joined.first_frame_ms,
        upload_bps,
        browsers_cpu_percent: percent(cpu_before.browsers, cpu_after.browsers),
        browsers_memory_mib: chromium_pss_kib() as f64 / 1024.0,
        janus_cpu_percent: cpu_before
            .janus
            .zip(cpu_after.janus)
            .map(|(before, after)| percent(before, after)),
        janus_memory_mib: janus_pid.and_then(rss_kib).map(|kib| kib as f64 / 1024.0),
    })
}

/// CPU time used so far, in clock ticks.
struct Cpu {
    /// By every Chromium process.
    browsers: u64,
    /// By Janus.
    janus: Option<u64>,
}

impl Cpu {
    fn read(janus: Option<u32>) -> Cpu {
        Cpu {
            browsers: chromium_pids().into_iter().filter_map(cpu_ticks).sum(),
            janus: janus.and_then(cpu_ticks),
        }
    }
}

/// The kernel's clock ticks per second, for `/proc/<pid>/stat`.
pub(crate) fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant and has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// Every process whose executable is Chromium's (the benchmark's browsers: nothing else
/// should run Chromium while it runs).
fn chromium_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                // Chromium's zygote children rewrite their command line into one
                // space-separated string.
                let program = cmdline
                    .split(|b| *b == 0 || *b == b' ')
                    .next()
                    .unwrap_or_default();
                program.ends_with(b"/chromium") || program.ends_with(b"/chrome")
            })
        })
        .collect()
}

/// utime + stime of `pid`, in clock ticks.
pub(crate) fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may hold spaces and parentheses: fields count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// A `Key:   123 kB` figure of a `/proc` file, in KiB.
fn proc_kib(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|line| line.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// The resident memory of `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    proc_kib(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// The proportional set size of every Chromium process, summed (shared pages counted once
/// overall), in KiB.
fn chromium_pss_kib() -> u64 {
    chromium_pids()
        .into_iter()
        .filter_map(|pid| proc_kib(&format!("/proc/{pid}/smaps_rollup"), "Pss:"))
        .sum()
}

/// Participant counts and their runs in both topologies, as a JSON report with the issue's
/// targets as ratios. A count the machine cannot carry is reported, not fatal.
pub async fn run(counts: &[usize]) -> Result<Json> {
    let janus = Janus::start().await?;
    let janus_url = janus.url();
    let sfu_args = [
        "--janus-url",
        &janus_url,
        "--janus-admin-key",
        janus.admin_key(),
        "--mesh-max",
        "1",
    ];
    let mesh_relay = Relay::start(&[]).await?;
    let sfu_relay = Relay::start(&sfu_args).await?;
    let mut rows = Vec::new();
    for &participants in counts {
        for topology in [Topology::Mesh, Topology::Sfu] {
            let (relay, janus) = match topology {
                Topology::Mesh => (&mesh_relay, None),
                Topology::Sfu => (&sfu_relay, Some(&janus)),
            };
            let took = Instant::now();
            let row = match measure_call(relay, janus, topology, participants).await {
                Ok(run) => {
                    eprintln!(
                        "[bench] {} {participants}: last joiner sees everyone after {:.0} ms, \
                         upload {:?} kbit/s, browsers {:.0}% CPU {:.0} MiB, Janus {:?}% CPU \
                         ({:.0} s)",
                        topology.name(),
                        run.last_joiner_all_frames_ms,
                        run.upload_bps
                            .iter()
                            .map(|b| (b / 1000.0).round())
                            .collect::<Vec<_>>(),
                        run.browsers_cpu_percent,
                        run.browsers_memory_mib,
                        run.janus_cpu_percent.map(f64::round),
                        took.elapsed().as_secs_f64()
                    );
                    to_json(topology, &run)
                }
                Err(err) => {
                    eprintln!("[bench] {} {participants}: {err}", topology.name());
                    json!({
                        "participants": participants,
                        "topology": topology.name(),
                        "error": err.to_string(),
                    })
                }
            };
            rows.push(row);
        }
    }
    let ratios = ratios(&rows);
    Ok(json!({
        "benchmark": "sfu",
        "browser": format!("headless Chromium, camera {CHEAP_CAMERA}, loopback; the mesh on a relay without Janus, the SFU on one with --mesh-max 1 and a Janus of deploy/janus; CPU and memory are every Chromium process on the machine (proportional set size) and Janus's own"),
        "measured_seconds": MEASURE.as_secs(),
        "results": rows,
        "ratios": ratios,
    }))
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn median(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| crate::bench::summary(values).0)
}

fn to_json(topology: Topology, run: &CallRun) -> Json {
    json!({
        "participants": run.participants,
        "topology": topology.name(),
        "last_joiner_first_frame_ms": run.last_joiner_first_frame_ms.round(),
        "last_joiner_all_frames_ms": run.last_joiner_all_frames_ms.round(),
        "upload_bps": run.upload_bps.iter().map(|b| b.round()).collect::<Vec<_>>(),
        "upload_median_bps": median(&run.upload_bps).map(f64::round),
        "browsers_cpu_percent": round1(run.browsers_cpu_percent),
        "browsers_memory_mib": run.browsers_memory_mib.round(),
        "janus_cpu_percent": run.janus_cpu_percent.map(round1),
        "janus_memory_mib": run.janus_memory_mib.map(f64::round),
    })
}

/// Upload with 8 people over upload with 2 (target at most 1.5), and the last joiner's
/// time to everyone with 8 over with 2 (target at most 2), both in the SFU; the same ratios
/// for the mesh beside them.
fn ratios(rows: &[Json]) -> Json {
    let figure = |topology: &str, participants: u64, key: &str| {
        rows.iter()
            .find(|row| row["topology"] == topology && row["participants"] == participants)
            .and_then(|row| row[key].as_f64())
    };
    let ratio = |topology: &str, key: &str| {
        figure(topology, 8, key)
            .zip(figure(topology, 2, key))
            .map(|(eight, two)| (eight / two.max(1.0) * 100.0).round() / 100.0)
    };
    json!({
        "sfu_upload_8_vs_2": ratio("sfu", "upload_median_bps"),
        "sfu_upload_8_vs_2_target": 1.5,
        "sfu_last_joiner_8_vs_2": ratio("sfu", "last_joiner_all_frames_ms"),
        "sfu_last_joiner_8_vs_2_target": 2.0,
        "mesh_upload_8_vs_2": ratio("mesh", "upload_median_bps"),
        "mesh_last_joiner_8_vs_2": ratio("mesh", "last_joiner_all_frames_ms"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_compare_eight_people_with_two_in_each_topology() {
        let rows = [
            json!({"topology": "sfu", "participants": 2, "upload_median_bps": 200.0, "last_joiner_all_frames_ms": 500.0}),
            json!({"topology": "sfu", "participants": 8, "upload_median_bps": 250.0, "last_joiner_all_frames_ms": 1500.0}),
            json!({"topology": "mesh", "participants": 2, "upload_median_bps": 200.0, "last_joiner_all_frames_ms": 400.0}),
            json!({"topology": "mesh", "participants": 8, "error": "timed out"}),
        ];
        let ratios = ratios(&rows);
        assert_eq!(ratios["sfu_upload_8_vs_2"], 1.25);
        assert_eq!(ratios["sfu_last_joiner_8_vs_2"], 3.0);
        assert_eq!(ratios["mesh_upload_8_vs_2"], Json::Null);
    }

    #[test]
    fn cpu_ticks_read_this_process() {
        assert!(cpu_ticks(std::process::id()).is_some());
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }
}
