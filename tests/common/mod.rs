//! Shared by the browser test suites: where the test server is, and timeouts so
//! that a broken behaviour fails a test instead of hanging the run.
#![allow(dead_code)]

use std::future::Future;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use browser_websocket::{
    Message, ReconnectEvent, ReconnectPolicy, ReconnectingBuilder, ReconnectingWebSocket, WebSocket,
};
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use wasm_bindgen::{JsCast, JsValue};

/// The test server's origin, given at compile time by the test command
/// (`WS_TEST_SERVER=ws://127.0.0.1:PORT`); 9001 when run by hand.
pub const SERVER: &str = match option_env!("WS_TEST_SERVER") {
    Some(server) => server,
    None => "ws://127.0.0.1:9001",
};

/// A port on which nothing listens, found by the test command.
pub const REFUSED_PORT: &str = match option_env!("WS_TEST_REFUSED_PORT") {
    Some(port) => port,
    None => "9002",
};

/// `SERVER` + `path`.
pub fn url(path: &str) -> String {
    format!("{SERVER}{path}")
}

/// A name unique within this page, for server routes that record by id.
pub fn unique_id(label: &str) -> String {
    format!("{label}-{}", js_sys::Math::random().to_bits())
}

/// Resolves after `ms` milliseconds, on a page or in a worker.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        if let Ok(set_timeout) = js_sys::Reflect::get(&global, &JsValue::from_str("setTimeout")) {
            if let Some(set_timeout) = set_timeout.dyn_ref::<js_sys::Function>() {
                let _ = set_timeout.call2(&global, &resolve, &JsValue::from(ms));
            }
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// `future`'s output, or a panic naming `what` after `ms` milliseconds.
pub async fn within<T>(ms: i32, what: &str, future: impl Future<Output = T>) -> T {
    let future = std::pin::pin!(future);
    let timer = std::pin::pin!(sleep(ms));
    match select(future, timer).await {
        Either::Left((output, _)) => output,
        Either::Right(_) => panic!("timed out after {ms} ms waiting for {what}"),
    }
}

/// Returns once `done()` holds, looking every 10 ms; a panic naming `what`
/// after 5 s.
pub async fn wait_until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        sleep(10).await;
    }
    panic!("timed out waiting for {what}");
}

