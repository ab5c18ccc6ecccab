//! The browser's WebSocket as a typed, safe, leak-free Rust API, for
//! `wasm32-unknown-unknown` in pages and dedicated workers, and the same API
//! natively (feature `native`, on by default: tokio-tungstenite with rustls),
//! so client code shared between the web and native apps does not change.
//!
//! - [`WebSocket::connect`] resolves when the socket is open; the socket is a
//!   `Stream` of `Result<`[`Message`]`>` and a `Sink<`[`Message`]`>`, and
//!   [`into_split`](WebSocket::into_split)s into halves that can live in
//!   different tasks.
//! - [`ReconnectingWebSocket`] comes back after network drops
//!   and server restarts, with the same `Stream` and `Sink`: backoff with
//!   jitter, a bounded queue while down, a heartbeat, fresh URLs per attempt.
//! - Every bad input is a typed [`Error`] found before the browser is asked: URL
//!   scheme and fragment, subprotocol tokens, close codes and reasons; sending on a
//!   closed socket is an error, not silently dropped.
//! - A clean close ends the stream; an abnormal one yields one
//!   [`Error::ConnectionClosed`] with its [`CloseEvent`]. [`Handle::closed`]
//!   always gives the `CloseEvent`.
//! - The `Sink` applies backpressure: it waits while the browser's
//!   `bufferedAmount` is above a high watermark ([`FlowControl`], default 1.75 MiB),
//!   so a fast producer cannot fill the tab's memory. Every send counts, text,
//!   bytes and Blobs alike (a Blob by its size), through every `Sink`: the
//!   socket's, its [`Sender`]'s and the [`ReconnectingWebSocket`]'s.
//! - The stream holds at most [`DEFAULT_RECEIVE_LIMIT`] (64 MiB) of unread
//!   messages ([`WebSocketBuilder::receive_limit`]); past it the socket is
//!   closed with [`RECEIVE_LIMIT_CLOSE_CODE`] and the stream says so.
//! - [`Callbacks`] mirror `onopen`/`onmessage`/`onerror`/`onclose` for code that
//!   does not use async. They and the stream consume one typed event sequence,
//!   so they report the same things (the table below).
//! - Dropping the socket (every half and handle) closes it with 1000 and removes
//!   every listener; [`live_js_callbacks`] and [`live_sockets`] let you check.
//!
//! Each message reaches wasm in a single call from a small inline JS listener,
//! so the crate needs a wasm-bindgen target with JS module support (`web`,
//! `bundler`, `nodejs`: what Trunk, Leptos and Dioxus use), not `no-modules`.
//!
//! # Browser concepts, on MDN
//!
//! [`WebSocket`](https://developer.mozilla.org/docs/Web/API/WebSocket) (the
//! object this wraps), [`binaryType`](https://developer.mozilla.org/docs/Web/API/WebSocket/binaryType)
//! ([`BinaryType`]), [`bufferedAmount`](https://developer.mozilla.org/docs/Web/API/WebSocket/bufferedAmount)
//! ([`FlowControl`]), [`readyState`](https://developer.mozilla.org/docs/Web/API/WebSocket/readyState)
//! ([`ReadyState`]), [`close()`](https://developer.mozilla.org/docs/Web/API/WebSocket/close)
//! ([`Handle::close_with`]), [`CloseEvent`](https://developer.mozilla.org/docs/Web/API/CloseEvent)
//! and its [codes](https://developer.mozilla.org/docs/Web/API/CloseEvent/code)
//! ([`CloseEvent`], [`CloseCode`]), [`Blob`](https://developer.mozilla.org/docs/Web/API/Blob)
//! ([`read_blob`], [`ReadBlobsExt`]), and the [WebSockets API](https://developer.mozilla.org/docs/Web/API/WebSockets_API)
//! as a whole.
//!
//! # What each API reports
//!
//! Every browser event goes through one state machine, which turns the orders
//! the engines produce into one sequence of typed events; the stream, the
//! callbacks and the reconnecting socket each consume that sequence.
//!
//! | browser events | `connect` and the `Stream` | [`Callbacks`] | [`ReconnectingWebSocket`] |
//! |---|---|---|---|
//! | `error`, `close(1006)` before `open` (refused, HTTP 403, not a WebSocket server, a refused subprotocol) | `connect` fails with [`Error::ConnectionFailed`] (1006) | `on_error(ConnectionFailed)`, `on_close(1006)` | [`ReconnectEvent::Closed`] (1006), then a retry |
//! | `error` and never `close` (WebKit, a port it blocks; Chromium and Firefox fire `error`, `close(1006)` for one) | the same: `error` is terminal | the same | the same |
//! | `open`, `message`…, `close` (clean, from either side) | the messages, then `None`; `closed()` gives the close | `on_open`, `on_message`…, `on_close` | the messages; `Closed`; reconnects by the policy |
//! | `open`, …, `close(1006)` not clean (TCP drop) | …, [`Error::ConnectionClosed`] (1006), then `None` | …, `on_error(ConnectionClosed)`, `on_close(1006)` | `Closed` (1006), then reconnects |
//! | `open`, …, `error`, `close(1006)` | the same as a TCP drop | the same | the same |
//! | the app's `close`, then `close` (clean or not) | `None`, no error: the app asked | `on_close`, no `on_error` | `Closed`, and no reconnection |
//! | more unread than the receive limit | the messages up to the one past the limit, [`Error::ReceiveLimitExceeded`], `None` (the socket closes with 4009) | (callbacks take each message as it comes: no limit) | as the stream; no reconnection |
//! | `message` whose data is not text, `ArrayBuffer` or `Blob` (no engine does this; tested with one the app dispatches) | [`Error::UnexpectedMessageType`], and the stream goes on | `on_error`, and it goes on | the same as the stream |
//! | an event the app dispatches on the browser socket (`Handle::as_web_sys`) from inside a callback | — | handled when that callback returns, in order | — |
//! | the socket is dropped | — | nothing more is called: the listeners are removed | (dropping it closes for good) |
//!
//! # Example
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use browser_websocket::{BinaryType, CloseCode, Message, WebSocket};
//!
//! async fn run() -> browser_websocket::Result<()> {
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
//!     let (sender, mut receiver) = socket.into_split();
//!     while let Some(message) = receiver.next().await {
//!         match message? {
//!             Message::Text(text) => web_sys::console::log_1(&text.into()),
//!             Message::Binary(bytes) => {
//!                 let float = f32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
//!                 let log = format!("Uint8: {} Float32: {float}", bytes[4]);
//!                 web_sys::console::log_1(&log.into());
//!                 sender.close_with(CloseCode::Normal, "done")?;
//!             }
//!             _ => {} // Blobs and JS binary: only with other binary types
//!         }
//!     }
//!     let event = sender.closed().await;
//!     assert!(event.was_clean);
//!     Ok(())
//! }
//! ```
//!
//! # Learn more
//!
//! [The guide](https://github.com/browser-websocket/browser-websocket/blob/main/guide/src/SUMMARY.md)
//! has a chapter for each of these: getting started in each framework, the
//! browser API typed, what each API reports, flow control and the receive
//! limit, reconnecting and the page's life, one connection for every tab,
//! testing your app, threads and workers, conformance and engine differences,
//! benchmarks, the native backend, and migrating from gloo-net.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod backend;
mod js;
mod live;
#[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
mod native;
mod reconnect;
mod requests;
mod rules;
mod send_handle;
mod shape;
mod socket;
pub mod tabs;
// The in-page mock server stands in for the browser's socket: browser builds
// only (natively there is no page to intercept in).
#[cfg(all(feature = "testing", target_arch = "wasm32"))]
pub mod testing;

