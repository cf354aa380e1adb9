//! A real RTMP server for the live tests, nginx with its RTMP module on a free loopback port
//! (application `live`, recording every stream it receives to a file so a test can see it
//! grow), and `ffprobe`, which says what a stream or playlist holds. Dropping the server
//! kills it.

use crate::process::{free_port, wait_until_listening, ProcessGuard, TempDir};
use crate::turn::which;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// How long nginx may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Debian's RTMP module for nginx (`libnginx-mod-rtmp`).
const RTMP_MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";
/// Longest one ffprobe may run (it reads a few seconds of a live stream).
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// A running nginx-rtmp; dropping it kills it.
#[derive(Debug)]
pub struct RtmpServer {
    port: u16,
    dir: TempDir,
    _process: ProcessGuard,
}

impl RtmpServer {
    /// Starts nginx-rtmp on a free port of 127.0.0.1.
    pub async fn start() -> Result<RtmpServer> {
        let missing = "nginx with its RTMP module is not installed: run `cargo xtask test` \
                       once as root, or `sudo apt-get install nginx-light libnginx-mod-rtmp`";
        let bin = which("nginx")
            .or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.is_file()))
            .ok_or_else(|| Error::new(missing))?;
        if !Path::new(RTMP_MODULE).is_file() {
            return Err(Error::new(missing));
        }
        let port = free_port()?;
        let dir = TempDir::new("nginx-rtmp")?;
        let root = dir.path();
        std::fs::create_dir_all(root.join("logs"))?;
        std::fs::create_dir_all(root.join("rec"))?;
        let config = format!(
            "load_module {RTMP_MODULE};\n\
             daemon off;\nmaster_process off;\n\
             pid {root}/nginx.pid;\nerror_log {root}/logs/error.log info;\n\
             events {{ worker_connections 64; }}\n\
             rtmp {{ server {{ listen 127.0.0.1:{port}; chunk_size 4096;\n\
               application live {{ live on; record all; record_path {root}/rec; record_unique off; }}\n\
             }} }}\n",
            root = root.display()
        );
        std::fs::write(root.join("nginx.conf"), config)?;
        let log_file = std::fs::File::create(root.join("logs/stderr.log"))?;
        let child = tokio::process::Command::new(&bin)
            // -e: the error log before the configuration is read (Debian's default is a
            // system path).
            .arg("-e")
            .arg(root.join("logs/early.log"))
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::new(format!("could not start {}: {e}", bin.display())))?;
        let mut process = ProcessGuard::new(format!("nginx-rtmp on port {port}"), child);
        let log = root.join("logs/stderr.log");
        wait_until_listening(&mut process, port, START_TIMEOUT, || {
            std::fs::read_to_string(&log).unwrap_or_default()
        })
        .await?;
        Ok(RtmpServer {
            port,
            dir,
            _process: process,
        })
    }

    /// The RTMP address of stream `key` in application `live`.
    pub fn url(&self, key: &str) -> String {
        format!("rtmp://127.0.0.1:{}/live/{key}", self.port)
    }

    /// The file nginx records stream `key` into while it arrives.
    pub fn recording(&self, key: &str) -> PathBuf {
        self.dir.path().join("rec").join(format!("{key}.flv"))
    }
}

/// What ffprobe found in a stream, a file or a playlist.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Probe {
    /// Codec names of the streams (`h264`, `aac`…).
    pub codecs: Vec<String>,
    /// The video's frame size, if there is video.
    pub size: Option<(u32, u32)>,
    /// The last video packet's time, in seconds, if asked for.
    pub last_video_time: Option<f64>,
}

impl Probe {
    /// Whether it holds H.264 video and AAC audio.
    pub fn is_h264_and_aac(&self) -> bool {
        self.codecs.iter().any(|c| c == "h264") && self.codecs.iter().any(|c| c == "aac")
    }
}

