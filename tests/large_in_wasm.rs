//! The comparison for `large_in_js.rs`: round trips of 16 MiB through the
//! echo server as `Vec<u8>` (the default `BinaryType::ArrayBuffer`) arrive
//! whole, and the received copies grow the wasm memory, which never gives the
//! pages back. Its own test binary, so that only this test's allocations count.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use browser_websocket::{Message, WebSocket};
use common::*;
use futures_util::SinkExt;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn large_round_trips_through_wasm_memory() {
    let socket = WebSocket::connect(&url("/echo")).await.unwrap();
    let (mut sender, mut receiver) = socket.into_split();
    let payload: Vec<u8> = (0..LARGE_SIZE)
        .map(|index| (index % LARGE_PATTERN_MODULUS) as u8)
        .collect();
    let before = wasm_memory_bytes();
    let rounds = large_rounds();
    let started = js_sys::Date::now();
    for round in 0..rounds {
        sender.send(Message::Binary(payload.clone())).await.unwrap();
        let Message::Binary(echo) = next_message(&mut receiver).await else {
            panic!("round {round}: not bytes");
        };
        assert_eq!(echo.len(), LARGE_SIZE as usize, "round {round}");
        check_large_pattern(&format!("round {round}"), LARGE_SIZE, |index| {
            echo[index as usize]
        });
    }
    let elapsed = js_sys::Date::now() - started;
    let growth = wasm_memory_bytes() - before;
    report_figure(
        &format!("16 MiB round trips through wasm (Binary), {rounds} of them"),
        &format!("{:.1} s, wasm memory +{growth} bytes", elapsed / 1000.0),
    )
    .await;
    // The echo and the message being sent are 16 MiB each beside the payload.
    assert!(
        growth >= f64::from(LARGE_SIZE),
        "wasm memory grew {growth} bytes"
    );
}
