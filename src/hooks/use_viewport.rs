//! The window's inner size in CSS pixels, kept current on resize and rotation.

use crate::js::Listener;
use yew::prelude::*;

/// `(width, height)` of the window, re-rendering on change.
#[hook]
pub fn use_viewport() -> (f64, f64) {
    let size = use_state_eq(window_size);
    {
        let size = size.clone();
        use_effect_with((), move |()| {
            let listener = web_sys::window()
                .map(|window| Listener::new(&window, "resize", move |_| size.set(window_size())));
            move || drop(listener)
        });
    }
    *size
}

fn window_size() -> (f64, f64) {
    let Some(window) = web_sys::window() else {
        return (1024.0, 768.0);
    };
    let read = |value: Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>| {
        value.ok().and_then(|v| v.as_f64()).unwrap_or(0.0)
    };
    (read(window.inner_width()), read(window.inner_height()))
}
