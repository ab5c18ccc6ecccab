//! The native backend, by `cargo test`, against the crate's test server (and
//! the JSON-RPC server) that the test command starts:
//! - the shared scenario table (`tests/scenarios`), which the browser suite
//!   runs in Chrome, Firefox and WebKit: the same behaviour on both backends;
//! - what only the native backend has: headers on the upgrade, `wss:` with a
//!   certificate made at test time, a `SendHandle` and a `RequestHandle` used
//!   from other OS threads, any executor;
//! - what only a browser has, as typed errors: relative URLs, Blobs,
//!   `JsArrayBuffer`, the outbox;
//! - the guide's chapter "Testing your app" shows
//!   `tests/browser/testing_example.rs` whole.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "scenarios/mod.rs"]
mod scenarios;

use std::future::Future;

use browser_websocket::{CloseCode, FlowControl, Message, ReconnectPolicy};

/// Runs `scenario` as an app would: on a runtime of its own (tokio's current
/// thread here; any executor works), inside [`browser_websocket::drive`].
fn run(scenario: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(browser_websocket::drive(scenario));
}

macro_rules! native_tests {
    ($($name:ident),* $(,)?) => {
        mod table {
            $(
                #[test]
                fn $name() {
                    super::run(super::scenarios::leak_checked(super::scenarios::$name()));
                }
            )*
        }
    };
}

#[cfg(feature = "native")]
scenario_table!(native_tests);

#[cfg(all(feature = "native", feature = "json"))]
mod json {
    use super::*;
    json_scenario_table!(native_tests);
}

#[cfg(feature = "native")]
#[path = "native_only/mod.rs"]
mod native_only;

#[cfg(not(feature = "native"))]
#[test]
fn connecting_without_the_native_feature_is_a_typed_error() {
    use futures_util::FutureExt;
    let outcome = browser_websocket::WebSocket::connect("ws://127.0.0.1:1/").now_or_never();
    assert!(matches!(
        outcome,
        Some(Err(browser_websocket::Error::UnsupportedTarget { .. }))
    ));
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
