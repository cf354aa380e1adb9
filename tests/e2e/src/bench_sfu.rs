//! The SFU benchmark (`cargo xtask bench --sfu`): for each participant count, the same call
//! in the mesh and through Janus, side by side in one run: the last joiner's click → first
//! frame from everyone, each participant's upload, and the CPU and memory of the browsers
//! and of Janus while the call runs. With `--e2ee` (`cargo xtask bench --e2ee`) each
//! topology also runs encrypted (frame encryption, keys from the link's passphrase), and the
//! encrypted call's CPU per participant and setup time are reported against the plain call
//! of the same run.

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
/// The link fragment of every encrypted call: a fixed passphrase, so the key derivation
/// costs the same in every run.
const E2EE_FRAGMENT: &str = "#key=bench-passphrase";
/// How long every page of a call already decoding everyone may take to say it is encrypted,
/// and the last joiner to show the safety code.
const E2EE_WAIT: Duration = Duration::from_secs(30);

/// A topology of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Browser to browser (a relay without Janus).
    Mesh,
    /// Through Janus (a relay with `--mesh-max 1`).
    Sfu,
    /// The mesh with end-to-end encryption (the link's `#key=`).
    MeshEncrypted,
    /// The SFU with end-to-end encryption.
    SfuEncrypted,
}

impl Topology {
    /// Every topology, each plain one before its encrypted variant (so the two are measured
    /// close together in time).
    pub const ALL: [Topology; 4] = [
        Topology::Mesh,
        Topology::MeshEncrypted,
        Topology::Sfu,
        Topology::SfuEncrypted,
    ];

    /// The name in the report (`mesh`, `sfu`, `mesh-e2ee`, `sfu-e2ee`).
    pub fn name(self) -> &'static str {
        match self {
            Topology::Mesh => "mesh",
            Topology::Sfu => "sfu",
            Topology::MeshEncrypted => "mesh-e2ee",
            Topology::SfuEncrypted => "sfu-e2ee",
        }
    }

    /// The topology of the report name `name`.
    pub fn from_name(name: &str) -> Option<Topology> {
        Topology::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The unencrypted call this one is compared with (itself when it is plain).
    pub fn plain(self) -> Topology {
        match self {
            Topology::Mesh | Topology::MeshEncrypted => Topology::Mesh,
            Topology::Sfu | Topology::SfuEncrypted => Topology::Sfu,
        }
    }

    /// Whether the call is end-to-end encrypted.
    pub fn encrypted(self) -> bool {
        self != self.plain()
    }

    /// Whether the call goes through Janus.
    pub fn through_janus(self) -> bool {
        self.plain() == Topology::Sfu
    }

    /// The tile grid's `data-topology`: how media flows, whether encrypted or not.
    fn grid(self) -> &'static str {
        self.plain().name()
    }

    /// The page of a call of `participants`: a room of its own per topology and count, and
    /// the passphrase fragment when encrypted.
    fn url(self, participants: usize) -> String {
        let fragment = if self.encrypted() { E2EE_FRAGMENT } else { "" };
        format!(
            "/r/sfu-bench-{}-{participants}?video=tiny{fragment}",
            self.name()
        )
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
    /// The call's Chromium processes' CPU while the call ran, in percent of one core.
    pub browsers_cpu_percent: f64,
    /// The call's Chromium processes' proportional set size, summed, in MiB.
    pub browsers_memory_mib: f64,
    /// Janus's CPU while the call ran (percent of one core), when it ran.
    pub janus_cpu_percent: Option<f64>,
    /// Janus's resident memory, in MiB.
    pub janus_memory_mib: Option<f64>,
}

impl CallRun {
    /// The browsers' CPU divided among the participants (each browser is one participant),
    /// in percent of one core: comparable across counts.
    pub fn cpu_per_participant_percent(&self) -> f64 {
        self.browsers_cpu_percent / self.participants.max(1) as f64
    }
}

