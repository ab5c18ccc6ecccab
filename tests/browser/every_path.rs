//! Verifies, through the public API, that every way of doing the same thing
//! behaves the same:
//! - flow control bounds every kind of message on every `Sink`: text, bytes
//!   and Blobs, each through a `WebSocket`, its `Sender` half and a
//!   `ReconnectingWebSocket` (with `.flow_control(..)`), 32 MiB in 64 KiB
//!   messages to a reader of 64 MiB/s; `bufferedAmount` never exceeds the high
//!   watermark plus one message (the peak of each is printed as
//!   `peak bufferedAmount: sink=S kind=K peak=N`), and every message arrives, in
//!   order;
//! - the reconnecting socket's `Sink` yields to the event loop while it waits
//!   for the buffer to drain (another task gets to run during the pump);
//! - while the reconnecting socket is disconnected, a full queue makes its
//!   `Sink` wait instead of failing (with `feed` and with `send`), and every
//!   message then arrives once, in order;
//! - the stream (on the `WebSocket` and on its `Receiver` half) and the
//!   callbacks report the same events, row by row:
//!
//! | situation | what the stream / `connect` reports | what the callbacks report |
//! |---|---|---|
//! | refused port, HTTP 403 on the upgrade, a plain HTTP server | `connect` → `Err(ConnectionFailed(1006))` | on_error(ConnectionFailed 1006), on_close(1006, not clean) |
//! | clean close by the server (4000 "bye") | messages, then `None`; `closed()` = 4000 "bye" clean | on_open, on_close(4000 "bye" clean); no on_error |
//! | clean close by the app (`close_with(4001, "bye")`) | `None` | on_open, on_close(4001 "bye" clean); no on_error |
//! | TCP drop after open | `Err(ConnectionClosed(1006))`, then `None` | on_open, on_message, on_error(ConnectionClosed 1006), on_close(1006) |
//! | a port the browser blocks (WebKit: `error`, no `close`) | as a refused port | the same |
//!
//! (The receive limit's row is in `receive_limit.rs`; every row, with every
//! order of browser events, is also checked natively on the lifecycle machine.)

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::common::*;
use browser_websocket::{
    Callbacks, CloseCode, CloseEvent, Error, FlowControl, Handle, Message, ReconnectEvent,
    ReconnectPolicy, ReconnectingWebSocket, WebSocket,
};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use wasm_bindgen_test::*;

// ---------------------------------------------------------------------------
// Flow control on every Sink, for every kind of message.
// ---------------------------------------------------------------------------

const CHUNK: usize = 64 * 1024;
const TOTAL: usize = 32 << 20;
const HIGH: u32 = 1 << 20;
const LOW: u32 = 256 << 10;
/// The slow reader's pace: 32 MiB take half a second.
const RATE: u32 = 64 << 20;

fn flow() -> FlowControl {
    FlowControl::new(HIGH, LOW).unwrap()
}

fn slow_reader() -> String {
    url(&format!("/slow?rate={RATE}"))
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Text,
    Bytes,
    Blob,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Bytes => "bytes",
            Self::Blob => "blob",
        }
    }

    /// Message `sequence` of the slow reader's protocol, `CHUNK` bytes long.
    fn message(self, sequence: u64) -> Message {
        match self {
            Self::Text => Message::Text(text_chunk(sequence)),
            Self::Bytes => Message::Binary(binary_chunk(sequence)),
            Self::Blob => {
                let bytes = js_sys::Uint8Array::from(&binary_chunk(sequence)[..]);
                let parts = js_sys::Array::of1(&bytes);
                Message::Blob(web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap())
            }
        }
    }
}

/// Binary message i: i as u64 big-endian, then bytes of value i mod 251.
fn binary_chunk(sequence: u64) -> Vec<u8> {
    let mut message = vec![(sequence % 251) as u8; CHUNK];
    message[..8].copy_from_slice(&sequence.to_be_bytes());
    message
}

/// Text message i: i as 16 lowercase hex digits, then characters `a` + i mod 26.
fn text_chunk(sequence: u64) -> String {
    let fill = char::from(b'a' + (sequence % 26) as u8);
    let mut text = format!("{sequence:016x}");
    text.push_str(&fill.to_string().repeat(CHUNK - text.len()));
    text
}

