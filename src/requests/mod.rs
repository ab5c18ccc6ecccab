//! The request layer over a [`WebSocket`] or a reconnecting socket: requests
//! matched to their replies by id, each with a timeout, failed (or, if asked,
//! sent again on the next session) when the connection drops, and every other
//! message passed on, in order, to an ordinary stream ([`Messages`]).
//!
//! One task (spawned when the client is made) reads the socket and routes each
//! message: a reply somebody waits for wakes that request; anything else is
//! queued for [`Messages`], bounded like the socket's own stream. Requests are
//! sent when [`RequestClient::request`] is called (not when its future is first
//! polled), so they go out in the order they were made.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_core::Stream;

use crate::backend::{now_monotonic_ms, Timer};
use crate::reconnect::{
    ReconnectEvent, ReconnectingBuilder, ReconnectingHandle, ReconnectingReceiver,
};
use crate::rules::error::{Error, Result};
use crate::rules::inbox::{
    Admitted, Inbox, DEFAULT_RECEIVE_LIMIT, RECEIVE_LIMIT_CLOSE_CODE, RECEIVE_LIMIT_CLOSE_REASON,
};
use crate::rules::message::Message;
use crate::rules::requests::{Bounds, InFlight, Incoming, OnDrop, Protocol, RequestError};
use crate::socket::halves::Receiver;
use crate::socket::handle::Handle;
use crate::socket::websocket::WebSocket;
use crate::tabs::{SharedBuilder, SharedEvent, SharedHandle, SharedWebSocket};

mod delivery;
mod remote;
mod subscriptions;

use delivery::DeliveryCell;
pub use delivery::{Acked, Delivery, DeliveryStatus, Restored};
pub use remote::{RemoteAcked, RemoteDelivery, RemoteReply, RemoteSubscription, RequestHandle};
pub use subscriptions::Subscription;
use subscriptions::Topics;

/// How long a request waits for its reply unless told otherwise: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How many topics a client subscribes to at once unless told otherwise
/// ([`RequestClientBuilder::max_topics`]): 256.
pub const DEFAULT_MAX_TOPICS: usize = 256;

pub(crate) type Outcome<P> =
    std::result::Result<<P as Protocol>::Reply, RequestError<<P as Protocol>::Rejection>>;

/// What one of the layer's own requests does with its outcome.
pub(crate) type OnSettle<P> = Box<dyn FnOnce(Outcome<P>)>;

/// What one request's future waits on.
struct Waiter<P: Protocol> {
    timeout: Duration,
    /// Called with the outcome instead of waking a future: the layer's own
    /// requests (subscribing), which nobody awaits.
    on_settle: Option<OnSettle<P>>,
    /// The request's message, kept while it may be sent again.
    resend: Option<Message>,
    /// An acknowledged message's status, kept up to date (queued or sent).
    delivery: Option<DeliveryCell<P>>,
    outcome: Option<Outcome<P>>,
    waker: Option<Waker>,
}

type WaiterCell<P> = Rc<RefCell<Waiter<P>>>;

impl<P: Protocol> Waiter<P> {
    /// A request's slot: woken with its outcome, or (the layer's own
    /// requests and acknowledged messages) handing it to `on_settle`; with a
    /// `delivery` status to keep up to date, if any.
    fn cell(
        timeout: Duration,
        on_settle: Option<OnSettle<P>>,
        delivery: Option<DeliveryCell<P>>,
    ) -> WaiterCell<P> {
        Rc::new(RefCell::new(Self {
            timeout,
            on_settle,
            resend: None,
            delivery,
            outcome: None,
            waker: None,
        }))
    }
}

fn settle<P: Protocol>(waiter: &WaiterCell<P>, outcome: Outcome<P>) {
    let on_settle = waiter.borrow_mut().on_settle.take();
    if let Some(on_settle) = on_settle {
        return on_settle(outcome);
    }
    let mut waiter = waiter.borrow_mut();
    waiter.outcome = Some(outcome);
    if let Some(waker) = waiter.waker.take() {
        waker.wake();
    }
}

/// What the routing task does after routing one message.
enum Routed {
    Done,
    /// The ordinary messages passed the receive limit: the socket closes.
    CloseForLimit,
    /// Messages for the server (the protocol's answer to a ping; what waited
    /// for the handshake).
    Send(Vec<Message>),
}

/// On a shared socket each tab counts its ids from its own random tag
/// shifted by this many bits: 2^32 requests per tab, and tags below 2^21 keep
/// every id under 2^53, exact as a JavaScript number (JSON-RPC servers in
/// JavaScript read ids as numbers).
const TAB_ID_BITS: u32 = 32;

/// A timeout in milliseconds, as the table counts: `Duration::MAX` is a
/// deadline that never comes.
fn as_millis_f64(timeout: Duration) -> f64 {
    if timeout == Duration::MAX {
        return f64::INFINITY;
    }
    timeout.as_secs_f64() * 1000.0
}

/// How the connection ended, for the requests still in flight and those
/// made after.
#[derive(Clone, Copy)]
enum Ending {
    Disconnected,
    Closed,
    /// Never started: a protocol with a handshake on a shared socket.
    Unsupported,
}

impl Ending {
    fn error<E>(self) -> RequestError<E> {
        match self {
            Self::Disconnected => RequestError::Disconnected,
            Self::Closed => RequestError::Closed,
            Self::Unsupported => {
                RequestError::Send(not_on_a_shared_socket("a protocol with a handshake"))
            }
        }
    }
}

/// The socket the requests go out on.
#[derive(Clone)]
enum Link {
    Plain(Handle),
    Reconnecting(ReconnectingHandle),
    Shared(SharedHandle),
}

impl Link {
    fn send(&self, message: &Message) -> Result<()> {
        match self {
            Self::Plain(handle) => handle.send_message(message),
            Self::Reconnecting(handle) => handle.send_message(message),
            Self::Shared(handle) => handle.send_message(message),
        }
    }

    /// Whether a send now reaches a live connection (a reconnecting socket
    /// queues it while down, for the next one).
    fn is_connected(&self) -> bool {
        match self {
            Self::Plain(_) => true,
            Self::Reconnecting(handle) => handle.is_connected(),
            Self::Shared(handle) => handle.is_connected(),
        }
    }

