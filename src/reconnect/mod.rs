//! [`ReconnectingWebSocket`]: a socket that comes back after network drops and
//! server restarts, with backoff, a send queue while down, and a heartbeat.

mod driver;
mod policy;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;

use policy::OutgoingQueue;
pub use policy::ReconnectPolicy;

use crate::{
    BinaryType, CloseCode, CloseEvent, Error, FlowControl, Handle, Message, ReadyState, Result,
};

/// Where to connect for one attempt: asked for before each attempt, so that a
/// fresh token can go into the URL.
///
/// # Example
///
/// ```
/// use websocket_web::Target;
/// let target = Target::new("wss://example.com/live?token=abc").protocols(["v2"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL, with the rules of [`WebSocket::connect`](crate::WebSocket::connect).
    pub url: String,
    /// The subprotocols to offer.
    pub protocols: Vec<String>,
}

impl Target {
    /// A URL with no subprotocols.
    ///
    /// ```
    /// let target = websocket_web::Target::new("/live");
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            protocols: Vec::new(),
        }
    }

    /// The subprotocols to offer.
    ///
    /// ```
    /// let target = websocket_web::Target::new("/live").protocols(["v2", "v1"]);
    /// ```
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }
}

/// An app-level heartbeat (browsers cannot send ping frames): `ping` is sent
/// every `interval`; a message for which `is_pong` is true answers it, and is
/// not passed on. No answer within `timeout` declares the connection dead: it is
/// dropped and, by the policy, reconnected.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use websocket_web::{Heartbeat, Message};
///
/// let heartbeat = Heartbeat::new(Duration::from_secs(20), Duration::from_secs(5), "ping", |message| {
///     message.as_text() == Some("pong")
/// });
/// ```
#[derive(Clone)]
pub struct Heartbeat {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) ping: Message,
    pub(crate) is_pong: Rc<dyn Fn(&Message) -> bool>,
}

impl Heartbeat {
    /// Pings every `interval`, and waits `timeout` for the pong.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let heartbeat = websocket_web::Heartbeat::new(
    ///     Duration::from_secs(30), Duration::from_secs(10), "{\"type\":\"ping\"}",
    ///     |message| message.as_text() == Some("{\"type\":\"pong\"}"),
    /// );
    /// ```
    pub fn new(
        interval: Duration,
        timeout: Duration,
        ping: impl Into<Message>,
        is_pong: impl Fn(&Message) -> bool + 'static,
    ) -> Self {
        Self {
            interval,
            timeout,
            ping: ping.into(),
            is_pong: Rc::new(is_pong),
        }
    }
}

impl std::fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heartbeat")
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("ping", &self.ping)
            .finish_non_exhaustive()
    }
}

/// What a [`ReconnectingWebSocket`] is doing, for the app to observe.
///
/// # Example
///
/// ```
/// use websocket_web::ReconnectEvent;
/// let describe = |event: &ReconnectEvent| match event {
///     ReconnectEvent::Connecting { attempt, delay } => format!("attempt {attempt} in {delay:?}"),
///     ReconnectEvent::Open { .. } => "online".to_owned(),
///     ReconnectEvent::Closed(close) => format!("closed: {close}"),
///     ReconnectEvent::GaveUp { attempts } => format!("gave up after {attempts} attempts"),
/// };
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ReconnectEvent {
    /// Attempt `attempt` (1 after a good connection) starts after `delay`.
    Connecting {
        /// The attempt's number in the current run of failures, from 1.
        attempt: u32,
        /// How long it waits first.
        delay: Duration,
    },
    /// Connected; queued messages are being sent.
    Open {
        /// Which attempt succeeded.
        attempt: u32,
    },
    /// A connection ended or an attempt failed, with how.
    Closed(CloseEvent),
    /// The policy's attempts are used up; the socket is closed for good.
    GaveUp {
        /// How many attempts failed in a row.
        attempts: u32,
    },
}

type EventFn = Box<dyn FnMut(&ReconnectEvent)>;
type MessageFn = Box<dyn FnMut(Message)>;
type TargetFn = Box<dyn FnMut() -> Target>;

