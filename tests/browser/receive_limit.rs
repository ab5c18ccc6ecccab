//! Verifies the receive limit, on the stream of `WebSocket`, of its `Receiver`
//! half and of `ReconnectingWebSocket`:
//! - messages left unread past the limit close the socket with 4009 "receive
//!   limit exceeded" (as the server sees it);
//! - the stream then yields every message received up to the one that crossed
//!   the limit, in order, then one `ReceiveLimitExceeded`, then ends; nothing
//!   is dropped silently;
//! - the reconnecting socket does not reconnect after it;
//! - text counts by its UTF-8 bytes, binary data (in wasm or kept in JS) by
//!   its length, Blobs by their size;
//! - `receive_limit(None)` turns it off.

use std::cell::RefCell;
use std::rc::Rc;

use crate::common::*;
use browser_websocket::{
    BinaryType, CloseCode, Error, Message, ReconnectEvent, ReconnectPolicy, ReconnectingWebSocket,
    WebSocket, RECEIVE_LIMIT_CLOSE_CODE,
};
use futures_util::{Stream, StreamExt};
use wasm_bindgen_test::*;

const MESSAGE: usize = 10 * 1024;
const LIMIT: usize = 32 * 1024;
/// 4 messages of 10 KiB are the first to pass 32 KiB.
const DELIVERED: usize = 4;

fn numbered(index: usize) -> Vec<u8> {
    vec![index as u8; MESSAGE]
}

/// Reads the whole stream: the messages' first bytes, then what ended it.
async fn drain<S>(stream: &mut S) -> (Vec<u8>, Vec<Error>)
where
    S: Stream<Item = browser_websocket::Result<Message>> + Unpin,
{
    let mut firsts = Vec::new();
    let mut errors = Vec::new();
    while let Some(item) = within(10_000, "the stream", stream.next()).await {
        match item {
            Ok(message) => {
                let bytes = message.into_bytes().await.unwrap();
                assert_eq!(bytes.len(), MESSAGE);
                firsts.push(bytes[0]);
            }
            Err(error) => errors.push(error),
        }
    }
    (firsts, errors)
}

fn expected_firsts() -> Vec<u8> {
    (0..DELIVERED as u8).collect()
}

fn limit_error() -> Error {
    Error::ReceiveLimitExceeded { limit: LIMIT }
}

#[wasm_bindgen_test]
async fn unread_messages_past_the_limit_close_with_4009_and_lose_nothing_before() {
    for binary_type in [
        BinaryType::ArrayBuffer,
        BinaryType::JsArrayBuffer,
        BinaryType::Blob,
    ] {
        let id = unique_id("receive-limit");
        let mut socket = WebSocket::builder(&url(&format!("/echo?id={id}")))
            .binary_type(binary_type)
            .receive_limit(Some(LIMIT))
            .connect()
            .await
            .unwrap();
        for index in 0..10 {
            socket.send_bytes(&numbered(index)).unwrap();
        }
        // Nobody reads until the socket has closed.
        let close = within(10_000, "the close", socket.closed()).await;
        assert_eq!(close.code, CloseCode::from(RECEIVE_LIMIT_CLOSE_CODE));
        assert_eq!(close.reason, "receive limit exceeded");
        let (firsts, errors) = drain(&mut socket).await;
        assert_eq!(firsts, expected_firsts(), "{binary_type}");
        assert_eq!(errors, [limit_error()], "{binary_type}");
        assert_eq!(
            close_seen_by_server(&id).await,
            "4009 receive limit exceeded"
        );
    }
}

#[wasm_bindgen_test]
async fn the_receiver_half_has_the_same_limit() {
    let socket = WebSocket::builder(&url("/echo"))
        .receive_limit(Some(LIMIT))
        .connect()
        .await
        .unwrap();
    let (sender, mut receiver) = socket.into_split();
    for index in 0..10 {
        sender.send_bytes(&numbered(index)).unwrap();
    }
    within(10_000, "the close", sender.closed()).await;
    let (firsts, errors) = drain(&mut receiver).await;
    assert_eq!(firsts, expected_firsts());
    assert_eq!(errors, [limit_error()]);
}

#[wasm_bindgen_test]
async fn no_limit_keeps_everything() {
    let mut socket = WebSocket::builder(&url("/flood?n=200&size=10240"))
        .receive_limit(None)
        .connect()
        .await
        .unwrap();
    socket.send_text("go").unwrap();
    // The server closes with 1000 after the last message.
    within(10_000, "the close", socket.closed()).await;
    let mut count = 0;
    while let Some(item) = socket.next().await {
        item.unwrap();
        count += 1;
    }
    assert_eq!(count, 200);
}

#[wasm_bindgen_test]
async fn the_reconnecting_socket_stops_at_the_limit() {
    let id = unique_id("reconnecting-limit");
    let events: Rc<RefCell<Vec<ReconnectEvent>>> = Rc::default();
    let log = events.clone();
    let mut socket = ReconnectingWebSocket::builder(url(&format!("/echo?id={id}")))
        .policy(ReconnectPolicy::default().reconnect_if(|_| true))
        .receive_limit(Some(LIMIT))
        .on_event(move |event| log.borrow_mut().push(event.clone()))
        .connect();
    for index in 0..10 {
        // Queued until connected, then flushed in order.
        socket.send_bytes(&numbered(index)).unwrap();
    }
    wait_until("the close", || socket.close_event().is_some()).await;
    let close = socket.close_event().expect("closed");
    assert_eq!(close.code, CloseCode::from(RECEIVE_LIMIT_CLOSE_CODE));
    let (firsts, errors) = drain(&mut socket).await;
    assert_eq!(firsts, expected_firsts());
    assert_eq!(errors, [limit_error()]);
    // Even with a rule that reconnects after anything: the app's side asked.
    let opens = events
        .borrow()
        .iter()
        .filter(|event| matches!(event, ReconnectEvent::Open { .. }))
        .count();
    assert_eq!(opens, 1, "{:?}", events.borrow());
    assert_eq!(
        close_seen_by_server(&id).await,
        "4009 receive limit exceeded"
    );
}

#[wasm_bindgen_test]
async fn text_counts_by_its_utf8_bytes() {
    let mut socket = WebSocket::builder(&url("/echo"))
        .receive_limit(Some(LIMIT))
        .connect()
        .await
        .unwrap();
    for index in 0..10u8 {
        // 10 KiB of UTF-8 (one character of two bytes), as the binary messages.
        let text = char::from(b'a' + index).to_string().repeat(MESSAGE - 2) + "é";
        assert_eq!(text.len(), MESSAGE);
        socket.send_text(&text).unwrap();
    }
    within(10_000, "the close", socket.closed()).await;
    let mut firsts = Vec::new();
    let mut errors = Vec::new();
    while let Some(item) = within(10_000, "the stream", socket.next()).await {
        match item {
            Ok(message) => firsts.push(message.as_text().unwrap().as_bytes()[0] - b'a'),
            Err(error) => errors.push(error),
        }
    }
    assert_eq!(firsts, expected_firsts());
    assert_eq!(errors, [limit_error()]);
}
