//! Sharing in real browsers: a screen share reaches everyone (also late joiners) and stops
//! everywhere. Chromium's fake UI answers `getDisplayMedia` with a fake 1280x720 screen;
//! headless Firefox cannot capture a screen, so shares start from Chromium.

use meshmeet_e2e::{room_url, run_test, Browser, Context, Result, DEFAULT_WAIT};
use std::time::Duration;

/// Time allowed for media to connect and decode on a loaded two-core machine.
const MEDIA_WAIT: Duration = Duration::from_secs(90);

/// Joins `room` as `name` in the low-video test profile.
async fn join(browser: &Browser, room: &str, name: &str) -> Result {
    browser.join_call(&room_url(room), name).await
}

fn screen_of(name: &str) -> String {
    format!("[data-testid=screen-tile][data-peer-name=\"{name}\"]")
}

#[tokio::test]
async fn a_screen_share_reaches_everyone_and_stops_everywhere() {
    run_test(
        "a_screen_share_reaches_everyone_and_stops_everywhere",
        async |t| {
            let presenter = t.chromium().await?;
            let viewer = t.chromium().await?;
            join(&presenter, "share", "Presenter").await?;
            join(&viewer, "share", "Viewer").await?;
            viewer
                .wait_until_peer_tile_decodes("Presenter", MEDIA_WAIT)
                .await?;

            // A real click: getDisplayMedia needs a user gesture.
            presenter.click("[data-testid=screen-toggle]").await?;
            presenter
                .wait_for(
                    "[data-testid=screen-toggle][aria-pressed=true]",
                    DEFAULT_WAIT,
                )
                .await?;
            let sample = viewer
                .wait_until_video_decodes(&format!("{} video", screen_of("Presenter")), MEDIA_WAIT)
                .await?;
            assert!(
                sample.size.0 >= 640,
                "the screen arrived at {:?}",
                sample.size
            );

            // Someone who joins during the share sees it too.
            let late = t.chromium().await?;
            join(&late, "share", "Late").await?;
            late.wait_until_video_decodes(&format!("{} video", screen_of("Presenter")), MEDIA_WAIT)
                .await?;
            // The camera tile is still there beside the screen.
            late.wait_until_peer_tile_decodes("Presenter", MEDIA_WAIT)
                .await?;
            viewer.screenshot(t.artifact("viewer-sharing.png")).await?;

            // The presenter's camera tile leaves the viewer's screen (as when it scrolls out
            // of a phone's strip): the presenter stops sending the viewer its camera, and not
            // the screen share on the viewer's stage.
            let camera_tile = "[data-testid=peer-tile][data-peer-name=\"Presenter\"]";
            let move_tile = |x: &str| {
                format!("document.querySelector('{camera_tile}').style.transform = '{x}';")
            };
            viewer.eval(&move_tile("translateX(-5000px)")).await?;
            // Long enough for the page to tell the presenter, and the presenter to pause.
            tokio::time::sleep(Duration::from_secs(3)).await;
            let screen_video = format!("{} video", screen_of("Presenter"));
            let sample = viewer
                .wait_until_video_decodes(&screen_video, Duration::from_secs(20))
                .await
                .context(
                    "the screen share froze when the presenter's camera tile went off screen",
                )?;
            println!(
                "camera tile off screen: the screen share still decodes ({} frames)",
                sample.total_frames
            );
            viewer.eval(&move_tile("")).await?;
            viewer
                .wait_until_peer_tile_decodes("Presenter", MEDIA_WAIT)
                .await?;

            presenter.click("[data-testid=screen-toggle]").await?;
            for browser in [&viewer, &late] {
                browser
                    .wait_for_gone(&screen_of("Presenter"), DEFAULT_WAIT)
                    .await?;
            }
            presenter
                .wait_for_gone("[data-testid=screen-tile]", DEFAULT_WAIT)
                .await?;
            Ok(())
        },
    )
    .await;
}
