//! The request layer from any thread: [`RequestHandle`], `Send + Sync +
//! Clone` where the protocol's requests, replies and rejections are `Send`.
//! Requests cross to the client's thread over a channel; a task there makes
//! each one and sends its outcome back over a one-shot channel, whose
//! receiver is the `Send` future the caller awaits.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_channel::mpsc::{self, unbounded, UnboundedReceiver, UnboundedSender};
use futures_channel::oneshot;
use futures_core::Stream;

use super::delivery::poll_acked;
use super::subscriptions::{Event, Subscription};
use super::{DeliveryStatus, Outcome, Pending, RequestClient, RequestOptions};
use crate::rules::requests::{Protocol, RequestError, Subscriptions};

/// Starts something on the client's thread, given the client.
type OnClient<P> = Box<dyn FnOnce(&RequestClient<P>) + Send>;

/// What a handle hands to the client's thread.
enum Job<P: Protocol> {
    Request {
        request: P::Request,
        options: RequestOptions,
        reply: oneshot::Sender<Outcome<P>>,
    },
    /// Something started on the client's thread (a subscription, an
    /// acknowledged message), by code that knows its bounds.
    OnClient(OnClient<P>),
}

/// A `Send + Sync + Clone` handle on a [`RequestClient`], for other threads
/// and for stores that demand `Send + Sync` (Leptos's `StoredValue`):
/// requests made through it are made by the client on its own thread, in the
/// order given, and each gives a `Send` future of its reply. It is `Send +
/// Sync` when the protocol's `Request`, `Reply` and `Rejection` are `Send`
/// (the built-in JSON-RPC's and GraphQL's are).
///
/// Each handle keeps the client alive, as a clone of it does. Once the
/// client's socket is closed, requests fail with [`RequestError::Closed`] as
/// the client's own do.
///
/// # Example
///
/// ```no_run
/// # #[cfg(feature = "json")]
/// # async fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
/// use browser_websocket::{JsonRpcCall, RequestHandle, JsonRpc};
/// let handle: RequestHandle<JsonRpc> = client.send_handle();
/// // Anywhere (another thread, a Send + Sync store), awaited anywhere:
/// let sum = handle.request(JsonRpcCall::new("sum", [1, 2])?).await?;
/// # Ok(()) }
/// ```
pub struct RequestHandle<P: Protocol> {
    jobs: UnboundedSender<Job<P>>,
}

impl<P: Protocol> Clone for RequestHandle<P> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
        }
    }
}

impl<P: Protocol> std::fmt::Debug for RequestHandle<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHandle").finish_non_exhaustive()
    }
}

impl<P: Protocol> RequestHandle<P> {
    /// Makes `request` on the client's thread with the client's timeout; the
    /// future of its reply. See [`RequestClient`] for each way it can fail.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(handle: browser_websocket::RequestHandle<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// let sum = handle.request(browser_websocket::JsonRpcCall::new("sum", [1, 2])?).await?;
    /// # Ok(()) }
    /// ```
    pub fn request(&self, request: P::Request) -> RemoteReply<P> {
        self.request_with(request, RequestOptions::new())
    }

    /// As [`request`](Self::request), with [`RequestOptions`].
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(handle: browser_websocket::RequestHandle<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// use browser_websocket::{JsonRpcCall, RequestOptions};
    /// let call = JsonRpcCall::new("user.get", [7])?;
    /// let user = handle.request_with(call, RequestOptions::new().resend_on_reconnect()).await?;
    /// # Ok(()) }
    /// ```
    pub fn request_with(&self, request: P::Request, options: RequestOptions) -> RemoteReply<P> {
        let (reply, outcome) = oneshot::channel();
        let job = Job::Request {
            request,
            options,
            reply,
        };
        // If the client's thread is gone, the job (and its sender) is
        // dropped, and the future says `Closed`.
        let _ = self.jobs.unbounded_send(job);
        RemoteReply { outcome }
    }
}

/// The reply to a request made through a [`RequestHandle`]: `Send` when the
/// reply and the rejection are. Dropping it forgets the request (and sends
/// the protocol's cancel message), as dropping a [`Pending`] does.
///
/// ```no_run
/// # #[cfg(feature = "json")]
/// # fn demo(handle: browser_websocket::RequestHandle<browser_websocket::JsonRpc>) -> browser_websocket::Result<()> {
/// let reply: browser_websocket::RemoteReply<_> = handle.request(browser_websocket::JsonRpcCall::new("sum", [1, 2])?);
/// # Ok(()) }
/// ```
#[must_use = "dropping the future forgets the request"]
pub struct RemoteReply<P: Protocol> {
    outcome: oneshot::Receiver<Outcome<P>>,
}

impl<P: Protocol> Future for RemoteReply<P> {
    type Output = Outcome<P>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().outcome)
            .poll(cx)
            .map(|outcome| outcome.unwrap_or(Err(RequestError::Closed)))
    }
}

impl<P: Protocol> std::fmt::Debug for RemoteReply<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteReply").finish_non_exhaustive()
    }
}

