//! One connection for every tab: [`SharedWebSocket`]. The tabs of an origin
//! that open it with the same name share one WebSocket. One tab leads (it
//! holds a Web Lock, which passes to another tab when it closes or crashes)
//! and owns a [`ReconnectingWebSocket`](crate::ReconnectingWebSocket); it fans incoming messages out to the
//! other tabs over a `BroadcastChannel`, and relays their messages in each
//! tab's order. A tab keeps each message it sends until the leading tab has
//! handed it to the connection, so a change of leader loses nothing. Where the
//! browser lacks Web Locks or `BroadcastChannel`, each tab connects on its own
//! and says so ([`SharedEvent::PerTab`]).
//!
//! The protocol is a pure state machine (tested natively); this module
//! carries it out in the browser.
//!
//! ```no_run
//! # async fn demo() -> browser_websocket::Result<()> {
//! use futures_util::StreamExt;
//! use browser_websocket::tabs::SharedWebSocket;
//!
//! // In every tab: one connection to /live for all of them.
//! let mut socket = SharedWebSocket::connect("/live");
//! socket.send_text("subscribe")?; // relayed to the leading tab, in order
//! while let Some(message) = socket.next().await {
//!     println!("{:?}", message?); // every tab receives every message
//! }
//! # Ok(()) }
//! ```

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

pub use crate::rules::tabs::{Role, SharedEvent};

use crate::reconnect::ReconnectingBuilder;
use crate::rules::error::{Error, Result};
use crate::rules::inbox::{Inbox, DEFAULT_RECEIVE_LIMIT};
use crate::rules::message::{BinaryType, Message};
use crate::rules::tabs::TabMachine;

mod tab;

use tab::{closed, random_tab_id, LeaderSetup, Tab};

type Configure = Rc<dyn Fn(ReconnectingBuilder) -> ReconnectingBuilder>;
type MessageFn = Box<dyn FnMut(Message)>;
type EventFn = Box<dyn FnMut(&SharedEvent)>;

/// A WebSocket shared by the tabs of an origin that open it with the same
/// name: one connection, whichever tab holds it. A `Stream` of the messages
/// every tab receives and a `Sink` of this tab's messages, like
/// [`ReconnectingWebSocket`](crate::ReconnectingWebSocket).
///
/// Each tab's messages reach the server once and in that tab's order (the
/// order between tabs is the order the leading tab hears them). While the
/// connection is down, or no tab leads yet, they wait in the tab that sent
/// them (bounded: [`SharedBuilder::queue_limit`]). Every tab receives every
/// message from the server that arrives while it takes part, in order.
///
/// Dropping it leaves: if this tab led, the connection closes (1000) and
/// another tab leads and reconnects.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use futures_util::{SinkExt, StreamExt};
/// use browser_websocket::tabs::SharedWebSocket;
///
/// let mut socket = SharedWebSocket::builder("/live").name("live-feed").connect();
/// socket.send("hello from one tab".into()).await?;
/// while let Some(message) = socket.next().await {
///     println!("{:?}", message?);
/// }
/// # Ok(()) }
/// ```
#[must_use = "dropping it leaves the shared connection"]
pub struct SharedWebSocket {
    tab: Rc<Tab>,
}

/// Options for a [`SharedWebSocket`].
///
/// ```no_run
/// use std::time::Duration;
/// use browser_websocket::{tabs::SharedWebSocket, ReconnectPolicy};
///
/// let socket = SharedWebSocket::builder("/live")
///     .name("live-feed")
///     .configure(|leader| leader.policy(ReconnectPolicy::default().final_codes([4001])))
///     .on_event(|event| web_sys::console::log_1(&format!("{event:?}").into()))
///     .connect();
/// ```
#[must_use = "a builder does nothing until `connect`"]
pub struct SharedBuilder {
    url: String,
    name: Option<String>,
    binary_type: BinaryType,
    queue_limit: usize,
    receive_limit: Option<usize>,
    configure: Option<Configure>,
    on_message: Option<MessageFn>,
    on_event: Option<EventFn>,
}

