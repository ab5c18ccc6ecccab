//! Verifies the crate on threaded wasm: built with `+atomics,+bulk-memory`
//! (`build-std`), so wasm memory is a `SharedArrayBuffer`, on a page served
//! cross-origin isolated. Browsers refuse views of shared memory in `send`,
//! `TextDecoder` and `Blob`, so each path that hands bytes to the browser is
//! taken here and its echo compared byte for byte:
//! - the page is cross-origin isolated and wasm memory is shared (else the
//!   suite would prove nothing);
//! - text and bytes (`send_text`, `send_bytes`, `Message::Binary` and
//!   `Message::Text` through the Sink), and the split halves in two tasks;
//! - a Blob, sent and received (`BinaryType::Blob`, `read_blob`);
//! - `Message::JsBinary`: received (`BinaryType::JsArrayBuffer`) and sent
//!   back, and views of shared memory (wasm's own, a `SharedArrayBuffer`),
//!   which the crate copies before sending;
//! - the callbacks API, the reconnecting socket (stream, sink, split halves),
//!   the shared socket (a view of wasm memory relayed between two sockets of
//!   one name), the byte stream, and the in-page mock server (feature
//!   `testing`);
//! - the sockets, their halves and `Message` are `!Send`, plain data is
//!   `Send + Sync` (`send_checks/`, at compile time);
//! - a `SendHandle` and a `RequestHandle` used from a worker thread: sends
//!   and requests made there are carried out on the socket's thread, in order;
//! - bytes built on another thread (a Web Worker running this same module on
//!   the same memory) are sent from the socket's thread.
//!
//! WebKitGTK runs all of it but the worker cases: it refuses to post a shared
//! `WebAssembly.Memory` to a worker, so no wasm thread starts there; a case
//! asserts that refusal, so a change shows. It also hides the
//! `SharedArrayBuffer` constructor, so shared buffers are told by their tag.
//!
//! Only the threaded build compiles it (`cargo xtask test` makes that build);
//! elsewhere it is empty.
#![cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod send_checks;

use std::sync::Mutex;

use browser_websocket::testing::MockServer;
use browser_websocket::{BinaryType, Callbacks, Message, ReconnectingWebSocket, WebSocket};
use common::*;
use futures_util::{AsyncReadExt, AsyncWriteExt, SinkExt, StreamExt};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// `len` bytes that take every value and repeat with a period prime to 256,
/// so a shifted, truncated or reordered copy differs.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(251) as u8).wrapping_add(seed))
        .collect()
}

/// Text with one-, two-, three- and four-byte UTF-8 characters, longer than
/// one 64 KiB page of memory.
fn text() -> String {
    "threads: a é € 🦀 |".repeat(3000)
}

fn memory_buffer() -> JsValue {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer()
}

/// Whether `buffer` is a `SharedArrayBuffer`, told by its tag: WebKit hides
/// the `SharedArrayBuffer` constructor from scripts (so `instanceof` cannot
/// be used) while wasm's shared memory still is one.
fn is_shared(buffer: &JsValue) -> bool {
    buffer.unchecked_ref::<js_sys::Object>().to_string() == "[object SharedArrayBuffer]"
}

/// A `SharedArrayBuffer` of `len` bytes apart from wasm's memory: a new
/// shared `WebAssembly.Memory`'s, which needs no `SharedArrayBuffer`
/// constructor.
fn other_shared_view(len: usize) -> js_sys::Uint8Array {
    let pages = JsValue::from(len.div_ceil(65536) as u32);
    let descriptor = js_sys::Object::new();
    for (key, value) in [
        ("initial", pages.clone()),
        ("maximum", pages),
        ("shared", true.into()),
    ] {
        js_sys::Reflect::set(&descriptor, &key.into(), &value).unwrap();
    }
    let memory = js_sys::WebAssembly::Memory::new(&descriptor).unwrap();
    let buffer = memory.buffer();
    assert!(is_shared(&buffer));
    js_sys::Uint8Array::new_with_byte_offset_and_length(&buffer, 0, len as u32)
}

/// Asserts `message` is binary (either form) with exactly `expected`.
async fn assert_bytes(message: Message, expected: &[u8], what: &str) {
    let bytes = message.into_bytes().await.unwrap();
    assert_eq!(bytes.len(), expected.len(), "{what}: length");
    assert!(bytes == expected, "{what}: the echo differs");
}

