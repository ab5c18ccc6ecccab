//! One connection for every tab: [`SharedWebSocket`]. The tabs of an origin
//! that open it with the same name share one WebSocket. One tab leads (it
//! holds a Web Lock, which passes to another tab when it closes or crashes)
//! and owns a [`ReconnectingWebSocket`]; it fans incoming messages out to the
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
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use futures_sink::Sink;

pub use crate::rules::tabs::{Role, SharedEvent};

use crate::js::global;
use crate::js::listeners::{PageLifeListener, PageSignal};
use crate::js::socket::received_len;
use crate::js::tabs::TabLink;
use crate::reconnect::{ReconnectEvent, ReconnectingBuilder, ReconnectingWebSocket, SendPolicy};
use crate::rules::close::{CloseCode, CloseEvent};
use crate::rules::error::{Error, Result};
use crate::rules::inbox::{Admitted, Inbox, DEFAULT_RECEIVE_LIMIT};
use crate::rules::message::{BinaryType, Message, ReadyState};
use crate::rules::tabs::{Command, Input, TabMachine};

type Configure = Rc<dyn Fn(ReconnectingBuilder) -> ReconnectingBuilder>;
type MessageFn = Box<dyn FnMut(Message)>;
type EventFn = Box<dyn FnMut(&SharedEvent)>;

/// A WebSocket shared by the tabs of an origin that open it with the same
/// name: one connection, whichever tab holds it. A `Stream` of the messages
/// every tab receives and a `Sink` of this tab's messages, like
/// [`ReconnectingWebSocket`].
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

    /// Configures the [`ReconnectingWebSocket`] this tab opens whenever it
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
        });
        Tab::join(&tab);
        SharedWebSocket { tab }
    }
}

/// What a tab needs to open the connection each time it leads.
struct LeaderSetup {
    url: String,
    configure: Option<Configure>,
}

/// One tab's part: the machine, the link to the other tabs, the connection
/// while it leads, and what the app reads.
struct Tab {
    name: String,
    binary_type: BinaryType,
    machine: RefCell<TabMachine>,
    link: RefCell<Option<TabLink>>,
    /// While sharing: a page going into the back/forward cache steps out
    /// (a frozen page would keep the lock, and the other tabs without a
    /// connection), and joins again when back.
    page_life: RefCell<Option<PageLifeListener>>,
    connection: RefCell<Option<ReconnectingWebSocket>>,
    leader: RefCell<Option<LeaderSetup>>,
    /// Inputs that arrived while another was being carried out.
    inputs: RefCell<VecDeque<Input>>,
    busy: Cell<bool>,
    inbox: RefCell<Inbox>,
    reader: RefCell<Option<Waker>>,
    writer: RefCell<Option<Waker>>,
    on_message: RefCell<Option<MessageFn>>,
    on_event: RefCell<Option<EventFn>>,
    /// Left or ended: the stream ends, sends fail.
    finished: Cell<bool>,
}

impl Tab {
    fn join(tab: &Rc<Self>) {
        match tab.open_link() {
            Ok(()) => {
                let page_life = {
                    let tab = Rc::downgrade(tab);
                    PageLifeListener::attach(move |signal| match signal {
                        PageSignal::Hidden => feed(&tab, Input::Away),
                        PageSignal::Shown => feed(&tab, Input::Back),
                        _ => {}
                    })
                };
                *tab.page_life.borrow_mut() = page_life;
                tab.say_hello();
            }
            Err(missing) => tab.feed(Input::Alone { missing }),
        }
    }

