//! The live benchmark (`cargo xtask bench --live`): how far behind the meeting its audience
//! is, and what the audience costs the server.
//!
//! **Glass-to-glass delay.** The stage participant's camera is a file Chromium plays as its
//! fake camera, every frame of which shows its own number as 20 black or white blocks (ten
//! bits and their complements, so a blurred or half-drawn frame reads as nothing). Each page
//! that shows the stage reads the number of every frame it draws (`requestVideoFrameCallback`,
//! a 50x40 canvas) with the wall clock; ffmpeg does the same for HLS. The reference is the
//! stage's own preview in its page (drawn within a frame of capture), so each figure is
//! "how long after the stage saw itself": for a meeting participant through the SFU (the
//! baseline), for the WebRTC watch page (the target: within 500 ms of the meeting), and for
//! HLS (when a frame is in a published segment; a player adds its buffer, usually three
//! segments). All the clocks are this machine's.
//!
//! **What viewers cost.** Janus's CPU with the watch page alone and then with
//! [`AIORTC_VIEWERS`] more WHEP viewers (aiortc, decoding), and the RTMP/HLS encoder's CPU.

use crate::bench_sfu::{clock_ticks, cpu_ticks};
use crate::live::{link, pick_stage};
use crate::rtmp::ffmpeg_pids;
use crate::{room_url, whep_viewers, Browser, BrowserKind, Error, Janus, Relay, Result};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncReadExt;

/// The stamped camera: its size, frame rate and length (it loops; numbers are unique within
/// a loop).
const STAMP_WIDTH: usize = 320;
const STAMP_HEIGHT: usize = 180;
const STAMP_FPS: usize = 10;
const STAMP_FRAMES: usize = 600;
/// The blocks of a stamp: 5 columns by 4 rows; the first ten carry the bits of the number,
/// the last ten their complements.
const COLUMNS: usize = 5;
const ROWS: usize = 4;
const BITS: usize = 10;
/// The size every reader scales a frame to before it reads the blocks' centres.
const READ_WIDTH: usize = 50;
const READ_HEIGHT: usize = 40;
/// Time for media to start on a loaded machine.
const MEDIA_WAIT: Duration = Duration::from_secs(90);
/// How long the pages read stamps, and how long ffmpeg reads HLS.
const WEBRTC_SECONDS: u64 = 15;
const HLS_SECONDS: u64 = 24;
/// How long CPU is measured, after how long a warm-up.
const CPU_SECONDS: u64 = 10;
const CPU_WARMUP: Duration = Duration::from_secs(8);
/// Non-browser viewers added for Janus's CPU per viewer.
pub const AIORTC_VIEWERS: usize = 20;

/// The page script that reads the stamp of every frame `arguments[0]` draws into
/// `window.__meshmeetStamps` as `[number, wall-clock ms]`, once per number.
const READ_STAMPS: &str = r#"
    const [selector, columns, rows, bits, width, height] = arguments;
    const v = document.querySelector(selector);
    if (!v || !v.requestVideoFrameCallback) return false;
    if (window.__meshmeetStamps) return true;
    const log = window.__meshmeetStamps = [];
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const g = canvas.getContext('2d', { willReadFrequently: true });
    const [cw, ch] = [width / columns, height / rows];
    let last = -1;
    const tick = now => {
        try {
            g.drawImage(v, 0, 0, width, height);
            const px = g.getImageData(0, 0, width, height).data;
            const bit = i => {
                const x = Math.floor((i % columns) * cw + cw / 2);
                const y = Math.floor(Math.floor(i / columns) * ch + ch / 2);
                return px[(y * width + x) * 4] > 128 ? 1 : 0;
            };
            let code = 0, ok = true;
            for (let i = 0; i < bits; i++) {
                const b = bit(i);
                if (b === bit(i + bits)) ok = false;
                code |= b << i;
            }
            if (ok && code !== last) {
                log.push([code, performance.timeOrigin + now]);
                last = code;
            }
        } catch (e) {}
        if (log.length < 20000) v.requestVideoFrameCallback(tick);
    };
    v.requestVideoFrameCallback(tick);
    return true;
"#;

/// One observation: the stamp's number and when it was seen (ms since the Unix epoch).
pub type Seen = (u32, f64);

/// The luma of block `index` of frame `number`: white for a one, black for a zero.
fn block_is_white(number: usize, index: usize) -> bool {
    if index < BITS {
        number >> index & 1 == 1
    } else {
        number >> (index - BITS) & 1 == 0
    }
}

