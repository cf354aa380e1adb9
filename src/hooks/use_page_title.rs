//! Keeps the tab's title and favicon in step with the room and the microphone.

use crate::state::{favicon_url, page_title};
use yew::prelude::*;

/// `id` of the favicon `<link>` in index.html.
const FAVICON_ID: &str = "favicon";

/// Sets the title and favicon for `room` (muted or not); puts the plain ones back when the
/// component goes.
#[hook]
pub fn use_page_title(room: Option<String>, muted: bool, muted_word: &'static str) {
    use_effect_with((room, muted, muted_word), |(room, muted, muted_word)| {
        apply(&page_title(room.as_deref(), *muted, muted_word), *muted);
        || apply(&page_title(None, false, ""), false)
    });
}

fn apply(title: &str, muted: bool) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    document.set_title(title);
    if let Some(link) = document.get_element_by_id(FAVICON_ID) {
        let _ = link.set_attribute("href", &favicon_url(muted));
    }
}
