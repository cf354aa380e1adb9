//! The live's `ffmpeg` on the relay's machine, one per live: Janus forwards each stage
//! member's RTP to loopback ports ffmpeg reads (an SDP file says what arrives where), and
//! ffmpeg does what its plan says (`encoder_plan`): RTMP and HLS, written with its `tee`
//! muxer, and for a stage of several the composite for the WebRTC audience. A `tee` output
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
use tracing::{debug, info, warn};

use super::encoder_plan::{ffmpeg_args, stage_sdp, EncoderPlan, EncoderPorts};

/// How long ffmpeg gets to finish its outputs after `q` before it is killed: it writes only
/// loopback UDP and local files (RTMP goes through the pushes), which take well under that.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// The first wait before ffmpeg is started again, doubled at each quick failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run this long resets the backoff: it was a failure, not a broken setup.
const STEADY_RUN: Duration = Duration::from_secs(30);
/// ffmpeg's last lines kept for the log when it exits.
const KEPT_LINES: usize = 12;
/// Where the relay finds ffmpeg and writes HLS.
#[derive(Clone, Debug)]
pub struct EncoderSettings {
    /// The ffmpeg program.
    pub ffmpeg: PathBuf,
    /// Each live's HLS goes in a new directory under this one.
    pub dir: PathBuf,
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
    ports: Vec<EncoderPorts>,
    hls: bool,
    ready: watch::Receiver<u32>,
    supervised: Supervised,
}

/// A task that runs an ffmpeg until told to stop (an encoder's, an RTMP push's). Dropping
/// it tells the task to stop without waiting; [`Supervised::stop`] waits for it.
#[derive(Debug)]
pub(super) struct Supervised {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Supervised {
    /// Spawns `run`, which gets the receiver it must stop on (it also stops when the
    /// sender is gone).
    pub(super) fn spawn<F>(run: impl FnOnce(watch::Receiver<bool>) -> F) -> Supervised
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        Supervised {
            stop,
            task: Some(tokio::spawn(run(stopped))),
        }
    }

