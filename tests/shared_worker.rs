//! Verifies that the library works in a shared worker (one for every page of
//! an origin), where there is no `window`: the same cases as the dedicated
//! worker's suite (`worker_cases/`): connect, echo, close, relative URLs,
//! callbacks, a failed connection, nothing left alive, the reconnecting
//! socket coming back after a drop, and shared sockets (one connection, or one
//! each without Web Locks or `BroadcastChannel`).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod worker_cases;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_shared_worker);

#[wasm_bindgen_test]
async fn runs_in_a_shared_worker_without_window() {
    let global = js_sys::global();
    assert!(global
        .dyn_ref::<web_sys::SharedWorkerGlobalScope>()
        .is_some());
    assert!(global.dyn_ref::<web_sys::Window>().is_none());
}

worker_suite!();
