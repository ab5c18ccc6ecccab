//! The demo page: the classic string and binary WebSocket examples, run in Rust
//! on load, and a playground below them. All page logic is here, on web-sys.
#![forbid(unsafe_code)]

mod dom;
mod examples;
mod playground;

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs when the module loads: wires the playground, then runs the examples.
#[wasm_bindgen(start)]
pub fn start() {
    playground::install();
    wasm_bindgen_futures::spawn_local(examples::run_all());
}