impl SharedWebSocket {
    /// Joins (or starts) the connection to `url` shared under the name `url`.
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::connect("/live");
    /// ```
    pub fn connect(url: impl Into<String>) -> Self {
        Self::builder(url).connect()
    }

    /// A builder for the connection to `url`.
    ///
    /// ```
    /// let builder = browser_websocket::tabs::SharedWebSocket::builder("/live");
    /// ```
    pub fn builder(url: impl Into<String>) -> SharedBuilder {
        SharedBuilder {
            url: url.into(),
            name: None,
            binary_type: BinaryType::ArrayBuffer,
            queue_limit: 1024,
            receive_limit: Some(DEFAULT_RECEIVE_LIMIT),
            configure: None,
            on_message: None,
            on_event: None,
        }
    }

    /// What this tab is to the connection now.
    ///
    /// ```no_run
    /// use browser_websocket::tabs::{Role, SharedWebSocket};
    /// let socket = SharedWebSocket::connect("/live");
    /// assert_eq!(socket.role(), Role::Electing); // until the first lock or status
    /// ```
    pub fn role(&self) -> Role {
        self.tab.machine.borrow().role()
    }

    /// Whether the shared connection is open, as this tab last heard.
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::connect("/live");
    /// let _ = socket.is_connected();
    /// ```
    pub fn is_connected(&self) -> bool {
        self.tab.machine.borrow().is_connected()
    }

    /// Whether this tab is done with the connection: it left (`leave`, the
    /// receive limit) or the connection ended for good. Its stream then ends
    /// once read, and sends fail.
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::connect("/live");
    /// socket.leave();
    /// assert!(socket.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.tab.finished.get()
    }

    /// This tab's messages not yet handed to the connection.
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::connect("/live");
    /// socket.send_text("hi")?;
    /// assert!(socket.pending() <= 1);
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn pending(&self) -> usize {
        self.tab.machine.borrow().pending()
    }

    /// Sends a message through the shared connection (now, or as soon as it
    /// is open).
    ///
    /// # Errors
    ///
    /// [`Error::QueueFull`] with [`SharedBuilder::queue_limit`] messages
    /// waiting; [`Error::NotOpen`] once left or ended.
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::connect("/live");
    /// socket.send_message(&browser_websocket::Message::from(vec![1, 2, 3]))?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_message(&self, message: &Message) -> Result<()> {
        self.tab.send(message.clone())
    }

    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::connect("/live");
    /// socket.send_text("hi")?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.tab.send(Message::from(text))
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::connect("/live");
    /// socket.send_bytes(&[1, 2, 3])?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.tab.send(Message::from(bytes))
    }

    /// Leaves now, as dropping it does: this tab's stream ends and its
    /// waiting messages are dropped; the other tabs keep the connection.
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::connect("/live");
    /// socket.leave();
    /// ```
    pub fn leave(&self) {
        self.tab.leave();
    }

    /// A `Send + Sync + Clone` handle on this tab's part of the shared
    /// socket, for other threads and for stores that demand `Send` (see
    /// [`SendHandle`](crate::SendHandle)): its sends are this tab's, carried
    /// out on this thread in order, waiting in this tab while no connection
    /// is up.
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::connect("/live");
    /// let handle = socket.send_handle();
    /// handle.send_text("hello")?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    // Inline, so that only apps that call it compile the task it starts.
    #[inline]
    pub fn send_handle(&self) -> crate::SendHandle {
        crate::send_handle::start(crate::send_handle::DrivenShared::new(self.handle()))
    }

    /// A handle for the request layer: sends and state, without the stream.
    pub(crate) fn handle(&self) -> SharedHandle {
        SharedHandle {
            tab: self.tab.clone(),
        }
    }

    /// The name the tabs share, which the request layer's topic locks carry.
    pub(crate) fn name(&self) -> &str {
        &self.tab.name
    }
}

