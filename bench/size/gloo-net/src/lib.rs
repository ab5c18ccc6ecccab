//! Minimal app with gloo-net 0.7: connect, send one text, receive one message.
#![forbid(unsafe_code)]

use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(start)]
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        if let Ok(mut socket) = WebSocket::open("/echo") {
            let _ = socket.send(Message::Text("hello".to_owned())).await;
            if let Some(Ok(Message::Text(text))) = socket.next().await {
                web_sys::console::log_1(&text.into());
            }
        }
    });
}
