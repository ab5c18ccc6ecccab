//! [`WebSocket`]: connecting (its builder and the [`Connecting`] future), and
//! the async `Stream` + `Sink` API, which it forwards to its halves.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

use crate::backend::{resolve_url, PlatformSocket, CAN_OPEN};
use crate::rules::error::{Error, Result};
use crate::rules::flow::FlowControl;
use crate::rules::inbox::{Inbox, DEFAULT_RECEIVE_LIMIT};
use crate::rules::message::{BinaryType, Message};
use crate::rules::url;
use crate::socket::halves::{Receiver, Sender};
use crate::socket::handle::Handle;
use crate::socket::shared::{Consumer, Forward, Shared};

/// A connected WebSocket: a `Stream` of received messages and a `Sink` of
/// messages to send, with every getter of the browser's socket (through
/// [`Handle`], which it dereferences to).
///
/// Dropping it (with every half and handle) closes the socket with code 1000 and
/// removes its listeners.
///
/// Received messages wait until read, up to the receive limit
/// ([`WebSocketBuilder::receive_limit`], default 64 MiB unread): past it the
/// socket is closed with 4009 and the stream ends with
/// [`Error::ReceiveLimitExceeded`] after every message received before.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use futures_util::{SinkExt, StreamExt};
/// use browser_websocket::{Message, WebSocket};
///
/// let mut socket = WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
/// socket.send(Message::from("an example message")).await?;
/// if let Some(echo) = socket.next().await {
///     assert_eq!(echo?.as_text(), Some("an example message"));
/// }
/// # Ok(()) }
/// ```
#[must_use = "dropping the socket closes it"]
pub struct WebSocket {
    sender: Sender,
    receiver: Receiver,
}

impl WebSocket {
    /// Connects to `url` and resolves once the socket is open.
    ///
    /// `url` may be `ws:`, `wss:`, `http:` or `https:` (mapped to `ws:`/`wss:`), or
    /// relative to the page's (or worker's) base URL. Dropping the future before it
    /// resolves closes the socket and removes its listeners.
    ///
    /// # Errors
    ///
    /// The URL errors of [`Error`] (checked before the browser is asked),
    /// [`Error::Security`] for a port the browser blocks, and
    /// [`Error::ConnectionFailed`] (code 1006) when the connection cannot be opened.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("/echo").await?;
    /// # Ok(()) }
    /// ```
    pub fn connect(url: &str) -> Connecting {
        Self::builder(url).connect()
    }

    /// A builder to choose subprotocols and the binary type before connecting.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::{BinaryType, WebSocket};
    /// let socket = WebSocket::builder("wss://example.com/chat")
    ///     .protocols(["chat.v2", "chat.v1"])
    ///     .binary_type(BinaryType::Blob)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: &str) -> WebSocketBuilder {
        WebSocketBuilder {
            url: url.to_owned(),
            protocols: Vec::new(),
            binary_type: BinaryType::ArrayBuffer,
            flow: FlowControl::default(),
            receive_limit: Some(DEFAULT_RECEIVE_LIMIT),
            #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
            native: crate::native::options::NativeOptions::default(),
        }
    }

    /// Splits into a sending and a receiving half, for use in different tasks.
    /// Either half can still close the socket; the socket closes when both (and
    /// every handle) are dropped. Dropping the receiver alone makes the socket
    /// discard incoming messages instead of buffering them.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use futures_util::{SinkExt, StreamExt};
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// let (mut sender, mut receiver) = socket.into_split();
    /// wasm_bindgen_futures::spawn_local(async move {
    ///     let _ = sender.send("ping".into()).await;
    /// });
    /// let echo = receiver.next().await;
    /// receiver.close_normal()?;
    /// # Ok(()) }
    /// ```
    pub fn into_split(self) -> (Sender, Receiver) {
        (self.sender, self.receiver)
    }

    fn from_shared(shared: Rc<Shared>) -> Self {
        let handle = Handle::from_shared(shared);
        Self {
            sender: Sender::new(handle.clone()),
            receiver: Receiver::new(handle),
        }
    }
}

