//! Configuring a [`ReconnectingWebSocket`]: where to connect ([`Target`]), the
//! app-level [`Heartbeat`], and the [`ReconnectingBuilder`].

use std::rc::Rc;
use std::time::Duration;

use crate::reconnect::driver::{Config, EventFn, Inner, MessageFn, OpenFn, TargetFn};
use crate::reconnect::handle::ReconnectingHandle;
use crate::reconnect::ReconnectingWebSocket;
use crate::rules::flow::FlowControl;
use crate::rules::inbox::{Inbox, DEFAULT_RECEIVE_LIMIT};
use crate::rules::message::{BinaryType, Message};
use crate::rules::outbox::{Outbox, SendPolicy};
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
    idle_timeout: Option<Duration>,
    max_queued_messages: usize,
    max_queued_bytes: usize,
    send_policy: SendPolicy,
    on_event: Option<EventFn>,
    on_message: Option<MessageFn>,
    on_open: Option<OpenFn>,
    follow_page_life: bool,
    receive_limit: Option<usize>,
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    native: crate::native::options::NativeOptions,
}

impl ReconnectingBuilder {
    /// Hooks of a layer above the socket (the request layer), run with the
    /// app's: events after the app's callback, and on every open after the
    /// app's (which re-authenticates first). Messages go to the stream, which
    /// the layer reads: an `on_message` callback is dropped.
    pub(crate) fn with_layer_hooks(
        mut self,
        mut on_event: impl FnMut(&ReconnectEvent) + 'static,
        mut on_open: impl FnMut(&ReconnectingHandle, u64) + 'static,
    ) -> Self {
        let mut app_on_event = self.on_event.take();
        self.on_event = Some(Box::new(move |event| {
            if let Some(app) = app_on_event.as_mut() {
                app(event);
            }
            on_event(event);
        }));
        let mut app_on_open = self.on_open.take();
        self.on_open = Some(Box::new(move |handle, session| {
            if let Some(app) = app_on_open.as_mut() {
                app(handle, session);
            }
            on_open(handle, session);
        }));
        self.on_message = None;
        self
    }

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

    /// The flow control of the `Sink` (default 1.75 MiB / 1 MiB): while
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

    /// Declares the connection dead after `timeout` with no incoming frame
    /// (none by default). Any message counts as proof of life, pongs included.
    /// With a [heartbeat](Self::heartbeat), silence that long sends a ping at
    /// once (any frame within the heartbeat's timeout answers it); without
    /// one, the connection is dropped and, by the policy, replaced.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("/live").idle_timeout(Duration::from_secs(45));
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// What the `send_*` methods and the `Sink` do with a message while no
    /// connection is open (default [`SendPolicy::Replay`]: queue it for the
    /// next); [`send_with`](crate::ReconnectingHandle::send_with) chooses per
    /// message.
    ///
    /// ```
    /// use browser_websocket::{ReconnectingWebSocket, SendPolicy};
    /// let builder = ReconnectingWebSocket::builder("/live").send_policy(SendPolicy::FailOnDisconnect);
    /// ```
    pub fn send_policy(mut self, policy: SendPolicy) -> Self {
        self.send_policy = policy;
        self
    }

    /// Whether to follow the page's life (on by default):
    ///
    /// - entering the back/forward cache (`pagehide` with `persisted`) closes
    ///   the connection cleanly (1000, "page suspended"), so the page stays
    ///   eligible for the cache, and reports [`ReconnectEvent::Suspended`];
    ///   coming back (`pageshow` with `persisted`) reports
    ///   [`ReconnectEvent::Resumed`] and reconnects at once, the backoff reset;
    /// - the page becoming visible, or a timer firing far later than asked (the
    ///   machine slept, or a hidden tab's timers were throttled), checks an open
    ///   connection at once (see [`heartbeat`](Self::heartbeat) and
    ///   [`idle_timeout`](Self::idle_timeout)) and replaces it at once if it
    ///   is dead, and starts a waiting retry at once;
    /// - `offline` stops counting failed attempts and slows retries to the
    ///   policy's longest delay; `online` starts a waiting retry at once.
    ///
    /// ```
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("/live").follow_page_life(false);
    /// ```
    pub fn follow_page_life(mut self, enabled: bool) -> Self {
        self.follow_page_life = enabled;
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
    pub fn on_message(mut self, mut on_message: impl FnMut(Message) + 'static) -> Self {
        self.on_message = Some(Box::new(move |_session, message| on_message(message)));
        self
    }

    /// Delivers messages to this callback, with the session (the connection,
    /// numbered from 1) each arrived on, instead of the `Stream`.
    ///
    /// ```
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("/live")
    ///     .on_session_message(|session, message| {
    ///         let _ = (session, message.as_text());
    ///     });
    /// ```
    pub fn on_session_message(mut self, on_message: impl FnMut(u64, Message) + 'static) -> Self {
        self.on_message = Some(Box::new(on_message));
        self
    }

    /// Runs on every (re)opened connection, with its session number, before
    /// anything queued is sent: what it sends through the handle goes out
    /// first. The place to re-authenticate and resubscribe.
    ///
    /// ```
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("/live").on_open(|socket, session| {
    ///     let _ = socket.send_text("auth token-123");
    ///     let _ = socket.send_text(&format!("subscribe prices (session {session})"));
    /// });
    /// ```
    pub fn on_open(mut self, on_open: impl FnMut(&ReconnectingHandle, u64) + 'static) -> Self {
        self.on_open = Some(Box::new(on_open));
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

    /// Natively only: a header sent with every attempt's upgrade request, as
    /// [`WebSocketBuilder::header`](crate::WebSocketBuilder::header). A
    /// header refused ends the socket with [`Error::InvalidHeader`](crate::Error::InvalidHeader)
    /// on its stream, with no retry.
    ///
    /// ```
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("wss://example.com/live")
    ///     .header("Authorization", "Bearer token-123");
    /// ```
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.native.add_header(name.into(), value.into());
        self
    }

    /// Natively only: trusts `certificate` (DER or PEM) as a root for `wss:`
    /// on every attempt, as [`WebSocketBuilder::trust_certificate`](crate::WebSocketBuilder::trust_certificate).
    ///
    /// ```
    /// let builder = browser_websocket::ReconnectingWebSocket::builder("wss://localhost:8443/live")
    ///     .trust_certificate(std::fs::read("ca.pem").unwrap_or_default());
    /// ```
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    pub fn trust_certificate(mut self, certificate: impl Into<Vec<u8>>) -> Self {
        self.native.add_root(certificate.into());
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
            idle_timeout: self.idle_timeout,
            follow_page_life: self.follow_page_life,
            send_policy: self.send_policy,
            target: self.target,
            on_event: self.on_event,
            on_message: self.on_message,
            on_open: self.on_open,
            inbox: Inbox::new(self.receive_limit),
            outbox: Outbox::new(self.max_queued_messages, self.max_queued_bytes),
            #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
            native: self.native,
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
            idle_timeout: None,
            max_queued_messages: 1024,
            max_queued_bytes: 1 << 20,
            send_policy: SendPolicy::Replay,
            on_event: None,
            on_message: None,
            on_open: None,
            follow_page_life: true,
            receive_limit: Some(DEFAULT_RECEIVE_LIMIT),
            #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
            native: crate::native::options::NativeOptions::default(),
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
