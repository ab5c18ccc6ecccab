//! Acknowledged delivery: a message sent until the server acknowledges it
//! (the protocol's reply to its id), sent again with the same id on each new
//! connection of a reconnecting socket until then, and a handle that shows
//! where it is.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{CoreCell, OnSettle, Outcome, RequestClient, RequestOptions, Waiter};
use crate::js::stored;
use crate::rules::error::Result;
use crate::rules::message::Message;
use crate::rules::requests::{OnDrop, Protocol, RequestError};

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
    id: Option<u64>,
    status: DeliveryStatus<P::Rejection>,
    reply: Option<P::Reply>,
    wakers: Vec<Waker>,
    /// Told of every change (a [`RemoteDelivery`](super::RemoteDelivery)'s
    /// mirror on another thread).
    watchers: Vec<Watcher<P>>,
}

/// Told of an acknowledged message's id, status and reply on each change.
pub(crate) type Watcher<P> = Box<
    dyn FnMut(
        Option<u64>,
        &DeliveryStatus<<P as Protocol>::Rejection>,
        Option<&<P as Protocol>::Reply>,
    ),
>;

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
            self.tell_watchers();
        }
    }

    fn tell_watchers(&mut self) {
        for watcher in &mut self.watchers {
            watcher(self.id, &self.status, self.reply.as_ref());
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
        self.tell_watchers();
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

    /// The message's id (the protocol carries it, and the server
    /// deduplicates by it); `None` if it was never sent (it failed at once).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// let delivery = client.send_acked(browser_websocket::JsonRpcCall::new("chat.post", ["hello"])?);
    /// println!("sent as {:?}", delivery.id());
    /// # Ok(()) }
    /// ```
    pub fn id(&self) -> Option<u64> {
        self.state.borrow().id
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

impl<P: Protocol> Delivery<P> {
    /// Tells `watcher` the state now and on every change.
    pub(crate) fn watch(&self, mut watcher: Watcher<P>) {
        let mut state = self.state.borrow_mut();
        watcher(state.id, &state.status, state.reply.as_ref());
        state.watchers.push(watcher);
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
        crate::backend::drive(cx);
        let mut guard = self.state.borrow_mut();
        let state = &mut *guard;
        poll_acked::<P>(&state.status, state.reply.as_ref(), &mut state.wakers, cx)
    }
}

/// An acknowledged message's outcome once it has one; until then `cx`'s
/// waker is kept in `wakers`, to be woken at the end. What [`Acked`] and a
/// [`RemoteAcked`](super::RemoteAcked) (on another thread) both wait on.
pub(crate) fn poll_acked<P: Protocol>(
    status: &DeliveryStatus<P::Rejection>,
    reply: Option<&P::Reply>,
    wakers: &mut Vec<Waker>,
    cx: &mut Context<'_>,
) -> Poll<Outcome<P>>
where
    P::Reply: Clone,
{
    match status {
        DeliveryStatus::Acked => Poll::Ready(reply.cloned().ok_or(RequestError::Closed)),
        DeliveryStatus::Failed(error) => Poll::Ready(Err(error.clone())),
        DeliveryStatus::Queued | DeliveryStatus::Sent => {
            wakers.push(cx.waker().clone());
            Poll::Pending
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
        let state = new_state(DeliveryStatus::Queued);
        let outbox = self.core.borrow().outbox.clone();
        let options = RequestOptions::new().resend_on_reconnect();
        let on_end = on_end(&state, outbox.clone());
        if let Some((id, message)) = self.start_tracked(request, options, state.clone(), on_end) {
            state.borrow_mut().id = Some(id);
            if let Some(name) = outbox {
                Self::keep(&name, id, message);
            }
        }
        Delivery { state }
    }

    /// The acknowledged messages taken back from the outbox kept in
    /// IndexedDB ([`RequestClientBuilder::outbox`](super::RequestClientBuilder::outbox)),
    /// in the order first sent: resolves once the outbox has been read (at
    /// once, with none, without an outbox). They are sent again as soon as
    /// read, each with its first id.
    ///
    /// # Errors
    ///
    /// [`Error::Js`](crate::Error::Js) if IndexedDB could not be read (not
    /// available in this context, or refused by the browser).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> browser_websocket::Result<()> {
    /// for delivery in client.restored().await? {
    ///     println!("sent again after the reload: {:?}", delivery.status());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn restored(&self) -> Restored<P> {
        Restored {
            core: self.core.clone(),
        }
    }

    /// Writes `message` to the outbox `name` (in the background: the message
    /// is sent meanwhile). In the client's generic code, so that it is
    /// compiled only into apps that send acknowledged messages: a task spawned
    /// from a plain function no app calls still made the minimal app's start
    /// 121 bytes larger.
    fn keep(name: &Rc<str>, id: u64, message: Message) {
        let name = name.clone();
        crate::backend::spawn_local(async move {
            let _ = stored::put(&name, id, &message).await;
        });
    }
}

fn new_state<P: Protocol>(status: DeliveryStatus<P::Rejection>) -> DeliveryCell<P> {
    Rc::new(RefCell::new(DeliveryState {
        id: None,
        status,
        reply: None,
        wakers: Vec::new(),
        watchers: Vec::new(),
    }))
}

/// What an acknowledged message's end does: its status, and the outbox (if
/// any) forgets it unless it is to be sent again by the next page.
fn on_end<P: Protocol>(state: &DeliveryCell<P>, outbox: Option<Rc<str>>) -> OnSettle<P> {
    let state = state.clone();
    Box::new(move |outcome| {
        let id = state.borrow().id;
        forget_if_final(outbox.as_deref(), id, &outcome);
        state.borrow_mut().end(outcome);
    })
}

/// Removes an acknowledged message from the outbox once it will not be sent
/// again: acknowledged, or refused; one that failed with the client's end
/// stays for the next page.
fn forget_if_final<E>(
    outbox: Option<&str>,
    id: Option<u64>,
    outcome: &std::result::Result<impl Sized, RequestError<E>>,
) {
    let (Some(name), Some(id)) = (outbox, id) else {
        return;
    };
    if matches!(
        outcome,
        Err(RequestError::Closed | RequestError::Disconnected)
    ) {
        return;
    }
    let name = name.to_owned();
    crate::backend::spawn_local(async move {
        let _ = stored::delete(&name, id).await;
    });
}

/// The messages taken back from the outbox ([`RequestClient::restored`]).
#[must_use = "futures do nothing unless polled"]
pub struct Restored<P: Protocol> {
    core: CoreCell<P>,
}

impl<P: Protocol> Future for Restored<P> {
    type Output = Result<Vec<Delivery<P>>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::backend::drive(cx);
        let mut core = self.core.borrow_mut();
        if core.outbox.is_none() {
            // Empty, or the error of an outbox refused.
            let refused = core.restored.clone();
            return Poll::Ready(refused.unwrap_or_else(|| Ok(Vec::new())));
        }
        match &core.restored {
            Some(restored) => Poll::Ready(restored.clone()),
            None => {
                core.restored_wakers.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Reads the client's outbox, if it has one, and sends again what it holds.
pub(super) fn start_restoring<P: Protocol>(core: &CoreCell<P>) {
    let Some(name) = core.borrow().outbox.clone() else {
        return;
    };
    // Above every id an earlier page of this origin gave (they started from
    // its own clock).
    core.borrow_mut()
        .in_flight
        .skip_to((js_sys::Date::now() * 1000.0) as u64);
    let weak = Rc::downgrade(core);
    crate::backend::spawn_local(async move {
        let kept = stored::load(&name).await;
        let Some(core) = weak.upgrade() else {
            return;
        };
        let restored = kept.map(|kept| {
            kept.into_iter()
                .map(|kept| restore_one(&core, &name, kept.id, kept.message))
                .collect()
        });
        let wakers = {
            let mut state = core.borrow_mut();
            state.restored = Some(restored);
            std::mem::take(&mut state.restored_wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
    });
}

/// Takes one kept message back into flight under its first id, and sends it
/// (or leaves it to the reconnecting socket's next connection).
fn restore_one<P: Protocol>(
    core: &CoreCell<P>,
    name: &Rc<str>,
    id: u64,
    message: Message,
) -> Delivery<P> {
    let state = new_state(DeliveryStatus::Queued);
    state.borrow_mut().id = Some(id);
    let waiter = Waiter::cell(
        std::time::Duration::MAX,
        Some(on_end(&state, Some(name.clone()))),
        Some(state.clone()),
    );
    waiter.borrow_mut().resend = Some(message.clone());
    let link = {
        let mut core = core.borrow_mut();
        if let Some(ending) = core.ended {
            drop(core);
            // Kept for the next client: it ended before the outbox was read.
            super::settle(&waiter, Err(ending.error()));
            return Delivery { state };
        }
        let sent = core.link.is_connected();
        let bytes = message.len().unwrap_or(0);
        match core
            .in_flight
            .restore(id, OnDrop::Resend, bytes, sent, waiter.clone())
        {
            Ok(()) => {
                state.borrow_mut().set_sent(sent);
                Some(core.link.clone())
            }
            Err(full) => {
                drop(core);
                super::settle(&waiter, Err(full.into()));
                None
            }
        }
    };
    if let Some(link) = link {
        // Sent now if open; a reconnecting socket queues it while down.
        let _ = link.send(&message);
    }
    Delivery { state }
}
