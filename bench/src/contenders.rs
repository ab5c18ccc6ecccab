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

    /// Through the Sink, which waits on the watermarks; timed until the
    /// browser's buffer has drained after the last send.
    pub async fn bulk(url: &str, total: u32, chunk: u32) -> Result<f64, String> {
        let mut socket = WebSocket::connect(url).await.map_err(err)?;
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

pub mod gloo {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use gloo_net::websocket::{futures::WebSocket, Message, State};

    fn err(error: impl std::fmt::Display) -> String {
        error.to_string()
    }

    /// gloo-net's `open` returns at once; wait for the open state so that
    /// connecting is not timed, as for the others.
    async fn open(url: &str) -> Result<WebSocket, String> {
        let socket = WebSocket::open(url).map_err(err)?;
        for _ in 0..5000 {
            match socket.state() {
                State::Open => return Ok(socket),
                State::Connecting => sleep(1).await,
                _ => break,
            }
        }
        Err(format!("gloo-net could not connect to {url}"))
    }

    pub async fn echo(url: &str, count: u32, size: u32, text: bool) -> Result<f64, String> {
        let mut socket = open(url).await?;
        let text_payload = "x".repeat(size as usize);
        let binary_payload = vec![0u8; size as usize];
        let start = crate::now();
        for _ in 0..count {
            let message = if text {
                Message::Text(text_payload.clone())
            } else {
                Message::Bytes(binary_payload.clone())
            };
            socket.feed(message).await.map_err(err)?;
        }
        socket.flush().await.map_err(err)?;
        let mut bytes = 0;
        for _ in 0..count {
            match socket.next().await {
                Some(Ok(Message::Text(received))) => bytes += black_box(received).len(),
                Some(Ok(Message::Bytes(received))) => bytes += black_box(received).len(),
                Some(Err(error)) => return Err(err(error)),
                None => return Err("stream ended".to_owned()),
            }
        }
        let elapsed = crate::now() - start;
        let _ = socket.close(Some(1000), None);
        if bytes == (count * size) as usize {
            Ok(elapsed)
        } else {
            Err(format!("received {bytes} bytes"))
        }
    }

    pub async fn flood(url: &str, count: u32) -> Result<f64, String> {
        let mut socket = open(url).await?;
        let start = crate::now();
        socket
            .send(Message::Text("go".to_owned()))
            .await
            .map_err(err)?;
        for _ in 0..count {
            match socket.next().await {
                Some(Ok(Message::Bytes(received))) => {
                    black_box(received);
                }
                Some(Ok(other)) => return Err(format!("expected bytes, got {other:?}")),
                Some(Err(error)) => return Err(err(error)),
                None => return Err("stream ended".to_owned()),
            }
        }
        let elapsed = crate::now() - start;
        let _ = socket.close(Some(1000), None);
        Ok(elapsed)
    }

    /// gloo-net has no flow control (its Sink waits only while connecting) and
    /// no `bufferedAmount` getter: the page reads it off the socket it tracks.
    pub async fn bulk(url: &str, total: u32, chunk: u32) -> Result<f64, String> {
        let mut socket = open(url).await?;
        let mut buffer = vec![0u8; chunk as usize];
        let start = crate::now();
        for sequence in 0..u64::from(total / chunk) {
            bulk_chunk(&mut buffer, sequence);
            socket
                .feed(Message::Bytes(buffer.clone()))
                .await
                .map_err(err)?;
            crate::note_peak();
        }
        socket.flush().await.map_err(err)?;
        let elapsed = crate::drained().await.as_f64().unwrap_or(f64::NAN) - start;
        socket
            .send(Message::Text("done".to_owned()))
            .await
            .map_err(err)?;
        let report = match socket.next().await {
            Some(Ok(Message::Text(report))) => report,
            other => return Err(format!("expected the report, got {other:?}")),
        };
        let _ = socket.close(Some(1000), None);
        check_bulk_report(&report, total, chunk)?;
        Ok(elapsed)
    }
}
