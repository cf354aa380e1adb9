//! Call-setup benchmark: time from clicking "join" to the first decoded remote video frame,
//! measured inside the page with `requestVideoFrameCallback`, in headless Chromium on loopback;
//! beside it the floor (two `RTCPeerConnection`s in one plain page, `floor.html`) and the
//! time from navigation to an interactive lobby. Also the uplink benchmark.

use crate::{Browser, BrowserKind, Error, Relay, Result};
use serde_json::{json, Value as Json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long one run may wait for all remote frames.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the measured joiner stays in the call after its frames arrived, before it leaves
/// for the next run. When a joiner left at once, the next run's sender (the same camera, to
/// the new joiner) got no camera frames until about 2.5 s after the previous run's sender had
/// started (media-source `frames` 0): every second run waited about 2.4 s for its first
/// frame. A call that lasts a few seconds, as real ones do, does not meet it.
const STAY_IN_CALL: Duration = Duration::from_secs(3);

/// What one run measured for the last joiner.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupRun {
    /// Participants in the call.
    pub participants: usize,
    /// Click to the first decoded frame from any peer, in milliseconds.
    pub first_frame_ms: f64,
    /// Click to a decoded frame from every peer, in milliseconds.
    pub all_frames_ms: f64,
    /// Click to the first time of each phase of the join (`relay_open`, `welcome`,
    /// `offer_sent`, `answer_received`, `connected`, `video_track`…), in milliseconds.
    pub phases_ms: Vec<(String, f64)>,
}

/// Installed in the last joiner's page right before its join button is clicked. Besides the
/// frames it notes when each phase of the join first happened (`phases`), from the relay
/// socket and the peer connections the page creates, to show where the time goes.
const INSTRUMENT_AND_JOIN: &str = r#"
    const mm = window.__mmBench = { t0: performance.now(), first: null, all: {}, phases: {} };
    const phase = name => { if (!(name in mm.phases)) mm.phases[name] = performance.now() - mm.t0; };
    const Socket = window.WebSocket;
    window.WebSocket = function (...args) {
        const ws = new Socket(...args);
        ws.addEventListener('open', () => phase('relay_open'));
        ws.addEventListener('message', e => {
            if (e.data.includes('"type":"welcome"')) phase('welcome');
            if (e.data.includes('"kind":"answer"')) phase('answer_received');
        });
        const send = ws.send.bind(ws);
        ws.send = data => {
            if (String(data).includes('"kind":"offer"')) phase('offer_sent');
            return send(data);
        };
        return ws;
    };
    window.WebSocket.prototype = Socket.prototype;
    Object.setPrototypeOf(window.WebSocket, Socket);
    const Connection = window.RTCPeerConnection;
    window.RTCPeerConnection = function (...args) {
        const pc = new Connection(...args);
        phase('connection_created');
        pc.addEventListener('connectionstatechange', () => {
            if (pc.connectionState === 'connected') phase('connected');
        });
        pc.addEventListener('track', e => { if (e.track.kind === 'video') phase('video_track'); });
        return pc;
    };
    window.RTCPeerConnection.prototype = Connection.prototype;
    Object.setPrototypeOf(window.RTCPeerConnection, Connection);
    const seen = new WeakSet();
    const hook = () => document.querySelectorAll('[data-testid=peer-tile] video').forEach(v => {
        if (seen.has(v)) return;
        seen.add(v);
        const name = v.closest('[data-testid=peer-tile]').dataset.peerName;
        v.requestVideoFrameCallback(now => {
            const ms = now - mm.t0;
            if (!(name in mm.all)) mm.all[name] = ms;
            if (mm.first === null) mm.first = ms;
        });
    });
    new MutationObserver(hook).observe(document.body, { subtree: true, childList: true });
    document.querySelector('[data-testid=join-button]').click();
    return true;
"#;

/// The client's lobby-ready User Timing mark (`LOBBY_READY_MARK` in src/pages/lobby.rs),
/// in milliseconds since navigation started; `null` until it is set.
const LOBBY_READY: &str = r#"
    const mark = performance.getEntriesByName('meshmeet-lobby-ready')[0];
    return mark ? mark.startTime : null;
"#;

/// From this many participants on, the browser benchmarks use the 160x90, 10 fps camera
/// (`?video=tiny`): six headless browsers encoding 320x180 five times each do not leave
/// two cores enough time to answer WebDriver.
const TINY_VIDEO_FROM: usize = 6;