    /// Opens this tab's channel and lock request; `Err(missing API)` where
    /// the browser cannot share.
    fn open_link(self: &Rc<Self>) -> std::result::Result<(), &'static str> {
        let on_envelope = {
            let tab = Rc::downgrade(self);
            move |envelope| feed(&tab, Input::Posted(envelope))
        };
        let on_elected = {
            let tab = Rc::downgrade(self);
            move || feed(&tab, Input::Elected)
        };
        let link = TabLink::open(&self.name, self.binary_type, on_envelope, on_elected)?;
        *self.link.borrow_mut() = Some(link);
        Ok(())
    }

    fn say_hello(self: &Rc<Self>) {
        let hello = self.machine.borrow().hello();
        self.execute(hello);
    }

    fn send(self: &Rc<Self>, message: Message) -> Result<()> {
        if self.finished.get() {
            return Err(closed());
        }
        self.machine.borrow().check_room()?;
        self.feed(Input::AppSend(message));
        Ok(())
    }

    /// Carries out `input` and whatever it leads to, one input at a time:
    /// an input arriving meanwhile (from a callback) waits its turn.
    fn feed(self: &Rc<Self>, input: Input) {
        self.inputs.borrow_mut().push_back(input);
        if self.busy.replace(true) {
            return;
        }
        loop {
            let next = self.inputs.borrow_mut().pop_front();
            let Some(input) = next else { break };
            let mut commands: VecDeque<Command> = self.machine.borrow_mut().handle(input).into();
            while let Some(command) = commands.pop_front() {
                // A transmission's outcome is handled at once, before
                // anything else, so the next message goes only after it.
                if let Some(outcome) = self.execute(command) {
                    let next = self.machine.borrow_mut().handle(outcome);
                    for command in next.into_iter().rev() {
                        commands.push_front(command);
                    }
                }
            }
        }
        self.busy.set(false);
        if let Some(writer) = self.writer.borrow_mut().take() {
            writer.wake();
        }
    }

    fn execute(self: &Rc<Self>, command: Command) -> Option<Input> {
        match command {
            Command::Post(envelope) => {
                if let Some(link) = self.link.borrow().as_ref() {
                    link.post(&envelope);
                }
            }
            Command::Transmit { tab, seq, message } => {
                let handed = self.connection.borrow().as_ref().is_some_and(|connection| {
                    connection
                        .send_with(&message, SendPolicy::FailOnDisconnect)
                        .is_ok()
                });
                return Some(Input::Transmitted { tab, seq, handed });
            }
            Command::Deliver(message) => self.deliver(message),
            Command::Report(event) => self.report(&event),
            Command::OpenConnection => self.open_connection(),
            Command::StepOut => self.step_out(),
            Command::Rejoin => match self.open_link() {
                Ok(()) => self.say_hello(),
                Err(missing) => return Some(Input::Alone { missing }),
            },
            Command::End => self.finish(),
        }
        None
    }

    fn deliver(&self, message: Message) {
        if self.finished.get() {
            return;
        }
        let callback = self.on_message.borrow_mut().take();
        if let Some(mut on_message) = callback {
            on_message(message);
            restore(&self.on_message, on_message);
            return;
        }
        let bytes = received_len(&message);
        let admitted = self.inbox.borrow_mut().push_message(message, bytes);
        if admitted == Admitted::LimitExceeded {
            self.leave();
        }
        if let Some(reader) = self.reader.borrow_mut().take() {
            reader.wake();
        }
    }

    fn report(&self, event: &SharedEvent) {
        let callback = self.on_event.borrow_mut().take();
        if let Some(mut on_event) = callback {
            on_event(event);
            restore(&self.on_event, on_event);
        }
    }

    /// This tab leads: it opens the connection, whose messages and events
    /// come back to the machine.
    fn open_connection(self: &Rc<Self>) {
        // Copied out: `configure` is the app's code, run with no borrow held.
        let Some((url, configure)) = self
            .leader
            .borrow()
            .as_ref()
            .map(|setup| (setup.url.clone(), setup.configure.clone()))
        else {
            return;
        };
        let mut builder = ReconnectingWebSocket::builder(url);
        if let Some(configure) = configure {
            builder = configure(builder);
        }
        let on_message = {
            let tab = Rc::downgrade(self);
            move |message| feed(&tab, Input::ServerMessage(message))
        };
        let on_event = {
            let tab = Rc::downgrade(self);
            move |event: &ReconnectEvent| {
                if let Some(tab) = tab.upgrade() {
                    tab.connection_event(event);
                }
            }
        };
        let connection = builder
            .binary_type(self.binary_type)
            .send_policy(SendPolicy::FailOnDisconnect)
            .on_message(on_message)
            .on_event(on_event)
            .connect();
        *self.connection.borrow_mut() = Some(connection);
    }

    fn connection_event(self: &Rc<Self>, event: &ReconnectEvent) {
        match event {
            ReconnectEvent::Open { .. } => self.feed(Input::Connected),
            ReconnectEvent::Closed { close, .. } => {
                let ended = self
                    .connection
                    .try_borrow()
                    .ok()
                    .and_then(|connection| {
                        connection
                            .as_ref()
                            .map(|connection| connection.is_finished())
                    })
                    .unwrap_or(false);
                self.feed(if ended {
                    Input::Ended(close.clone())
                } else {
                    Input::Disconnected
                });
            }
            ReconnectEvent::GaveUp { .. } => {
                let close = self
                    .connection
                    .try_borrow()
                    .ok()
                    .and_then(|connection| connection.as_ref().and_then(|c| c.close_event()))
                    .unwrap_or_else(abnormal_close);
                self.feed(Input::Ended(close));
            }
            _ => {}
        }
    }

    fn finish(&self) {
        self.finished.set(true);
        if let Some(reader) = self.reader.borrow_mut().take() {
            reader.wake();
        }
        if let Some(writer) = self.writer.borrow_mut().take() {
            writer.wake();
        }
    }

    /// Lets go of the channel, the lock and any connection.
    fn step_out(&self) {
        // Dropped outside the borrows: closing may call back.
        let link = self.link.borrow_mut().take();
        let connection = self
            .connection
            .try_borrow_mut()
            .ok()
            .and_then(|mut slot| slot.take());
        drop((link, connection));
    }

    fn leave(&self) {
        self.leader.borrow_mut().take();
        let page_life = self.page_life.borrow_mut().take();
        drop(page_life);
        // Finished first: whatever closing calls back finds the tab gone.
        self.finish();
        self.step_out();
    }
}

fn feed(tab: &Weak<Tab>, input: Input) {
    if let Some(tab) = tab.upgrade() {
        tab.feed(input);
    }
}

fn restore<T>(slot: &RefCell<Option<T>>, value: T) {
    let mut slot = slot.borrow_mut();
    if slot.is_none() {
        *slot = Some(value);
    }
}

fn closed() -> Error {
    Error::NotOpen {
        state: ReadyState::Closed,
    }
}

fn abnormal_close() -> CloseEvent {
    CloseEvent {
        code: CloseCode::Abnormal,
        reason: String::new(),
        was_clean: false,
    }
}

/// A name for this tab that no other tab of the origin picks.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn random_tab_id() -> String {
    format!(
        "{:x}{:x}",
        (global::random() * 2f64.powi(52)) as u64,
        global::now_ms() as u64
    )
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