impl Deref for WebSocket {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.sender
    }
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WebSocket").field(&*self.sender).finish()
    }
}

impl Stream for WebSocket {
    type Item = Result<Message>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

impl Sink<Message> for WebSocket {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Sink::<Message>::poll_ready(Pin::new(&mut self.sender), cx)
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<()> {
        Pin::new(&mut self.sender).start_send(message)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Sink::<Message>::poll_flush(Pin::new(&mut self.sender), cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Sink::<Message>::poll_close(Pin::new(&mut self.sender), cx)
    }
}

/// Configures a socket before it connects; made by [`WebSocket::builder`].
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use browser_websocket::{BinaryType, WebSocket};
/// let builder = WebSocket::builder("ws://127.0.0.1:8080/echo").binary_type(BinaryType::ArrayBuffer);
/// let socket = builder.connect().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until connected"]
pub struct WebSocketBuilder {
    url: String,
    protocols: Vec<String>,
    binary_type: BinaryType,
    flow: FlowControl,
    receive_limit: Option<usize>,
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    native: crate::native::options::NativeOptions,
}

impl WebSocketBuilder {
    /// The subprotocols to offer, in order of preference. Each must be an HTTP
    /// token and appear once; this is checked when connecting. They are passed to
    /// the browser as a list, never joined into one string.
    ///
    /// # Example
    ///
    /// ```
    /// let builder = browser_websocket::WebSocket::builder("/chat").protocols(["chat.v2", "chat.v1"]);
    /// ```
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// How binary messages arrive: as bytes ([`BinaryType::ArrayBuffer`], the
    /// default) or as [`web_sys::Blob`]s ([`BinaryType::Blob`]).
    ///
    /// # Example
    ///
    /// ```
    /// use browser_websocket::{BinaryType, WebSocket};
    /// let builder = WebSocket::builder("/echo").binary_type(BinaryType::Blob);
    /// ```
    pub fn binary_type(mut self, binary_type: BinaryType) -> Self {
        self.binary_type = binary_type;
        self
    }

    /// The `Sink`'s watermarks on `bufferedAmount` (default 1.75 MiB / 1 MiB):
    /// above `high` it waits until the browser has drained to `low`, so a fast
    /// producer cannot fill the tab's memory. The `send_*` methods ignore it.
    ///
    /// # Example
    ///
    /// ```
    /// use browser_websocket::{FlowControl, WebSocket};
    /// let builder = WebSocket::builder("/upload").flow_control(FlowControl::new(4 << 20, 1 << 20)?);
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn flow_control(mut self, flow: FlowControl) -> Self {
        self.flow = flow;
        self
    }

    /// How many bytes of received messages may wait unread on the stream
    /// (default [`DEFAULT_RECEIVE_LIMIT`](crate::DEFAULT_RECEIVE_LIMIT), 64 MiB;
    /// `None`: no limit). A Blob counts by its size. Past the limit the socket is
    /// closed with [`RECEIVE_LIMIT_CLOSE_CODE`](crate::RECEIVE_LIMIT_CLOSE_CODE)
    /// (4009, "receive limit exceeded"), and the stream yields every message
    /// received so far, then [`Error::ReceiveLimitExceeded`], then ends. The
    /// message that crosses the limit is kept, so the queue may pass it by one
    /// message. Callbacks take each message as it comes and have no limit.
    ///
    /// # Example
    ///
    /// ```
    /// let builder = browser_websocket::WebSocket::builder("/feed").receive_limit(Some(8 << 20));
    /// let unbounded = browser_websocket::WebSocket::builder("/feed").receive_limit(None);
    /// ```
    pub fn receive_limit(mut self, bytes: Option<usize>) -> Self {
        self.receive_limit = bytes;
        self
    }

