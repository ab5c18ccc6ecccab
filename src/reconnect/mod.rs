//! A socket that comes back: [`ReconnectingWebSocket`], after network drops,
//! server restarts and dead connections, with backoff and full jitter
//! ([`ReconnectPolicy`]), a bounded send queue while down, an app-level
//! [`Heartbeat`], lifecycle [`ReconnectEvent`]s, and a fresh [`Target`] (URL,
//! token) asked for before every attempt.
//!
//! The decisions are a pure state machine (tested natively, with an injected
//! clock and random source); this module carries them out in the browser.
//!
//! ```no_run
//! # async fn demo() -> browser_websocket::Result<()> {
//! use futures_util::StreamExt;
//! use browser_websocket::{ReconnectPolicy, ReconnectingWebSocket};
//!
//! let mut socket = ReconnectingWebSocket::builder("/live")
//!     .policy(ReconnectPolicy::default().final_codes([4001]))
//!     .connect();
//! socket.send_text("subscribe")?; // sent now, or queued until connected
//! while let Some(message) = socket.next().await {
//!     println!("{:?}", message?);
//! }
//! # Ok(()) }
//! ```

mod app;
pub(crate) mod builder;
pub(crate) mod driver;
pub(crate) mod handle;

pub use crate::rules::outbox::SendPolicy;
pub use crate::rules::policy::ReconnectPolicy;
pub use crate::rules::reconnect::{CheckReason, ReconnectEvent};
pub use builder::{Heartbeat, ReconnectingBuilder, Target};
pub use handle::{EnsureAlive, ReconnectingHandle};

use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

use crate::reconnect::driver::{Inner, Queueing};
use crate::rules::error::{Error, Result};
use crate::rules::message::Message;

/// A WebSocket that reconnects: after network drops, server restarts (1001,
/// 1012, 1013) and dead connections found by the heartbeat, with exponential
/// backoff and full jitter, never after the app's own close or a code the app
/// marks final. Messages sent while disconnected are queued (bounded) and sent
/// in order on reconnect. A `Stream` of received messages and a `Sink` of
/// messages to send, like [`WebSocket`](crate::WebSocket): the `Sink` waits
/// while the live connection's `bufferedAmount` is above the flow control's high
/// watermark, or, while disconnected, while the queue is full.
///
/// Dropping it (with its halves and handles) closes the current connection
/// (1000) and stops reconnecting.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use std::time::Duration;
/// use futures_util::StreamExt;
/// use browser_websocket::{Heartbeat, ReconnectPolicy, ReconnectingWebSocket, Target};
///
/// let mut socket = ReconnectingWebSocket::builder_with(|| Target::new(format!("/live?token={}", "fresh")))
///     .policy(ReconnectPolicy::default().final_codes([4001]))
///     .heartbeat(Heartbeat::new(Duration::from_secs(20), Duration::from_secs(5), "ping", |m| {
///         m.as_text() == Some("pong")
///     }))
///     .on_event(|event| web_sys::console::log_1(&format!("{event:?}").into()))
///     .connect();
/// socket.send_text("hello")?; // queued until connected
/// while let Some(message) = socket.next().await {
///     println!("{:?}", message?);
/// }
/// # Ok(()) }
/// ```
#[must_use = "dropping it closes the connection and stops reconnecting"]
pub struct ReconnectingWebSocket {
    sender: ReconnectingSender,
    receiver: ReconnectingReceiver,
}

impl ReconnectingWebSocket {
    pub(crate) fn from_inner(inner: Rc<Inner>) -> Self {
        let handle = ReconnectingHandle { inner };
        Self {
            sender: ReconnectingSender {
                handle: handle.clone(),
            },
            receiver: ReconnectingReceiver { handle },
        }
    }

    /// Splits into a sending and a receiving half, for use in different tasks;
    /// both are also [`ReconnectingHandle`]s. Dropping the receiving half makes
    /// the socket discard incoming messages instead of queueing them.
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use futures_util::{SinkExt, StreamExt};
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// let (mut sender, mut receiver) = socket.into_split();
    /// wasm_bindgen_futures::spawn_local(async move {
    ///     let _ = sender.send("hello".into()).await;
    /// });
    /// while let Some(message) = receiver.next().await {
    ///     println!("{:?}", message?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn into_split(self) -> (ReconnectingSender, ReconnectingReceiver) {
        (self.sender, self.receiver)
    }
}

impl Deref for ReconnectingWebSocket {
    type Target = ReconnectingHandle;

    fn deref(&self) -> &ReconnectingHandle {
        &self.sender.handle
    }
}

impl std::fmt::Debug for ReconnectingWebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReconnectingWebSocket")
            .field(&self.sender.handle)
            .finish()
    }
}

