//! [`Handle`]: what every part of a socket can do — read its state, send, close,
//! await its close — and the [`Closed`] future.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::js::socket::Outgoing;
use crate::rules::close::{checked_close, CloseCode, CloseEvent};
use crate::rules::error::Result;
use crate::rules::flow::FlowControl;
use crate::rules::message::{BinaryType, Message, ReadyState};
use crate::socket::shared::Shared;

/// A cloneable handle on one socket: state getters, immediate sends, close.
///
/// [`WebSocket`](crate::WebSocket), [`Sender`](crate::Sender) and
/// [`Receiver`](crate::Receiver) dereference to it, and
/// [`handle`](Handle::handle) gives an owned clone, so a socket split into halves
/// can still be closed from anywhere. The socket is closed (code 1000) and its
/// listeners removed when the last socket, half and handle is dropped.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use browser_websocket::{ReadyState, WebSocket};
///
/// let socket = WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
/// let handle = socket.handle();
/// assert_eq!(handle.ready_state(), ReadyState::Open);
/// handle.send_text("hello")?;
/// handle.close_with(4001, "bye")?;
/// let event = handle.closed().await;
/// assert_eq!(event.code, 4001);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "dropping the last half or handle closes the socket"]
pub struct Handle {
    shared: Rc<Shared>,
}

impl Handle {
    pub(crate) fn from_shared(shared: Rc<Shared>) -> Self {
        Self { shared }
    }

    pub(crate) fn shared(&self) -> &Rc<Shared> {
        &self.shared
    }

    /// An owned clone of this handle.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// let handle = socket.handle();
    /// let (_sender, _receiver) = socket.into_split();
    /// handle.close_normal()?;
    /// # Ok(()) }
    /// ```
    pub fn handle(&self) -> Handle {
        self.clone()
    }

    /// A `Send + Sync + Clone` handle on this socket, for other threads and
    /// for stores that demand `Send` (see [`SendHandle`](crate::SendHandle)):
    /// its sends are carried out on this thread, in order.
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("/chat").await?;
    /// let handle = socket.send_handle();
    /// handle.send_text("hello")?;
    /// # Ok(()) }
    /// ```
    // Inline, so that only apps that call it compile the task it starts
    // (a task spawned from a plain function grows every app, called or not).
    #[inline]
    pub fn send_handle(&self) -> crate::SendHandle {
        crate::send_handle::start(crate::send_handle::DrivenSocket::new(self.clone()))
    }

    /// The URL the socket connected to, after resolution (always `ws:` or `wss:`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("http://127.0.0.1:8080/echo").await?;
    /// assert_eq!(socket.url(), "ws://127.0.0.1:8080/echo");
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> String {
        self.shared.socket().url()
    }

    /// The subprotocol the server selected, or `""`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::builder("ws://127.0.0.1:8080/protocols")
    ///     .protocols(["chat.v2", "chat.v1"])
    ///     .connect()
    ///     .await?;
    /// println!("server chose {}", socket.protocol());
    /// # Ok(()) }
    /// ```
    pub fn protocol(&self) -> String {
        self.shared.socket().protocol()
    }

    /// The extensions the server selected (e.g. `permessage-deflate`), or `""`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// println!("extensions: {:?}", socket.extensions());
    /// # Ok(()) }
    /// ```
    pub fn extensions(&self) -> String {
        self.shared.socket().extensions()
    }

