//! The host's live controls, as the live test and the live benchmark drive them: who is on
//! the stage, where else the live goes, and the links the host is given.

use crate::{Browser, Error, Result};
use serde_json::json;

/// Puts `name` alone on the stage in the host's live controls (the participants panel is
/// open).
pub async fn pick_stage(host: &Browser, name: &str) -> Result {
    set_stage(host, &[name]).await
}

/// Puts exactly `names` on the stage, ticking the boxes of those not on it first (a stage
/// is never empty) and then unticking the others, one box at a time: while live, each
/// change waits for the live badge to show the relay took it, since the next box acts on
/// the stage the page last heard of.
pub async fn set_stage(host: &Browser, names: &[&str]) -> Result {
    let boxes = r#"
        return [...document.querySelectorAll('[data-testid=live-stage] input[type=checkbox]:not([data-testid])')]
            .map(b => ({ label: b.parentElement.textContent.trim(), checked: b.checked }));
    "#;
    let click = r#"
        const boxes = document.querySelectorAll('[data-testid=live-stage] input[type=checkbox]:not([data-testid])');
        const badge = document.querySelector('[data-testid=live-badge]');
        const before = badge ? badge.textContent : null;
        boxes[arguments[0]].click();
        return before;
    "#;
    let listed = host.eval(boxes).await?;
    let listed: Vec<(String, bool)> = listed
        .as_array()
        .map(|all| {
            all.iter()
                .map(|b| {
                    let label = b["label"].as_str().unwrap_or_default().to_owned();
                    (label, b["checked"].as_bool().unwrap_or(false))
                })
                .collect()
        })
        .unwrap_or_default();
    for name in names {
        if !listed.iter().any(|(label, _)| label.starts_with(name)) {
            return Err(Error::new(format!("{name} is not offered for the stage")));
        }
    }
    let wanted = |label: &str| names.iter().any(|n| label.starts_with(n));
    let ticks = listed
        .iter()
        .enumerate()
        .filter(|(_, (label, checked))| !checked && wanted(label));
    let unticks = listed
        .iter()
        .enumerate()
        .filter(|(_, (label, checked))| *checked && !wanted(label));
    for (index, _) in ticks.chain(unticks) {
        let before = host.eval_with(click, vec![json!(index)]).await?;
        if let Some(before) = before.as_str() {
            let changed = format!(
                "document.querySelector('[data-testid=live-badge]')?.textContent !== {}",
                json!(before)
            );
            host.wait_until_js(&changed, std::time::Duration::from_secs(10))
                .await?;
        }
    }
    Ok(())
}

/// Types `text` into the host's field `testid` (as typing would: an `input` event), and
/// brings the button `then` (if any) into view from under the meeting's controls, as a
/// person scrolling the panel would.
async fn type_into(host: &Browser, testid: &str, text: &str, then: Option<&str>) -> Result {
    let script = r#"
        const input = document.querySelector(`[data-testid=${arguments[0]}]`);
        input.value = arguments[1];
        input.dispatchEvent(new InputEvent('input', { bubbles: true }));
        if (arguments[2]) {
            document.querySelector(`[data-testid=${arguments[2]}]`)
                .scrollIntoView({ block: 'center' });
        }
        return input.value;
    "#;
    host.eval_with(script, vec![json!(testid), json!(text), json!(then)])
        .await?;
    Ok(())
}

/// Types `text` into the host's RTMP addresses field.
pub async fn type_rtmp_urls(host: &Browser, text: &str) -> Result {
    type_into(host, "rtmp-url", text, None).await
}

/// The value of the host's link field `testid` (`watch-link`, `hls-link`); empty if none.
pub async fn link(host: &Browser, testid: &str) -> Result<String> {
    let value = host
        .eval_with(
            "return document.querySelector(`[data-testid=${arguments[0]}]`)?.value ?? ''",
            vec![json!(testid)],
        )
        .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// Adds the RTSP camera at `url` as `name` from the host's controls (the participants panel
/// is open).
pub async fn add_camera(host: &Browser, name: &str, url: &str) -> Result {
    type_into(host, "ingest-name", name, None).await?;
    type_into(host, "camera-url", url, Some("add-camera")).await?;
    host.click("[data-testid=add-camera]").await
}

/// Lets an encoder named `name` in from the host's controls (the participants panel is
/// open): types the name and submits; its WHIP address and token then show.
pub async fn let_encoder_in(host: &Browser, name: &str) -> Result {
    type_into(host, "ingest-name", name, Some("add-encoder")).await?;
    host.click("[data-testid=add-encoder]").await
}
