//! Call-setup benchmark: time from clicking "join" to the first decoded remote video frame,
//! measured inside the page with `requestVideoFrameCallback`, in headless Chromium on loopback.

use crate::{Browser, BrowserKind, Error, Relay, Result};
use serde_json::{json, Value as Json};
use std::time::Duration;

/// How long one run may wait for all remote frames.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// What one run measured for the last joiner.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupRun {
    /// Participants in the call.
    pub participants: usize,
    /// Click to the first decoded frame from any peer, in milliseconds.
    pub first_frame_ms: f64,
    /// Click to a decoded frame from every peer, in milliseconds.
    pub all_frames_ms: f64,
}

/// Installed in the last joiner's page right before its join button is clicked.
const INSTRUMENT_AND_JOIN: &str = r#"
    const mm = window.__mmBench = { t0: performance.now(), first: null, all: {} };
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

async fn ready_in_lobby(browser: &Browser, room: &str, name: &str) -> Result {
    browser.ready_to_join(&crate::room_url(room), name).await
}

/// From this many participants on, the uplink benchmark uses the 160x90, 10 fps camera
/// (`?video=tiny`): six headless browsers encoding 320x180 five times each do not leave
/// two cores enough time to answer WebDriver.
const TINY_VIDEO_FROM: usize = 6;

/// One run: `participants - 1` people join and connect, then the last one joins measured.
pub async fn measure_setup(relay: &Relay, participants: usize, run: usize) -> Result<SetupRun> {
    let room = format!("bench-{participants}-{run}");
    let mut browsers = Vec::with_capacity(participants);
    for _ in 0..participants {
        browsers.push(Browser::launch(BrowserKind::Chromium, Some(relay.url())).await?);
    }
    let (last, early) = browsers
        .split_last()
        .ok_or_else(|| Error::new("no participants"))?;
    for (i, browser) in early.iter().enumerate() {
        ready_in_lobby(browser, &room, &format!("P{i}")).await?;
        browser.click("[data-testid=join-button]").await?;
    }
    // The measured joiner meets an established call.
    for (i, browser) in early.iter().enumerate() {
        for j in 0..early.len() {
            if i != j {
                browser
                    .wait_until_peer_tile_decodes(&format!("P{j}"), RUN_TIMEOUT)
                    .await?;
            }
        }
    }
    ready_in_lobby(last, &room, "Last").await?;
    last.eval(INSTRUMENT_AND_JOIN).await?;
    let peers = participants - 1;
    let script =
        "const m = window.__mmBench; return { first: m.first, all: Object.values(m.all) };";
    let mut result = Json::Null;
    last.wait_until(
        "every remote video to decode a frame",
        RUN_TIMEOUT,
        async || {
            result = last.eval(script).await?;
            Ok(result["all"].as_array().map_or(0, Vec::len) >= peers)
        },
    )
    .await?;
    let all = result["all"]
        .as_array()
        .map(|v| v.iter().filter_map(Json::as_f64).fold(0.0, f64::max))
        .unwrap_or_default();
    let first = result["first"].as_f64().unwrap_or(all);
    for browser in &browsers {
        let _ = browser.close().await;
    }
    Ok(SetupRun {
        participants,
        first_frame_ms: first,
        all_frames_ms: all,
    })
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
        let url = if participants >= TINY_VIDEO_FROM {
            format!("/r/{room}?video=tiny")
        } else {
            crate::room_url(&room)
        };
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
    let mut before = Vec::new();
    for browser in &browsers {
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
    for browser in &browsers {
        let _ = browser.close().await;
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

/// Runs `runs` measurements for each participant count and returns a JSON report.
pub async fn call_setup(counts: &[usize], runs: usize) -> Result<Json> {
    let relay = Relay::start(&[]).await?;
    let mut rows = Vec::new();
    for &participants in counts {
        let mut first = Vec::new();
        let mut all = Vec::new();
        for run in 0..runs {
            let measured = measure_setup(&relay, participants, run).await?;
            eprintln!(
                "[bench] {participants} participants, run {}: first frame {:.0} ms, all {:.0} ms",
                run + 1,
                measured.first_frame_ms,
                measured.all_frames_ms
            );
            first.push(measured.first_frame_ms);
            all.push(measured.all_frames_ms);
        }
        let (median, min, max) = summary(&first);
        let (all_median, all_min, all_max) = summary(&all);
        rows.push(json!({
            "participants": participants,
            "runs": runs,
            "join_to_first_remote_frame_ms": { "median": median, "min": min, "max": max },
            "join_to_all_remote_frames_ms": { "median": all_median, "min": all_min, "max": all_max },
        }));
    }
    Ok(json!({
        "benchmark": "call_setup",
        "browser": "headless Chromium, fake camera 320x180 at 15 fps (?video=low), loopback relay",
        "results": rows,
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