    /// Closes the socket; a tab of a shared socket leaves it instead (the
    /// connection is every tab's).
    fn close_with(&self, code: u16, reason: &str) -> Result<()> {
        match self {
            Self::Plain(handle) => handle.close_with(code, reason),
            Self::Reconnecting(handle) => handle.close_with(code, reason),
            Self::Shared(handle) => {
                handle.leave();
                Ok(())
            }
        }
    }
}

/// The socket's incoming messages, which the routing task reads.
enum Source {
    Plain(Receiver),
    Reconnecting(ReconnectingReceiver),
    Shared(SharedWebSocket),
}

impl Stream for Source {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        crate::backend::drive(cx);
        match self.get_mut() {
            Self::Plain(receiver) => Pin::new(receiver).poll_next(cx),
            Self::Reconnecting(receiver) => Pin::new(receiver).poll_next(cx),
            Self::Shared(socket) => Pin::new(socket).poll_next(cx),
        }
    }
}

/// What the client, its requests, the ordinary stream and the routing task
/// share.
struct Core<P: Protocol> {
    protocol: P,
    link: Link,
    timeout: Duration,
    in_flight: InFlight<WaiterCell<P>>,
    /// The messages that are not replies, until [`Messages`] reads them.
    others: Inbox,
    others_waker: Option<Waker>,
    /// Whether a [`Messages`] is alive to read them (if not, they are dropped,
    /// as a socket drops what comes once its receiver is dropped).
    others_read: bool,
    /// Set when the socket's stream ended: later requests fail at once.
    ended: Option<Ending>,
    /// Clients and the [`Messages`] alive: at 0 the routing task ends, which
    /// drops the socket.
    holders: usize,
    router_waker: Option<Waker>,
    /// The timer for the earliest deadline, and that deadline.
    deadline_timer: Option<(f64, Timer)>,
    /// The subscriptions, once there is one (see [`Subscriptions`]).
    topics: Option<Box<dyn Topics<P>>>,
    /// The receive limit, which bounds each subscription too.
    receive_limit: Option<usize>,
    /// The bound on topics subscribed at once.
    max_topics: usize,
    /// Whether the protocol opens each connection with a handshake
    /// ([`Protocol::handshake`]), and whether this connection's was accepted:
    /// until then the layer's messages wait in `held`, in order.
    handshake: bool,
    accepted: bool,
    held: Vec<(u64, Message)>,
    /// On a shared socket: this tab's ids are `tag << 32` and up, so replies
    /// to other tabs' requests (every tab hears every message) are told from
    /// late replies to this tab's own.
    tab_tag: Option<u64>,
    /// On a shared socket, the name its topic locks carry.
    topic_locks: Option<Rc<str>>,
    /// The name of the outbox kept in IndexedDB, if the app asked for one.
    outbox: Option<Rc<str>>,
    /// The acknowledged messages taken back from it, once read.
    restored: Option<Result<Vec<Delivery<P>>>>,
    restored_wakers: Vec<Waker>,
}

type CoreCell<P> = Rc<RefCell<Core<P>>>;

impl<P: Protocol> Core<P> {
    fn release_holder(&mut self) {
        self.holders = self.holders.saturating_sub(1);
        if self.holders == 0 {
            if let Some(waker) = self.router_waker.take() {
                waker.wake();
            }
        }
    }

    fn wake_others(&mut self) {
        if let Some(waker) = self.others_waker.take() {
            waker.wake();
        }
    }

    /// Whether a request made now goes out at once (else it waits: in the
    /// layer for the handshake, or in a reconnecting socket's queue).
    fn is_ready(&self) -> bool {
        if self.handshake {
            self.accepted
        } else {
            self.link.is_connected()
        }
    }

    /// Routes one message from the socket: what to do next (by the caller,
    /// once this borrow ends: a send or a close may report at once).
    fn route(&mut self, message: Message) -> Routed {
        if let Some(topics) = self.topics.as_mut() {
            if topics.take(&self.protocol, &message) {
                return Routed::Done;
            }
        }
        let (id, outcome) = match self.protocol.classify(&message) {
            Incoming::Reply { id, reply } => (id, reply.map_err(RequestError::Rejected)),
            Incoming::Malformed { id, reason } => {
                (id, Err(RequestError::MalformedReply { reason }))
            }
            Incoming::Complete { id } => {
                self.complete(id);
                return Routed::Done;
            }
            Incoming::Accepted => return Routed::Send(self.accept()),
            Incoming::Control { answer } => return Routed::Send(answer.into_iter().collect()),
            Incoming::Other => return self.pass_on(message),
        };
        match self.in_flight.reply(id) {
            Some(waiter) => {
                settle(&waiter, outcome);
                Routed::Done
            }
            // Another tab's: that tab takes it.
            None if self.is_other_tabs(id) => Routed::Done,
            // Nobody waits for that id (unknown, answered, timed out,
            // forgotten): it is an ordinary message.
            None => self.pass_on(message),
        }
    }

    /// Whether `id` is another tab's, on a shared socket.
    fn is_other_tabs(&self, id: u64) -> bool {
        self.tab_tag.is_some_and(|tag| id >> TAB_ID_BITS != tag)
    }

    /// The server ended request `id`'s exchange: a subscription on it ends;
    /// a request still waiting had no reply.
    fn complete(&mut self, id: u64) {
        if let Some(topics) = self.topics.as_mut() {
            if topics.completed(id) {
                self.in_flight.forget(id);
                return;
            }
        }
        if let Some(waiter) = self.in_flight.reply(id) {
            let reason = "the server ended the exchange without a reply".to_owned();
            settle(&waiter, Err(RequestError::MalformedReply { reason }));
        }
    }

    /// The server accepted the handshake (the first one, or a second one a
    /// confused server sends: nothing waits then): the messages that waited.
    fn accept(&mut self) -> Vec<Message> {
        if !self.handshake || self.accepted {
            return Vec::new();
        }
        self.accepted = true;
        self.session_ready()
    }

