//! RTSP cameras in: the host adds a camera by its `rtsp://` address (`add_camera`). The
//! relay joins it to the meeting as a participant under the name given, adds a remote
//! publisher for it to the room's Janus room (plain RTP on loopback), and runs an `ffmpeg`
//! that pulls the camera and sends its picture there as VP8 (what every browser decodes;
//! a camera's own H.264 is often a profile some cannot). Everyone gets it as a tile, and
//! the host can put it on the stage or remove it. ffmpeg that exits is started again (1 s,
//! doubling to 30 s) while the camera is in the meeting.

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use meshmeet_protocol::{LeaveReason, MediaState, RoomName};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::member::DeviceMember;
use super::IngestError;
use crate::janus::{remote_ssrc, JanusClient, JanusRoom, RemotePublisher};
use crate::registry::{random_hex_128, RoomRegistry};
use crate::AppState;

/// Cameras one relay pulls at once (each is an ffmpeg decoding and encoding video).
pub const MAX_CAMERAS: usize = 16;
/// The longest camera address taken.
pub const MAX_URL_BYTES: usize = 1024;
/// How long a camera may take to deliver its first frame before it is reported as not
/// answering.
const FIRST_FRAME_WAIT: Duration = Duration::from_secs(20);
/// The longest wait before ffmpeg is started again.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Cameras this relay pulls now.
#[derive(Debug, Default)]
pub struct Cameras {
    running: AtomicUsize,
}

/// Checks a camera address: `rtsp://` or `rtsps://` with a host, at most
/// [`MAX_URL_BYTES`], no spaces or control characters (it becomes one argument of ffmpeg,
/// never a shell's).
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("rtsp://")
        .or_else(|| url.strip_prefix("rtsps://"))
        .ok_or_else(|| "a camera address starts with rtsp:// or rtsps://".to_owned())?;
    if url.len() > MAX_URL_BYTES {
        return Err(format!("a camera address is at most {MAX_URL_BYTES} bytes"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a camera address has no spaces or control characters".to_owned());
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err("a camera address names a host".to_owned());
    }
    Ok(())
}

/// `url` with the password of its user information masked, for messages and logs.
pub fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = userinfo.split(':').next().unwrap_or_default();
    let tail = if path.is_empty() && !rest.contains('/') {
        String::new()
    } else {
        format!("/{path}")
    };
    format!("{scheme}://{user}:****@{host}{tail}")
}

/// Adds the camera at `url` (checked by [`check_url`]) to `room` as `name`: returns once its first frame reached the
/// media server, or with why not (the camera did not answer, the meeting is not on the
/// SFU, …). The camera then runs on its own until the meeting is done with it.
pub async fn add<R: RoomRegistry>(
    state: &Arc<AppState<R>>,
    room: &RoomName,
    name: &str,
    url: &str,
) -> Result<(), IngestError> {
    let cameras = &state.ingest.cameras;
    if cameras.running.fetch_add(1, Ordering::AcqRel) >= MAX_CAMERAS {
        cameras.running.fetch_sub(1, Ordering::AcqRel);
        return Err(IngestError::Full);
    }
    let result = start(state, room, name, url).await;
    if result.is_err() {
        cameras.running.fetch_sub(1, Ordering::AcqRel);
    }
    result
}

async fn start<R: RoomRegistry>(
    state: &Arc<AppState<R>>,
    room: &RoomName,
    name: &str,
    url: &str,
) -> Result<(), IngestError> {
    let media = MediaState {
        mic: false,
        camera: true,
        screen: false,
    };
    let identity = format!(
        "camera:{}",
        random_hex_128().map_err(IngestError::from_relay)?
    );
    let device = DeviceMember::join(state, room, name, &identity, media).await?;
    let placed = match device.place(state).await {
        Ok(placed) => placed,
        Err(err) => {
            device.leave(state, LeaveReason::Left).await;
            return Err(err);
        }
    };
    let (janus, janus_room) = (placed.client, placed.placement.room);
    let remote = match janus
        .add_remote_publisher(&janus_room, device.member.peer_id().as_str())
        .await
    {
        Ok(remote) => remote,
        Err(err) => {
            device.leave(state, LeaveReason::Left).await;
            return Err(err.into());
        }
    };
    let camera = Camera {
        ffmpeg: state.config.ffmpeg.clone(),
        url: url.to_owned(),
        port: remote.port,
    };
    let first = camera.run_until_first_frame().await;
    let ffmpeg = match first {
        Ok(ffmpeg) => ffmpeg,
        Err(why) => {
            remove(&janus, &janus_room, remote).await;
            device.leave(state, LeaveReason::Left).await;
            return Err(IngestError::CameraFailed(why));
        }
    };
    info!(%room, peer = %device.member.peer_id(), camera = %masked(url), "camera in");
    let state = Arc::clone(state);
    tokio::spawn(async move {
        let mut device = device;
        tokio::select! {
            () = camera.keep_running(ffmpeg) => {}
            done = device.done(&state) => {
                info!(peer = %device.member.peer_id(), ?done, "camera ended");
            }
        }
        // ffmpeg is killed as its child is dropped with `keep_running`.
        remove(&janus, &janus_room, remote).await;
        device.leave(&state, LeaveReason::Disconnected).await;
        state.ingest.cameras.running.fetch_sub(1, Ordering::AcqRel);
    });
    Ok(())
}

