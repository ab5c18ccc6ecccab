//! Verifies the Sink's flow control against a server that reads slowly:
//! - 256 MiB through the Sink keeps `bufferedAmount` at most twice the high
//!   watermark (the peak is printed), and every byte arrives, in order (WebKit
//!   moves sent data out of `bufferedAmount` into its network process at once,
//!   so there the bound holds but says little about memory);
//! - smaller watermarks are honoured the same way;
//! - the plain `send_*` methods stay immediate (the buffer grows past `high`);
//! - a Sink waiting for the buffer to drain is released with an error when the
//!   socket closes;
//! - a waiting Sink sleeps until the buffer should have drained, on the plain
//!   and the reconnecting socket: to a reader of 8 MiB/s it reads
//!   `bufferedAmount` at most 80 times a second, or 4 times per MiB where the
//!   browser takes the data sooner (every 4 ms would be 250 a second);
//! - watermarks with `low` above `high` are a typed error.

use crate::common::*;
use browser_websocket::{Error, FlowControl, Message, ReconnectingWebSocket, WebSocket};
use futures_util::{Sink, SinkExt, StreamExt};
use wasm_bindgen_test::*;

const CHUNK: usize = 64 * 1024;

/// Message `sequence` of the slow reader's protocol.
fn chunk(message: &mut Vec<u8>, sequence: u64) {
    message.resize(CHUNK, 0);
    message[..8].copy_from_slice(&sequence.to_be_bytes());
    message[8..].fill((sequence % 251) as u8);
}

/// Sends `total` bytes through the Sink to `/slow?rate=...`; returns the peak
/// `bufferedAmount` seen after each send, and the server's report.
async fn pump(flow: FlowControl, total: usize, rate: u32) -> (u32, String) {
    let mut socket = WebSocket::builder(&url(&format!("/slow?rate={rate}")))
        .flow_control(flow)
        .connect()
        .await
        .unwrap();
    let mut message = Vec::with_capacity(CHUNK);
    let mut peak = 0;
    for sequence in 0..(total / CHUNK) as u64 {
        chunk(&mut message, sequence);
        socket.feed(Message::Binary(message.clone())).await.unwrap();
        peak = peak.max(socket.buffered_amount());
    }
    socket.send_text("done").unwrap();
    let report = match within(120_000, "the slow reader's report", socket.next()).await {
        Some(Ok(Message::Text(report))) => report,
        other => panic!("expected the report, got {other:?}"),
    };
    (peak, report)
}

/// Pumps `total` bytes through a Sink with `flow` to a reader of `rate` bytes/s,
/// checks that all arrived in order and that `bufferedAmount` stayed within
/// twice the high watermark; returns the peak.
async fn assert_bounded_and_complete(flow: FlowControl, total: usize, rate: u32) -> u32 {
    let (peak, report) = pump(flow, total, rate).await;
    let expected = format!("messages={} bytes={total} in_order=true", total / CHUNK);
    assert_eq!(report, expected);
    assert!(
        peak <= 2 * flow.high(),
        "peak bufferedAmount {peak} > 2 x {}",
        flow.high()
    );
    peak
}

#[wasm_bindgen_test]
async fn sink_keeps_256_mib_bounded_and_delivers_every_byte_in_order() {
    let peak = assert_bounded_and_complete(FlowControl::default(), 256 << 20, 64 << 20).await;
    let line = format!("256 MiB through the Sink: peak bufferedAmount {peak} bytes");
    web_sys::console::log_1(&line.into());
}

#[wasm_bindgen_test]
async fn smaller_watermarks_are_honoured() {
    let flow = FlowControl::new(128 * 1024, 32 * 1024).unwrap();
    assert_bounded_and_complete(flow, 16 << 20, 16 << 20).await;
}

#[wasm_bindgen_test]
async fn plain_sends_stay_immediate() {
    let socket = WebSocket::builder(&url("/slow?rate=1048576"))
        .connect()
        .await
        .unwrap();
    let mut message = Vec::new();
    for sequence in 0..64 {
        chunk(&mut message, sequence);
        socket.send_bytes(&message).unwrap();
    }
    // 4 MiB handed over at once: far more than the 1 MiB the Sink would allow.
    assert!(
        socket.buffered_amount() > FlowControl::default().high(),
        "{}",
        socket.buffered_amount()
    );
}

#[wasm_bindgen_test]
async fn a_waiting_sink_is_released_when_the_socket_closes() {
    // With both watermarks at 0, the Sink waits as long as anything is buffered,
    // and right after a send something always is (in every engine).
    let flow = FlowControl::new(0, 0).unwrap();
    let socket = WebSocket::builder(&url("/slow?rate=1048576"))
        .flow_control(flow)
        .connect()
        .await
        .unwrap();
    let (mut sender, _receiver) = socket.into_split();
    let handle = sender.handle();
    let mut message = Vec::new();
    chunk(&mut message, 0);
    sender.feed(Message::Binary(message.clone())).await.unwrap();
    chunk(&mut message, 1);
    let mut waiting = sender.feed(Message::Binary(message));
    assert!(
        futures_util::poll!(&mut waiting).is_pending(),
        "the Sink did not wait"
    );
    handle.close_normal().unwrap();
    let result = within(10_000, "the waiting Sink", waiting).await;
    assert!(matches!(result, Err(Error::NotOpen { .. })), "{result:?}");
}

