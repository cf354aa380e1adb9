//! Large rooms on a real Janus: past `--mesh-max` the room moves to the SFU, everyone sends
//! one upstream and decodes everyone else, and back at mesh size the room returns to the
//! mesh after the delay. The longest gap in the audio the first two receive from each other
//! during the switch is measured and printed. A password-protected SFU room carries a screen
//! share, chat and a file; when Janus is killed mid-call every tile says reconnecting, and
//! once Janus is back every page publishes and subscribes again by itself.
//!
//! Every page runs with `?video=low` (320x180 at 15 fps) and the fake camera at 15 fps:
//! three browsers and Janus share two cores.

use futures_util::future::try_join_all;
use meshmeet_e2e::files::{make_file, DOWNLOADED_SHA256};
use meshmeet_e2e::{
    room_url, run_test_within, wait_until_everyone_decodes_everyone, Browser, Context,
    DownlinkThrottle, Error, Janus, Result, TestCtx, CHEAP_CAMERA, CHEAP_CAMERA_ARG, DEFAULT_WAIT,
};
use serde_json::json;
use std::time::{Duration, Instant};

/// Time allowed for media to connect and decode on a loaded two-core machine.
const MEDIA_WAIT: Duration = Duration::from_secs(90);
/// The relay's `--mesh-return-delay` in these tests (10 s by default).
const RETURN_DELAY: &str = "3s";
/// Longest a whole SFU test may take: three browsers, two topology switches.
const SFU_TEST_LIMIT: Duration = Duration::from_secs(420);

/// The relay's flags for the Janus at `url` (admin key `key`), moving rooms of more than
/// `mesh_max` people to it.
fn relay_args<'a>(url: &'a str, key: &'a str, mesh_max: &'a str) -> Vec<&'a str> {
    vec![
        "--janus-url",
        url,
        "--janus-admin-key",
        key,
        "--mesh-max",
        mesh_max,
    ]
}

/// Opens the room, records the page's peer connections, and joins.
async fn join(browser: &Browser, room: &str, name: &str) -> Result {
    join_with(browser, room, name, None).await
}

/// [`join`], giving the room's password (the first one in sets it).
async fn join_with(browser: &Browser, room: &str, name: &str, password: Option<&str>) -> Result {
    browser.ready_to_join(&room_url(room), name).await?;
    if let Some(password) = password {
        browser.type_password(password).await?;
    }
    browser.record_peer_connections().await?;
    browser.join_from_lobby().await
}

/// Waits until the tile grid says the room travels as `mode` (`mesh` or `sfu`).
async fn wait_for_topology(browser: &Browser, mode: &str, timeout: Duration) -> Result {
    browser
        .wait_for(
            &format!("[data-testid=tile-grid][data-topology={mode}]"),
            timeout,
        )
        .await
        .map(|_| ())
        .with_context(|| format!("{} waiting for the {mode} topology", browser.label()))
}

/// How many of the page's peer connections send video: a video sender with a track, and
/// video `outbound-rtp` bytes that grow over one second. Both, because Firefox keeps
/// sending a trickle of bytes (about 100 B/s) on a video sender whose track was replaced
/// by none.
async fn connections_sending_video(browser: &Browser) -> Result<u64> {
    let script = r#"
        const sent = async () => Promise.all((window.__pcs || []).map(async pc => {
            if (pc.connectionState === 'closed') return 0;
            if (!pc.getSenders().some(s => s.track && s.track.kind === 'video')) return 0;
            let bytes = 0;
            (await pc.getStats()).forEach(r => {
                if (r.type === 'outbound-rtp' && r.kind === 'video') bytes += r.bytesSent || 0;
            });
            return bytes;
        }));
        const before = await sent();
        await new Promise(r => setTimeout(r, 1000));
        const after = await sent();
        return after.filter((bytes, i) => bytes > (before[i] || 0)).length;
    "#;
    let value = browser.eval(script).await?;
    value.as_u64().ok_or_else(|| {
        meshmeet_e2e::Error::new(format!(
            "{}: connections sending video: {value}",
            browser.label()
        ))
    })
}

/// The page's peer connections as the browser sees them, for a failure message: state,
/// what each sender sends and the video bytes sent so far.
async fn describe_connections(browser: &Browser) -> Result<serde_json::Value> {
    let script = r#"
        return Promise.all((window.__pcs || []).map(async pc => {
            let videoBytes = 0;
            (await pc.getStats()).forEach(r => {
                if (r.type === 'outbound-rtp' && r.kind === 'video') videoBytes += r.bytesSent || 0;
            });
            return {
                state: pc.connectionState,
                senders: pc.getSenders().map(s => s.track ? s.track.kind : null),
                videoBytes,
            };
        }));
    "#;
    browser.eval(script).await
}