/// Runs one call of `participants` in `topology` on `relay`: everyone but the last joins
/// and decodes everyone, then the last joins measured; then upload, CPU and memory.
pub async fn measure_call(
    relay: &Relay,
    janus: Option<&Janus>,
    topology: Topology,
    participants: usize,
) -> Result<CallRun> {
    let url = topology.url(participants);
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
    let selector = format!("[data-testid=tile-grid][data-topology={}]", topology.grid());
    last.wait_for(&selector, DECODE_TIMEOUT).await?;
    if topology.encrypted() {
        // Figures of a call that fell back to plain media must not be reported as the cost
        // of encryption.
        check_encrypted(browsers).await?;
    }
    tokio::time::sleep(SETTLE).await;

    let janus_pid = janus.and_then(Janus::pid);
    // Each WebDriver server leads the process group of its browser: counting those groups
    // only keeps Chromium run by anything else on the machine out of the figures.
    let groups: Vec<u32> = browsers.iter().map(Browser::driver_pid).collect();
    let cpu_before = Cpu::read(&groups, janus_pid);
    let started = Instant::now();
    let upload_bps = upload_of(browsers, MEASURE)
        .await?
        .iter()
        .map(|sample| sample.total_bps)
        .collect();
    let cpu_after = Cpu::read(&groups, janus_pid);
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
        browsers_memory_mib: chromium_pss_kib(&groups) as f64 / 1024.0,
        janus_cpu_percent: cpu_before
            .janus
            .zip(cpu_after.janus)
            .map(|(before, after)| percent(before, after)),
        janus_memory_mib: janus_pid.and_then(rss_kib).map(|kib| kib as f64 / 1024.0),
    })
}

/// Fails unless every page says its call is encrypted (`data-e2ee="frames"`) and the last
/// joiner shows the room's safety code (it holds the key). A failure names what the page
/// showed instead and the end of its console.
async fn check_encrypted(browsers: &[Browser]) -> Result {
    const BADGE: &str = "[data-testid=e2ee-badge][data-e2ee=frames]";
    for browser in browsers {
        if let Err(err) = browser.wait_for(BADGE, E2EE_WAIT).await {
            let shown = browser
                .eval_read(
                    "return document.querySelector('[data-testid=e2ee-badge]')\
                         ?.dataset.e2ee ?? 'no badge';",
                )
                .await
                .map_or_else(|e| format!("unreadable: {e}"), |v| v.to_string());
            return Err(Error::new(format!(
                "{err}; the badge says data-e2ee={shown}{}",
                console_tail(browser).await
            )));
        }
    }
    let Some(last) = browsers.last() else {
        return Ok(());
    };
    // Four groups of five digits: the page derived the room's key (before that it shows a
    // placeholder).
    let code = "/^\\d{5}( \\d{5}){3}$/.test(\
        document.querySelector('[data-testid=safety-code]')?.textContent?.trim() ?? '')";
    if let Err(err) = last.wait_until_js(code, E2EE_WAIT).await {
        let shown = last
            .text("[data-testid=safety-code]")
            .await
            .unwrap_or_else(|e| format!("unreadable: {e}"));
        return Err(Error::new(format!(
            "{err}; the last joiner shows {shown:?} as its safety code{}",
            console_tail(last).await
        )));
    }
    Ok(())
}

/// The last lines of `browser`'s console, for an error.
async fn console_tail(browser: &Browser) -> String {
    const LINES: usize = 12;
    match browser.console_logs().await {
        Ok(lines) => {
            let tail = &lines[lines.len().saturating_sub(LINES)..];
            format!(
                "; {} console, last {} lines:\n  {}",
                browser.label(),
                tail.len(),
                tail.join("\n  ")
            )
        }
        Err(err) => format!("; {} console unreadable: {err}", browser.label()),
    }
}

/// CPU time used so far, in clock ticks.
struct Cpu {
    /// By the call's Chromium processes.
    browsers: u64,
    /// By Janus.
    janus: Option<u64>,
}

