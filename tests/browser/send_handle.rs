//! Verifies [`SendHandle`]: a `Send + Sync + Clone` handle on a socket that
//! stays on its thread (the threaded suite sends through one from a worker
//! thread; here, on one thread, it goes through code that demands `Send`):
//! - sends through it reach the server in the order given, text and bytes,
//!   from any clone;
//! - its state follows the socket's: `Open`, `Closing` after its close,
//!   `Closed` once closed (by it, or by the server), and then every send is a
//!   typed `NotOpen`; a bad close code or reason is a typed error at once;
//! - past its queue's bytes (the socket's thread busy), a send is refused
//!   with `QueueFull` and nothing is lost of what was taken;
//! - it keeps the socket alive as a `Handle` does, and releases it once
//!   every clone is dropped;
//! - on a reconnecting socket: `Connecting` between connections, sends queued
//!   while down and delivered on the next connection in order, and `Closed`
//!   once closed for good;
//! - on a shared socket: a tab's sends through it reach the connection, and
//!   closing through it makes that tab leave (the others keep the connection).

use crate::common::*;
use browser_websocket::{
    Error, Message, ReadyState, ReconnectingWebSocket, SendHandle, SEND_HANDLE_QUEUE_BYTES,
};
use futures_util::StreamExt;
use std::time::Duration;
use wasm_bindgen_test::*;

/// Runs `job` through a bound that demands `Send + 'static`, as another
/// thread or a Leptos store would.
fn as_if_on_another_thread<T>(job: impl FnOnce() -> T + Send + 'static) -> T {
    job()
}

#[wasm_bindgen_test]
async fn sends_through_a_handle_arrive_in_order_from_any_clone() {
    let mut socket = connect("/echo").await;
    let handle = socket.send_handle();
    let clone = handle.clone();
    assert_eq!(handle.ready_state(), ReadyState::Open);
    let sent = as_if_on_another_thread(move || {
        (
            handle.send_text("one"),
            clone.send_bytes(vec![2, 2]),
            handle.send_text(String::from("three")),
        )
    });
    assert_eq!(sent, (Ok(()), Ok(()), Ok(())));
    assert_eq!(next_message(&mut socket).await, Message::from("one"));
    assert_eq!(next_message(&mut socket).await, Message::Binary(vec![2, 2]));
    assert_eq!(next_message(&mut socket).await, Message::from("three"));
}

#[wasm_bindgen_test]
async fn its_state_follows_the_socket_and_sends_after_the_close_are_typed_errors() {
    let socket = connect("/echo").await;
    let handle = socket.send_handle();
    assert!(matches!(
        handle.close_with(1005, ""),
        Err(Error::InvalidCloseCode { .. })
    ));
    assert!(matches!(
        handle.close_with(4000, &"x".repeat(124)),
        Err(Error::ReasonTooLong { .. })
    ));
    assert_eq!(handle.ready_state(), ReadyState::Open, "nothing was sent");
    handle.close_with(4000, "done").unwrap();
    wait_until("closing", || handle.ready_state() != ReadyState::Open).await;
    let event = within(5_000, "the close", socket.closed()).await;
    assert_eq!(event.code, 4000);
    wait_until("closed", || handle.ready_state() == ReadyState::Closed).await;
    assert_eq!(
        handle.send_text("too late"),
        Err(Error::NotOpen {
            state: ReadyState::Closed
        })
    );
    assert!(matches!(handle.close_normal(), Err(Error::NotOpen { .. })));

    // Closed by the server: the handle learns it without sending.
    let socket = connect("/close?code=4002&reason=bye").await;
    let handle = socket.send_handle();
    within(5_000, "the server's close", socket.closed()).await;
    wait_until("closed", || handle.ready_state() == ReadyState::Closed).await;
    assert!(matches!(
        handle.send_bytes(vec![1]),
        Err(Error::NotOpen { .. })
    ));
}