/// The luma plane of frame `number`'s stamp drawn `width` x `height`.
fn stamp_luma(number: usize, width: usize, height: usize) -> Vec<u8> {
    let mut luma = vec![0u8; width * height];
    for y in 0..height {
        for x in 0..width {
            let index = y * ROWS / height * COLUMNS + x * COLUMNS / width;
            luma[y * width + x] = if block_is_white(number, index) {
                235
            } else {
                16
            };
        }
    }
    luma
}

/// Writes the stamped camera as a YUV4MPEG2 file Chromium can play as its fake camera.
pub fn write_stamped_camera(path: &Path) -> Result {
    use std::io::Write;
    let file = std::fs::File::create(path)
        .map_err(|e| Error::new(format!("creating {}: {e}", path.display())))?;
    let mut out = std::io::BufWriter::new(file);
    let chroma = vec![128u8; STAMP_WIDTH * STAMP_HEIGHT / 2];
    let write = |out: &mut std::io::BufWriter<std::fs::File>, bytes: &[u8]| {
        out.write_all(bytes)
            .map_err(|e| Error::new(format!("writing {}: {e}", path.display())))
    };
    write(
        &mut out,
        format!("YUV4MPEG2 W{STAMP_WIDTH} H{STAMP_HEIGHT} F{STAMP_FPS}:1 Ip A1:1 C420jpeg\n")
            .as_bytes(),
    )?;
    for number in 0..STAMP_FRAMES {
        write(&mut out, b"FRAME\n")?;
        write(&mut out, &stamp_luma(number, STAMP_WIDTH, STAMP_HEIGHT))?;
        write(&mut out, &chroma)?;
    }
    out.flush()
        .map_err(|e| Error::new(format!("writing {}: {e}", path.display())))
}

/// The number a `READ_WIDTH` x `READ_HEIGHT` grey frame shows, if it reads as a stamp.
pub fn read_stamp(grey: &[u8]) -> Option<u32> {
    if grey.len() != READ_WIDTH * READ_HEIGHT {
        return None;
    }
    let (cw, ch) = (READ_WIDTH / COLUMNS, READ_HEIGHT / ROWS);
    let bit = |i: usize| {
        let (x, y) = ((i % COLUMNS) * cw + cw / 2, (i / COLUMNS) * ch + ch / 2);
        grey[y * READ_WIDTH + x] > 128
    };
    let mut number = 0u32;
    for i in 0..BITS {
        if bit(i) == bit(i + BITS) {
            return None;
        }
        number |= u32::from(bit(i)) << i;
    }
    Some(number)
}

/// How long after the reference each of `seen` was seen, in ms: each observation is matched
/// with the reference's latest sighting of the same number before it (numbers repeat only
/// once a loop of the camera, a minute).
pub fn delays(reference: &[Seen], seen: &[Seen]) -> Vec<f64> {
    let horizon = (STAMP_FRAMES / STAMP_FPS) as f64 * 1000.0 / 2.0;
    seen.iter()
        .filter_map(|&(number, at)| {
            reference
                .iter()
                .filter(|&&(n, t)| n == number && t <= at && at - t < horizon)
                .map(|&(_, t)| at - t)
                .reduce(f64::min)
        })
        .collect()
}

/// The median and the 90th percentile of `values` (`None` when empty).
pub fn median_and_p90(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    Some((at(0.5), at(0.9)))
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Starts reading stamps from the video `selector` on `page`.
async fn read_stamps(page: &Browser, selector: &str) -> Result {
    let args = vec![
        json!(selector),
        json!(COLUMNS),
        json!(ROWS),
        json!(BITS),
        json!(READ_WIDTH),
        json!(READ_HEIGHT),
    ];
    if page.eval_with(READ_STAMPS, args).await? != json!(true) {
        return Err(Error::new(format!(
            "{}: no video `{selector}` to read stamps from",
            page.label()
        )));
    }
    Ok(())
}

/// The stamps `page` has read so far.
async fn stamps_of(page: &Browser) -> Result<Vec<Seen>> {
    let value = page
        .eval_read("return window.__meshmeetStamps ?? []")
        .await?;
    Ok(serde_json::from_value(value)?)
}

/// Reads the stamps of the HLS playlist at `url` for `seconds` with ffmpeg (from the
/// newest segment on), each with when ffmpeg handed its frame over.
async fn hls_stamps(url: &str, seconds: u64) -> Result<Vec<Seen>> {
    let scale = format!("scale={READ_WIDTH}:{READ_HEIGHT},format=gray");
    let mut child = tokio::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-live_start_index",
            "-1",
        ])
        .args(["-i", url, "-an", "-vf", &scale, "-f", "rawvideo", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::new(format!("starting ffmpeg to read HLS: {e}")))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::new("ffmpeg has no stdout"))?;
    let mut seen = Vec::new();
    let mut frame = vec![0u8; READ_WIDTH * READ_HEIGHT];
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while let Ok(read) =
        tokio::time::timeout_at(deadline.into(), stdout.read_exact(&mut frame)).await
    {
        if read.is_err() {
            break;
        }
        if let Some(number) = read_stamp(&frame) {
            if seen.last().is_none_or(|&(last, _)| last != number) {
                seen.push((number, now_ms()));
            }
        }
    }
    let _ = child.kill().await;
    Ok(seen)
}

