//! Large rooms on a real Janus: past `--mesh-max` the room moves to the SFU, everyone sends
//! one upstream and decodes everyone else, and back at mesh size the room returns to the
//! mesh after the delay.
//!
//! Every page runs with `?video=low` (320x180 at 15 fps) and the fake camera at 15 fps:
//! three browsers and Janus share two cores.

use meshmeet_e2e::{
    room_url, run_test_within, wait_until_everyone_decodes_everyone, Browser, Context, Janus,
    Result, DEFAULT_WAIT,
};
use serde_json::json;
use std::time::{Duration, Instant};

/// Time allowed for media to connect and decode on a loaded two-core machine.
const MEDIA_WAIT: Duration = Duration::from_secs(90);
/// The relay's `--mesh-return-delay` in these tests (10 s by default).
const RETURN_DELAY: &str = "3s";
/// Longest a whole SFU test may take: three browsers, two topology switches.
const SFU_TEST_LIMIT: Duration = Duration::from_secs(420);

/// Opens the room, records the page's peer connections, and joins.
async fn join(browser: &Browser, room: &str, name: &str) -> Result {
    browser.ready_to_join(&room_url(room), name).await?;
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

#[tokio::test]
async fn past_mesh_max_everyone_publishes_once_decodes_everyone_and_the_room_returns_to_the_mesh() {
    let name =
        "past_mesh_max_everyone_publishes_once_decodes_everyone_and_the_room_returns_to_the_mesh";
    let janus = Janus::start().await.expect("janus starts");
    let url = janus.url();
    let args = [
        "--janus-url",
        &url,
        "--janus-admin-key",
        janus.admin_key(),
        "--mesh-max",
        "2",
        "--mesh-return-delay",
        RETURN_DELAY,
    ];
    run_test_within(name, &args, SFU_TEST_LIMIT, async |t| {
        println!("fake camera: 320x180 at 15 fps (?video=low); Janus {url}");
        let people = [
            ("Ana", t.chromium().await?),
            ("Ben", t.chromium().await?),
            ("Fox", t.firefox().await?),
        ];
        for (name, browser) in &people[..2] {
            join(browser, "large", name).await?;
        }
        for (_, browser) in &people[..2] {
            wait_for_topology(browser, "mesh", DEFAULT_WAIT).await?;
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
        let [(_, ana), (_, ben), _] = &people;
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
        Ok(())
    })
    .await;
}