impl Cpu {
    fn read(groups: &[u32], janus: Option<u32>) -> Cpu {
        Cpu {
            browsers: chromium_pids(groups)
                .into_iter()
                .filter_map(cpu_ticks)
                .sum(),
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

/// Every process whose executable is Chromium's in one of the process `groups` (those of
/// the benchmark's WebDriver servers: Chromium keeps its children in its group).
fn chromium_pids(groups: &[u32]) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| process_group(*pid).is_some_and(|group| groups.contains(&group)))
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

/// The process group of `pid`.
fn process_group(pid: u32) -> Option<u32> {
    stat_field(pid, 2)
}

/// Field `index` of `/proc/<pid>/stat`, counted from the one after the command (0: state,
/// 1: parent, 2: process group).
fn stat_field<T: std::str::FromStr>(pid: u32, index: usize) -> Option<T> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may hold spaces and parentheses: fields count from the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    rest.split_whitespace().nth(index)?.parse().ok()
}

/// utime + stime of `pid`, in clock ticks.
pub(crate) fn cpu_ticks(pid: u32) -> Option<u64> {
    // utime and stime are fields 14 and 15 of the line, 11 and 12 after the command.
    Some(stat_field::<u64>(pid, 11)? + stat_field::<u64>(pid, 12)?)
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

/// The proportional set size of the Chromium processes in `groups`, summed (shared pages
/// counted once overall), in KiB.
fn chromium_pss_kib(groups: &[u32]) -> u64 {
    chromium_pids(groups)
        .into_iter()
        .filter_map(|pid| proc_kib(&format!("/proc/{pid}/smaps_rollup"), "Pss:"))
        .sum()
}

/// Participant counts, each run in every one of `topologies` (in that order), as a JSON
/// report with the targets as ratios, and encrypted against plain for each topology
/// whose both variants ran. Janus is started only when a topology needs it. A count the
/// machine cannot carry is reported, not fatal.
pub async fn run(counts: &[usize], topologies: &[Topology]) -> Result<Json> {
    let janus = if topologies.iter().any(|t| t.through_janus()) {
        Some(Janus::start().await?)
    } else {
        None
    };
    let sfu_relay = match &janus {
        Some(janus) => {
            let janus_url = janus.url();
            let sfu_args = [
                "--janus-url",
                &janus_url,
                "--janus-admin-key",
                janus.admin_key(),
                "--mesh-max",
                "1",
            ];
            Some(Relay::start(&sfu_args).await?)
        }
        None => None,
    };
    let mesh_relay = Relay::start(&[]).await?;
    let mut rows = Vec::new();
    for &participants in counts {
        for &topology in topologies {
            let (relay, janus) = match (&sfu_relay, &janus) {
                (Some(relay), Some(janus)) if topology.through_janus() => (relay, Some(janus)),
                _ => (&mesh_relay, None),
            };
            let took = Instant::now();
            let row = match measure_call(relay, janus, topology, participants).await {
                Ok(run) => {
                    eprintln!(
                        "[bench] {} {participants}: last joiner sees everyone after {:.0} ms, \
                         upload {:?} kbit/s, browsers {:.0}% CPU ({:.1}% per participant) \
                         {:.0} MiB, Janus {:?}% CPU ({:.0} s)",
                        topology.name(),
                        run.last_joiner_all_frames_ms,
                        run.upload_bps
                            .iter()
                            .map(|b| (b / 1000.0).round())
                            .collect::<Vec<_>>(),
                        run.browsers_cpu_percent,
                        run.cpu_per_participant_percent(),
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
                        "encrypted": topology.encrypted(),
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
        "browser": format!("headless Chromium, camera {CHEAP_CAMERA}, loopback; the mesh on a relay without Janus, the SFU on one with --mesh-max 1 and a Janus of deploy/janus; the -e2ee topologies are the same call opened with {E2EE_FRAGMENT} (frame encryption, checked on every page before measuring); CPU and memory are the call's Chromium processes (its browsers' process groups; proportional set size) and Janus's own; ratios.e2ee compare with the plain call of the same run"),
        "measured_seconds": MEASURE.as_secs(),
        "topologies": topologies.iter().map(|t| t.name()).collect::<Vec<_>>(),
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
        "encrypted": topology.encrypted(),
        "last_joiner_first_frame_ms": run.last_joiner_first_frame_ms.round(),
        "last_joiner_all_frames_ms": run.last_joiner_all_frames_ms.round(),
        "upload_bps": run.upload_bps.iter().map(|b| b.round()).collect::<Vec<_>>(),
        "upload_median_bps": median(&run.upload_bps).map(f64::round),
        "browsers_cpu_percent": round1(run.browsers_cpu_percent),
        "cpu_per_participant_percent": round1(run.cpu_per_participant_percent()),
        "browsers_memory_mib": run.browsers_memory_mib.round(),
        "janus_cpu_percent": run.janus_cpu_percent.map(round1),
        "janus_memory_mib": run.janus_memory_mib.map(f64::round),
    })
}

/// Upload with 8 people over upload with 2 (target at most 1.5), and the last joiner's
/// time to everyone with 8 over with 2 (target at most 2), both in the SFU; the same ratios
/// for the mesh beside them. Then `e2ee`: for each count and each topology that ran
/// encrypted, the encrypted call's CPU per participant and last joiner's time over the plain
/// call's of the same run (`null` where either was not measured).
fn ratios(rows: &[Json]) -> Json {
    let figure = |topology: &str, participants: u64, key: &str| {
        rows.iter()
            .find(|row| row["topology"] == topology && row["participants"] == participants)
            .and_then(|row| row[key].as_f64())
    };
    let ratio = |topology: &str, key: &str| {
        figure(topology, 8, key)
            .zip(figure(topology, 2, key))
            .map(|(eight, two)| round2(eight / two.max(1.0)))
    };
    // In the order the calls ran: each encrypted row names its count and plain topology.
    let e2ee: Vec<Json> = rows
        .iter()
        .filter_map(|row| {
            let topology = Topology::from_name(row["topology"].as_str()?)?;
            let participants = row["participants"].as_u64()?;
            topology.encrypted().then_some((topology, participants))
        })
        .map(|(topology, participants)| {
            let over_plain = |key: &str| {
                figure(topology.name(), participants, key)
                    .zip(figure(topology.plain().name(), participants, key))
                    // A plain figure of zero would be a broken measurement, not a baseline.
                    .filter(|(_, plain)| *plain > 0.0)
                    .map(|(encrypted, plain)| round2(encrypted / plain))
            };
            json!({
                "participants": participants,
                "topology": topology.plain().name(),
                "cpu_per_participant_ratio": over_plain("cpu_per_participant_percent"),
                "last_joiner_ratio": over_plain("last_joiner_all_frames_ms"),
            })
        })
        .collect();
    json!({
        "sfu_upload_8_vs_2": ratio("sfu", "upload_median_bps"),
        "sfu_upload_8_vs_2_target": 1.5,
        "sfu_last_joiner_8_vs_2": ratio("sfu", "last_joiner_all_frames_ms"),
        "sfu_last_joiner_8_vs_2_target": 2.0,
        "mesh_upload_8_vs_2": ratio("mesh", "upload_median_bps"),
        "mesh_last_joiner_8_vs_2": ratio("mesh", "last_joiner_all_frames_ms"),
        "e2ee": e2ee,
    })
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
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
        assert_eq!(ratios["e2ee"], json!([]), "no encrypted call ran");
    }

    #[test]
    fn ratios_compare_each_encrypted_call_with_the_plain_one_of_its_count() {
        let rows = [
            json!({"topology": "mesh", "participants": 2, "cpu_per_participant_percent": 20.0, "last_joiner_all_frames_ms": 800.0}),
            json!({"topology": "mesh-e2ee", "participants": 2, "cpu_per_participant_percent": 25.0, "last_joiner_all_frames_ms": 1000.0}),
            json!({"topology": "sfu", "participants": 2, "cpu_per_participant_percent": 30.0, "last_joiner_all_frames_ms": 1200.0}),
            json!({"topology": "sfu-e2ee", "participants": 2, "cpu_per_participant_percent": 33.0, "last_joiner_all_frames_ms": 1500.0}),
            json!({"topology": "mesh", "participants": 4, "cpu_per_participant_percent": 40.0, "last_joiner_all_frames_ms": 2000.0}),
            json!({"topology": "mesh-e2ee", "participants": 4, "error": "timed out"}),
            json!({"topology": "sfu", "participants": 4, "error": "timed out"}),
            json!({"topology": "sfu-e2ee", "participants": 4, "cpu_per_participant_percent": 35.0, "last_joiner_all_frames_ms": 1800.0}),
        ];
        let ratios = ratios(&rows);
        assert_eq!(
            ratios["e2ee"],
            json!([
                {"participants": 2, "topology": "mesh", "cpu_per_participant_ratio": 1.25, "last_joiner_ratio": 1.25},
                {"participants": 2, "topology": "sfu", "cpu_per_participant_ratio": 1.1, "last_joiner_ratio": 1.25},
                {"participants": 4, "topology": "mesh", "cpu_per_participant_ratio": null, "last_joiner_ratio": null},
                {"participants": 4, "topology": "sfu", "cpu_per_participant_ratio": null, "last_joiner_ratio": null},
            ])
        );
    }

    #[test]
    fn encrypted_topologies_keep_the_grid_of_their_plain_one_in_a_room_of_their_own() {
        for topology in Topology::ALL {
            assert_eq!(Topology::from_name(topology.name()), Some(topology));
            assert_eq!(topology.grid(), topology.plain().name());
            assert_eq!(
                topology.url(4).ends_with("#key=bench-passphrase"),
                topology.encrypted()
            );
        }
        assert_eq!(Topology::SfuEncrypted.grid(), "sfu");
        assert!(Topology::SfuEncrypted.through_janus());
        assert!(!Topology::MeshEncrypted.through_janus());
        assert_ne!(Topology::Sfu.url(2), Topology::SfuEncrypted.url(2));
    }

    #[test]
    fn cpu_per_participant_divides_the_browsers_cpu() {
        let run = CallRun {
            participants: 4,
            last_joiner_all_frames_ms: 0.0,
            last_joiner_first_frame_ms: 0.0,
            upload_bps: Vec::new(),
            browsers_cpu_percent: 150.0,
            browsers_memory_mib: 0.0,
            janus_cpu_percent: None,
            janus_memory_mib: None,
        };
        assert_eq!(run.cpu_per_participant_percent(), 37.5);
    }

    #[test]
    fn cpu_ticks_read_this_process() {
        assert!(cpu_ticks(std::process::id()).is_some());
        // SAFETY: getpgrp has no preconditions.
        let group = unsafe { libc::getpgrp() } as u32;
        assert_eq!(process_group(std::process::id()), Some(group));
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }
}