/// Configures a [`ReconnectingWebSocket`]; made by
/// [`ReconnectingWebSocket::builder`] or [`ReconnectingWebSocket::builder_with`].
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use websocket_web::{ReconnectPolicy, ReconnectingWebSocket};
///
/// let socket = ReconnectingWebSocket::builder("/live")
///     .policy(ReconnectPolicy::default().max_attempts(Some(10)))
///     .queue_limits(100, 64 * 1024)
///     .on_event(|event| web_sys::console::log_1(&format!("{event:?}").into()))
///     .start();
/// ```
#[must_use = "a builder does nothing until started"]
pub struct ReconnectingBuilder {
    target: TargetFn,
    policy: ReconnectPolicy,
    binary_type: BinaryType,
    flow: FlowControl,
    heartbeat: Option<Heartbeat>,
    max_queued_messages: usize,
    max_queued_bytes: usize,
    on_event: Option<EventFn>,
    on_message: Option<MessageFn>,
    reconnect_when_online: bool,
}

impl ReconnectingBuilder {
    /// The retry policy (default: [`ReconnectPolicy::default`]).
    ///
    /// ```
    /// use websocket_web::{ReconnectPolicy, ReconnectingWebSocket};
    /// let builder = ReconnectingWebSocket::builder("/live").policy(ReconnectPolicy::default().factor(1.5));
    /// ```
    pub fn policy(mut self, policy: ReconnectPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How binary messages arrive on each connection.
    ///
    /// ```
    /// use websocket_web::{BinaryType, ReconnectingWebSocket};
    /// let builder = ReconnectingWebSocket::builder("/live").binary_type(BinaryType::Blob);
    /// ```
    pub fn binary_type(mut self, binary_type: BinaryType) -> Self {
        self.binary_type = binary_type;
        self
    }

    /// The flow control of each connection's `Sink`.
    ///
    /// ```
    /// use websocket_web::{FlowControl, ReconnectingWebSocket};
    /// let builder = ReconnectingWebSocket::builder("/live").flow_control(FlowControl::unlimited());
    /// ```
    pub fn flow_control(mut self, flow: FlowControl) -> Self {
        self.flow = flow;
        self
    }

    /// An app-level heartbeat (none by default).
    ///
    /// ```
    /// # use std::time::Duration;
    /// use websocket_web::{Heartbeat, ReconnectingWebSocket};
    /// let builder = ReconnectingWebSocket::builder("/live").heartbeat(Heartbeat::new(
    ///     Duration::from_secs(20), Duration::from_secs(5), "ping", |m| m.as_text() == Some("pong"),
    /// ));
    /// ```
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// How much may wait to be sent while disconnected (default 1,024 messages,
    /// 1 MiB); past it, sends fail with [`Error::QueueFull`].
    ///
    /// ```
    /// let builder = websocket_web::ReconnectingWebSocket::builder("/live").queue_limits(10, 4096);
    /// ```
    pub fn queue_limits(mut self, messages: usize, bytes: usize) -> Self {
        self.max_queued_messages = messages;
        self.max_queued_bytes = bytes;
        self
    }

    /// Whether to stop waiting and reconnect at once when the browser reports
    /// being back online (the global `online` event). On by default.
    ///
    /// ```
    /// let builder = websocket_web::ReconnectingWebSocket::builder("/live").reconnect_when_online(false);
    /// ```
    pub fn reconnect_when_online(mut self, enabled: bool) -> Self {
        self.reconnect_when_online = enabled;
        self
    }

    /// Called with every lifecycle event.
    ///
    /// ```
    /// let builder = websocket_web::ReconnectingWebSocket::builder("/live").on_event(|event| {
    ///     let _ = event;
    /// });
    /// ```
    pub fn on_event(mut self, on_event: impl FnMut(&ReconnectEvent) + 'static) -> Self {
        self.on_event = Some(Box::new(on_event));
        self
    }

    /// Delivers messages to this callback instead of the `Stream`.
    ///
    /// ```
    /// let builder = websocket_web::ReconnectingWebSocket::builder("/live").on_message(|message| {
    ///     let _ = message.as_text();
    /// });
    /// ```
    pub fn on_message(mut self, on_message: impl FnMut(Message) + 'static) -> Self {
        self.on_message = Some(Box::new(on_message));
        self
    }

    /// Starts connecting, in the background; returns at once.
    ///
    /// ```no_run
    /// let socket = websocket_web::ReconnectingWebSocket::builder("/live").start();
    /// socket.send_text("queued until connected")?;
    /// # Ok::<(), websocket_web::Error>(())
    /// ```
    pub fn start(self) -> ReconnectingWebSocket {
        let inner = Rc::new(Inner {
            policy: self.policy,
            binary_type: self.binary_type,
            flow: self.flow,
            heartbeat: self.heartbeat,
            reconnect_when_online: self.reconnect_when_online,
            target: RefCell::new(self.target),
            on_event: RefCell::new(self.on_event),
            on_message: RefCell::new(self.on_message),
            state: RefCell::new(State {
                current: None,
                queue: OutgoingQueue::new(self.max_queued_messages, self.max_queued_bytes),
                incoming: VecDeque::new(),
                reader: None,
                driver: None,
                closed_by_app: false,
                finished: false,
            }),
            last_close: RefCell::new(None),
            connected: Cell::new(false),
        });
        wasm_bindgen_futures::spawn_local(driver::Driver::new(Rc::clone(&inner)));
        ReconnectingWebSocket { inner }
    }
}

pub(crate) struct Inner {
    policy: ReconnectPolicy,
    binary_type: BinaryType,
    flow: FlowControl,
    heartbeat: Option<Heartbeat>,
    reconnect_when_online: bool,
    target: RefCell<TargetFn>,
    on_event: RefCell<Option<EventFn>>,
    on_message: RefCell<Option<MessageFn>>,
    state: RefCell<State>,
    last_close: RefCell<Option<CloseEvent>>,
    connected: Cell<bool>,
}

struct State {
    current: Option<Handle>,
    queue: OutgoingQueue,
    incoming: VecDeque<Message>,
    reader: Option<Waker>,
    driver: Option<Waker>,
    closed_by_app: bool,
    finished: bool,
}

impl Inner {
    fn emit(&self, event: ReconnectEvent) {
        if let ReconnectEvent::Closed(close) = &event {
            *self.last_close.borrow_mut() = Some(close.clone());
        }
        // The callback runs with no borrow of the state held; a re-entrant
        // event (the callback closing the socket) is delivered by the next one.
        if let Ok(mut slot) = self.on_event.try_borrow_mut() {
            if let Some(on_event) = slot.as_mut() {
                on_event(&event);
            }
        }
    }

