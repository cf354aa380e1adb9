//! The chat panel driven as a person would: open it, type and send, read what it shows.

use crate::{Browser, Context, Result, DEFAULT_WAIT};

impl Browser {
    /// Opens the chat panel and waits for its input.
    pub async fn open_chat(&self) -> Result {
        self.click("[data-testid=chat-toggle]").await?;
        self.wait_for("[data-testid=chat-input]", DEFAULT_WAIT)
            .await?;
        Ok(())
    }

    /// Types `text` in the open chat and sends it; returns once the box is empty again (the
    /// message was handed to the meeting).
    pub async fn say(&self, text: &str) -> Result {
        let input = self
            .wait_for("[data-testid=chat-input]", DEFAULT_WAIT)
            .await?;
        input
            .send_keys(text)
            .await
            .context("typing a chat message")?;
        self.click("[data-testid=chat-send]:not([disabled])")
            .await?;
        self.wait_until_js(
            "document.querySelector('[data-testid=chat-input]').value === ''",
            DEFAULT_WAIT,
        )
        .await
    }

    /// `(from, text)` of every chat message shown, in order.
    pub async fn chat_messages(&self) -> Result<Vec<(String, String)>> {
        let value = self
            .eval(
                "return [...document.querySelectorAll('[data-testid=chat-message]')]
                    .map(m => [m.dataset.from, m.querySelector('.text').textContent]);",
            )
            .await?;
        Ok(serde_json::from_value(value)?)
    }
}
