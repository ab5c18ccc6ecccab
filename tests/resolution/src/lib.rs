//! An app pinning `wasm-bindgen = "=0.2.100"`, with the library: connect, send
//! one text.
#![forbid(unsafe_code)]

use browser_websocket::WebSocket;
use wasm_bindgen::prelude::wasm_bindgen;

/// Connects to `url` and sends one text.
#[wasm_bindgen]
pub fn greet(url: String) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(socket) = WebSocket::connect(&url).await {
            let _ = socket.send_text("hello");
        }
    });
}