/// Counts every read of any WebSocket's `bufferedAmount` while it lives (the
/// getter on the prototype is wrapped, and put back when this is dropped).
struct BufferedReads;

impl BufferedReads {
    fn start() -> Self {
        run_script(
            r#"
            const native = Object.getOwnPropertyDescriptor(WebSocket.prototype, "bufferedAmount");
            globalThis.bufferedReadsNative = native;
            globalThis.bufferedReads = 0;
            Object.defineProperty(WebSocket.prototype, "bufferedAmount", {
              ...native,
              get() {
                globalThis.bufferedReads++;
                return native.get.call(this);
              },
            });
            "#,
        );
        Self
    }

    fn count(&self) -> u32 {
        js_sys::Reflect::get(&js_sys::global(), &"bufferedReads".into())
            .ok()
            .and_then(|count| count.as_f64())
            .unwrap_or(f64::NAN) as u32
    }
}

impl Drop for BufferedReads {
    fn drop(&mut self) {
        run_script(
            r#"Object.defineProperty(WebSocket.prototype, "bufferedAmount", globalThis.bufferedReadsNative);"#,
        );
    }
}

/// What the rare-looks tests send: 24 MiB to a reader of 8 MiB/s, so the
/// Sink waits about 2 s (the rest fits in the network stack's buffers).
const RARE_TOTAL: usize = 24 << 20;
const RARE_RATE: u32 = 8 << 20;

/// Feeds `RARE_TOTAL` bytes into `sink`; returns how often `bufferedAmount`
/// was read meanwhile, and in how many seconds.
async fn feed_counting_looks<S>(sink: &mut S) -> (u32, f64)
where
    S: Sink<Message, Error = Error> + Unpin,
{
    let reads = BufferedReads::start();
    let started = now_ms();
    let mut message = Vec::with_capacity(CHUNK);
    for sequence in 0..(RARE_TOTAL / CHUNK) as u64 {
        chunk(&mut message, sequence);
        sink.feed(Message::Binary(message.clone())).await.unwrap();
    }
    (reads.count(), (now_ms() - started) / 1000.0)
}

/// Checks the report, and that the Sink looked at most 80 times a second or,
/// where the browser took the data sooner (WebKit moves it out of
/// `bufferedAmount` into its network process at once), 4 times per MiB. A look
/// every 4 ms would be 250 a second; Chrome's buffer sits still for up to
/// 200 ms and then drops by a megabyte, so the Sink looks every 50 ms meanwhile.
fn assert_looked_rarely(what: &str, (looks, seconds): (u32, f64), report: Option<String>) {
    let expected = format!(
        "messages={} bytes={RARE_TOTAL} in_order=true",
        RARE_TOTAL / CHUNK
    );
    assert_eq!(report.as_deref(), Some(expected.as_str()), "{what}");
    web_sys::console::log_1(&format!("{what}: {looks} looks in {seconds:.2} s").into());
    let mib = (RARE_TOTAL >> 20) as f64;
    let allowed = (80.0 * seconds).max(4.0 * mib);
    assert!(
        f64::from(looks) <= allowed,
        "{what}: {looks} reads of bufferedAmount in {seconds:.2} s (at most {allowed:.0})"
    );
}

fn text(item: Option<browser_websocket::Result<Message>>) -> Option<String> {
    match item {
        Some(Ok(Message::Text(text))) => Some(text),
        _ => None,
    }
}

#[wasm_bindgen_test]
async fn a_waiting_sink_looks_at_the_buffer_rarely_on_a_slow_link() {
    let slow = url(&format!("/slow?rate={RARE_RATE}"));
    let mut socket = WebSocket::connect(&slow).await.unwrap();
    let looks = feed_counting_looks(&mut socket).await;
    socket.send_text("done").unwrap();
    let report = text(within(30_000, "the report", socket.next()).await);
    assert_looked_rarely("WebSocket", looks, report);
}

#[wasm_bindgen_test]
async fn a_waiting_reconnecting_sink_looks_at_the_buffer_rarely_on_a_slow_link() {
    let slow = url(&format!("/slow?rate={RARE_RATE}"));
    let mut socket = ReconnectingWebSocket::builder(slow)
        .policy(fast_policy().max_attempts(Some(1)))
        .connect();
    within(10_000, "the reconnecting socket to connect", async {
        while !socket.is_connected() {
            sleep(10).await;
        }
    })
    .await;
    let looks = feed_counting_looks(&mut socket).await;
    socket.send_text("done").unwrap();
    let report = text(within(30_000, "the report", socket.next()).await);
    socket.close_normal().unwrap();
    assert_looked_rarely("ReconnectingWebSocket", looks, report);
}

#[wasm_bindgen_test]
async fn low_above_high_is_a_typed_error() {
    assert_eq!(
        FlowControl::new(1024, 2048),
        Err(Error::InvalidWatermarks {
            high: 1024,
            low: 2048
        })
    );
}
