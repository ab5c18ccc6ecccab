//! The browser's WebSocket as a typed, safe, leak-free Rust API, for
//! `wasm32-unknown-unknown` in pages and dedicated workers.
//!
//! - [`WebSocket::connect`] resolves when the socket is open; the socket is a
//!   `Stream` of `Result<`[`Message`]`>` and a `Sink<`[`Message`]`>`, and
//!   [`split`](WebSocket::split)s into halves that can live in different tasks.
//! - Every bad input is a typed [`Error`] found before the browser is asked: URL
//!   scheme and fragment, subprotocol tokens, close codes and reasons; sending on a
//!   closed socket is an error, not silently dropped.
//! - A clean close ends the stream; an abnormal one yields one
//!   [`Error::ConnectionClosed`] with its [`CloseEvent`]. [`Handle::closed`]
//!   always gives the `CloseEvent`.
//! - The `Sink` applies backpressure: it waits while the browser's
//!   `bufferedAmount` is above a high watermark ([`FlowControl`], default 1 MiB),
//!   so a fast producer cannot fill the tab's memory.
//! - [`Callbacks`] mirror `onopen`/`onmessage`/`onerror`/`onclose` for code that
//!   does not use async.
//! - Dropping the socket (every half and handle) closes it with 1000 and removes
//!   every listener; [`live_js_callbacks`] and [`live_sockets`] let you check.
//!
//! Each message reaches wasm in a single call from a small inline JS listener,
//! so the crate needs a wasm-bindgen target with JS module support (`web`,
//! `bundler`, `nodejs`: what Trunk, Leptos and Dioxus use), not `no-modules`.
//!
//! # Example
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use websocket_web::{BinaryType, CloseCode, Message, WebSocket};
//!
//! async fn run() -> websocket_web::Result<()> {
//!     // `http:` URLs are mapped to `ws:`, relative ones resolved against the page.
//!     let mut socket = WebSocket::builder("http://127.0.0.1:8080/echo")
//!         .binary_type(BinaryType::ArrayBuffer)
//!         .connect()
//!         .await?;
//!
//!     socket.send(Message::from("an example message")).await?;
//!     let mut buffer = [0u8; 5];
//!     buffer[..4].copy_from_slice(&std::f32::consts::PI.to_be_bytes());
//!     buffer[4] = 127;
//!     socket.send(Message::from(buffer.to_vec())).await?;
//!
//!     let (sender, mut receiver) = socket.split();
//!     while let Some(message) = receiver.next().await {
//!         match message? {
//!             Message::Text(text) => web_sys::console::log_1(&text.into()),
//!             Message::Binary(bytes) => {
//!                 let float = f32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
//!                 let log = format!("Uint8: {} Float32: {float}", bytes[4]);
//!                 web_sys::console::log_1(&log.into());
//!                 sender.close_with(CloseCode::Normal, "done")?;
//!             }
//!             Message::Blob(_) => {}
//!         }
//!     }
//!     let event = sender.closed().await;
//!     assert!(event.was_clean);
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod js;
mod reconnect;
mod rules;
mod socket;

pub use js::blob::{read_blob, ReadBlobs, ReadBlobsExt};
pub use js::live_js_callbacks;
pub use reconnect::builder::{Heartbeat, ReconnectingBuilder, Target};
pub use reconnect::ReconnectingWebSocket;
pub use rules::close::{check_close_reason, CloseCode, CloseEvent, MAX_REASON_BYTES};
pub use rules::error::{Error, Result};
pub use rules::flow::FlowControl;
pub use rules::inbox::{DEFAULT_RECEIVE_LIMIT, RECEIVE_LIMIT_CLOSE_CODE};
pub use rules::message::{BinaryType, Message, ReadyState};
pub use rules::policy::ReconnectPolicy;
pub use rules::reconnect::ReconnectEvent;
pub use socket::callbacks::Callbacks;
pub use socket::halves::{Receiver, Sender};
pub use socket::handle::{Closed, Handle};
pub use socket::shared::live_sockets;
pub use socket::websocket::{Connecting, WebSocket, WebSocketBuilder};
