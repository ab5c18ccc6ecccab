//! Verifies what a new user reaches for in the first hour, in the browser:
//! - `?` in a `#[wasm_bindgen]`-style function: our `Error` becomes a JS
//!   `Error` with our message and the variant as `name`;
//! - `Message` from `&String`; JSON messages both ways (feature `json`);
//! - `ByteStream`: `AsyncWrite` sends binary messages, `AsyncRead` reads them
//!   back with boundaries erased, a clean close reads as end of file, and a
//!   text message reads as `InvalidData`;
//! - the browser's own object through `as_web_sys`;
//! - the reconnecting socket has the same shape as `WebSocket`: `into_split`
//!   into a `Sink` and a `Stream` usable in two tasks, cloneable handles,
//!   `close_event`, `buffered_amount`, `send_message(&Message)`;
//! - `close_normal` and `SinkExt::close` do what their names say, with no
//!   inherent method shadowing the futures traits;
//! - the reconnecting socket releases its callbacks (and what they captured)
//!   once closed for good.

use crate::common::*;
use browser_websocket::{CloseCode, Error, Message, ReadyState, ReconnectingWebSocket, WebSocket};
use futures_util::{AsyncReadExt, AsyncWriteExt, SinkExt, StreamExt};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

/// What an app's `#[wasm_bindgen] async fn` looks like with `?`.
async fn app_entry_point(url: String) -> Result<(), JsValue> {
    let socket = WebSocket::connect(&url).await?;
    socket.close_with(1001, "")?;
    Ok(())
}

#[wasm_bindgen_test]
async fn errors_become_js_errors_with_a_name_per_variant() {
    let thrown = app_entry_point(url("/echo")).await.unwrap_err();
    let error: &js_sys::Error = thrown.dyn_ref().expect("a JS Error");
    assert_eq!(String::from(error.name()), "InvalidCloseCode");
    assert_eq!(
        String::from(error.message()),
        Error::InvalidCloseCode { code: 1001 }.to_string()
    );
    let refused = app_entry_point(url("/reject")).await.unwrap_err();
    let refused: &js_sys::Error = refused.dyn_ref().unwrap();
    assert_eq!(String::from(refused.name()), "ConnectionFailed");
}

#[cfg(feature = "json")]
#[wasm_bindgen_test]
async fn json_messages_both_ways() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Chat {
        user: String,
        text: String,
    }
    let mut socket = connect("/echo").await;
    let sent = Chat {
        user: "ferris".into(),
        text: "héllo".into(),
    };
    socket.send_json(&sent).unwrap();
    let echo = next_message(&mut socket).await;
    assert!(echo.is_text());
    assert_eq!(echo.parse_json::<Chat>(), Ok(sent));
    let owned = String::from("{\"user\":1}");
    socket.send_message(&Message::from(&owned)).unwrap();
    let wrong = next_message(&mut socket).await.parse_json::<Chat>();
    assert!(matches!(wrong, Err(Error::Json { .. })), "{wrong:?}");
}

#[wasm_bindgen_test]
async fn byte_stream_reads_and_writes_bytes() {
    let mut bytes = connect("/echo").await.into_byte_stream();
    bytes.write_all(b"hello, ").await.unwrap();
    bytes.write_all(b"world").await.unwrap();
    let mut echo = [0u8; 12];
    within(10_000, "the echo", bytes.read_exact(&mut echo))
        .await
        .unwrap();
    assert_eq!(&echo, b"hello, world");
    let handle = bytes.handle();
    bytes.close().await.unwrap();
    assert_eq!(handle.ready_state(), ReadyState::Closed);
    let mut rest = Vec::new();
    assert_eq!(bytes.read_to_end(&mut rest).await.unwrap(), 0);

    let socket = connect("/echo").await;
    socket.send_text("not bytes").unwrap();
    let mut bytes = socket.into_byte_stream();
    let mut buffer = [0u8; 4];
    let error = within(10_000, "the text", bytes.read(&mut buffer))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
}