/// The camera of a call of `participants`: the room URL and its description.
fn camera(room: &str, participants: usize) -> (String, &'static str) {
    if participants >= TINY_VIDEO_FROM {
        (format!("/r/{room}?video=tiny"), "160x90 at 10 fps")
    } else {
        (crate::room_url(room), "320x180 at 15 fps")
    }
}

/// The measurements of one participant count: `participants - 1` people join and connect
/// once, then the last one joins measured, `runs` times (leaving between runs, which the
/// others see at once). The people already in the call receive audio only: they still send
/// their video to the joiner (whose reception is measured), but do not spend the two cores
/// on video among themselves.
pub async fn measure_setup(
    relay: &Relay,
    participants: usize,
    runs: usize,
) -> Result<Vec<SetupRun>> {
    let room = format!("bench-{participants}");
    let (url, _) = camera(&room, participants);
    let mut browsers = Vec::with_capacity(participants);
    for _ in 0..participants {
        browsers.push(Browser::launch(BrowserKind::Chromium, Some(relay.url())).await?);
    }
    let measured = measure_with(&browsers, &url, runs).await;
    for browser in &browsers {
        let _ = browser.close().await;
    }
    measured
}

/// Navigation to the lobby's ready mark in `samples` fresh browsers (empty cache, nothing
/// else running), in milliseconds: what a first visit to a meeting link costs.
pub async fn measure_lobby(relay: &Relay, samples: usize) -> Result<Vec<f64>> {
    let (url, _) = camera("bench-lobby", 2);
    let mut lobby = Vec::with_capacity(samples);
    for _ in 0..samples {
        let browser = Browser::launch(BrowserKind::Chromium, Some(relay.url())).await?;
        browser.ready_to_join(&url, "P0").await?;
        let ready = browser.eval(LOBBY_READY).await?.as_f64();
        let _ = browser.close().await;
        lobby.push(ready.ok_or_else(|| {
            Error::new("the lobby was ready to join but set no `meshmeet-lobby-ready` mark")
        })?);
    }
    Ok(lobby)
}

async fn measure_with(browsers: &[Browser], url: &str, runs: usize) -> Result<Vec<SetupRun>> {
    let (last, early) = browsers
        .split_last()
        .ok_or_else(|| Error::new("no participants"))?;
    let first = early
        .first()
        .ok_or_else(|| Error::new("a call needs two participants"))?;
    for (i, browser) in early.iter().enumerate() {
        browser.ready_to_join(url, &format!("P{i}")).await?;
        browser.click("[data-testid=join-button]").await?;
        browser
            .wait_for("[data-testid=settings-toggle]", RUN_TIMEOUT)
            .await?;
        browser.click("[data-testid=settings-toggle]").await?;
        browser.click("[data-testid=audio-only-toggle]").await?;
        browser.click("[data-testid=settings-toggle]").await?;
    }
    // The measured joiner meets an established call.
    for (i, browser) in early.iter().enumerate() {
        for j in (0..early.len()).filter(|j| *j != i) {
            let connected =
                format!("[data-testid=peer-tile][data-peer-name=P{j}][data-connection=connected]");
            browser.wait_for(&connected, RUN_TIMEOUT).await?;
        }
    }
    let peers = early.len();
    let mut measured = Vec::with_capacity(runs);
    for _ in 0..runs {
        last.ready_to_join(url, "Last").await?;
        measured.push(join_measured(last, peers, RUN_TIMEOUT).await?);
        tokio::time::sleep(STAY_IN_CALL).await;
        // Leave (the others drop the tile at once) before the next run joins again.
        last.click("[data-testid=leave-button]").await?;
        first
            .wait_until("the measured joiner to leave", RUN_TIMEOUT, async || {
                Ok(first.count("[data-testid=peer-tile]").await? == peers - 1)
            })
            .await?;
    }
    Ok(measured)
}

/// Clicks join on `last` (ready in the lobby) with [`INSTRUMENT_AND_JOIN`] and waits until
/// the video of each of its `peers` has decoded a frame: the times of that join.
pub(crate) async fn join_measured(
    last: &Browser,
    peers: usize,
    timeout: Duration,
) -> Result<SetupRun> {
    const READ: &str = "const m = window.__mmBench; \
        return { first: m.first, all: Object.values(m.all), phases: m.phases };";
    last.eval(INSTRUMENT_AND_JOIN).await?;
    let mut result = Json::Null;
    last.wait_until(
        "every remote video to decode a frame",
        timeout,
        async || {
            result = last.eval(READ).await?;
            Ok(result["all"].as_array().map_or(0, Vec::len) >= peers)
        },
    )
    .await?;
    let all = result["all"]
        .as_array()
        .map(|v| v.iter().filter_map(Json::as_f64).fold(0.0, f64::max))
        .unwrap_or_default();
    Ok(SetupRun {
        participants: peers + 1,
        first_frame_ms: result["first"].as_f64().unwrap_or(all),
        all_frames_ms: all,
        phases_ms: phases(&result["phases"]),
    })
}