    /// The socket's `readyState`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::ReadyState;
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// assert_eq!(socket.ready_state(), ReadyState::Open);
    /// # Ok(()) }
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        self.shared.ready_state()
    }

    /// Bytes queued by sends but not yet handed to the network: the browser's
    /// `bufferedAmount`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// socket.send_bytes(&[0; 1024])?;
    /// println!("{} bytes waiting", socket.buffered_amount());
    /// # Ok(()) }
    /// ```
    pub fn buffered_amount(&self) -> u32 {
        self.shared.socket().buffered_amount()
    }

    /// How binary messages are delivered, as set on the builder.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::{BinaryType, WebSocket};
    /// let socket = WebSocket::builder("ws://127.0.0.1:8080/echo")
    ///     .binary_type(BinaryType::Blob)
    ///     .connect()
    ///     .await?;
    /// assert_eq!(socket.binary_type(), BinaryType::Blob);
    /// # Ok(()) }
    /// ```
    pub fn binary_type(&self) -> BinaryType {
        self.shared.socket().binary_type()
    }

    /// The `Sink`'s flow control, as set on the builder.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::{FlowControl, WebSocket};
    /// let socket = WebSocket::connect("/echo").await?;
    /// assert_eq!(socket.flow_control(), FlowControl::default());
    /// # Ok(()) }
    /// ```
    pub fn flow_control(&self) -> FlowControl {
        self.shared.flow_control()
    }

    /// The browser's own `WebSocket` object, for what this crate does not wrap.
    /// Browser builds only: natively there is none (the item is absent).
    ///
    /// Sends made on it bypass this crate's checks and flow control, and
    /// listeners added to it are yours to remove; closing it is seen here as
    /// the browser reports it. An event you dispatch on it from inside one of
    /// this socket's callbacks is handled when that callback returns.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("/echo").await?;
    /// let raw: &web_sys::WebSocket = socket.as_web_sys();
    /// assert_eq!(raw.url(), socket.url());
    /// # Ok(()) }
    /// ```
    #[cfg(any(target_arch = "wasm32", not(feature = "native")))]
    pub fn as_web_sys(&self) -> &web_sys::WebSocket {
        self.shared.socket().as_web_sys()
    }

    /// Sends a text message now, without waiting for buffer space.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`](crate::Error::NotOpen) if the socket is not open (the browser would drop the
    /// message silently); [`Error::Js`](crate::Error::Js) if the browser throws.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// socket.send_text("an example message")?;
    /// # Ok(()) }
    /// ```
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.shared.send(Outgoing::Text(text))
    }

    /// Sends a binary message now (as an `ArrayBuffer` view, never a slow `Blob`).
    ///
    /// # Errors
    ///
    /// As [`send_text`](Handle::send_text).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// let mut buffer = [0u8; 5];
    /// buffer[..4].copy_from_slice(&std::f32::consts::PI.to_be_bytes());
    /// buffer[4] = 127;
    /// socket.send_bytes(&buffer)?;
    /// # Ok(()) }
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.shared.send(Outgoing::Bytes(bytes))
    }

    /// Sends a `Blob` now.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Handle::send_text).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// let blob = web_sys::Blob::new().map_err(|_| browser_websocket::Error::BlobRead { message: "no Blob".into() })?;
    /// socket.send_blob(&blob)?;
    /// # Ok(()) }
    /// ```
    pub fn send_blob(&self, blob: &web_sys::Blob) -> Result<()> {
        self.shared.send(Outgoing::Blob(blob))
    }

    /// Sends any [`Message`] now.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Handle::send_text).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::Message;
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// socket.send_message(&Message::from("hi"))?;
    /// socket.send_message(&Message::from(vec![1, 2, 3]))?;
    /// # Ok(()) }
    /// ```
    pub fn send_message(&self, message: &Message) -> Result<()> {
        self.shared.send(Outgoing::from(message))
    }

    /// Sends `value` as a JSON text message now (feature `json`).
    ///
    /// # Errors
    ///
    /// [`Error::Json`](crate::Error::Json) if it cannot be serialized; as
    /// [`send_text`](Handle::send_text) otherwise.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("/chat").await?;
    /// socket.send_json(&serde_json::json!({ "type": "join", "room": "rust" }))?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "json")]
    pub fn send_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.send_message(&Message::json(value)?)
    }

    /// Starts the closing handshake with code 1000 (normal closure) and no
    /// reason, and returns at once; [`closed`](Self::closed) waits for the end.
    ///
    /// Unlike the browser's `close()`, which sends no code (1005 at the server),
    /// this always sends 1000. (It is not called `close`: that name belongs to
    /// `SinkExt::close`, which closes with 1000 and waits until closed.)
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`](crate::Error::NotOpen) if the socket is already closing or closed.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// socket.close_normal()?;
    /// assert!(socket.closed().await.was_clean);
    /// # Ok(()) }
    /// ```
    pub fn close_normal(&self) -> Result<()> {
        self.close_with(CloseCode::Normal, "")
    }

    /// Starts the closing handshake with a code and a reason, checked as the
    /// standard says before the browser is asked.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`](crate::Error::InvalidCloseCode) unless the code is 1000 or 3000–4999;
    /// [`Error::ReasonTooLong`](crate::Error::ReasonTooLong) over 123 bytes; [`Error::NotOpen`](crate::Error::NotOpen) if already
    /// closing or closed.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::Error;
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// assert_eq!(socket.close_with(1001, ""), Err(Error::InvalidCloseCode { code: 1001 }));
    /// socket.close_with(1000, "done")?; // or CloseCode::Normal
    /// # Ok(()) }
    /// ```
    pub fn close_with(&self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.shared.close(checked_close(code, reason)?, reason)
    }

    /// Waits until the socket has closed, and gives how.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// let event = socket.closed().await;
    /// println!("closed: {} {:?} clean={}", event.code, event.reason, event.was_clean);
    /// # Ok(()) }
    /// ```
    pub fn closed(&self) -> Closed {
        Closed {
            shared: Rc::clone(&self.shared),
        }
    }

    /// How the socket closed, if it has.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/echo").await?;
    /// assert_eq!(socket.close_event(), None);
    /// # Ok(()) }
    /// ```
    pub fn close_event(&self) -> Option<CloseEvent> {
        self.shared.close_event()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("url", &self.url())
            .field("ready_state", &self.ready_state())
            .finish()
    }
}

/// Resolves to the [`CloseEvent`] once the socket has closed; see
/// [`Handle::closed`]. Keeps the socket alive while pending.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// let socket = browser_websocket::WebSocket::connect("ws://127.0.0.1:8080/close?code=4000").await?;
/// let closed: browser_websocket::Closed = socket.closed();
/// assert_eq!(closed.await.code, 4000);
/// # Ok(()) }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Closed {
    shared: Rc<Shared>,
}

impl Future for Closed {
    type Output = CloseEvent;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<CloseEvent> {
        self.shared.poll_closed(cx)
    }
}
