//! Verifies that messages go out and come back intact and in order:
//! - the classic string example echoes `"an example message"` (the data, not the event);
//! - the classic binary example (`setFloat32(0, PI)`, `setUint8(4, 127)`) echoes
//!   and decodes to 127 and 3.1415927;
//! - a 1,000-message mixed text/binary burst arrives in order as ArrayBuffers,
//!   and as Blobs read through `read_blobs`;
//! - a Blob can be sent and comes back as bytes;
//! - a 16 MiB message makes the round trip byte for byte;
//! - the Sink and the split halves work from different tasks.

use crate::common::*;
use browser_websocket::{BinaryType, Message, ReadBlobsExt, WebSocket};
use futures_util::{SinkExt, StreamExt};
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn string_example_echoes_the_message_data() {
    let mut socket = connect("/echo").await;
    socket.send_text("an example message").unwrap();
    assert_eq!(
        next_message(&mut socket).await,
        Message::Text("an example message".into())
    );
}

#[wasm_bindgen_test]
async fn binary_example_decodes_to_127_and_pi() {
    let mut socket = connect("/echo").await;
    socket.send_bytes(&pi_and_127()).unwrap();
    let Message::Binary(bytes) = next_message(&mut socket).await else {
        panic!("expected a binary echo");
    };
    assert_eq!(bytes, pi_and_127());
    assert_eq!(describe_pi_and_127(&bytes), "Uint8: 127 Float32: 3.1415927");
}

/// The burst route sends message i as text `"i"` when i is even, else as the four
/// big-endian bytes of i.
fn expected_burst_message(i: u32) -> Message {
    if i % 2 == 0 {
        Message::Text(i.to_string())
    } else {
        Message::Binary(i.to_be_bytes().to_vec())
    }
}

#[wasm_bindgen_test]
async fn mixed_burst_arrives_in_order_as_array_buffers() {
    let mut socket = connect("/burst?n=1000").await;
    for i in 0..1000 {
        assert_eq!(
            next_message(&mut socket).await,
            expected_burst_message(i),
            "message {i}"
        );
    }
    // The server then closes cleanly, which ends the stream.
    assert!(within(10_000, "end of stream", socket.next())
        .await
        .is_none());
}

#[wasm_bindgen_test]
async fn mixed_burst_arrives_in_order_as_blobs() {
    let socket = WebSocket::builder(&url("/burst?n=1000"))
        .binary_type(BinaryType::Blob)
        .connect()
        .await
        .unwrap();
    assert_eq!(socket.binary_type(), BinaryType::Blob);
    let mut messages = socket.read_blobs();
    for i in 0..1000 {
        assert_eq!(
            next_message(&mut messages).await,
            expected_burst_message(i),
            "message {i}"
        );
    }
    assert!(within(10_000, "end of stream", messages.next())
        .await
        .is_none());
}

#[wasm_bindgen_test]
async fn blob_messages_are_blobs_until_read() {
    let mut socket = WebSocket::builder(&url("/echo"))
        .binary_type(BinaryType::Blob)
        .connect()
        .await
        .unwrap();
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(&b"blob bytes"[..]));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    socket.send_blob(&blob).unwrap();
    let Message::Blob(echo) = next_message(&mut socket).await else {
        panic!("expected a Blob");
    };
    assert_eq!(echo.size(), 10.0);
    assert_eq!(
        browser_websocket::read_blob(&echo).await.unwrap(),
        b"blob bytes"
    );
    assert_eq!(
        Message::Blob(echo).into_bytes().await.unwrap(),
        b"blob bytes"
    );
}

#[wasm_bindgen_test]
async fn sixteen_mib_round_trip_is_byte_exact() {
    let mut socket = connect("/echo").await;
    let payload: Vec<u8> = (0..16 << 20).map(|i: u32| (i % 251) as u8).collect();
    socket.send_bytes(&payload).unwrap();
    let echo = within(60_000, "16 MiB echo", socket.next()).await;
    let Some(Ok(Message::Binary(bytes))) = echo else {
        panic!("expected a binary echo, got {echo:?}");
    };
    assert_eq!(bytes.len(), payload.len());
    assert!(bytes == payload, "16 MiB echo differs");
}

#[wasm_bindgen_test]
async fn sink_and_stream_halves_work_in_separate_tasks() {
    let (mut sender, mut receiver) = connect("/echo").await.into_split();
    let (done_tx, done_rx) = futures_channel::oneshot::channel();
    wasm_bindgen_futures::spawn_local(async move {
        let mut outgoing =
            futures_util::stream::iter((0..100).map(|i| Ok(Message::Text(format!("m{i}")))));
        let sent = sender.send_all(&mut outgoing).await;
        let _ = done_tx.send((sent, sender));
    });
    for i in 0..100 {
        assert_eq!(
            next_message(&mut receiver).await,
            Message::Text(format!("m{i}"))
        );
    }
    let (sent, mut sender) = within(10_000, "sender task", done_rx).await.unwrap();
    sent.unwrap();
    // Closing through the Sink completes the handshake and ends the stream.
    within(10_000, "sink close", SinkExt::close(&mut sender))
        .await
        .unwrap();
    assert!(within(10_000, "end of stream", receiver.next())
        .await
        .is_none());
    assert!(receiver.closed().await.was_clean);
}