// The README's and the guide's examples compile as doc tests, so they cannot
// drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../guide/src/benchmarks.md")]
    struct Benchmarks;
    #[doc = include_str!("../guide/src/browser-api.md")]
    struct BrowserApi;
    #[doc = include_str!("../guide/src/flow-control.md")]
    struct FlowControl;
    #[doc = include_str!("../guide/src/migrating-from-gloo-net.md")]
    struct MigratingFromGlooNet;
    #[doc = include_str!("../guide/src/native.md")]
    struct Native;
    #[doc = include_str!("../guide/src/reconnecting.md")]
    struct Reconnecting;
    #[doc = include_str!("../guide/src/requests.md")]
    struct Requests;
    #[doc = include_str!("../guide/src/tabs.md")]
    struct Tabs;
    #[doc = include_str!("../guide/src/testing.md")]
    struct Testing;
    #[doc = include_str!("../guide/src/threads.md")]
    struct Threads;
}

// Every public item has one path: the crate root, but for the shared socket
// (`tabs`) and the mock server (`testing`), which are apart because most apps
// need neither.

// Reading `Blob` messages: one at a time, in order, or one Blob.
pub use js::blob::{read_blob, ReadBlobs, ReadBlobsExt};
// Counting what is alive, to check that nothing leaks.
pub use js::live_js_callbacks;
pub use socket::shared::live_sockets;
// A socket as `AsyncRead` + `AsyncWrite` over binary messages.
pub use reconnect::{
    CheckReason, EnsureAlive, Heartbeat, ReconnectEvent, ReconnectPolicy, ReconnectingBuilder,
    ReconnectingHandle, ReconnectingReceiver, ReconnectingSender, ReconnectingWebSocket,
    SendPolicy, Target, WithSessions,
};
pub use rules::close::{check_close_reason, CloseCode, CloseEvent, MAX_REASON_BYTES};
pub use rules::error::{Error, Result};
pub use rules::flow::FlowControl;
pub use rules::inbox::{DEFAULT_RECEIVE_LIMIT, RECEIVE_LIMIT_CLOSE_CODE};
pub use rules::message::{BinaryType, Message, ReadyState};
// Requests with replies, over a socket, for any protocol (JSON-RPC 2.0 and
// graphql-transport-ws built in).
pub use requests::{
    Acked, Delivery, DeliveryStatus, Messages, Pending, RemoteAcked, RemoteDelivery, RemoteReply,
    RemoteSubscription, RequestClient, RequestClientBuilder, RequestHandle, RequestOptions,
    Restored, Subscription, DEFAULT_MAX_TOPICS, DEFAULT_REQUEST_TIMEOUT,
};
#[cfg(feature = "json")]
pub use rules::graphql_ws::{GraphqlRequest, GraphqlWs, GRAPHQL_TRANSPORT_WS};
#[cfg(feature = "json")]
pub use rules::json_rpc::{JsonRpc, JsonRpcCall, JsonRpcError};
pub use rules::requests::{Incoming, Protocol, RequestError, SubscriptionEvent, Subscriptions};
pub use rules::url::RedactedUrl;
// Handles that cross threads, for sockets that stay on theirs.
pub use send_handle::{SendHandle, SEND_HANDLE_QUEUE_BYTES};
pub use shape::Socket;
pub use socket::byte_stream::ByteStream;
pub use socket::callbacks::Callbacks;
pub use socket::drive::drive;
pub use socket::halves::{Receiver, Sender};
pub use socket::handle::{Closed, Handle};
pub use socket::websocket::{Connecting, WebSocket, WebSocketBuilder};
