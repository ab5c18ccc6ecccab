//! Acknowledged delivery: a message sent until the server acknowledges it
//! (the protocol's reply to its id), sent again with the same id on each new
//! connection of a reconnecting socket until then, and a handle that shows
//! where it is.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{Outcome, RequestClient, RequestOptions};
use crate::rules::requests::{Protocol, RequestError};

/// Where an acknowledged message is ([`Delivery::status`]).
#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryStatus<E> {
    /// Waiting for a connection: made while the reconnecting socket was down,
    /// or sent on a connection that dropped before the acknowledgement (it
    /// goes out again, with the same id, on the next one).
    Queued,
    /// Handed to the browser on a live connection; not acknowledged yet.
    Sent,
    /// The server acknowledged it.
    Acked,
    /// It will not be sent again: the server refused it, the client closed or
    /// gave up, or it could not be sent at all.
    Failed(RequestError<E>),
}

/// One acknowledged message's state, shared by its [`Delivery`] handles and
/// the request layer.
pub(crate) struct DeliveryState<P: Protocol> {
    status: DeliveryStatus<P::Rejection>,
    reply: Option<P::Reply>,
    wakers: Vec<Waker>,
}

pub(crate) type DeliveryCell<P> = Rc<RefCell<DeliveryState<P>>>;

impl<P: Protocol> DeliveryState<P> {
    /// Queued or sent, as the request layer finds it; an ended delivery
    /// stays ended.
    pub(crate) fn set_sent(&mut self, sent: bool) {
        if matches!(self.status, DeliveryStatus::Queued | DeliveryStatus::Sent) {
            self.status = if sent {
                DeliveryStatus::Sent
            } else {
                DeliveryStatus::Queued
            };
        }
    }

    fn end(&mut self, outcome: Outcome<P>) {
        match outcome {
            Ok(reply) => {
                self.status = DeliveryStatus::Acked;
                self.reply = Some(reply);
            }
            Err(error) => self.status = DeliveryStatus::Failed(error),
        }
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
    }
}

/// An acknowledged message ([`RequestClient::send_acked`]): its status, and
/// a future of its acknowledgement. Cheap to clone; dropping every handle
/// does not stop the delivery.
pub struct Delivery<P: Protocol> {
    state: DeliveryCell<P>,
}

impl<P: Protocol> Clone for Delivery<P> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
        }
    }
}

impl<P: Protocol> Delivery<P> {
    /// Where the message is now.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// use browser_websocket::{DeliveryStatus, JsonRpcCall};
    /// let delivery = client.send_acked(JsonRpcCall::new("chat.post", ["hello"])?);
    /// if delivery.status() == DeliveryStatus::Queued {
    ///     println!("offline: it goes out when the connection is back");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn status(&self) -> DeliveryStatus<P::Rejection> {
        self.state.borrow().status.clone()
    }

    /// Resolves when the message is acknowledged (with the server's reply)
    /// or has failed (with why).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// let delivery = client.send_acked(browser_websocket::JsonRpcCall::new("chat.post", ["hello"])?);
    /// let ack = delivery.acked().await?;
    /// # Ok(()) }
    /// ```
    pub fn acked(&self) -> Acked<P> {
        Acked {
            state: self.state.clone(),
        }
    }
}

impl<P: Protocol> std::fmt::Debug for Delivery<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = match self.state.borrow().status {
            DeliveryStatus::Queued => "Queued",
            DeliveryStatus::Sent => "Sent",
            DeliveryStatus::Acked => "Acked",
            DeliveryStatus::Failed(_) => "Failed",
        };
        f.debug_struct("Delivery")
            .field("status", &status)
            .finish_non_exhaustive()
    }
}

/// The acknowledgement of a [`Delivery`]: the server's reply, or why it
/// failed. Dropping it stops nothing.
#[must_use = "futures do nothing unless polled"]
pub struct Acked<P: Protocol> {
    state: DeliveryCell<P>,
}

impl<P: Protocol> Future for Acked<P>
where
    P::Reply: Clone,
{
    type Output = Outcome<P>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.state.borrow_mut();
        match &state.status {
            DeliveryStatus::Acked => match state.reply.clone() {
                Some(reply) => Poll::Ready(Ok(reply)),
                None => Poll::Ready(Err(RequestError::Closed)),
            },
            DeliveryStatus::Failed(error) => Poll::Ready(Err(error.clone())),
            DeliveryStatus::Queued | DeliveryStatus::Sent => {
                state.wakers.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<P: Protocol> RequestClient<P> {
    /// Sends `request` for at-least-once delivery: its reply is the server's
    /// acknowledgement. Sent now if the socket is open; on a reconnecting
    /// socket, queued while down, and sent again with the same id on each new
    /// connection (in the order first sent, before the queue) until
    /// acknowledged, so the server must deduplicate by id. No timeout: it
    /// fails only when the server refuses it, the client closes or gives up,
    /// or past the bounds on what is in flight (count and bytes, as for
    /// requests). On a plain socket a drop fails it with
    /// [`RequestError::Disconnected`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// use browser_websocket::{DeliveryStatus, JsonRpcCall};
    /// let delivery = client.send_acked(JsonRpcCall::new("chat.post", ["hello"])?);
    /// delivery.acked().await?;
    /// assert_eq!(delivery.status(), DeliveryStatus::Acked);
    /// # Ok(()) }
    /// ```
    pub fn send_acked(&self, request: P::Request) -> Delivery<P> {
        let state = Rc::new(RefCell::new(DeliveryState {
            status: DeliveryStatus::Queued,
            reply: None,
            wakers: Vec::new(),
        }));
        let ended = state.clone();
        let options = RequestOptions::new().resend_on_reconnect();
        self.start_tracked(
            request,
            options,
            state.clone(),
            Box::new(move |outcome| ended.borrow_mut().end(outcome)),
        );
        Delivery { state }
    }
}