    /// A connection is ready for the layer's messages (opened, and its
    /// handshake accepted where the protocol has one): the subscribe
    /// requests, then the requests to send again, then those that waited for
    /// the handshake, in the order they were made.
    fn session_ready(&mut self) -> Vec<Message> {
        let mut topics = self.topics.take();
        let resubscribe = match topics.as_mut() {
            Some(topics) => topics.to_resubscribe(&self.protocol),
            None => Vec::new(),
        };
        let mut messages = Vec::new();
        for again in resubscribe {
            let started = self.start_own(&again.request, again.on_settle, again.timeout);
            if let Some((id, message)) = started {
                (again.sent_as)(id);
                messages.push(message);
            }
        }
        self.topics = topics;
        let resend = self.opened();
        messages.extend(resend);
        let held = std::mem::take(&mut self.held);
        messages.extend(
            held.into_iter()
                .filter(|(id, _)| self.in_flight.waiter(*id).is_some())
                .map(|(_, message)| message),
        );
        messages
    }

    /// Request `id` is no longer awaited: forgotten, and the protocol's
    /// cancel message to send, if it has one and the request went out.
    fn forget(&mut self, id: u64) -> Option<Message> {
        if !self.in_flight.forget(id) {
            return None;
        }
        let held = self.held.len();
        self.held.retain(|(held_id, _)| *held_id != id);
        if self.held.len() != held {
            return None;
        }
        self.protocol.cancel_message(id)
    }

    /// Holds `message` (request `id`) until the handshake is accepted, if
    /// the protocol has one and it is not yet; otherwise gives it back, to send.
    fn hold_or_send(&mut self, id: u64, message: Message) -> Option<Message> {
        if self.handshake && !self.accepted {
            self.held.push((id, message));
            return None;
        }
        Some(message)
    }

    /// Queues an ordinary message; past the receive limit, the socket is
    /// to be closed.
    fn pass_on(&mut self, message: Message) -> Routed {
        if !self.others_read {
            return Routed::Done;
        }
        let bytes = message.len().unwrap_or(0) as u64;
        let exceeded = self.others.push_message(message, bytes) == Admitted::LimitExceeded;
        self.wake_others();
        if exceeded {
            Routed::CloseForLimit
        } else {
            Routed::Done
        }
    }

    fn pass_on_error(&mut self, error: Error) {
        if self.others_read {
            self.others.push_error(error);
            self.wake_others();
        }
    }

    /// The socket's stream ended (`None`) or reported the connection's loss:
    /// every request in flight ends with `ending`.
    fn end(&mut self, ending: Ending) {
        let ending = *self.ended.get_or_insert(ending);
        for (_, waiter) in self.in_flight.closed() {
            settle(&waiter, Err(ending.error()));
        }
        self.deadline_timer = None;
        if let Some(topics) = self.topics.as_mut() {
            topics.end_all(ending.error());
        }
    }

    /// Registers one of the layer's own requests, whose outcome goes to
    /// `on_settle` and which gives up after `timeout` (`None`: the client's);
    /// its id and the message to send (with the core released), or `None` if
    /// it could not be made (`on_settle` has been told).
    fn start_own(
        &mut self,
        request: &P::Request,
        on_settle: OnSettle<P>,
        timeout: Option<Duration>,
    ) -> Option<(u64, Message)> {
        if let Some(ending) = self.ended {
            on_settle(Err(ending.error()));
            return None;
        }
        let id = self.in_flight.next_id();
        let message = match self.protocol.request_message(id, request) {
            Ok(message) => message,
            Err(error) => {
                on_settle(Err(RequestError::Send(error)));
                return None;
            }
        };
        let timeout = timeout.unwrap_or(self.timeout);
        let waiter = Waiter::cell(timeout, Some(on_settle), None);
        let bytes = message.len().unwrap_or(0);
        let timeout_ms = as_millis_f64(timeout);
        let started = self.in_flight.start(
            now_monotonic_ms(),
            timeout_ms,
            OnDrop::Fail,
            bytes,
            true,
            waiter.clone(),
        );
        if let Err(full) = started {
            settle(&waiter, Err(full.into()));
            return None;
        }
        Some((id, message))
    }

    /// A connection dropped (the reconnecting socket goes on): the requests
    /// sent on it fail with [`RequestError::Disconnected`], but those to send
    /// again.
    fn connection_lost(&mut self) {
        self.accepted = false;
        for (_, waiter) in self.in_flight.disconnected() {
            settle(&waiter, Err(RequestError::Disconnected));
        }
        self.show_deliveries();
    }

    /// Brings every acknowledged message's status up to date with the table.
    fn show_deliveries(&self) {
        for (sent, waiter) in self.in_flight.each() {
            if let Some(delivery) = &waiter.borrow().delivery {
                delivery.borrow_mut().set_sent(sent);
            }
        }
    }

    /// A connection opened: the messages of the requests to send again on it,
    /// in the order they were first made.
    fn opened(&mut self) -> Vec<Message> {
        let ids = self.in_flight.opened();
        self.show_deliveries();
        ids.into_iter()
            .filter_map(|id| self.in_flight.waiter(id))
            .filter_map(|waiter| waiter.borrow().resend.clone())
            .collect()
    }

    /// Ends the requests whose deadline has come.
    fn expire(&mut self, now_ms: f64) {
        for (_, waiter) in self.in_flight.expire(now_ms) {
            let timeout = waiter.borrow().timeout;
            settle(&waiter, Err(RequestError::TimedOut(timeout)));
        }
    }
}

/// Arms one timer for the earliest deadline (and none when nothing waits):
/// a look at every request in flight, done when a timer fires and on a new
/// connection.
fn rearm<P: Protocol>(core: &CoreCell<P>) {
    let mut state = core.borrow_mut();
    // Acknowledged messages wait without a deadline.
    let next = state.in_flight.next_deadline().filter(|at| at.is_finite());
    let armed = state.deadline_timer.as_ref().map(|(at, _)| *at);
    if next != armed {
        state.deadline_timer = next.map(|at| (at, deadline_timer(core, at)));
    }
}