/// Runs ffprobe on `input` (an URL or a file): the streams' codecs and the video's size,
/// and with `packets` the time of the last video packet.
pub async fn ffprobe(input: &str, packets: bool) -> Result<Probe> {
    let bin = which("ffprobe").ok_or_else(|| {
        Error::new(
            "ffprobe is not installed: `sudo apt-get install --no-install-recommends ffmpeg`",
        )
    })?;
    let mut command = tokio::process::Command::new(bin);
    command.args(["-v", "error", "-rw_timeout", "10000000", "-of", "json"]);
    if packets {
        command.args([
            "-select_streams",
            "v",
            "-show_entries",
            "stream=codec_name,width,height:packet=pts_time",
        ]);
    } else {
        command.args(["-show_entries", "stream=codec_name,width,height"]);
    }
    command.arg(input).stdin(Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(PROBE_TIMEOUT, command.output())
        .await
        .map_err(|_| Error::new(format!("ffprobe {input} took over {PROBE_TIMEOUT:?}")))??;
    if !output.status.success() {
        return Err(Error::new(format!(
            "ffprobe {input}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let streams = json["streams"].as_array().cloned().unwrap_or_default();
    let codecs = streams
        .iter()
        .filter_map(|s| s["codec_name"].as_str().map(str::to_owned))
        .collect();
    let size = streams.iter().find_map(|s| {
        let w = s["width"].as_u64()?;
        let h = s["height"].as_u64()?;
        Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?))
    });
    let last_video_time = json["packets"].as_array().and_then(|packets| {
        packets
            .iter()
            .filter_map(|p| p["pts_time"].as_str()?.parse::<f64>().ok())
            .reduce(f64::max)
    });
    Ok(Probe {
        codecs,
        size,
        last_video_time,
    })
}

/// The pids of running `ffmpeg` processes (not ffprobe, not exited ones waiting to be
/// reaped): to check that a live left none.
pub fn ffmpeg_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // The state follows the parenthesised name: `Z` is exited.
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            (comm.trim() == "ffmpeg" && state != 'Z').then_some(pid)
        })
        .collect()
}

/// Columns and rows of the small grey picture [`grab_grey`] makes of a stream's frame.
pub const GRAB_SIZE: (usize, usize) = (64, 36);

/// One frame of `input`'s video (an URL or a file), scaled down to [`GRAB_SIZE`] in 8-bit
/// grey, row by row.
pub async fn grab_grey(input: &str) -> Result<Vec<u8>> {
    let bin = which("ffmpeg").ok_or_else(|| {
        Error::new("ffmpeg is not installed: `sudo apt-get install --no-install-recommends ffmpeg`")
    })?;
    let scale = format!("scale={}:{},format=gray", GRAB_SIZE.0, GRAB_SIZE.1);
    let mut command = tokio::process::Command::new(bin);
    command
        .args(["-v", "error", "-rw_timeout", "10000000", "-i", input])
        .args(["-frames:v", "1", "-vf", &scale, "-f", "rawvideo", "-"])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(PROBE_TIMEOUT, command.output())
        .await
        .map_err(|_| {
            Error::new(format!(
                "grabbing a frame of {input} took over {PROBE_TIMEOUT:?}"
            ))
        })??;
    if !output.status.success() || output.stdout.len() != GRAB_SIZE.0 * GRAB_SIZE.1 {
        return Err(Error::new(format!(
            "grabbing a frame of {input}: {} bytes; {}",
            output.stdout.len(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output.stdout)
}

/// Whether a frame grabbed by [`grab_grey`] shows two 16:9 pictures side by side in the
/// live encoder's 16:9 frame: each half holds a picture in its middle, with black above and
/// below (a single 16:9 picture fills the frame instead).
pub fn shows_two_side_by_side(grey: &[u8]) -> bool {
    let (w, _) = GRAB_SIZE;
    let region = |rows: std::ops::Range<usize>, cols: std::ops::Range<usize>| {
        let values: Vec<f64> = rows
            .flat_map(|r| cols.clone().map(move |c| (r, c)))
            .filter_map(|(r, c)| grey.get(r * w + c).map(|v| f64::from(*v)))
            .collect();
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        let spread = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
            / values.len().max(1) as f64)
            .sqrt();
        (mean, spread)
    };
    let black = |(mean, spread): (f64, f64)| mean < 30.0 && spread < 8.0;
    let picture = |(mean, spread): (f64, f64)| mean >= 30.0 || spread >= 8.0;
    // 36 rows: the two pictures take rows 9 to 27; the bands keep clear of their edges.
    black(region(0..7, 0..w))
        && black(region(29..36, 0..w))
        && picture(region(11..25, 2..30))
        && picture(region(11..25, 34..62))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(fill: impl Fn(usize, usize) -> u8) -> Vec<u8> {
        let (w, h) = GRAB_SIZE;
        (0..h)
            .flat_map(|r| (0..w).map(move |c| (r, c)))
            .map(|(r, c)| fill(r, c))
            .collect()
    }

    #[test]
    fn two_pictures_side_by_side_are_told_from_one_and_from_one_half_empty() {
        let two = frame(|r, _| if (9..27).contains(&r) { 120 } else { 16 });
        assert!(shows_two_side_by_side(&two));
        let one = frame(|_, _| 120);
        assert!(!shows_two_side_by_side(&one));
        let half = frame(|r, c| {
            if (9..27).contains(&r) && c < 32 {
                120
            } else {
                16
            }
        });
        assert!(!shows_two_side_by_side(&half));
    }
}