/// The floor page, served by [`PageServer`].
const FLOOR_PAGE: &str = include_str!("floor.html");

/// Serves one HTML page at `/` on 127.0.0.1 (a secure context, so the page may use the
/// camera) until dropped. Every other path is 404.
pub struct PageServer {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl PageServer {
    /// Starts serving `page` on a free port.
    pub async fn start(page: &'static str) -> Result<PageServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(answer(socket, page));
            }
        });
        Ok(PageServer { url, task })
    }

    /// The page's URL, like `http://127.0.0.1:41234/`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers one HTTP/1.1 request (headers of at most 16 KiB) and closes the connection.
async fn answer(mut socket: tokio::net::TcpStream, page: &str) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let found = request.starts_with(b"GET / ");
    let (status, body) = if found {
        ("200 OK", page)
    } else {
        ("404 Not Found", "not found\n")
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// `{name: ms}` from a page as `(name, ms)` pairs in time order.
fn phases(json: &Json) -> Vec<(String, f64)> {
    let mut phases: Vec<(String, f64)> = json
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, ms)| Some((name.clone(), ms.as_f64()?)))
        .collect();
    phases.sort_by(|a, b| a.1.total_cmp(&b.1));
    phases
}

/// One floor run in a fresh browser: the camera starts first (as in the lobby), then the
/// two connections are created and the time to the first decoded remote frame is measured.
/// Returns it with the times of the floor's phases.
pub async fn measure_floor(page: &PageServer) -> Result<(f64, Vec<(String, f64)>)> {
    let browser = Browser::launch(BrowserKind::Chromium, None).await?;
    let measured = async {
        browser.goto(page.url()).await?;
        browser
            .eval("return await window.floorPrepare(320, 180, 15);")
            .await?;
        let result = browser.eval("return await window.floorRun();").await?;
        let ms = result["first_frame"]
            .as_f64()
            .ok_or_else(|| Error::new("the floor page returned no time"))?;
        Ok((ms, phases(&result["phases"])))
    }
    .await;
    let _ = browser.close().await;
    measured
}

/// The median time of each phase over several runs, in the order the first run saw them
/// (a phase some run did not reach is left out).
fn phase_medians(runs: &[Vec<(String, f64)>]) -> Json {
    let mut medians = serde_json::Map::new();
    for (name, _) in runs.first().into_iter().flatten() {
        let times: Vec<f64> = runs
            .iter()
            .filter_map(|run| run.iter().find(|(n, _)| n == name).map(|(_, ms)| *ms))
            .collect();
        if times.len() == runs.len() {
            medians.insert(name.clone(), json!(summary(&times).0.round()));
        }
    }
    Json::Object(medians)
}

/// Bytes sent per outbound RTP stream (keyed by connection and SSRC) and the stats clock.
const OUTBOUND_BYTES: &str = r#"
    const streams = {}; let at = 0;
    const open = window.__pcs.map((pc, i) => [pc, i]).filter(([pc]) => pc.connectionState !== 'closed');
    const reports = await Promise.all(open.map(([pc]) => pc.getStats()));
    reports.forEach((report, n) => report.forEach(r => {
        if (r.type === 'outbound-rtp') {
            streams[open[n][1] + ':' + r.ssrc] = { kind: r.kind, bytes: r.bytesSent };
            at = Math.max(at, r.timestamp);
        }
    }));
    return { streams, at };
"#;

/// What one participant uploads in a call of `participants`.
#[derive(Clone, Debug, PartialEq)]
pub struct UplinkSample {
    /// Everything sent (audio and video, to every peer), bits per second.
    pub total_bps: f64,
    /// The lowest bitrate of one sent video stream, bits per second.
    pub lowest_video_stream_bps: f64,
}

async fn outbound(browser: &Browser) -> Result<(Json, f64)> {
    let v = browser.eval(OUTBOUND_BYTES).await?;
    Ok((v["streams"].clone(), v["at"].as_f64().unwrap_or(0.0)))
}