#[wasm_bindgen_test]
async fn the_browser_object_is_reachable() {
    let socket = connect("/echo").await;
    let raw = socket.as_web_sys();
    assert_eq!(raw.url(), socket.url());
    assert_eq!(raw.ready_state(), 1);
}

#[wasm_bindgen_test]
async fn close_normal_returns_at_once_and_sink_close_waits() {
    let id = unique_id("close-normal");
    let socket = connect(&format!("/echo?id={id}")).await;
    socket.close_normal().unwrap();
    assert_eq!(socket.ready_state(), ReadyState::Closing);
    assert_eq!(close_seen_by_server(&id).await, "1000 ");

    let (mut sender, _receiver) = connect("/echo").await.into_split();
    let handle = sender.handle();
    within(10_000, "SinkExt::close", sender.close())
        .await
        .unwrap();
    assert_eq!(handle.ready_state(), ReadyState::Closed);
    assert_eq!(
        handle.close_event().map(|event| event.code),
        Some(CloseCode::Normal)
    );
}

#[wasm_bindgen_test]
async fn the_reconnecting_socket_splits_like_a_websocket() {
    let socket = ReconnectingWebSocket::connect(url("/echo"));
    let handle = socket.handle();
    let (mut sender, mut receiver) = socket.into_split();
    wasm_bindgen_futures::spawn_local(async move {
        for index in 0..3 {
            sender
                .send(Message::from(format!("m{index}")))
                .await
                .unwrap();
        }
        // The sender half is dropped here; the receiver and the handle keep
        // the socket.
    });
    for index in 0..3 {
        assert_eq!(
            next_message(&mut receiver).await,
            Message::from(format!("m{index}"))
        );
    }
    assert!(handle.is_connected());
    assert_eq!(handle.buffered_amount(), 0);
    handle.send_message(&Message::from("by handle")).unwrap();
    assert_eq!(
        next_message(&mut receiver).await,
        Message::from("by handle")
    );
    handle.close_with(4000, "done").unwrap();
    assert_eq!(within(10_000, "the end", receiver.next()).await, None);
    assert_eq!(
        handle.close_event().map(|event| (event.code, event.reason)),
        Some((CloseCode::from(4000), "done".to_owned()))
    );
}

/// Set when dropped: shows that a callback was released.
struct DropFlag(std::rc::Rc<std::cell::Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[wasm_bindgen_test]
async fn reconnecting_callbacks_are_released_once_closed_for_good() {
    let released = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = DropFlag(released.clone());
    // 4001 is not a code the default policy reconnects after: closed for good.
    let mut socket = ReconnectingWebSocket::builder(url("/close?code=4001"))
        .on_event(move |_| {
            let _hold = &flag;
        })
        .connect();
    assert_eq!(within(10_000, "the end", socket.next()).await, None);
    // The callback (and whatever it captured, such as a handle on this very
    // socket) is gone while the socket is still held.
    assert!(released.get());
    assert_eq!(
        socket.close_event().map(|event| event.code),
        Some(CloseCode::from(4001))
    );
}

#[cfg(feature = "json")]
#[wasm_bindgen_test]
async fn the_reconnecting_sinks_close_waits_and_its_handle_sends_json() {
    let (mut sender, mut receiver) = ReconnectingWebSocket::connect(url("/echo")).into_split();
    let handle = sender.handle();
    handle
        .send_json(&serde_json::json!({ "subscribe": "prices" }))
        .unwrap();
    let echo = next_message(&mut receiver).await;
    assert_eq!(
        echo.parse_json::<serde_json::Value>(),
        Ok(serde_json::json!({ "subscribe": "prices" }))
    );
    within(10_000, "SinkExt::close", sender.close())
        .await
        .unwrap();
    assert!(!handle.is_connected());
    assert_eq!(
        handle.close_event().map(|event| event.code),
        Some(CloseCode::Normal)
    );
    assert_eq!(within(10_000, "the end", receiver.next()).await, None);
}
