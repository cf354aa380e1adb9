//! The host's live controls, as the live test and the live benchmark drive them: who is on
//! the stage, where else the live goes, and the links the host is given.

use crate::{Browser, Error, Result};
use serde_json::json;

/// Picks `name` as the one on the stage in the host's live controls (the participants
/// panel is open).
pub async fn pick_stage(host: &Browser, name: &str) -> Result {
    let script = r#"
        const select = document.querySelector('[data-testid=live-stage]');
        const option = [...select.options].find(o => o.textContent.startsWith(arguments[0]));
        if (!option) return false;
        select.value = option.value;
        select.dispatchEvent(new Event('change', { bubbles: true }));
        return true;
    "#;
    let picked = host.eval_with(script, vec![json!(name)]).await?;
    if picked != json!(true) {
        return Err(Error::new(format!("{name} is not offered for the stage")));
    }
    Ok(())
}

/// Types `text` into the host's RTMP addresses field (as typing would: an `input` event).
pub async fn type_rtmp_urls(host: &Browser, text: &str) -> Result {
    let script = r#"
        const area = document.querySelector('[data-testid=rtmp-url]');
        area.value = arguments[0];
        area.dispatchEvent(new InputEvent('input', { bubbles: true }));
        return area.value;
    "#;
    host.eval_with(script, vec![json!(text)]).await?;
    Ok(())
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
    let script = r#"
        const type = (testid, text) => {
            const input = document.querySelector(`[data-testid=${testid}]`);
            input.value = text;
            input.dispatchEvent(new InputEvent('input', { bubbles: true }));
        };
        type('ingest-name', arguments[0]);
        type('camera-url', arguments[1]);
        document.querySelector('[data-testid=add-camera]').scrollIntoView({ block: 'center' });
        return true;
    "#;
    host.eval_with(script, vec![json!(name), json!(url)])
        .await?;
    host.click("[data-testid=add-camera]").await
}

/// Lets an encoder named `name` in from the host's controls (the participants panel is
/// open): types the name and submits; its WHIP address and token then show.
pub async fn let_encoder_in(host: &Browser, name: &str) -> Result {
    let script = r#"
        const input = document.querySelector('[data-testid=ingest-name]');
        input.value = arguments[0];
        input.dispatchEvent(new InputEvent('input', { bubbles: true }));
        // The panel scrolls: bring the button out from under the meeting's controls, as a
        // person would.
        document.querySelector('[data-testid=add-encoder]').scrollIntoView({ block: 'center' });
        return input.value;
    "#;
    host.eval_with(script, vec![json!(name)]).await?;
    host.click("[data-testid=add-encoder]").await
}