#[wasm_bindgen_test]
async fn past_its_queue_a_send_is_refused_and_nothing_taken_is_lost() {
    let mut socket = connect("/echo").await;
    let handle = socket.send_handle();
    let chunk = 1 << 20;
    let fits = SEND_HANDLE_QUEUE_BYTES / chunk;
    // This thread does not yield, so nothing is carried out meanwhile.
    for k in 0..fits {
        handle.send_bytes(vec![k as u8; chunk]).unwrap();
    }
    assert_eq!(handle.waiting(), SEND_HANDLE_QUEUE_BYTES);
    assert!(matches!(
        handle.send_bytes(vec![0; chunk]),
        Err(Error::QueueFull { .. })
    ));
    for k in 0..fits {
        let echo = within(10_000, "an echo", socket.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(echo, Message::Binary(vec![k as u8; chunk]), "message {k}");
    }
    assert_eq!(handle.waiting(), 0);
}

#[wasm_bindgen_test]
async fn a_handle_keeps_the_socket_alive_until_every_clone_is_dropped() {
    let sockets = browser_websocket::live_sockets();
    let socket = connect("/echo").await;
    let handle = socket.send_handle();
    drop(socket);
    sleep(50).await;
    assert_eq!(browser_websocket::live_sockets(), sockets + 1);
    assert_eq!(handle.send_text("still here"), Ok(()));
    let clone: SendHandle = handle.clone();
    drop(handle);
    sleep(50).await;
    assert_eq!(
        browser_websocket::live_sockets(),
        sockets + 1,
        "a clone is left"
    );
    drop(clone);
    wait_until("the socket released", || {
        browser_websocket::live_sockets() == sockets
    })
    .await;
}

#[wasm_bindgen_test]
async fn on_a_reconnecting_socket_sends_wait_for_the_next_connection() {
    let id = unique_id("send-handle");
    let policy = fast_policy().delays(Duration::from_millis(300), Duration::from_millis(300));
    let socket = ReconnectingWebSocket::builder(url(&format!("/record?id={id}")))
        .policy(policy)
        .connect();
    let handle = socket.send_handle();
    wait_until("connected", || handle.ready_state() == ReadyState::Open).await;
    handle.send_text("first").unwrap();
    handle.send_text("drop").unwrap();
    wait_until("down", || handle.ready_state() == ReadyState::Connecting).await;
    handle.send_text("while down").unwrap();
    wait_until("connected again", || {
        handle.ready_state() == ReadyState::Open
    })
    .await;
    handle.send_text("after").unwrap();
    handle.close_normal().unwrap();
    wait_until("closed for good", || {
        handle.ready_state() == ReadyState::Closed
    })
    .await;
    assert!(matches!(
        handle.send_text("late"),
        Err(Error::NotOpen { .. })
    ));
    let log = server_log(&id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0], ["first", "dropped"]);
    assert_eq!(log[1], ["while down", "after", "close 1000 "]);
}

#[wasm_bindgen_test]
async fn a_tab_of_a_shared_socket_sends_through_its_handle_and_leaves_by_it() {
    use browser_websocket::tabs::SharedWebSocket;
    let name = unique_id("send-handle-tabs");
    let mut leader = SharedWebSocket::builder(url("/echo")).name(&name).connect();
    let follower = SharedWebSocket::builder(url("/echo")).name(&name).connect();
    let handle = follower.send_handle();
    wait_until("both connected", || {
        leader.is_connected() && handle.ready_state() == ReadyState::Open
    })
    .await;
    handle.send_text("from the follower's handle").unwrap();
    let echo = within(5_000, "the echo", leader.next()).await;
    assert!(
        matches!(&echo, Some(Ok(message)) if message.as_text() == Some("from the follower's handle")),
        "{echo:?}"
    );
    handle.close_normal().unwrap();
    wait_until("left", || handle.ready_state() == ReadyState::Closed).await;
    assert!(follower.is_finished());
    assert!(leader.is_connected(), "the other tab keeps the connection");
    assert!(matches!(
        handle.send_text("late"),
        Err(Error::NotOpen { .. })
    ));
    drop((leader, follower));
}
