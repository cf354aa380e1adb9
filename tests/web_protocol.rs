//! The protocol in the browser: every PROTOCOL.md example is read and written back by the
//! client's build of the protocol types exactly as natively, and malformed messages get the
//! same typed errors as on the relay (the checks are shared with
//! `protocol/tests/protocol_doc.rs`). Run in headless Chromium and Firefox by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]

#[path = "../protocol/tests/shared/cases.rs"]
mod cases;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn every_protocol_example_round_trips_in_the_browser() {
    cases::check_examples();
}

#[wasm_bindgen_test]
fn malformed_messages_get_the_relays_typed_errors_in_the_browser() {
    cases::check_malformed();
}