/// A request with deadline `at` started: the timer fires by then. A timer
/// already due sooner stays (when it fires, [`rearm`] looks again), so with
/// one timeout for all this costs nothing per request.
fn arm_by<P: Protocol>(core: &CoreCell<P>, at: f64) {
    let mut state = core.borrow_mut();
    let armed = state.deadline_timer.as_ref().map(|(armed, _)| *armed);
    if !at.is_finite() || armed.is_some_and(|armed| armed <= at) {
        return;
    }
    state.deadline_timer = Some((at, deadline_timer(core, at)));
}

fn deadline_timer<P: Protocol>(core: &CoreCell<P>, at: f64) -> Timer {
    let weak = Rc::downgrade(core);
    // A timeout of `Duration::MAX` is past what a `Duration` holds once added
    // to the clock: it waits as long as a timer can.
    let wait = Duration::try_from_secs_f64(((at - now_monotonic_ms()) / 1000.0).max(0.0))
        .unwrap_or(Duration::MAX);
    Timer::once(wait, move || on_deadline(&weak))
}

fn on_deadline<P: Protocol>(core: &Weak<RefCell<Core<P>>>) {
    let Some(core) = core.upgrade() else {
        return;
    };
    {
        let mut state = core.borrow_mut();
        state.deadline_timer = None;
        state.expire(now_monotonic_ms());
    }
    rearm(&core);
}

/// Requests with replies over a [`WebSocket`] or a reconnecting socket, for a
/// [`Protocol`]: each [`request`](Self::request) gives the reply, or a
/// [`RequestError`] saying how it failed; for protocols with
/// [`Subscriptions`](crate::Subscriptions), [`subscribe`](Self::subscribe)
/// gives a topic's items. Cheap to clone; every clone makes requests on the
/// same socket.
///
/// Made with [`RequestClient::new`] (or [`RequestClient::builder`]), which also
/// gives the [`Messages`]: every message that is not a reply somebody waits
/// for, in order. The socket closes when every clone and the [`Messages`] are
/// dropped.
///
/// What each failure gives: no reply within the timeout,
/// [`RequestError::TimedOut`] (a later reply goes to [`Messages`]); the
/// connection drops, [`RequestError::Disconnected`] for every request in
/// flight and (on a plain socket) every later one, while a reconnecting
/// socket resends those made with [`RequestOptions::resend_on_reconnect`]
/// (see [`RequestClientBuilder::build_reconnecting`]); the socket closed by
/// the app or cleanly by the server, [`RequestError::Closed`]; an error reply,
/// [`RequestError::Rejected`] with its payload; a reply the protocol cannot
/// read, [`RequestError::MalformedReply`]; more than the bounds in flight,
/// [`RequestError::TooManyInFlight`] (nothing is sent). Dropping a request's
/// future forgets it, and sends the protocol's cancel message if it has one.
///
/// # Example
///
/// ```no_run
/// # #[cfg(feature = "json")]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use futures_util::StreamExt;
/// use browser_websocket::{JsonRpc, JsonRpcCall, RequestClient, RequestError, WebSocket};
///
/// let socket = WebSocket::connect("/rpc").await?;
/// let (client, mut notifications) = RequestClient::new(socket, JsonRpc);
/// let sum = client.request(JsonRpcCall::new("sum", [1, 2])?).await?;
/// assert_eq!(sum, serde_json::json!(3));
/// match client.request(JsonRpcCall::without_params("no.such.method")).await {
///     Err(RequestError::Rejected(error)) => assert_eq!(error.code, -32601),
///     other => panic!("{other:?}"),
/// }
/// // Everything else the server sends, in order.
/// while let Some(message) = notifications.next().await {
///     println!("{:?}", message?);
/// }
/// # Ok(()) }
/// ```
pub struct RequestClient<P: Protocol> {
    core: CoreCell<P>,
}

/// Chooses a [`RequestClient`]'s timeout, bounds and receive limit.
///
/// # Example
///
/// ```no_run
/// # #[cfg(feature = "json")]
/// # async fn demo() -> browser_websocket::Result<()> {
/// use std::time::Duration;
/// use browser_websocket::{JsonRpc, RequestClient, WebSocket};
/// let socket = WebSocket::connect("/rpc").await?;
/// let (client, messages) = RequestClient::builder(JsonRpc)
///     .timeout(Duration::from_secs(5))
///     .max_in_flight(100, 1 << 20)
///     .build(socket);
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until built"]
pub struct RequestClientBuilder<P: Protocol> {
    protocol: P,
    timeout: Duration,
    bounds: Bounds,
    max_topics: usize,
    receive_limit: Option<usize>,
    outbox: Option<Rc<str>>,
}

impl<P: Protocol> RequestClientBuilder<P> {
    /// How long a request waits for its reply unless
    /// [`request_with_timeout`](RequestClient::request_with_timeout) says
    /// otherwise (default [`DEFAULT_REQUEST_TIMEOUT`], 30 s).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(feature = "json")] {
    /// let builder = browser_websocket::RequestClient::builder(browser_websocket::JsonRpc)
    ///     .timeout(std::time::Duration::from_secs(5));
    /// # }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most requests, and bytes of request messages, in flight at once
    /// (default 1,024 and 4 MiB); past either a request fails with
    /// [`RequestError::TooManyInFlight`] and is not sent.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(feature = "json")] {
    /// let builder = browser_websocket::RequestClient::builder(browser_websocket::JsonRpc)
    ///     .max_in_flight(16, 64 * 1024);
    /// # }
    /// ```
    pub fn max_in_flight(mut self, requests: usize, bytes: usize) -> Self {
        self.bounds = Bounds { requests, bytes };
        self
    }

    /// The most topics subscribed at once (default
    /// [`DEFAULT_MAX_TOPICS`], 256); past it a new topic's
    /// [`Subscription`] ends at once with [`RequestError::TooManyTopics`] and
    /// nothing is sent (more readers of a topic already read are fine).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(feature = "json")] {
    /// let builder = browser_websocket::RequestClient::builder(browser_websocket::JsonRpc)
    ///     .max_topics(32);
    /// # }
    /// ```
    pub fn max_topics(mut self, topics: usize) -> Self {
        self.max_topics = topics;
        self
    }