#[wasm_bindgen_test]
fn the_page_is_cross_origin_isolated_and_memory_is_shared() {
    let isolated = js_sys::Reflect::get(&js_sys::global(), &"crossOriginIsolated".into()).unwrap();
    assert_eq!(isolated.as_bool(), Some(true), "crossOriginIsolated");
    assert!(
        is_shared(&memory_buffer()),
        "wasm memory is not a SharedArrayBuffer"
    );
    // WebKitGTK hides the constructor even so; the crate does not need it.
    let constructor = js_sys::Reflect::get(&js_sys::global(), &"SharedArrayBuffer".into()).unwrap();
    assert_eq!(
        !constructor.is_undefined(),
        !is_webkit(),
        "the SharedArrayBuffer constructor is exposed everywhere but in WebKitGTK"
    );
}

/// With atomics, types holding JS objects are `!Send` as well (see
/// `send_checks/`, compiled into this suite).
#[wasm_bindgen_test]
fn sockets_and_messages_are_not_send_and_plain_data_is() {
    send_checks::plain_data_is_send_and_sync();
}

#[wasm_bindgen_test]
async fn text_and_bytes_echo_byte_exact() {
    let mut socket = connect("/echo").await;
    let text = text();
    socket.send_text(&text).unwrap();
    assert_eq!(next_message(&mut socket).await, Message::Text(text.clone()));

    let bytes = pattern(70_000, 1);
    socket.send_bytes(&bytes).unwrap();
    assert_bytes(next_message(&mut socket).await, &bytes, "send_bytes").await;

    // The Sink: the message's bytes live in (shared) wasm memory.
    socket
        .send(Message::Binary(pattern(1000, 2)))
        .await
        .unwrap();
    assert_bytes(next_message(&mut socket).await, &pattern(1000, 2), "Sink").await;
    socket.send(Message::Text(text.clone())).await.unwrap();
    assert_eq!(next_message(&mut socket).await, Message::Text(text));

    // Empty messages too.
    socket.send_bytes(&[]).unwrap();
    assert_bytes(next_message(&mut socket).await, &[], "empty").await;
    socket.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn split_halves_echo_from_two_tasks() {
    let (mut sender, mut receiver) = connect("/echo").await.into_split();
    wasm_bindgen_futures::spawn_local(async move {
        for seed in 0..10 {
            sender
                .send(Message::Binary(pattern(5000, seed)))
                .await
                .unwrap();
        }
        sender.send(Message::from("done")).await.unwrap();
    });
    for seed in 0..10 {
        assert_bytes(
            next_message(&mut receiver).await,
            &pattern(5000, seed),
            "half",
        )
        .await;
    }
    assert_eq!(next_message(&mut receiver).await, Message::from("done"));
}

#[wasm_bindgen_test]
async fn blobs_echo_byte_exact() {
    let mut socket = WebSocket::builder(&url("/echo"))
        .binary_type(BinaryType::Blob)
        .connect()
        .await
        .unwrap();
    let bytes = pattern(70_000, 3);
    // A Blob is made from a copy: `Uint8Array::from` copies out of wasm memory.
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(&bytes[..]));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    socket.send_blob(&blob).unwrap();
    let Message::Blob(echo) = next_message(&mut socket).await else {
        panic!("expected a Blob");
    };
    assert!(browser_websocket::read_blob(&echo).await.unwrap() == bytes);
    // Bytes sent to a Blob socket come back as a Blob.
    socket.send_bytes(&bytes).unwrap();
    assert_bytes(next_message(&mut socket).await, &bytes, "Blob of bytes").await;
}

#[wasm_bindgen_test]
async fn js_binary_messages_echo_byte_exact() {
    let mut socket = WebSocket::builder(&url("/echo"))
        .binary_type(BinaryType::JsArrayBuffer)
        .connect()
        .await
        .unwrap();
    let bytes = pattern(70_000, 4);

    // A view of wasm's own (shared) memory, made without `unsafe`.
    let whole = js_sys::Uint8Array::new(&memory_buffer());
    let start = bytes.as_ptr() as u32;
    let view = whole.subarray(start, start + bytes.len() as u32);
    assert!(is_shared(&view.buffer()));
    socket.send(Message::JsBinary(view)).await.unwrap();
    let echo = next_message(&mut socket).await;
    let Message::JsBinary(received) = &echo else {
        panic!("expected JsBinary, got {echo:?}");
    };
    // What the browser hands over is an ordinary buffer, sent back as is.
    assert!(!is_shared(&received.buffer()));
    socket.send_message(&echo).unwrap();
    assert_bytes(echo, &bytes, "view of wasm memory").await;
    assert_bytes(next_message(&mut socket).await, &bytes, "JsBinary resent").await;

    // A view of another SharedArrayBuffer.
    let shared = other_shared_view(bytes.len());
    shared.copy_from(&bytes);
    socket.send(Message::JsBinary(shared)).await.unwrap();
    assert_bytes(next_message(&mut socket).await, &bytes, "SharedArrayBuffer").await;

    // A copy (`Uint8Array::from`) is an ordinary buffer.
    socket
        .send(Message::from(js_sys::Uint8Array::from(&bytes[..])))
        .await
        .unwrap();
    assert_bytes(next_message(&mut socket).await, &bytes, "copy").await;
}

