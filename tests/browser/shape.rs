//! Verifies that the three sockets do what [`Socket`] promises alike, through
//! one generic test compiled against each (`WebSocket`,
//! `ReconnectingWebSocket`, `tabs::SharedWebSocket`):
//! - `is_connected` turns true once the connection is open;
//! - a text, a binary and a message sent through the trait come back from the
//!   echo route intact and in order;
//! - `close_normal` makes it finished (`is_finished`), and a send after it is
//!   refused with `NotOpen`.

use browser_websocket::tabs::SharedWebSocket;
use browser_websocket::{Error, Message, ReconnectingWebSocket, Socket};
use futures_util::Stream;
use wasm_bindgen_test::*;

use crate::common::*;

/// The one test, for any socket that is also its own stream.
async fn sends_and_closes_alike<S>(socket: &mut S)
where
    S: Socket + Stream<Item = browser_websocket::Result<Message>> + Unpin,
{
    wait_until("connected", || socket.is_connected()).await;
    assert!(!socket.is_finished());
    socket.send_text("one").unwrap();
    socket.send_bytes(&[2, 2]).unwrap();
    socket.send_message(&Message::from("three")).unwrap();
    assert_eq!(next_message(socket).await, Message::from("one"));
    assert_eq!(next_message(socket).await, Message::from(vec![2, 2]));
    assert_eq!(next_message(socket).await, Message::from("three"));
    socket.close_normal().unwrap();
    wait_until("finished", || socket.is_finished()).await;
    assert!(
        matches!(socket.send_text("late"), Err(Error::NotOpen { .. })),
        "a send after close_normal"
    );
}

#[wasm_bindgen_test]
async fn the_plain_socket() {
    sends_and_closes_alike(&mut connect("/echo").await).await;
}

#[wasm_bindgen_test]
async fn the_reconnecting_socket() {
    sends_and_closes_alike(&mut ReconnectingWebSocket::connect(url("/echo"))).await;
}

#[wasm_bindgen_test]
async fn the_shared_socket() {
    let mut socket = SharedWebSocket::builder(url("/echo"))
        .name(unique_id("shape"))
        .connect();
    sends_and_closes_alike(&mut socket).await;
}
