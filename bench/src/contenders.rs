//! The scenarios written with this crate and with gloo-net 0.7, each the way a
//! user of that crate would write it.

use std::hint::black_box;

/// Sleeps `ms` on a page or in a worker.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        if let Ok(set_timeout) = js_sys::Reflect::get(&global, &"setTimeout".into()) {
            if let Ok(set_timeout) = set_timeout.dyn_into::<js_sys::Function>() {
                let _ = set_timeout.call2(&global, &resolve, &ms.into());
            }
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

use wasm_bindgen::JsCast;

/// The slow reader's message `sequence`.
fn bulk_chunk(buffer: &mut [u8], sequence: u64) {
    buffer[..8].copy_from_slice(&sequence.to_be_bytes());
    buffer[8..].fill((sequence % 251) as u8);
}

fn check_bulk_report(report: &str, total: u32, chunk: u32) -> Result<(), String> {
    let expected = format!("messages={} bytes={total} in_order=true", total / chunk);
    if report == expected {
        Ok(())
    } else {
        Err(format!(
            "slow reader reported {report:?}, expected {expected:?}"
        ))
    }
}

pub mod this_crate {
    use super::*;
    use browser_websocket::{Message, WebSocket};
    use futures_util::{SinkExt, StreamExt};

    fn err(error: browser_websocket::Error) -> String {
        error.to_string()
    }

    pub async fn echo(url: &str, count: u32, size: u32, text: bool) -> Result<f64, String> {
        let mut socket = WebSocket::connect(url).await.map_err(err)?;
        let text_payload = "x".repeat(size as usize);
        let binary_payload = vec![0u8; size as usize];
        let start = crate::now();
        for _ in 0..count {
            if text {
                socket.send_text(&text_payload).map_err(err)?;
            } else {
                socket.send_bytes(&binary_payload).map_err(err)?;
            }
        }
        let mut bytes = 0;
        for _ in 0..count {
            match socket.next().await {
                Some(Ok(Message::Text(received))) => bytes += black_box(received).len(),
                Some(Ok(Message::Binary(received))) => bytes += black_box(received).len(),
                other => return Err(format!("expected an echo, got {other:?}")),
            }
        }
        let elapsed = crate::now() - start;
        let _ = socket.close_normal();
        if bytes == (count * size) as usize {
            Ok(elapsed)
        } else {
            Err(format!("received {bytes} bytes"))
        }
    }

    pub async fn flood(url: &str, count: u32) -> Result<f64, String> {
        let mut socket = WebSocket::connect(url).await.map_err(err)?;
        let start = crate::now();
        socket.send_text("go").map_err(err)?;
        for _ in 0..count {
            match socket.next().await {
                Some(Ok(Message::Binary(received))) => {
                    black_box(received);
                }
                other => return Err(format!("expected a flood message, got {other:?}")),
            }
        }
        let elapsed = crate::now() - start;
        let _ = socket.close_normal();
        Ok(elapsed)
    }

    /// `flood` through the callbacks API: the handler runs inside each
    /// message event, with no task to wake.
    pub async fn flood_with_callbacks(url: &str, count: u32) -> Result<f64, String> {
        use std::cell::Cell;
        use std::rc::Rc;
        let (done, finished) = futures_channel::oneshot::channel::<f64>();
        let done = Rc::new(Cell::new(Some(done)));
        let start = Rc::new(Cell::new(0.0));
        let received = Rc::new(Cell::new(0u32));
        let opened = Rc::clone(&start);
        let socket = WebSocket::builder(url)
            .open_with_callbacks(
                browser_websocket::Callbacks::new()
                    .on_open(move |socket| {
                        opened.set(crate::now());
                        let _ = socket.send_text("go");
                    })
                    .on_message(move |_, message| {
                        black_box(message);
                        received.set(received.get() + 1);
                        if received.get() == count {
                            if let Some(done) = done.take() {
                                let _ = done.send(crate::now() - start.get());
                            }
                        }
                    }),
            )
            .map_err(err)?;
        let elapsed = finished.await.map_err(|_| "closed early".to_owned())?;
        let _ = socket.close_normal();
        Ok(elapsed)
    }