#[wasm_bindgen_test]
async fn the_shared_socket_relays_views_of_shared_memory_between_tabs() {
    use browser_websocket::tabs::SharedWebSocket;
    // Two shared sockets of one name: the second relays through the first,
    // so what it sends crosses a BroadcastChannel, which refuses shared
    // memory as `send` does.
    let name = unique_id("threaded-tabs");
    let build = || {
        SharedWebSocket::builder(url("/echo"))
            .name(&name)
            .binary_type(BinaryType::ArrayBuffer)
            .connect()
    };
    let leader = build();
    let mut follower = build();
    for _ in 0..200 {
        if leader.is_connected() && follower.is_connected() {
            break;
        }
        sleep(25).await;
    }
    assert!(follower.is_connected(), "{follower:?}");
    let bytes = pattern(70_000, 9);
    let whole = js_sys::Uint8Array::new(&memory_buffer());
    let start = bytes.as_ptr() as u32;
    let view = whole.subarray(start, start + bytes.len() as u32);
    assert!(is_shared(&view.buffer()));
    follower.send_message(&Message::JsBinary(view)).unwrap();
    follower.send_bytes(&bytes).unwrap();
    follower.send_text(&text()).unwrap();
    assert_bytes(next_message(&mut follower).await, &bytes, "relayed view").await;
    assert_bytes(next_message(&mut follower).await, &bytes, "relayed bytes").await;
    assert_eq!(next_message(&mut follower).await, Message::Text(text()));
    assert_eq!(follower.pending(), 0);
    drop(leader);
}

#[wasm_bindgen_test]
async fn callbacks_echo_byte_exact() {
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let mut received = Vec::new();
    let _handle = WebSocket::builder(&url("/echo"))
        .open_with_callbacks(
            Callbacks::new()
                .on_open(|socket| {
                    socket.send_text(&text()).unwrap();
                    socket.send_bytes(&pattern(70_000, 5)).unwrap();
                })
                .on_message(move |socket, message| {
                    received.push(message);
                    if received.len() == 2 {
                        socket.close_normal().unwrap();
                        if let Some(done) = done.take() {
                            let _ = done.send(std::mem::take(&mut received));
                        }
                    }
                }),
        )
        .unwrap();
    let received = within(10_000, "two echoes", finished).await.unwrap();
    assert_eq!(received[0], Message::Text(text()));
    assert_eq!(received[1], Message::Binary(pattern(70_000, 5)));
}

#[wasm_bindgen_test]
async fn reconnecting_socket_echoes_byte_exact() {
    let mut socket = ReconnectingWebSocket::builder(url("/echo"))
        .policy(fast_policy())
        .connect();
    // Queued until open, then sent from the queue.
    socket.send_bytes(&pattern(70_000, 6)).unwrap();
    socket.send_text(&text()).unwrap();
    assert_bytes(
        next_message(&mut socket).await,
        &pattern(70_000, 6),
        "queued",
    )
    .await;
    assert_eq!(next_message(&mut socket).await, Message::Text(text()));
    socket
        .send(Message::Binary(pattern(3000, 7)))
        .await
        .unwrap();
    assert_bytes(next_message(&mut socket).await, &pattern(3000, 7), "Sink").await;

    let (mut sender, mut receiver) = socket.into_split();
    wasm_bindgen_futures::spawn_local(async move {
        sender
            .send(Message::Binary(pattern(4000, 8)))
            .await
            .unwrap();
    });
    assert_bytes(next_message(&mut receiver).await, &pattern(4000, 8), "half").await;
    receiver.close_normal().unwrap();
    assert!(within(10_000, "end of stream", receiver.next())
        .await
        .is_none());
}

#[wasm_bindgen_test]
async fn byte_stream_round_trips_byte_exact() {
    let mut stream = connect("/echo").await.into_byte_stream();
    let bytes = pattern(70_000, 9);
    stream.write_all(&bytes).await.unwrap();
    stream.flush().await.unwrap();
    let mut echo = vec![0; bytes.len()];
    within(10_000, "byte stream echo", stream.read_exact(&mut echo))
        .await
        .unwrap();
    assert!(echo == bytes);
}

