//! Chat and file transfer in real browsers, peer to peer over data channels; reactions
//! through the relay.

use meshmeet_e2e::files::{make_file, DOWNLOADED_SHA256};
use meshmeet_e2e::{room_url, run_test, Browser, Context, Error, Result, DEFAULT_WAIT};
use serde_json::{json, Value as Json};
use std::time::Duration;

/// Time allowed for media and data channels to connect on a loaded two-core machine.
const CONNECT_WAIT: Duration = Duration::from_secs(90);

/// Joins `room` as `name` in the low-video test profile.
async fn join(browser: &Browser, room: &str, name: &str) -> Result {
    browser.join_call(&room_url(room), name).await
}

#[tokio::test]
async fn chat_and_reactions_between_chromium_and_firefox_arrive_once_and_in_order() {
    run_test("chat_and_reactions_between_chromium_and_firefox_arrive_once_and_in_order", async |t| {
        let ana = t.chromium().await?;
        let fox = t.firefox().await?;
        join(&ana, "chat", "Ana").await?;
        join(&fox, "chat", "Fox").await?;
        ana.wait_until_peer_tile_decodes("Fox", CONNECT_WAIT).await?;
        fox.wait_until_peer_tile_decodes("Ana", CONNECT_WAIT).await?;
        ana.open_chat().await?;
        fox.open_chat().await?;

        let from_ana = ["one", "two <b>bold</b>", "three https://example.org/x.", "four", "five"];
        let from_fox = ["alpha", "beta <img src=x onerror=alert(1)>", "gamma"];
        for text in from_ana {
            ana.say(text).await?;
        }
        for text in from_fox {
            fox.say(text).await?;
        }
        let mut expected: Vec<(String, String)> = from_ana
            .iter()
            .map(|m| ("Ana".to_owned(), (*m).to_owned()))
            .collect();
        expected.extend(from_fox.iter().map(|m| ("Fox".to_owned(), (*m).to_owned())));
        for browser in [&ana, &fox] {
            browser
                .wait_until("all eight messages", DEFAULT_WAIT, async || {
                    Ok(browser.chat_messages().await?.len() >= expected.len())
                })
                .await?;
            // Give a duplicate the chance to show up before counting.
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(browser.chat_messages().await?, expected, "{}", browser.label());
            assert_eq!(
                browser.count("[data-testid=chat-message] b, [data-testid=chat-message] img").await?,
                0,
                "markup in a message was rendered"
            );
            let href = browser
                .eval("return document.querySelector('[data-testid=chat-message] a')?.href ?? null;")
                .await?;
            assert_eq!(href, json!("https://example.org/x"));
        }
        fox.screenshot(t.artifact("fox-chat.png")).await?;

        // Reactions float over the sender's tile on every page for a moment.
        ana.click("[data-testid=reactions-toggle]").await?;
        ana.click("[data-testid=reaction-clap]").await?;
        let ana_clap = "[data-testid=peer-tile][data-peer-name=Ana] [data-testid=tile-reaction][data-reaction=clap]";
        fox.wait_for(ana_clap, DEFAULT_WAIT).await?;
        ana.wait_for(
            "[data-testid=local-tile] [data-testid=tile-reaction][data-reaction=clap]",
            DEFAULT_WAIT,
        )
        .await?;
        fox.click("[data-testid=reactions-toggle]").await?;
        fox.click("[data-testid=reaction-heart]").await?;
        ana.wait_for(
            "[data-testid=peer-tile][data-peer-name=Fox] [data-testid=tile-reaction][data-reaction=heart]",
            DEFAULT_WAIT,
        )
        .await?;
        fox.screenshot(t.artifact("fox-reactions.png")).await?;
        fox.wait_for_gone(ana_clap, DEFAULT_WAIT).await?;
        Ok(())
    })
    .await;
}

/// Chats sent through the relay back to back often share one `sent_at_ms`; each is its own
/// message (named by sender and `seq`), so every one shows, once and in order.
#[tokio::test]
async fn chats_sent_through_the_relay_within_one_millisecond_all_show_in_order() {
    run_test("chats_sent_through_the_relay_within_one_millisecond_all_show_in_order", async |t| {
        let ana = t.chromium().await?;
        join(&ana, "burst", "Ana").await?;
        ana.open_chat().await?;
        // A second participant without media: a WebSocket client of the relay opened by the
        // page, which sends its chats in one synchronous burst, so only the relay carries them.
        let stamps = ana
            .eval_with(
                r#"
                const version = arguments[0];
                const url = location.origin.replace(/^http/, 'ws') + '/ws';
                return await new Promise((ok, fail) => {
                    const ws = new WebSocket(url);
                    window.__bot = ws;
                    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', version, room: 'burst', name: 'Bot' }));
                    ws.onmessage = e => {
                        if (JSON.parse(e.data).type !== 'welcome') return;
                        const start = performance.now();
                        for (let seq = 1; seq <= 5; seq++) {
                            ws.send(JSON.stringify({ type: 'chat', seq, text: 'burst ' + seq }));
                        }
                        ok(performance.now() - start);
                    };
                    ws.onerror = () => fail('socket error');
                    setTimeout(() => fail('no welcome'), 10000);
                });
            "#,
                vec![json!(meshmeet_protocol::PROTOCOL_VERSION)],
            )
            .await?;
        println!("five chats handed to the socket in {stamps} ms");
        let expected: Vec<(String, String)> =
            (1..=5).map(|seq| ("Bot".to_owned(), format!("burst {seq}"))).collect();
        ana.wait_until("five messages from Bot", DEFAULT_WAIT, async || {
            Ok(ana.chat_messages().await?.len() >= expected.len())
        })
        .await?;
        // Give a duplicate the chance to show up before counting.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(ana.chat_messages().await?, expected);
        Ok(())
    })
    .await;
}

