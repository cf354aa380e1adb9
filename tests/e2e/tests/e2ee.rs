//! End-to-end encryption through a real Janus. Someone who controls the media server reads
//! the relay's requests to Janus on the wire (a tap in front of its API port) and, with the
//! room's secret learned there, has Janus forward a publisher's RTP to a local port, decoded
//! with ffmpeg. In an unencrypted SFU room that shows the sender's picture; in a room opened
//! with the lobby's `e2ee-toggle` it does not, while the three participants (two Chromium,
//! one Firefox) decode each other's video and hear each other, show the same safety code,
//! and say the call is encrypted. When the host removes the Firefox participant the key
//! changes: the codes change, and the audio frames Ana sends after the change open with
//! Ben's keys but not with the keys the removed page kept (it opened the frames sent before).
//! A late joiner decodes from its arrival, and none of the frames sent before it.
//!
//! Pages run with the cheap camera (160x90, `?video=tiny`, Chromium's at 5 fps): three
//! browsers and Janus share two cores.

use base64::Engine as _;
use meshmeet_e2e::janus_operator::{pli, rtp_payload, vp8_ivf, JanusOperator, JanusTap};
use meshmeet_e2e::process::TempDir;
use meshmeet_e2e::{
    run_test_within, wait_until_everyone_decodes_everyone, Browser, Context, Error, Janus, Result,
    CHEAP_CAMERA, CHEAP_CAMERA_ARG, DEFAULT_WAIT,
};
use serde_json::json;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Time allowed for media to connect and decode on a loaded two-core machine.
const MEDIA_WAIT: Duration = Duration::from_secs(90);
/// Longest the whole test may take.
const E2EE_TEST_LIMIT: Duration = Duration::from_secs(480);
/// How long the camera's forwarded packets are collected before ffmpeg decodes them.
const COLLECT_SECONDS: u64 = 8;
/// The picture compared: ffmpeg's and the sender's preview, both scaled to this, grey.
const GRAB: (usize, usize) = (64, 36);
/// The least likeness (correlation of the grey pictures) of the forwarded video's best
/// frame to the sender's preview that counts as showing it: an unencrypted forward reaches
/// about 0.98.
const SHOWS_THE_PICTURE: f64 = 0.9;
/// The most likeness an encrypted forward's best frame may have. Random data behind VP8's
/// clear header sometimes decodes into blocks; the best of some forty such frames reached
/// 0.33 once (each run differs).
const HIDES_THE_PICTURE: f64 = 0.6;
/// Audio frames tried against a page's keys.
const PROBED_FRAMES: usize = 40;

/// The lobby of `room` with the cheap camera, the probe the test asks about keys, and the
/// link's `fragment` (an encrypted room's passphrase).
async fn ready(browser: &Browser, room: &str, name: &str, fragment: &str) -> Result {
    browser
        .ready_to_join(
            &format!("/r/{room}?video=tiny&e2ee_probe=1{fragment}"),
            name,
        )
        .await?;
    browser.record_peer_connections().await
}

async fn wait_for_sfu(browser: &Browser) -> Result {
    browser
        .wait_for("[data-testid=tile-grid][data-topology=sfu]", MEDIA_WAIT)
        .await
        .map(|_| ())
}

/// The relay's peer id of `name`, as `page` shows it on their tile.
async fn peer_id(page: &Browser, name: &str) -> Result<String> {
    let id = page
        .eval_read_with(
            "return document.querySelector(
                 `[data-testid=peer-tile][data-peer-name=\"${arguments[0]}\"]`)?.dataset.peerId;",
            vec![json!(name)],
        )
        .await?;
    id.as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::new(format!("{}: no tile of {name}", page.label())))
}

/// The safety code `page` shows once it has one (four groups of five digits).
async fn safety_code(page: &Browser) -> Result<String> {
    page.wait_until_js(
        "/^\\d{5}( \\d{5}){3}$/.test(
             document.querySelector('[data-testid=safety-code]')?.textContent ?? '')",
        MEDIA_WAIT,
    )
    .await
    .with_context(|| format!("{}: a safety code", page.label()))?;
    page.text("[data-testid=safety-code]").await
}