    /// The most bytes of ordinary messages waiting unread in [`Messages`]
    /// (default [`DEFAULT_RECEIVE_LIMIT`], `None`: unbounded). Past it the
    /// socket closes with [`RECEIVE_LIMIT_CLOSE_CODE`] and [`Messages`] ends
    /// with [`Error::ReceiveLimitExceeded`] after every message before, as the
    /// socket's own stream does.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(feature = "json")] {
    /// let builder = browser_websocket::RequestClient::builder(browser_websocket::JsonRpc)
    ///     .receive_limit(Some(1 << 20));
    /// # }
    /// ```
    pub fn receive_limit(mut self, bytes: Option<usize>) -> Self {
        self.receive_limit = bytes;
        self
    }

    /// Keeps every acknowledged message ([`RequestClient::send_acked`]) in
    /// IndexedDB under `name` (per origin) until the server acknowledges it,
    /// so that a client built with the same name after a reload, a crash or
    /// the next day sends it again, with the same id
    /// ([`RequestClient::restored`] gives their [`Delivery`] handles). Ids of
    /// such a client start from the clock (milliseconds since 1970 times
    /// 1,000), above those of any earlier page. See the guide for what is
    /// promised and what is not.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(feature = "json")] {
    /// let builder = browser_websocket::RequestClient::builder(browser_websocket::JsonRpc)
    ///     .outbox("chat");
    /// # }
    /// ```
    pub fn outbox(mut self, name: &str) -> Self {
        self.outbox = Some(Rc::from(name));
        self
    }

    /// Starts routing `socket`'s messages: the client, and the ordinary
    /// messages.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("/rpc").await?;
    /// let (client, messages) =
    ///     browser_websocket::RequestClient::builder(browser_websocket::JsonRpc).build(socket);
    /// # Ok(()) }
    /// ```
    pub fn build(self, socket: WebSocket) -> (RequestClient<P>, Messages<P>) {
        let (sender, receiver) = socket.into_split();
        let core = self.core(Link::Plain(sender.handle()));
        drop(sender);
        let handshake = core.borrow().protocol.handshake();
        if let Some(handshake) = handshake {
            let link = core.borrow().link.clone();
            let _ = link.send(&handshake);
        }
        start_routing(core, Source::Plain(receiver))
    }

    /// Connects `socket` (a reconnecting socket's builder) and routes its
    /// messages: the client, and the ordinary messages of every session.
    /// When a connection drops, requests sent on it fail with
    /// [`RequestError::Disconnected`], unless made with
    /// [`RequestOptions::resend_on_reconnect`]: those are sent again on the
    /// next connection, after the app's own `on_open` and before the queue.
    /// Requests made while disconnected wait in the socket's queue. The
    /// builder's `on_event` and `on_open` still run; an `on_message` callback
    /// is dropped (the messages go to [`Messages`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo() {
    /// use browser_websocket::{JsonRpc, ReconnectingWebSocket, RequestClient};
    /// let (client, messages) = RequestClient::builder(JsonRpc)
    ///     .build_reconnecting(ReconnectingWebSocket::builder("/rpc"));
    /// # }
    /// ```
    pub fn build_reconnecting(
        self,
        socket: ReconnectingBuilder,
    ) -> (RequestClient<P>, Messages<P>) {
        // The hooks are set before the socket exists, so they find the core
        // through a slot filled right after.
        let slot: Rc<RefCell<Weak<RefCell<Core<P>>>>> = Rc::new(RefCell::new(Weak::new()));
        let (on_event_slot, on_open_slot) = (slot.clone(), slot.clone());
        let socket = socket
            .with_layer_hooks(
                move |event| {
                    if let Some(core) = on_event_slot.borrow().upgrade() {
                        on_reconnect_event(&core, event);
                    }
                },
                move |handle, _session| {
                    if let Some(core) = on_open_slot.borrow().upgrade() {
                        resend_on_open(&core, handle);
                    }
                },
            )
            .connect();
        let (sender, receiver) = socket.into_split();
        let core = self.core(Link::Reconnecting(sender.handle()));
        drop(sender);
        *slot.borrow_mut() = Rc::downgrade(&core);
        start_routing(core, Source::Reconnecting(receiver))
    }

    /// Joins `socket` (a shared socket's builder: one connection for every
    /// tab of the name) and routes its messages: the client, and the ordinary
    /// messages. Each tab makes its own client: a reply reaches the tab
    /// that asked (each tab's ids are its own: they start at a random
    /// multiple of 2^32, so two tabs share a range once in 2^21 pairs), and
    /// replies to other tabs' requests are not passed on. A drop of the
    /// shared connection fails the requests sent on it, but those to resend,
    /// which go again once it is back (after what this tab queued meanwhile);
    /// acknowledged messages keep their status across a change of leading
    /// tab. Each tab subscribes to its topics itself (on its first reader, and
    /// on every new connection), and the unsubscribe goes out only when no
    /// tab reads the topic any more (a Web Lock per topic, held in shared mode
    /// by each tab that reads it, and let go by a tab that crashes). The
    /// builder's `on_event` still runs; an `on_message` is dropped.
    ///
    /// Not on a shared socket: an outbox ([`restored`](RequestClient::restored)
    /// fails with [`Error::Js`] `NotSupportedError`, and acknowledged messages
    /// are kept in the page only), and protocols with a
    /// [`handshake`](Protocol::handshake) (each request fails with
    /// [`RequestError::Send`] and the same error).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo() {
    /// use browser_websocket::{tabs::SharedWebSocket, JsonRpc, RequestClient};
    /// // In every tab: one connection, and each tab's replies in that tab.
    /// let (client, messages) = RequestClient::builder(JsonRpc)
    ///     .build_shared(SharedWebSocket::builder("/rpc").name("rpc"));
    /// # }
    /// ```
    pub fn build_shared(mut self, socket: SharedBuilder) -> (RequestClient<P>, Messages<P>) {
        let refuse_outbox = self.outbox.take().is_some();
        let slot: Rc<RefCell<Weak<RefCell<Core<P>>>>> = Rc::new(RefCell::new(Weak::new()));
        let on_event_slot = slot.clone();
        let socket = socket
            .with_layer_events(move |event| {
                if let Some(core) = on_event_slot.borrow().upgrade() {
                    on_shared_event(&core, event);
                }
            })
            .connect();
        let core = self.core(Link::Shared(socket.handle()));
        {
            let mut state = core.borrow_mut();
            let tag = random_tab_tag();
            state.tab_tag = Some(tag);
            state.in_flight.skip_to(tag << TAB_ID_BITS);
            state.topic_locks = Some(Rc::from(socket.name()));
            if refuse_outbox {
                state.restored = Some(Err(not_on_a_shared_socket("an outbox")));
            }
            if state.handshake {
                state.ended = Some(Ending::Unsupported);
                let refused = not_on_a_shared_socket("a protocol with a handshake");
                state.others.push_error(refused);
            }
        }
        *slot.borrow_mut() = Rc::downgrade(&core);
        start_routing(core, Source::Shared(socket))
    }