/// Feeds `TOTAL` bytes of `kind` into `sink`, one `CHUNK` at a time; returns the
/// peak of `buffered(sink)` read after each feed.
async fn feed_all<S>(sink: &mut S, kind: Kind, buffered: impl Fn(&S) -> u32) -> u32
where
    S: Sink<Message, Error = Error> + Unpin,
{
    let mut peak = 0;
    for sequence in 0..(TOTAL / CHUNK) as u64 {
        sink.feed(kind.message(sequence)).await.unwrap();
        peak = peak.max(buffered(sink));
    }
    peak
}

/// The slow reader's answer to `done`.
async fn report<S>(stream: &mut S) -> String
where
    S: Stream<Item = browser_websocket::Result<Message>> + Unpin,
{
    match within(30_000, "the slow reader's report", stream.next()).await {
        Some(Ok(Message::Text(report))) => report,
        other => panic!("expected the report, got {other:?}"),
    }
}

/// Counts how often another task gets to run: a task that counts and sleeps
/// 0 ms (a timer, so only a yield to the event loop lets it on), until dropped.
struct Ticker {
    ticks: Rc<Cell<u32>>,
    stop: Rc<Cell<bool>>,
}

impl Ticker {
    fn start() -> Self {
        let ticks = Rc::new(Cell::new(0));
        let stop = Rc::new(Cell::new(false));
        let (count, stopped) = (ticks.clone(), stop.clone());
        wasm_bindgen_futures::spawn_local(async move {
            // Ends by itself too, should a failed test never drop it.
            let started = js_sys::Date::now();
            while !stopped.get() && js_sys::Date::now() - started < 60_000.0 {
                count.set(count.get() + 1);
                sleep(0).await;
            }
        });
        Self { ticks, stop }
    }

    fn ticks(&self) -> u32 {
        self.ticks.get()
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.set(true);
    }
}

#[derive(Clone, Copy, Debug)]
enum SinkPath {
    WebSocket,
    Sender,
    Reconnecting,
}

impl SinkPath {
    fn name(self) -> &'static str {
        match self {
            Self::WebSocket => "websocket",
            Self::Sender => "sender",
            Self::Reconnecting => "reconnecting",
        }
    }
}

/// What one pump saw.
struct Pumped {
    peak: u32,
    report: String,
    /// How often another task ran during the pump, where measured.
    ticks: Option<u32>,
}

async fn connect_slow() -> WebSocket {
    let connecting = WebSocket::builder(&slow_reader())
        .flow_control(flow())
        .connect();
    within(10_000, "connect", connecting).await.unwrap()
}

async fn pump(path: SinkPath, kind: Kind) -> Pumped {
    let what = "feeding 32 MiB";
    match path {
        SinkPath::WebSocket => {
            let mut socket = connect_slow().await;
            let feeding = feed_all(&mut socket, kind, |socket| socket.buffered_amount());
            let peak = within(60_000, what, feeding).await;
            socket.send_text("done").unwrap();
            let report = report(&mut socket).await;
            Pumped {
                peak,
                report,
                ticks: None,
            }
        }
        SinkPath::Sender => {
            let (mut sender, mut receiver) = connect_slow().await.into_split();
            let feeding = feed_all(&mut sender, kind, |sender| sender.buffered_amount());
            let peak = within(60_000, what, feeding).await;
            sender.send_text("done").unwrap();
            let report = report(&mut receiver).await;
            Pumped {
                peak,
                report,
                ticks: None,
            }
        }
        SinkPath::Reconnecting => {
            let mut socket = ReconnectingWebSocket::builder(slow_reader())
                .policy(fast_policy().max_attempts(Some(1)))
                .flow_control(flow())
                .connect();
            within(10_000, "the reconnecting socket to connect", async {
                while !socket.is_connected() {
                    sleep(10).await;
                }
            })
            .await;
            let ticker = Ticker::start();
            let before = ticker.ticks();
            let feeding = feed_all(&mut socket, kind, |socket| socket.buffered_amount());
            let peak = within(60_000, what, feeding).await;
            let ticks = ticker.ticks() - before;
            drop(ticker);
            socket.send_text("done").unwrap();
            let report = report(&mut socket).await;
            socket.close_normal().unwrap();
            Pumped {
                peak,
                report,
                ticks: Some(ticks),
            }
        }
    }
}