/// What the request layer keeps of a [`SharedWebSocket`] to send on it (the
/// socket itself is its routing task's: dropping that leaves).
#[derive(Clone)]
pub(crate) struct SharedHandle {
    tab: Rc<Tab>,
}

impl SharedHandle {
    pub(crate) fn send_message(&self, message: &Message) -> Result<()> {
        self.tab.send(message.clone())
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.tab.machine.borrow().is_connected()
    }

    pub(crate) fn leave(&self) {
        self.tab.leave();
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.tab.finished.get()
    }

    /// Ready once the tab's state changed since `seen` (which it brings up
    /// to date); else the waker is kept until the next change.
    pub(crate) fn poll_changed(&self, cx: &mut Context<'_>, seen: &mut u64) -> Poll<()> {
        let changes = self.tab.changes.get();
        if changes != *seen {
            *seen = changes;
            return Poll::Ready(());
        }
        self.tab
            .change_waiters
            .borrow_mut()
            .push(cx.waker().clone());
        Poll::Pending
    }
}

impl SharedBuilder {
    /// Tabs that use the same name share a connection (by default the URL
    /// as given).
    ///
    /// ```
    /// let builder = browser_websocket::tabs::SharedWebSocket::builder("/live").name("feed");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How binary messages arrive in this tab (all tabs of a name should use
    /// the same one; the leading tab's connection uses it too).
    ///
    /// ```
    /// use browser_websocket::{tabs::SharedWebSocket, BinaryType};
    /// let builder = SharedWebSocket::builder("/live").binary_type(BinaryType::Blob);
    /// ```
    pub fn binary_type(mut self, binary_type: BinaryType) -> Self {
        self.binary_type = binary_type;
        self
    }

    /// At most this many of this tab's messages wait for the connection
    /// (default 1024); the `Sink` waits and `send_*` fail beyond it.
    ///
    /// ```
    /// let builder = browser_websocket::tabs::SharedWebSocket::builder("/live").queue_limit(64);
    /// ```
    pub fn queue_limit(mut self, messages: usize) -> Self {
        self.queue_limit = messages.max(1);
        self
    }

    /// At most this many bytes of messages wait unread on this tab's stream
    /// (default [`DEFAULT_RECEIVE_LIMIT`], 64
    /// MiB; `None`: no limit). Past it this tab leaves (a tab that never reads
    /// would otherwise hold every message for as long as it is open): its
    /// stream yields the messages, then [`Error::ReceiveLimitExceeded`], then
    /// ends; the other tabs keep the connection.
    ///
    /// ```
    /// let builder = browser_websocket::tabs::SharedWebSocket::builder("/live")
    ///     .receive_limit(Some(1 << 20));
    /// ```
    pub fn receive_limit(mut self, bytes: Option<usize>) -> Self {
        self.receive_limit = bytes;
        self
    }

    /// Configures the [`ReconnectingWebSocket`](crate::ReconnectingWebSocket) this tab opens whenever it
    /// starts leading (called each time: a tab can lead again after its page
    /// comes back from the back/forward cache): policy, heartbeat, protocols.
    /// Its message and event callbacks, send policy and binary type are the
    /// shared socket's own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use browser_websocket::{tabs::SharedWebSocket, Heartbeat};
    /// let builder = SharedWebSocket::builder("/live").configure(|leader| {
    ///     leader.heartbeat(Heartbeat::new(Duration::from_secs(20), Duration::from_secs(5), "ping", |m| {
    ///         m.as_text() == Some("pong")
    ///     }))
    /// });
    /// ```
    pub fn configure(
        mut self,
        configure: impl Fn(ReconnectingBuilder) -> ReconnectingBuilder + 'static,
    ) -> Self {
        self.configure = Some(Rc::new(configure));
        self
    }