impl<P: Protocol> RequestClient<P> {
    /// A `Send + Sync + Clone` handle on this client (see [`RequestHandle`]):
    /// its requests are made here, on this thread, in the order given.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) {
    /// let handle = client.send_handle();
    /// # }
    /// ```
    pub fn send_handle(&self) -> RequestHandle<P> {
        let (jobs, incoming) = unbounded();
        crate::backend::spawn_local(Dispatch {
            client: self.clone(),
            incoming,
        });
        RequestHandle { jobs }
    }
}

/// On the client's thread: makes each request handed over, in order, and
/// starts a task that answers it; ends when every handle is dropped.
struct Dispatch<P: Protocol> {
    client: RequestClient<P>,
    incoming: UnboundedReceiver<Job<P>>,
}

impl<P: Protocol> Future for Dispatch<P> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match Pin::new(&mut this.incoming).poll_next(cx) {
                Poll::Ready(Some(Job::Request {
                    request,
                    options,
                    reply,
                })) => {
                    let pending = this.client.request_with(request, options);
                    crate::backend::spawn_local(Answer {
                        pending,
                        reply: Some(reply),
                    });
                }
                Poll::Ready(Some(Job::OnClient(start))) => start(&this.client),
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// On the client's thread: one request's outcome, sent back; if the caller
/// dropped its future first, the request is dropped too (forgotten).
struct Answer<P: Protocol> {
    pending: Pending<P>,
    reply: Option<oneshot::Sender<Outcome<P>>>,
}

impl<P: Protocol> Future for Answer<P> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(reply) = this.reply.as_mut() else {
            return Poll::Ready(());
        };
        if reply.poll_canceled(cx).is_ready() {
            return Poll::Ready(());
        }
        let outcome = match Pin::new(&mut this.pending).poll(cx) {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => return Poll::Pending,
        };
        if let Some(reply) = this.reply.take() {
            let _ = reply.send(outcome);
        }
        Poll::Ready(())
    }
}

/// How many events of a subscription cross to the handle's side before the
/// rest wait in the client's own reader (bounded there by the receive limit).
const CROSSING_EVENTS: usize = 16;

impl<P> RequestHandle<P>
where
    P: Subscriptions,
    P::Topic: Send,
    P::Item: Send,
    P::Rejection: Send,
{
    /// Subscribes to `topic` on the client's thread (see
    /// [`RequestClient::subscribe`]): a `Send` stream of its events. A reader
    /// that is not read holds up to the receive limit in the client, then
    /// ends with [`RequestError::ReceiveLimitExceeded`], as one made there
    /// does; dropping it unsubscribes (when it was the topic's last reader).
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(handle: browser_websocket::RequestHandle<browser_websocket::JsonRpc>) {
    /// use futures_util::StreamExt;
    /// let mut ticks = handle.subscribe("tick".to_owned());
    /// while let Some(event) = ticks.next().await {
    ///     println!("{event:?}");
    /// }
    /// # }
    /// ```
    pub fn subscribe(&self, topic: P::Topic) -> RemoteSubscription<P> {
        let (events, incoming) = mpsc::channel(CROSSING_EVENTS);
        let (alive, dropped) = oneshot::channel();
        let start = move |client: &RequestClient<P>| {
            crate::backend::spawn_local(Relay {
                subscription: client.subscribe(topic),
                events,
                dropped,
            });
        };
        // If the client's thread is gone, the relay never starts, and the
        // stream ends at once.
        let _ = self.jobs.unbounded_send(Job::OnClient(Box::new(start)));
        RemoteSubscription {
            incoming,
            _alive: alive,
        }
    }
}

/// A subscription made through a [`RequestHandle`]: a `Stream` of its
/// events, `Send` when the protocol's items and rejections are. Dropping it
/// drops the subscription on the client's thread.
#[must_use = "dropping the subscription unsubscribes"]
pub struct RemoteSubscription<P: Subscriptions> {
    incoming: mpsc::Receiver<Event<P>>,
    /// Dropped with it: tells the relay at once.
    _alive: oneshot::Sender<()>,
}

impl<P: Subscriptions> Stream for RemoteSubscription<P> {
    type Item = Event<P>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().incoming).poll_next(cx)
    }
}

impl<P: Subscriptions> std::fmt::Debug for RemoteSubscription<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSubscription").finish_non_exhaustive()
    }
}

/// On the client's thread: passes a subscription's events on while the
/// other side has room; ends with the subscription, or when the other side
/// is dropped (which drops the subscription).
struct Relay<P: Subscriptions> {
    subscription: Subscription<P>,
    events: mpsc::Sender<Event<P>>,
    dropped: oneshot::Receiver<()>,
}

