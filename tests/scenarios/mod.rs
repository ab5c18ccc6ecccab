//! One table of behaviours, run on both backends: in Chrome, Firefox and
//! WebKit by the browser suite (`tests/browser/scenarios.rs`) and natively by
//! `cargo test` (`tests/native.rs`), against the same test server and fault
//! routes. Each scenario uses the public API only, the same code on both
//! targets, so what a browser does and what the native backend does cannot
//! drift apart: a scenario that holds in one and not the other fails.
//!
//! [`scenario_table!`] names every scenario once; each runner expands it into
//! one test per scenario.
#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use browser_websocket::{
    Callbacks, CloseCode, Error, FlowControl, Heartbeat, Message, ReadyState, ReconnectEvent,
    ReconnectPolicy, ReconnectingWebSocket, WebSocket,
};
use futures_util::future::{join, select, Either};
use futures_util::{SinkExt, StreamExt};

/// Every scenario, by name: `$run!` gets the list and makes the tests.
#[macro_export]
macro_rules! scenario_table {
    ($run:ident) => {
        $run! {
            echo_keeps_text_and_bytes_in_order,
            the_classic_binary_example_round_trips,
            sink_and_stream_carry_a_hundred_in_order,
            halves_work_in_two_futures,
            app_close_reaches_the_server_with_code_and_reason,
            server_close_ends_the_stream_cleanly,
            refused_upgrade_fails_to_connect,
            plain_http_server_fails_to_connect,
            refused_port_fails_to_connect,
            tcp_drop_is_connection_closed,
            subprotocol_is_chosen_by_the_server,
            bad_inputs_are_typed_errors_and_send_nothing,
            sending_after_close_is_not_open,
            receive_limit_closes_with_4009,
            sink_keeps_buffered_amount_under_the_watermark,
            callbacks_report_open_messages_and_close,
            callbacks_report_a_refused_connection_as_error_then_close,
            send_handle_clones_keep_order,
            reconnecting_socket_retries_past_refusals,
            reconnecting_socket_comes_back_after_a_restart,
            heartbeat_replaces_a_silent_server,
            connect_timeout_gives_up_on_a_hanging_upgrade,
            dropping_every_socket_releases_everything,
            large_messages_round_trip_intact,
            byte_stream_reads_what_it_wrote,
            a_full_queue_while_down_is_a_typed_error,
        }
    };
}

/// The scenarios of the request layer (feature `json`: JSON-RPC against the
/// rpc-websockets server the test command starts).
#[cfg(feature = "json")]
#[macro_export]
macro_rules! json_scenario_table {
    ($run:ident) => {
        $run! {
            a_request_gets_its_reply_and_a_failure_its_error,
            a_subscription_is_renewed_after_a_drop,
            an_acknowledged_message_is_acked_with_its_reply,
            a_graphql_query_and_subscription_are_answered,
        }
    };
}

/// The JSON-RPC server's origin.
pub const RPC_SERVER: &str = match option_env!("WS_RPC_SERVER") {
    Some(server) => server,
    None => "ws://127.0.0.1:9005",
};

/// The GraphQL (graphql-ws) server's origin.
pub const GRAPHQL_SERVER: &str = match option_env!("WS_GRAPHQL_SERVER") {
    Some(server) => server,
    None => "ws://127.0.0.1:9006",
};

/// The test server's origin, as the browser suite has it.
pub const SERVER: &str = match option_env!("WS_TEST_SERVER") {
    Some(server) => server,
    None => "ws://127.0.0.1:9001",
};

/// A port on which nothing listens.
pub const REFUSED_PORT: &str = match option_env!("WS_TEST_REFUSED_PORT") {
    Some(port) => port,
    None => "9002",
};

pub fn url(path: &str) -> String {
    format!("{SERVER}{path}")
}

/// A name unique in the run, for server routes that record by id.
pub fn unique_id(label: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let salt = now_ms().to_bits() ^ NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{label}-{salt:x}")
}

#[cfg(target_arch = "wasm32")]
fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[cfg(not(target_arch = "wasm32"))]
fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64() * 1000.0)
}

