//! Testing your app without a server: an in-page scripted WebSocket server
//! (feature `testing`; browser builds only: natively, point the app at a
//! local server, as this crate's native tests do).
//!
//! [`MockServer::listen`] claims a URL. While it lives, every socket this
//! crate opens to that URL (or below it: `ws://mock/chat` also takes
//! `ws://mock/chat?token=1` and `ws://mock/chat/room`) connects to it instead
//! of the network: [`WebSocket`](crate::WebSocket),
//! [`ReconnectingWebSocket`](crate::ReconnectingWebSocket) and
//! [`Callbacks`](crate::Callbacks) alike, with the same public types, so the
//! code under test is your production code, given a URL. Relative URLs are
//! resolved against the page as the sockets resolve theirs.
//!
//! Each connection is a [`MockConnection`]: the test sends text, bytes and
//! Blobs, closes cleanly, drops the connection abruptly, fails it, or stalls it
//! (a half-open connection), and reads what the client sent. The mock fires the
//! browser's events in the orders the engines produce (the table "What each
//! API reports" in the crate docs), each in a task of its own, never inside a
//! call from the app:
//!
//! | scripted | events the app's socket gets |
//! |---|---|
//! | accepted (the default), after [`MockServer::delay_accept`] if set | `open` |
//! | refused ([`MockServer::refuse_next`]), or a subprotocol the server does not speak | `error`, `close(1006, "", false)` |
//! | [`MockConnection::send_text`], [`send_bytes`](MockConnection::send_bytes), [`send_blob`](MockConnection::send_blob) | `message`, as a string, an `ArrayBuffer` or a `Blob` by the socket's `binaryType` |
//! | [`MockConnection::close`] | `close(code, reason, true)` |
//! | the app's `close(code, reason)` | `close(code, reason, true)` (the server answers), or nothing while stalled |
//! | [`MockConnection::drop_abruptly`] (a TCP drop) | `close(1006, "", false)`, no `error` |
//! | [`MockConnection::fail`] | `error`, `close(1006, "", false)` |
//! | [`MockConnection::stall`] (half-open) | nothing more: sends are accepted, the close handshake is not answered |
//! | the [`MockServer`] dropped | each open connection as [`drop_abruptly`](MockConnection::drop_abruptly) |
//!
//! `readyState`, `protocol`, `url` and `extensions` (always empty) follow as in
//! a browser; `bufferedAmount` is 0 (sends leave at once) unless set with
//! [`MockConnection::set_buffered_amount`], plus what is sent after `close()`.
//! Timing is the page's timers only, so a test is deterministic. It needs a
//! browser (`wasm-bindgen-test` with `run_in_browser`, or a worker).
//!
//! # Example
//!
//! ```no_run
//! use browser_websocket::testing::MockServer;
//! use browser_websocket::{Message, WebSocket};
//! use futures_util::StreamExt;
//!
//! async fn test_echo() {
//!     let server = MockServer::listen("ws://mock/chat");
//!     let mut socket = WebSocket::connect("ws://mock/chat").await.unwrap();
//!     let connection = server.next_connection().await;
//!
//!     socket.send_text("hello").unwrap();
//!     assert_eq!(connection.next_received().await, Some(Message::from("hello")));
//!     connection.send_text("hi");
//!     assert_eq!(socket.next().await.unwrap().unwrap(), Message::from("hi"));
//!
//!     connection.drop_abruptly(); // the stream yields ConnectionClosed (1006)
//!     assert!(socket.next().await.unwrap().is_err());
//! }
//! ```
//!
//! For tests against real sockets, the repository's test server (the
//! `browser-websocket-server` binary) offers an echo and fault routes; see the
//! guide's chapter "Testing your app"
//! (`guide/src/testing.md`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::js::global;
use crate::js::mock::MockSocket;
use crate::rules::message::{Message, ReadyState};

thread_local! {
    /// The servers listening on this page or worker, newest last.
    static SERVERS: RefCell<Vec<Rc<ServerState>>> = const { RefCell::new(Vec::new()) };
}

/// What one [`MockServer`] has been told to do, and its connections.
struct ServerState {
    url: String,
    refuse: Cell<u32>,
    delay_ms: Cell<u32>,
    protocols: RefCell<Vec<String>>,
    answers: RefCell<Vec<(String, String)>>,
    attempts: Cell<usize>,
    accepted: Cell<usize>,
    live: RefCell<Vec<MockSocket>>,
    pending: RefCell<VecDeque<MockConnection>>,
    waker: RefCell<Option<Waker>>,
}

