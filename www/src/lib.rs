//! The demo page: the classic string and binary WebSocket examples, run in Rust
//! on load, and a playground below them. All page logic is here, on web-sys.
#![forbid(unsafe_code)]

mod dom;
mod examples;
mod outbox;
mod playground;
mod tabs;

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs when the module loads: on the shared-socket page joins the tabs; on
/// the outbox page connects with its outbox;
/// otherwise wires the playground, then runs the examples.
#[wasm_bindgen(start)]
pub fn start() {
    if tabs::is_this_page() {
        tabs::install();
        return;
    }
    if outbox::is_this_page() {
        outbox::install();
        return;
    }
    playground::install();
    wasm_bindgen_futures::spawn_local(examples::run_all());
}
