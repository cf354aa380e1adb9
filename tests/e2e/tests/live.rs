//! Going live end to end, on a real Janus: the host of a two-person meeting (a mesh) puts
//! the other participant on the stage; the room moves to the SFU, everyone in it sees the
//! live badge naming who is on the stage; a Firefox page opened on the watch link plays the
//! stage (Firefox numbers its codecs unlike Janus's defaults, which the relay's WHEP bridge
//! must carry over), counts itself among the viewers, and says the live ended once the host
//! stops it.
//!
//! Every page runs with `?video=low` (320x180 at 15 fps): two Chromium, a Firefox and Janus
//! share two cores.

use meshmeet_e2e::a11y::serious_violations;
use meshmeet_e2e::{room_url, run_test_within, Browser, Context, Error, Janus, Result};
use std::time::{Duration, Instant};

/// Time allowed for media to connect and decode on a loaded two-core machine.
const MEDIA_WAIT: Duration = Duration::from_secs(90);
/// Longest the whole test may take.
const LIVE_TEST_LIMIT: Duration = Duration::from_secs(300);

async fn join(browser: &Browser, room: &str, name: &str) -> Result {
    browser.ready_to_join(&room_url(room), name).await?;
    browser.join_from_lobby().await
}

/// Picks `name` as the one on the stage in the host's live controls.
async fn pick_stage(host: &Browser, name: &str) -> Result {
    let script = r#"
        const select = document.querySelector('[data-testid=live-stage]');
        const option = [...select.options].find(o => o.textContent.startsWith(arguments[0]));
        if (!option) return false;
        select.value = option.value;
        select.dispatchEvent(new Event('change', { bubbles: true }));
        return true;
    "#;
    let picked = host
        .eval_with(script, vec![serde_json::json!(name)])
        .await?;
    if picked != serde_json::json!(true) {
        return Err(meshmeet_e2e::Error::new(format!(
            "{name} is not offered for the stage"
        )));
    }
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
    let url = janus.url();
    let args = ["--janus-url", &url, "--janus-admin-key", janus.admin_key()];
    run_test_within(name, &args, LIVE_TEST_LIMIT, async |t| {
        println!("fake camera: 320x180 at 15 fps (?video=low); Janus {url}");
        let ana = t.chromium().await?;
        let ben = t.chromium().await?;
        join(&ana, "hearing", "Ana").await?;
        join(&ben, "hearing", "Ben").await?;
        ana.wait_for("[data-testid=tile-grid][data-topology=mesh]", MEDIA_WAIT)
            .await?;

        // The host puts Ben on the stage and goes live.
        ana.click("[data-testid=participants-toggle]").await?;
        ana.wait_for("[data-testid=live-toggle]", MEDIA_WAIT).await?;
        pick_stage(&ana, "Ben").await?;
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
        let watch_link = ana
            .eval("return document.querySelector('[data-testid=watch-link]').value")
            .await?;
        let watch_link = watch_link.as_str().unwrap_or_default().to_owned();
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

        // The host stops: the badge goes, the watch page says the live ended.
        ana.click("[data-testid=live-toggle]").await?;
        ben.wait_for_gone("[data-testid=live-badge]", MEDIA_WAIT).await?;
        fox.wait_for("[data-testid=watch-page][data-phase=ended]", MEDIA_WAIT)
            .await
            .context("the watch page says the live ended")?;
        Ok(())
    })
    .await;
}