/// The next message, which must arrive within 10 s and be `Ok`.
pub async fn next_message<S>(stream: &mut S) -> Message
where
    S: futures_util::Stream<Item = browser_websocket::Result<Message>> + Unpin,
{
    match within(10_000, "a message", stream.next()).await {
        Some(Ok(message)) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Connects to a server path, failing the test if it cannot.
pub async fn connect(path: &str) -> WebSocket {
    connect_to(&url(path)).await
}

/// Connects to a URL, failing the test if it cannot.
pub async fn connect_to(url: &str) -> WebSocket {
    match within(10_000, "connect", WebSocket::connect(url)).await {
        Ok(socket) => socket,
        Err(error) => panic!("connect {url}: {error}"),
    }
}

/// A test server of the test's own (the test server's `/instance`), for a
/// test that restarts its server: the restart drops only this server's
/// connections, not those of the tests or browsers running beside it.
/// Returns its origin, and the socket that keeps it running until dropped.
pub async fn own_server() -> (String, WebSocket) {
    let mut keeper = connect("/instance").await;
    match next_message(&mut keeper).await {
        Message::Text(origin) => (origin, keeper),
        other => panic!("expected the instance's origin, got {other:?}"),
    }
}

/// Runs `script` in the page or worker (e.g. to dispatch an event as the
/// browser would, or to hide an API).
pub fn run_script(script: &str) {
    js_sys::Function::new_no_args(script)
        .call0(&wasm_bindgen::JsValue::UNDEFINED)
        .unwrap();
}

/// Milliseconds since the epoch, by the browser's clock.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The sessions the test server's `/record` route logged for `id`, in order,
/// each the list of what it recorded.
pub async fn server_log(id: &str) -> Vec<Vec<String>> {
    let mut socket = connect(&format!("/record-log?id={id}")).await;
    let text = next_message(&mut socket).await;
    serde_json::from_str(text.as_text().unwrap()).unwrap()
}

/// The `/record` id under which tests leave what they measured.
pub const FIGURES_ID: &str = "figures";

/// Leaves a measured figure with the test server (`NAME\tVALUE` in its
/// `/record` log under [`FIGURES_ID`]), where `cargo xtask figures` reads it
/// (`/record-log.json?id=figures`) to write the guide's tables. The value is
/// also logged to the console, which shows when the test fails.
pub async fn report_figure(name: &str, value: &str) {
    wasm_bindgen_test::console_log!("{name}: {value}");
    let socket = connect(&format!("/record?id={FIGURES_ID}")).await;
    socket.send_text(&format!("{name}\t{value}")).unwrap();
    socket.close_normal().unwrap();
    within(10_000, "the figure's socket to close", socket.closed()).await;
}

/// The close code and reason the server recorded for the `/echo?id=` socket `id`.
pub async fn close_seen_by_server(id: &str) -> String {
    let mut report = connect(&format!("/closes?id={id}")).await;
    match next_message(&mut report).await {
        Message::Text(text) => text,
        other => panic!("expected a text report, got {other:?}"),
    }
}

/// The 5-byte buffer of the classic binary example: `setFloat32(0, Math.PI)`
/// (big-endian) then `setUint8(4, 127)`.
pub fn pi_and_127() -> Vec<u8> {
    let mut buffer = std::f32::consts::PI.to_be_bytes().to_vec();
    buffer.push(127);
    buffer
}

/// Reads the example buffer back as the JS example does (`getUint8(4)`,
/// `getFloat32(0)` on a `DataView`), the float printed at f32 precision.
pub fn describe_pi_and_127(bytes: &[u8]) -> String {
    let array = js_sys::Uint8Array::from(bytes);
    let view = js_sys::DataView::new(&array.buffer(), 0, bytes.len());
    let float32: f32 = view.get_float32(0);
    format!("Uint8: {} Float32: {float32}", view.get_uint8(4))
}

/// The size of the wasm linear memory, which grows in 64 KiB pages and never
/// shrinks: a leak shows as growth.
pub fn wasm_memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as f64
}

/// The events a reconnecting socket reported, in order.
pub type Events = Rc<RefCell<Vec<ReconnectEvent>>>;

/// Fast retries for tests; attempts counted until the test says otherwise.
pub fn fast_policy() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .delays(Duration::from_millis(20), Duration::from_millis(200))
        .connect_timeout(Duration::from_secs(5))
        .stable_after(Duration::from_secs(60))
}

/// A reconnecting socket's builder for `path` that records its events.
pub fn recording(path: &str, policy: ReconnectPolicy) -> (ReconnectingBuilder, Events) {
    recording_url(&url(path), policy)
}

/// A reconnecting socket's builder for `url` that records its events.
pub fn recording_url(url: &str, policy: ReconnectPolicy) -> (ReconnectingBuilder, Events) {
    let events = Events::default();
    let log = events.clone();
    let builder = ReconnectingWebSocket::builder(url)
        .policy(policy)
        .on_event(move |event| log.borrow_mut().push(event.clone()));
    (builder, events)
}

/// Waits until `events` satisfies `done`.
pub async fn wait_for_events(
    events: &Events,
    what: &str,
    done: impl Fn(&[ReconnectEvent]) -> bool,
) {
    for _ in 0..300 {
        if done(&events.borrow()) {
            return;
        }
        sleep(50).await;
    }
    panic!(
        "timed out waiting for {what}; events: {:?}",
        events.borrow()
    );
}

/// Bytes of a large-message test: byte `i` is `i mod 251`.
pub const LARGE_PATTERN_MODULUS: u32 = 251;

/// Checks `len` bytes read through `byte_at` against the large pattern at
/// the start, the middle and the end; panics naming `what` otherwise.
pub fn check_large_pattern(what: &str, len: u32, byte_at: impl Fn(u32) -> u8) {
    for index in [0, 1, 250, 251, len / 2, len - 2, len - 1] {
        let expected = (index % LARGE_PATTERN_MODULUS) as u8;
        assert_eq!(byte_at(index), expected, "{what}: byte {index}");
    }
}

/// How many 16 MiB round trips the large-message tests make: 10, or
/// `WS_LARGE_ROUNDS` at compile time (the guide's figures are for 100).
pub fn large_rounds() -> u32 {
    option_env!("WS_LARGE_ROUNDS")
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(10)
}

/// The size of a large message.
pub const LARGE_SIZE: u32 = 16 << 20;
