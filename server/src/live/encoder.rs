//! RTMP and HLS out: the stage encoded once on the relay's machine by one `ffmpeg` per live.
//! Janus forwards the stage's RTP to loopback ports ffmpeg reads (an SDP file says what
//! arrives where), ffmpeg encodes H.264 and AAC once and writes them, with its `tee`
//! muxer, to every RTMP address and to an HLS playlist the relay serves. A `tee` output
//! that fails (an RTMP address that refuses) is dropped without stopping the others; ffmpeg
//! exiting is retried with backoff. Stream keys never appear whole in the relay's log.

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meshmeet_protocol::{mask_rtmp_url, LiveOutputs};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::bridge::StageVideo;

/// Payload type of the stage's Opus as forwarded to ffmpeg.
pub const AUDIO_PT: u8 = 111;
/// Payload type of the stage's video as forwarded to ffmpeg.
pub const VIDEO_PT: u8 = 96;
/// The picture every output gets: platforms expect one fixed size, and the stage's own
/// changes with its camera and the network.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const FPS: u32 = 25;
/// HLS segment length, in seconds (a key frame starts each).
const HLS_SEGMENT_SECS: u32 = 2;
/// The playlist's window: the segments older than it are deleted.
const HLS_LIST_SIZE: u32 = 6;
/// How long ffmpeg gets to finish its outputs after `q` before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// The first wait before ffmpeg is started again, doubled at each quick failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run this long resets the backoff: it was a failure, not a broken setup.
const STEADY_RUN: Duration = Duration::from_secs(30);
/// ffmpeg's last lines kept for the log when it exits.
const KEPT_LINES: usize = 12;
/// The playlist's file name.
pub const PLAYLIST: &str = "index.m3u8";

/// Where the relay finds ffmpeg and writes HLS.
#[derive(Clone, Debug)]
pub struct EncoderSettings {
    /// The ffmpeg program.
    pub ffmpeg: PathBuf,
    /// Each live's HLS goes in a new directory under this one.
    pub dir: PathBuf,
}

/// Loopback ports ffmpeg reads the stage's RTP on; RTCP is on the next port of each (key
/// frame requests go back to Janus's forwarder from there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncoderPorts {
    /// Opus, payload type [`AUDIO_PT`].
    pub audio: u16,
    /// Video, payload type [`VIDEO_PT`].
    pub video: u16,
}

/// Why an encoder could not start.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    /// No free pair of loopback UDP ports.
    #[error("no free loopback UDP ports for the encoder: {0}")]
    Ports(io::Error),
    /// Its directory or SDP file could not be written.
    #[error("could not prepare the encoder's files in {dir}: {source}")]
    Files {
        /// The directory.
        dir: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

/// One live's running ffmpeg (restarted when it exits). [`Encoder::stop`] lets ffmpeg
/// finish its outputs; dropping it stops ffmpeg too, without waiting.
#[derive(Debug)]
pub struct Encoder {
    ports: EncoderPorts,
    hls: bool,
    stop: watch::Sender<bool>,
    ready: watch::Receiver<u32>,
    task: Option<JoinHandle<()>>,
}

impl Encoder {
    /// Starts ffmpeg for a stage sending `video`, writing to `outputs` (not empty), with its
    /// files in `dir` (the live's, private, made by [`live_dir`]); `runs` numbers ffmpeg's
    /// runs across the live's encoders, so HLS segments never share a name.
    pub fn start(
        settings: &EncoderSettings,
        dir: &Path,
        runs: Arc<AtomicU32>,
        video: StageVideo,
        sound: StageSound,
        outputs: &LiveOutputs,
    ) -> Result<Encoder, EncoderError> {
        let audio = free_port_pair(None).map_err(EncoderError::Ports)?;
        let ports = EncoderPorts {
            audio,
            video: free_port_pair(Some(audio)).map_err(EncoderError::Ports)?,
        };
        let files = |source| EncoderError::Files {
            dir: dir.to_path_buf(),
            source,
        };
        let sdp = dir.join(format!("stage-{}.sdp", ports.video));
        std::fs::write(&sdp, stage_sdp(ports, video, sound)).map_err(files)?;
        let (stop, stopped) = watch::channel(false);
        let (ready_tx, ready) = watch::channel(0);
        let run = Run {
            ffmpeg: settings.ffmpeg.clone(),
            sdp,
            dir: dir.to_path_buf(),
            outputs: outputs.clone(),
            sound,
            ports,
            runs,
            ready: ready_tx,
        };
        let task = tokio::spawn(supervise(run, stopped));
        Ok(Encoder {
            ports,
            hls: outputs.hls,
            stop,
            ready,
            task: Some(task),
        })
    }

    /// Where Janus forwards the stage.
    pub fn ports(&self) -> EncoderPorts {
        self.ports
    }

    /// Whether it writes HLS.
    pub fn writes_hls(&self) -> bool {
        self.hls
    }

    /// The number of ffmpeg's run that listens on the ports now (0 before the first). A
    /// forward made before that run listened is made again: Janus tells the receiver where
    /// to send key frame requests only when a forward starts.
    pub fn ready_run(&self) -> u32 {
        *self.ready.borrow()
    }

    /// Stops ffmpeg, letting it finish its outputs, and waits for it to be gone (so a new
    /// encoder never publishes to an RTMP address the old one still holds).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(STOP_GRACE + Duration::from_secs(2), task).await;
        }
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // The supervisor stops ffmpeg (it also stops when this is never seen: the sender
        // is gone).
        let _ = self.stop.send(true);
    }
}

