//! Going live end to end, on a real Janus: the host of a two-person meeting (a mesh) puts
//! the other participant on the stage; the room moves to the SFU, everyone in it sees the
//! live badge naming who is on the stage; a Firefox page opened on the watch link plays the
//! stage (Firefox numbers its codecs unlike Janus's defaults, which the relay's WHEP bridge
//! must carry over), counts itself among the viewers, and says the live ended once the host
//! stops it; five aiortc WHEP viewers (not browsers) decode it too. The host also sends the live to an RTMP server (a real nginx-rtmp started by the
//! test) and as HLS: ffprobe finds H.264 and AAC at 1280x720 in both, the recording nginx
//! makes of the RTMP stream grows, no other participant's page holds the stream key, and no
//! ffmpeg is left running once the live stops. An encoder the host lets in (aiortc over
//! WHIP, not a browser) appears to the others as a tile; put on the stage, the watch page
//! follows it; its `DELETE` takes it out of the meeting. A mock RTSP camera
//! (gst-rtsp-server) the host adds is decoded as a tile in Chromium and in Firefox; on the
//! stage, the watch page shows it and RTMP carries it with silence for its missing sound.
//! Last, the stage follows whoever speaks: Ben while Ana is muted, then Ana once she
//! unmutes and he mutes, the watch page following to each one's picture.
//!
//! Every page runs with `?video=low` (320x180 at 15 fps) but Ben's (`?video=tiny`, 160x88):
//! two Chromium, a Firefox and Janus share two cores.

use meshmeet_e2e::a11y::serious_violations;
use meshmeet_e2e::live::{add_camera, let_encoder_in, link, pick_stage, set_stage, type_rtmp_urls};
use meshmeet_e2e::rtmp::{ffmpeg_pids, ffprobe, grab_grey, shows_two_side_by_side, Probe};
use meshmeet_e2e::rtsp_camera::RtspCamera;
use meshmeet_e2e::speech::{fake_microphone_arg, write_speech_wav};
use meshmeet_e2e::{room_url, run_test_within, Browser, Context, Error, Janus, Result, RtmpServer};
use meshmeet_e2e::{whep_viewers, whip_publisher};
use std::time::{Duration, Instant};

/// Time allowed for media to connect and decode on a loaded two-core machine.
const MEDIA_WAIT: Duration = Duration::from_secs(90);
/// Non-browser WHEP viewers beside the Firefox watch page, and the video frames each must
/// decode (two seconds of the 15 fps stage).
const AIORTC_VIEWERS: usize = 5;
const AIORTC_FRAMES: u32 = 30;
/// Longest the whole test may take.
const LIVE_TEST_LIMIT: Duration = Duration::from_secs(420);
/// The mock RTSP camera's picture (4:3, unlike everyone else's).
const CAMERA_SIZE: (u32, u32) = (320, 240);
/// An RTMP address that refuses: nothing listens on the discard port on loopback.
const REFUSING_RTMP: &str = "rtmp://127.0.0.1:9/live/refused_key";
/// Ben's camera (`?video=tiny`, 160x90 asked) as the watch page receives it, unlike Ana's
/// 320x180: the watch page shows which of them it plays.
const BEN_SIZE: (u32, u32) = (160, 88);
/// The WHIP encoder's picture: unlike the browsers', so the watch page shows whose.
const ENCODER_SIZE: (u32, u32) = (256, 144);

async fn join(browser: &Browser, room: &str, name: &str) -> Result {
    browser.ready_to_join(&room_url(room), name).await?;
    browser.join_from_lobby().await
}