impl Stream for ReconnectingWebSocket {
    type Item = Result<Message>;

    /// Messages from every connection, in order; ends once closed for good.
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

/// As the [`ReconnectingSender`]'s.
impl Sink<Message> for ReconnectingWebSocket {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.sender).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<()> {
        Pin::new(&mut self.sender).start_send(message)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.sender).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.sender).poll_close(cx)
    }
}

/// The sending half of a [`ReconnectingWebSocket`]: a `Sink`, and a
/// [`ReconnectingHandle`].
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use futures_util::SinkExt;
/// let (mut sender, _receiver) = browser_websocket::ReconnectingWebSocket::connect("/live").into_split();
/// sender.send("hello".into()).await?;
/// # Ok(()) }
/// ```
#[must_use = "dropping the last part closes the socket for good"]
pub struct ReconnectingSender {
    handle: ReconnectingHandle,
}

/// The receiving half of a [`ReconnectingWebSocket`]: a `Stream`, and a
/// [`ReconnectingHandle`].
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use futures_util::StreamExt;
/// let (_sender, mut receiver) = browser_websocket::ReconnectingWebSocket::connect("/live").into_split();
/// while let Some(message) = receiver.next().await {
///     println!("{:?}", message?);
/// }
/// # Ok(()) }
/// ```
#[must_use = "dropping the last part closes the socket for good"]
pub struct ReconnectingReceiver {
    handle: ReconnectingHandle,
}

impl Deref for ReconnectingSender {
    type Target = ReconnectingHandle;

    fn deref(&self) -> &ReconnectingHandle {
        &self.handle
    }
}

impl Deref for ReconnectingReceiver {
    type Target = ReconnectingHandle;

    fn deref(&self) -> &ReconnectingHandle {
        &self.handle
    }
}

impl std::fmt::Debug for ReconnectingSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReconnectingSender")
            .field(&self.handle)
            .finish()
    }
}

impl std::fmt::Debug for ReconnectingReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReconnectingReceiver")
            .field(&self.handle)
            .finish()
    }
}

impl Drop for ReconnectingReceiver {
    fn drop(&mut self) {
        self.handle.inner.stop_receiving();
    }
}

impl Stream for ReconnectingReceiver {
    type Item = Result<Message>;

    /// Messages from every connection, in order; ends once closed for good.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.handle
            .inner
            .poll_next(cx)
            .map(|item| item.map(|item| item.map(|(_session, message)| message)))
    }
}

impl ReconnectingReceiver {
    /// The same messages, each with the session (the connection, numbered
    /// from 1) it arrived on.
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use futures_util::StreamExt;
    /// let (_sender, mut receiver) = browser_websocket::ReconnectingWebSocket::connect("/live").into_split();
    /// while let Some(item) = receiver.with_sessions().next().await {
    ///     let (session, message) = item?;
    ///     println!("session {session}: {message:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn with_sessions(&mut self) -> WithSessions<'_> {
        WithSessions { receiver: self }
    }
}

impl ReconnectingWebSocket {
    /// The received messages, each with the session (the connection, numbered
    /// from 1) it arrived on, as [`ReconnectingReceiver::with_sessions`].
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use futures_util::StreamExt;
    /// let mut socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// if let Some(item) = socket.with_sessions().next().await {
    ///     let (session, message) = item?;
    ///     println!("session {session}: {message:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn with_sessions(&mut self) -> WithSessions<'_> {
        self.receiver.with_sessions()
    }
}

/// The received messages with their sessions; made by
/// [`ReconnectingReceiver::with_sessions`].
#[must_use = "streams do nothing unless polled"]
pub struct WithSessions<'a> {
    receiver: &'a mut ReconnectingReceiver,
}

impl Stream for WithSessions<'_> {
    type Item = Result<(u64, Message)>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.handle.inner.poll_next(cx)
    }
}

impl std::fmt::Debug for WithSessions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WithSessions").field(&self.receiver).finish()
    }
}

impl Sink<Message> for ReconnectingSender {
    type Error = Error;

    /// Waits while the live connection is above its high watermark or, while
    /// disconnected, while the queue is full.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.handle.inner.poll_send_ready(cx)
    }

    /// Sends on the live connection, or queues (taking the message whole even
    /// if it passes the byte limit: `poll_ready` waited for room).
    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        let policy = self.handle.inner.send_policy;
        self.handle.inner.send(message, Queueing::WhenRoom, policy)
    }

    /// Immediate: a queued message waits for a connection, which may be long.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes for good with 1000 and waits until it is.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        match self.handle.close_normal() {
            Ok(()) | Err(Error::NotOpen { .. }) => {}
            Err(error) => return Poll::Ready(Err(error)),
        }
        self.handle.inner.poll_finished(cx).map(Ok)
    }
}