#[wasm_bindgen_test]
async fn the_mock_server_carries_bytes_both_ways() {
    let server = MockServer::listen("ws://mock/threaded");
    let mut socket = WebSocket::connect("ws://mock/threaded").await.unwrap();
    let connection = server.next_connection().await;
    let bytes = pattern(70_000, 10);
    socket.send_bytes(&bytes).unwrap();
    assert_eq!(
        connection.next_received().await,
        Some(Message::Binary(bytes.clone()))
    );
    connection.send_bytes(&bytes);
    assert_bytes(next_message(&mut socket).await, &bytes, "mock send_bytes").await;
    connection.send_text(&text());
    assert_eq!(next_message(&mut socket).await, Message::Text(text()));
}

// A Web Worker running this same module on the same memory: the worker's
// Rust takes its job from `JOBS` and sends its result over a channel.
#[wasm_bindgen(inline_js = r#"
export function startThread(module, memory) {
  // The test runner's bindings, two folders up from this snippet.
  const bindings = new URL("../../wasm-bindgen-test.js", import.meta.url).href;
  const source = `
    import init, { threaded_suite_worker_entry } from ${JSON.stringify(bindings)};
    self.onmessage = async (event) => {
      await init({ module_or_path: event.data[0], memory: event.data[1] });
      threaded_suite_worker_entry();
      self.close();
    };`;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    worker.postMessage([module, memory]);
    return null;
  } catch (error) {
    // The memory could not be handed over: no thread.
    worker.terminate();
    return error.name;
  }
}
"#)]
extern "C" {
    /// `None` once started; else the name of the error that refused to post
    /// the module and memory to the worker.
    #[wasm_bindgen(js_name = startThread)]
    fn start_thread(module: JsValue, memory: JsValue) -> Option<String>;
}

type Job = Box<dyn FnOnce() + Send>;

/// Jobs for worker threads. The page's thread pushes one before starting
/// its worker and never takes the lock again, so it never waits on it.
static JOBS: Mutex<Vec<Job>> = Mutex::new(Vec::new());

/// A worker thread's entry: runs one job.
#[wasm_bindgen]
pub fn threaded_suite_worker_entry() {
    let job = JOBS.lock().unwrap().pop();
    if let Some(job) = job {
        job();
    }
}

/// Runs `job` on a new thread (a Web Worker); `Err` with the error's name if
/// the browser would not post wasm's memory to a worker.
fn spawn(job: impl FnOnce() + Send + 'static) -> Result<(), String> {
    JOBS.lock().unwrap().push(Box::new(job));
    match start_thread(wasm_bindgen::module(), wasm_bindgen::memory()) {
        None => Ok(()),
        Some(error) => {
            JOBS.lock().unwrap().clear();
            Err(error)
        }
    }
}

/// WebKit (WebKitGTK here), told by its user agent: Chrome's also names
/// AppleWebKit, Firefox's does not.
fn is_webkit() -> bool {
    let user_agent = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"userAgent".into()))
        .ok()
        .and_then(|agent| agent.as_string())
        .unwrap_or_default();
    user_agent.contains("AppleWebKit") && !user_agent.contains("Chrome")
}

