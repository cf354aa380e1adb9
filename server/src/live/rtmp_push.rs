//! One RTMP address of a live: a small `ffmpeg` that copies the encoder's stream (MPEG-TS on
//! a loopback UDP port, nothing re-encoded) to the address. An address that refuses or
//! drops is tried again on its own, backing off from 1 s to 30 s, while the other addresses
//! and HLS go on; the host is told how each address is doing.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use meshmeet_protocol::{mask_rtmp_url, RtmpOutputState, RtmpOutputStatus};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::watch;
use tracing::{info, warn};

use super::encoder::{finish, free_port_pair, mask_secrets, spawn, wait_or_stop, Supervised};

/// The first wait before an address is tried again, doubled at each quick failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run this long resets the backoff: the address worked, then dropped.
const STEADY_RUN: Duration = Duration::from_secs(30);
/// Longest reason told to the host.
const MAX_REASON_CHARS: usize = 200;

/// How every RTMP address of one encoder is doing, and who is told when that changes.
pub struct PushStates {
    states: Mutex<Vec<RtmpOutputState>>,
    report: Box<dyn Fn(Vec<RtmpOutputState>) + Send + Sync>,
}

impl std::fmt::Debug for PushStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushStates")
            .field("states", &self.lock().clone())
            .finish_non_exhaustive()
    }
}

impl PushStates {
    /// Every address `connecting`; `report` gets the whole list at each change.
    pub fn new(
        urls: &[String],
        report: impl Fn(Vec<RtmpOutputState>) + Send + Sync + 'static,
    ) -> Arc<PushStates> {
        let states = urls
            .iter()
            .map(|url| RtmpOutputState {
                address: mask_rtmp_url(url),
                status: RtmpOutputStatus::Connecting,
                reason: None,
                retry_secs: None,
            })
            .collect();
        let states = Arc::new(PushStates {
            states: Mutex::new(states),
            report: Box::new(report),
        });
        (states.report)(states.lock().clone());
        states
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RtmpOutputState>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Address `index`'s status now.
    fn status(&self, index: usize) -> Option<RtmpOutputStatus> {
        self.lock().get(index).map(|s| s.status)
    }

    /// Sets address `index`'s status (with why and when again, while failing) and reports
    /// the list, if it changed.
    fn set(&self, index: usize, status: RtmpOutputStatus, failure: Option<(String, u32)>) {
        let now = {
            let mut states = self.lock();
            let Some(state) = states.get_mut(index) else {
                return;
            };
            let (reason, retry_secs) = failure.unzip();
            let new = RtmpOutputState {
                address: state.address.clone(),
                status,
                reason,
                retry_secs,
            };
            if *state == new {
                return;
            }
            *state = new;
            states.clone()
        };
        (self.report)(now);
    }
}

/// One address's ffmpeg, run until stopped.
#[derive(Debug)]
pub struct RtmpPush {
    port: u16,
    supervised: Supervised,
}

impl RtmpPush {
    /// Starts copying to `url` (address `index` of `states`) whatever the encoder sends to
    /// [`RtmpPush::port`].
    pub fn start(
        ffmpeg: &Path,
        url: String,
        index: usize,
        states: Arc<PushStates>,
    ) -> std::io::Result<RtmpPush> {
        let port = free_port_pair(&[])?;
        let ffmpeg = ffmpeg.to_path_buf();
        Ok(RtmpPush {
            port,
            supervised: Supervised::spawn(|stopped| {
                supervise(ffmpeg, url, port, index, states, stopped)
            }),
        })
    }