/// Video and audio the page receives on all its open connections over `window`, kbit/s
/// (`inbound-rtp` bytes).
async fn received_kbps(browser: &Browser, window: Duration) -> Result<(f64, f64)> {
    let script = r#"
        const received = async () => {
            const bytes = { video: 0, audio: 0 };
            for (const pc of (window.__pcs || [])) {
                if (pc.connectionState === 'closed') continue;
                (await pc.getStats()).forEach(r => {
                    if (r.type === 'inbound-rtp' && r.kind in bytes) bytes[r.kind] += r.bytesReceived || 0;
                });
            }
            return bytes;
        };
        const before = await received();
        const started = performance.now();
        await new Promise(r => setTimeout(r, arguments[0]));
        const after = await received();
        const seconds = (performance.now() - started) / 1000;
        return [(after.video - before.video) * 8 / 1000 / seconds,
                (after.audio - before.audio) * 8 / 1000 / seconds];
    "#;
    let millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    let value = browser.eval_with(script, vec![json!(millis)]).await?;
    serde_json::from_value(value.clone()).map_err(|err| {
        meshmeet_e2e::Error::new(format!(
            "{}: received rates {value}: {err}",
            browser.label()
        ))
    })
}

/// Waits until exactly `wanted` of the page's connections send video.
async fn wait_until_sending_on(browser: &Browser, wanted: u64, timeout: Duration) -> Result {
    let started = Instant::now();
    loop {
        let sending = connections_sending_video(browser).await?;
        if sending == wanted {
            return Ok(());
        }
        if started.elapsed() > timeout {
            let connections = describe_connections(browser).await?;
            return Err(meshmeet_e2e::Error::new(format!(
                "{}: {sending} connections send video after {timeout:?}, not {wanted}; \
                 connections: {connections}",
                browser.label()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Two Chromium pages and a Firefox one, named for the room.
async fn ana_ben_and_fox(t: &TestCtx) -> Result<[(&'static str, Browser); 3]> {
    Ok([
        ("Ana", t.chromium().await?),
        ("Ben", t.chromium().await?),
        ("Fox", t.firefox().await?),
    ])
}

/// How often the audio watch samples `packetsReceived`.
const AUDIO_SAMPLE_MS: u32 = 100;

/// Starts watching the audio `page` receives from `peer`: every [`AUDIO_SAMPLE_MS`] the
/// packets received by the receiver of the audio track `peer`'s tile plays, whichever
/// connection carries it, and the longest time without a new packet.
async fn watch_received_audio(page: &Browser, peer: &str) -> Result {
    let script = r#"
        const [peer, every] = arguments;
        const watch = { peer, last: performance.now(), longest: 0, seen: {}, receivers: [] };
        window.__audioWatch = watch;
        let busy = false;
        watch.timer = setInterval(async () => {
            if (busy) return;
            busy = true;
            try {
                const video = document.querySelector(
                    `[data-testid=peer-tile][data-peer-name="${peer}"] video`);
                const ids = video && video.srcObject
                    ? video.srcObject.getAudioTracks().map(t => t.id) : [];
                let progressed = false;
                // By the receiver whose track the tile plays: stats name remote tracks
                // differently in each browser.
                for (const [i, pc] of (window.__pcs || []).entries()) {
                    if (pc.connectionState === 'closed') continue;
                    for (const receiver of pc.getReceivers()) {
                        if (!receiver.track || !ids.includes(receiver.track.id)) continue;
                        (await receiver.getStats()).forEach(r => {
                            if (r.type !== 'inbound-rtp' || r.kind !== 'audio') return;
                            const key = i + ':' + receiver.track.id;
                            const packets = r.packetsReceived || 0;
                            if (key in watch.seen && packets > watch.seen[key]) {
                                progressed = true;
                                if (!watch.receivers.includes(key)) watch.receivers.push(key);
                            }
                            watch.seen[key] = packets;
                        });
                    }
                }
                const now = performance.now();
                if (progressed) {
                    watch.longest = Math.max(watch.longest, now - watch.last);
                    watch.last = now;
                }
            } finally {
                busy = false;
            }
        }, every);
        return true;
    "#;
    page.eval_with(script, vec![json!(peer), json!(AUDIO_SAMPLE_MS)])
        .await
        .map(|_| ())
}

/// What an audio watch saw.
struct AudioWatch {
    /// The longest time without a new packet, up to now.
    longest_gap_ms: u64,
    /// The longest time between two packets (not counting since the last one).
    between_packets_ms: u64,
    /// How many receivers (connection and track) delivered packets.
    receivers: u64,
    /// The page's connections and tiles when it was read ([`describe_page_media`]).
    now: serde_json::Value,
}

/// Stops the page's audio watch and reads it.
async fn received_audio_watch(page: &Browser) -> Result<AudioWatch> {
    let script = r#"
        const watch = window.__audioWatch;
        clearInterval(watch.timer);
        const gap = Math.max(watch.longest, performance.now() - watch.last);
        return [Math.round(gap), watch.receivers.length, Math.round(watch.longest)];
    "#;
    let value = page.eval(script).await?;
    match (value[0].as_u64(), value[1].as_u64(), value[2].as_u64()) {
        (Some(longest_gap_ms), Some(receivers), Some(between_packets_ms)) => Ok(AudioWatch {
            longest_gap_ms,
            between_packets_ms,
            receivers,
            now: describe_page_media(page).await?,
        }),
        _ => Err(meshmeet_e2e::Error::new(format!(
            "{}: the audio watch read {value}",
            page.label()
        ))),
    }
}

/// Stops the audio watch on `me`'s page, prints the longest gap in what `me` received from
/// `other` during `phase`, and fails unless two receivers carried it (one connection before
/// the switch, another after).
async fn report_audio_watch(page: &Browser, me: &str, other: &str, phase: &str) -> Result {
    let watch = received_audio_watch(page).await?;
    println!(
        "{phase}: longest gap in {me}'s received audio from {other}: {} ms ({} ms between \
         two packets; packets sampled every {AUDIO_SAMPLE_MS} ms)",
        watch.longest_gap_ms, watch.between_packets_ms
    );
    if watch.receivers < 2 {
        return Err(meshmeet_e2e::Error::new(format!(
            "{phase}: {me} received {other}'s audio on {} receiver(s), not one before and \
             one after (now: {})",
            watch.receivers, watch.now
        )));
    }
    Ok(())
}

#[tokio::test]
async fn past_mesh_max_everyone_publishes_once_decodes_everyone_and_the_room_returns_to_the_mesh() {
    let name =
        "past_mesh_max_everyone_publishes_once_decodes_everyone_and_the_room_returns_to_the_mesh";
    let janus = Janus::start().await.expect("janus starts");
    let url = janus.url();
    let mut args = relay_args(&url, janus.admin_key(), "2");
    args.extend(["--mesh-return-delay", RETURN_DELAY]);
    run_test_within(name, &args, SFU_TEST_LIMIT, async |t| {
        println!("fake camera: 320x180 at 15 fps (?video=low); Janus {url}");
        let people = ana_ben_and_fox(t).await?;
        for (name, browser) in &people[..2] {
            join(browser, "large", name).await?;
        }
        for (_, browser) in &people[..2] {
            wait_for_topology(browser, "mesh", DEFAULT_WAIT).await?;
        }
        let [(_, ana), (_, ben), _] = &people;
        for (browser, other) in [(ana, "Ben"), (ben, "Ana")] {
            browser
                .wait_until_peer_tile_decodes(other, MEDIA_WAIT)
                .await?;
            watch_received_audio(browser, other).await?;
        }
        join(&people[2].1, "large", "Fox").await?;
        for (_, browser) in &people {
            wait_for_topology(browser, "sfu", DEFAULT_WAIT).await?;
        }

        // One upstream each: the publisher; the mesh links carry data only.
        for (_, browser) in &people {
            wait_until_sending_on(browser, 1, MEDIA_WAIT)
                .await
                .with_context(|| format!("Janus log:\n{}", janus.log()))?;
        }
        // Six directed streams, decoded while no mesh link sends video: they come through
        // the SFU.
        let streams = wait_until_everyone_decodes_everyone(&people, MEDIA_WAIT).await?;
        assert_eq!(streams, 6);
        people[2].1.screenshot(t.artifact("firefox-sfu.png")).await?;
        // The stats panel's figures come from the SFU's connections: Ben's video received on
        // Ana's subscriber, ours sent on her publisher (the mesh link carries no media).
        let ben_stats = "[data-testid=peer-tile][data-peer-name=Ben] [data-testid=stats-toggle]";
        ana.click(ben_stats).await?;
        ana.wait_until_js(
            "(() => { const p = document.querySelector('[data-testid=stats-panel]');
               return !!p && Number(p.dataset.inVideoBps) > 0 && Number(p.dataset.inFps) > 0
                   && Number(p.dataset.outVideoBps) > 0; })()",
            DEFAULT_WAIT,
        )
        .await
        .context("Ana's stats panel for Ben shows what the SFU carries")?;
        ana.click(ben_stats).await?;
        for (browser, me, other) in [(ana, "Ana", "Ben"), (ben, "Ben", "Ana")] {
            report_audio_watch(browser, me, other, "switch to the SFU").await?;
            watch_received_audio(browser, other).await?;
        }

        // Audio only on Ana's page: Janus stops sending her anyone's video (her subscriber
        // receives none; the mesh links carry none in an SFU room), her audio goes on; and
        // back, Ben's video decodes again.
        let (video, audio) = received_kbps(ana, Duration::from_secs(2)).await?;
        assert!(video > 20.0, "Ana receives no video before: {video:.0} kbit/s");
        ana.click("[data-testid=settings-toggle]").await?;
        ana.click("[data-testid=audio-only-toggle]").await?;
        ana.wait_for("[data-testid=peer-tile][data-peer-name=Ben].camera-off", DEFAULT_WAIT)
            .await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (video_off, audio_off) = received_kbps(ana, Duration::from_secs(3)).await?;
        println!(
            "Ana receives {video:.0} kbit/s video and {audio:.0} kbit/s audio through Janus; \
             on audio only {video_off:.1} and {audio_off:.0}"
        );
        assert!(video_off < 1.0, "Janus still sends Ana {video_off:.1} kbit/s of video");
        assert!(audio_off > 5.0, "Ana's audio stopped too ({audio_off:.1} kbit/s)");
        ana.click("[data-testid=audio-only-toggle]").await?;
        ana.wait_until_peer_tile_decodes("Ben", MEDIA_WAIT).await?;
        ana.click("[data-testid=settings-toggle]").await?;

        // Back at mesh size: the mesh again after the delay, media browser to browser.
        let started = Instant::now();
        people[2].1.click("[data-testid=leave-button]").await?;
        people[0]
            .1
            .wait_for_gone("[data-testid=peer-tile][data-peer-name=\"Fox\"]", DEFAULT_WAIT)
            .await?;
        let gone = started.elapsed();
        for (_, browser) in &people[..2] {
            wait_for_topology(browser, "mesh", Duration::from_secs(30)).await?;
        }
        println!(
            "back to the mesh {:.1} s after the third person clicked leave (their tile gone \
             after {:.1} s; delay {RETURN_DELAY})",
            started.elapsed().as_secs_f64(),
            gone.as_secs_f64()
        );
        for (browser, other) in [(ana, "Ben"), (ben, "Ana")] {
            // The mesh link to the other sends video again, the closed SFU connections not.
            wait_until_sending_on(browser, 1, MEDIA_WAIT).await?;
            browser
                .wait_until_peer_tile_decodes(other, MEDIA_WAIT)
                .await?;
            let open_sfu = browser
                .eval_with(
                    "return (window.__pcs || []).filter(pc => pc.connectionState !== 'closed').length",
                    vec![json!(null)],
                )
                .await?;
            assert_eq!(open_sfu, json!(1), "{}: only the mesh link is open", browser.label());
        }
        for (browser, me, other) in [(ana, "Ana", "Ben"), (ben, "Ben", "Ana")] {
            report_audio_watch(browser, me, other, "return to the mesh").await?;
        }
        Ok(())
    })
    .await;
}

/// Every connection of the page (state, each receiver's kind, track and packets) and the
/// tracks each tile plays, for a failure message.
async fn describe_page_media(browser: &Browser) -> Result<serde_json::Value> {
    let script = r#"
        const pcs = [];
        for (const pc of (window.__pcs || [])) {
            const receivers = [];
            for (const receiver of pc.getReceivers()) {
                if (!receiver.track) continue;
                let packets = 0;
                if (pc.connectionState !== 'closed') {
                    (await receiver.getStats()).forEach(r => {
                        if (r.type === 'inbound-rtp') packets += r.packetsReceived || 0;
                    });
                }
                receivers.push(`${receiver.track.kind} ${receiver.track.id} ${receiver.track.readyState} ${packets}`);
            }
            pcs.push({ state: pc.connectionState, signaling: pc.signalingState, receivers });
        }
        const tiles = [...document.querySelectorAll('[data-testid=peer-tile]')].map(tile => {
            const video = tile.querySelector('video');
            const tracks = video && video.srcObject
                ? video.srcObject.getTracks().map(t => `${t.kind} ${t.id} ${t.readyState}`) : [];
            return { name: tile.dataset.peerName, tracks };
        });
        return { pcs, tiles };
    "#;
    browser.eval(script).await
}

/// The tile of `name` showing connection state `state`.
fn tile_in(name: &str, state: &str) -> String {
    format!("[data-testid=peer-tile][data-peer-name=\"{name}\"][data-connection={state}]")
}

/// How many peer connections the page has created so far.
async fn connections_created(browser: &Browser) -> Result<u64> {
    let value = browser.eval("return (window.__pcs || []).length;").await?;
    value.as_u64().ok_or_else(|| {
        meshmeet_e2e::Error::new(format!("{}: connections created: {value}", browser.label()))
    })
}

#[tokio::test]
async fn a_password_sfu_room_carries_a_share_chat_and_a_file_and_recovers_from_a_killed_janus() {
    let name =
        "a_password_sfu_room_carries_a_share_chat_and_a_file_and_recovers_from_a_killed_janus";
    let mut janus = Janus::start().await.expect("janus starts");
    let (url, port, key) = (janus.url(), janus.port(), janus.admin_key().to_owned());
    let args = relay_args(&url, &key, "2");
    run_test_within(name, &args, SFU_TEST_LIMIT, async |t| {
        println!("fake camera: 320x180 at 15 fps (?video=low); Janus {url}");
        let people = ana_ben_and_fox(t).await?;
        t.keep_out_of_logs("s3cret");
        for (name, browser) in &people {
            // A password-protected room: the first one in sets it, the others give it.
            join_with(browser, "phoenix", name, Some("s3cret")).await?;
        }
        for (_, browser) in &people {
            wait_for_topology(browser, "sfu", DEFAULT_WAIT).await?;
        }
        wait_until_everyone_decodes_everyone(&people, MEDIA_WAIT).await?;

        // A screen share (from Chromium: headless Firefox cannot capture one) reaches the
        // others through Janus, and stops everywhere. A real click: getDisplayMedia needs a
        // user gesture.
        let [(_, ana), (_, ben), (_, fox)] = &people;
        ana.click("[data-testid=screen-toggle]").await?;
        let screen = "[data-testid=screen-tile][data-peer-name=\"Ana\"]";
        for viewer in [ben, fox] {
            viewer
                .wait_until_video_decodes(&format!("{screen} video"), MEDIA_WAIT)
                .await?;
        }
        ana.click("[data-testid=screen-toggle]").await?;
        for viewer in [ben, fox] {
            viewer.wait_for_gone(screen, DEFAULT_WAIT).await?;
        }

        // Chat: the mesh links stay up beside the SFU for the data channels.
        fox.open_chat().await?;
        fox.say("hello from Firefox").await?;
        for reader in [ana, ben] {
            reader.open_chat().await?;
            reader
                .wait_until("Fox's chat", DEFAULT_WAIT, async || {
                    Ok(reader.chat_messages().await?
                        == [("Fox".to_owned(), "hello from Firefox".to_owned())])
                })
                .await?;
        }

        // A file from Ben reaches both others, byte for byte, over the same data channels.
        let dir = std::env::temp_dir().join(format!("meshmeet-e2e-sfu-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (path, digest) = make_file(&dir, "minutes.bin", 200_000)?;
        ben.wait_for("[data-testid=file-input]", DEFAULT_WAIT)
            .await?
            .send_keys(&path.to_string_lossy())
            .await
            .context("choosing the file")?;
        for receiver in [ana, fox] {
            receiver
                .wait_for(
                    "[data-testid=file-transfer][data-state=done] [data-testid=file-download]",
                    MEDIA_WAIT,
                )
                .await?;
            let got = receiver.eval(DOWNLOADED_SHA256).await?;
            assert_eq!(got["sha256"], json!(digest), "{}: {got}", receiver.label());
        }
        let _ = std::fs::remove_dir_all(&dir);

        let mut created = Vec::new();
        for (_, browser) in &people {
            created.push(connections_created(browser).await?);
        }

        // A crash: SIGKILL, then the service manager starts it again a second later, on the
        // same port with the same key and none of its rooms.
        janus.kill();
        let killed = Instant::now();
        // Every tile's media came through Janus: every tile says so.
        for (name, browser) in &people {
            for (other, _) in &people {
                if other != name {
                    browser
                        .wait_for(&tile_in(other, "reconnecting"), DEFAULT_WAIT)
                        .await?;
                }
            }
        }
        let noticed = killed.elapsed();
        janus = Janus::start_on(port, &key).await?;
        let restarted = killed.elapsed();

        // Every page publishes and subscribes again by itself (two new connections each)...
        for ((_, browser), before) in people.iter().zip(&created) {
            browser
                .wait_until("a new publisher and subscriber", MEDIA_WAIT, async || {
                    Ok(connections_created(browser).await? >= before + 2)
                })
                .await?;
        }
        // ...and everyone decodes everyone again, on the room Janus has now.
        let streams = match wait_until_everyone_decodes_everyone(&people, MEDIA_WAIT).await {
            Ok(streams) => streams,
            Err(err) => {
                let mut pages = String::new();
                for (name, browser) in &people {
                    pages += &format!("\n{name}: {}", describe_page_media(browser).await?);
                }
                return Err(meshmeet_e2e::Error::new(format!(
                    "{err}; the pages:{pages}"
                )));
            }
        };
        assert_eq!(streams, 6);
        let flowing = killed.elapsed();
        for (name, browser) in &people {
            wait_for_topology(browser, "sfu", DEFAULT_WAIT).await?;
            for (other, _) in &people {
                if other != name {
                    browser
                        .wait_for(&tile_in(other, "connected"), DEFAULT_WAIT)
                        .await?;
                }
            }
        }
        println!(
            "Janus killed: every tile said reconnecting after {:.1} s; Janus started again \
             after {:.1} s; media flowed again after {:.1} s",
            noticed.as_secs_f64(),
            restarted.as_secs_f64(),
            flowing.as_secs_f64()
        );
        Ok(())
    })
    .await;
}

/// Makes every video transceiver the page creates from now on offer H.264 only, as a
/// browser that can send nothing else would (Safari's case the room must serve).
const H264_ONLY: &str = r#"
    const add = RTCPeerConnection.prototype.addTransceiver;
    RTCPeerConnection.prototype.addTransceiver = function (...args) {
        const transceiver = add.apply(this, args);
        if (transceiver.receiver.track.kind === 'video') {
            const h264 = RTCRtpReceiver.getCapabilities('video').codecs
                .filter(c => c.mimeType === 'video/H264' || c.mimeType === 'video/rtx');
            transceiver.setCodecPreferences(h264);
        }
        return transceiver;
    };
    return true;
"#;

/// The codecs of the video the page decodes (`mimeType` of each inbound video stream that
/// decoded frames), over all its connections.
async fn decoded_video_codecs(browser: &Browser) -> Result<Vec<String>> {
    let script = r#"
        const codecs = new Set();
        for (const pc of (window.__pcs || [])) {
            if (pc.connectionState === 'closed') continue;
            const stats = await pc.getStats();
            stats.forEach(r => {
                if (r.type === 'inbound-rtp' && r.kind === 'video' && r.framesDecoded > 0) {
                    const codec = stats.get(r.codecId);
                    if (codec) codecs.add(codec.mimeType);
                }
            });
        }
        return [...codecs].sort();
    "#;
    Ok(serde_json::from_value(browser.eval(script).await?)?)
}

#[tokio::test]
async fn a_browser_that_sends_only_h264_is_decoded_through_the_sfu() {
    let name = "a_browser_that_sends_only_h264_is_decoded_through_the_sfu";
    let janus = Janus::start().await.expect("janus starts");
    let url = janus.url();
    let args = relay_args(&url, janus.admin_key(), "1");
    run_test_within(name, &args, SFU_TEST_LIMIT, async |t| {
        println!("fake camera: 320x180 at 15 fps (?video=low); Janus {url}; Ben sends H.264 only");
        let ana = t.chromium().await?;
        let ben = t.chromium().await?;
        join(&ana, "codecs", "Ana").await?;
        ben.ready_to_join(&room_url("codecs"), "Ben").await?;
        ben.record_peer_connections().await?;
        ben.eval(H264_ONLY).await?;
        ben.join_from_lobby().await?;
        for browser in [&ana, &ben] {
            wait_for_topology(browser, "sfu", DEFAULT_WAIT).await?;
        }
        ana.wait_until_peer_tile_decodes("Ben", MEDIA_WAIT).await?;
        ben.wait_until_peer_tile_decodes("Ana", MEDIA_WAIT).await?;
        // Ana decodes Ben's H.264; the mesh link sends nothing, so it came through Janus.
        let codecs = decoded_video_codecs(&ana).await?;
        assert_eq!(codecs, ["video/H264"], "Ana decodes {codecs:?}");
        wait_until_sending_on(&ben, 1, MEDIA_WAIT).await?;
        Ok(())
    })
    .await;
}

/// How many people the large-room test puts in one SFU room. Six, not eight: eight headless
/// Chromium pages starve two cores so far that their own upstreams stall and reconnect (two
/// clean-clone CI runs here failed with pages still not decoding after 90 and 300 s). Eight
/// are measured, not asserted, by `cargo xtask bench --sfu` (docs/SFU.md).
const LARGE_ROOM: usize = 6;
/// Longest the large-room test may take.
const LARGE_ROOM_LIMIT: Duration = Duration::from_secs(1200);
/// How long each of its pages may take to show what is expected of it: many pages starve
/// two cores (a page that never decodes still fails).
const LARGE_ROOM_WAIT: Duration = Duration::from_secs(300);
/// The window of each page of the large-room test (CSS pixels): every tile still shows.
const LARGE_ROOM_WINDOW: (u32, u32) = (640, 480);

#[tokio::test]
async fn six_people_in_an_sfu_room_each_decode_every_tile_shown_and_the_host_removes_one() {
    // One upstream per participant is shown with three people above and measured with
    // eight by `cargo xtask bench --sfu`; here every WebDriver call costs seconds.
    let name = "six_people_in_an_sfu_room_each_decode_every_tile_shown_and_the_host_removes_one";
    let janus = Janus::start().await.expect("janus starts");
    let url = janus.url();
    // The room moves to the SFU at its fifth person, as with the default `--mesh-max`.
    let args = relay_args(&url, janus.admin_key(), "4");
    run_test_within(name, &args, LARGE_ROOM_LIMIT, async |t| {
        println!(
            "camera {CHEAP_CAMERA}; {LARGE_ROOM} headless Chromium pages and Janus {url} on \
             two cores"
        );
        let room = "plenary";
        // Everyone waits in the lobby before the first joins: a browser starting up beside
        // a running call of seven is the slowest part otherwise.
        let mut people = Vec::with_capacity(LARGE_ROOM);
        for i in 0..LARGE_ROOM {
            let browser = t.chromium_with_args(&[CHEAP_CAMERA_ARG]).await?;
            // A small window: each page composites its tiles in software.
            browser
                .set_window_size(LARGE_ROOM_WINDOW.0, LARGE_ROOM_WINDOW.1)
                .await?;
            browser
                .ready_to_join(&format!("/r/{room}?video=tiny"), &format!("P{i}"))
                .await?;
            people.push((format!("P{i}"), browser));
        }
        let joining = Instant::now();
        for (_, browser) in &people {
            browser.join_from_lobby().await?;
        }
        println!(
            "{LARGE_ROOM} joined one after the other in {:.1} s",
            joining.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        try_join_all(
            people
                .iter()
                .map(|(_, browser)| wait_for_topology(browser, "sfu", LARGE_ROOM_WAIT)),
        )
        .await?;
        // Every page decodes the video of every tile it shows, and the tiles it shows are
        // everyone else's. The pages are asked at the same time: on two cores each
        // WebDriver call to a starved page takes seconds, and asked one after the other
        // eight took longer than the test may.
        let decoding = people.iter().map(async |(me, browser)| -> Result<usize> {
            let shown: Vec<String> = serde_json::from_value(
                browser
                    .eval_read(
                        "return [...document.querySelectorAll('[data-testid=peer-tile]')]
                            .map(tile => tile.dataset.peerName).sort();",
                    )
                    .await?,
            )?;
            let mut others: Vec<String> = people
                .iter()
                .map(|(name, _)| name.clone())
                .filter(|name| name != me)
                .collect();
            others.sort();
            if shown != others {
                return Err(Error::new(format!(
                    "{me} shows the tiles of {shown:?}, not of everyone else {others:?}"
                )));
            }
            browser
                .wait_until_peer_tiles_decode(&shown, LARGE_ROOM_WAIT)
                .await?;
            println!(
                "{me} decodes all {} tiles it shows, {:.1} s after the last person joined",
                shown.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(shown.len())
        });
        let streams: usize = try_join_all(decoding).await?.into_iter().sum();
        println!(
            "{streams} directed streams decoding {:.1} s after the last person joined",
            started.elapsed().as_secs_f64()
        );
        assert_eq!(streams, LARGE_ROOM * (LARGE_ROOM - 1));

        // The host (the first in) removes the last: told why, gone from every grid, and the
        // rest still decode each other through Janus.
        let removing = Instant::now();
        let (host, removed) = (&people[0].1, &people[LARGE_ROOM - 1]);
        host.click("[data-testid=participants-toggle]").await?;
        // The button is pressed from the page: on this starved page WebDriver's own click
        // kept landing on the lock-room label below the roster (CI, twice: WebDriver placed
        // the button 60 px below where the page drew it), which is not what this test is
        // about. The click handler is the one a person's click runs.
        let remove = format!(
            "[data-testid=remove-participant][aria-label$=\" {}\"]",
            removed.0
        );
        host.wait_for(&remove, LARGE_ROOM_WAIT).await?;
        host.eval_with(
            "document.querySelector(arguments[0]).click();",
            vec![json!(remove)],
        )
        .await?;
        let told = removed
            .1
            .wait_for("[data-testid=error-banner]", LARGE_ROOM_WAIT)
            .await?
            .text()
            .await?;
        assert!(told.contains("removed you"), "{told}");
        let gone = format!("[data-testid=peer-tile][data-peer-name=\"{}\"]", removed.0);
        try_join_all(
            people[..LARGE_ROOM - 1]
                .iter()
                .map(|(_, browser)| browser.wait_for_gone(&gone, LARGE_ROOM_WAIT)),
        )
        .await?;
        let host_name = [people[0].0.clone()];
        try_join_all(people[1..LARGE_ROOM - 1].iter().map(async |(me, browser)| {
            browser
                .wait_until_peer_tiles_decode(&host_name, LARGE_ROOM_WAIT)
                .await
                .with_context(|| format!("{me} decoding the host after the removal"))
        }))
        .await?;
        println!(
            "{} removed; the others decode the host again {:.1} s after the click",
            removed.0,
            removing.elapsed().as_secs_f64()
        );
        Ok(())
    })
    .await;
}

/// Ana and Ben join `url` (an encrypted room if `encrypted`, which every page must then
/// say); Ben's tile on Ana's page gets the whole picture, half of it once her window is
/// small, and the whole again once it is large: how long each change took.
async fn layers_follow_the_window(
    ana: &Browser,
    ben: &Browser,
    url: &str,
    encrypted: bool,
) -> Result<(Duration, Duration)> {
    for (browser, name) in [(ana, "Ana"), (ben, "Ben")] {
        browser.ready_to_join(url, name).await?;
        browser.record_peer_connections().await?;
        browser.join_from_lobby().await?;
    }
    for browser in [ana, ben] {
        wait_for_topology(browser, "sfu", DEFAULT_WAIT).await?;
        if encrypted {
            browser
                .wait_for("[data-testid=e2ee-badge][data-e2ee=frames]", DEFAULT_WAIT)
                .await?;
        }
    }
    ana.wait_until_peer_tile_decodes("Ben", MEDIA_WAIT).await?;
    // Ben's tile fills half of a 1280x800 window: the whole picture.
    wait_for_tile_width(ana, "Ben", 640).await?;
    // A small window makes the tile about 230 px wide: half the picture is enough.
    ana.set_window_size(520, 560).await?;
    let smaller = wait_for_tile_width(ana, "Ben", 320).await?;
    // And large again: the whole picture again.
    ana.set_window_size(1280, 800).await?;
    let larger = wait_for_tile_width(ana, "Ben", 640).await?;
    ana.wait_until_peer_tile_decodes("Ben", MEDIA_WAIT).await?;
    Ok((smaller, larger))
}

/// The width of the picture `page` shows in `peer`'s tile (its `<video>`'s `videoWidth`).
async fn tile_video_width(page: &Browser, peer: &str) -> Result<u64> {
    let script = "const v = document.querySelector(
            `[data-testid=peer-tile][data-peer-name=\"${arguments[0]}\"] video`);
        return v ? v.videoWidth : 0;";
    let value = page.eval_with(script, vec![json!(peer)]).await?;
    Ok(value.as_u64().unwrap_or(0))
}

/// Waits until `page` shows `peer`'s camera `wanted` pixels wide; how long that took.
async fn wait_for_tile_width(page: &Browser, peer: &str, wanted: u64) -> Result<Duration> {
    let what = format!("{wanted} px wide");
    let (took, _) = wait_for_tile_picture(page, peer, &what, |w| w == wanted).await?;
    Ok(took)
}

/// Waits until `page` shows `peer`'s camera narrower than `width` (and not blank); how long
/// that took and the width.
async fn wait_for_tile_narrower_than(
    page: &Browser,
    peer: &str,
    width: u64,
) -> Result<(Duration, u64)> {
    let what = format!("narrower than {width} px");
    wait_for_tile_picture(page, peer, &what, |w| w > 0 && w < width).await
}

/// Waits until the width of `peer`'s camera on `page` passes `ok` (`what` says how, for the
/// error); how long that took and the width.
async fn wait_for_tile_picture(
    page: &Browser,
    peer: &str,
    what: &str,
    ok: impl Fn(u64) -> bool,
) -> Result<(Duration, u64)> {
    let started = Instant::now();
    let mut last = 0;
    page.wait_until(
        &format!("{peer}'s tile to show a picture {what}"),
        MEDIA_WAIT,
        async || {
            last = tile_video_width(page, peer).await?;
            Ok(ok(last))
        },
    )
    .await
    .with_context(|| format!("last width {last}"))?;
    Ok((started.elapsed(), last))
}

/// The local UDP port of `page`'s SFU subscriber connection (the one receiving video).
async fn subscriber_port(page: &Browser) -> Result<u16> {
    let script = r#"
        for (const pc of (window.__pcs || [])) {
            if (pc.connectionState !== 'connected') continue;
            const stats = await pc.getStats();
            let receives = false, pair = null;
            stats.forEach(r => {
                if (r.type === 'inbound-rtp' && r.kind === 'video') receives = true;
                if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
            });
            if (receives && pair) return stats.get(pair.localCandidateId).port;
        }
        return 0;
    "#;
    let port = page.eval(script).await?.as_u64().unwrap_or(0);
    u16::try_from(port)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| meshmeet_e2e::Error::new("no connected SFU subscriber with a local port"))
}

/// The simulcast layers a page publishes: `frameWidth` of each `outbound-rtp` by `rid`.
async fn published_layers(page: &Browser) -> Result<serde_json::Value> {
    let script = r#"
        const layers = {};
        for (const pc of (window.__pcs || [])) {
            if (pc.connectionState === 'closed') continue;
            (await pc.getStats()).forEach(r => {
                if (r.type === 'outbound-rtp' && r.kind === 'video' && r.rid) layers[r.rid] = r.frameWidth || 0;
            });
        }
        return layers;
    "#;
    page.eval(script).await
}

#[tokio::test]
async fn a_camera_tile_gets_the_simulcast_layer_its_size_needs_through_the_sfu() {
    let name = "a_camera_tile_gets_the_simulcast_layer_its_size_needs_through_the_sfu";
    let janus = Janus::start().await.expect("janus starts");
    let url = janus.url();
    let args = relay_args(&url, janus.admin_key(), "1");
    run_test_within(name, &args, SFU_TEST_LIMIT, async |t| {
        println!(
            "fake camera: the standard 640x360 at 24 fps, published in three layers; \
             Janus {url}"
        );
        let ana = t.chromium().await?;
        let ben = t.chromium().await?;
        let (smaller, larger) = layers_follow_the_window(&ana, &ben, "/r/layers", false).await?;
        println!("Ben publishes {}", published_layers(&ben).await?);
        println!(
            "Ana's tile of Ben: 640 px wide, 320 px {:.1} s after the window shrank, 640 px \
             {:.1} s after it grew",
            smaller.as_secs_f64(),
            larger.as_secs_f64()
        );

        // A congested downlink: what Janus sends Ana is limited to 150 kbit/s, less than
        // Ben's whole picture and his sound need. Ana's page sees the loss and asks for a
        // smaller layer, though her tile is large; back to the whole picture once the link
        // is clean again.
        let port = subscriber_port(&ana).await?;
        let throttle = DownlinkThrottle::start(port, 150)?;
        let (lowered, width) = wait_for_tile_narrower_than(&ana, "Ben", 640).await?;
        let (sent, dropped) = throttle.counters()?;
        drop(throttle);
        let restored = wait_for_tile_width(&ana, "Ben", 640).await?;
        ana.wait_until_peer_tile_decodes("Ben", MEDIA_WAIT).await?;
        println!(
            "Ana's downlink limited to 150 kbit/s (UDP port {port}, by tc on loopback): \
             {width} px {:.1} s later ({sent} packets passed, {dropped} dropped); limit \
             lifted: 640 px again {:.1} s later",
            lowered.as_secs_f64(),
            restored.as_secs_f64()
        );

        // The same in an end-to-end encrypted room: Janus cannot read the frames, yet still
        // switches layers on the key frames it sees in their clear headers.
        let (smaller, larger) =
            layers_follow_the_window(&ana, &ben, "/r/layers-sealed#key=layers-passphrase", true)
                .await?;
        println!(
            "encrypted room: Ana's tile of Ben 320 px {:.1} s after the window shrank, 640 px \
             {:.1} s after it grew",
            smaller.as_secs_f64(),
            larger.as_secs_f64()
        );
        Ok(())
    })
    .await;
}
