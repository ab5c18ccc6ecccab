//! Verifies that long sessions leak nothing: 10,000 sockets opened and closed,
//! half as plain sockets and half through the reconnect cycles of one
//! `ReconnectingWebSocket`, leave no socket, listener or timer alive, and grow
//! the wasm memory by less than 1 MiB. The figures are printed to the console.
//!
//! The full run (10,000 sockets, about two minutes per engine) is opt-in:
//! `BROWSER_WEBSOCKET_SOAK=1` at compile time, which `cargo xtask test` sets.
//! Without it the same checks run on 200 sockets, so a plain `wasm-pack test`
//! stays quick. `WS_SOAK_SOCKETS` (at compile time) sets the number outright.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crate::common::*;
use browser_websocket::{
    live_js_callbacks, live_sockets, ReconnectEvent, ReconnectPolicy, ReconnectingWebSocket,
};
use futures_util::StreamExt;
use wasm_bindgen_test::*;

const SOCKETS: &str = match (
    option_env!("WS_SOAK_SOCKETS"),
    option_env!("BROWSER_WEBSOCKET_SOAK"),
) {
    (Some(count), _) => count,
    (None, Some(_)) => "10000",
    (None, None) => "200",
};

#[wasm_bindgen_test]
async fn ten_thousand_sockets_leave_nothing_behind() {
    let total: u32 = SOCKETS.parse().unwrap();
    let sockets = live_sockets();
    let listeners = live_js_callbacks();
    // Warm up the allocator and the browser before measuring.
    for _ in 0..20 {
        drop(connect("/echo").await);
    }
    let memory_before = wasm_memory_bytes();
    let started = js_sys::Date::now();

    for _ in 0..total / 2 {
        let socket = connect("/echo").await;
        drop(socket);
    }
    assert_eq!(live_sockets(), sockets);
    assert_eq!(live_js_callbacks(), listeners);
    let plain_done = js_sys::Date::now();

    // The other half: each cycle, the server closes the connection with 1001
    // (going away) and the reconnecting socket opens a new one. (A clean close:
    // after abnormal ones Firefox spaces out new connections to the same host.)
    let cycles = total / 2;
    let opened = Rc::new(Cell::new(0u32));
    let counter = opened.clone();
    let policy = ReconnectPolicy::default().delays(Duration::ZERO, Duration::ZERO);
    let mut reconnecting = ReconnectingWebSocket::builder(url("/close?code=1001&reason=cycle"))
        .policy(policy)
        .on_event(move |event| {
            if matches!(event, ReconnectEvent::Open { .. }) {
                counter.set(counter.get() + 1);
            }
        })
        .connect();
    let mut last = (0, js_sys::Date::now());
    while opened.get() < cycles {
        sleep(20).await;
        if opened.get() != last.0 {
            last = (opened.get(), js_sys::Date::now());
        }
        assert!(
            js_sys::Date::now() - last.1 < 10_000.0,
            "stuck after {} cycles",
            opened.get()
        );
    }
    reconnecting.close_normal().unwrap();
    while within(10_000, "the end", reconnecting.next())
        .await
        .is_some()
    {}
    drop(reconnecting);
    sleep(100).await;

    let growth = wasm_memory_bytes() - memory_before;
    let seconds = |from: f64, to: f64| (to - from) / 1000.0;
    let report = format!(
        "soak: {total} sockets ({} plain in {:.1} s, {} reconnect cycles in {:.1} s); wasm memory grew {growth} bytes; live sockets {}, live listeners {}",
        total / 2,
        seconds(started, plain_done),
        opened.get(),
        seconds(plain_done, js_sys::Date::now()),
        live_sockets() - sockets,
        live_js_callbacks() - listeners,
    );
    web_sys::console::log_1(&report.clone().into());
    assert_eq!(live_sockets(), sockets);
    assert_eq!(live_js_callbacks(), listeners);
    assert!(growth < 1024.0 * 1024.0, "{report}");
}
