//! Minimal app with this crate: connect, send one text, receive one message.
#![forbid(unsafe_code)]

use browser_websocket::{Message, WebSocket};
use futures_util::StreamExt;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(start)]
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        if let Ok(mut socket) = WebSocket::connect("/echo").await {
            let _ = socket.send_text("hello");
            if let Some(Ok(Message::Text(text))) = socket.next().await {
                web_sys::console::log_1(&text.into());
            }
        }
    });
}