/// A new private directory (mode 0700) for one live's files under `settings.dir`, which is
/// made private if missing and refused if it is not a directory of this user's that only
/// it can write: nobody else may swap a playlist for a link to another file.
pub fn live_dir(settings: &EncoderSettings, name: &str) -> Result<PathBuf, EncoderError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let base = &settings.dir;
    let files = |source| EncoderError::Files {
        dir: base.clone(),
        source,
    };
    match std::fs::DirBuilder::new().mode(0o700).create(base) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(files(err)),
    }
    let meta = std::fs::symlink_metadata(base).map_err(files)?;
    let me = std::fs::metadata("/proc/self").map_err(files)?.uid();
    if !meta.is_dir() || meta.uid() != me || meta.permissions().mode() & 0o022 != 0 {
        return Err(files(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "not a directory of the relay's user that only it can write (see --live-dir)",
        )));
    }
    let dir = base.join(name);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(files)?;
    Ok(dir)
}

/// Whether `program` can be started: a path to a file, or a name found in `PATH`.
pub fn program_available(program: &Path) -> bool {
    if program.components().count() > 1 {
        return program.is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// What one encoder runs.
struct Run {
    ffmpeg: PathBuf,
    sdp: PathBuf,
    dir: PathBuf,
    outputs: LiveOutputs,
    sound: StageSound,
    ports: EncoderPorts,
    runs: Arc<AtomicU32>,
    ready: watch::Sender<u32>,
}

/// Runs ffmpeg until told to stop, starting it again (with backoff) whenever it exits.
async fn supervise(run: Run, mut stopped: watch::Receiver<bool>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let number = run.runs.fetch_add(1, Ordering::Relaxed) + 1;
        let args = ffmpeg_args(&run.sdp, &run.dir, &run.outputs, run.sound, number);
        let started = Instant::now();
        let mut child = match spawn(&run.ffmpeg, &args) {
            Ok(child) => child,
            Err(err) => {
                warn!(%err, ffmpeg = %run.ffmpeg.display(), "could not start ffmpeg for a live");
                if wait_or_stop(&mut stopped, backoff).await {
                    break;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        info!(outputs = %describe(&run.outputs), run = number, "live encoder started");
        let lines = child.stderr.take().map(|stderr| {
            let secrets = run.outputs.rtmp.clone();
            tokio::spawn(keep_lines(stderr, secrets))
        });
        let exited = tokio::select! {
            status = wait_announcing(&mut child, run.ports, number, &run.ready) => Some(status),
            _ = stopped.changed() => None,
        };
        let Some(status) = exited else {
            finish(&mut child).await;
            break;
        };
        let tail = match lines {
            Some(task) => task.await.unwrap_or_default(),
            None => Vec::new(),
        };
        warn!(
            status = %status.map_or_else(|e| e.to_string(), |s| s.to_string()),
            last = %tail.join(" | "),
            "the live encoder exited; starting it again"
        );
        if started.elapsed() >= STEADY_RUN {
            backoff = FIRST_BACKOFF;
        }
        if wait_or_stop(&mut stopped, backoff).await {
            break;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    let _ = tokio::fs::remove_file(&run.sdp).await;
    info!("live encoder stopped");
}

/// Waits for ffmpeg to exit; meanwhile tells `ready` that run `number` listens, once its
/// video RTCP port is taken (ffmpeg binds its ports before it reads).
async fn wait_announcing(
    child: &mut Child,
    ports: EncoderPorts,
    number: u32,
    ready: &watch::Sender<u32>,
) -> io::Result<std::process::ExitStatus> {
    let announce = async {
        for _ in 0..200 {
            if UdpSocket::bind((Ipv4Addr::LOCALHOST, ports.video + 1)).is_err() {
                let _ = ready.send(number);
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        status = child.wait() => return status,
        () = announce => {}
    }
    child.wait().await
}

/// Sleeps `wait` unless told to stop first: whether to stop.
async fn wait_or_stop(stopped: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(wait) => *stopped.borrow(),
        _ = stopped.changed() => true,
    }
}

/// Asks ffmpeg to finish (`q` on its stdin: HLS gets its end tag, RTMP its trailer), and
/// kills it if it has not within [`STOP_GRACE`].
async fn finish(child: &mut Child) {
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"q").await;
        let _ = stdin.flush().await;
    }
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

fn spawn(ffmpeg: &Path, args: &[String]) -> io::Result<Child> {
    Command::new(ffmpeg)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Whatever happens to the supervisor, ffmpeg does not outlive its handle.
        .kill_on_drop(true)
        .spawn()
}

/// Reads ffmpeg's messages until it exits: each failing output is logged at once, the
/// last lines are returned; stream keys are masked in both.
async fn keep_lines(stderr: tokio::process::ChildStderr, secrets: Vec<String>) -> Vec<String> {
    let mut lines = BufReader::new(stderr).lines();
    let mut kept = VecDeque::with_capacity(KEPT_LINES);
    while let Ok(Some(line)) = lines.next_line().await {
        let line = mask_secrets(&line, &secrets);
        if line.contains("Slave") && (line.contains("fail") || line.contains("rror")) {
            warn!(%line, "a live output failed");
        }
        if kept.len() == KEPT_LINES {
            kept.pop_front();
        }
        kept.push_back(line);
    }
    kept.into()
}

/// `line` with every RTMP address of `secrets` replaced by its masked form.
fn mask_secrets(line: &str, secrets: &[String]) -> String {
    secrets.iter().fold(line.to_owned(), |line, url| {
        line.replace(url.as_str(), &mask_rtmp_url(url))
    })
}

/// The outputs, as they may be logged.
fn describe(outputs: &LiveOutputs) -> String {
    let mut parts: Vec<String> = outputs.rtmp.iter().map(|u| mask_rtmp_url(u)).collect();
    if outputs.hls {
        parts.push("hls".into());
    }
    parts.join(", ")
}

/// Two free adjacent loopback UDP ports, the first even (RTP, and RTCP on the next). They
/// are free when this returns; ffmpeg binds them a moment later (another process taking
/// one in between makes ffmpeg fail, and the supervisor retries).
fn free_port_pair(other_than: Option<u16>) -> io::Result<u16> {
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no free pair");
    for _ in 0..64 {
        let first = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = first.local_addr()?.port();
        if port % 2 != 0 || Some(port) == other_than {
            continue;
        }
        match UdpSocket::bind((Ipv4Addr::LOCALHOST, port + 1)) {
            Ok(_) => return Ok(port),
            Err(err) => last = err,
        }
    }
    Err(last)
}

/// The SDP ffmpeg reads: the forwarded Opus (when the stage has a microphone) and video on
/// `ports`, video with feedback (`AVPF`) so ffmpeg asks for a key frame (RTCP PLI) when it
/// has none to start from.
pub fn stage_sdp(ports: EncoderPorts, video: StageVideo, sound: StageSound) -> String {
    let codec = match video {
        StageVideo::Vp8 => format!("a=rtpmap:{VIDEO_PT} VP8/90000\r\n"),
        StageVideo::H264 => {
            format!("a=rtpmap:{VIDEO_PT} H264/90000\r\na=fmtp:{VIDEO_PT} packetization-mode=1\r\n")
        }
    };
    let audio = match sound {
        StageSound::Microphone => format!(
            "m=audio {} RTP/AVP {AUDIO_PT}\r\na=rtpmap:{AUDIO_PT} opus/48000/2\r\n",
            ports.audio
        ),
        StageSound::Silence => String::new(),
    };
    format!(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=meshmeet live\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         {audio}m=video {video_port} RTP/AVPF {VIDEO_PT}\r\n{codec}a=rtcp-fb:{VIDEO_PT} nack pli\r\n",
        video_port = ports.video,
    )
}

/// Where the live's sound comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageSound {
    /// The stage's microphone, forwarded.
    Microphone,
    /// Silence made by ffmpeg: the stage has no microphone (a camera, an encoder sending
    /// only video), and RTMP and HLS players expect a sound track all the same.
    Silence,
}

/// ffmpeg's arguments for run number `attempt`: read `sdp`, encode once, write to every
/// output with `tee`. Each run names its HLS segments apart and appends to the playlist,
/// marking the break, so players go on across a restart.
pub fn ffmpeg_args(
    sdp: &Path,
    dir: &Path,
    outputs: &LiveOutputs,
    sound: StageSound,
    attempt: u32,
) -> Vec<String> {
    let picture = format!(
        "scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=decrease,\
         pad={WIDTH}:{HEIGHT}:(ow-iw)/2:(oh-ih)/2,fps={FPS},format=yuv420p"
    );
    let gop = (FPS * HLS_SEGMENT_SECS).to_string();
    let mut slaves: Vec<String> = outputs
        .rtmp
        .iter()
        // onfail=ignore: a target that refuses or drops is left, the others go on.
        .map(|url| format!("[f=flv:onfail=ignore]{url}"))
        .collect();
    if outputs.hls {
        let segments = dir.join(format!("r{attempt}-%05d.ts"));
        slaves.push(format!(
            "[f=hls:hls_time={HLS_SEGMENT_SECS}:hls_list_size={HLS_LIST_SIZE}:\
             hls_flags=delete_segments+append_list+discont_start:\
             hls_segment_filename={}]{}",
            segments.display(),
            dir.join(PLAYLIST).display()
        ));
    }
    let mut args: Vec<String> = [
        "-hide_banner",
        "-loglevel",
        "warning",
        "-protocol_whitelist",
        "file,udp,rtp",
        // RTCP (the key frame requests) goes back to where Janus's RTCP comes from.
        "-sdp_flags",
        "rtcp_to_source",
        // Its sockets on loopback only: nobody else can send it media.
        "-localaddr",
        "127.0.0.1",
        "-i",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.push(sdp.display().to_string());
    let audio = match sound {
        StageSound::Microphone => "0:a",
        StageSound::Silence => {
            for arg in ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"] {
                args.push(arg.to_owned());
            }
            "1:a"
        }
    };
    for arg in [
        "-map",
        "0:v",
        "-map",
        audio,
        "-vf",
        &picture,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-b:v",
        "2500k",
        "-maxrate",
        "2500k",
        "-bufsize",
        "5000k",
        "-g",
        &gop,
        "-keyint_min",
        &gop,
        "-sc_threshold",
        "0",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-ar",
        "48000",
        "-ac",
        "2",
        "-f",
        "tee",
    ] {
        args.push(arg.to_owned());
    }
    args.push(slaves.join("|"));
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdp_asks_for_feedback_on_video_and_names_the_stage_codec() {
        let ports = EncoderPorts {
            audio: 40000,
            video: 40002,
        };
        let vp8 = stage_sdp(ports, StageVideo::Vp8, StageSound::Microphone);
        assert!(vp8.contains("m=audio 40000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2"));
        assert!(vp8.contains("m=video 40002 RTP/AVPF 96\r\na=rtpmap:96 VP8/90000"));
        let h264 = stage_sdp(ports, StageVideo::H264, StageSound::Microphone);
        assert!(h264.contains("a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1"));
    }

    #[test]
    fn a_stage_without_a_microphone_is_heard_as_silence_made_by_ffmpeg() {
        let ports = EncoderPorts {
            audio: 40000,
            video: 40002,
        };
        let sdp = stage_sdp(ports, StageVideo::Vp8, StageSound::Silence);
        assert!(!sdp.contains("m=audio"), "{sdp}");
        assert!(sdp.contains("m=video 40002"), "{sdp}");
        let outputs = LiveOutputs {
            rtmp: Vec::new(),
            hls: true,
        };
        let args = ffmpeg_args(
            Path::new("/x/s.sdp"),
            Path::new("/x"),
            &outputs,
            StageSound::Silence,
            1,
        );
        let joined = args.join(" ");
        assert!(
            joined.contains("-f lavfi -i anullsrc=r=48000:cl=stereo"),
            "{joined}"
        );
        assert!(joined.contains("-map 0:v -map 1:a"), "{joined}");
        let heard = ffmpeg_args(
            Path::new("/x/s.sdp"),
            Path::new("/x"),
            &outputs,
            StageSound::Microphone,
            1,
        )
        .join(" ");
        assert!(
            heard.contains("-map 0:v -map 0:a") && !heard.contains("lavfi"),
            "{heard}"
        );
    }

    #[test]
    fn every_output_is_one_tee_slave_and_hls_segments_are_named_per_run() {
        let outputs = LiveOutputs {
            rtmp: vec!["rtmp://a/app/k1".into(), "rtmps://b/app/k2".into()],
            hls: true,
        };
        let args = ffmpeg_args(
            Path::new("/x/stage.sdp"),
            Path::new("/x"),
            &outputs,
            StageSound::Microphone,
            3,
        );
        let tee = args.last().expect("the tee outputs");
        let slaves: Vec<&str> = tee.split('|').collect();
        assert_eq!(slaves.len(), 3, "{tee}");
        assert_eq!(slaves[0], "[f=flv:onfail=ignore]rtmp://a/app/k1");
        assert!(
            slaves[2].contains("hls_segment_filename=/x/r3-%05d.ts"),
            "{tee}"
        );
        assert!(slaves[2].ends_with("]/x/index.m3u8"), "{tee}");
        let rtmp_only = LiveOutputs {
            rtmp: vec!["rtmp://a/app/k1".into()],
            hls: false,
        };
        let args = ffmpeg_args(
            Path::new("/x/s.sdp"),
            Path::new("/x"),
            &rtmp_only,
            StageSound::Microphone,
            1,
        );
        assert!(!args.last().expect("tee").contains("hls"));
    }

    #[test]
    fn stream_keys_are_masked_in_ffmpeg_s_messages() {
        let secrets = vec!["rtmp://a/app/sk_123".to_owned()];
        let line = "[tee @ 0x1] Slave '[f=flv]rtmp://a/app/sk_123': error opening";
        let masked = mask_secrets(line, &secrets);
        assert!(!masked.contains("sk_123"), "{masked}");
        assert!(masked.contains("rtmp://a/app/****"), "{masked}");
        let described = describe(&LiveOutputs {
            rtmp: secrets,
            hls: true,
        });
        assert_eq!(described, "rtmp://a/app/****, hls");
    }

    #[test]
    fn port_pairs_start_even_and_are_free() {
        let port = free_port_pair(None).expect("a pair");
        assert_eq!(port % 2, 0);
        UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).expect("the RTP port is free");
        UdpSocket::bind((Ipv4Addr::LOCALHOST, port + 1)).expect("the RTCP port is free");
    }
}