    fn core(self, link: Link) -> CoreCell<P> {
        let handshake = self.protocol.handshake().is_some();
        let (outbox, restored) = outbox_on_this_target(self.outbox.clone());
        Rc::new(RefCell::new(Core {
            handshake,
            accepted: false,
            held: Vec::new(),
            tab_tag: None,
            topic_locks: None,
            protocol: self.protocol,
            link,
            timeout: self.timeout,
            in_flight: InFlight::new(self.bounds),
            others: Inbox::new(self.receive_limit),
            others_waker: None,
            others_read: true,
            ended: None,
            holders: 2,
            router_waker: None,
            deadline_timer: None,
            topics: None,
            receive_limit: self.receive_limit,
            max_topics: self.max_topics,
            outbox,
            restored,
            restored_wakers: Vec::new(),
        }))
    }
}

/// Spawns the routing task; the client and the ordinary messages.
fn start_routing<P: Protocol>(
    core: CoreCell<P>,
    source: Source,
) -> (RequestClient<P>, Messages<P>) {
    crate::backend::spawn_local(Router {
        source: Some(source),
        core: core.clone(),
    });
    delivery::start_restoring(&core);
    (RequestClient { core: core.clone() }, Messages { core })
}

/// The outbox asked for, and what `restored` gives: in a browser the outbox
/// as asked; natively none, and `restored` says it needs a browser.
#[allow(clippy::type_complexity)]
fn outbox_on_this_target<P: Protocol>(
    outbox: Option<Rc<str>>,
) -> (Option<Rc<str>>, Option<Result<Vec<Delivery<P>>>>) {
    #[cfg(not(target_arch = "wasm32"))]
    if outbox.is_some() {
        let refused = Error::NeedsBrowser {
            feature: "an outbox (kept in IndexedDB)",
        };
        return (None, Some(Err(refused)));
    }
    (outbox, None)
}

/// A random tag in `[1, 2^21)`, for a tab's ids.
fn random_tab_tag() -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let tag = (crate::js::global::random() * f64::from(1u32 << 21)) as u64;
    tag.max(1)
}

/// What a shared socket does not do, as the error the app gets.
fn not_on_a_shared_socket(what: &str) -> Error {
    Error::Js {
        name: "NotSupportedError".to_owned(),
        message: format!("{what} is not supported on a shared socket"),
    }
}

fn on_shared_event<P: Protocol>(core: &CoreCell<P>, event: &SharedEvent) {
    match event {
        SharedEvent::Disconnected => core.borrow_mut().connection_lost(),
        SharedEvent::Connected => {
            let (messages, link) = {
                let mut state = core.borrow_mut();
                (state.session_ready(), state.link.clone())
            };
            rearm(core);
            for message in &messages {
                let _ = link.send(message);
            }
        }
        SharedEvent::Ended { .. } => core.borrow_mut().end(Ending::Disconnected),
        SharedEvent::Leading | SharedEvent::Following | SharedEvent::PerTab { .. } => {}
    }
}

fn on_reconnect_event<P: Protocol>(core: &CoreCell<P>, event: &ReconnectEvent) {
    match event {
        ReconnectEvent::Closed {
            session: Some(_), ..
        }
        | ReconnectEvent::Suspended { session: Some(_) } => core.borrow_mut().connection_lost(),
        ReconnectEvent::GaveUp { .. } => core.borrow_mut().end(Ending::Disconnected),
        _ => {}
    }
}

fn resend_on_open<P: Protocol>(core: &CoreCell<P>, handle: &ReconnectingHandle) {
    let messages = {
        let mut state = core.borrow_mut();
        if state.handshake {
            // Everything else waits for the server to accept it.
            state.accepted = false;
            state.protocol.handshake().into_iter().collect()
        } else {
            state.session_ready()
        }
    };
    rearm(core);
    for message in messages {
        // On the connection that just opened: only a close in between stops
        // it, and the requests then fail with that close.
        let _ = handle.send_message(&message);
    }
}

/// How one request is made: its timeout, and what a dropped connection does
/// to it.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// let options = browser_websocket::RequestOptions::new()
///     .timeout(Duration::from_secs(5))
///     .resend_on_reconnect();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestOptions {
    timeout: Option<Duration>,
    on_drop: OnDrop,
}

impl RequestOptions {
    /// The client's timeout, and failing with
    /// [`RequestError::Disconnected`] if the connection drops.
    ///
    /// # Example
    ///
    /// ```
    /// let options = browser_websocket::RequestOptions::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// This request's timeout.
    ///
    /// # Example
    ///
    /// ```
    /// let options = browser_websocket::RequestOptions::new().timeout(std::time::Duration::from_millis(500));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// On a reconnecting socket, send the request again on the next
    /// connection if the one it went out on drops before the reply (at least
    /// once: only for requests the server may see twice). On a plain socket
    /// there is no next connection: it fails with
    /// [`RequestError::Disconnected`].
    ///
    /// # Example
    ///
    /// ```
    /// let options = browser_websocket::RequestOptions::new().resend_on_reconnect();
    /// ```
    pub fn resend_on_reconnect(mut self) -> Self {
        self.on_drop = OnDrop::Resend;
        self
    }
}

