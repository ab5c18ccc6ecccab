//! Reading `Blob` messages, in order: [`read_blob`], [`Message::into_bytes`],
//! and the [`ReadBlobs`] stream adapter.
//!
//! A Blob's bytes are read asynchronously. Reading each Blob as it arrives, in
//! parallel, can reorder messages; [`ReadBlobs`] reads one at a time, in stream
//! order, and takes the next message only when the current Blob is read.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use wasm_bindgen_futures::JsFuture;

use crate::js::exceptions::error_from_js;
use crate::rules::error::{Error, Result};
use crate::rules::message::Message;

/// Reads the bytes of a `Blob` (one copy into wasm memory).
///
/// # Errors
///
/// [`Error::BlobRead`] if the browser cannot read it.
///
/// # Example
///
/// ```no_run
/// # async fn demo(blob: web_sys::Blob) -> browser_websocket::Result<()> {
/// let bytes: Vec<u8> = browser_websocket::read_blob(&blob).await?;
/// # Ok(()) }
/// ```
pub async fn read_blob(blob: &web_sys::Blob) -> Result<Vec<u8>> {
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(blob_error)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

impl Message {
    /// The message's bytes: UTF-8 for text, the bytes of binary messages, and
    /// a Blob's bytes read asynchronously.
    ///
    /// # Errors
    ///
    /// [`Error::BlobRead`] if the browser cannot read a Blob.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::Message;
    /// assert_eq!(Message::from("hi").into_bytes().await?, b"hi");
    /// # Ok(()) }
    /// ```
    pub async fn into_bytes(self) -> Result<Vec<u8>> {
        match self {
            Self::Text(text) => Ok(text.into_bytes()),
            Self::Binary(bytes) => Ok(bytes),
            Self::JsBinary(view) => Ok(view.to_vec()),
            Self::Blob(blob) => read_blob(&blob).await,
        }
    }
}

fn blob_error(thrown: wasm_bindgen::JsValue) -> Error {
    Error::BlobRead {
        message: error_from_js(thrown).to_string(),
    }
}

/// Adds [`read_blobs`](ReadBlobsExt::read_blobs) to streams of messages.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use futures_util::StreamExt;
/// use browser_websocket::{BinaryType, ReadBlobsExt, WebSocket};
///
/// let socket = WebSocket::builder("/burst?n=100").binary_type(BinaryType::Blob).connect().await?;
/// let mut messages = socket.read_blobs();
/// while let Some(message) = messages.next().await {
///     // Blobs arrive here as Message::Binary, in the order they were received.
///     println!("{:?}", message?);
/// }
/// # Ok(()) }
/// ```
pub trait ReadBlobsExt: Stream<Item = Result<Message>> + Sized {
    /// Turns every [`Message::Blob`] into [`Message::Binary`] by reading its bytes,
    /// one at a time, keeping the order of the stream.
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::{BinaryType, ReadBlobsExt, WebSocket};
    /// let socket = WebSocket::builder("/echo").binary_type(BinaryType::Blob).connect().await?;
    /// let messages = socket.read_blobs();
    /// # Ok(()) }
    /// ```
    fn read_blobs(self) -> ReadBlobs<Self> {
        ReadBlobs {
            messages: self,
            reading: None,
        }
    }
}

impl<S: Stream<Item = Result<Message>>> ReadBlobsExt for S {}

/// The stream of [`ReadBlobsExt::read_blobs`].
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use browser_websocket::{ReadBlobs, ReadBlobsExt, WebSocket};
/// let messages: ReadBlobs<WebSocket> = WebSocket::connect("/echo").await?.read_blobs();
/// # Ok(()) }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct ReadBlobs<S> {
    messages: S,
    reading: Option<JsFuture>,
}

impl<S> ReadBlobs<S> {
    /// The underlying stream.
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::{ReadBlobsExt, WebSocket};
    /// let messages = WebSocket::connect("/echo").await?.read_blobs();
    /// messages.get_ref().send_text("hi")?;
    /// # Ok(()) }
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.messages
    }

    /// The underlying stream, mutably.
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use futures_util::SinkExt;
    /// use browser_websocket::{ReadBlobsExt, WebSocket};
    /// let mut messages = WebSocket::connect("/echo").await?.read_blobs();
    /// messages.get_mut().send("hi".into()).await?;
    /// # Ok(()) }
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.messages
    }
}

impl<S: Stream<Item = Result<Message>> + Unpin> Stream for ReadBlobs<S> {
    type Item = Result<Message>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(reading) = self.reading.as_mut() {
                let read = std::task::ready!(Pin::new(reading).poll(cx));
                self.reading = None;
                return Poll::Ready(Some(
                    read.map(|buffer| Message::Binary(js_sys::Uint8Array::new(&buffer).to_vec()))
                        .map_err(blob_error),
                ));
            }
            match std::task::ready!(Pin::new(&mut self.messages).poll_next(cx)) {
                Some(Ok(Message::Blob(blob))) => {
                    self.reading = Some(JsFuture::from(blob.array_buffer()))
                }
                other => return Poll::Ready(other),
            }
        }
    }
}
