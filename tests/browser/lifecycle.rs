//! Verifies the callback API and that resources are released:
//! - callbacks fire as the browser's `onopen`, `onmessage`, `onclose` do, in order,
//!   and can send and close through the handle they are given;
//! - a failed connection calls `on_error` (ConnectionFailed, 1006) then `on_close`;
//! - callbacks that capture their own handle are released when the socket closes;
//! - dropping a socket from inside its own message callback is safe;
//! - dropping a socket closes it with 1000, as seen by the server;
//! - 1,000 connect/drop cycles leave no socket, listener or closure alive, and
//!   the wasm memory does not grow with them.

use std::cell::RefCell;
use std::rc::Rc;

use crate::common::*;
use browser_websocket::{
    live_js_callbacks, live_sockets, Callbacks, CloseCode, Error, Handle, Message, WebSocket,
};
use wasm_bindgen_test::*;

type Log = Rc<RefCell<Vec<String>>>;

/// Callbacks that append what happens to `log` and fire `done` on close.
fn logging_callbacks(log: &Log, done: futures_channel::oneshot::Sender<()>) -> Callbacks {
    let (on_open, on_message, on_error, on_close) =
        (log.clone(), log.clone(), log.clone(), log.clone());
    let mut done = Some(done);
    Callbacks::new()
        .on_open(move |socket| {
            on_open.borrow_mut().push("open".into());
            socket.send_text("an example message").unwrap();
        })
        .on_message(move |socket, message| {
            on_message
                .borrow_mut()
                .push(format!("message {:?}", message.as_text()));
            socket.close_with(4001, "bye").unwrap();
        })
        .on_error(move |_, error| on_error.borrow_mut().push(format!("error {error}")))
        .on_close(move |_, event| {
            on_close.borrow_mut().push(format!("close {event}"));
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        })
}

#[wasm_bindgen_test]
async fn callbacks_fire_like_the_browser_handlers() {
    let log = Log::default();
    let (done, finished) = futures_channel::oneshot::channel();
    let socket = WebSocket::builder(&url("/echo"))
        .open_with_callbacks(logging_callbacks(&log, done))
        .unwrap();
    within(10_000, "on_close", finished).await.unwrap();
    assert_eq!(
        *log.borrow(),
        [
            "open",
            "message Some(\"an example message\")",
            "close code 4001 \"bye\", clean"
        ]
    );
    assert_eq!(
        socket.close_event().map(|event| event.code),
        Some(CloseCode::Private(4001))
    );
}

#[wasm_bindgen_test]
async fn failed_connection_calls_on_error_then_on_close() {
    let log = Log::default();
    let (done, finished) = futures_channel::oneshot::channel();
    let _socket = WebSocket::builder(&url("/reject"))
        .open_with_callbacks(logging_callbacks(&log, done))
        .unwrap();
    within(15_000, "on_close", finished).await.unwrap();
    let failure = Error::ConnectionFailed(browser_websocket::CloseEvent {
        code: CloseCode::Abnormal,
        reason: String::new(),
        was_clean: false,
    });
    assert_eq!(
        *log.borrow(),
        [
            format!("error {failure}"),
            "close code 1006 \"\", not clean".to_owned()
        ]
    );
}

#[wasm_bindgen_test]
async fn callbacks_holding_their_own_handle_are_released_on_close() {
    let sockets = live_sockets();
    let listeners = live_js_callbacks();
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let own_handle: Rc<RefCell<Option<Handle>>> = Rc::default();
    let captured = own_handle.clone();
    let handle = WebSocket::builder(&url("/close?code=4003"))
        .open_with_callbacks(Callbacks::new().on_close(move |_, _| {
            // Keeps a handle inside the callbacks: a cycle until the close.
            let _keep = captured.borrow().clone();
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        }))
        .unwrap();
    *own_handle.borrow_mut() = Some(handle);
    drop(own_handle);
    // Nothing but the callbacks holds the socket now, and it stays open until
    // the server closes it.
    assert_eq!(live_sockets(), sockets + 1);
    within(10_000, "on_close", finished).await.unwrap();
    sleep(0).await;
    assert_eq!(live_sockets(), sockets);
    assert_eq!(live_js_callbacks(), listeners);
}

#[wasm_bindgen_test]
async fn dropping_a_socket_inside_its_own_message_callback_is_safe() {
    let sockets = live_sockets();
    let slot: Rc<RefCell<Option<Handle>>> = Rc::default();
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let in_callback = slot.clone();
    let handle = WebSocket::builder(&url("/burst?n=10"))
        .open_with_callbacks(Callbacks::new().on_message(move |_, _| {
            // Drops the last handle the app holds while the browser runs us.
            drop(in_callback.borrow_mut().take());
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        }))
        .unwrap();
    *slot.borrow_mut() = Some(handle);
    within(10_000, "first message", finished).await.unwrap();
    sleep(50).await;
    assert_eq!(live_sockets(), sockets);
    // And the page goes on working.
    let mut socket = connect("/echo").await;
    socket.send_text("still fine").unwrap();
    assert_eq!(
        next_message(&mut socket).await,
        Message::Text("still fine".into())
    );
}

#[wasm_bindgen_test]
async fn dropping_a_socket_closes_it_with_1000() {
    let id = unique_id("dropped");
    let socket = connect(&format!("/echo?id={id}")).await;
    let (sender, receiver) = socket.into_split();
    drop(receiver);
    // The sender still holds the socket open.
    sender.send_text("one half left").unwrap();
    drop(sender);
    assert_eq!(close_seen_by_server(&id).await, "1000 ");
}

#[wasm_bindgen_test]
async fn thousand_connect_drop_cycles_leave_nothing_alive() {
    // The counts below must move with this test's sockets only: earlier
    // tests' clients close as their routing tasks end (a request client's a
    // moment after its test returns), so let them first.
    wait_until("the earlier tests' sockets to close", || {
        live_sockets() == 0 && live_js_callbacks() == 0
    })
    .await;
    let sockets = live_sockets();
    let listeners = live_js_callbacks();
    // Warm up allocator and browser caches before measuring.
    for _ in 0..20 {
        drop(connect("/echo").await);
    }
    let memory_before = wasm_memory_bytes();
    for cycle in 0..1000 {
        let mut socket = connect("/echo").await;
        if cycle % 100 == 0 {
            socket.send_text("alive").unwrap();
            assert_eq!(
                next_message(&mut socket).await,
                Message::Text("alive".into())
            );
        }
        assert_eq!(live_sockets(), sockets + 1);
        assert_eq!(live_js_callbacks(), listeners + 4);
        drop(socket);
    }
    let growth = wasm_memory_bytes() - memory_before;
    web_sys::console::log_1(
        &format!("1000 connect/drop cycles: wasm memory grew by {growth} bytes").into(),
    );
    assert_eq!(live_sockets(), sockets);
    assert_eq!(live_js_callbacks(), listeners);
    assert!(
        growth <= 128.0 * 1024.0,
        "wasm memory grew by {growth} bytes over 1000 cycles"
    );
}
