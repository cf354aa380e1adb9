//! Whether an element is on screen, from an `IntersectionObserver`.

use crate::js::JsError;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{IntersectionObserver, IntersectionObserverEntry};
use yew::prelude::*;

/// Calls `on_change` with `true`/`false` whenever the element behind `node` enters or
/// leaves the viewport (also once at the start). Browsers without the observer never call.
#[hook]
pub fn use_visible(node: NodeRef, on_change: Callback<bool>) {
    use_effect_with(node, move |node| {
        let closure = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let last = entries.iter().last();
            if let Some(entry) = last.and_then(|e| e.dyn_into::<IntersectionObserverEntry>().ok()) {
                on_change.emit(entry.is_intersecting());
            }
        });
        let observer = IntersectionObserver::new(closure.as_ref().unchecked_ref())
            .map_err(JsError::from)
            .ok();
        if let (Some(observer), Some(element)) = (&observer, node.cast::<web_sys::Element>()) {
            observer.observe(&element);
        }
        move || {
            if let Some(observer) = observer {
                observer.disconnect();
            }
            drop(closure);
        }
    });
}