/// Upload of every participant of one call of `participants`, with the default budget.
pub async fn measure_uplink(
    relay: &Relay,
    participants: usize,
    measure: Duration,
) -> Result<Vec<UplinkSample>> {
    let room = format!("uplink-{participants}");
    let mut browsers = Vec::with_capacity(participants);
    for i in 0..participants {
        let browser = Browser::launch(BrowserKind::Chromium, Some(relay.url())).await?;
        let (url, _) = camera(&room, participants);
        browser.ready_to_join(&url, &format!("P{i}")).await?;
        browser.record_peer_connections().await?;
        browser.click("[data-testid=join-button]").await?;
        browsers.push(browser);
    }
    for (i, browser) in browsers.iter().enumerate() {
        for j in (0..participants).filter(|j| *j != i) {
            browser
                .wait_until_peer_tile_decodes(&format!("P{j}"), RUN_TIMEOUT)
                .await?;
        }
    }
    // Let the budget apply and the bandwidth estimators settle.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let samples = upload_of(&browsers, measure).await;
    for browser in &browsers {
        let _ = browser.close().await;
    }
    samples
}

/// What each of `browsers` (recording their peer connections) uploads over `measure`.
pub(crate) async fn upload_of(
    browsers: &[Browser],
    measure: Duration,
) -> Result<Vec<UplinkSample>> {
    let mut before = Vec::new();
    for browser in browsers {
        before.push(outbound(browser).await?);
    }
    tokio::time::sleep(measure).await;
    let mut samples = Vec::new();
    for (browser, (streams0, at0)) in browsers.iter().zip(before) {
        let (streams1, at1) = outbound(browser).await?;
        let seconds = ((at1 - at0) / 1000.0).max(0.001);
        let mut total = 0.0;
        let mut lowest = f64::INFINITY;
        for (key, now) in streams1.as_object().into_iter().flatten() {
            let then = streams0[key]["bytes"].as_f64().unwrap_or(0.0);
            let bps = (now["bytes"].as_f64().unwrap_or(0.0) - then) * 8.0 / seconds;
            total += bps;
            // Paused streams (the idle screen transceiver, a peer that asked for no
            // video) send nothing and are not "the lowest stream".
            if now["kind"] == "video" && bps > 0.0 {
                lowest = lowest.min(bps);
            }
        }
        samples.push(UplinkSample {
            total_bps: total,
            lowest_video_stream_bps: if lowest.is_finite() { lowest } else { 0.0 },
        });
    }
    Ok(samples)
}

/// The uplink benchmark: for each participant count, every participant's total upload and
/// the lowest per-stream video bitrate, as a JSON report.
pub async fn uplink(counts: &[usize], measure: Duration) -> Result<Json> {
    let relay = Relay::start(&[]).await?;
    let mut rows = Vec::new();
    for &participants in counts {
        // A count the machine cannot carry is reported, not fatal to the other counts.
        let samples = match measure_uplink(&relay, participants, measure).await {
            Ok(samples) => samples,
            Err(err) => {
                eprintln!("[bench] {participants} participants: {err}");
                rows.push(json!({ "participants": participants, "error": err.to_string() }));
                continue;
            }
        };
        for (i, s) in samples.iter().enumerate() {
            eprintln!(
                "[bench] {participants} participants, P{i}: upload {:.0} kbit/s, lowest video stream {:.0} kbit/s",
                s.total_bps / 1000.0,
                s.lowest_video_stream_bps / 1000.0
            );
        }
        rows.push(json!({
            "participants": participants,
            "upload_bps": samples.iter().map(|s| s.total_bps.round()).collect::<Vec<_>>(),
            "lowest_video_stream_bps": samples.iter().map(|s| s.lowest_video_stream_bps.round()).collect::<Vec<_>>(),
        }));
    }
    Ok(json!({
        "benchmark": "uplink",
        "browser": "headless Chromium, fake camera 320x180 at 15 fps (?video=low; 160x90 at 10 fps, ?video=tiny, from 6 participants), default 2.5 Mbit/s video budget, loopback",
        "measured_seconds": measure.as_secs(),
        "results": rows,
    }))
}

/// Median, min and max of a non-empty list.
pub fn summary(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (median, sorted[0], sorted[n - 1])
}

