//! Verifies the `testing` feature's in-page server, through the public API
//! only (`WebSocket`, `Callbacks`, `ReconnectingWebSocket`), with no network:
//! - text, bytes and Blobs both ways, by `binaryType`; what the client sent,
//!   in order, as the server saw it;
//! - `readyState`, `url`, `protocol`, `extensions` and a scripted
//!   `bufferedAmount`; subprotocol selection and refusal;
//! - every scripted end gives the events of the crate's table "What each API
//!   reports": refused (`error`, `close(1006)`), a server close (clean), an
//!   abrupt drop (1006, no `error`), a failure after open (`error`, 1006), the
//!   app's own close (clean, answered), a stalled server (not answered), the
//!   server stopped;
//! - events never arrive inside the call that caused them;
//! - delays, URL matching (below a URL, the longest match wins, then the
//!   newest), counts;
//! - the reconnecting socket: refused attempts retried, the queue flushed on
//!   reconnect, drops reconnected, final codes respected, a heartbeat answered
//!   and a stalled one declared dead;
//! - nothing leaks.
#![cfg(feature = "testing")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::common::{sleep, wait_until, within};
use browser_websocket::testing::MockServer;
use browser_websocket::{
    live_js_callbacks, live_sockets, BinaryType, Callbacks, CloseCode, Error, Heartbeat, Message,
    ReadyState, ReconnectEvent, ReconnectPolicy, ReconnectingWebSocket, WebSocket,
};
use futures_util::StreamExt;
use wasm_bindgen_test::*;

/// A URL no other test uses, so tests running one after another in the same
/// page cannot meet each other's servers.
fn mock_url(name: &str) -> String {
    format!("ws://mock.test/{name}")
}

async fn next<S>(stream: &mut S) -> Option<browser_websocket::Result<Message>>
where
    S: futures_util::Stream<Item = browser_websocket::Result<Message>> + Unpin,
{
    within(5_000, "the stream", stream.next()).await
}

/// What the callbacks saw, as short strings in order.
type Log = Rc<RefCell<Vec<String>>>;

fn logging_callbacks(log: &Log) -> Callbacks {
    let (open, message, error, close) = (log.clone(), log.clone(), log.clone(), log.clone());
    Callbacks::new()
        .on_open(move |_| open.borrow_mut().push("open".into()))
        .on_message(move |_, m| message.borrow_mut().push(format!("message {m:?}")))
        .on_error(move |_, e| {
            let name = match e {
                Error::ConnectionFailed(_) => "ConnectionFailed",
                Error::ConnectionClosed(_) => "ConnectionClosed",
                _ => "other",
            };
            error.borrow_mut().push(format!("error {name}"));
        })
        .on_close(move |_, c| {
            close.borrow_mut().push(format!(
                "close {} {:?} {}",
                u16::from(c.code),
                c.reason,
                c.was_clean
            ))
        })
}