impl ServerState {
    fn matches(&self, url: &str) -> bool {
        match url.strip_prefix(self.url.as_str()) {
            Some(rest) => {
                rest.is_empty() || self.url.ends_with('/') || rest.starts_with(['/', '?'])
            }
            None => false,
        }
    }

    /// A new connection to this server: accepted or refused by its script.
    fn connect(&self, url: &str, offered: &[String]) -> MockSocket {
        self.attempts.set(self.attempts.get() + 1);
        let socket = MockSocket::new(url, offered);
        for (request, reply) in self.answers.borrow().iter() {
            socket.answer(request, reply);
        }
        let delay = self.delay_ms.get();
        let refused = self.refuse.get();
        self.refuse.set(refused.saturating_sub(1));
        match self.choose_protocol(offered) {
            Some(protocol) if refused == 0 => {
                socket.accept(&protocol, delay);
                self.accepted.set(self.accepted.get() + 1);
                let mut live = self.live.borrow_mut();
                live.retain(|socket| !socket.ended());
                live.push(socket.clone());
                self.pending.borrow_mut().push_back(MockConnection {
                    socket: socket.clone(),
                    protocol,
                });
                if let Some(waker) = self.waker.borrow_mut().take() {
                    waker.wake();
                }
            }
            _ => socket.refuse(delay),
        }
        socket
    }

    /// The first subprotocol the client offered that the server speaks;
    /// `""` when the client offered none; `None` (a refused connection) when
    /// the server speaks none of those offered. A server given no list takes
    /// the client's first.
    fn choose_protocol(&self, offered: &[String]) -> Option<String> {
        let speaks = self.protocols.borrow();
        match offered.first() {
            None => Some(String::new()),
            Some(first) if speaks.is_empty() => Some(first.clone()),
            Some(_) => offered.iter().find(|p| speaks.contains(p)).cloned(),
        }
    }
}

/// The mock socket for `url` if a [`MockServer`] listens there: the crate's
/// socket drives it in place of the browser's.
fn intercept(url: &str, offered: &[String]) -> Option<web_sys::WebSocket> {
    let server = SERVERS.with(|servers| {
        servers
            .borrow()
            .iter()
            .filter(|server| server.matches(url))
            // The last of the longest: the newest wins a tie.
            .max_by_key(|server| server.url.len())
            .cloned()
    })?;
    Some(server.connect(url, offered).as_browser_socket())
}