/// Records every `data-progress` value a transfer row shows, from now on.
const WATCH_PROGRESS: &str = r#"
    window.__progress = new Set();
    new MutationObserver(() => document.querySelectorAll('[data-testid=file-transfer]')
        .forEach(t => window.__progress.add(Number(t.dataset.progress))))
        .observe(document.body, { subtree: true, childList: true, attributes: true });
    return true;
"#;

#[tokio::test]
async fn a_file_sent_to_everyone_arrives_byte_identical_with_progress() {
    run_test("a_file_sent_to_everyone_arrives_byte_identical_with_progress", async |t| {
        let sender = t.chromium().await?;
        let chrome = t.chromium().await?;
        let fox = t.firefox().await?;
        for (browser, name) in [(&sender, "Sender"), (&chrome, "Chrome"), (&fox, "Fox")] {
            join(browser, "files", name).await?;
        }
        for (browser, others) in [(&sender, ["Chrome", "Fox"]), (&chrome, ["Sender", "Fox"]), (&fox, ["Sender", "Chrome"])] {
            for other in others {
                browser.wait_for(&format!("[data-testid=peer-tile][data-peer-name={other}][data-connection=connected]"), CONNECT_WAIT).await?;
            }
        }
        for browser in [&sender, &chrome, &fox] {
            browser.open_chat().await?;
            browser.eval(WATCH_PROGRESS).await?;
        }
        let dir = std::env::temp_dir().join(format!("meshmeet-e2e-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let size = 6 * 1024 * 1024 + 123;
        let (path, digest) = make_file(&dir, "report.bin", size)?;
        let input = sender.wait_for("[data-testid=file-input]", DEFAULT_WAIT).await?;
        input
            .send_keys(&path.to_string_lossy())
            .await
            .context("choosing the file")?;

        for browser in [&chrome, &fox] {
            browser
                .wait_for("[data-testid=file-transfer][data-state=done] [data-testid=file-download]", Duration::from_secs(120))
                .await?;
            let got = browser.eval(DOWNLOADED_SHA256).await?;
            assert_eq!(got["name"], json!("report.bin"), "{}", browser.label());
            assert_eq!(got["size"], json!(size), "{}", browser.label());
            assert_eq!(got["sha256"], json!(digest), "{}: the file changed on the way", browser.label());
            let seen: Vec<u64> = serde_json::from_value(browser.eval("return [...window.__progress];").await?)?;
            assert!(
                seen.iter().any(|p| *p > 0 && *p < 100),
                "{} showed no progress between 0 and 100: {seen:?}",
                browser.label()
            );
        }
        sender
            .wait_until_js(
                "[...document.querySelectorAll('[data-testid=file-transfer]')].length === 2 && \
                 [...document.querySelectorAll('[data-testid=file-transfer]')].every(t => t.dataset.state === 'done')",
                DEFAULT_WAIT,
            )
            .await?;
        chrome.screenshot(t.artifact("received.png")).await?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_transfer_midway_leaves_both_sides_clean() {
    run_test("cancelling_a_transfer_midway_leaves_both_sides_clean", async |t| {
        let sender = t.chromium().await?;
        let receiver = t.chromium().await?;
        join(&sender, "cancel", "Sender").await?;
        join(&receiver, "cancel", "Receiver").await?;
        sender
            .wait_for("[data-testid=peer-tile][data-peer-name=Receiver][data-connection=connected]", CONNECT_WAIT)
            .await?;
        sender.open_chat().await?;
        receiver.open_chat().await?;
        let dir = std::env::temp_dir().join(format!("meshmeet-e2e-cancel-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (big, _) = make_file(&dir, "big.bin", 256 * 1024 * 1024)?;
        sender
            .wait_for("[data-testid=file-input]", DEFAULT_WAIT)
            .await?
            .send_keys(&big.to_string_lossy())
            .await
            .context("choosing the file")?;
        // Cancel on the receiving side once some bytes arrived.
        receiver
            .wait_until_js(
                "Number(document.querySelector('[data-testid=file-transfer]')?.dataset.progress ?? 0) >= 1",
                Duration::from_secs(60),
            )
            .await?;
        receiver.click("[data-testid=file-transfer] [data-testid=file-cancel]").await?;
        for browser in [&receiver, &sender] {
            browser
                .wait_for("[data-testid=file-transfer][data-state=cancelled]", DEFAULT_WAIT)
                .await?;
            assert_eq!(browser.count("[data-testid=file-download]").await?, 0);
        }
        let stopped_at: Json = sender
            .eval("return document.querySelector('[data-testid=file-transfer]').dataset.progress;")
            .await?;
        let stopped_at: u32 = stopped_at
            .as_str()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| Error::new(format!("no progress on the sender: {stopped_at}")))?;
        assert!(stopped_at < 100, "the sender finished anyway");

        // Both sides are clean: a new, small file goes through.
        let (small, digest) = make_file(&dir, "small.bin", 100_000)?;
        sender
            .wait_for("[data-testid=file-input]", DEFAULT_WAIT)
            .await?
            .send_keys(&small.to_string_lossy())
            .await
            .context("choosing the second file")?;
        receiver
            .wait_for("[data-testid=file-transfer][data-state=done] [data-testid=file-download]", Duration::from_secs(60))
            .await?;
        let got = receiver.eval(DOWNLOADED_SHA256).await?;
        assert_eq!(got["sha256"], json!(digest));
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
    .await;
}
