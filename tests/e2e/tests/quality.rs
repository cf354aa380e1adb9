//! Bandwidth adaptation and connection figures in real browsers: with four people each
//! participant's video upload stays within its budget, every remote video still decodes, and
//! the stats panel shows real figures over a host (loopback) candidate pair; and receiving
//! audio only, switched in the call or chosen in the lobby, stops the others' video upload
//! but not their audio.

use meshmeet_e2e::{room_url, run_test, Browser, Result, DEFAULT_WAIT};
use serde_json::Value as Json;
use std::time::Duration;

const MEDIA_WAIT: Duration = Duration::from_secs(120);
/// The video budget every participant is given (kbit/s): small, so that sending without
/// the budget (320x180 at 15 fps to three peers) would clearly exceed it.
const BUDGET_KBPS: f64 = 400.0;
/// `bytesSent` counts RTP headers and retransmissions the encoder target does not.
const OVERHEAD: f64 = 1.15;

/// Total video bytes sent over every open peer connection, and the stats clock.
const VIDEO_BYTES_SENT: &str = r#"
    let bytes = 0, at = 0;
    for (const pc of window.__pcs) {
        if (pc.connectionState === 'closed') continue;
        const report = await pc.getStats();
        report.forEach(r => {
            if (r.type === 'outbound-rtp' && r.kind === 'video') { bytes += r.bytesSent; at = Math.max(at, r.timestamp); }
        });
    }
    return { bytes, at };
"#;

/// The page of `room` with the test budget.
fn budget_url(room: &str) -> String {
    format!("{}&budget={BUDGET_KBPS}", room_url(room))
}

/// Joins `room` as `name` with the test budget, recording the page's peer connections.
async fn join(browser: &Browser, room: &str, name: &str) -> Result {
    browser.ready_to_join(&budget_url(room), name).await?;
    browser.record_peer_connections().await?;
    browser.join_from_lobby().await
}

async fn video_bytes_sent(browser: &Browser) -> Result<(f64, f64)> {
    let v: Json = browser.eval(VIDEO_BYTES_SENT).await?;
    Ok((
        v["bytes"].as_f64().unwrap_or(0.0),
        v["at"].as_f64().unwrap_or(0.0),
    ))
}

#[tokio::test]
async fn four_people_stay_within_their_upload_budget_and_all_video_decodes() {
    run_test("four_people_stay_within_their_upload_budget_and_all_video_decodes", async |t| {
        let names = ["Ana", "Ben", "Cy", "Di"];
        let mut people = Vec::new();
        for name in names {
            let browser = t.chromium().await?;
            join(&browser, "budget", name).await?;
            people.push((name, browser));
        }
        for (name, browser) in &people {
            for other in names.iter().filter(|o| *o != name) {
                browser.wait_until_peer_tile_decodes(other, MEDIA_WAIT).await?;
            }
        }
        // Warm-up: the budget is applied after negotiation and the encoders settle.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let mut before = Vec::new();
        for (_, browser) in &people {
            before.push(video_bytes_sent(browser).await?);
        }
        tokio::time::sleep(Duration::from_secs(6)).await;
        for ((name, browser), (bytes0, at0)) in people.iter().zip(before) {
            let (bytes1, at1) = video_bytes_sent(browser).await?;
            let seconds = (at1 - at0) / 1000.0;
            let kbps = (bytes1 - bytes0) * 8.0 / seconds / 1000.0;
            eprintln!("{name} sends {kbps:.0} kbit/s of video to three peers (budget {BUDGET_KBPS})");
            assert!(kbps > 0.0, "{name} sends no video at all");
            assert!(
                kbps <= BUDGET_KBPS * OVERHEAD,
                "{name} sends {kbps:.0} kbit/s of video, over its budget of {BUDGET_KBPS}"
            );
        }
        // Still decoding everywhere after the budget was applied.
        for (name, browser) in &people {
            for other in names.iter().filter(|o| *o != name) {
                browser.wait_until_peer_tile_decodes(other, MEDIA_WAIT).await?;
            }
        }

        // The stats panel shows real figures over a loopback (host) pair.
        let (_, ana) = &people[0];
        ana.click("[data-testid=peer-tile][data-peer-name=Ben] [data-testid=stats-toggle]")
            .await?;
        let panel = "[data-testid=stats-panel][data-local-candidate-type=host][data-remote-candidate-type=host]";
        ana.wait_for(panel, DEFAULT_WAIT).await?;
        ana.wait_until_js(
            &format!(
                "(() => {{ const p = document.querySelector('{panel}');
                   return Number(p.dataset.outVideoBps) > 0 && Number(p.dataset.inVideoBps) > 0
                       && p.dataset.rttMs !== undefined && Number(p.dataset.inFps) > 0; }})()"
            ),
            DEFAULT_WAIT,
        )
        .await?;
        let quality = ana
            .eval("return document.querySelector('[data-testid=peer-tile][data-peer-name=Ben] [data-testid=quality]').dataset.quality;")
            .await?;
        assert_eq!(quality, serde_json::json!("good"), "loopback should grade as good");
        ana.screenshot(t.artifact("stats.png")).await?;
        Ok(())
    })
    .await;
}

