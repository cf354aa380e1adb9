//! A private deployment in real browsers: calls relayed through a real coturn with
//! relay-only ICE (and a clear message when the TURN secret is wrong), a call over HTTPS with
//! a self-signed certificate, and the host's controls used from the page.

use meshmeet_e2e::{
    room_url, run_test_with, Browser, Context, Coturn, Error, Result, TestCtx, DEFAULT_WAIT,
};
use std::time::Duration;

/// Time allowed for a call to connect and decode on a loaded two-core machine.
const MEDIA_WAIT: Duration = Duration::from_secs(90);
/// The TURN REST API secret shared by coturn and the relay.
const TURN_SECRET: &str = "e2e-turn-secret";

/// The local candidate type of the selected pair of the first connected peer connection
/// (recorded with `record_peer_connections`), as `getStats` reports it.
async fn selected_local_candidate_type(browser: &Browser) -> Result<String> {
    let script = r#"
        for (const pc of (window.__pcs || [])) {
            if (pc.connectionState !== 'connected') continue;
            const stats = await pc.getStats();
            let pair = null;
            stats.forEach(r => {
                if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
            });
            if (!pair) stats.forEach(r => {
                if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r;
            });
            const local = pair && stats.get(pair.localCandidateId);
            return local ? local.candidateType : 'no selected pair';
        }
        return 'no connected peer connection';
    "#;
    let value = browser.eval(script).await?;
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::new(format!("{}: candidate type: {value}", browser.label())))
}

/// Opens the room, records peer connections, and joins.
async fn join_recorded(browser: &Browser, room: &str, name: &str) -> Result {
    browser.ready_to_join(&room_url(room), name).await?;
    browser.record_peer_connections().await?;
    browser.join_from_lobby().await
}

/// Runs `body` against a relay with `--relay-only`, pointed at a real coturn on loopback
/// whose REST API secret is [`TURN_SECRET`], with `relay_secret` as the relay's
/// `--turn-secret`.
async fn run_with_coturn(
    name: &str,
    relay_secret: &str,
    body: impl AsyncFnOnce(&TestCtx, &Coturn) -> Result,
) {
    let coturn = Coturn::start(TURN_SECRET).await.expect("coturn starts");
    let url = coturn.url();
    let args = [
        "--turn-url",
        &url,
        "--turn-secret",
        relay_secret,
        "--relay-only",
    ];
    run_test_with(name, &args, async |t| body(t, &coturn).await).await;
}

