//! [`ReconnectingHandle`]: what every part of a reconnecting socket can do:
//! send (or queue), close for good, read its state. The socket and its halves
//! dereference to it.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::reconnect::driver::{Inner, Queueing};
use crate::rules::close::{checked_close, CloseCode, CloseEvent};
use crate::rules::error::Result;
use crate::rules::message::Message;
use crate::rules::outbox::SendPolicy;

/// A cloneable handle on a [`ReconnectingWebSocket`](crate::ReconnectingWebSocket).
///
/// The reconnecting socket closes for good (and its connection with 1000) when
/// the last of the socket, its halves and its handles is dropped.
///
/// # Example
///
/// ```no_run
/// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
/// let handle = socket.handle();
/// handle.send_text("queued until connected")?;
/// # Ok::<(), browser_websocket::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "dropping the last part closes the socket for good"]
pub struct ReconnectingHandle {
    pub(crate) inner: Rc<Inner>,
}

impl ReconnectingHandle {
    /// An owned clone of this handle.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// let handle = socket.handle();
    /// ```
    pub fn handle(&self) -> ReconnectingHandle {
        self.clone()
    }

    /// Sends now if connected; otherwise as the socket's
    /// [`SendPolicy`] says (by default queued for the next connection).
    ///
    /// # Errors
    ///
    /// [`Error::QueueFull`](crate::Error::QueueFull) when disconnected with a full queue;
    /// [`Error::NotOpen`](crate::Error::NotOpen) once closed for good, or while
    /// disconnected under [`SendPolicy::FailOnDisconnect`].
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live").handle();
    /// socket.send_message(&browser_websocket::Message::from("hi"))?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_message(&self, message: &Message) -> Result<()> {
        self.send_with_default_policy(message.clone())
    }

    /// Sends (or not) as the socket's [`SendPolicy`] says.
    fn send_with_default_policy(&self, message: Message) -> Result<()> {
        self.inner
            .send(message, Queueing::IfItFits, self.inner.send_policy)
    }

    /// Sends now if connected; otherwise as `policy` says.
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    ///
    /// ```no_run
    /// use browser_websocket::{Message, ReconnectingWebSocket, SendPolicy};
    /// let socket = ReconnectingWebSocket::connect("/live");
    /// socket.send_with(&Message::from("ack 17"), SendPolicy::FailOnDisconnect)?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_with(&self, message: &Message, policy: SendPolicy) -> Result<()> {
        self.inner.send(message.clone(), Queueing::IfItFits, policy)
    }

    /// Sends a text message (now, or queued while disconnected).
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live").handle();
    /// socket.send_text("hi")?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.send_with_default_policy(Message::from(text))
    }

    /// Sends a binary message (now, or queued while disconnected).
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live").handle();
    /// socket.send_bytes(&[1, 2, 3])?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.send_with_default_policy(Message::from(bytes))
    }

    /// Closes for good with 1000: no reconnection follows. Returns at once;
    /// the stream ends once closed. (Not `close`: that is `SinkExt::close`,
    /// which also waits.)
    ///
    /// # Errors
    ///
    /// [`Error::Js`](crate::Error::Js) if the browser throws (it should not).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live").handle();
    /// socket.close_normal()?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn close_normal(&self) -> Result<()> {
        self.close_with(CloseCode::Normal, "")
    }

    /// Closes for good with a code and reason, checked as for
    /// [`Handle::close_with`](crate::Handle::close_with).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`](crate::Error::InvalidCloseCode), [`Error::ReasonTooLong`](crate::Error::ReasonTooLong).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live").handle();
    /// socket.close_with(4000, "logging out")?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn close_with(&self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.inner.close(checked_close(code, reason)?, reason)
    }

    /// A `Send + Sync + Clone` handle on this socket, for other threads and
    /// for stores that demand `Send` (see [`SendHandle`](crate::SendHandle)):
    /// its sends are carried out on this thread, in order, and queued while
    /// disconnected as [`send_text`](Self::send_text)'s are.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// let handle = socket.send_handle();
    /// handle.send_text("hello")?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    // Inline, so that only apps that call it compile the task it starts
    // (a task spawned from a plain function grows every app, called or not).
    #[inline]
    pub fn send_handle(&self) -> crate::SendHandle {
        crate::send_handle::start(crate::send_handle::DrivenReconnecting::new(self.clone()))
    }

    /// Ready once an event was reported since `seen` (which it brings up to
    /// date); else the waker is kept until the next one.
    pub(crate) fn poll_event(
        &self,
        cx: &mut std::task::Context<'_>,
        seen: &mut u64,
    ) -> std::task::Poll<()> {
        self.inner.poll_event(cx, seen)
    }

    /// Whether a connection is open now.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live").handle();
    /// assert!(!socket.is_connected()); // not yet
    /// ```
    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// Whether the socket is done: closed by the app, given up, or ended by a
    /// close code its policy treats as final. No connection follows; its
    /// stream ends once read, and sends fail. (The same as
    /// [`SharedWebSocket::is_finished`](crate::tabs::SharedWebSocket::is_finished).)
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// socket.close_normal()?;
    /// assert!(socket.is_finished());
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.inner.is_closed_for_good()
    }

    /// The open connection's session number (1 for the first connection,
    /// then 2, ...), or `None` while disconnected.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// assert_eq!(socket.session(), None); // not yet
    /// ```
    pub fn session(&self) -> Option<u64> {
        self.inner.session()
    }

    /// How many messages their [`SendPolicy`] dropped so far (sent while
    /// disconnected, or queued for a session that ended).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// assert_eq!(socket.discarded(), 0);
    /// ```
    pub fn discarded(&self) -> usize {
        self.inner.discarded()
    }

    /// Resolves, with the session, once the connection has proved itself
    /// alive after this call: a frame arrived in answer to a check (the
    /// heartbeat's ping is sent at once), or a connection opened. A connection
    /// found dead is replaced, and the new one's opening resolves it. Without
    /// a heartbeat, a frame within the [idle timeout](crate::ReconnectingBuilder::idle_timeout)
    /// is the proof; with neither, nothing can prove more than the browser's
    /// word, and an open connection resolves it at once.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`](crate::Error::NotOpen) once closed for good.
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// let session = socket.ensure_alive().await?;
    /// socket.send_text(&format!("important, in session {session}"))?;
    /// # Ok(()) }
    /// ```
    pub fn ensure_alive(&self) -> EnsureAlive {
        EnsureAlive {
            inner: self.inner.clone(),
            seen: None,
        }
    }

    /// How many messages wait for the next connection.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live").handle();
    /// socket.send_text("later")?;
    /// assert_eq!(socket.queued(), 1);
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn queued(&self) -> usize {
        self.inner.queued()
    }

    /// How the last connection or attempt ended, if one has (as
    /// [`Handle::close_event`](crate::Handle::close_event)).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live").handle();
    /// assert_eq!(socket.close_event(), None);
    /// ```
    pub fn close_event(&self) -> Option<CloseEvent> {
        self.inner.last_close()
    }

    /// The live connection's `bufferedAmount`: bytes handed to the browser and
    /// not yet sent. 0 while disconnected (queued messages are counted by
    /// [`queued`](Self::queued)).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live").handle();
    /// assert_eq!(socket.buffered_amount(), 0);
    /// ```
    pub fn buffered_amount(&self) -> u32 {
        self.inner.buffered_amount()
    }

    /// Sends `value` as a JSON text message, now or queued (feature `json`).
    ///
    /// # Errors
    ///
    /// [`Error::Json`](crate::Error::Json) if it cannot be serialized; as
    /// [`send_message`](Self::send_message) otherwise.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// socket.send_json(&serde_json::json!({ "subscribe": "prices" }))?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn send_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.send_with_default_policy(Message::json(value)?)
    }
}

/// The future of [`ReconnectingHandle::ensure_alive`].
#[must_use = "futures do nothing unless polled"]
pub struct EnsureAlive {
    inner: Rc<Inner>,
    /// Proofs of life counted when first polled: the next one answers.
    seen: Option<u64>,
}

impl Future for EnsureAlive {
    type Output = Result<u64>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<u64>> {
        let seen = match self.seen {
            Some(seen) => seen,
            None => {
                let seen = self.inner.proofs();
                self.seen = Some(seen);
                self.inner.request_check();
                seen
            }
        };
        self.inner.poll_alive(seen, cx)
    }
}

impl std::fmt::Debug for EnsureAlive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnsureAlive").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ReconnectingHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectingHandle")
            .field("connected", &self.is_connected())
            .field("session", &self.session())
            .field("queued", &self.queued())
            .finish()
    }
}
