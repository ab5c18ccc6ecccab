//! Verifies large binary messages kept in JavaScript memory
//! (`BinaryType::JsArrayBuffer` in, `Message::JsBinary` out): round trips
//! of 16 MiB through the echo server arrive whole and in order and leave the
//! wasm memory as it was. (Its own test binary, so that no other test's
//! allocations count: wasm memory never shrinks.) `large_in_wasm.rs` is the
//! same through `Vec<u8>`, for comparison.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use browser_websocket::{BinaryType, Message, WebSocket};
use common::*;
use futures_util::SinkExt;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The pattern, made in JS: no byte of it passes through wasm.
fn js_pattern(len: u32) -> js_sys::Uint8Array {
    let make = js_sys::Function::new_with_args(
        "len, modulus",
        "const view = new Uint8Array(len); for (let i = 0; i < len; i++) view[i] = i % modulus; return view;",
    );
    make.call2(
        &wasm_bindgen::JsValue::UNDEFINED,
        &len.into(),
        &LARGE_PATTERN_MODULUS.into(),
    )
    .unwrap()
    .into()
}

#[wasm_bindgen_test]
async fn large_round_trips_stay_out_of_wasm_memory() {
    let socket = WebSocket::builder(&url("/echo"))
        .binary_type(BinaryType::JsArrayBuffer)
        .connect()
        .await
        .unwrap();
    assert_eq!(socket.binary_type(), BinaryType::JsArrayBuffer);
    let (mut sender, mut receiver) = socket.into_split();
    let payload = js_pattern(LARGE_SIZE);
    let before = wasm_memory_bytes();
    let rounds = large_rounds();
    let started = js_sys::Date::now();
    for round in 0..rounds {
        sender
            .send(Message::JsBinary(payload.clone()))
            .await
            .unwrap();
        let Message::JsBinary(echo) = next_message(&mut receiver).await else {
            panic!("round {round}: not a JS view");
        };
        assert_eq!(echo.length(), LARGE_SIZE, "round {round}");
        check_large_pattern(&format!("round {round}"), LARGE_SIZE, |index| {
            echo.get_index(index)
        });
    }
    let elapsed = js_sys::Date::now() - started;
    let growth = wasm_memory_bytes() - before;
    report_figure(
        &format!("16 MiB round trips kept in JS (JsBinary), {rounds} of them"),
        &format!("{:.1} s, wasm memory +{growth} bytes", elapsed / 1000.0),
    )
    .await;
    assert!(
        growth < f64::from(1 << 20),
        "wasm memory grew {growth} bytes"
    );
}