#[wasm_bindgen_test]
async fn messages_go_both_ways_in_order_by_binary_type() {
    let url = mock_url("both-ways");
    let server = MockServer::listen(&url);
    let mut socket = within(5_000, "connect", WebSocket::connect(&url))
        .await
        .unwrap();
    let connection = server.next_connection().await;

    socket.send_text("one").unwrap();
    socket.send_bytes(&[1, 2, 3]).unwrap();
    let blob = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(
        &js_sys::Uint8Array::from(&[9u8, 8][..]),
    ))
    .unwrap();
    socket.send_blob(&blob).unwrap();
    assert_eq!(connection.next_received().await, Some(Message::from("one")));
    assert_eq!(
        connection.next_received().await,
        Some(Message::from(vec![1u8, 2, 3]))
    );
    match connection.next_received().await {
        Some(Message::Blob(received)) => assert_eq!(received.size(), 2.0),
        other => panic!("expected the Blob, got {other:?}"),
    }
    assert!(connection.received().is_empty());

    connection.send_text("two");
    connection.send_bytes(&[4, 5]);
    connection.send_blob(&blob);
    connection.send(&Message::from("three"));
    assert_eq!(
        next(&mut socket).await.unwrap().unwrap(),
        Message::from("two")
    );
    assert_eq!(
        next(&mut socket).await.unwrap().unwrap(),
        Message::from(vec![4u8, 5])
    );
    // binaryType "arraybuffer" (the default): a Blob arrives as bytes.
    assert_eq!(
        next(&mut socket).await.unwrap().unwrap(),
        Message::from(vec![9u8, 8])
    );
    assert_eq!(
        next(&mut socket).await.unwrap().unwrap(),
        Message::from("three")
    );

    // binaryType "blob": bytes arrive as a Blob.
    let mut blobs = WebSocket::builder(&url)
        .binary_type(BinaryType::Blob)
        .connect()
        .await
        .unwrap();
    let second = server.next_connection().await;
    second.send_bytes(&[7, 7, 7]);
    match next(&mut blobs).await.unwrap().unwrap() {
        Message::Blob(blob) => {
            let bytes = browser_websocket::read_blob(&blob).await.unwrap();
            assert_eq!(bytes, vec![7, 7, 7]);
        }
        other => panic!("expected a Blob, got {other:?}"),
    }
    assert_eq!(server.attempts(), 2);
    assert_eq!(server.accepted(), 2);
}

#[wasm_bindgen_test]
async fn getters_and_subprotocols_are_plausible() {
    let url = mock_url("getters");
    let server = MockServer::listen(&url);
    server.protocols(["chat.v2", "chat.v3"]);
    let handle = WebSocket::builder(&format!("{url}?room=1"))
        .protocols(["chat.v1", "chat.v2"])
        .open_with_callbacks(Callbacks::new())
        .unwrap();
    assert_eq!(handle.ready_state(), ReadyState::Connecting);
    let connection = server.next_connection().await;
    assert_eq!(connection.offered_protocols(), vec!["chat.v1", "chat.v2"]);
    assert_eq!(connection.protocol(), "chat.v2");
    assert_eq!(connection.url(), format!("{url}?room=1"));
    wait_until("open", || handle.ready_state() == ReadyState::Open).await;
    assert_eq!(handle.protocol(), "chat.v2");
    assert_eq!(handle.url(), format!("{url}?room=1"));
    assert_eq!(handle.extensions(), "");
    assert_eq!(handle.buffered_amount(), 0);
    connection.set_buffered_amount(5_000);
    assert_eq!(handle.buffered_amount(), 5_000);
    assert_eq!(handle.as_web_sys().ready_state(), 1);

    // None offered that the server speaks: refused, as a browser fails it.
    let refused = WebSocket::builder(&url)
        .protocols(["chat.v9"])
        .connect()
        .await;
    assert!(
        matches!(refused, Err(Error::ConnectionFailed(close)) if u16::from(close.code) == 1006)
    );
    // No list: the client's first offer.
    let lenient = MockServer::listen(&mock_url("getters-lenient"));
    let socket = WebSocket::builder(lenient.url())
        .protocols(["a", "b"])
        .connect()
        .await
        .unwrap();
    assert_eq!(socket.protocol(), "a");
}

#[wasm_bindgen_test]
async fn a_refused_connection_fails_with_error_then_close_1006() {
    let url = mock_url("refused");
    let server = MockServer::listen(&url);
    server.refuse_next(2);
    match within(5_000, "connect", WebSocket::connect(&url)).await {
        Err(Error::ConnectionFailed(close)) => {
            assert_eq!(u16::from(close.code), 1006);
            assert!(!close.was_clean);
        }
        other => panic!("expected ConnectionFailed, got {:?}", other.map(|_| ())),
    }
    let log = Log::default();
    let _handle = WebSocket::builder(&url)
        .open_with_callbacks(logging_callbacks(&log))
        .unwrap();
    wait_until("the close", || log.borrow().len() == 2).await;
    assert_eq!(
        *log.borrow(),
        vec!["error ConnectionFailed", "close 1006 \"\" false"]
    );
    // The third attempt is accepted.
    let _socket = WebSocket::connect(&url).await.unwrap();
    assert_eq!((server.attempts(), server.accepted()), (3, 1));
}

