//! The browser suite: one test binary, so that each engine builds, links and
//! post-processes the tests once. Each module verifies one behaviour and says
//! what it proves at its head. Tests run one at a time in one page, in any
//! order; each cleans up after itself (the leak checks compare counts from
//! before and after, not from zero).
//!
//! Four suites stay binaries of their own, each for a reason:
//! - `large_in_js.rs` and `large_in_wasm.rs` measure how the wasm memory grows
//!   from a clean start, which no other test may have grown first;
//! - `worker.rs` and `shared_worker.rs` run in a dedicated and a shared worker
//!   (`wasm_bindgen_test_configure!` sets where a whole binary runs);
//! - `threaded.rs` needs another build (shared memory, `build-std`).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../scenarios/mod.rs"]
#[macro_use]
mod scenarios;

mod close;
mod conformance;
mod connect;
mod every_path;
mod first_hour;
mod flow;
mod graphql;
mod lifecycle;
mod messages;
mod mock;
mod page_life;
mod receive_limit;
mod reconnect;
mod requests;
mod scenarios_in_browsers;
mod send_handle;
mod shape;
mod shared_requests;
mod soak;
mod tabs;
mod testing_example;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
