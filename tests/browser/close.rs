//! Verifies closing, both ways, and what is refused:
//! - a server close with a code and reason reaches `closed()` and ends the stream
//!   cleanly;
//! - a client close with 4001 "bye" reaches the server with that code and reason;
//! - a reason without a code sends 1000 (never 1005), and `close()` sends 1000;
//! - close codes other than 1000 and 3000-4999, and reasons over 123 bytes, are
//!   typed errors and leave the socket open; 123 bytes is accepted;
//! - sending after close is an error, for every kind of message and the Sink;
//! - a TCP drop with no close frame yields one `ConnectionClosed` (1006) on the
//!   stream, then the end;
//! - after `split`, either half and a cloned handle can close the socket.

use crate::common::*;
use browser_websocket::{CloseCode, CloseEvent, Error, Message, ReadyState};
use futures_util::{SinkExt, StreamExt};
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn server_close_gives_code_reason_and_ends_the_stream() {
    let mut socket = connect("/close?code=4000&reason=server%20says%20bye").await;
    assert!(within(10_000, "end of stream", socket.next())
        .await
        .is_none());
    let event = within(10_000, "closed", socket.closed()).await;
    assert_eq!(
        event,
        CloseEvent {
            code: CloseCode::Private(4000),
            reason: "server says bye".into(),
            was_clean: true
        }
    );
    assert_eq!(socket.ready_state(), ReadyState::Closed);
    assert_eq!(socket.close_event(), Some(event));
}

#[wasm_bindgen_test]
async fn client_close_code_and_reason_reach_the_server() {
    let id = unique_id("client-close");
    let socket = connect(&format!("/echo?id={id}")).await;
    socket.close_with(4001, "bye").unwrap();
    assert_eq!(socket.ready_state(), ReadyState::Closing);
    let event = within(10_000, "closed", socket.closed()).await;
    assert_eq!(
        event,
        CloseEvent {
            code: CloseCode::Private(4001),
            reason: "bye".into(),
            was_clean: true
        }
    );
    assert_eq!(close_seen_by_server(&id).await, "4001 bye");
}

#[wasm_bindgen_test]
async fn reason_without_code_and_plain_close_send_1000() {
    let with_reason = unique_id("reason-only");
    let socket = connect(&format!("/echo?id={with_reason}")).await;
    socket.close_with(CloseCode::Normal, "done").unwrap();
    assert_eq!(close_seen_by_server(&with_reason).await, "1000 done");

    let plain = unique_id("plain-close");
    let socket = connect(&format!("/echo?id={plain}")).await;
    socket.close_normal().unwrap();
    assert_eq!(close_seen_by_server(&plain).await, "1000 ");
}

#[wasm_bindgen_test]
async fn invalid_codes_and_long_reasons_are_refused_and_the_socket_stays_open() {
    let mut socket = connect("/echo").await;
    for code in [0, 999, 1001, 1005, 1006, 1011, 2999, 5000, u16::MAX] {
        assert_eq!(
            socket.close_with(code, ""),
            Err(Error::InvalidCloseCode { code }),
            "{code}"
        );
    }
    let too_long = "x".repeat(124);
    assert_eq!(
        socket.close_with(4000, &too_long),
        Err(Error::ReasonTooLong { bytes: 124 })
    );
    assert_eq!(
        socket.close_with(CloseCode::Normal, &"é".repeat(62)),
        Err(Error::ReasonTooLong { bytes: 124 })
    );
    // Nothing was closed: the socket still echoes.
    assert_eq!(socket.ready_state(), ReadyState::Open);
    socket.send_text("still open").unwrap();
    assert_eq!(
        next_message(&mut socket).await,
        Message::Text("still open".into())
    );
    // 123 bytes is the limit, and is accepted.
    socket.close_with(4999, &"x".repeat(123)).unwrap();
    let event = within(10_000, "closed", socket.closed()).await;
    assert_eq!(event.code, 4999);
    assert_eq!(event.reason.len(), 123);
}

#[wasm_bindgen_test]
async fn send_after_close_is_an_error() {
    let mut socket = connect("/echo").await;
    socket.close_normal().unwrap();
    let closing = Err(Error::NotOpen {
        state: ReadyState::Closing,
    });
    assert_eq!(socket.send_text("late"), closing);
    assert_eq!(socket.send_bytes(b"late"), closing);
    let blob = web_sys::Blob::new().unwrap();
    assert_eq!(socket.send_blob(&blob), closing);
    assert_eq!(socket.close_normal(), closing);
    assert_eq!(socket.send(Message::from("late")).await, closing);
    within(10_000, "closed", socket.closed()).await;
    assert_eq!(
        socket.send_text("later"),
        Err(Error::NotOpen {
            state: ReadyState::Closed
        })
    );
    // Nothing was queued by the browser either.
    assert_eq!(socket.buffered_amount(), 0);
}

#[wasm_bindgen_test]
async fn abrupt_drop_yields_one_abnormal_close_then_ends() {
    let mut socket = connect("/abrupt").await;
    assert_eq!(next_message(&mut socket).await, Message::Text("bye".into()));
    // The server drops the connection when this arrives.
    socket.send_text("drop now").unwrap();
    let expected = CloseEvent {
        code: CloseCode::Abnormal,
        reason: String::new(),
        was_clean: false,
    };
    match within(10_000, "abnormal close", socket.next()).await {
        Some(Err(Error::ConnectionClosed(event))) => assert_eq!(event, expected),
        other => panic!("expected ConnectionClosed, got {other:?}"),
    }
    assert!(socket.next().await.is_none());
    assert!(socket.next().await.is_none());
    assert_eq!(socket.closed().await, expected);
}

#[wasm_bindgen_test]
async fn either_half_or_a_handle_can_close_after_split() {
    for closer in ["sender", "receiver", "handle"] {
        let id = unique_id(closer);
        let socket = connect(&format!("/echo?id={id}")).await;
        let handle = socket.handle();
        let (sender, mut receiver) = socket.into_split();
        match closer {
            "sender" => sender.close_with(4002, closer),
            "receiver" => receiver.close_with(4002, closer),
            _ => handle.close_with(4002, closer),
        }
        .unwrap();
        assert!(
            within(10_000, "end of stream", receiver.next())
                .await
                .is_none(),
            "{closer}"
        );
        assert_eq!(close_seen_by_server(&id).await, format!("4002 {closer}"));
    }
}