#[wasm_bindgen_test]
async fn a_server_close_is_clean() {
    let url = mock_url("server-close");
    let server = MockServer::listen(&url);
    let mut socket = WebSocket::connect(&url).await.unwrap();
    let connection = server.next_connection().await;
    connection.send_text("last");
    connection.close(4000, "done");
    assert_eq!(
        next(&mut socket).await.unwrap().unwrap(),
        Message::from("last")
    );
    assert!(next(&mut socket).await.is_none());
    let close = socket.closed().await;
    assert_eq!(
        (
            u16::from(close.code),
            close.reason.as_str(),
            close.was_clean
        ),
        (4000, "done", true)
    );
    assert_eq!(connection.closed_by_client().await, None);

    let log = Log::default();
    let _handle = WebSocket::builder(&url)
        .open_with_callbacks(logging_callbacks(&log))
        .unwrap();
    let connection = server.next_connection().await;
    connection.send_text("hi");
    connection.close(1001, "going away");
    wait_until("the close", || log.borrow().len() == 3).await;
    assert_eq!(
        *log.borrow(),
        vec![
            "open",
            "message Text(\"hi\")",
            "close 1001 \"going away\" true"
        ]
    );
}

#[wasm_bindgen_test]
async fn an_abrupt_drop_is_1006_without_error_event() {
    let url = mock_url("drop");
    let server = MockServer::listen(&url);
    let mut socket = WebSocket::connect(&url).await.unwrap();
    let connection = server.next_connection().await;
    connection.drop_abruptly();
    match next(&mut socket).await {
        Some(Err(Error::ConnectionClosed(close))) => {
            assert_eq!(u16::from(close.code), 1006);
            assert!(!close.was_clean);
        }
        other => panic!("expected ConnectionClosed, got {other:?}"),
    }
    assert!(next(&mut socket).await.is_none());
    assert_eq!(socket.ready_state(), ReadyState::Closed);

    // The raw events: close(1006) and no error.
    let raw = Log::default();
    let log = Log::default();
    let handle = WebSocket::builder(&url)
        .open_with_callbacks(logging_callbacks(&log))
        .unwrap();
    let connection = server.next_connection().await;
    wait_until("open", || log.borrow().len() == 1).await;
    let target: &web_sys::EventTarget = handle.as_web_sys().as_ref();
    let (on_error, on_close) = {
        let (a, b) = (raw.clone(), raw.clone());
        (
            wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
                a.borrow_mut().push("error".into())
            }),
            wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
                b.borrow_mut().push("close".into())
            }),
        )
    };
    use wasm_bindgen::JsCast;
    target
        .add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())
        .unwrap();
    target
        .add_event_listener_with_callback("close", on_close.as_ref().unchecked_ref())
        .unwrap();
    connection.drop_abruptly();
    wait_until("the close", || log.borrow().len() == 3).await;
    assert_eq!(*raw.borrow(), vec!["close"]);
    assert_eq!(
        *log.borrow(),
        vec!["open", "error ConnectionClosed", "close 1006 \"\" false"]
    );
    target
        .remove_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())
        .unwrap();
    target
        .remove_event_listener_with_callback("close", on_close.as_ref().unchecked_ref())
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_failure_after_open_is_error_then_1006() {
    let url = mock_url("fail");
    let server = MockServer::listen(&url);
    let mut socket = WebSocket::connect(&url).await.unwrap();
    server.next_connection().await.fail();
    assert!(matches!(
        next(&mut socket).await,
        Some(Err(Error::ConnectionClosed(close))) if u16::from(close.code) == 1006
    ));
    assert!(next(&mut socket).await.is_none());

    let log = Log::default();
    let _handle = WebSocket::builder(&url)
        .open_with_callbacks(logging_callbacks(&log))
        .unwrap();
    server.next_connection().await.fail();
    wait_until("the close", || log.borrow().len() == 3).await;
    assert_eq!(
        *log.borrow(),
        vec!["open", "error ConnectionClosed", "close 1006 \"\" false"]
    );
}

