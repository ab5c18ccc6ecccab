//! Verifies that a build for a target without a browser (a native server
//! sharing code with its client) gets typed errors, not panics:
//! - `connect`, `open_with_callbacks` and the reconnecting socket report
//!   `Error::UnsupportedTarget`;
//! - the pure types work as on wasm32;
//! - the guide's chapter "Testing your app" shows `tests/browser/testing_example.rs`
//!   whole (which CI runs in the three browsers), so the two cannot drift.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use browser_websocket::{
    Callbacks, CloseCode, Error, FlowControl, Message, ReconnectPolicy, ReconnectingWebSocket,
    WebSocket,
};
use futures_util::{FutureExt, StreamExt};

fn unsupported() -> Error {
    Error::UnsupportedTarget {
        target: std::env::consts::ARCH,
    }
}

#[test]
fn connecting_natively_is_a_typed_error() {
    let outcome = WebSocket::connect("ws://127.0.0.1:1/").now_or_never();
    assert_eq!(
        outcome.map(|result| result.err()),
        Some(Some(unsupported()))
    );
    let callbacks = WebSocket::builder("ws://127.0.0.1:1/").open_with_callbacks(Callbacks::new());
    assert_eq!(callbacks.err(), Some(unsupported()));
}

#[test]
fn the_reconnecting_socket_ends_with_the_error() {
    let mut socket = ReconnectingWebSocket::connect("ws://127.0.0.1:1/");
    assert_eq!(socket.next().now_or_never(), Some(Some(Err(unsupported()))));
    assert_eq!(socket.next().now_or_never(), Some(None));
    assert!(matches!(socket.send_text("x"), Err(Error::NotOpen { .. })));
}

#[test]
fn the_pure_types_work_natively() {
    assert_eq!(Message::from("hi").as_text(), Some("hi"));
    assert_eq!(CloseCode::from(4000).check_sendable(), Ok(()));
    assert!(FlowControl::new(10, 20).is_err());
    assert!(ReconnectPolicy::default().should_reconnect(
        &browser_websocket::CloseEvent {
            code: CloseCode::Abnormal,
            reason: String::new(),
            was_clean: false
        },
        false
    ));
}

#[test]
fn the_guide_shows_the_testing_example_whole() {
    let guide = include_str!("../guide/src/testing.md");
    assert!(guide.contains(include_str!("browser/testing_example.rs")));
}