/// `name 12, other 34` for progress lines.
fn show(phases: &[(String, f64)]) -> String {
    phases
        .iter()
        .map(|(name, ms)| format!("{name} {ms:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `{median, min, max}` of a non-empty list, rounded to whole milliseconds.
fn spread(values: &[f64]) -> Json {
    let (median, min, max) = summary(values);
    json!({ "median": median.round(), "min": min.round(), "max": max.round() })
}

/// Call-setup targets (issue #11): two participants within this factor of the floor…
pub const TARGET_TWO_VS_FLOOR: f64 = 1.3;
/// …and the sixth joiner connected to all five others within this factor of two.
pub const TARGET_SIX_VS_TWO: f64 = 2.0;

/// Runs `runs` measurements of the floor and of each participant count, and returns a JSON
/// report with the ratios to the targets.
pub async fn call_setup(counts: &[usize], runs: usize) -> Result<Json> {
    let page = PageServer::start(FLOOR_PAGE).await?;
    let mut floor = Vec::new();
    let mut floor_phases = Vec::new();
    for run in 0..runs {
        let (ms, phases) = measure_floor(&page).await?;
        eprintln!(
            "[bench] floor, run {}: first frame {ms:.0} ms; {}",
            run + 1,
            show(&phases)
        );
        floor.push(ms);
        floor_phases.push(phases);
    }
    let relay = Relay::start(&[]).await?;
    let lobby = measure_lobby(&relay, runs).await?;
    eprintln!("[bench] navigation to an interactive lobby, fresh browsers: {lobby:.0?} ms");
    let mut rows = Vec::new();
    let mut medians = std::collections::BTreeMap::new();
    for &participants in counts {
        let mut first = Vec::new();
        let mut all = Vec::new();
        let mut run_phases = Vec::new();
        let mut failed = None;
        // A count the machine cannot carry is reported, not fatal to the other counts (six
        // browsers on two busy cores can starve WebDriver).
        match measure_setup(&relay, participants, runs).await {
            Ok(measured) => {
                for (run, measured) in measured.into_iter().enumerate() {
                    eprintln!(
                        "[bench] {participants} participants, run {}: first frame {:.0} ms, all {:.0} ms; {}",
                        run + 1,
                        measured.first_frame_ms,
                        measured.all_frames_ms,
                        show(&measured.phases_ms),
                    );
                    run_phases.push(measured.phases_ms);
                    first.push(measured.first_frame_ms);
                    all.push(measured.all_frames_ms);
                }
            }
            Err(err) => {
                eprintln!("[bench] {participants} participants: {err}");
                failed = Some(err.to_string());
            }
        }
        if let Some(error) = failed {
            rows.push(json!({
                "participants": participants,
                "camera": camera("", participants).1,
                "error": error,
            }));
            continue;
        }
        let (first_median, ..) = summary(&first);
        let (all_median, ..) = summary(&all);
        medians.insert(participants, (first_median, all_median));
        rows.push(json!({
            "participants": participants,
            "runs": runs,
            "camera": camera("", participants).1,
            "join_to_first_remote_frame_ms": spread(&first),
            "join_to_all_remote_frames_ms": spread(&all),
            "phases_ms": phase_medians(&run_phases),
        }));
    }
    let (floor_median, ..) = summary(&floor);
    let two = medians.get(&2).map(|(first, _)| *first);
    let six = medians.get(&6).map(|(_, all)| *all);
    let two_vs_floor = two.map(|two| two / floor_median);
    let six_vs_two = two.zip(six).map(|(two, six)| six / two);
    Ok(json!({
        "benchmark": "call_setup",
        "browser": "headless Chromium (--use-fake-device-for-media-stream=fps=15), fake camera 320x180 at 15 fps (?video=low; 160x90 at 10 fps, ?video=tiny, from 6 participants), loopback relay; the people already in the call receive audio only (they send video to the joiner), the joiner stays 3 s after its frames arrive, then leaves and joins again for each run",
        "floor": {
            "what": "two RTCPeerConnections in one plain page (no relay, no framework) sending each other the same fake camera (320x180 at 15 fps) and microphone; start of the call to the first decoded remote frame",
            "runs": runs,
            "first_remote_frame_ms": spread(&floor),
            "phases_ms": phase_medians(&floor_phases),
        },
        "results": rows,
        "lobby": {
            "what": "navigation to the lobby's ready mark (camera preview started, join possible) in a fresh browser (empty cache), 320x180 camera, nothing else running",
            "samples": lobby.len(),
            "navigation_to_ready_ms": if lobby.is_empty() { Json::Null } else { spread(&lobby) },
        },
        "ratios": {
            "two_participants_vs_floor": two_vs_floor.map(|r| (r * 100.0).round() / 100.0),
            "two_participants_vs_floor_target": TARGET_TWO_VS_FLOOR,
            "sixth_joiner_all_vs_two_participants": six_vs_two.map(|r| (r * 100.0).round() / 100.0),
            "sixth_joiner_all_vs_two_participants_target": TARGET_SIX_VS_TWO,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_gives_median_min_and_max() {
        assert_eq!(summary(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(summary(&[4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
    }
}