/// Resolves after `ms` milliseconds.
#[cfg(target_arch = "wasm32")]
pub async fn sleep(ms: u64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into()).unwrap();
        let set_timeout: js_sys::Function = wasm_bindgen::JsCast::unchecked_into(set_timeout);
        set_timeout
            .call2(&global, &resolve, &(ms as f64).into())
            .unwrap();
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Resolves after `ms` milliseconds.
#[cfg(not(target_arch = "wasm32"))]
pub async fn sleep(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// `future`'s output, or a panic naming `what` after `ms` milliseconds.
pub async fn within<T>(ms: u64, what: &str, future: impl Future<Output = T>) -> T {
    let future = std::pin::pin!(future);
    let timer = std::pin::pin!(sleep(ms));
    match select(future, timer).await {
        Either::Left((output, _)) => output,
        Either::Right(_) => panic!("timed out after {ms} ms waiting for {what}"),
    }
}

/// Runs `scenario`, then checks that it left nothing alive: every socket it
/// made is dropped, and every listener and timer released, within 5 s (a
/// `SendHandle`'s pump and a closing connection let go a moment after the
/// drop). Every scenario runs through this, on both backends.
pub async fn leak_checked(scenario: impl Future<Output = ()>) {
    let (sockets, callbacks) = (
        browser_websocket::live_sockets(),
        browser_websocket::live_js_callbacks(),
    );
    scenario.await;
    for _ in 0..500 {
        if browser_websocket::live_sockets() == sockets
            && browser_websocket::live_js_callbacks() == callbacks
        {
            return;
        }
        sleep(10).await;
    }
    panic!(
        "left alive: {} sockets (before: {sockets}), {} callbacks (before: {callbacks})",
        browser_websocket::live_sockets(),
        browser_websocket::live_js_callbacks()
    );
}

/// A test server of the scenario's own (the test server's `/instance`), kept
/// running by the returned socket. Connections meant to fail go there: Firefox
/// delays every connection to a host and port after failed ones (200 ms,
/// growing 1.5 times per failure, for a minute), so failures aimed at the
/// shared server would slow every test after them.
async fn own_server() -> (String, WebSocket) {
    let mut keeper = connect("/instance").await;
    match next_message(&mut keeper).await {
        Message::Text(origin) => (origin, keeper),
        other => panic!("expected the instance's origin, got {other:?}"),
    }
}

async fn connect(path: &str) -> WebSocket {
    let url = url(path);
    match within(10_000, "connect", WebSocket::connect(&url)).await {
        Ok(socket) => socket,
        Err(error) => panic!("connect {url}: {error}"),
    }
}

async fn next_message<S>(stream: &mut S) -> Message
where
    S: futures_util::Stream<Item = browser_websocket::Result<Message>> + Unpin,
{
    match within(10_000, "a message", stream.next()).await {
        Some(Ok(message)) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn fast_policy() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .delays(Duration::from_millis(20), Duration::from_millis(200))
        .connect_timeout(Duration::from_secs(5))
        .stable_after(Duration::from_secs(60))
}

type Events = Rc<RefCell<Vec<ReconnectEvent>>>;

async fn wait_for_events(events: &Events, what: &str, done: impl Fn(&[ReconnectEvent]) -> bool) {
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

fn closes(events: &[ReconnectEvent]) -> usize {
    events
        .iter()
        .filter(|event| matches!(event, ReconnectEvent::Closed { .. }))
        .count()
}

fn opens(events: &[ReconnectEvent]) -> usize {
    events
        .iter()
        .filter(|event| matches!(event, ReconnectEvent::Open { .. }))
        .count()
}

/// The sessions the test server's `/record` route logged for `id`.
async fn server_log(id: &str) -> Vec<Vec<String>> {
    let mut socket = connect(&format!("/record-log?id={id}")).await;
    let text = next_message(&mut socket).await;
    serde_json::from_str(text.as_text().expect("the log is text")).expect("the log is JSON")
}

// ---------------------------------------------------------------- messages

pub async fn echo_keeps_text_and_bytes_in_order() {
    let mut socket = connect("/echo").await;
    socket.send_text("first").unwrap();
    socket.send_bytes(&[0, 1, 2, 255]).unwrap();
    socket.send_text("third: ünïcödé ✓").unwrap();
    assert_eq!(next_message(&mut socket).await, Message::from("first"));
    assert_eq!(
        next_message(&mut socket).await,
        Message::from(vec![0u8, 1, 2, 255])
    );
    assert_eq!(
        next_message(&mut socket).await,
        Message::from("third: ünïcödé ✓")
    );
    socket.close_normal().unwrap();
    assert!(within(10_000, "the close", socket.closed()).await.was_clean);
}

/// The seed page's binary example: `setFloat32(0, Math.PI)` big-endian and
/// `setUint8(4, 127)`, echoed and read back.
pub async fn the_classic_binary_example_round_trips() {
    let mut buffer = std::f32::consts::PI.to_be_bytes().to_vec();
    buffer.push(127);
    let mut socket = connect("/echo").await;
    socket.send(Message::from(buffer.clone())).await.unwrap();
    let Message::Binary(echo) = next_message(&mut socket).await else {
        panic!("expected bytes");
    };
    let float = f32::from_be_bytes([echo[0], echo[1], echo[2], echo[3]]);
    assert_eq!(
        format!("Uint8: {} Float32: {float}", echo[4]),
        "Uint8: 127 Float32: 3.1415927"
    );
}

pub async fn sink_and_stream_carry_a_hundred_in_order() {
    let mut socket = connect("/echo").await;
    for index in 0..100u32 {
        let message = if index % 2 == 0 {
            Message::from(index.to_string())
        } else {
            Message::from(index.to_be_bytes().to_vec())
        };
        socket.feed(message).await.unwrap();
    }
    socket.flush().await.unwrap();
    for index in 0..100u32 {
        let expected = if index % 2 == 0 {
            Message::from(index.to_string())
        } else {
            Message::from(index.to_be_bytes().to_vec())
        };
        assert_eq!(next_message(&mut socket).await, expected, "message {index}");
    }
}

pub async fn halves_work_in_two_futures() {
    let (mut sender, mut receiver) = connect("/echo").await.into_split();
    let sending = async move {
        for index in 0..20 {
            sender
                .send(Message::from(format!("m{index}")))
                .await
                .unwrap();
        }
        sender
    };
    let receiving = async move {
        let mut seen = Vec::new();
        while seen.len() < 20 {
            seen.push(
                next_message(&mut receiver)
                    .await
                    .as_text()
                    .unwrap()
                    .to_owned(),
            );
        }
        seen
    };
    let (sender, seen) = join(sending, receiving).await;
    let expected: Vec<String> = (0..20).map(|index| format!("m{index}")).collect();
    assert_eq!(seen, expected);
    sender.close_with(4000, "done").unwrap();
    let event = within(10_000, "the close", sender.closed()).await;
    assert_eq!((u16::from(event.code), event.was_clean), (4000, true));
}

// ------------------------------------------------------------------ closes

pub async fn app_close_reaches_the_server_with_code_and_reason() {
    let id = unique_id("app-close");
    let socket = connect(&format!("/echo?id={id}")).await;
    socket.close_with(4001, "bye now").unwrap();
    assert_eq!(socket.ready_state(), ReadyState::Closing);
    let event = within(10_000, "the close", socket.closed()).await;
    assert!(event.was_clean, "{event:?}");
    assert_eq!(u16::from(event.code), 4001);
    let mut report = connect(&format!("/closes?id={id}")).await;
    assert_eq!(
        next_message(&mut report).await,
        Message::from("4001 bye now")
    );
}

pub async fn server_close_ends_the_stream_cleanly() {
    let mut socket = connect("/close?code=4002&reason=server%20done").await;
    assert!(within(10_000, "the end", socket.next()).await.is_none());
    let event = socket.closed().await;
    assert_eq!(
        (
            u16::from(event.code),
            event.reason.as_str(),
            event.was_clean
        ),
        (4002, "server done", true)
    );
    assert_eq!(socket.ready_state(), ReadyState::Closed);
}

async fn fails_to_connect(url: &str) {
    match within(20_000, "the failure", WebSocket::connect(url)).await {
        Err(Error::ConnectionFailed(event)) => {
            assert_eq!(event.code, CloseCode::Abnormal, "{event:?}");
            assert!(!event.was_clean);
        }
        other => panic!("expected ConnectionFailed for {url}, got {other:?}"),
    }
}

pub async fn refused_upgrade_fails_to_connect() {
    let (origin, _keeper) = own_server().await;
    fails_to_connect(&format!("{origin}/reject")).await;
}

pub async fn plain_http_server_fails_to_connect() {
    let (origin, _keeper) = own_server().await;
    fails_to_connect(&format!("{origin}/plain")).await;
}

pub async fn refused_port_fails_to_connect() {
    fails_to_connect(&format!("ws://127.0.0.1:{REFUSED_PORT}/")).await;
}

pub async fn tcp_drop_is_connection_closed() {
    let mut socket = connect("/abrupt").await;
    assert_eq!(next_message(&mut socket).await, Message::from("bye"));
    socket.send_text("go").unwrap();
    match within(10_000, "the drop", socket.next()).await {
        Some(Err(Error::ConnectionClosed(event))) => {
            assert_eq!((event.code, event.was_clean), (CloseCode::Abnormal, false));
        }
        other => panic!("expected ConnectionClosed, got {other:?}"),
    }
    assert!(socket.next().await.is_none());
}

pub async fn subprotocol_is_chosen_by_the_server() {
    let url = url("/protocols");
    let mut socket = within(
        10_000,
        "connect",
        WebSocket::builder(&url)
            .protocols(["chat.v2", "chat.v1"])
            .connect(),
    )
    .await
    .unwrap();
    let chosen = next_message(&mut socket).await;
    assert_eq!(Some(socket.protocol().as_str()), chosen.as_text());
    assert!(["chat.v1", "chat.v2"].contains(&socket.protocol().as_str()));
}

// ------------------------------------------------------------ typed errors

pub async fn bad_inputs_are_typed_errors_and_send_nothing() {
    let outcome = WebSocket::connect("ftp://127.0.0.1/").await;
    assert!(
        matches!(outcome, Err(Error::InvalidScheme { .. })),
        "{outcome:?}"
    );
    let outcome = WebSocket::connect(&url("/echo#part")).await;
    assert!(
        matches!(outcome, Err(Error::UrlHasFragment { .. })),
        "{outcome:?}"
    );
    let outcome = WebSocket::builder(&url("/echo"))
        .protocols(["a b"])
        .connect()
        .await;
    assert!(
        matches!(outcome, Err(Error::InvalidProtocol { .. })),
        "{outcome:?}"
    );
    let outcome = WebSocket::builder(&url("/echo"))
        .protocols(["v1", "v1"])
        .connect()
        .await;
    assert!(
        matches!(outcome, Err(Error::DuplicateProtocol { .. })),
        "{outcome:?}"
    );

    let mut socket = connect("/echo").await;
    assert_eq!(
        socket.close_with(1001, ""),
        Err(Error::InvalidCloseCode { code: 1001 })
    );
    assert!(matches!(
        socket.close_with(4000, &"x".repeat(124)),
        Err(Error::ReasonTooLong { .. })
    ));
    // Nothing was closed: the socket still echoes.
    socket.send_text("still open").unwrap();
    assert_eq!(next_message(&mut socket).await, Message::from("still open"));
}

pub async fn sending_after_close_is_not_open() {
    let mut socket = connect("/echo").await;
    socket.close_normal().unwrap();
    assert!(matches!(
        socket.send_text("late"),
        Err(Error::NotOpen {
            state: ReadyState::Closing
        })
    ));
    within(10_000, "the close", socket.closed()).await;
    assert!(matches!(
        socket.send(Message::from("late")).await,
        Err(Error::NotOpen {
            state: ReadyState::Closed
        })
    ));
}

// ------------------------------------------------------- limits and flow

pub async fn receive_limit_closes_with_4009() {
    let id = unique_id("limit");
    let mut socket = within(
        10_000,
        "connect",
        WebSocket::builder(&url(&format!("/echo?id={id}")))
            .receive_limit(Some(32 << 10))
            .connect(),
    )
    .await
    .unwrap();
    for index in 0..10u8 {
        socket.send_bytes(&[index; 10 << 10]).unwrap();
    }
    // Nothing is read while the echoes arrive.
    let event = within(10_000, "the close", socket.closed()).await;
    assert_eq!(
        u16::from(event.code),
        browser_websocket::RECEIVE_LIMIT_CLOSE_CODE
    );
    let mut firsts = Vec::new();
    loop {
        match socket.next().await {
            Some(Ok(message)) => firsts.push(message.as_bytes().unwrap()[0]),
            Some(Err(Error::ReceiveLimitExceeded { .. })) => break,
            other => panic!("expected messages then ReceiveLimitExceeded, got {other:?}"),
        }
    }
    // 32 KiB hold three messages; the fourth crosses the limit and is kept.
    assert_eq!(firsts, [0, 1, 2, 3]);
    assert!(socket.next().await.is_none());
    let mut report = connect(&format!("/closes?id={id}")).await;
    assert_eq!(
        next_message(&mut report).await,
        Message::from("4009 receive limit exceeded")
    );
}

pub async fn sink_keeps_buffered_amount_under_the_watermark() {
    let high: u32 = 256 << 10;
    let mut socket = within(
        10_000,
        "connect",
        WebSocket::builder(&url("/slow?rate=4194304"))
            .flow_control(FlowControl::new(high, 128 << 10).unwrap())
            .connect(),
    )
    .await
    .unwrap();
    let size: u32 = 16 << 10;
    let mut peak = 0;
    for index in 0..256u64 {
        let mut message = index.to_be_bytes().to_vec();
        message.resize(size as usize, (index % 251) as u8);
        socket.send(Message::from(message)).await.unwrap();
        peak = peak.max(socket.buffered_amount());
    }
    assert!(
        peak <= high + size,
        "bufferedAmount reached {peak}, above {high} + one message"
    );
    socket.send_text("done").unwrap();
    let report = next_message(&mut socket).await;
    assert_eq!(
        report.as_text(),
        Some(format!("messages=256 bytes={} in_order=true", 256 * size).as_str())
    );
}

// --------------------------------------------------------------- callbacks

/// Opens `path` with callbacks that write what they see, in order, as
/// text; `on_message` closes with 4003 after the first message. Returns the
/// record once the socket has closed.
async fn what_callbacks_see(url: &str) -> Vec<String> {
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let log = |seen: &Rc<RefCell<Vec<String>>>| {
        let seen = seen.clone();
        move |line: String| seen.borrow_mut().push(line)
    };
    let (on_open, on_message, on_error, on_close) =
        (log(&seen), log(&seen), log(&seen), log(&seen));
    let handle = WebSocket::builder(url)
        .open_with_callbacks(
            Callbacks::new()
                .on_open(move |socket| {
                    on_open("open".into());
                    socket.send_text("hello").unwrap();
                })
                .on_message(move |socket, message| {
                    on_message(format!("message {}", message.as_text().unwrap_or("?")));
                    socket.close_with(4003, "enough").unwrap();
                })
                .on_error(move |_, error| on_error(error.name().into()))
                .on_close(move |_, event| {
                    on_close(format!(
                        "close {} {}",
                        u16::from(event.code),
                        event.was_clean
                    ));
                }),
        )
        .unwrap();
    within(10_000, "the close", handle.closed()).await;
    let seen = seen.borrow().clone();
    seen
}

pub async fn callbacks_report_open_messages_and_close() {
    assert_eq!(
        what_callbacks_see(&url("/echo")).await,
        ["open", "message hello", "close 4003 true"]
    );
}

pub async fn callbacks_report_a_refused_connection_as_error_then_close() {
    let (origin, _keeper) = own_server().await;
    assert_eq!(
        what_callbacks_see(&format!("{origin}/reject")).await,
        ["ConnectionFailed", "close 1006 false"]
    );
}

pub async fn send_handle_clones_keep_order() {
    let id = unique_id("send-handle");
    let socket = connect(&format!("/record?id={id}")).await;
    let handle = socket.send_handle();
    let clone = handle.clone();
    for index in 0..10 {
        let through = if index % 2 == 0 { &handle } else { &clone };
        through.send_text(format!("h{index}")).unwrap();
    }
    let mut socket = socket;
    for index in 0..10 {
        assert_eq!(
            next_message(&mut socket).await,
            Message::from(format!("h{index}"))
        );
    }
    handle.close_normal().unwrap();
    within(10_000, "the close", socket.closed()).await;
    assert!(matches!(
        clone.send_text("late"),
        Err(Error::NotOpen { .. })
    ));
    let log = server_log(&id).await;
    assert_eq!(
        log[0][..10],
        (0..10).map(|i| format!("h{i}")).collect::<Vec<_>>()[..]
    );
}

// ---------------------------------------------------------- reconnecting

fn recording(
    url: &str,
    policy: ReconnectPolicy,
) -> (browser_websocket::ReconnectingBuilder, Events) {
    let events = Events::default();
    let log = events.clone();
    let builder = ReconnectingWebSocket::builder(url)
        .policy(policy)
        .on_event(move |event| log.borrow_mut().push(event.clone()));
    (builder, events)
}

pub async fn reconnecting_socket_retries_past_refusals() {
    let id = unique_id("flaky");
    let (origin, _keeper) = own_server().await;
    let (builder, events) = recording(&format!("{origin}/flaky?id={id}&reject=2"), fast_policy());
    let mut socket = builder.connect();
    socket.send_text("queued while refused").unwrap();
    assert_eq!(
        next_message(&mut socket).await,
        Message::from("queued while refused")
    );
    let events = events.borrow();
    assert_eq!(closes(&events), 2, "{events:?}");
    assert_eq!(opens(&events), 1, "{events:?}");
}

pub async fn reconnecting_socket_comes_back_after_a_restart() {
    let mut keeper = connect("/instance").await;
    let Message::Text(origin) = next_message(&mut keeper).await else {
        panic!("expected the instance's origin");
    };
    let id = unique_id("restart");
    let (builder, events) = recording(&format!("{origin}/record?id={id}"), fast_policy());
    let mut socket = builder.connect();
    socket.send_text("before").unwrap();
    assert_eq!(next_message(&mut socket).await, Message::from("before"));
    let mut restart = within(
        10_000,
        "connect",
        WebSocket::connect(&format!("{origin}/restart?down_ms=300")),
    )
    .await
    .unwrap();
    restart.send_text("now").unwrap();
    let _ = next_message(&mut restart).await;
    wait_for_events(&events, "the drop", |events| closes(events) >= 1).await;
    socket.send_text("after").unwrap();
    assert_eq!(next_message(&mut socket).await, Message::from("after"));
    assert!(opens(&events.borrow()) >= 2, "{:?}", events.borrow());
    socket.close_normal().unwrap();
}

pub async fn heartbeat_replaces_a_silent_server() {
    let (builder, events) = recording(&url("/silent"), fast_policy());
    let socket = builder
        .heartbeat(Heartbeat::new(
            Duration::from_millis(200),
            Duration::from_millis(200),
            "ping",
            |message| message.as_text() == Some("pong"),
        ))
        .connect();
    wait_for_events(&events, "a second connection", |events| opens(events) >= 2).await;
    assert!(closes(&events.borrow()) >= 1);
    socket.close_normal().unwrap();
}

pub async fn connect_timeout_gives_up_on_a_hanging_upgrade() {
    let policy = fast_policy()
        .connect_timeout(Duration::from_millis(300))
        .max_attempts(Some(2));
    let (origin, _keeper) = own_server().await;
    let (builder, events) = recording(&format!("{origin}/hang"), policy);
    let mut socket = builder.connect();
    wait_for_events(&events, "two timed-out attempts", |events| {
        closes(events) >= 2
    })
    .await;
    // The policy's attempts are spent: the stream ends.
    let mut ended = false;
    for _ in 0..3 {
        if within(10_000, "the end", socket.next()).await.is_none() {
            ended = true;
            break;
        }
    }
    assert!(ended, "{:?}", events.borrow());
    assert_eq!(opens(&events.borrow()), 0);
}

// ------------------------------------------------------------ large, bytes

/// Byte `i` of a large message: `i mod 251` (no period of a power of two).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|index| (index % 251) as u8).collect()
}

pub async fn large_messages_round_trip_intact() {
    let mut socket = connect("/echo").await;
    let bytes = pattern(4 << 20);
    let text: String = (0..(1 << 20))
        .map(|index| char::from(b'a' + (index % 26) as u8))
        .collect();
    socket.send(Message::from(bytes.clone())).await.unwrap();
    socket.send(Message::from(text.clone())).await.unwrap();
    let echoed = within(20_000, "4 MiB back", socket.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        echoed.as_bytes() == Some(bytes.as_slice()),
        "the 4 MiB came back changed"
    );
    let echoed = within(20_000, "1 MiB of text back", socket.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        echoed.as_text() == Some(text.as_str()),
        "the text came back changed"
    );
}

pub async fn byte_stream_reads_what_it_wrote() {
    use futures_util::{AsyncReadExt, AsyncWriteExt};
    let mut stream = connect("/echo").await.into_byte_stream();
    let sent = pattern(100_000);
    stream.write_all(&sent).await.unwrap();
    stream.flush().await.unwrap();
    let mut back = vec![0u8; sent.len()];
    within(10_000, "the bytes back", stream.read_exact(&mut back))
        .await
        .unwrap();
    assert!(back == sent, "the bytes came back changed");
    stream.close().await.unwrap();
}

pub async fn a_full_queue_while_down_is_a_typed_error() {
    let (origin, _keeper) = own_server().await;
    let socket = ReconnectingWebSocket::builder(format!("{origin}/reject"))
        .policy(fast_policy())
        .queue_limits(2, 1024)
        .connect();
    socket.send_text("one").unwrap();
    socket.send_text("two").unwrap();
    assert!(
        matches!(socket.send_text("three"), Err(Error::QueueFull { .. })),
        "a third message past a queue of two"
    );
    assert_eq!(socket.queued(), 2);
    socket.close_normal().unwrap();
}

// ------------------------------------------------------------------ leaks

pub async fn dropping_every_socket_releases_everything() {
    let (sockets, callbacks) = (
        browser_websocket::live_sockets(),
        browser_websocket::live_js_callbacks(),
    );
    let socket = connect("/echo").await;
    let handle = socket.send_handle();
    let reconnecting = ReconnectingWebSocket::connect(url("/echo"));
    let (origin, keeper) = own_server().await;
    let connecting = WebSocket::connect(&format!("{origin}/hang"));
    assert!(browser_websocket::live_sockets() > sockets);
    drop((socket, reconnecting, connecting, keeper));
    // A SendHandle keeps its socket until its pump sees the drop.
    drop(handle);
    for _ in 0..100 {
        // (Polled by `within`, the loop runs what the drops left to do.)
        within(1_000, "a turn", sleep(10)).await;
        if browser_websocket::live_sockets() == sockets
            && browser_websocket::live_js_callbacks() == callbacks
        {
            return;
        }
    }
    panic!(
        "still alive: {} sockets (was {sockets}), {} callbacks (was {callbacks})",
        browser_websocket::live_sockets(),
        browser_websocket::live_js_callbacks()
    );
}

// -------------------------------------------------------- request layer

#[cfg(feature = "json")]
mod requests {
    use super::*;
    use browser_websocket::{JsonRpc, JsonRpcCall, RequestClient, RequestError, SubscriptionEvent};
    use serde_json::{json, Value};

    fn call(method: &str, params: Value) -> JsonRpcCall {
        JsonRpcCall::new(method, params).unwrap()
    }

    pub async fn a_request_gets_its_reply_and_a_failure_its_error() {
        let socket = within(
            10_000,
            "connect",
            WebSocket::connect(&format!("{RPC_SERVER}/")),
        )
        .await
        .unwrap();
        let (client, _messages) = RequestClient::new(socket, JsonRpc);
        let (sum, missing) = join(
            client.request(call("sum", json!([1, 2]))),
            client.request(call("no_such_method", json!([]))),
        )
        .await;
        assert_eq!(sum, Ok(json!(3)));
        assert!(
            matches!(missing, Err(RequestError::Rejected(_))),
            "{missing:?}"
        );
        let late = client
            .request_with_timeout(call("sleep", json!([2_000, 1])), Duration::from_millis(100));
        let late = within(5_000, "the timeout", late).await;
        assert!(matches!(late, Err(RequestError::TimedOut(_))), "{late:?}");
        client.close_normal().unwrap();
        assert_eq!(
            client.request(call("sum", json!([1, 2]))).await,
            Err(RequestError::Closed)
        );
    }

    pub async fn a_subscription_is_renewed_after_a_drop() {
        let (client, _messages) = RequestClient::builder(JsonRpc).build_reconnecting(
            ReconnectingWebSocket::builder(format!("{RPC_SERVER}/")).policy(fast_policy()),
        );
        // A topic of this run's own: every backend and browser shares the
        // server.
        let topic = format!("t-{}", &unique_id("")[1..]);
        let topic = topic[..topic.len().min(12)].to_owned();
        let declared = client.request(call("declare", json!([topic]))).await;
        assert_eq!(declared, Ok(json!(topic)));
        let mut ticks = client.subscribe(topic.clone());
        let tick = |n: i64| Some(Ok(SubscriptionEvent::Item(json!({ "n": n }))));
        assert_eq!(
            client.request(call("tick", json!([1, topic]))).await,
            Ok(json!(1))
        );
        assert_eq!(within(5_000, "a tick", ticks.next()).await, tick(1));
        assert_eq!(
            client.request(call("drop_me", json!([10]))).await,
            Ok(json!("dropping"))
        );
        assert_eq!(
            within(5_000, "the renewal", ticks.next()).await,
            Some(Ok(SubscriptionEvent::Resubscribed))
        );
        assert_eq!(
            client.request(call("tick", json!([2, topic]))).await,
            Ok(json!(2))
        );
        assert_eq!(within(5_000, "a tick after", ticks.next()).await, tick(2));
        client.close_normal().unwrap();
        assert_eq!(within(5_000, "the end", ticks.next()).await, None);
    }

    pub async fn an_acknowledged_message_is_acked_with_its_reply() {
        let socket = within(
            10_000,
            "connect",
            WebSocket::connect(&format!("{RPC_SERVER}/")),
        )
        .await
        .unwrap();
        let (client, _messages) = RequestClient::new(socket, JsonRpc);
        let delivery = client.send_acked(call("sum", json!([20, 22])));
        assert_eq!(delivery.status(), browser_websocket::DeliveryStatus::Sent);
        assert_eq!(
            within(5_000, "the ack", delivery.acked()).await,
            Ok(json!(42))
        );
        assert_eq!(delivery.status(), browser_websocket::DeliveryStatus::Acked);
        client.close_normal().unwrap();
    }

    pub async fn a_graphql_query_and_subscription_are_answered() {
        use browser_websocket::{GraphqlRequest, GraphqlWs, GRAPHQL_TRANSPORT_WS};
        let socket = within(
            10_000,
            "connect",
            WebSocket::builder(&format!("{GRAPHQL_SERVER}/"))
                .protocols([GRAPHQL_TRANSPORT_WS])
                .connect(),
        )
        .await
        .unwrap();
        assert_eq!(socket.protocol(), GRAPHQL_TRANSPORT_WS);
        let (client, _messages) = RequestClient::new(socket, GraphqlWs::new());
        let hello = within(
            5_000,
            "the reply",
            client.request(GraphqlRequest::new("{ hello }")),
        )
        .await
        .unwrap();
        assert_eq!(hello["data"]["hello"], json!("hello world"));
        let count = client.subscribe(GraphqlRequest::new(
            "subscription { count(to: 3, everyMs: 5) }",
        ));
        let items: Vec<_> = within(5_000, "three items and the end", count.collect()).await;
        let counts: Vec<Value> = items
            .into_iter()
            .map(|item| match item {
                Ok(SubscriptionEvent::Item(item)) => item["data"]["count"].clone(),
                other => panic!("expected an item, got {other:?}"),
            })
            .collect();
        assert_eq!(counts, [json!(1), json!(2), json!(3)]);
        client.close_normal().unwrap();
    }
}

#[cfg(feature = "json")]
pub use requests::*;