/// Video bytes `browser` sent and audio bytes it sent, over every connection.
const MEDIA_BYTES_SENT: &str = r#"
    let video = 0, audio = 0, at = 0;
    for (const pc of window.__pcs) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach(r => {
            if (r.type !== 'outbound-rtp') return;
            if (r.kind === 'video') video += r.bytesSent; else audio += r.bytesSent;
            at = Math.max(at, r.timestamp);
        });
    }
    return { video, audio, at };
"#;

async fn rates(browser: &Browser, over: Duration) -> Result<(f64, f64)> {
    let a: Json = browser.eval(MEDIA_BYTES_SENT).await?;
    tokio::time::sleep(over).await;
    let b: Json = browser.eval(MEDIA_BYTES_SENT).await?;
    let seconds = (b["at"].as_f64().unwrap_or(0.0) - a["at"].as_f64().unwrap_or(0.0)) / 1000.0;
    let kbps = |key: &str| {
        (b[key].as_f64().unwrap_or(0.0) - a[key].as_f64().unwrap_or(0.0)) * 8.0
            / seconds.max(0.001)
            / 1000.0
    };
    Ok((kbps("video"), kbps("audio")))
}

#[tokio::test]
async fn asking_for_audio_only_stops_the_others_video_upload_but_not_audio() {
    run_test("asking_for_audio_only_stops_the_others_video_upload_but_not_audio", async |t| {
        let alice = t.chromium().await?;
        let bob = t.chromium().await?;
        join(&alice, "audio-only", "Alice").await?;
        join(&bob, "audio-only", "Bob").await?;
        bob.wait_until_peer_tile_decodes("Alice", MEDIA_WAIT).await?;
        let (video, _) = rates(&alice, Duration::from_secs(3)).await?;
        assert!(video > 20.0, "Alice sends no video before: {video:.0} kbit/s");

        bob.click("[data-testid=settings-toggle]").await?;
        bob.click("[data-testid=audio-only-toggle]").await?;
        bob.wait_for("[data-testid=peer-tile][data-peer-name=Alice].camera-off", DEFAULT_WAIT)
            .await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (video, audio) = rates(&alice, Duration::from_secs(4)).await?;
        eprintln!("with Bob on audio only, Alice sends {video:.1} kbit/s video and {audio:.1} kbit/s audio");
        assert!(video < 5.0, "Alice still sends {video:.0} kbit/s of video to Bob");
        assert!(audio > 5.0, "Alice's audio stopped too ({audio:.1} kbit/s)");

        // Back to video: it flows and decodes again.
        bob.click("[data-testid=audio-only-toggle]").await?;
        bob.wait_until_peer_tile_decodes("Alice", MEDIA_WAIT).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn audio_only_chosen_in_the_lobby_holds_from_the_start_and_is_remembered() {
    run_test("audio_only_chosen_in_the_lobby_holds_from_the_start_and_is_remembered", async |t| {
        let alice = t.chromium().await?;
        let bob = t.chromium().await?;
        join(&alice, "lobby-audio-only", "Alice").await?;
        bob.ready_to_join(&budget_url("lobby-audio-only"), "Bob").await?;
        bob.click("[data-testid=audio-only-join-toggle]").await?;
        bob.join_from_lobby().await?;
        // Bob's page shows Alice as an avatar, and the call's own switch agrees.
        bob.wait_for("[data-testid=peer-tile][data-peer-name=Alice].camera-off", MEDIA_WAIT)
            .await?;
        bob.click("[data-testid=settings-toggle]").await?;
        bob.wait_for("[data-testid=audio-only-toggle]:checked", DEFAULT_WAIT)
            .await?;
        // Alice sends Bob no video, though her camera is on; her audio flows.
        alice
            .wait_for("[data-testid=peer-tile][data-peer-name=Bob]", MEDIA_WAIT)
            .await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (video, audio) = rates(&alice, Duration::from_secs(4)).await?;
        eprintln!("Bob joined on audio only: Alice sends {video:.1} kbit/s video and {audio:.1} kbit/s audio");
        assert!(video < 5.0, "Alice sends {video:.0} kbit/s of video to Bob");
        assert!(audio > 5.0, "Alice sends no audio to Bob ({audio:.1} kbit/s)");

        // The choice is remembered for Bob's next meeting.
        bob.ready_to_join(&room_url("another-room"), "Bob").await?;
        bob.wait_for("[data-testid=audio-only-join-toggle]:checked", DEFAULT_WAIT)
            .await?;
        Ok(())
    })
    .await;
}