#[wasm_bindgen_test]
async fn the_apps_close_is_answered_and_seen_by_the_server() {
    let url = mock_url("client-close");
    let server = MockServer::listen(&url);
    let mut socket = WebSocket::connect(&url).await.unwrap();
    let connection = server.next_connection().await;
    socket.close_with(4001, "bye").unwrap();
    assert_eq!(socket.ready_state(), ReadyState::Closing);
    assert!(next(&mut socket).await.is_none());
    let close = socket.closed().await;
    assert_eq!(
        (
            u16::from(close.code),
            close.reason.as_str(),
            close.was_clean
        ),
        (4001, "bye", true)
    );
    assert_eq!(
        connection.closed_by_client().await,
        Some((4001, "bye".to_owned()))
    );
    assert_eq!(connection.ready_state(), ReadyState::Closed);

    // Callbacks: on_close, no on_error.
    let log = Log::default();
    let handle = WebSocket::builder(&url)
        .open_with_callbacks(logging_callbacks(&log))
        .unwrap();
    let connection = server.next_connection().await;
    wait_until("open", || log.borrow().len() == 1).await;
    handle.close_normal().unwrap();
    assert_eq!(
        connection.closed_by_client().await,
        Some((1000, String::new()))
    );
    wait_until("the close", || log.borrow().len() == 2).await;
    assert_eq!(*log.borrow(), vec!["open", "close 1000 \"\" true"]);

    // Dropping the socket closes it with 1000.
    let socket = WebSocket::connect(&url).await.unwrap();
    let connection = server.next_connection().await;
    drop(socket);
    assert_eq!(
        connection.closed_by_client().await,
        Some((1000, String::new()))
    );
}

#[wasm_bindgen_test]
async fn dropping_the_connect_future_fails_the_connection_server_side() {
    let url = mock_url("connect-dropped");
    let server = MockServer::listen(&url);
    server.delay_accept(200);
    let connecting = WebSocket::connect(&url);
    let connection = server.next_connection().await;
    drop(connecting);
    assert_eq!(
        within(5_000, "the end", connection.closed_by_client()).await,
        None
    );
    assert_eq!(connection.ready_state(), ReadyState::Closed);
}

#[wasm_bindgen_test]
async fn a_stalled_server_accepts_sends_and_does_not_answer_the_close() {
    let url = mock_url("stall");
    let server = MockServer::listen(&url);
    let socket = WebSocket::connect(&url).await.unwrap();
    let connection = server.next_connection().await;
    connection.stall();
    socket.send_text("anyone?").unwrap();
    assert_eq!(
        connection.next_received().await,
        Some(Message::from("anyone?"))
    );
    socket.close_normal().unwrap();
    sleep(200).await;
    assert_eq!(socket.ready_state(), ReadyState::Closing);
    assert!(socket.close_event().is_none());
    connection.drop_abruptly();
    let close = within(5_000, "the close", socket.closed()).await;
    assert_eq!(u16::from(close.code), 1006);
}