#[tokio::test]
async fn relay_only_calls_through_coturn_decode_video_over_relay_candidates() {
    run_with_coturn(
        "relay_only_calls_through_coturn_decode_video_over_relay_candidates",
        TURN_SECRET,
        async |t, coturn| {
            let alice = t.chromium().await?;
            let bob = t.chromium().await?;
            join_recorded(&alice, "turned", "Alice").await?;
            join_recorded(&bob, "turned", "Bob").await?;
            alice
                .wait_until_peer_tile_decodes("Bob", MEDIA_WAIT)
                .await
                .with_context(|| format!("coturn log:\n{}", coturn.log()))?;
            bob.wait_until_peer_tile_decodes("Alice", MEDIA_WAIT)
                .await?;
            for browser in [&alice, &bob] {
                let kind = selected_local_candidate_type(browser).await?;
                assert_eq!(
                    kind,
                    "relay",
                    "{}: selected local candidate",
                    browser.label()
                );
            }
            assert_eq!(alice.count("[data-testid=error-banner]").await?, 0);
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn relay_only_with_a_wrong_turn_secret_says_so_on_screen() {
    run_with_coturn(
        "relay_only_with_a_wrong_turn_secret_says_so_on_screen",
        "not-the-turn-secret",
        async |t, _coturn| {
            let alice = t.chromium().await?;
            let bob = t.chromium().await?;
            alice.join_call(&room_url("refused"), "Alice").await?;
            bob.join_call(&room_url("refused"), "Bob").await?;
            for browser in [&alice, &bob] {
                let banner = browser
                    .wait_for("[data-testid=error-banner]", MEDIA_WAIT)
                    .await?;
                let text = banner.text().await?;
                assert!(
                    text.contains("refused the credentials") && text.contains("--turn-secret"),
                    "{}: the banner should say the TURN server refused the credentials and what to fix: {text}",
                    browser.label()
                );
            }
            // And indeed no media flows.
            let tile = "[data-testid=peer-tile][data-peer-name=\"Bob\"]";
            let state = alice
                .wait_for(tile, DEFAULT_WAIT)
                .await?
                .attr("data-connection")
                .await?;
            assert_ne!(state.as_deref(), Some("connected"));
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_call_works_over_https_with_a_self_signed_certificate() {
    run_test_with(
        "a_call_works_over_https_with_a_self_signed_certificate",
        &["--tls-self-signed"],
        async |t| {
            assert!(
                t.url().starts_with("https://"),
                "the relay should serve HTTPS: {}",
                t.url()
            );
            assert!(
                t.relay()
                    .log()
                    .iter()
                    .any(|line| line.contains("SHA-256 fingerprint")),
                "the relay prints its certificate's fingerprint"
            );
            let trust = ["--ignore-certificate-errors"];
            let alice = t.chromium_with_args(&trust).await?;
            let bob = t.chromium_with_args(&trust).await?;
            alice.join_call(&room_url("secure"), "Alice").await?;
            bob.join_call(&room_url("secure"), "Bob").await?;
            alice
                .wait_until_peer_tile_decodes("Bob", MEDIA_WAIT)
                .await?;
            bob.wait_until_peer_tile_decodes("Alice", MEDIA_WAIT)
                .await?;
            // A secure context, and the signalling socket is WSS.
            let secure = alice
                .eval("return [window.isSecureContext, location.protocol];")
                .await?;
            assert_eq!(secure, serde_json::json!([true, "https:"]));
            Ok(())
        },
    )
    .await;
}

/// Joins with a room password.
async fn join_with_password(browser: &Browser, room: &str, name: &str, password: &str) -> Result {
    browser.ready_to_join(&room_url(room), name).await?;
    browser.type_password(password).await?;
    browser
        .click("[data-testid=join-button]:not([disabled])")
        .await
}

#[tokio::test]
async fn the_host_removes_a_participant_and_locks_the_room_from_the_page() {
    run_test_with(
        "the_host_removes_a_participant_and_locks_the_room_from_the_page",
        &[],
        async |t| {
            let host = t.chromium().await?;
            let guest = t.chromium().await?;
            t.keep_out_of_logs("s3cret");
            join_with_password(&host, "board", "Hana", "s3cret").await?;
            host.wait_for("[data-testid=local-tile]", DEFAULT_WAIT)
                .await?;

            // A wrong password is refused with an explanation.
            join_with_password(&guest, "board", "Gus", "guess").await?;
            let refused = guest.text("[data-testid=error-banner]").await?;
            assert!(refused.contains("password"), "{refused}");

            // The right one gets in.
            join_with_password(&guest, "board", "Gus", "s3cret").await?;
            host.wait_for("[data-testid=peer-tile][data-peer-name=Gus]", DEFAULT_WAIT)
                .await?;

            // The host sees itself marked as host in the participant list; the guest sees
            // the same host and no controls.
            for browser in [&host, &guest] {
                browser.click("[data-testid=participants-toggle]").await?;
                browser
                    .wait_for(
                        "[data-testid=participant][data-host=true] [data-testid=host-badge]",
                        DEFAULT_WAIT,
                    )
                    .await?;
            }
            assert_eq!(guest.count("[data-testid=remove-participant]").await?, 0);
            assert_eq!(guest.count("[data-testid=lock-toggle]").await?, 0);

            // Remove the guest: it is told why, and the host's grid empties.
            host.click("[data-testid=remove-participant]").await?;
            let removed = guest.text("[data-testid=error-banner]").await?;
            assert!(removed.contains("removed you"), "{removed}");
            host.wait_for_gone("[data-testid=peer-tile]", DEFAULT_WAIT)
                .await?;

            // Lock the room: a newcomer with the right password is refused as locked.
            host.click("[data-testid=lock-toggle]").await?;
            host.wait_for("[data-testid=room-locked]", DEFAULT_WAIT)
                .await?;
            let newcomer = t.chromium().await?;
            join_with_password(&newcomer, "board", "Nia", "s3cret").await?;
            let locked = newcomer.text("[data-testid=error-banner]").await?;
            assert!(locked.contains("locked"), "{locked}");
            assert_eq!(host.count("[data-testid=peer-tile]").await?, 0);
            Ok(())
        },
    )
    .await;
}