/// The CPU `pid` uses over `seconds`, in percent of one core.
async fn cpu_percent(pid: Option<u32>, seconds: u64) -> Option<f64> {
    let before = cpu_ticks(pid?)?;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let after = cpu_ticks(pid?)?;
    Some(
        after.saturating_sub(before) as f64 / clock_ticks() / started.elapsed().as_secs_f64()
            * 100.0,
    )
}

/// A delay figure for the report.
fn delay_json(values: &[f64]) -> Json {
    match median_and_p90(values) {
        Some((median, p90)) => json!({
            "median_ms": median.round(),
            "p90_ms": p90.round(),
            "frames": values.len(),
        }),
        None => json!({ "error": "no frame matched the stage's own" }),
    }
}

/// Runs the benchmark: Janus and a relay of its own, three Chromium pages (the host, the
/// stage with the stamped camera, the watch page), ffmpeg and aiortc viewers.
pub async fn run() -> Result<Json> {
    let camera: PathBuf = std::env::temp_dir().join("meshmeet-bench-live-stamps.y4m");
    write_stamped_camera(&camera)?;
    let janus = Janus::start().await?;
    let url = janus.url();
    let relay =
        Relay::start(&["--janus-url", &url, "--janus-admin-key", janus.admin_key()]).await?;
    let camera_arg = format!("--use-file-for-fake-video-capture={}", camera.display());
    let host = Browser::launch(BrowserKind::Chromium, Some(relay.url())).await?;
    let stage =
        Browser::launch_with_args(BrowserKind::Chromium, Some(relay.url()), &[&camera_arg]).await?;
    for (page, name) in [(&host, "Ana"), (&stage, "Ben")] {
        page.ready_to_join(&room_url("bench-live"), name).await?;
        page.join_from_lobby().await?;
    }
    host.click("[data-testid=participants-toggle]").await?;
    host.wait_for("[data-testid=live-toggle]", MEDIA_WAIT)
        .await?;
    pick_stage(&host, "Ben").await?;
    host.click("[data-testid=live-hls]").await?;
    host.click("[data-testid=live-toggle]").await?;
    host.wait_for("[data-testid=tile-grid][data-topology=sfu]", MEDIA_WAIT)
        .await?;
    let ben_tile = "[data-testid=peer-tile][data-peer-name=\"Ben\"] video";
    host.wait_until_video_decodes(ben_tile, MEDIA_WAIT).await?;
    let watch_link = link(&host, "watch-link").await?;
    let hls_link = link(&host, "hls-link").await?;
    let watcher = Browser::launch(BrowserKind::Chromium, Some(relay.url())).await?;
    watcher.goto(&watch_link).await?;
    watcher
        .wait_until_video_decodes("[data-testid=live-video]", MEDIA_WAIT)
        .await?;
    eprintln!("[bench] live: the watch page plays; reading stamps for {WEBRTC_SECONDS} s");

    read_stamps(&stage, "[data-testid=local-tile] video").await?;
    read_stamps(&host, ben_tile).await?;
    read_stamps(&watcher, "[data-testid=live-video]").await?;
    tokio::time::sleep(Duration::from_secs(WEBRTC_SECONDS)).await;
    let meeting = stamps_of(&host).await?;
    let watch = stamps_of(&watcher).await?;
    eprintln!("[bench] live: reading HLS for {HLS_SECONDS} s");
    let hls = hls_stamps(&hls_link, HLS_SECONDS).await?;
    let reference = stamps_of(&stage).await?;
    let meeting_ms = delays(&reference, &meeting);
    let watch_ms = delays(&reference, &watch);
    let hls_ms = delays(&reference, &hls);

    // What the audience costs: the watch page alone, then with the aiortc viewers.
    let encoder = ffmpeg_pids().first().copied();
    let janus_pid = janus.pid();
    let (janus_one, encoder_cpu) = tokio::join!(
        cpu_percent(janus_pid, CPU_SECONDS),
        cpu_percent(encoder, CPU_SECONDS)
    );
    eprintln!("[bench] live: adding {AIORTC_VIEWERS} aiortc WHEP viewers");
    let (origin, token) = watch_link
        .split_once("/live/")
        .zip(watch_link.split_once("?t="))
        .map(|((origin, _), (_, token))| (origin.to_owned(), token.to_owned()))
        .ok_or_else(|| Error::new(format!("not a watch link: {watch_link}")))?;
    let endpoint = format!("{origin}/whep/bench-live");
    let hold = CPU_WARMUP + Duration::from_secs(CPU_SECONDS + 4);
    let viewers = whep_viewers::watch(&endpoint, &token, AIORTC_VIEWERS, u32::MAX, hold);
    let measured = async {
        tokio::time::sleep(CPU_WARMUP).await;
        cpu_percent(janus_pid, CPU_SECONDS).await
    };
    let (reports, janus_many) = tokio::join!(viewers, measured);
    let reports = reports?;
    let watching = reports.iter().filter(|r| r.video_frames > 0).count();
    let per_viewer = janus_one
        .zip(janus_many)
        .map(|(one, many)| (many - one).max(0.0) / AIORTC_VIEWERS as f64);
    let ratio = |values: &[f64]| {
        median_and_p90(values)
            .zip(median_and_p90(&meeting_ms))
            .map(|((a, _), (b, _))| if b > 0.0 { a / b } else { f64::NAN })
    };
    let report = json!({
        "camera": format!("a {STAMP_WIDTH}x{STAMP_HEIGHT} file at {STAMP_FPS} fps, stamped with frame numbers; pages at ?video=low"),
        "meeting_through_sfu": delay_json(&meeting_ms),
        "watch_page_webrtc": delay_json(&watch_ms),
        "hls_segment_available": delay_json(&hls_ms),
        "watch_page_over_meeting": ratio(&watch_ms),
        "watch_page_minus_meeting_ms": median_and_p90(&watch_ms)
            .zip(median_and_p90(&meeting_ms))
            .map(|((a, _), (b, _))| (a - b).round()),
        "hls_over_meeting": ratio(&hls_ms),
        "janus_cpu_percent_one_viewer": janus_one,
        "janus_cpu_percent_with_aiortc": janus_many,
        "aiortc_viewers": AIORTC_VIEWERS,
        "aiortc_viewers_receiving": watching,
        "janus_cpu_percent_per_viewer": per_viewer,
        "viewers_per_core_estimate": per_viewer.filter(|p| *p > 0.0).map(|p| (100.0 / p).floor()),
        "encoder_cpu_percent": encoder_cpu,
    });
    for page in [watcher, stage, host] {
        let _ = page.close().await;
    }
    let _ = std::fs::remove_file(&camera);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_of_the_loop_reads_back_and_a_flat_frame_reads_as_none() {
        for number in 0..STAMP_FRAMES {
            let scaled = stamp_luma(number, READ_WIDTH, READ_HEIGHT);
            assert_eq!(read_stamp(&scaled), Some(number as u32));
        }
        assert_eq!(read_stamp(&vec![16u8; READ_WIDTH * READ_HEIGHT]), None);
        assert_eq!(read_stamp(&vec![235u8; READ_WIDTH * READ_HEIGHT]), None);
        assert_eq!(read_stamp(&[0u8; 3]), None);
    }

    #[test]
    fn a_delay_is_measured_from_the_latest_earlier_sighting_of_the_same_number() {
        let reference = [(7, 1_000.0), (8, 1_100.0), (7, 61_000.0)];
        // 7 seen at 1,250: 250 ms after the first sighting, not matched with the later one.
        // 9 was never seen by the reference; 8 seen before the reference saw it: dropped.
        let seen = [(7, 1_250.0), (9, 1_300.0), (8, 1_050.0), (7, 61_400.0)];
        assert_eq!(delays(&reference, &seen), vec![250.0, 400.0]);
    }

    #[test]
    fn the_median_and_p90_of_ten_values() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_and_p90(&values), Some((6.0, 9.0)));
        assert_eq!(median_and_p90(&[]), None);
    }
}