    /// Natively only: a header to send with the upgrade request, such as an
    /// `Authorization` token (browsers let no page do this; there, put the
    /// token in the URL or a first message). Headers are sent in the order
    /// given, a name given twice is sent twice. Checked when connecting: a
    /// name or value HTTP refuses, or a header the handshake sets itself
    /// (`Host`, `Connection`, `Upgrade`, `Sec-WebSocket-*`: use
    /// [`protocols`](Self::protocols) for subprotocols), fails with
    /// [`Error::InvalidHeader`], which never shows the value.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::builder("wss://example.com/live")
    ///     .header("Authorization", "Bearer token-123")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.native.add_header(name.into(), value.into());
        self
    }

    /// Natively only: trusts `certificate` (DER, or PEM with one or more
    /// certificates) as a root for `wss:`, beside the webpki roots (Mozilla's
    /// list, built in): a test server's or a private CA's. Checked when
    /// connecting ([`Error::InvalidCertificate`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let ca = std::fs::read("ca.pem").unwrap_or_default();
    /// let socket = browser_websocket::WebSocket::builder("wss://localhost:8443/echo")
    ///     .trust_certificate(ca)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    pub fn trust_certificate(mut self, certificate: impl Into<Vec<u8>>) -> Self {
        self.native.add_root(certificate.into());
        self
    }

    /// The native options, for the reconnecting socket's attempts.
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    pub(crate) fn native_options(mut self, options: crate::native::options::NativeOptions) -> Self {
        self.native = options;
        self
    }

    /// Connects, resolving once the socket is open; see [`WebSocket::connect`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::builder("/echo").connect().await?;
    /// # Ok(()) }
    /// ```
    pub fn connect(self) -> Connecting {
        let inbox = Inbox::new(self.receive_limit);
        match self.open(Consumer::Stream(inbox)) {
            Ok(shared) => Connecting {
                state: ConnectingState::Waiting(shared),
            },
            Err(error) => Connecting {
                state: ConnectingState::Failed(error),
            },
        }
    }

    /// Opens the socket with its events handed to `forward` as they happen
    /// (the reconnecting socket's connections).
    pub(crate) fn open_forwarding(self, forward: Forward) -> Result<Rc<Shared>> {
        self.open(Consumer::Forward(Some(forward)))
    }

    fn open(self, consumer: Consumer) -> Result<Rc<Shared>> {
        if !CAN_OPEN {
            // Natively without the `native` feature there is no browser to
            // ask: say so instead of panicking in the first call into JS.
            return Err(Error::UnsupportedTarget {
                target: std::env::consts::ARCH,
            });
        }
        let url = resolve_url(&self.url)?;
        url::check_protocols(&self.protocols)?;
        #[cfg(any(target_arch = "wasm32", not(feature = "native")))]
        let socket = PlatformSocket::open(&url, &self.protocols, self.binary_type)?;
        #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
        let socket = PlatformSocket::open(&url, &self.protocols, self.binary_type, &self.native)?;
        Ok(Shared::new(socket, self.flow, consumer))
    }
}

/// The future of [`WebSocket::connect`]: resolves once the socket is open.
/// Dropping it first closes the socket and removes its listeners.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// let connecting: browser_websocket::Connecting = browser_websocket::WebSocket::connect("/echo");
/// let socket = connecting.await?;
/// # Ok(()) }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Connecting {
    state: ConnectingState,
}

enum ConnectingState {
    Waiting(Rc<Shared>),
    Failed(Error),
    Done,
}

impl Future for Connecting {
    type Output = Result<WebSocket>;

    /// After it has resolved, polling again stays pending.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outcome = match &self.state {
            ConnectingState::Waiting(shared) => match shared.poll_open(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(outcome) => outcome,
            },
            ConnectingState::Failed(_) => Ok(()),
            ConnectingState::Done => return Poll::Pending,
        };
        match std::mem::replace(&mut self.state, ConnectingState::Done) {
            ConnectingState::Waiting(shared) => {
                Poll::Ready(outcome.map(|()| WebSocket::from_shared(shared)))
            }
            ConnectingState::Failed(error) => Poll::Ready(Err(error)),
            ConnectingState::Done => Poll::Pending,
        }
    }
}