impl<P: Protocol> RequestClient<P> {
    /// Routes `socket`'s messages with the defaults: the client, and the
    /// ordinary messages. See [`RequestClient::builder`] for the others.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("/rpc").await?;
    /// let (client, messages) = browser_websocket::RequestClient::new(socket, browser_websocket::JsonRpc);
    /// # Ok(()) }
    /// ```
    pub fn new(socket: WebSocket, protocol: P) -> (Self, Messages<P>) {
        Self::builder(protocol).build(socket)
    }

    /// A builder to choose the timeout, the bounds and the receive limit.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(feature = "json")] {
    /// let builder = browser_websocket::RequestClient::builder(browser_websocket::JsonRpc);
    /// # }
    /// ```
    pub fn builder(protocol: P) -> RequestClientBuilder<P> {
        RequestClientBuilder {
            protocol,
            timeout: DEFAULT_REQUEST_TIMEOUT,
            bounds: Bounds::default(),
            max_topics: DEFAULT_MAX_TOPICS,
            receive_limit: Some(DEFAULT_RECEIVE_LIMIT),
            outbox: None,
        }
    }

    /// Sends `request` now and resolves with its reply, within the client's
    /// timeout. See [`RequestClient`] for each way it can fail.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// let sum = client.request(browser_websocket::JsonRpcCall::new("sum", [1, 2])?).await?;
    /// # Ok(()) }
    /// ```
    pub fn request(&self, request: P::Request) -> Pending<P> {
        self.request_with(request, RequestOptions::new())
    }

    /// As [`request`](Self::request), with its own timeout.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let call = browser_websocket::JsonRpcCall::without_params("slow");
    /// let reply = client.request_with_timeout(call, Duration::from_millis(200)).await;
    /// # Ok(()) }
    /// ```
    pub fn request_with_timeout(&self, request: P::Request, timeout: Duration) -> Pending<P> {
        self.request_with(request, RequestOptions::new().timeout(timeout))
    }

    /// As [`request`](Self::request), with [`RequestOptions`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// use browser_websocket::{JsonRpcCall, RequestOptions};
    /// // Idempotent: sent again if the connection drops before the reply.
    /// let call = JsonRpcCall::new("user.get", [7])?;
    /// let user = client.request_with(call, RequestOptions::new().resend_on_reconnect()).await?;
    /// # Ok(()) }
    /// ```
    pub fn request_with(&self, request: P::Request, options: RequestOptions) -> Pending<P> {
        let timeout = options.timeout.unwrap_or(self.core.borrow().timeout);
        let waiter = Waiter::cell(timeout, None, None);
        let id = match self.start(&request, as_millis_f64(timeout), options.on_drop, &waiter) {
            Ok(id) => Some(id),
            Err(error) => {
                waiter.borrow_mut().outcome = Some(Err(error));
                None
            }
        };
        Pending {
            core: self.core.clone(),
            id,
            waiter,
        }
    }

    /// Starts one of the layer's tracked requests (an acknowledged message),
    /// with no timeout: its outcome goes to `on_settle`, and `delivery` is
    /// kept queued or sent as the message is.
    fn start_tracked(
        &self,
        request: P::Request,
        options: RequestOptions,
        delivery: DeliveryCell<P>,
        on_settle: OnSettle<P>,
    ) -> Option<(u64, Message)> {
        let waiter = Waiter::cell(Duration::MAX, Some(on_settle), Some(delivery));
        match self.start(&request, f64::INFINITY, options.on_drop, &waiter) {
            Ok(id) => {
                let message = waiter.borrow().resend.clone()?;
                Some((id, message))
            }
            Err(error) => {
                settle(&waiter, Err(error));
                None
            }
        }
    }

    /// Encodes, registers and sends one request (`timeout_ms` may be
    /// infinite); its id.
    fn start(
        &self,
        request: &P::Request,
        timeout_ms: f64,
        on_drop: OnDrop,
        waiter: &WaiterCell<P>,
    ) -> std::result::Result<u64, RequestError<P::Rejection>> {
        let message = {
            let mut core = self.core.borrow_mut();
            if let Some(ending) = core.ended {
                return Err(ending.error());
            }
            // The id is the table's next; encode with it before registering,
            // so a request that cannot be encoded takes no place.
            let id = core.in_flight.next_id();
            let message = core
                .protocol
                .request_message(id, request)
                .map_err(RequestError::Send)?;
            if on_drop == OnDrop::Resend {
                waiter.borrow_mut().resend = Some(message.clone());
            }
            let bytes = message.len().unwrap_or(0);
            let sent = core.is_ready();
            if let Some(delivery) = &waiter.borrow().delivery {
                delivery.borrow_mut().set_sent(sent);
            }
            let now_ms = now_monotonic_ms();
            core.in_flight
                .start(now_ms, timeout_ms, on_drop, bytes, sent, waiter.clone())?;
            let deadline = now_ms + timeout_ms.max(0.0);
            (id, core.hold_or_send(id, message), deadline)
        };
        let (id, message, deadline) = message;
        let Some(message) = message else {
            // It waits for the handshake.
            arm_by(&self.core, deadline);
            return Ok(id);
        };
        // Sent with the core released: a send may report at once.
        let link = self.core.borrow().link.clone();
        let sent = link.send(&message);
        if let Err(error) = sent {
            self.core.borrow_mut().in_flight.forget(id);
            return Err(match error {
                Error::NotOpen { .. } => RequestError::Closed,
                other => RequestError::Send(other),
            });
        }
        arm_by(&self.core, deadline);
        Ok(id)
    }

    /// Sends a message that is not a request (a notification, an
    /// acknowledgement) on the same socket, in order with the requests.
    ///
    /// # Errors
    ///
    /// As the socket's `send_message`: [`Error::NotOpen`] once closed; on a
    /// reconnecting socket, [`Error::QueueFull`] while down with a full queue.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> browser_websocket::Result<()> {
    /// client.send_message(&browser_websocket::Message::from(r#"{"jsonrpc":"2.0","method":"hello"}"#))?;
    /// # Ok(()) }
    /// ```
    pub fn send_message(&self, message: &Message) -> Result<()> {
        let link = self.core.borrow().link.clone();
        link.send(message)
    }