/// Probes `input` until it holds H.264 and AAC at the encoder's 1280x720 (bounded by
/// [`MEDIA_WAIT`]); the last probe or error says why not.
async fn wait_for_h264_and_aac(input: &str, what: &str) -> Result<Probe> {
    let started = Instant::now();
    loop {
        let last = match ffprobe(input, false).await {
            Ok(probe) if probe.is_h264_and_aac() && probe.size == Some((1280, 720)) => {
                return Ok(probe)
            }
            Ok(probe) => format!("{probe:?}"),
            Err(err) => err.to_string(),
        };
        if started.elapsed() > MEDIA_WAIT {
            return Err(Error::new(format!(
                "{what}: no H.264 and AAC at 1280x720 within {MEDIA_WAIT:?}; last: {last}"
            )));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Grabs frames of `input` until one satisfies `wanted` (bounded by [`MEDIA_WAIT`]; a
/// stream that is starting again after a stage change may have none for a moment): that
/// frame, and how many were grabbed.
async fn grab_until(input: &str, wanted: impl Fn(&[u8]) -> bool) -> Result<(Vec<u8>, u32)> {
    let started = Instant::now();
    let mut grabs = 0;
    loop {
        grabs += 1;
        let last = match grab_grey(input).await {
            Ok(frame) if wanted(&frame) => return Ok((frame, grabs)),
            Ok(_) => "a frame without it".to_owned(),
            Err(err) => err.to_string(),
        };
        if started.elapsed() > MEDIA_WAIT {
            return Err(Error::new(format!(
                "{input}: no such frame within {MEDIA_WAIT:?} ({grabs} grabbed); last: {last}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until the watch page `fox` plays a picture whose `side` (`videoWidth`,
/// `videoHeight`) is `pixels`: it followed the stage to `whom`.
async fn watch_page_follows(fox: &Browser, side: &str, pixels: u32, whom: &str) -> Result {
    fox.wait_until_js(
        &format!("document.querySelector('[data-testid=live-video]')?.{side} === {pixels}"),
        MEDIA_WAIT,
    )
    .await
    .with_context(|| format!("the watch page follows the stage to {whom}"))?;
    fox.wait_until_video_decodes("[data-testid=live-video]", MEDIA_WAIT)
        .await
        .with_context(|| format!("the watch page plays {whom}"))?;
    Ok(())
}

/// Fails with the serious accessibility violations axe-core finds on `page` now.
async fn assert_accessible(page: &Browser, what: &str) -> Result {
    let violations = serious_violations(page).await?;
    if violations.is_empty() {
        return Ok(());
    }
    Err(Error::new(format!(
        "{what}: {} serious accessibility violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    )))
}

#[tokio::test]
async fn the_host_goes_live_and_a_firefox_watch_page_plays_the_stage() {
    let name = "the_host_goes_live_and_a_firefox_watch_page_plays_the_stage";
    let janus = Janus::start().await.expect("janus starts");
    let rtmp = RtmpServer::start().await.expect("nginx-rtmp starts");
    let stream_key = "sk_live_4c1d2e9f";
    let rtmp_url = rtmp.url(stream_key);
    let url = janus.url();
    let args = ["--janus-url", &url, "--janus-admin-key", janus.admin_key()];
    run_test_within(name, &args, LIVE_TEST_LIMIT, async |t| {
        // Stream keys stay out of the relay's log (ffmpeg's lines are masked).
        t.keep_out_of_logs(stream_key);
        t.keep_out_of_logs("refused_key");
        // The fake microphone's beep is silent most of the time: to be heard talking, Ana
        // and Ben play a loud speech-like sound.
        let speech = t.artifact("speech.wav");
        write_speech_wav(&speech)?;
        let microphone = fake_microphone_arg(&speech);
        println!(
            "fake camera: 320x180 at 15 fps (?video=low; Ben 160x88, ?video=tiny); fake microphone: a speech-like \
             sound (tests/e2e/src/speech.rs); Janus {url}"
        );
        let ana = t.chromium_with_args(&[&microphone]).await?;
        let ben = t.chromium_with_args(&[&microphone]).await?;
        join(&ana, "hearing", "Ana").await?;
        // Ben's camera is smaller than Ana's, so the watch page shows which of them it plays.
        ben.ready_to_join("/r/hearing?video=tiny", "Ben").await?;
        ben.join_from_lobby().await?;
        ana.wait_for("[data-testid=tile-grid][data-topology=mesh]", MEDIA_WAIT)
            .await?;

        // The host puts Ben on the stage and goes live.
        ana.click("[data-testid=participants-toggle]").await?;
        ana.wait_for("[data-testid=live-toggle]", MEDIA_WAIT).await?;
        pick_stage(&ana, "Ben").await?;
        // Also to the RTMP server, to an address that refuses (nothing listens on port 9),
        // and as HLS.
        type_rtmp_urls(&ana, &format!("{rtmp_url}\n{REFUSING_RTMP}\n")).await?;
        ana.click("[data-testid=live-hls]").await?;
        let went_live = Instant::now();
        ana.click("[data-testid=live-toggle]").await?;
        // Ana's badge names Ben; Ben's says it is him.
        for (page, on_stage) in [(&ana, "Ben"), (&ben, "You")] {
            let shown = format!(
                "document.querySelector('[data-testid=live-badge]')?.textContent.includes('{on_stage}')"
            );
            page.wait_until_js(&shown, MEDIA_WAIT)
                .await
                .with_context(|| format!("{} shows the live badge", page.label()))?;
            page.wait_for("[data-testid=tile-grid][data-topology=sfu]", MEDIA_WAIT)
                .await
                .with_context(|| format!("{} moves to the SFU", page.label()))?;
        }
        assert_accessible(&ana, "the host's live controls").await?;
        let watch_link = link(&ana, "watch-link").await?;
        assert!(watch_link.contains("/live/hearing?t="), "{watch_link}");

        // An audience member, in Firefox, on the watch link: no join, no camera.
        let fox = t.firefox().await?;
        fox.goto(&watch_link).await?;
        let sample = fox
            .wait_until_video_decodes("[data-testid=live-video]", MEDIA_WAIT)
            .await
            .context("the watch page plays the stage")?;
        let first_frame = went_live.elapsed();
        fox.wait_until_js(
            "document.querySelector('[data-testid=viewer-count]')?.textContent.startsWith('1 ')",
            MEDIA_WAIT,
        )
        .await
        .context("the watch page counts its viewer")?;
        assert_eq!(
            fox.count("[data-testid=participant]").await?,
            0,
            "a viewer is in no roster"
        );
        // Five more viewers that are not browsers (aiortc), over WHEP with the same token.
        let (origin, token) = watch_link
            .split_once("/live/")
            .zip(watch_link.split_once("?t="))
            .map(|((origin, _), (_, token))| (origin.to_owned(), token.to_owned()))
            .ok_or_else(|| Error::new(format!("not a watch link: {watch_link}")))?;
        let watching = Instant::now();
        let reports = whep_viewers::watch(
            &format!("{origin}/whep/hearing"),
            &token,
            AIORTC_VIEWERS,
            AIORTC_FRAMES,
            MEDIA_WAIT,
        )
        .await?;
        assert_eq!(reports.len(), AIORTC_VIEWERS);
        for (i, report) in reports.iter().enumerate() {
            assert!(
                report.status == Some(201)
                    && report.error.is_none()
                    && report.video_frames >= u64::from(AIORTC_FRAMES)
                    && report.audio_frames > 0
                    && report.size.is_some_and(|(w, h)| w > 0 && h > 0),
                "aiortc viewer {i}: {report:?}"
            );
        }
        println!(
            "{AIORTC_VIEWERS} aiortc WHEP viewers each decoded {AIORTC_FRAMES} frames \
             ({:?}) and audio within {:.1} s",
            reports[0].size.unwrap_or_default(),
            watching.elapsed().as_secs_f64()
        );
        // On a phone held upright the stage fills the width, and every control is named.
        fox.set_window_size(390, 844).await?;
        fox.wait_until_js(
            "(() => { const r = document.querySelector('[data-testid=live-video]').getBoundingClientRect(); \
              return r.width > 0.8 * innerWidth && r.width <= innerWidth && r.height > 0; })()",
            MEDIA_WAIT,
        )
        .await
        .context("the stage fills a phone's width")?;
        assert_accessible(&fox, "the watch page").await?;
        println!(
            "the stage ({}x{}) played on the Firefox watch page {:.1} s after the host went live",
            sample.size.0,
            sample.size.1,
            first_frame.as_secs_f64()
        );

        // RTMP and HLS: the stage encoded once by the relay's ffmpeg, H.264 and AAC.
        let rtmp_probe = wait_for_h264_and_aac(&rtmp_url, "the RTMP server's stream").await?;
        let rtmp_after = went_live.elapsed();
        let hls_link = link(&ana, "hls-link").await?;
        assert!(hls_link.contains("/live/hearing/index.m3u8?t="), "{hls_link}");
        wait_for_h264_and_aac(&hls_link, "the relay's HLS playlist").await?;
        let hls_after = went_live.elapsed();
        // What nginx records of the RTMP stream keeps growing.
        let recording = rtmp.recording(stream_key).display().to_string();
        let first = ffprobe(&recording, true).await?.last_video_time;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let later = ffprobe(&recording, true).await?.last_video_time;
        assert!(
            matches!((first, later), (Some(a), Some(b)) if b > a),
            "the RTMP recording grows: {first:?} then {later:?}"
        );
        // The host sees the refusing address failing and tried again with backoff (the
        // second wait is 2 s), its key masked, while the other goes on.
        let states = "[...document.querySelectorAll('[data-testid=rtmp-status] li')]";
        ana.wait_until_js(
            &format!(
                "(() => {{ const s = {states}; return s.length === 2 && \
                 s[0].dataset.status === 'sending' && s[1].dataset.status === 'failing' && \
                 /: ([2-9]|[1-9][0-9])\\)$/.test(s[1].textContent.trim()); }})()"
            ),
            MEDIA_WAIT,
        )
        .await
        .context("the host sees one address sending and the other failing, tried again")?;
        let failing = ana
            .eval(&format!("return {states}[1].textContent"))
            .await?;
        let failing = failing.as_str().unwrap_or_default().to_owned();
        assert!(
            failing.contains("rtmp://127.0.0.1:9/live/****") && !failing.contains("refused_key"),
            "{failing}"
        );
        println!("the refusing RTMP address, as the host sees it: {failing}");
        println!(
            "RTMP {:?} {:?} probed {:.1} s and HLS {:.1} s after going live; the recording \
             went from {:.1} s to {:.1} s of video",
            rtmp_probe.codecs,
            rtmp_probe.size,
            rtmp_after.as_secs_f64(),
            hls_after.as_secs_f64(),
            first.unwrap_or_default(),
            later.unwrap_or_default()
        );
        // The stream key stays with the host (and the relay).
        let leaked = ben
            .eval_with(
                "return document.documentElement.outerHTML.includes(arguments[0])",
                vec![serde_json::json!(stream_key)],
            )
            .await?;
        assert_eq!(leaked, serde_json::json!(false), "Ben's page holds the stream key");
        assert!(!ffmpeg_pids().is_empty(), "the relay's encoder runs while live");

        // Two on the stage: the relay's ffmpeg puts them side by side for RTMP and HLS and
        // sends the same picture back to the watch page.
        let single = grab_until(&rtmp_url, |_| true).await?.0;
        assert!(
            !shows_two_side_by_side(&single),
            "one on the stage fills the RTMP picture"
        );
        set_stage(&ana, &["Ana", "Ben"]).await?;
        let two_staged = Instant::now();
        // Both pages name both on the stage, in the order they were ticked ("You" for
        // oneself): Ben, then Ana beside him.
        for (page, names) in [(&ana, "Ben, You"), (&ben, "You, Ana")] {
            page.wait_until_js(
                &format!(
                    "document.querySelector('[data-testid=live-badge]')?.textContent.endsWith('{names}')"
                ),
                MEDIA_WAIT,
            )
            .await?;
        }
        let (_, grabs) = grab_until(&rtmp_url, shows_two_side_by_side)
            .await
            .context("the RTMP picture shows the two side by side")?;
        let rtmp_two = two_staged.elapsed();
        watch_page_follows(&fox, "videoWidth", 1280, "the two side by side").await?;
        let two_frame = fox
            .eval(
                "const v = document.querySelector('[data-testid=live-video]'); \
                 const c = document.createElement('canvas'); c.width = 64; c.height = 36; \
                 const g = c.getContext('2d'); g.drawImage(v, 0, 0, 64, 36); \
                 return [...g.getImageData(0, 0, 64, 36).data] \
                     .filter((_, i) => i % 4 === 1);",
            )
            .await?;
        let two_frame: Vec<u8> = two_frame
            .as_array()
            .map(|px| px.iter().filter_map(|v| v.as_u64()?.try_into().ok()).collect())
            .unwrap_or_default();
        println!(
            "two on the stage: the RTMP picture showed them side by side {:.1} s after the \
             host ticked the second ({grabs} frames grabbed), the watch page {:.1} s after \
             (1280x720, the relay's composite)",
            rtmp_two.as_secs_f64(),
            two_staged.elapsed().as_secs_f64()
        );
        assert!(
            shows_two_side_by_side(&two_frame),
            "the watch page shows the two side by side: {two_frame:?}"
        );

        // The host lets an encoder in; it publishes over WHIP with the token it was given.
        let_encoder_in(&ana, "Studio camera").await?;
        ana.wait_for("[data-testid=whip-token]", MEDIA_WAIT).await?;
        let whip_url = link(&ana, "whip-url").await?;
        assert!(whip_url.ends_with("/whip/hearing"), "{whip_url}");
        let whip_token = link(&ana, "whip-token").await?;
        t.keep_out_of_logs(&whip_token);
        let publishing = Instant::now();
        let encoder =
            whip_publisher::publish(&whip_url, &whip_token, ENCODER_SIZE.0, ENCODER_SIZE.1)
                .await?;
        let tile = ben
            .wait_until_peer_tile_decodes("Studio camera", MEDIA_WAIT)
            .await
            .context("Ben's page shows the encoder as a tile")?;
        assert_eq!(
            tile.size,
            (u64::from(ENCODER_SIZE.0), u64::from(ENCODER_SIZE.1))
        );
        let tile_after = publishing.elapsed();
        // On the stage: the watch page follows to the encoder's picture.
        pick_stage(&ana, "Studio camera").await?;
        let staged = Instant::now();
        watch_page_follows(&fox, "videoWidth", ENCODER_SIZE.0, "the encoder").await?;
        println!(
            "a WHIP encoder ({}x{}, aiortc) decoded as a tile {:.1} s after its POST; on the \
             stage, the watch page showed it {:.1} s after the host picked it",
            ENCODER_SIZE.0,
            ENCODER_SIZE.1,
            tile_after.as_secs_f64(),
            staged.elapsed().as_secs_f64()
        );
        assert_eq!(encoder.stop().await?, 200, "the encoder's DELETE");
        ben.wait_for_gone(
            "[data-testid=peer-tile][data-peer-name=\"Studio camera\"]",
            MEDIA_WAIT,
        )
        .await
        .context("the encoder leaves the meeting after its DELETE")?;

        // A mock IP camera the host adds: a tile for everyone, in Chromium and in Firefox.
        let camera = RtspCamera::start(CAMERA_SIZE.0, CAMERA_SIZE.1).await?;
        let cy = t.firefox().await?;
        join(&cy, "hearing", "Cy").await?;
        let adding = Instant::now();
        add_camera(&ana, "Lobby camera", &camera.url).await?;
        for page in [&ben, &cy] {
            let tile = page
                .wait_until_peer_tile_decodes("Lobby camera", MEDIA_WAIT)
                .await
                .with_context(|| format!("{} shows the RTSP camera as a tile", page.label()))?;
            assert_eq!(
                tile.size,
                (u64::from(CAMERA_SIZE.0), u64::from(CAMERA_SIZE.1)),
                "{}",
                page.label()
            );
        }
        println!(
            "an RTSP camera ({}x{} H.264 at 10 fps, gst-rtsp-server) decoded as a tile in \
             Chromium and Firefox {:.1} s after the host added it",
            CAMERA_SIZE.0,
            CAMERA_SIZE.1,
            adding.elapsed().as_secs_f64()
        );
        cy.close().await?;
        // On the stage, a camera has no sound: RTMP carries its picture with silence.
        pick_stage(&ana, "Lobby camera").await?;
        let staged = Instant::now();
        watch_page_follows(&fox, "videoHeight", CAMERA_SIZE.1, "the camera").await?;
        let probe = wait_for_h264_and_aac(&rtmp_url, "RTMP with the camera on the stage").await?;
        println!(
            "with the camera (no microphone) on the stage, the watch page showed it and RTMP \
             had {:?} again {:.1} s later",
            probe.codecs,
            staged.elapsed().as_secs_f64()
        );

        // The stage follows whoever speaks: with Ana muted, Ben (talking) takes it from the
        // silent camera once its hold is over, and the watch page follows to his picture;
        // then Ben mutes and Ana unmutes, and the stage (and the watch page) goes to her.
        ana.click("[data-testid=mic-toggle]").await?;
        ana.click("[data-testid=live-follow-speaker]").await?;
        let following = Instant::now();
        let on_stage = |name: &str| {
            format!(
                "(() => {{ const b = document.querySelector('[data-testid=live-badge]'); \
                  return !!b && !!b.querySelector('[data-testid=live-follows-speaker]') && \
                  b.textContent.includes(': {name} ('); }})()"
            )
        };
        ana.wait_until_js(&on_stage("Ben"), MEDIA_WAIT)
            .await
            .context("the stage follows Ben, who talks")?;
        let to_ben = following.elapsed();
        watch_page_follows(&fox, "videoHeight", BEN_SIZE.1, "Ben").await?;
        let swapping = Instant::now();
        ben.click("[data-testid=mic-toggle]").await?;
        ana.click("[data-testid=mic-toggle]").await?;
        ben.wait_until_js(&on_stage("Ana"), MEDIA_WAIT)
            .await
            .context("the stage follows Ana once she talks and Ben is muted")?;
        let to_ana = swapping.elapsed();
        ana.wait_until_js(&on_stage("You"), MEDIA_WAIT).await?;
        watch_page_follows(&fox, "videoHeight", 180, "Ana").await?;
        println!(
            "following the speaker: Ben (talking; Ana muted) on the stage {:.1} s after the \
             host chose it (the silent camera had held it longer than the 3 s hold), Ana \
             {:.1} s after she unmuted and Ben muted (his 3 s hold over by then)",
            to_ben.as_secs_f64(),
            to_ana.as_secs_f64()
        );

        // The host stops: the badge goes, the watch page says the live ended.
        ana.click("[data-testid=live-toggle]").await?;
        ben.wait_for_gone("[data-testid=live-badge]", MEDIA_WAIT).await?;
        fox.wait_for("[data-testid=watch-page][data-phase=ended]", MEDIA_WAIT)
            .await
            .context("the watch page says the live ended")?;
        // Every process it started is gone, and so is its HLS.
        let stopping = Instant::now();
        while !ffmpeg_pids().is_empty() && stopping.elapsed() < MEDIA_WAIT {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(ffmpeg_pids(), Vec::<u32>::new(), "ffmpeg left running after the live");
        assert!(
            ffprobe(&hls_link, false).await.is_err(),
            "the HLS playlist is gone with the live"
        );
        Ok(())
    })
    .await;
}