#[wasm_bindgen_test]
async fn events_never_arrive_inside_the_call_that_caused_them() {
    let url = mock_url("async");
    let server = MockServer::listen(&url);
    let log = Log::default();
    let handle = WebSocket::builder(&url)
        .open_with_callbacks(logging_callbacks(&log))
        .unwrap();
    let connection = server.next_connection().await;
    assert!(log.borrow().is_empty(), "open inside the constructor");
    wait_until("open", || log.borrow().len() == 1).await;
    connection.send_text("x");
    connection.close(1000, "");
    assert_eq!(log.borrow().len(), 1, "a message inside the server's send");
    wait_until("the close", || log.borrow().len() == 3).await;

    let handle2 = WebSocket::builder(&url)
        .open_with_callbacks(logging_callbacks(&log))
        .unwrap();
    let _connection = server.next_connection().await;
    wait_until("open", || log.borrow().len() == 4).await;
    handle2.close_normal().unwrap();
    assert_eq!(log.borrow().len(), 4, "close inside the app's close");
    wait_until("the close", || log.borrow().len() == 5).await;
    drop(handle);
}

#[wasm_bindgen_test]
async fn delays_urls_below_and_the_longest_match() {
    let root = MockServer::listen("ws://mock.test/");
    let chat = MockServer::listen(&mock_url("chat"));
    chat.delay_accept(150);
    let started = js_sys::Date::now();
    let _a = WebSocket::connect(&mock_url("chat/room")).await.unwrap();
    assert!(js_sys::Date::now() - started >= 140.0);
    let _b = WebSocket::connect(&mock_url("chat?x=1")).await.unwrap();
    let _c = WebSocket::connect(&mock_url("chatroom")).await.unwrap();
    assert_eq!(chat.accepted(), 2);
    assert_eq!(root.accepted(), 1);
    assert_eq!(root.next_connection().await.url(), mock_url("chatroom"));
    // Two on the same URL: the newer takes the connections.
    let older = MockServer::listen(&mock_url("twice"));
    let newer = MockServer::listen(&mock_url("twice"));
    let _d = WebSocket::connect(&mock_url("twice")).await.unwrap();
    assert_eq!((older.accepted(), newer.accepted()), (0, 1));
    // Relative and http: URLs are resolved as the sockets resolve theirs.
    assert_eq!(
        MockServer::listen("http://mock.test/x").url(),
        "ws://mock.test/x"
    );
}

#[wasm_bindgen_test]
async fn stopping_the_server_drops_its_connections() {
    let url = mock_url("stop");
    let server = MockServer::listen(&url);
    let mut socket = WebSocket::connect(&url).await.unwrap();
    drop(server);
    assert!(matches!(
        next(&mut socket).await,
        Some(Err(Error::ConnectionClosed(close))) if u16::from(close.code) == 1006
    ));
}

type Events = Rc<RefCell<Vec<ReconnectEvent>>>;

fn fast_policy() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .delays(Duration::from_millis(5), Duration::from_millis(20))
        .connect_timeout(Duration::from_secs(2))
}

#[wasm_bindgen_test]
async fn the_reconnecting_socket_retries_flushes_and_reconnects() {
    let url = mock_url("reconnect");
    let server = MockServer::listen(&url);
    server.refuse_next(2);
    let events = Events::default();
    let log = events.clone();
    let mut socket = ReconnectingWebSocket::builder(url.clone())
        .policy(fast_policy().final_codes([4001]))
        .on_event(move |event| log.borrow_mut().push(event.clone()))
        .connect();
    socket.send_text("queued").unwrap();
    let connection = within(5_000, "a connection", server.next_connection()).await;
    assert_eq!(
        connection.next_received().await,
        Some(Message::from("queued"))
    );
    assert_eq!(server.attempts(), 3);
    {
        let events = events.borrow();
        let closes = events
            .iter()
            .filter(|e| matches!(e, ReconnectEvent::Closed { close: c, .. } if u16::from(c.code) == 1006))
            .count();
        assert_eq!(closes, 2, "{events:?}");
        assert!(
            matches!(events.last(), Some(ReconnectEvent::Open { attempt: 3, .. })),
            "{events:?}"
        );
    }

    // A drop reconnects; the stream goes on.
    connection.send_text("before");
    assert_eq!(
        next(&mut socket).await.unwrap().unwrap(),
        Message::from("before")
    );
    connection.drop_abruptly();
    let second = within(5_000, "the reconnection", server.next_connection()).await;
    second.send_text("after");
    assert_eq!(
        next(&mut socket).await.unwrap().unwrap(),
        Message::from("after")
    );

    // 1012 reconnects; a final code does not.
    second.close(1012, "restart");
    let third = within(5_000, "the reconnection", server.next_connection()).await;
    third.close(4001, "logged out");
    assert!(next(&mut socket).await.is_none());
    sleep(100).await;
    assert_eq!(server.accepted(), 3);
    assert!(matches!(
        events.borrow().last(),
        Some(ReconnectEvent::Closed { close, .. }) if close.code == CloseCode::from(4001)
    ));
}

