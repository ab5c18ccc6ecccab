//! Configuring a [`ReconnectingWebSocket`]: where to connect ([`Target`]), the
//! app-level [`Heartbeat`], and the [`ReconnectingBuilder`].

use std::rc::Rc;
use std::time::Duration;

use crate::reconnect::driver::{Config, EventFn, Inner, MessageFn, TargetFn};
use crate::reconnect::ReconnectingWebSocket;
use crate::rules::flow::FlowControl;
use crate::rules::inbox::{Inbox, DEFAULT_RECEIVE_LIMIT};
use crate::rules::message::{BinaryType, Message};
use crate::rules::outbox::Outbox;
use crate::rules::policy::ReconnectPolicy;
use crate::rules::reconnect::ReconnectEvent;

/// Where to connect for one attempt: asked for before each attempt, so that a
/// fresh token can go into the URL.
///
/// # Example
///
/// ```
/// use browser_websocket::Target;
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
    /// let target = browser_websocket::Target::new("/live");
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
    /// let target = browser_websocket::Target::new("/live").protocols(["v2", "v1"]);
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
/// use browser_websocket::{Heartbeat, Message};
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
    /// let heartbeat = browser_websocket::Heartbeat::new(
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

/// Configures a [`ReconnectingWebSocket`]; made by
/// [`ReconnectingWebSocket::builder`] or [`ReconnectingWebSocket::builder_with`].
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use browser_websocket::{ReconnectPolicy, ReconnectingWebSocket};
///
/// let socket = ReconnectingWebSocket::builder("/live")
///     .policy(ReconnectPolicy::default().max_attempts(Some(10)))
///     .queue_limits(100, 64 * 1024)
///     .on_event(|event| web_sys::console::log_1(&format!("{event:?}").into()))
///     .connect();
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
    receive_limit: Option<usize>,
}

impl ReconnectingBuilder {
    /// The retry policy (default: [`ReconnectPolicy::default`]).
    ///
    /// ```
    /// use browser_websocket::{ReconnectPolicy, ReconnectingWebSocket};
    /// let builder = ReconnectingWebSocket::builder("/live").policy(ReconnectPolicy::default().factor(1.5));
    /// ```
    pub fn policy(mut self, policy: ReconnectPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How binary messages arrive on each connection.
    ///
    /// ```
    /// use browser_websocket::{BinaryType, ReconnectingWebSocket};
    /// let builder = ReconnectingWebSocket::builder("/live").binary_type(BinaryType::Blob);
    /// ```
    pub fn binary_type(mut self, binary_type: BinaryType) -> Self {
        self.binary_type = binary_type;
        self
    }

    /// The flow control of the `Sink` (default 1 MiB / 256 KiB): while
    /// connected, it waits while the live connection's `bufferedAmount` is above
    /// the high watermark, as [`WebSocket`](crate::WebSocket)'s `Sink` does.
    ///
    /// ```
    /// use browser_websocket::{FlowControl, ReconnectingWebSocket};
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
    /// use browser_websocket::{Heartbeat, ReconnectingWebSocket};
    /// let builder = ReconnectingWebSocket::builder("/live").heartbeat(Heartbeat::new(
    ///     Duration::from_secs(20), Duration::from_secs(5), "ping", |m| m.as_text() == Some("pong"),
    /// ));
    /// ```
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// How much may wait to be sent while disconnected (default 1,024 messages,
    /// 1 MiB; a Blob counts by its size). Past it the `send_*` methods fail with
    /// [`Error::QueueFull`](crate::Error::QueueFull) and the `Sink` waits for room.
    ///
    /// ```
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("/live").queue_limits(10, 4096);
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
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("/live").reconnect_when_online(false);
    /// ```
    pub fn reconnect_when_online(mut self, enabled: bool) -> Self {
        self.reconnect_when_online = enabled;
        self
    }

    /// Called with every lifecycle event.
    ///
    /// ```
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("/live").on_event(|event| {
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
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("/live").on_message(|message| {
    ///     let _ = message.as_text();
    /// });
    /// ```
    pub fn on_message(mut self, on_message: impl FnMut(Message) + 'static) -> Self {
        self.on_message = Some(Box::new(on_message));
        self
    }

    /// How many bytes of received messages may wait unread on the stream
    /// (default 64 MiB; `None`: no limit), as for
    /// [`WebSocketBuilder::receive_limit`](crate::WebSocketBuilder::receive_limit).
    /// Past it the connection is closed with 4009, the stream yields every
    /// message received so far, then [`Error::ReceiveLimitExceeded`](crate::Error::ReceiveLimitExceeded), and ends:
    /// no reconnection follows.
    ///
    /// ```
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("/live").receive_limit(Some(1 << 20));
    /// ```
    pub fn receive_limit(mut self, bytes: Option<usize>) -> Self {
        self.receive_limit = bytes;
        self
    }

    /// Starts connecting at once; returns at once, while it connects (unlike
    /// [`WebSocketBuilder::connect`](crate::WebSocketBuilder::connect), there is
    /// nothing to wait for: sends are queued until a connection is open).
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::builder("/live").connect();
    /// socket.send_text("queued until connected")?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn connect(self) -> ReconnectingWebSocket {
        let config = Config {
            binary_type: self.binary_type,
            flow: self.flow,
            heartbeat: self.heartbeat,
            reconnect_when_online: self.reconnect_when_online,
            target: self.target,
            on_event: self.on_event,
            on_message: self.on_message,
            inbox: Inbox::new(self.receive_limit),
            outbox: Outbox::new(self.max_queued_messages, self.max_queued_bytes),
        };
        ReconnectingWebSocket::from_inner(Inner::start(self.policy, config))
    }
}

impl ReconnectingWebSocket {
    /// A builder that connects to `url` on every attempt.
    ///
    /// ```
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("wss://example.com/live");
    /// ```
    pub fn builder(url: impl Into<String>) -> ReconnectingBuilder {
        let target = Target::new(url);
        Self::builder_with(move || target.clone())
    }

    /// A builder that asks `target` where to connect before every attempt.
    ///
    /// ```
    /// use browser_websocket::{ReconnectingWebSocket, Target};
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
            receive_limit: Some(DEFAULT_RECEIVE_LIMIT),
        }
    }

    /// Connects to `url` with the default policy.
    ///
    /// ```no_run
    /// let socket = browser_websocket::ReconnectingWebSocket::connect("/live");
    /// ```
    pub fn connect(url: impl Into<String>) -> Self {
        Self::builder(url).connect()
    }
}
