//! [`ReconnectingWebSocket`]: a socket that comes back after network drops and
//! server restarts, with backoff, a send queue while down, and a heartbeat.
//! `builder` configures it; `driver` carries out the decisions of the pure
//! machine in [`rules::reconnect`](crate::rules::reconnect).

pub(crate) mod builder;
pub(crate) mod driver;

use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

use crate::reconnect::driver::{Inner, Queueing};
use crate::rules::close::{check_close_reason, CloseCode, CloseEvent};
use crate::rules::error::{Error, Result};
use crate::rules::message::Message;

/// A WebSocket that reconnects: after network drops, server restarts (1001,
/// 1012, 1013) and dead connections found by the heartbeat, with exponential
/// backoff and full jitter, never after the app's own `close()` or a code the app
/// marks final. Messages sent while disconnected are queued (bounded) and sent
/// in order on reconnect. A `Stream` of received messages and a `Sink` of
/// messages to send, like [`WebSocket`](crate::WebSocket): the `Sink` waits
/// while the live connection's `bufferedAmount` is above the flow control's high
/// watermark, or, while disconnected, while the queue is full.
///
/// Dropping it closes the current connection (1000) and stops reconnecting.
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
///     .start();
/// socket.send_text("hello")?; // queued until connected
/// while let Some(message) = socket.next().await {
///     println!("{:?}", message?);
/// }
/// # Ok(()) }
/// ```
#[must_use = "dropping it closes the connection and stops reconnecting"]
pub struct ReconnectingWebSocket {
    inner: Rc<Inner>,
}

impl ReconnectingWebSocket {
    pub(crate) fn from_inner(inner: Rc<Inner>) -> Self {
        Self { inner }
    }

    /// Sends now if connected, else queues it for the next connection.
    ///
    /// # Errors
    ///
    /// [`Error::QueueFull`] when disconnected with a full queue;
    /// [`Error::NotOpen`] once closed for good.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// socket.send_message(browser_websocket::Message::from("hi"))?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_message(&self, message: Message) -> Result<()> {
        self.inner.send(message, Queueing::IfItFits)
    }

    /// Sends a text message (now, or queued while disconnected).
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// socket.send_text("hi")?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.send_message(Message::Text(text.to_owned()))
    }

    /// Sends a binary message (now, or queued while disconnected).
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// socket.send_bytes(&[1, 2, 3])?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.send_message(Message::Binary(bytes.to_vec()))
    }

    /// Closes for good with 1000: no reconnection follows.
    ///
    /// # Errors
    ///
    /// None today; kept a `Result` like [`Handle::close`](crate::Handle::close).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// socket.close()?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn close(&self) -> Result<()> {
        self.close_with(CloseCode::Normal, "")
    }

    /// Closes for good with a code and reason, checked as for
    /// [`Handle::close_with`](crate::Handle::close_with).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`], [`Error::ReasonTooLong`].
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// socket.close_with(4000, "logging out")?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn close_with(&self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        let code = code.into();
        code.check_sendable()?;
        check_close_reason(reason)?;
        self.inner.close(code, reason)
    }

    /// Whether a connection is open now.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// assert!(!socket.is_connected()); // not yet
    /// ```
    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// How many messages wait for the next connection.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// socket.send_text("later")?;
    /// assert_eq!(socket.queued(), 1);
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn queued(&self) -> usize {
        self.inner.queued()
    }

    /// How the last connection or attempt ended, if one has.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// assert_eq!(socket.last_close(), None);
    /// ```
    pub fn last_close(&self) -> Option<CloseEvent> {
        self.inner.last_close()
    }

    /// The live connection's `bufferedAmount`: bytes handed to the browser and
    /// not yet sent. 0 while disconnected (queued messages are counted by
    /// [`queued`](Self::queued)).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// assert_eq!(socket.buffered_amount(), 0);
    /// ```
    pub fn buffered_amount(&self) -> u32 {
        self.inner.buffered_amount()
    }
}

impl Drop for ReconnectingWebSocket {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl std::fmt::Debug for ReconnectingWebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectingWebSocket")
            .field("connected", &self.is_connected())
            .field("queued", &self.queued())
            .finish()
    }
}

impl Stream for ReconnectingWebSocket {
    type Item = Result<Message>;

    /// Messages from every connection, in order; ends once closed for good.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next(cx)
    }
}

impl Sink<Message> for ReconnectingWebSocket {
    type Error = Error;

    /// Waits while the live connection is above its high watermark or, while
    /// disconnected, while the queue is full.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.poll_send_ready(cx)
    }

    /// Sends on the live connection, or queues (taking the message whole even
    /// if it passes the byte limit: `poll_ready` waited for room).
    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        self.inner.send(message, Queueing::WhenRoom)
    }

    /// Immediate: a queued message waits for a connection, which may be long.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes for good with 1000 and waits until it is.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        match self.close() {
            Ok(()) | Err(Error::NotOpen { .. }) => {}
            Err(error) => return Poll::Ready(Err(error)),
        }
        self.inner.poll_finished(cx).map(Ok)
    }
}