/// An in-page WebSocket server at a URL, scripted by the test. Dropping it
/// stops it: its open connections drop as a TCP drop would (1006), and sockets
/// opened later go to the network.
///
/// # Example
///
/// ```no_run
/// use browser_websocket::testing::MockServer;
/// use browser_websocket::WebSocket;
///
/// async fn test_refused_then_accepted() {
///     let server = MockServer::listen("ws://mock/live");
///     server.refuse_next(1);
///     assert!(WebSocket::connect("ws://mock/live").await.is_err()); // ConnectionFailed (1006)
///     let socket = WebSocket::connect("ws://mock/live").await.unwrap();
///     assert_eq!((server.attempts(), server.accepted()), (2, 1));
///     # drop(socket);
/// }
/// ```
#[must_use = "dropping the server stops it"]
pub struct MockServer {
    state: Rc<ServerState>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.state.url)
            .field("attempts", &self.state.attempts.get())
            .field("accepted", &self.state.accepted.get())
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts a server for `url` and every URL below it (a path under it, or
    /// a query). `url` is resolved as a socket's would be (`http:` becomes
    /// `ws:`, a relative URL is taken against the page). Where two servers
    /// match, the longer URL wins, then the newer.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = browser_websocket::testing::MockServer::listen("/chat");
    /// assert_eq!(server.attempts(), 0);
    /// ```
    pub fn listen(url: &str) -> Self {
        let url = global::resolve_url(url).unwrap_or_else(|_| url.to_owned());
        let state = Rc::new(ServerState {
            url,
            refuse: Cell::new(0),
            delay_ms: Cell::new(0),
            protocols: RefCell::new(Vec::new()),
            answers: RefCell::new(Vec::new()),
            attempts: Cell::new(0),
            accepted: Cell::new(0),
            live: RefCell::new(Vec::new()),
            pending: RefCell::new(VecDeque::new()),
            waker: RefCell::new(None),
        });
        SERVERS.with(|servers| servers.borrow_mut().push(Rc::clone(&state)));
        crate::js::socket::set_interceptor(intercept);
        Self { state }
    }

    /// The URL it listens on, resolved.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = browser_websocket::testing::MockServer::listen("http://mock/chat");
    /// assert_eq!(server.url(), "ws://mock/chat");
    /// ```
    pub fn url(&self) -> &str {
        &self.state.url
    }

    /// The next accepted connection, in the order they were opened (waits for
    /// one). It is handed over when the client opens it, before its `open`
    /// event: what the test sends at once arrives after `open`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use browser_websocket::testing::MockServer;
    /// let server = MockServer::listen("ws://mock/feed");
    /// let socket = browser_websocket::WebSocket::builder("ws://mock/feed").open_with_callbacks(
    ///     browser_websocket::Callbacks::new(),
    /// );
    /// let connection = server.next_connection().await;
    /// connection.send_text("welcome");
    /// # drop(socket);
    /// # }
    /// ```
    pub async fn next_connection(&self) -> MockConnection {
        poll_fn(|cx| match self.state.pending.borrow_mut().pop_front() {
            Some(connection) => Poll::Ready(connection),
            None => {
                *self.state.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// Refuses the next `count` connection attempts: each gets `error` then
    /// `close(1006, "", false)`, as a refused port or an HTTP 403 does.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = browser_websocket::testing::MockServer::listen("ws://mock/chat");
    /// server.refuse_next(2); // the third attempt is accepted
    /// ```
    pub fn refuse_next(&self, count: u32) {
        self.state.refuse.set(count);
    }

    /// Answers (or refuses) each later connection `ms` milliseconds after it
    /// is opened; 0 (the default) answers in the next task.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = browser_websocket::testing::MockServer::listen("ws://mock/chat");
    /// server.delay_accept(500); // longer than a connect timeout under test
    /// ```
    pub fn delay_accept(&self, ms: u32) {
        self.state.delay_ms.set(ms);
    }

    /// The subprotocols the server speaks, for later connections. It selects
    /// the first the client offered that it speaks, and refuses a client whose
    /// offers it speaks none of. With no list (the default) it takes the
    /// client's first offer.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = browser_websocket::testing::MockServer::listen("ws://mock/chat");
    /// server.protocols(["chat.v2"]);
    /// ```
    pub fn protocols<I, S>(&self, protocols: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        *self.state.protocols.borrow_mut() = protocols.into_iter().map(Into::into).collect();
    }

    /// Replies to each text message `request` with the text `reply`, on every
    /// connection that is not stalled, as a heartbeat's server would.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = browser_websocket::testing::MockServer::listen("ws://mock/chat");
    /// server.answer("ping", "pong");
    /// ```
    pub fn answer(&self, request: &str, reply: &str) {
        self.state
            .answers
            .borrow_mut()
            .push((request.to_owned(), reply.to_owned()));
        for socket in self.state.live.borrow().iter() {
            socket.answer(request, reply);
        }
    }

    /// How many connections clients have opened to it, refused ones included.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = browser_websocket::testing::MockServer::listen("ws://mock/chat");
    /// assert_eq!(server.attempts(), 0);
    /// ```
    pub fn attempts(&self) -> usize {
        self.state.attempts.get()
    }

    /// How many connections it has accepted.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let server = browser_websocket::testing::MockServer::listen("ws://mock/chat");
    /// assert_eq!(server.accepted(), 0);
    /// ```
    pub fn accepted(&self) -> usize {
        self.state.accepted.get()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        SERVERS.with(|servers| {
            servers
                .borrow_mut()
                .retain(|server| !Rc::ptr_eq(server, &self.state));
        });
        for socket in self.state.live.borrow().iter() {
            socket.drop_connection(false);
        }
    }
}

/// One connection accepted by a [`MockServer`], seen from the server's side.
/// Cloning it gives another view of the same connection.
///
/// # Example
///
/// ```no_run
/// use browser_websocket::testing::MockServer;
/// use browser_websocket::{Message, WebSocket};
///
/// async fn test_close() {
///     let server = MockServer::listen("ws://mock/chat");
///     let socket = WebSocket::connect("ws://mock/chat").await.unwrap();
///     let connection = server.next_connection().await;
///     socket.close_with(4001, "logged out").unwrap();
///     assert_eq!(connection.closed_by_client().await, Some((4001, "logged out".to_owned())));
/// }
/// ```
#[derive(Clone, Debug)]
pub struct MockConnection {
    socket: MockSocket,
    protocol: String,
}

impl MockConnection {
    /// Sends a text message to the client.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// server.next_connection().await.send_text("welcome");
    /// # }
    /// ```
    pub fn send_text(&self, text: &str) {
        self.socket.send_text(text);
    }

    /// Sends a binary message: an `ArrayBuffer` or a `Blob` for the client,
    /// by its `binaryType`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// server.next_connection().await.send_bytes(&[1, 2, 3]);
    /// # }
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) {
        self.socket.send_bytes(bytes);
    }

    /// Sends a Blob as a binary message (read into an `ArrayBuffer` first
    /// when the client's `binaryType` is `arraybuffer`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer, blob: web_sys::Blob) {
    /// server.next_connection().await.send_blob(&blob);
    /// # }
    /// ```
    pub fn send_blob(&self, blob: &web_sys::Blob) {
        self.socket.send_blob(blob);
    }

    /// Sends any [`Message`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// server.next_connection().await.send(&browser_websocket::Message::from("hi"));
    /// # }
    /// ```
    pub fn send(&self, message: &Message) {
        match message {
            Message::Text(text) => self.send_text(text),
            Message::Binary(bytes) => self.send_bytes(bytes),
            Message::Blob(blob) => self.send_blob(blob),
            Message::JsBinary(view) => self.send_bytes(&view.to_vec()),
        }
    }

    /// Closes the connection cleanly from the server: the client gets
    /// `close(code, reason, true)`. (A server may send codes an app may not,
    /// such as 1001, 1011 or 1012.)
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// server.next_connection().await.close(1012, "restarting");
    /// # }
    /// ```
    pub fn close(&self, code: u16, reason: &str) {
        self.socket.close(code, reason);
    }

    /// Drops the connection with no close frame, as a network drop does: the
    /// client gets `close(1006, "", false)` and no `error`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// server.next_connection().await.drop_abruptly();
    /// # }
    /// ```
    pub fn drop_abruptly(&self) {
        self.socket.drop_connection(false);
    }

    /// Fails the connection: the client gets `error`, then
    /// `close(1006, "", false)`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// server.next_connection().await.fail();
    /// # }
    /// ```
    pub fn fail(&self) {
        self.socket.drop_connection(true);
    }

    /// Stops answering, as a half-open connection does: the client's sends
    /// are still accepted (and recorded), [`MockServer::answer`] replies stop,
    /// and the client's close is not answered. Script the end with
    /// [`drop_abruptly`](Self::drop_abruptly).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// server.next_connection().await.stall(); // a heartbeat should now time out
    /// # }
    /// ```
    pub fn stall(&self) {
        self.socket.stall();
    }

    /// Sets the client's `bufferedAmount` (0 by default), to test flow
    /// control; bytes sent after `close()` are added to it, as browsers do.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// server.next_connection().await.set_buffered_amount(4 << 20);
    /// # }
    /// ```
    pub fn set_buffered_amount(&self, bytes: u32) {
        self.socket.set_buffered_amount(bytes);
    }

    /// The next message the client sent, in order (waits for one); `None`
    /// once the connection has ended and every message was taken.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// let connection = server.next_connection().await;
    /// assert_eq!(connection.next_received().await, Some("subscribe".into()));
    /// # }
    /// ```
    pub async fn next_received(&self) -> Option<Message> {
        self.socket.next_sent().await
    }

    /// Every message the client sent that was not yet taken, oldest first.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// let connection = server.next_connection().await;
    /// assert!(connection.received().is_empty());
    /// # }
    /// ```
    pub fn received(&self) -> Vec<Message> {
        self.socket.take_sent()
    }

    /// Waits until the connection has ended, however it ended; the code and
    /// reason of the client's close, if the client closed it while open.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// let connection = server.next_connection().await;
    /// assert_eq!(connection.closed_by_client().await, Some((1000, String::new())));
    /// # }
    /// ```
    pub async fn closed_by_client(&self) -> Option<(u16, String)> {
        self.socket.ended_with().await
    }

    /// The client's `readyState`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// use browser_websocket::ReadyState;
    /// let connection = server.next_connection().await;
    /// assert_eq!(connection.ready_state(), ReadyState::Connecting); // `open` comes next
    /// # }
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        self.socket.ready_state()
    }

    /// The URL the client opened, resolved.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// let connection = server.next_connection().await;
    /// assert!(connection.url().starts_with("ws://mock/chat"));
    /// # }
    /// ```
    pub fn url(&self) -> String {
        self.socket.url()
    }

    /// The subprotocols the client offered.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// let connection = server.next_connection().await;
    /// assert!(connection.offered_protocols().is_empty());
    /// # }
    /// ```
    pub fn offered_protocols(&self) -> Vec<String> {
        self.socket.offered()
    }

    /// The subprotocol the server selected (`""` for none), which the
    /// client's `protocol` reports once open.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: browser_websocket::testing::MockServer) {
    /// let connection = server.next_connection().await;
    /// let _selected: &str = connection.protocol();
    /// # }
    /// ```
    pub fn protocol(&self) -> &str {
        &self.protocol
    }
}