impl<P: Subscriptions> Future for Relay<P> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Pin::new(&mut this.dropped).poll(cx).is_ready() {
            // The reader was dropped: so is the subscription.
            return Poll::Ready(());
        }
        loop {
            match this.events.poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                // The reader was dropped.
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
            match Pin::new(&mut this.subscription).poll_next(cx) {
                Poll::Ready(Some(event)) => {
                    if this.events.start_send(event).is_err() {
                        return Poll::Ready(());
                    }
                }
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// An acknowledged message's state, as the other thread sees it.
struct Mirror<P: Protocol> {
    id: Option<u64>,
    status: DeliveryStatus<P::Rejection>,
    reply: Option<P::Reply>,
    wakers: Vec<std::task::Waker>,
}

type MirrorCell<P> = Arc<Mutex<Mirror<P>>>;

fn lock<P: Protocol>(mirror: &MirrorCell<P>) -> std::sync::MutexGuard<'_, Mirror<P>> {
    // No code panics while holding it; a poisoned lock still holds the state.
    mirror.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<P> RequestHandle<P>
where
    P: Protocol,
    P::Request: Send,
    P::Reply: Send + Clone,
    P::Rejection: Send,
{
    /// Sends `request` for at-least-once delivery on the client's thread
    /// (see [`RequestClient::send_acked`]): a `Send` handle on its status
    /// and acknowledgement, mirrored from the client's thread.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(handle: browser_websocket::RequestHandle<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// let delivery = handle.send_acked(browser_websocket::JsonRpcCall::new("chat.post", ["hello"])?);
    /// delivery.acked().await?;
    /// # Ok(()) }
    /// ```
    pub fn send_acked(&self, request: P::Request) -> RemoteDelivery<P> {
        let mirror: MirrorCell<P> = Arc::new(Mutex::new(Mirror {
            id: None,
            status: DeliveryStatus::Queued,
            reply: None,
            wakers: Vec::new(),
        }));
        let watched = mirror.clone();
        let start = move |client: &RequestClient<P>| {
            client
                .send_acked(request)
                .watch(Box::new(move |id, status, reply| {
                    let wakers = {
                        let mut mirror = lock(&watched);
                        mirror.id = id;
                        mirror.status = status.clone();
                        mirror.reply = reply.cloned();
                        std::mem::take(&mut mirror.wakers)
                    };
                    wakers.into_iter().for_each(std::task::Waker::wake);
                }));
        };
        if self
            .jobs
            .unbounded_send(Job::OnClient(Box::new(start)))
            .is_err()
        {
            lock(&mirror).status = DeliveryStatus::Failed(RequestError::Closed);
        }
        RemoteDelivery { mirror }
    }
}

/// An acknowledged message sent through a [`RequestHandle`]: its status and
/// acknowledgement from any thread (`Send + Sync` when the reply and the
/// rejection are `Send`). Dropping it stops nothing.
///
/// ```no_run
/// # #[cfg(feature = "json")]
/// # fn demo(handle: browser_websocket::RequestHandle<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
/// let delivery: browser_websocket::RemoteDelivery<_> =
///     handle.send_acked(browser_websocket::JsonRpcCall::new("chat.post", ["hello"])?);
/// # Ok(()) }
/// ```
pub struct RemoteDelivery<P: Protocol> {
    mirror: MirrorCell<P>,
}

impl<P: Protocol> Clone for RemoteDelivery<P> {
    fn clone(&self) -> Self {
        Self {
            mirror: self.mirror.clone(),
        }
    }
}

impl<P: Protocol> RemoteDelivery<P> {
    /// Where the message is, as the client's thread last said.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(delivery: browser_websocket::RemoteDelivery<browser_websocket::JsonRpc>) {
    /// println!("{:?}", delivery.status());
    /// # }
    /// ```
    pub fn status(&self) -> DeliveryStatus<P::Rejection> {
        lock(&self.mirror).status.clone()
    }

    /// The id it went out with, once the client's thread sent it.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(delivery: browser_websocket::RemoteDelivery<browser_websocket::JsonRpc>) {
    /// println!("{:?}", delivery.id());
    /// # }
    /// ```
    pub fn id(&self) -> Option<u64> {
        lock(&self.mirror).id
    }

    /// Resolves with the server's acknowledgement, or why it failed.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(delivery: browser_websocket::RemoteDelivery<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// let ack = delivery.acked().await?;
    /// # Ok(()) }
    /// ```
    pub fn acked(&self) -> RemoteAcked<P> {
        RemoteAcked {
            mirror: self.mirror.clone(),
        }
    }
}

impl<P: Protocol> std::fmt::Debug for RemoteDelivery<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteDelivery")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// The acknowledgement of a [`RemoteDelivery`]. Dropping it stops nothing.
#[must_use = "futures do nothing unless polled"]
pub struct RemoteAcked<P: Protocol> {
    mirror: MirrorCell<P>,
}

impl<P: Protocol> Future for RemoteAcked<P>
where
    P::Reply: Clone,
{
    type Output = Outcome<P>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut guard = lock(&self.mirror);
        let mirror = &mut *guard;
        poll_acked::<P>(
            &mirror.status,
            mirror.reply.as_ref(),
            &mut mirror.wakers,
            cx,
        )
    }
}

impl<P: Protocol> std::fmt::Debug for RemoteAcked<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteAcked").finish_non_exhaustive()
    }
}