    fn deliver(&self, message: Message) {
        if let Ok(mut slot) = self.on_message.try_borrow_mut() {
            if let Some(on_message) = slot.as_mut() {
                on_message(message);
                return;
            }
        }
        let reader = {
            let mut state = self.state.borrow_mut();
            state.incoming.push_back(message);
            state.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    fn wake_driver(&self) {
        let driver = self.state.borrow_mut().driver.take();
        if let Some(driver) = driver {
            driver.wake();
        }
    }
}

/// A WebSocket that reconnects: after network drops, server restarts (1001,
/// 1012, 1013) and dead connections found by the heartbeat, with exponential
/// backoff and full jitter, never after the app's own `close()` or a code the app
/// marks final. Messages sent while disconnected are queued (bounded) and sent
/// in order on reconnect. A `Stream` of received messages and a `Sink` of
/// messages to send, like [`WebSocket`](crate::WebSocket).
///
/// Dropping it closes the current connection (1000) and stops reconnecting.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> websocket_web::Result<()> {
/// use std::time::Duration;
/// use futures_util::StreamExt;
/// use websocket_web::{Heartbeat, ReconnectPolicy, ReconnectingWebSocket, Target};
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
pub struct ReconnectingWebSocket {
    inner: Rc<Inner>,
}

impl ReconnectingWebSocket {
    /// A builder that connects to `url` on every attempt.
    ///
    /// ```
    /// let builder = websocket_web::ReconnectingWebSocket::builder("wss://example.com/live");
    /// ```
    pub fn builder(url: impl Into<String>) -> ReconnectingBuilder {
        let target = Target::new(url);
        Self::builder_with(move || target.clone())
    }

    /// A builder that asks `target` where to connect before every attempt.
    ///
    /// ```
    /// use websocket_web::{ReconnectingWebSocket, Target};
    /// let builder = ReconnectingWebSocket::builder_with(|| Target::new("/live"));
    /// ```
    pub fn builder_with(target: impl FnMut() -> Target + 'static) -> ReconnectingBuilder {
        ReconnectingBuilder {
            target: Box::new(target),
            policy: ReconnectPolicy::default(),
            binary_type: BinaryType::ArrayBuffer,
            flow: FlowControl::default(),
            heartbeat: None,
            max_queued_messages: 1024,
            max_queued_bytes: 1 << 20,
            on_event: None,
            on_message: None,
            reconnect_when_online: true,
        }
    }

    /// Connects to `url` with the default policy.
    ///
    /// ```no_run
    /// let socket = websocket_web::ReconnectingWebSocket::connect("/live");
    /// ```
    pub fn connect(url: impl Into<String>) -> Self {
        Self::builder(url).start()
    }

    /// Sends now if connected, else queues it for the next connection.
    ///
    /// # Errors
    ///
    /// [`Error::QueueFull`] when disconnected with a full queue;
    /// [`Error::NotOpen`] once closed for good.
    ///
    /// ```no_run
    /// let socket = websocket_web::ReconnectingWebSocket::connect("/live");
    /// socket.send_message(websocket_web::Message::from("hi"))?;
    /// # Ok::<(), websocket_web::Error>(())
    /// ```
    pub fn send_message(&self, message: Message) -> Result<()> {
        let current = {
            let state = self.inner.state.borrow();
            if state.finished || state.closed_by_app {
                return Err(Error::NotOpen {
                    state: ReadyState::Closed,
                });
            }
            // Keep the order: while older messages wait, new ones queue behind.
            if state.queue.len() == 0 {
                state.current.clone()
            } else {
                None
            }
        };
        if let Some(current) = current {
            match current.send_message(&message) {
                Err(Error::NotOpen { .. }) => {}
                sent => return sent,
            }
        }
        self.inner.state.borrow_mut().queue.push(message)
    }

    /// Sends a text message (now, or queued while disconnected).
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    ///
    /// ```no_run
    /// let socket = websocket_web::ReconnectingWebSocket::connect("/live");
    /// socket.send_text("hi")?;
    /// # Ok::<(), websocket_web::Error>(())
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
    /// let socket = websocket_web::ReconnectingWebSocket::connect("/live");
    /// socket.send_bytes(&[1, 2, 3])?;
    /// # Ok::<(), websocket_web::Error>(())
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.send_message(Message::Binary(bytes.to_vec()))
    }

    /// Closes for good with 1000: no reconnection follows.
    ///
    /// # Errors
    ///
    /// None today; kept a `Result` like [`Handle::close`].
    ///
    /// ```no_run
    /// let socket = websocket_web::ReconnectingWebSocket::connect("/live");
    /// socket.close()?;
    /// # Ok::<(), websocket_web::Error>(())
    /// ```
    pub fn close(&self) -> Result<()> {
        self.close_with(CloseCode::Normal, "")
    }

    /// Closes for good with a code and reason, checked as for
    /// [`Handle::close_with`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`], [`Error::ReasonTooLong`].
    ///
    /// ```no_run
    /// let socket = websocket_web::ReconnectingWebSocket::connect("/live");
    /// socket.close_with(4000, "logging out")?;
    /// # Ok::<(), websocket_web::Error>(())
    /// ```
    pub fn close_with(&self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        let code = code.into();
        code.check_sendable()?;
        crate::check_close_reason(reason)?;
        let current = {
            let mut state = self.inner.state.borrow_mut();
            state.closed_by_app = true;
            state.current.clone()
        };
        if let Some(current) = current {
            match current.close_with(code, reason) {
                Ok(()) | Err(Error::NotOpen { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        self.inner.wake_driver();
        Ok(())
    }

    /// Whether a connection is open now.
    ///
    /// ```no_run
    /// let socket = websocket_web::ReconnectingWebSocket::connect("/live");
    /// assert!(!socket.is_connected()); // not yet
    /// ```
    pub fn is_connected(&self) -> bool {
        self.inner.connected.get()
    }

    /// How many messages wait for the next connection.
    ///
    /// ```no_run
    /// let socket = websocket_web::ReconnectingWebSocket::connect("/live");
    /// socket.send_text("later")?;
    /// assert_eq!(socket.queued(), 1);
    /// # Ok::<(), websocket_web::Error>(())
    /// ```
    pub fn queued(&self) -> usize {
        self.inner.state.borrow().queue.len()
    }

    /// How the last connection or attempt ended, if one has.
    ///
    /// ```no_run
    /// let socket = websocket_web::ReconnectingWebSocket::connect("/live");
    /// assert_eq!(socket.last_close(), None);
    /// ```
    pub fn last_close(&self) -> Option<CloseEvent> {
        self.inner.last_close.borrow().clone()
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
        let mut state = self.inner.state.borrow_mut();
        if let Some(message) = state.incoming.pop_front() {
            return Poll::Ready(Some(Ok(message)));
        }
        if state.finished {
            return Poll::Ready(None);
        }
        state.reader = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Sink<Message> for ReconnectingWebSocket {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        let state = self.inner.state.borrow();
        Poll::Ready(if state.finished || state.closed_by_app {
            Err(Error::NotOpen {
                state: ReadyState::Closed,
            })
        } else {
            Ok(())
        })
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        self.send_message(message)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(self.close())
    }
}
