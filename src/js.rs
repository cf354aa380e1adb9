//! The boundary where browser values become Rust values: `JsValue` errors are turned into
//! [`JsError`] here once, and event listeners are tied to Rust lifetimes.

use serde_json::Value as Json;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::EventTarget;

/// A JavaScript exception (usually a `DOMException`) as plain Rust data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct JsError {
    /// The exception's `name` (`NotAllowedError`, `TypeError`, …).
    pub name: String,
    /// The exception's `message`.
    pub message: String,
}

impl From<JsValue> for JsError {
    fn from(value: JsValue) -> Self {
        // DOMException and Error both carry `name` and `message`; anything else thrown is
        // kept as its string form so no detail is lost.
        let field = |key: &str| {
            js_sys::Reflect::get(&value, &JsValue::from_str(key))
                .ok()
                .and_then(|v| v.as_string())
        };
        match (field("name"), field("message")) {
            (Some(name), message) => JsError {
                name,
                message: message.unwrap_or_default(),
            },
            _ => JsError {
                name: "Error".into(),
                message: value.as_string().unwrap_or_else(|| format!("{value:?}")),
            },
        }
    }
}

impl JsError {
    /// An error raised on the Rust side of the boundary.
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        JsError {
            name: name.into(),
            message: message.into(),
        }
    }
}

/// An event listener that is removed when this value is dropped.
pub struct Listener {
    target: EventTarget,
    event: &'static str,
    closure: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    /// Listens for `event` on `target` until the returned value is dropped.
    pub fn new(
        target: &EventTarget,
        event: &'static str,
        handler: impl FnMut(web_sys::Event) + 'static,
    ) -> Self {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
        // Adding a listener only fails for a non-callable; a Closure always is.
        let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        Listener {
            target: target.clone(),
            event,
            closure,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.event, self.closure.as_ref().unchecked_ref());
    }
}

/// Builds a JavaScript value from a serde type through its JSON text, for dictionaries
/// web-sys has no builder for.
pub fn object_from<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    let json =
        serde_json::to_string(value).map_err(|e| JsError::new("TypeError", e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(JsError::from)
}

/// A JavaScript value as a JSON tree, read value by value (numbers become floats): how
/// browser dictionaries such as `getStats()` reports reach the natively tested readers.
/// Functions, symbols, `undefined` and non-finite numbers read as `null`; nesting deeper
/// than a stats report has is cut off.
pub fn json_of(value: &JsValue) -> Json {
    json_at(value, 0)
}

fn json_at(value: &JsValue, depth: usize) -> Json {
    const MAX_DEPTH: usize = 8;
    if let Some(n) = value.as_f64() {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    } else if let Some(s) = value.as_string() {
        Json::String(s)
    } else if let Some(b) = value.as_bool() {
        Json::Bool(b)
    } else if depth >= MAX_DEPTH || !value.is_object() {
        Json::Null
    } else if js_sys::Array::is_array(value) {
        let items = js_sys::Array::from(value);
        Json::Array(items.iter().map(|v| json_at(&v, depth + 1)).collect())
    } else {
        let entries = js_sys::Object::entries(value.unchecked_ref());
        Json::Object(
            entries
                .iter()
                .filter_map(|entry| {
                    let pair = js_sys::Array::from(&entry);
                    Some((pair.get(0).as_string()?, json_at(&pair.get(1), depth + 1)))
                })
                .collect(),
        )
    }
}

/// Reads a string property of a JavaScript object.
pub fn get_string(target: &JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
}

/// Records a User Timing mark (`performance.mark(name)`), for start-up measurements (the
/// benchmark reads them, and so can real-user monitoring); nothing happens where the page
/// has no `performance`.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// The global `window`, or an error outside a browser page.
pub fn window() -> Result<web_sys::Window, JsError> {
    web_sys::window().ok_or_else(|| JsError::new("NoWindow", "not running in a browser page"))
}

/// What an HTTP exchange gave: the status, the `Location` header, the body as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpReply {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The body.
    pub text: String,
}

/// `fetch(url, {method, headers, body})`, read to the end as text. Plain `fetch` rather
/// than an HTTP crate: the watch page's three requests do not need one, and the client's
/// size budget notices every kilobyte.
pub async fn fetch_text(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<HttpReply, JsError> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let header_map = web_sys::Headers::new()?;
    for (name, value) in headers {
        header_map.set(name, value)?;
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&wasm_bindgen::JsValue::from_str(body));
    }
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window()?.fetch_with_str_and_init(url, &init))
            .await?
            .dyn_into()
            .map_err(|_| JsError::new("TypeError", "fetch did not give a Response"))?;
    let text = wasm_bindgen_futures::JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok(HttpReply {
        status: response.status(),
        location: response.headers().get("location")?,
        text,
    })
}