    /// Delivers messages to this callback instead of the `Stream`.
    ///
    /// ```
    /// let builder = browser_websocket::tabs::SharedWebSocket::builder("/live")
    ///     .on_message(|message| web_sys::console::log_1(&format!("{message:?}").into()));
    /// ```
    pub fn on_message(mut self, on_message: impl FnMut(Message) + 'static) -> Self {
        self.on_message = Some(Box::new(on_message));
        self
    }

    /// Called with each [`SharedEvent`] in this tab.
    ///
    /// ```
    /// let builder = browser_websocket::tabs::SharedWebSocket::builder("/live")
    ///     .on_event(|event| web_sys::console::log_1(&format!("{event:?}").into()));
    /// ```
    pub fn on_event(mut self, on_event: impl FnMut(&SharedEvent) + 'static) -> Self {
        self.on_event = Some(Box::new(on_event));
        self
    }

    /// For the request layer: `hook` sees every event after the app's own
    /// callback; messages go to the stream (the layer reads it), not to an
    /// app's `on_message`.
    pub(crate) fn with_layer_events(
        mut self,
        mut hook: impl FnMut(&SharedEvent) + 'static,
    ) -> Self {
        let mut app = self.on_event.take();
        self.on_event = Some(Box::new(move |event| {
            if let Some(app) = app.as_mut() {
                app(event);
            }
            hook(event);
        }));
        self.on_message = None;
        self
    }

    /// Joins the tabs of the name; this tab leads if none does.
    ///
    /// ```no_run
    /// let socket = browser_websocket::tabs::SharedWebSocket::builder("/live").connect();
    /// ```
    pub fn connect(self) -> SharedWebSocket {
        let name = self.name.clone().unwrap_or_else(|| self.url.clone());
        let tab = Rc::new(Tab {
            name,
            binary_type: self.binary_type,
            machine: RefCell::new(TabMachine::new(random_tab_id(), self.queue_limit)),
            link: RefCell::new(None),
            page_life: RefCell::new(None),
            connection: RefCell::new(None),
            leader: RefCell::new(Some(LeaderSetup {
                url: self.url,
                configure: self.configure,
            })),
            inputs: RefCell::new(VecDeque::new()),
            busy: Cell::new(false),
            inbox: RefCell::new(Inbox::new(self.receive_limit)),
            reader: RefCell::new(None),
            writer: RefCell::new(None),
            on_message: RefCell::new(self.on_message),
            on_event: RefCell::new(self.on_event),
            finished: Cell::new(false),
            changes: Cell::new(0),
            change_waiters: RefCell::new(Vec::new()),
        });
        Tab::join(&tab);
        SharedWebSocket { tab }
    }
}

impl std::fmt::Debug for SharedWebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let machine = self.tab.machine.borrow();
        f.debug_struct("SharedWebSocket")
            .field("role", &machine.role())
            .field("connected", &machine.is_connected())
            .field("pending", &machine.pending())
            .finish()
    }
}

impl Stream for SharedWebSocket {
    type Item = Result<Message>;

    /// Every message from the server while this tab takes part, in order;
    /// ends once left or ended.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.tab.inbox.borrow_mut().pop();
        if let Some(item) = next {
            return Poll::Ready(Some(item));
        }
        if self.tab.finished.get() {
            return Poll::Ready(None);
        }
        *self.tab.reader.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Ready while this tab's queue has room; a message sent is relayed in order
/// (`flush` does not wait for the server).
impl Sink<Message> for SharedWebSocket {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if self.tab.finished.get() {
            return Poll::Ready(Err(closed()));
        }
        match self.tab.machine.borrow().check_room() {
            Err(Error::QueueFull { .. }) => {
                *self.tab.writer.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
            ready => Poll::Ready(ready),
        }
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        self.tab.send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.tab.leave();
        Poll::Ready(Ok(()))
    }
}