    /// The loopback port the encoder sends this address's stream to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops it: ffmpeg finishes the stream (the platform sees its end), killed if it has
    /// not within the grace; returns once it is gone.
    pub async fn stop(self) {
        self.supervised.stop().await;
    }
}

/// ffmpeg's arguments: read MPEG-TS on `port` (loopback only), copy it to `url` as FLV,
/// and say on stdout when it is sending (`-progress`).
pub fn push_args(port: u16, url: &str) -> Vec<String> {
    let input = format!("udp://127.0.0.1:{port}?localaddr=127.0.0.1&overrun_nonfatal=1");
    [
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
        "-f",
        "mpegts",
        "-i",
        &input,
        "-map",
        "0",
        "-c",
        "copy",
        "-f",
        "flv",
        url,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// Runs the address's ffmpeg until told to stop, again after each failure with backoff,
/// keeping `states` current.
async fn supervise(
    ffmpeg: PathBuf,
    url: String,
    port: u16,
    index: usize,
    states: Arc<PushStates>,
    mut stopped: watch::Receiver<bool>,
) {
    let masked = mask_rtmp_url(&url);
    let mut backoff = FIRST_BACKOFF;
    loop {
        states.set(index, RtmpOutputStatus::Connecting, None);
        let started = Instant::now();
        let reason = match spawn(&ffmpeg, &push_args(port, &url), Stdio::piped()) {
            Ok(mut child) => {
                let ended = tokio::select! {
                    reason = follow(&mut child, &url, index, &states) => Some(reason),
                    _ = stopped.changed() => None,
                };
                match ended {
                    Some(reason) => reason,
                    None => {
                        // Only a stream that reaches the address has an end to write; one
                        // still connecting (or reading its first packets) goes at once.
                        if states.status(index) == Some(RtmpOutputStatus::Sending) {
                            finish(&mut child).await;
                        } else {
                            let _ = child.kill().await;
                        }
                        break;
                    }
                }
            }
            Err(err) => format!("could not start ffmpeg: {err}"),
        };
        if started.elapsed() >= STEADY_RUN {
            backoff = FIRST_BACKOFF;
        }
        warn!(address = %masked, %reason, retry_secs = backoff.as_secs(), "an RTMP address failed");
        let retry_secs = u32::try_from(backoff.as_secs()).unwrap_or(u32::MAX);
        states.set(index, RtmpOutputStatus::Failing, Some((reason, retry_secs)));
        if wait_or_stop(&mut stopped, backoff).await {
            break;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    info!(address = %masked, "RTMP address stopped");
}

/// Follows ffmpeg until it exits: `sending` at its first progress report (it reports only
/// once the address took the stream); why it ended, from its last message.
async fn follow(child: &mut Child, url: &str, index: usize, states: &PushStates) -> String {
    let secrets = [url.to_owned()];
    let errors = child.stderr.take().map(|stderr| {
        let secrets = secrets.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            let mut last = None;
            while let Ok(Some(line)) = lines.next_line().await {
                if !line.trim().is_empty() {
                    last = Some(mask_secrets(&line, &secrets));
                }
            }
            last
        })
    });
    if let Some(stdout) = child.stdout.take() {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("progress=") {
                states.set(index, RtmpOutputStatus::Sending, None);
            }
        }
    }
    let status = child.wait().await;
    let last = match errors {
        Some(task) => task.await.ok().flatten(),
        None => None,
    };
    let reason = last.unwrap_or_else(|| match status {
        Ok(status) => format!("the stream ended ({status})"),
        Err(err) => err.to_string(),
    });
    reason.chars().take(MAX_REASON_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_copies_loopback_ts_to_its_address_and_reports_progress() {
        let args = push_args(40000, "rtmp://a/app/key").join(" ");
        assert!(
            args.contains("-f mpegts -i udp://127.0.0.1:40000?localaddr=127.0.0.1"),
            "{args}"
        );
        assert!(args.contains("-c copy -f flv rtmp://a/app/key"), "{args}");
        assert!(args.contains("-progress pipe:1"), "{args}");
    }

    #[test]
    fn the_host_hears_of_each_change_once_with_keys_masked() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&heard);
        let states = PushStates::new(
            &["rtmp://a/app/k1".to_owned(), "rtmp://b/app/k2".to_owned()],
            move |now| log.lock().expect("lock").push(now),
        );
        states.set(0, RtmpOutputStatus::Sending, None);
        states.set(0, RtmpOutputStatus::Sending, None);
        let refused = Some(("Connection refused".to_owned(), 1));
        states.set(1, RtmpOutputStatus::Failing, refused);
        states.set(7, RtmpOutputStatus::Sending, None);
        let heard = heard.lock().expect("lock");
        // Told at once that both connect, then of the two changes.
        assert_eq!(heard.len(), 3, "{heard:?}");
        assert_eq!(heard[0][1].status, RtmpOutputStatus::Connecting);
        assert_eq!(heard[1][0].address, "rtmp://a/app/****");
        assert_eq!(heard[1][0].status, RtmpOutputStatus::Sending);
        assert_eq!(heard[2][1].status, RtmpOutputStatus::Failing);
        assert_eq!(heard[2][1].retry_secs, Some(1));
    }
}