/// Waits until every page shows the same safety code, other than `before`; returns it.
async fn codes_agree(pages: &[&Browser], before: Option<&str>) -> Result<String> {
    let started = Instant::now();
    loop {
        let mut codes = Vec::new();
        for page in pages {
            codes.push(safety_code(page).await?);
        }
        let agreed = codes.windows(2).all(|w| w[0] == w[1]);
        if agreed && before != Some(codes[0].as_str()) {
            return Ok(codes.swap_remove(0));
        }
        if started.elapsed() > MEDIA_WAIT {
            return Err(Error::new(format!(
                "safety codes {codes:?} (before: {before:?}) never agreed on a new one"
            )));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Waits until `page` hears `streams` audio streams: inbound audio whose decoded energy
/// grows over a second (frames that do not decrypt never reach the decoder).
async fn wait_until_hearing(page: &Browser, streams: usize) -> Result {
    let script = "
        const energy = async () => {
            const out = new Map();
            for (const pc of window.__pcs || []) {
                if (pc.connectionState === 'closed') continue;
                (await pc.getStats()).forEach(s => {
                    if (s.type === 'inbound-rtp' && s.kind === 'audio')
                        out.set(pc.__id + s.id, s.totalAudioEnergy || 0);
                });
            }
            return out;
        };
        (window.__pcs || []).forEach((pc, i) => pc.__id = 'pc' + i + ':');
        const before = await energy();
        await new Promise(r => setTimeout(r, 1000));
        const after = await energy();
        let hearing = 0;
        after.forEach((v, k) => { if (v - (before.get(k) || 0) > 1e-5) hearing += 1; });
        return hearing;";
    let started = Instant::now();
    loop {
        let hearing = page.eval_read(script).await?.as_u64().unwrap_or(0) as usize;
        if hearing >= streams {
            return Ok(());
        }
        if started.elapsed() > MEDIA_WAIT {
            return Err(Error::new(format!(
                "{} hears {hearing} audio streams, not {streams}",
                page.label()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What `page`'s frame keys open of `frames` (protected Opus frames): (decrypted, failed).
async fn probe(page: &Browser, frames: &[String]) -> Result<(u64, u64)> {
    let reply = page
        .eval_with(
            "return await window.meshmeetFrameProbe('audio', arguments[0]);",
            vec![json!(frames)],
        )
        .await?;
    Ok((
        reply["decrypted"].as_u64().unwrap_or(0),
        reply["failed"].as_u64().unwrap_or(0),
    ))
}

/// The sender's own picture: its preview, grey, at [`GRAB`], in ffmpeg's luma range.
async fn preview_grey(page: &Browser) -> Result<Vec<u8>> {
    let px = page
        .eval_read(&format!(
            "const v = document.querySelector('[data-testid=local-tile] video');
             const c = document.createElement('canvas'); c.width = {w}; c.height = {h};
             const g = c.getContext('2d'); g.drawImage(v, 0, 0, {w}, {h});
             const d = g.getImageData(0, 0, {w}, {h}).data; const out = [];
             for (let i = 0; i < d.length; i += 4)
                 out.push(Math.round(16 + (65.481 * d[i] + 128.553 * d[i + 1] + 24.966 * d[i + 2]) / 255));
             return out;",
            w = GRAB.0,
            h = GRAB.1
        ))
        .await?;
    Ok(px
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64()?.try_into().ok())
                .collect()
        })
        .unwrap_or_default())
}

/// Pearson correlation of two pictures of the same size (0 when either is flat).
fn correlation(a: &[u8], b: &[u8]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    if n == 0.0 {
        return 0.0;
    }
    let mean = |x: &[u8]| x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let (ma, mb) = (mean(a), mean(b));
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(x) - ma, f64::from(y) - mb);
        cov += dx * dy;
        va += dx * dx;
        vb += dy * dy;
    }
    if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}

/// Forwarded audio frames, each with when it arrived.
type Frames = Arc<Mutex<Vec<(Instant, Vec<u8>)>>>;

/// What the media server's operator gets of one publisher: the pictures ffmpeg decoded of
/// its forwarded video, ffmpeg's complaints, and the audio frames forwarded so far.
struct Tapped {
    frames: Vec<Vec<u8>>,
    errors: String,
    audio: Frames,
}

impl Tapped {
    /// Up to [`PROBED_FRAMES`] audio frames received after `since`, base64.
    fn audio_after(&self, since: Instant) -> Vec<String> {
        self.audio
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, _)| *at > since)
            .take(PROBED_FRAMES)
            .map(|(_, frame)| base64::engine::general_purpose::STANDARD.encode(frame))
            .collect()
    }
}

/// Has Janus forward `publisher`'s audio and video to local ports, collects the video for
/// [`COLLECT_SECONDS`] and decodes it with ffmpeg, and keeps collecting the audio frames.
async fn tap_publisher(
    janus: &Janus,
    tap: &JanusTap,
    publisher: &str,
    dir: &TempDir,
) -> Result<Tapped> {
    // The newest room the relay created that `publisher` publishes in (the relay also
    // creates rooms it destroys, such as the mesh room's first try).
    let mut operator = JanusOperator::connect(janus.port()).await?;
    let mut found = None;
    for (room, secret) in tap.room_secrets().into_iter().rev() {
        if let Ok(feed) = operator.publisher(room, publisher).await {
            found = Some((room, secret, feed));
            break;
        }
    }
    let (room, secret, feed) =
        found.ok_or_else(|| Error::new(format!("{publisher} publishes in no Janus room")))?;
    let audio = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let audio_port = audio.local_addr()?.port();
    let mut layers = Vec::new();
    for _ in 0..3 {
        layers.push(tokio::net::UdpSocket::bind("127.0.0.1:0").await?);
    }
    let mut ports = [0u16; 3];
    for (port, layer) in ports.iter_mut().zip(&layers) {
        *port = layer.local_addr()?.port();
    }
    let rtcp = operator
        .forward(room, &secret, janus.admin_key(), feed, audio_port, ports)
        .await?;
    // A key frame to start from: ask Janus, as a receiver would, twice a second apart
    // (Janus passes at most one a second to the publisher).
    let asker = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    for round in 0..3 {
        for port in &rtcp {
            asker.send_to(&pli(), ("127.0.0.1", *port)).await?;
        }
        if round < 2 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
    }
    let frames_seen: Frames = Arc::new(Mutex::new(Vec::new()));
    {
        let frames_seen = Arc::clone(&frames_seen);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            // Bounded: the test ends long before, and the socket goes with it.
            for _ in 0..200_000 {
                let Ok(n) = audio.recv(&mut buf).await else {
                    break;
                };
                if let Some(payload) = rtp_payload(&buf[..n]) {
                    frames_seen
                        .lock()
                        .unwrap()
                        .push((Instant::now(), payload.to_vec()));
                }
            }
        });
    }
    // The camera's packets for a while, of the layer that has most, made into frames.
    let until = Instant::now() + Duration::from_secs(COLLECT_SECONDS);
    let receiving = layers.iter().map(async |layer| {
        let mut packets = Vec::new();
        let mut buf = vec![0u8; 2048];
        while let Ok(Ok(n)) = tokio::time::timeout_at(until.into(), layer.recv(&mut buf)).await {
            packets.push(buf[..n].to_vec());
        }
        packets
    });
    let packets = futures_util::future::join_all(receiving)
        .await
        .into_iter()
        .max_by_key(Vec::len)
        .unwrap_or_default();
    let (ivf, assembled) = vp8_ivf(&packets);
    let file = dir.path().join(format!("{}.ivf", ports[0]));
    std::fs::write(&file, ivf)?;
    let scale = format!("scale={}:{},format=gray", GRAB.0, GRAB.1);
    let output = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-v", "warning", "-i"])
        .arg(&file)
        .args(["-vf", &scale, "-f", "rawvideo", "-"])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Error::new(format!("running ffmpeg: {e}")))?;
    let errors = format!(
        "{} RTP packets, {assembled} frames assembled; {}",
        packets.len(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let frames = output
        .stdout
        .chunks_exact(GRAB.0 * GRAB.1)
        .map(<[u8]>::to_vec)
        .collect();
    Ok(Tapped {
        frames,
        errors,
        audio: frames_seen,
    })
}

/// The best likeness of any decoded frame to the sender's preview (0 without frames), and
/// that frame as a PGM picture, for the artifacts.
fn best_likeness(tapped: &Tapped, preview: &[u8]) -> (f64, Vec<u8>) {
    let best = tapped
        .frames
        .iter()
        .map(|frame| (correlation(frame, preview), frame))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let Some((likeness, frame)) = best else {
        return (0.0, Vec::new());
    };
    let mut pgm = format!("P5\n{} {}\n255\n", GRAB.0, GRAB.1).into_bytes();
    pgm.extend_from_slice(frame);
    (likeness, pgm)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_sfu_room_hides_media_from_janus_and_changes_its_key_on_removal_and_arrival() {
    let name =
        "an_encrypted_sfu_room_hides_media_from_janus_and_changes_its_key_on_removal_and_arrival";
    let janus = Janus::start().await.expect("janus starts");
    let tap = JanusTap::start(janus.port()).await.expect("the tap starts");
    let url = tap.url();
    // Rooms of two move to the SFU.
    let args = [
        "--janus-url",
        url.as_str(),
        "--janus-admin-key",
        janus.admin_key(),
        "--mesh-max",
        "1",
    ];
    run_test_within(name, &args, E2EE_TEST_LIMIT, async |t| {
        println!("camera {CHEAP_CAMERA}; Janus on port {}", janus.port());
        let dir = TempDir::new("e2ee-tap")?;
        let ana = t.chromium_with_args(&[CHEAP_CAMERA_ARG]).await?;
        let ben = t.chromium_with_args(&[CHEAP_CAMERA_ARG]).await?;

        // An unencrypted SFU room: what Janus forwards of Ana's camera is her picture.
        for (page, who) in [(&ana, "Ana"), (&ben, "Ben")] {
            ready(page, "plain", who, "").await?;
            page.join_from_lobby().await?;
        }
        for page in [&ana, &ben] {
            wait_for_sfu(page).await?;
            page.wait_for("[data-testid=e2ee-badge][data-e2ee=server]", DEFAULT_WAIT)
                .await?;
        }
        ben.wait_until_peer_tile_decodes("Ana", MEDIA_WAIT).await?;
        let ana_id = peer_id(&ben, "Ana").await?;
        let plain = tap_publisher(&janus, &tap, &ana_id, &dir).await?;
        let preview = preview_grey(&ana).await?;
        let (plain_likeness, picture) = best_likeness(&plain, &preview);
        std::fs::write(t.artifact("unencrypted-forward.pgm"), picture)?;
        println!(
            "unencrypted room: ffmpeg decoded {} frames of Ana's forwarded video, likeness to \
             her preview {plain_likeness:.2}; {} audio frames",
            plain.frames.len(),
            plain.audio.lock().unwrap().len()
        );
        assert!(
            plain_likeness > SHOWS_THE_PICTURE,
            "the unencrypted forward shows Ana's picture: {} frames, likeness \
             {plain_likeness:.2}; ffmpeg: {}",
            plain.frames.len(),
            plain.errors
        );

        // An encrypted room: Ana opens it with the lobby's toggle; the others use her link.
        ready(&ana, "secret", "Ana", "").await?;
        ana.click("[data-testid=e2ee-toggle]").await?;
        let fragment = ana
            .eval_read("return location.hash;")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            fragment.starts_with("#key="),
            "the link holds the key: {fragment}"
        );
        // The relay never sees the passphrase, so it cannot log it.
        t.keep_out_of_logs(fragment.trim_start_matches("#key="));
        ana.join_from_lobby().await?;
        let fox = t.firefox().await?;
        for (page, who) in [(&ben, "Ben"), (&fox, "Fox")] {
            ready(page, "secret", who, &fragment).await?;
            page.join_from_lobby().await?;
        }
        let people = [("Ana", ana), ("Ben", ben), ("Fox", fox)];
        for (_, page) in &people {
            wait_for_sfu(page).await?;
            page.wait_for("[data-testid=e2ee-badge][data-e2ee=frames]", DEFAULT_WAIT)
                .await?;
        }
        let joined = Instant::now();
        let streams = wait_until_everyone_decodes_everyone(&people, MEDIA_WAIT).await?;
        assert_eq!(streams, 6);
        for (_, page) in &people {
            wait_until_hearing(page, 2).await?;
        }
        let [(_, ana), (_, ben), (_, fox)] = &people;
        let first_code = codes_agree(&[ana, ben, fox], None).await?;
        println!(
            "encrypted room: 3 pages decode 6 video streams and hear 6 audio streams {:.1} s \
             after the last joined; safety code {first_code} on all three",
            joined.elapsed().as_secs_f64()
        );
        ana.screenshot(t.artifact("ana-encrypted.png")).await?;

        // What the media server forwards of Ana is no picture.
        let ana_id = peer_id(ben, "Ana").await?;
        let sealed = tap_publisher(&janus, &tap, &ana_id, &dir).await?;
        let preview = preview_grey(ana).await?;
        let (sealed_likeness, picture) = best_likeness(&sealed, &preview);
        std::fs::write(t.artifact("encrypted-forward.pgm"), picture)?;
        println!(
            "encrypted room: ffmpeg decoded {} frames of Ana's forwarded video, likeness \
             {sealed_likeness:.2}; ffmpeg said: {}",
            sealed.frames.len(),
            sealed
                .errors
                .lines()
                .take(3)
                .collect::<Vec<_>>()
                .join(" | ")
        );
        assert!(
            sealed_likeness < HIDES_THE_PICTURE,
            "the encrypted forward must not show Ana's picture: likeness {sealed_likeness:.2}"
        );
        let before_removal = sealed.audio_after(joined);
        assert!(before_removal.len() >= 10, "Janus forwards Ana's audio");
        // The frames are protected, not noise: the pages in the call open them.
        let (opened, _) = probe(ben, &before_removal).await?;
        assert_eq!(
            opened as usize,
            before_removal.len(),
            "Ben's keys open Ana's frames"
        );
        let (opened, _) = probe(fox, &before_removal).await?;
        assert!(
            opened > 0,
            "Fox's keys open Ana's frames while Fox is in the call"
        );

        // The host removes Fox: a new key, which Fox's page never gets.
        ana.click("[data-testid=participants-toggle]").await?;
        let remove = "[data-testid=remove-participant][aria-label$=\" Fox\"]";
        ana.wait_for(remove, DEFAULT_WAIT).await?;
        ana.eval_with(
            "document.querySelector(arguments[0]).click();",
            vec![json!(remove)],
        )
        .await?;
        fox.wait_for("[data-testid=error-banner]", MEDIA_WAIT)
            .await?;
        let second_code = codes_agree(&[ana, ben], Some(&first_code)).await?;
        // Frames after the senders switched (their switch waits 0.3 s after the key).
        tokio::time::sleep(Duration::from_secs(2)).await;
        let changed = Instant::now();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after_removal = sealed.audio_after(changed);
        let (ben_opened, _) = probe(ben, &after_removal).await?;
        let (fox_opened, fox_failed) = probe(fox, &after_removal).await?;
        println!(
            "Fox removed: safety code {first_code} -> {second_code}; of {} audio frames Ana \
             sent after, Ben's keys open {ben_opened}, the removed page's {fox_opened}",
            after_removal.len()
        );
        assert!(after_removal.len() >= 10, "Janus forwards Ana's audio");
        assert_eq!(ben_opened as usize, after_removal.len());
        assert_eq!((fox_opened, fox_failed as usize), (0, after_removal.len()));
        ben.wait_until_peer_tile_decodes("Ana", MEDIA_WAIT).await?;
        ana.wait_until_peer_tile_decodes("Ben", MEDIA_WAIT).await?;
        fox.close().await?;

        // A late joiner decodes from its arrival, and nothing sent before.
        let dan = t.chromium_with_args(&[CHEAP_CAMERA_ARG]).await?;
        ready(&dan, "secret", "Dan", &fragment).await?;
        let arriving = Instant::now();
        dan.join_from_lobby().await?;
        dan.wait_until_peer_tiles_decode(&["Ana".to_owned(), "Ben".to_owned()], MEDIA_WAIT)
            .await?;
        wait_until_hearing(&dan, 2).await?;
        let third_code = codes_agree(&[ana, ben, &dan], Some(&second_code)).await?;
        println!(
            "Dan joined: decodes and hears Ana and Ben {:.1} s after clicking join; safety \
             code {second_code} -> {third_code}",
            arriving.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let since_dan = Instant::now();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (dan_old, _) = probe(&dan, &after_removal).await?;
        let now = sealed.audio_after(since_dan);
        let (dan_new, _) = probe(&dan, &now).await?;
        println!(
            "Dan's keys open {dan_old} of {} frames sent before he came, {dan_new} of {} after",
            after_removal.len(),
            now.len()
        );
        assert_eq!(
            dan_old, 0,
            "a late joiner opens nothing sent before it came"
        );
        assert_eq!(dan_new as usize, now.len());
        // Nor does the relay log the secrets of the rooms it made on Janus.
        for (_, secret) in tap.room_secrets() {
            t.keep_out_of_logs(&secret);
        }
        Ok(())
    })
    .await;
}