    /// Sends `payload` `count` times and parses each echo with `parse_json`;
    /// returns the time and the items parsed.
    pub async fn json_echo(url: &str, count: u32, payload: &str) -> Result<(f64, usize), String> {
        let mut socket = WebSocket::connect(url).await.map_err(err)?;
        let start = crate::now();
        for _ in 0..count {
            socket.send_text(payload).map_err(err)?;
        }
        let mut items = 0;
        for _ in 0..count {
            match socket.next().await {
                Some(Ok(message)) => {
                    let batch: crate::json::Batch = message.parse_json().map_err(err)?;
                    items += black_box(batch).items.len();
                }
                other => return Err(format!("expected an echo, got {other:?}")),
            }
        }
        let elapsed = crate::now() - start;
        let _ = socket.close_normal();
        Ok((elapsed, items))
    }

    /// `bulk` through the reconnecting socket's Sink, which waits on the live
    /// connection's watermarks the same way.
    pub async fn bulk_reconnecting(url: &str, total: u32, chunk: u32) -> Result<f64, String> {
        let socket = browser_websocket::ReconnectingWebSocket::builder(url).connect();
        for _ in 0..5000 {
            if socket.is_connected() {
                break;
            }
            sleep(1).await;
        }
        bulk_through(socket, total, chunk).await
    }

    /// Through the Sink, which waits on the watermarks; timed until the
    /// browser's buffer has drained after the last send.
    pub async fn bulk(url: &str, total: u32, chunk: u32) -> Result<f64, String> {
        bulk_through(WebSocket::connect(url).await.map_err(err)?, total, chunk).await
    }

    async fn bulk_through<S>(mut socket: S, total: u32, chunk: u32) -> Result<f64, String>
    where
        S: futures_util::Sink<Message, Error = browser_websocket::Error>
            + futures_util::Stream<Item = browser_websocket::Result<Message>>
            + browser_websocket::Socket
            + Unpin,
    {
        let mut buffer = vec![0u8; chunk as usize];
        let start = crate::now();
        for sequence in 0..u64::from(total / chunk) {
            bulk_chunk(&mut buffer, sequence);
            socket
                .feed(Message::Binary(buffer.clone()))
                .await
                .map_err(err)?;
            crate::note_peak();
        }
        socket.flush().await.map_err(err)?;
        let elapsed = crate::drained().await.as_f64().unwrap_or(f64::NAN) - start;
        socket.send_text("done").map_err(err)?;
        let report = match socket.next().await {
            Some(Ok(Message::Text(report))) => report,
            other => return Err(format!("expected the report, got {other:?}")),
        };
        let _ = socket.close_normal();
        check_bulk_report(&report, total, chunk)?;
        Ok(elapsed)
    }
}

/// The other crates, each the way its users would write the scenarios: a
/// `Stream` and `Sink` of its own message type, which is all the scenarios
/// need, so one generic body runs them all.
pub mod peers {
    use super::*;
    use futures_util::{Sink, SinkExt, Stream, StreamExt};

    /// What a scenario needs of a crate: open, wrap a message, tell what
    /// arrived, close.
    pub trait Peer {
        type Socket: Stream + Sink<Self::Message> + Unpin;
        type Message;
        async fn open(url: &str) -> Result<Self::Socket, String>;
        fn text(text: String) -> Self::Message;
        fn binary(bytes: Vec<u8>) -> Self::Message;
        /// A text message's text, or a binary message's length, or what went
        /// wrong.
        fn received(item: <Self::Socket as Stream>::Item) -> Result<Received, String>;
        fn close(socket: Self::Socket);
    }

    pub enum Received {
        Text(String),
        Binary(usize),
    }

