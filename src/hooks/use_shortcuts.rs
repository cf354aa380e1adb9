//! Key presses anywhere on the page, turned into [`Shortcut`]s.

use crate::js::Listener;
use crate::state::{shortcut_for, KeyPress, Shortcut};
use wasm_bindgen::JsCast;
use web_sys::{Element, KeyboardEvent};
use yew::prelude::*;

/// Calls `on_shortcut` for every key press that is a shortcut while the component lives.
/// Presses in text fields, with Ctrl/Alt/Cmd, or repeating are left to the browser.
#[hook]
pub fn use_shortcuts(on_shortcut: Callback<Shortcut>) {
    use_effect_with(on_shortcut, move |on_shortcut| {
        let on_shortcut = on_shortcut.clone();
        let listener = web_sys::window()
            .and_then(|w| w.document())
            .map(|document| {
                Listener::new(&document, "keydown", move |event| {
                    let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    let typing = event
                        .target()
                        .and_then(|t| t.dyn_into::<Element>().ok())
                        .is_some_and(|e| is_text_field(&e));
                    let press = KeyPress {
                        key: &event.key(),
                        shift: event.shift_key(),
                        modifier: event.ctrl_key() || event.alt_key() || event.meta_key(),
                        typing,
                        repeat: event.repeat(),
                    };
                    if let Some(shortcut) = shortcut_for(press) {
                        event.prevent_default();
                        on_shortcut.emit(shortcut);
                    }
                })
            });
        move || drop(listener)
    });
}

/// Whether keys typed into `element` are text (inputs, text areas, editable content).
fn is_text_field(element: &Element) -> bool {
    match element.tag_name().to_ascii_lowercase().as_str() {
        "textarea" | "select" => true,
        "input" => !matches!(
            element.get_attribute("type").as_deref(),
            Some("checkbox" | "radio" | "button" | "submit" | "range" | "file")
        ),
        _ => element.get_attribute("contenteditable").is_some(),
    }
}