    /// Tells the task to stop and waits for it (ffmpeg gets [`STOP_GRACE`] to finish, then
    /// is killed), at most a little longer than that.
    pub(super) async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(STOP_GRACE + Duration::from_secs(2), task).await;
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl Encoder {
    /// Starts ffmpeg for `plan` (one input at least), with its files in `dir` (the live's,
    /// private, made by [`live_dir`]); `runs` numbers ffmpeg's runs across the live's
    /// encoders, so HLS segments never share a name.
    pub fn start(
        settings: &EncoderSettings,
        dir: &Path,
        runs: Arc<AtomicU32>,
        plan: &EncoderPlan,
    ) -> Result<Encoder, EncoderError> {
        let mut taken = Vec::new();
        let mut ports = Vec::with_capacity(plan.inputs.len());
        for _ in &plan.inputs {
            let audio = free_port_pair(&taken).map_err(EncoderError::Ports)?;
            taken.push(audio);
            let video = free_port_pair(&taken).map_err(EncoderError::Ports)?;
            taken.push(video);
            ports.push(EncoderPorts { audio, video });
        }
        let files = |source| EncoderError::Files {
            dir: dir.to_path_buf(),
            source,
        };
        let sdp = dir.join(format!("stage-{}.sdp", taken.first().copied().unwrap_or(0)));
        std::fs::write(&sdp, stage_sdp(&plan.inputs, &ports)).map_err(files)?;
        // The RTCP ports ffmpeg binds for what it reads: once all are taken, it listens.
        let listening: Vec<u16> = plan
            .inputs
            .iter()
            .zip(&ports)
            .flat_map(|(input, ports)| {
                let audio = input.audio.then_some(ports.audio + 1);
                let video = input.video.is_some().then_some(ports.video + 1);
                audio.into_iter().chain(video)
            })
            .collect();
        let (ready_tx, ready) = watch::channel(0);
        let run = Run {
            ffmpeg: settings.ffmpeg.clone(),
            sdp,
            dir: dir.to_path_buf(),
            plan: plan.clone(),
            listening,
            runs,
            ready: ready_tx,
        };
        Ok(Encoder {
            ports,
            hls: plan.outputs.hls,
            ready,
            supervised: Supervised::spawn(|stopped| supervise(run, stopped)),
        })
    }

    /// Where Janus forwards each stage member (the plan's inputs, in order).
    pub fn ports(&self) -> &[EncoderPorts] {
        &self.ports
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
    pub async fn stop(self) {
        self.supervised.stop().await;
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
    plan: EncoderPlan,
    /// The RTCP ports ffmpeg takes when it listens.
    listening: Vec<u16>,
    runs: Arc<AtomicU32>,
    ready: watch::Sender<u32>,
}

/// Runs ffmpeg until told to stop, starting it again (with backoff) whenever it exits.
async fn supervise(run: Run, mut stopped: watch::Receiver<bool>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let number = run.runs.fetch_add(1, Ordering::Relaxed) + 1;
        let args = ffmpeg_args(&run.sdp, &run.dir, &run.plan, number);
        let started = Instant::now();
        let mut child = match spawn(&run.ffmpeg, &args, Stdio::null()) {
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
        info!(
            outputs = %describe(&run.plan.outputs),
            members = run.plan.inputs.len(),
            audience = run.plan.audience.is_some(),
            run = number,
            "live encoder started"
        );
        let lines = child.stderr.take().map(|stderr| {
            let secrets = run.plan.outputs.rtmp.clone();
            tokio::spawn(keep_lines(stderr, secrets))
        });
        let exited = tokio::select! {
            status = wait_announcing(&mut child, &run.listening, number, &run.ready) => Some(status),
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

/// Waits for ffmpeg to exit; meanwhile tells `ready` that run `number` listens, once every
/// RTCP port of `listening` is taken (ffmpeg binds its ports before it reads).
async fn wait_announcing(
    child: &mut Child,
    listening: &[u16],
    number: u32,
    ready: &watch::Sender<u32>,
) -> io::Result<std::process::ExitStatus> {
    let announce = async {
        for _ in 0..200 {
            let taken = listening
                .iter()
                .all(|port| UdpSocket::bind((Ipv4Addr::LOCALHOST, *port)).is_err());
            if taken {
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
pub(super) async fn wait_or_stop(stopped: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(wait) => *stopped.borrow(),
        _ = stopped.changed() => true,
    }
}

/// Asks ffmpeg to finish (`q` on its stdin: HLS gets its end tag, RTMP its trailer), and
/// kills it if it has not within [`STOP_GRACE`].
pub(super) async fn finish(child: &mut Child) {
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

/// Starts `ffmpeg` with `args`, its stdin (for `q`) and stderr piped, stdout as given.
pub(super) fn spawn(ffmpeg: &Path, args: &[String], stdout: Stdio) -> io::Result<Child> {
    Command::new(ffmpeg)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
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
        } else {
            debug!(%line, "ffmpeg");
        }
        if kept.len() == KEPT_LINES {
            kept.pop_front();
        }
        kept.push_back(line);
    }
    kept.into()
}

/// `line` with every RTMP address of `secrets` replaced by its masked form.
pub(super) fn mask_secrets(line: &str, secrets: &[String]) -> String {
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
pub(super) fn free_port_pair(taken: &[u16]) -> io::Result<u16> {
    let (rtp, _) = loopback_pair(taken)?;
    rtp.local_addr().map(|a| a.port())
}

/// Two sockets bound to adjacent loopback UDP ports, the first even and not in `taken`.
pub(super) fn loopback_pair(taken: &[u16]) -> io::Result<(UdpSocket, UdpSocket)> {
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no free pair");
    for _ in 0..64 {
        let first = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = first.local_addr()?.port();
        if port % 2 != 0 || taken.contains(&port) || port == u16::MAX {
            continue;
        }
        match UdpSocket::bind((Ipv4Addr::LOCALHOST, port + 1)) {
            Ok(second) => return Ok((first, second)),
            Err(err) => last = err,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let port = free_port_pair(&[]).expect("a pair");
        assert_eq!(port % 2, 0);
        UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).expect("the RTP port is free");
        UdpSocket::bind((Ipv4Addr::LOCALHOST, port + 1)).expect("the RTCP port is free");
    }
}