    impl Received {
        fn len(&self) -> usize {
            match self {
                Self::Text(text) => text.len(),
                Self::Binary(len) => *len,
            }
        }
    }

    fn err(error: impl std::fmt::Debug) -> String {
        format!("{error:?}")
    }

    async fn next<P: Peer>(socket: &mut P::Socket) -> Result<Received, String> {
        match socket.next().await {
            Some(item) => P::received(item),
            None => Err("stream ended".to_owned()),
        }
    }

    pub async fn echo<P: Peer>(url: &str, count: u32, size: u32, text: bool) -> Result<f64, String>
    where
        <P::Socket as Sink<P::Message>>::Error: std::fmt::Debug,
    {
        let mut socket = P::open(url).await?;
        let text_payload = "x".repeat(size as usize);
        let binary_payload = vec![0u8; size as usize];
        let start = crate::now();
        for _ in 0..count {
            let message = if text {
                P::text(text_payload.clone())
            } else {
                P::binary(binary_payload.clone())
            };
            socket.feed(message).await.map_err(err)?;
        }
        socket.flush().await.map_err(err)?;
        let mut bytes = 0;
        for _ in 0..count {
            bytes += black_box(next::<P>(&mut socket).await?).len();
        }
        let elapsed = crate::now() - start;
        P::close(socket);
        if bytes == (count * size) as usize {
            Ok(elapsed)
        } else {
            Err(format!("received {bytes} bytes"))
        }
    }

    pub async fn flood<P: Peer>(url: &str, count: u32) -> Result<f64, String>
    where
        <P::Socket as Sink<P::Message>>::Error: std::fmt::Debug,
    {
        let mut socket = P::open(url).await?;
        let start = crate::now();
        socket.send(P::text("go".to_owned())).await.map_err(err)?;
        for _ in 0..count {
            match next::<P>(&mut socket).await? {
                Received::Binary(len) => {
                    black_box(len);
                }
                Received::Text(text) => return Err(format!("expected bytes, got {text:?}")),
            }
        }
        let elapsed = crate::now() - start;
        P::close(socket);
        Ok(elapsed)
    }

    /// Through the crate's Sink (gloo-net's and ws_stream_wasm's wait only
    /// while connecting; websocket-web's while `bufferedAmount` is above its
    /// 4 MiB send buffer); timed until the browser's buffer has drained. The
    /// page reads `bufferedAmount` off the socket it tracks.
    pub async fn bulk<P: Peer>(url: &str, total: u32, chunk: u32) -> Result<f64, String>
    where
        <P::Socket as Sink<P::Message>>::Error: std::fmt::Debug,
    {
        let mut socket = P::open(url).await?;
        let mut buffer = vec![0u8; chunk as usize];
        let start = crate::now();
        for sequence in 0..u64::from(total / chunk) {
            bulk_chunk(&mut buffer, sequence);
            socket.feed(P::binary(buffer.clone())).await.map_err(err)?;
            crate::note_peak();
        }
        socket.flush().await.map_err(err)?;
        let elapsed = crate::drained().await.as_f64().unwrap_or(f64::NAN) - start;
        socket.send(P::text("done".to_owned())).await.map_err(err)?;
        let report = match next::<P>(&mut socket).await? {
            Received::Text(report) => report,
            Received::Binary(len) => return Err(format!("expected the report, got {len} bytes")),
        };
        P::close(socket);
        check_bulk_report(&report, total, chunk)?;
        Ok(elapsed)
    }