/// Pumps 32 MiB of `kind` through `path`'s Sink to the slow reader and checks
/// the bound, the delivery and, where measured, that the Sink yielded.
async fn assert_bounded(path: SinkPath, kind: Kind) {
    let Pumped {
        peak,
        report,
        ticks,
    } = pump(path, kind).await;
    let line = format!(
        "peak bufferedAmount: sink={} kind={} peak={peak}",
        path.name(),
        kind.name()
    );
    web_sys::console::log_1(&line.into());
    let mut wrong = Vec::new();
    let limit = HIGH + CHUNK as u32;
    if peak > limit {
        wrong.push(format!(
            "peak bufferedAmount {peak} > high + one message = {limit}"
        ));
    }
    let expected = format!("messages={} bytes={TOTAL} in_order=true", TOTAL / CHUNK);
    if report != expected {
        wrong.push(format!(
            "the server reported {report:?}, expected {expected:?}"
        ));
    }
    if let Some(ticks) = ticks {
        if ticks < 3 {
            wrong.push(format!(
                "another task ran {ticks} times during the pump: the Sink never yielded"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "sink={} kind={}: {}",
        path.name(),
        kind.name(),
        wrong.join("; ")
    );
}

#[wasm_bindgen_test]
async fn websocket_sink_bounds_text() {
    assert_bounded(SinkPath::WebSocket, Kind::Text).await;
}

#[wasm_bindgen_test]
async fn websocket_sink_bounds_bytes() {
    assert_bounded(SinkPath::WebSocket, Kind::Bytes).await;
}

#[wasm_bindgen_test]
async fn websocket_sink_bounds_blobs() {
    assert_bounded(SinkPath::WebSocket, Kind::Blob).await;
}

#[wasm_bindgen_test]
async fn sender_sink_bounds_text() {
    assert_bounded(SinkPath::Sender, Kind::Text).await;
}

#[wasm_bindgen_test]
async fn sender_sink_bounds_bytes() {
    assert_bounded(SinkPath::Sender, Kind::Bytes).await;
}

#[wasm_bindgen_test]
async fn sender_sink_bounds_blobs() {
    assert_bounded(SinkPath::Sender, Kind::Blob).await;
}

#[wasm_bindgen_test]
async fn reconnecting_sink_bounds_text_and_yields() {
    assert_bounded(SinkPath::Reconnecting, Kind::Text).await;
}

#[wasm_bindgen_test]
async fn reconnecting_sink_bounds_bytes_and_yields() {
    assert_bounded(SinkPath::Reconnecting, Kind::Bytes).await;
}

#[wasm_bindgen_test]
async fn reconnecting_sink_bounds_blobs_and_yields() {
    assert_bounded(SinkPath::Reconnecting, Kind::Blob).await;
}

// ---------------------------------------------------------------------------
// The reconnecting Sink waits for room in a full queue.
// ---------------------------------------------------------------------------

/// Fast retries for tests.
fn fast_policy() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .delays(Duration::from_millis(20), Duration::from_millis(200))
        .connect_timeout(Duration::from_secs(5))
        .stable_after(Duration::from_secs(60))
}

#[derive(Clone, Copy, PartialEq)]
enum Feed {
    /// `SinkExt::feed` each message, then one `flush`.
    Feed,
    /// `SinkExt::send` each message.
    Send,
}

/// Six messages into a Sink whose queue holds two, while the server still
/// refuses the upgrade: each must wait for room, none fail, and all come back
/// in order once connected.
async fn assert_full_queue_waits(how: Feed) {
    let id = unique_id("full-queue");
    let closes = Rc::new(Cell::new(0));
    let counted = closes.clone();
    let mut socket = ReconnectingWebSocket::builder(url(&format!("/flaky?id={id}&reject=2")))
        .policy(fast_policy())
        .queue_limits(2, 1 << 20)
        .on_event(move |event| {
            if matches!(event, ReconnectEvent::Closed { .. }) {
                counted.set(counted.get() + 1);
            }
        })
        .connect();
    assert!(!socket.is_connected());
    let results = within(10_000, "six messages into the Sink", async {
        let mut results = Vec::new();
        for i in 0..6 {
            let message = Message::Text(format!("m{i}"));
            results.push(match how {
                Feed::Feed => socket.feed(message).await,
                Feed::Send => socket.send(message).await,
            });
        }
        if how == Feed::Feed {
            results.push(socket.flush().await);
        }
        results
    })
    .await;
    assert!(
        results.iter().all(Result::is_ok),
        "every message must wait for room, not fail: {results:?}"
    );
    for i in 0..6 {
        assert_eq!(
            next_message(&mut socket).await,
            Message::Text(format!("m{i}"))
        );
    }
    assert_eq!(closes.get(), 2, "two rejected attempts came first");
    socket.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn reconnecting_sink_feed_waits_for_room_in_a_full_queue() {
    assert_full_queue_waits(Feed::Feed).await;
}

#[wasm_bindgen_test]
async fn reconnecting_sink_send_waits_for_room_in_a_full_queue() {
    assert_full_queue_waits(Feed::Send).await;
}

// ---------------------------------------------------------------------------
// The stream and the callbacks tell the same story.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Via {
    /// `connect`, then the `WebSocket`'s stream and `closed()`.
    Socket,
    /// `connect`, then the `Receiver` half's stream and `closed()`.
    Receiver,
    /// `open_with_callbacks`.
    Callbacks,
}

#[derive(Clone, Copy, PartialEq)]
enum OnOpen {
    Wait,
    /// The app closes with 4001 "bye" as soon as the socket is open.
    CloseWith4001,
    /// The app dispatches on the browser socket, as soon as it is open, a
    /// `message` event whose data is a number: data of a type no browser sends.
    DispatchUnexpectedData,
}

impl OnOpen {
    /// What the app does once `socket` is open.
    fn run(self, socket: &Handle) {
        match self {
            Self::Wait => {}
            Self::CloseWith4001 => socket.close_with(4001, "bye").unwrap(),
            Self::DispatchUnexpectedData => dispatch_number(socket.as_web_sys()),
        }
    }
}

/// Dispatches on `socket` a `message` event whose data is the number 42.
fn dispatch_number(socket: &web_sys::WebSocket) {
    js_sys::Function::new_with_args(
        "socket",
        "socket.dispatchEvent(new MessageEvent('message', { data: 42 }))",
    )
    .call1(&wasm_bindgen::JsValue::UNDEFINED, socket)
    .unwrap();
}

/// Reads `stream` to its end, logging each item, replying to each message (the
/// `/abrupt` route drops the connection on a reply), then logs `closed()`.
async fn log_stream<S>(stream: &mut S, handle: &Handle, log: &mut Vec<String>)
where
    S: Stream<Item = browser_websocket::Result<Message>> + Unpin,
{
    for _ in 0..100 {
        match within(10_000, "the stream", stream.next()).await {
            Some(Ok(message)) => {
                log.push(format!("message {message:?}"));
                handle.send_text("drop now").unwrap();
            }
            Some(Err(error)) => log.push(format!("error {error}")),
            None => break,
        }
    }
    let event = within(10_000, "closed()", handle.closed()).await;
    log.push(format!("close {event}"));
}

/// What `via` reports for a socket to `url`, as `open`, `message {:?}`,
/// `error {}` and `close {}` lines. A failed `connect` reports its error and
/// the close event it carries.
async fn log_of(url: &str, via: Via, on_open: OnOpen) -> Vec<String> {
    if let Via::Callbacks = via {
        return log_callbacks(url, on_open).await;
    }
    let mut log = Vec::new();
    let socket = match within(15_000, "connect", WebSocket::connect(url)).await {
        Ok(socket) => socket,
        Err(error) => {
            log.push(format!("error {error}"));
            if let Some(event) = error.close_event() {
                log.push(format!("close {event}"));
            }
            return log;
        }
    };
    log.push("open".to_owned());
    let handle = socket.handle();
    on_open.run(&handle);
    match via {
        Via::Receiver => {
            let (_sender, mut receiver) = socket.into_split();
            log_stream(&mut receiver, &handle, &mut log).await;
        }
        _ => {
            let mut socket = socket;
            log_stream(&mut socket, &handle, &mut log).await;
        }
    }
    log
}

/// The callbacks' log, in the words of [`log_stream`]; waits for `on_close`,
/// then a little more, so that anything called after it shows too.
async fn log_callbacks(url: &str, on_open: OnOpen) -> Vec<String> {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let (opens, messages, errors, closes) = (log.clone(), log.clone(), log.clone(), log.clone());
    let callbacks = Callbacks::new()
        .on_open(move |socket| {
            opens.borrow_mut().push("open".to_owned());
            on_open.run(socket);
        })
        .on_message(move |socket, message| {
            messages.borrow_mut().push(format!("message {message:?}"));
            socket.send_text("drop now").unwrap();
        })
        .on_error(move |_, error| errors.borrow_mut().push(format!("error {error}")))
        .on_close(move |_, event| {
            closes.borrow_mut().push(format!("close {event}"));
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        });
    let _handle = match WebSocket::builder(url).open_with_callbacks(callbacks) {
        Ok(handle) => handle,
        // Refused before any event, as `connect` is.
        Err(error) => return vec![format!("error {error}")],
    };
    within(15_000, "on_close", finished).await.unwrap();
    sleep(50).await;
    let log = log.borrow().clone();
    log
}

/// Every path must report `expected`, and so agree with each other.
async fn assert_every_path_reports(url: &str, on_open: OnOpen, expected: &[String]) {
    let mut logs = Vec::new();
    for via in [Via::Socket, Via::Receiver, Via::Callbacks] {
        logs.push((via, log_of(url, via, on_open).await));
    }
    let wrong: Vec<String> = logs
        .iter()
        .filter(|(_, log)| log != expected)
        .map(|(via, log)| format!("{via:?} reported {log:?}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{url}: every path must report {expected:?}; {}; all: {logs:?}",
        wrong.join("; ")
    );
}

fn abnormal() -> CloseEvent {
    CloseEvent {
        code: CloseCode::Abnormal,
        reason: String::new(),
        was_clean: false,
    }
}

fn clean(code: u16, reason: &str) -> CloseEvent {
    CloseEvent {
        code: CloseCode::from(code),
        reason: reason.to_owned(),
        was_clean: true,
    }
}

fn failed_connection() -> Vec<String> {
    vec![
        format!("error {}", Error::ConnectionFailed(abnormal())),
        format!("close {}", abnormal()),
    ]
}

#[wasm_bindgen_test]
async fn refused_port_fails_alike_on_every_path() {
    let refused = format!("ws://127.0.0.1:{REFUSED_PORT}/");
    assert_every_path_reports(&refused, OnOpen::Wait, &failed_connection()).await;
}

#[wasm_bindgen_test]
async fn http_403_fails_alike_on_every_path() {
    assert_every_path_reports(&url("/reject"), OnOpen::Wait, &failed_connection()).await;
}

#[wasm_bindgen_test]
async fn plain_http_server_fails_alike_on_every_path() {
    assert_every_path_reports(&url("/plain"), OnOpen::Wait, &failed_connection()).await;
}

#[wasm_bindgen_test]
async fn server_clean_close_is_alike_on_every_path() {
    let expected = ["open".to_owned(), format!("close {}", clean(4000, "bye"))];
    let server_close = url("/close?code=4000&reason=bye");
    assert_every_path_reports(&server_close, OnOpen::Wait, &expected).await;
}

#[wasm_bindgen_test]
async fn app_clean_close_is_alike_on_every_path() {
    let expected = ["open".to_owned(), format!("close {}", clean(4001, "bye"))];
    assert_every_path_reports(&url("/echo"), OnOpen::CloseWith4001, &expected).await;
}

#[wasm_bindgen_test]
async fn tcp_drop_after_open_is_an_error_on_every_path() {
    let expected = [
        "open".to_owned(),
        format!("message {:?}", Message::Text("bye".into())),
        format!("error {}", Error::ConnectionClosed(abnormal())),
        format!("close {}", abnormal()),
    ];
    assert_every_path_reports(&url("/abrupt"), OnOpen::Wait, &expected).await;
}

/// Data of a type no browser sends is a typed error on every path, which then
/// goes on: the server's message and the drop after it are reported as
/// without it. (The callbacks get the event inside their own `on_open`.)
#[wasm_bindgen_test]
async fn data_of_an_unexpected_type_is_an_error_and_every_path_goes_on() {
    let unexpected = Error::UnexpectedMessageType {
        type_name: "number".into(),
    };
    let expected = [
        "open".to_owned(),
        format!("error {unexpected}"),
        format!("message {:?}", Message::Text("bye".into())),
        format!("error {}", Error::ConnectionClosed(abnormal())),
        format!("close {}", abnormal()),
    ];
    let abrupt = url("/abrupt");
    assert_every_path_reports(&abrupt, OnOpen::DispatchUnexpectedData, &expected).await;
}

/// A port the browser blocks: Chromium and Firefox fire `error` then
/// `close(1006)`; WebKit fires `error` and never `close`. Every path reports a
/// failed connection, and none hangs.
#[wasm_bindgen_test]
async fn blocked_port_is_alike_on_every_path() {
    let blocked = "ws://127.0.0.1:6000/";
    assert_every_path_reports(blocked, OnOpen::Wait, &failed_connection()).await;
}