    /// Closes the socket with 1000 (for good, on a reconnecting socket): the
    /// requests in flight fail with [`RequestError::Closed`], and
    /// [`Messages`] ends.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] if it is already closed.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> browser_websocket::Result<()> {
    /// client.close_normal()?;
    /// # Ok(()) }
    /// ```
    pub fn close_normal(&self) -> Result<()> {
        let link = self.core.borrow().link.clone();
        link.close_with(1000, "")
    }

    /// Whether a request made now goes out at once: the socket is open (a
    /// reconnecting socket queues it while down, for the next connection).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) {
    /// if !client.is_connected() {
    ///     println!("requests wait for the next connection");
    /// }
    /// # }
    /// ```
    pub fn is_connected(&self) -> bool {
        let link = self.core.borrow().link.clone();
        match link {
            Link::Plain(handle) => handle.ready_state() == crate::ReadyState::Open,
            Link::Reconnecting(handle) => handle.is_connected(),
            Link::Shared(handle) => handle.is_connected(),
        }
    }

    /// How many requests are in flight.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) {
    /// assert_eq!(client.in_flight(), 0);
    /// # }
    /// ```
    pub fn in_flight(&self) -> usize {
        self.core.borrow().in_flight.load().0
    }
}

impl<P: Protocol> Clone for RequestClient<P> {
    fn clone(&self) -> Self {
        self.core.borrow_mut().holders += 1;
        Self {
            core: self.core.clone(),
        }
    }
}

impl<P: Protocol> Drop for RequestClient<P> {
    fn drop(&mut self) {
        self.core.borrow_mut().release_holder();
    }
}

impl<P: Protocol> std::fmt::Debug for RequestClient<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestClient")
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

/// A request in flight: resolves with its reply or how it failed. Dropping it
/// forgets the request (a reply that comes later goes to [`Messages`]) and
/// sends the protocol's cancel message, if it has one.
#[must_use = "dropping the future forgets the request"]
pub struct Pending<P: Protocol> {
    core: CoreCell<P>,
    /// `None` when the request never started (it failed at once).
    id: Option<u64>,
    waiter: WaiterCell<P>,
}

impl<P: Protocol> Future for Pending<P> {
    type Output = Outcome<P>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::backend::drive(cx);
        let this = self.get_mut();
        let mut waiter = this.waiter.borrow_mut();
        match waiter.outcome.take() {
            Some(outcome) => {
                this.id = None;
                Poll::Ready(outcome)
            }
            None => {
                waiter.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<P: Protocol> Drop for Pending<P> {
    fn drop(&mut self) {
        let Some(id) = self.id else {
            return;
        };
        let cancel = {
            let mut core = self.core.borrow_mut();
            core.forget(id).map(|cancel| (core.link.clone(), cancel))
        };
        if let Some((link, cancel)) = cancel {
            let _ = link.send(&cancel);
        }
    }
}

/// The messages that are not replies anybody waits for, in the order they
/// came: a `Stream` of `Result<Message>` that ends as the socket's does (an
/// abnormal close yields [`Error::ConnectionClosed`] first). Bounded like the
/// socket's stream ([`RequestClientBuilder::receive_limit`]). Dropping it
/// drops such messages from then on; the requests go on.
///
/// # Example
///
/// ```no_run
/// # #[cfg(feature = "json")]
/// # async fn demo() -> browser_websocket::Result<()> {
/// use futures_util::StreamExt;
/// let socket = browser_websocket::WebSocket::connect("/rpc").await?;
/// let (_client, mut messages) = browser_websocket::RequestClient::new(socket, browser_websocket::JsonRpc);
/// while let Some(message) = messages.next().await {
///     println!("{:?}", message?);
/// }
/// # Ok(()) }
/// ```
pub struct Messages<P: Protocol> {
    core: CoreCell<P>,
}

impl<P: Protocol> Stream for Messages<P> {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        crate::backend::drive(cx);
        let mut core = self.core.borrow_mut();
        if let Some(item) = core.others.pop() {
            return Poll::Ready(Some(item));
        }
        if core.ended.is_some() {
            return Poll::Ready(None);
        }
        core.others_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<P: Protocol> Drop for Messages<P> {
    fn drop(&mut self) {
        let mut core = self.core.borrow_mut();
        core.others_read = false;
        while core.others.pop().is_some() {}
        core.release_holder();
    }
}

impl<P: Protocol> std::fmt::Debug for Messages<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages").finish_non_exhaustive()
    }
}

/// The task that reads the socket and routes each message, until the socket's
/// stream ends or nobody holds the client or its [`Messages`].
struct Router<P: Protocol> {
    source: Option<Source>,
    core: CoreCell<P>,
}

impl<P: Protocol> Future for Router<P> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let Some(source) = this.source.as_mut() else {
                return Poll::Ready(());
            };
            if this.core.borrow().holders == 0 {
                // Dropping the receiver (and, with the core, the last handle)
                // closes the socket.
                this.source = None;
                return Poll::Ready(());
            }
            this.core.borrow_mut().router_waker = Some(cx.waker().clone());
            let item = match Pin::new(source).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(item) => item,
            };
            let mut core = this.core.borrow_mut();
            match item {
                Some(Ok(message)) => {
                    let routed = core.route(message);
                    if let Routed::Done = routed {
                        continue;
                    }
                    // Sent or closed with the core released: either may
                    // report at once.
                    let link = core.link.clone();
                    drop(core);
                    match routed {
                        Routed::Done => {}
                        Routed::CloseForLimit => {
                            let _ = link
                                .close_with(RECEIVE_LIMIT_CLOSE_CODE, RECEIVE_LIMIT_CLOSE_REASON);
                        }
                        Routed::Send(messages) => {
                            for message in &messages {
                                // A send fails only once the socket closed,
                                // which ends what waits.
                                let _ = link.send(message);
                            }
                            rearm(&this.core);
                        }
                    }
                }
                Some(Err(error)) => {
                    if matches!(error, Error::ConnectionClosed { .. }) {
                        core.end(Ending::Disconnected);
                    }
                    core.pass_on_error(error);
                }
                None => {
                    core.end(Ending::Closed);
                    core.wake_others();
                    drop(core);
                    this.source = None;
                    return Poll::Ready(());
                }
            }
        }
    }
}