    /// Sends `payload` `count` times and parses each echo with serde_json, as
    /// users of these crates do; returns the time and the items parsed.
    pub async fn json_echo<P: Peer>(
        url: &str,
        count: u32,
        payload: &str,
    ) -> Result<(f64, usize), String>
    where
        <P::Socket as Sink<P::Message>>::Error: std::fmt::Debug,
    {
        let mut socket = P::open(url).await?;
        let start = crate::now();
        for _ in 0..count {
            socket
                .feed(P::text(payload.to_owned()))
                .await
                .map_err(err)?;
        }
        socket.flush().await.map_err(err)?;
        let mut items = 0;
        for _ in 0..count {
            let Received::Text(text) = next::<P>(&mut socket).await? else {
                return Err("expected a text echo".to_owned());
            };
            let batch: crate::json::Batch = serde_json::from_str(&text).map_err(err)?;
            items += black_box(batch).items.len();
        }
        let elapsed = crate::now() - start;
        P::close(socket);
        Ok((elapsed, items))
    }

    /// gloo-net 0.7.
    pub struct Gloo;

    impl Peer for Gloo {
        type Socket = gloo_net::websocket::futures::WebSocket;
        type Message = gloo_net::websocket::Message;

        /// gloo-net's `open` returns at once; wait for the open state so that
        /// connecting is not timed, as for the others.
        async fn open(url: &str) -> Result<Self::Socket, String> {
            use gloo_net::websocket::State;
            let socket = Self::Socket::open(url).map_err(err)?;
            for _ in 0..5000 {
                match socket.state() {
                    State::Open => return Ok(socket),
                    State::Connecting => sleep(1).await,
                    _ => break,
                }
            }
            Err(format!("gloo-net could not connect to {url}"))
        }

        fn text(text: String) -> Self::Message {
            Self::Message::Text(text)
        }

        fn binary(bytes: Vec<u8>) -> Self::Message {
            Self::Message::Bytes(bytes)
        }

        fn received(item: <Self::Socket as Stream>::Item) -> Result<Received, String> {
            match item.map_err(err)? {
                Self::Message::Text(text) => Ok(Received::Text(text)),
                Self::Message::Bytes(bytes) => Ok(Received::Binary(black_box(bytes).len())),
            }
        }

        fn close(socket: Self::Socket) {
            let _ = socket.close(Some(1000), None);
        }
    }

    /// ws_stream_wasm 0.7.
    pub struct WsStreamWasm;

    impl Peer for WsStreamWasm {
        type Socket = ws_stream_wasm::WsStream;
        type Message = ws_stream_wasm::WsMessage;

        async fn open(url: &str) -> Result<Self::Socket, String> {
            let (_meta, stream) = ws_stream_wasm::WsMeta::connect(url, None)
                .await
                .map_err(err)?;
            Ok(stream)
        }

        fn text(text: String) -> Self::Message {
            Self::Message::Text(text)
        }

        fn binary(bytes: Vec<u8>) -> Self::Message {
            Self::Message::Binary(bytes)
        }

        fn received(item: <Self::Socket as Stream>::Item) -> Result<Received, String> {
            match item {
                Self::Message::Text(text) => Ok(Received::Text(text)),
                Self::Message::Binary(bytes) => Ok(Received::Binary(black_box(bytes).len())),
            }
        }

        fn close(socket: Self::Socket) {
            // Dropping the stream closes the connection.
            drop(socket);
        }
    }

    /// websocket-web 0.1 (WebSocketStream where the engine has it).
    pub struct WebsocketWeb;

    impl Peer for WebsocketWeb {
        type Socket = websocket_web::WebSocket;
        type Message = websocket_web::Msg;

        async fn open(url: &str) -> Result<Self::Socket, String> {
            websocket_web::WebSocket::connect(url).await.map_err(err)
        }

        fn text(text: String) -> Self::Message {
            Self::Message::Text(text)
        }

        fn binary(bytes: Vec<u8>) -> Self::Message {
            Self::Message::Binary(bytes)
        }

        fn received(item: <Self::Socket as Stream>::Item) -> Result<Received, String> {
            match item.map_err(err)? {
                Self::Message::Text(text) => Ok(Received::Text(text)),
                Self::Message::Binary(bytes) => Ok(Received::Binary(black_box(bytes).len())),
            }
        }

        fn close(socket: Self::Socket) {
            socket.close();
        }
    }
}