#[wasm_bindgen_test]
async fn a_heartbeat_is_answered_and_a_stalled_server_is_declared_dead() {
    let url = mock_url("heartbeat");
    let server = MockServer::listen(&url);
    server.answer("ping", "pong");
    let mut socket = ReconnectingWebSocket::builder(url.clone())
        .policy(fast_policy())
        .heartbeat(Heartbeat::new(
            Duration::from_millis(50),
            Duration::from_millis(150),
            "ping",
            |m| m.as_text() == Some("pong"),
        ))
        .connect();
    let connection = server.next_connection().await;
    sleep(400).await;
    // Answered: still the first connection, and pongs stay off the stream.
    assert_eq!(server.accepted(), 1);
    let pings = connection.received();
    assert!(pings.len() >= 3, "{pings:?}");
    assert!(pings.iter().all(|m| m.as_text() == Some("ping")));
    connection.send_text("data");
    assert_eq!(
        next(&mut socket).await.unwrap().unwrap(),
        Message::from("data")
    );

    // Stalled: no pong in time, the connection is dropped and replaced.
    connection.stall();
    let second = within(5_000, "the reconnection", server.next_connection()).await;
    assert_eq!(server.accepted(), 2);
    second.send_text("back");
    assert_eq!(
        next(&mut socket).await.unwrap().unwrap(),
        Message::from("back")
    );
    socket.close_normal().unwrap();
    assert!(next(&mut socket).await.is_none());
}

#[wasm_bindgen_test]
async fn a_slow_accept_times_out_each_attempt() {
    let url = mock_url("slow");
    let server = MockServer::listen(&url);
    server.delay_accept(1_000);
    let events = Events::default();
    let log = events.clone();
    let mut socket = ReconnectingWebSocket::builder(url.clone())
        .policy(
            fast_policy()
                .connect_timeout(Duration::from_millis(100))
                .max_attempts(Some(2)),
        )
        .on_event(move |event| log.borrow_mut().push(event.clone()))
        .connect();
    assert!(within(5_000, "the end", socket.next())
        .await
        .is_none_or(|m| m.is_err()));
    wait_until("giving up", || {
        matches!(
            events.borrow().last(),
            Some(ReconnectEvent::GaveUp { attempts: 2 })
        )
    })
    .await;
    assert_eq!(server.attempts(), 2);
}

#[wasm_bindgen_test]
async fn nothing_leaks() {
    let sockets = live_sockets();
    let callbacks = live_js_callbacks();
    let url = mock_url("leaks");
    let server = MockServer::listen(&url);
    for _ in 0..50 {
        let socket = WebSocket::connect(&url).await.unwrap();
        let connection = server.next_connection().await;
        connection.send_text("x");
        drop(socket);
    }
    let mut reconnecting = ReconnectingWebSocket::builder(url.clone())
        .policy(fast_policy())
        .connect();
    for _ in 0..20 {
        server.next_connection().await.drop_abruptly();
    }
    reconnecting.close_normal().unwrap();
    while within(5_000, "the end", reconnecting.next())
        .await
        .is_some()
    {}
    drop(reconnecting);
    sleep(50).await;
    assert_eq!(live_sockets(), sockets);
    assert_eq!(live_js_callbacks(), callbacks);
}
