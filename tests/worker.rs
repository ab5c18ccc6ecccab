//! Verifies that the library works in a dedicated worker, where there is no
//! `window`:
//! - connect, text and binary echo, and a clean client close;
//! - URLs resolve against the worker's location;
//! - the callback API, and a failed connection, work there too;
//! - dropped sockets leave nothing alive;
//! - the reconnecting socket comes back after a drop, and releases everything;
//! - shared sockets share one connection, and without Web Locks or
//!   `BroadcastChannel` connect one each and say which is missing.
//!
//! The cases are shared with the shared-worker suite (`worker_cases/`).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod worker_cases;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn runs_in_a_worker_without_window() {
    let global = js_sys::global();
    assert!(global
        .dyn_ref::<web_sys::DedicatedWorkerGlobalScope>()
        .is_some());
    assert!(global.dyn_ref::<web_sys::Window>().is_none());
}

worker_suite!();
