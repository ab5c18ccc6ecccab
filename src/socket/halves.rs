//! The halves of a [`WebSocket`](crate::WebSocket): the [`Sender`] (a `Sink`)
//! and the [`Receiver`] (a `Stream`), each also a [`Handle`].

use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

use crate::js::socket::Outgoing;
use crate::rules::error::{Error, Result};
use crate::rules::message::Message;
use crate::socket::handle::Handle;

/// The sending half of a [`WebSocket`](crate::WebSocket): a `Sink<Message>`, and a [`Handle`].
///
/// `poll_ready` waits while the browser's `bufferedAmount` is above the high
/// watermark, until it is at or below the low one (see
/// [`FlowControl`](crate::FlowControl)); `start_send` hands the message to the
/// browser; `poll_flush` is immediate (waiting for the network there would stall
/// every `SinkExt::send`); `poll_close` (`SinkExt::close`) closes with 1000 and waits for the close
/// to complete.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use futures_util::SinkExt;
/// let (mut sender, _receiver) = browser_websocket::WebSocket::connect("/echo").await?.into_split();
/// sender.send("hello".into()).await?;
/// // Close with 1000 and wait until closed.
/// sender.close().await?;
/// # Ok(()) }
/// ```
#[must_use = "dropping the last half or handle closes the socket"]
pub struct Sender {
    handle: Handle,
    close_started: bool,
}

impl Sender {
    pub(crate) fn new(handle: Handle) -> Self {
        Self {
            handle,
            close_started: false,
        }
    }
}

impl Deref for Sender {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Sender").field(&self.handle).finish()
    }
}

impl Sink<Message> for Sender {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.handle.shared().poll_send_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        self.handle.shared().send(Outgoing::from(&message))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if !self.close_started {
            self.close_started = true;
            match self.handle.close_normal() {
                // Already closing or closed: just wait for the end.
                Ok(()) | Err(Error::NotOpen { .. }) => {}
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
        self.handle.shared().poll_closed(cx).map(|_| Ok(()))
    }
}

/// The receiving half of a [`WebSocket`](crate::WebSocket): a `Stream` of `Result<Message>`, and a
/// [`Handle`].
///
/// Messages arrive in order. A clean close ends the stream; an abnormal close
/// yields one [`Error::ConnectionClosed`] and then ends; the receive limit
/// yields [`Error::ReceiveLimitExceeded`] after every message received before
/// it, then ends (see the table in the crate docs).
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use futures_util::StreamExt;
/// let (_sender, mut receiver) = browser_websocket::WebSocket::connect("/burst?n=10").await?.into_split();
/// while let Some(message) = receiver.next().await {
///     println!("{:?}", message?);
/// }
/// # Ok(()) }
/// ```
#[must_use = "dropping the last half or handle closes the socket"]
pub struct Receiver {
    handle: Handle,
}

impl Receiver {
    pub(crate) fn new(handle: Handle) -> Self {
        Self { handle }
    }
}

impl Deref for Receiver {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Receiver").field(&self.handle).finish()
    }
}

impl Stream for Receiver {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.handle.shared().poll_next_message(cx)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.handle.shared().stop_receiving();
    }
}
