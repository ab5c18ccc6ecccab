//! Minimal app on the reconnecting socket: connect (backoff, queue and
//! heartbeat at their defaults), send one text, receive one message.
#![forbid(unsafe_code)]

use browser_websocket::{Message, ReconnectingWebSocket};
use futures_util::StreamExt;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(start)]
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        let mut socket = ReconnectingWebSocket::connect("/echo");
        let _ = socket.send_text("hello");
        if let Some(Ok(Message::Text(text))) = socket.next().await {
            web_sys::console::log_1(&text.into());
        }
    });
}