/// WebKitGTK runs shared wasm memory but refuses to post a shared
/// `WebAssembly.Memory` to a worker (`DataCloneError`), so no wasm thread can
/// be started there; Chrome and Firefox post it. Should WebKitGTK start to
/// allow it, this fails, and the thread case below runs there too.
///
/// It waits for the worker's job to finish: a worker left starting when the
/// suite ends held Firefox's test run open until the runner's timeout (2 min).
#[wasm_bindgen_test]
async fn wasm_memory_reaches_a_worker_except_in_webkitgtk() {
    let (ran, finished) = futures_channel::oneshot::channel();
    let refused = spawn(move || {
        let _ = ran.send(());
    });
    if is_webkit() {
        assert_eq!(refused, Err("DataCloneError".to_owned()));
    } else {
        assert_eq!(refused, Ok(()));
        within(10_000, "the worker's job", finished).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn bytes_made_on_another_thread_are_sent_from_the_sockets_thread() {
    let mut socket = connect("/echo").await;
    let here = std::thread::current().id();
    let (made, arrived) = futures_channel::oneshot::channel();
    let started = spawn(move || {
        let in_worker = js_sys::global()
            .dyn_ref::<web_sys::DedicatedWorkerGlobalScope>()
            .is_some();
        let _ = made.send((std::thread::current().id(), in_worker, pattern(70_000, 11)));
    });
    if is_webkit() {
        // No thread can start there (see the case above).
        assert_eq!(started, Err("DataCloneError".to_owned()));
        return;
    }
    started.unwrap();
    let (there, in_worker, bytes) = within(10_000, "the worker's bytes", arrived).await.unwrap();
    assert!(in_worker, "the job did not run in a worker");
    assert_ne!(here, there, "the job ran on the page's thread");
    // The Vec was allocated by the worker in the shared memory; the socket's
    // thread sends it.
    socket.send_bytes(&bytes).unwrap();
    assert_bytes(next_message(&mut socket).await, &bytes, "worker's bytes").await;
    socket.send(Message::Binary(bytes)).await.unwrap();
    assert_bytes(
        next_message(&mut socket).await,
        &pattern(70_000, 11),
        "worker's Vec",
    )
    .await;
}

/// A `SendHandle` crosses to a worker thread, which sends through it: the
/// socket stays on the page's thread, which carries the sends out in order,
/// and the worker reads the socket's state through the handle.
#[wasm_bindgen_test]
async fn a_send_handle_sends_from_another_thread() {
    let mut socket = connect("/echo").await;
    let handle = socket.send_handle();
    let (done, finished) = futures_channel::oneshot::channel();
    let started = spawn(move || {
        let in_worker = js_sys::global()
            .dyn_ref::<web_sys::DedicatedWorkerGlobalScope>()
            .is_some();
        let state = handle.ready_state();
        let sent: Vec<_> = (0..3)
            .map(|k| handle.send_text(format!("from the worker {k}")))
            .collect();
        let bytes = handle.send_bytes(pattern(70_000, 5));
        let _ = done.send((in_worker, state, sent, bytes));
    });
    if is_webkit() {
        // No thread can start there (see above).
        assert_eq!(started, Err("DataCloneError".to_owned()));
        return;
    }
    started.unwrap();
    let (in_worker, state, sent, bytes) = within(10_000, "the worker's sends", finished)
        .await
        .unwrap();
    assert!(in_worker, "the job did not run in a worker");
    assert_eq!(state, browser_websocket::ReadyState::Open);
    assert!(sent.iter().all(Result::is_ok), "{sent:?}");
    assert_eq!(bytes, Ok(()));
    for k in 0..3 {
        assert_eq!(
            next_message(&mut socket).await,
            Message::Text(format!("from the worker {k}"))
        );
    }
    assert_bytes(
        next_message(&mut socket).await,
        &pattern(70_000, 5),
        "the worker's bytes",
    )
    .await;
}

/// A protocol for the echo route: a request is `"<id> <text>"`, and its echo
/// is its reply.
struct EchoRequests;

impl browser_websocket::Protocol for EchoRequests {
    type Request = String;
    type Reply = String;
    type Rejection = String;

    fn request_message(&self, id: u64, text: &String) -> browser_websocket::Result<Message> {
        Ok(Message::Text(format!("{id} {text}")))
    }

    fn classify(&self, message: &Message) -> browser_websocket::Incoming<String, String> {
        let reply = message.as_text().and_then(|text| text.split_once(' '));
        match reply.and_then(|(id, text)| Some((id.parse().ok()?, text))) {
            Some((id, text)) => browser_websocket::Incoming::Reply {
                id,
                reply: Ok(text.to_owned()),
            },
            None => browser_websocket::Incoming::Other,
        }
    }
}

/// A `RequestHandle` crosses to a worker thread, which makes requests
/// through it; their reply futures come back to this thread (they are
/// `Send`) and resolve with the replies.
#[wasm_bindgen_test]
async fn a_request_handle_makes_requests_from_another_thread() {
    let (client, _messages) =
        browser_websocket::RequestClient::new(connect("/echo").await, EchoRequests);
    let handle = client.send_handle();
    let (made, arrived) = futures_channel::oneshot::channel();
    let started = spawn(move || {
        let replies: Vec<_> = (0..3)
            .map(|k| handle.request(format!("from the worker {k}")))
            .collect();
        let _ = made.send(replies);
    });
    if is_webkit() {
        // No thread can start there (see above).
        assert_eq!(started, Err("DataCloneError".to_owned()));
        return;
    }
    started.unwrap();
    let replies = within(10_000, "the worker's requests", arrived)
        .await
        .unwrap();
    for (k, reply) in replies.into_iter().enumerate() {
        let reply = within(5_000, "a reply", reply).await;
        assert_eq!(reply, Ok(format!("from the worker {k}")));
    }
}