async fn remove(janus: &JanusClient, room: &JanusRoom, remote: RemotePublisher) {
    if let Err(err) = janus.remove_remote_publisher(room, remote.id).await {
        warn!(%err, "could not remove a camera's remote publisher");
    }
}

/// One camera's ffmpeg: what it pulls and where it sends.
struct Camera {
    ffmpeg: std::path::PathBuf,
    url: String,
    port: u16,
}

impl Camera {
    /// ffmpeg pulling the camera and sending VP8 RTP to the remote publisher's port, with
    /// the SSRC Janus expects of its one stream; progress on stdout, errors on stderr.
    fn spawn(&self) -> std::io::Result<Child> {
        let target = format!("rtp://127.0.0.1:{}?pkt_size=1200", self.port);
        Command::new(&self.ffmpeg)
            .args(["-nostdin", "-hide_banner", "-loglevel", "error"])
            .args(["-progress", "pipe:1", "-nostats"])
            // TCP: a camera behind NAT or a firewall still works; 10 s without an answer
            // is a failure, not a hang.
            .args(["-rtsp_transport", "tcp", "-timeout", "10000000"])
            .arg("-i")
            .arg(&self.url)
            .args(["-map", "0:v:0", "-an", "-vf", "scale=w='min(1280,iw)':h=-2"])
            .args(["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"])
            .args(["-b:v", "1M", "-g", "25", "-keyint_min", "25"])
            .args([
                "-lag-in-frames",
                "0",
                "-auto-alt-ref",
                "0",
                "-error-resilient",
                "1",
            ])
            .args(["-ssrc", &remote_ssrc(0).to_string(), "-payload_type", "96"])
            .args(["-f", "rtp"])
            .arg(target)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
    }

    /// Starts ffmpeg and waits for its first encoded frame: the running child, or why the
    /// camera gave none (its last error, the address masked).
    async fn run_until_first_frame(&self) -> Result<Child, String> {
        let mut child = self.spawn().map_err(|err| {
            format!(
                "ffmpeg could not be started ({}): {err}",
                self.ffmpeg.display()
            )
        })?;
        let (frames, mut framed) = watch::channel(0u64);
        let (last_error, errors) = watch::channel(String::new());
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(read_progress(stdout, frames));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(read_errors(stderr, self.url.clone(), last_error));
        }
        let framing = tokio::time::timeout(FIRST_FRAME_WAIT, framed.wait_for(|n| *n > 0));
        // Only whether a frame came: the borrow of the count ends here.
        let came = matches!(framing.await, Ok(Ok(_)));
        if came {
            return Ok(child);
        }
        let _ = child.kill().await;
        let why = errors.borrow().clone();
        Err(if why.is_empty() {
            format!(
                "the camera at {} sent no picture within {} s",
                masked(&self.url),
                FIRST_FRAME_WAIT.as_secs()
            )
        } else {
            format!("the camera at {} did not answer: {why}", masked(&self.url))
        })
    }

    /// Waits on ffmpeg and starts it again when it exits, backing off (1 s, doubling to
    /// [`MAX_BACKOFF`]); never returns: the caller drops it when the camera leaves, which
    /// kills ffmpeg.
    async fn keep_running(&self, mut child: Child) {
        loop {
            let status = child.wait().await;
            warn!(camera = %masked(&self.url), ?status, "camera's ffmpeg exited; starting it again");
            let mut backoff = Duration::from_secs(1);
            child = loop {
                tokio::time::sleep(backoff).await;
                match self.run_until_first_frame().await {
                    Ok(again) => break again,
                    Err(why) => {
                        warn!(%why, "camera still not answering");
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            };
        }
    }
}

/// Reads ffmpeg's `-progress` output: the frames encoded so far.
async fn read_progress(stdout: impl AsyncRead + Unpin, frames: watch::Sender<u64>) {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(n) = line
            .strip_prefix("frame=")
            .and_then(|n| n.trim().parse().ok())
        {
            frames.send_replace(n);
        }
    }
}

/// Reads ffmpeg's errors into the log and keeps the last (the address masked).
async fn read_errors(stderr: impl AsyncRead + Unpin, url: String, last: watch::Sender<String>) {
    let mut lines = BufReader::new(stderr).lines();
    let shown = masked(&url);
    while let Ok(Some(line)) = lines.next_line().await {
        let line = line.replace(&url, &shown);
        debug!(camera = %shown, "ffmpeg: {line}");
        last.send_replace(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_addresses_are_rtsp_with_a_host_and_nothing_to_smuggle() {
        for good in [
            "rtsp://10.0.0.7:554/stream1",
            "rtsps://cam.example.org/live",
            "rtsp://admin:s3cret@192.168.1.20/h264",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        for bad in [
            "http://cam/x",
            "rtsp://",
            "rtsp:///path",
            "rtsp://user@/x",
            "rtsp://cam/a b",
            "rtsp://cam/a\nb",
            "file:///etc/passwd",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert!(check_url(&format!("rtsp://cam/{}", "a".repeat(MAX_URL_BYTES))).is_err());
    }

    #[test]
    fn a_camera_s_password_never_shows() {
        assert_eq!(
            masked("rtsp://admin:s3cret@192.168.1.20/h264"),
            "rtsp://admin:****@192.168.1.20/h264"
        );
        assert_eq!(masked("rtsp://cam:554/live"), "rtsp://cam:554/live");
        assert_eq!(masked("rtsp://u:p@cam"), "rtsp://u:****@cam");
    }
}
