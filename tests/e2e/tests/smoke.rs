//! The release client served by the relay loads in real headless browsers, and the harness's
//! own helpers (video decoding, console capture) work in Chromium and Firefox.

use meshmeet_e2e::{run_test, Context, Error, DEFAULT_WAIT};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The root element the client renders.
const APP: &str = "[data-testid=app]";

#[tokio::test]
async fn two_chromium_sessions_load_a_room_url() {
    run_test("two_chromium_sessions_load_a_room_url", async |t| {
        let alice = t.chromium().await?;
        let bob = t.chromium().await?;
        for (browser, shot) in [(&alice, "alice.png"), (&bob, "bob.png")] {
            // A deep link: the relay must answer /r/<room> with index.html (SPA fallback).
            browser.goto("/r/some-room").await?;
            browser.wait_for(APP, DEFAULT_WAIT).await?;
            let path = browser.current_url().await?;
            assert!(path.ends_with("/r/some-room"), "the URL changed to {path}");
            browser.screenshot(t.artifact(shot)).await?;
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn firefox_loads_a_room_url() {
    run_test("firefox_loads_a_room_url", async |t| {
        let carol = t.firefox().await?;
        carol.goto("/r/some-room").await?;
        carol.wait_for(APP, DEFAULT_WAIT).await?;
        carol.screenshot(t.artifact("carol.png")).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn relay_serves_the_built_client_at_root() {
    run_test("relay_serves_the_built_client_at_root", async |t| {
        let response = http_get(t.url(), "/").await?;
        let status = response.lines().next().unwrap_or_default();
        assert!(status.contains(" 200 "), "GET / answered `{status}`");
        assert!(
            response.contains("<noscript>"),
            "GET / did not return the client's index.html:\n{response}"
        );
        let browser = t.chromium().await?;
        browser.goto("/").await?;
        browser.wait_for(APP, DEFAULT_WAIT).await?;
        browser.screenshot(t.artifact("root.png")).await?;
        Ok(())
    })
    .await;
}

/// `open_room` goes through the lobby: name typed, join clicked once enabled, call shown.
#[tokio::test]
async fn open_room_types_the_name_and_joins() {
    run_test("open_room_types_the_name_and_joins", async |t| {
        let dana = t.chromium().await?;
        dana.open_room("harness-join", "Dana").await?;
        dana.wait_for("[data-testid=local-tile]", DEFAULT_WAIT)
            .await?;
        dana.screenshot(t.artifact("dana.png")).await?;
        Ok(())
    })
    .await;
}

/// Checks the harness itself: a `<video>` showing the fake camera inside a peer-tile-shaped
/// element is seen decoding, and console messages are captured, in both browsers.
#[tokio::test]
async fn harness_sees_fake_camera_frames_and_console_messages() {
    run_test("harness_sees_fake_camera_frames_and_console_messages", async |t| {
        for browser in [t.chromium().await?, t.firefox().await?] {
            browser.goto("/r/harness-check").await?;
            browser.wait_for(APP, DEFAULT_WAIT).await?;
            browser
                .eval(
                    r#"
                    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
                    const tile = document.createElement('div');
                    tile.dataset.testid = 'peer-tile';
                    tile.dataset.peerName = 'Self "check"';
                    const video = document.createElement('video');
                    video.muted = true;
                    video.autoplay = true;
                    video.playsInline = true;
                    video.srcObject = stream;
                    tile.append(video);
                    document.body.append(tile);
                    await video.play();
                    console.log('harness-console-marker');
                    "#,
                )
                .await
                .context("attaching the fake camera to a video element")?;
            let sample = browser
                .wait_until_peer_tile_decodes("Self \"check\"", Duration::from_secs(20))
                .await?;
            assert!(sample.size.0 > 0 && sample.size.1 > 0, "{sample:?}");
            let label = browser.label().to_owned();
            browser.screenshot(t.artifact(&format!("{label}.png"))).await?;
            // Firefox writes console lines to the driver log asynchronously.
            let mut seen = false;
            for _ in 0..50 {
                let logs = browser.console_logs().await?;
                if logs.iter().any(|l| l.contains("harness-console-marker")) {
                    seen = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if !seen {
                return Err(Error::new(format!("{label}: console message was not captured")));
            }
        }
        Ok(())
    })
    .await;
}

/// A minimal HTTP/1.1 GET; returns the status line, headers and body as text.
async fn http_get(base: &str, path: &str) -> meshmeet_e2e::Result<String> {
    let authority = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .with_context(|| format!("connecting to {authority}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .context("reading the response")??;
    Ok(String::from_utf8_lossy(&response).into_owned())
}
