//! Handles that cross threads: [`SendHandle`], `Send + Sync + Clone`, for a
//! [`WebSocket`](crate::WebSocket), a
//! [`ReconnectingWebSocket`](crate::ReconnectingWebSocket) or a tab's
//! [`SharedWebSocket`](crate::tabs::SharedWebSocket) that stays on the thread
//! that made it.
//!
//! A browser's `WebSocket` is a JS object of one thread, so the socket cannot
//! move; a handle sends it commands instead. A task on the socket's thread
//! (the pump, started by `send_handle()`) carries them out in the order they
//! were given and keeps a mirror of the socket's state up to date, which the
//! handles read from any thread. No `unsafe`, no `send_wrapper`: what crosses
//! threads is plain data (strings, bytes, a close code) and atomics.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_core::Stream;

use crate::reconnect::ReconnectingHandle;
use crate::rules::close::{checked_close, CloseCode};
use crate::rules::error::{Error, Result};
use crate::rules::message::ReadyState;
use crate::socket::handle::{Closed, Handle};
use crate::tabs::SharedHandle;

/// How many bytes of commands may wait for the socket's thread before a send
/// through a [`SendHandle`] fails with [`Error::QueueFull`]: 16 MiB.
pub const SEND_HANDLE_QUEUE_BYTES: usize = 16 << 20;

/// What a handle asks the socket's thread to do.
enum Command {
    Text(String),
    Bytes(Vec<u8>),
    Close(CloseCode, String),
}

impl Command {
    fn bytes(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Bytes(bytes) => bytes.len(),
            Self::Close(_, reason) => reason.len(),
        }
    }
}

/// The socket's state as the handles see it, written by the pump.
const OPEN: u8 = 0;
const CONNECTING: u8 = 1;
const CLOSING: u8 = 2;
const CLOSED: u8 = 3;

/// What every handle of one socket shares.
struct Remote {
    commands: UnboundedSender<Command>,
    state: AtomicU8,
    /// Bytes of commands given and not yet carried out.
    waiting: AtomicUsize,
}

/// A `Send + Sync + Clone` handle on a socket that stays on the thread that
/// made it: sends text and bytes, closes, and reads the socket's state, from
/// any thread of a threaded wasm app, or from places that demand `Send +
/// Sync` (Leptos's `StoredValue` and signals, generic code with `Send`
/// bounds).
///
/// Made by [`Handle::send_handle`] (a [`WebSocket`](crate::WebSocket) and its
/// halves dereference to [`Handle`]), [`ReconnectingHandle::send_handle`], or
/// [`SharedWebSocket::send_handle`](crate::tabs::SharedWebSocket::send_handle)
/// (this tab's sends; closing through it makes this tab leave).
/// Sends are carried out on the socket's thread, in the order they were
/// given, as soon as that thread's tasks run; a send from the socket's own
/// thread through its [`Handle`] does not wait behind them. Each handle keeps
/// the socket alive, as a [`Handle`] does; once the socket is closed every
/// send fails with [`Error::NotOpen`].
///
/// Blobs and JS-owned bytes belong to one thread's JS heap and do not cross:
/// send them from the socket's thread.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use browser_websocket::{SendHandle, WebSocket};
///
/// let socket = WebSocket::connect("/chat").await?;
/// let handle: SendHandle = socket.send_handle();
/// // Anywhere: another thread, a Send + Sync store.
/// std::thread::spawn(move || handle.send_text("from another thread"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SendHandle {
    remote: Arc<Remote>,
}

impl SendHandle {
    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] once the socket is closed (or, on a reconnecting
    /// socket, done for good); [`Error::QueueFull`] with more than
    /// [`SEND_HANDLE_QUEUE_BYTES`] waiting for the socket's thread.
    ///
    /// ```no_run
    /// # fn demo(handle: browser_websocket::SendHandle) -> browser_websocket::Result<()> {
    /// handle.send_text("hello")?;
    /// # Ok(()) }
    /// ```
    pub fn send_text(&self, text: impl Into<String>) -> Result<()> {
        self.give(Command::Text(text.into()))
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    ///
    /// ```no_run
    /// # fn demo(handle: browser_websocket::SendHandle) -> browser_websocket::Result<()> {
    /// handle.send_bytes(vec![1, 2, 3])?;
    /// # Ok(()) }
    /// ```
    pub fn send_bytes(&self, bytes: impl Into<Vec<u8>>) -> Result<()> {
        self.give(Command::Bytes(bytes.into()))
    }

    /// Sends `value` as a JSON text message (feature `json`), encoded on the
    /// calling thread.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if it cannot be encoded; otherwise as
    /// [`send_text`](Self::send_text).
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # fn demo(handle: browser_websocket::SendHandle) -> browser_websocket::Result<()> {
    /// handle.send_json(&serde_json::json!({"type": "hello"}))?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "json")]
    pub fn send_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let text = serde_json::to_string(value).map_err(|error| Error::Json {
            message: error.to_string(),
        })?;
        self.send_text(text)
    }

    /// Closes the socket with 1000 (a reconnecting socket for good).
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] if it is closed already.
    ///
    /// ```no_run
    /// # fn demo(handle: browser_websocket::SendHandle) -> browser_websocket::Result<()> {
    /// handle.close_normal()?;
    /// # Ok(()) }
    /// ```
    pub fn close_normal(&self) -> Result<()> {
        self.close_with(CloseCode::Normal, "")
    }

    /// Closes the socket with `code` and `reason`, checked here (on the
    /// calling thread) as [`Handle::close_with`] checks them.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`], [`Error::ReasonTooLong`], or
    /// [`Error::NotOpen`] if it is closed already.
    ///
    /// ```no_run
    /// # fn demo(handle: browser_websocket::SendHandle) -> browser_websocket::Result<()> {
    /// handle.close_with(4000, "logging out")?;
    /// # Ok(()) }
    /// ```
    pub fn close_with(&self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        let code = checked_close(code, reason)?;
        self.give(Command::Close(code, reason.to_owned()))
    }

    /// The socket's state, as its thread last saw it: `Open` (on a
    /// reconnecting socket: connected), `Connecting` (a reconnecting socket
    /// between connections), `Closing`, or `Closed` (on a reconnecting
    /// socket: done for good).
    ///
    /// ```no_run
    /// # fn demo(handle: browser_websocket::SendHandle) {
    /// if handle.ready_state() == browser_websocket::ReadyState::Closed {
    ///     println!("gone");
    /// }
    /// # }
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        match self.remote.state.load(Ordering::Acquire) {
            OPEN => ReadyState::Open,
            CONNECTING => ReadyState::Connecting,
            CLOSING => ReadyState::Closing,
            _ => ReadyState::Closed,
        }
    }

    /// Bytes of sends given through the handles and not yet carried out by
    /// the socket's thread.
    ///
    /// ```no_run
    /// # fn demo(handle: browser_websocket::SendHandle) {
    /// assert_eq!(handle.waiting(), 0);
    /// # }
    /// ```
    pub fn waiting(&self) -> usize {
        self.remote.waiting.load(Ordering::Acquire)
    }

    fn give(&self, command: Command) -> Result<()> {
        let closed = Error::NotOpen {
            state: ReadyState::Closed,
        };
        if self.ready_state() == ReadyState::Closed {
            return Err(closed);
        }
        let bytes = command.bytes();
        let waiting = self.remote.waiting.fetch_add(bytes, Ordering::AcqRel);
        if waiting.saturating_add(bytes) > SEND_HANDLE_QUEUE_BYTES && waiting > 0 {
            self.remote.waiting.fetch_sub(bytes, Ordering::AcqRel);
            return Err(Error::QueueFull {
                messages: 0,
                bytes: waiting,
            });
        }
        self.remote.commands.unbounded_send(command).map_err(|_| {
            self.remote.waiting.fetch_sub(bytes, Ordering::AcqRel);
            closed
        })
    }
}

impl std::fmt::Debug for SendHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendHandle")
            .field("ready_state", &self.ready_state())
            .field("waiting", &self.waiting())
            .finish()
    }
}

/// A socket as the pump drives it, on its own thread.
pub(crate) trait Driven: Unpin + 'static {
    fn send_text(&self, text: &str) -> Result<()>;
    fn send_bytes(&self, bytes: &[u8]) -> Result<()>;
    fn close_with(&self, code: CloseCode, reason: &str) -> Result<()>;
    /// The state to mirror (one of the constants above).
    fn state(&self) -> u8;
    /// Ready (and `state` worth reading again) when the socket's state may
    /// have changed; the waker is kept until then.
    fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// Starts the pump for `socket` on this thread: a new handle.
pub(crate) fn start<D: Driven>(socket: D) -> SendHandle {
    let (commands, incoming) = unbounded();
    let remote = Arc::new(Remote {
        commands,
        state: AtomicU8::new(socket.state()),
        waiting: AtomicUsize::new(0),
    });
    crate::backend::spawn_local(Pump {
        socket,
        incoming,
        remote: Arc::downgrade(&remote),
    });
    SendHandle { remote }
}

/// Carries out the handles' commands on the socket's thread, in order, and
/// mirrors its state; ends when every handle is dropped or the socket is done.
struct Pump<D> {
    socket: D,
    incoming: UnboundedReceiver<Command>,
    remote: std::sync::Weak<Remote>,
}

impl<D: Driven> Pump<D> {
    fn mirror(&self) -> u8 {
        let state = self.socket.state();
        if let Some(remote) = self.remote.upgrade() {
            remote.state.store(state, Ordering::Release);
        }
        state
    }

    fn carry_out(&self, command: Command) {
        let bytes = command.bytes();
        // A send that fails here (the socket closed meanwhile) is seen by
        // the handles through the mirrored state.
        let _ = match &command {
            Command::Text(text) => self.socket.send_text(text),
            Command::Bytes(bytes) => self.socket.send_bytes(bytes),
            Command::Close(code, reason) => self.socket.close_with(*code, reason),
        };
        if let Some(remote) = self.remote.upgrade() {
            remote.waiting.fetch_sub(bytes, Ordering::AcqRel);
        }
    }
}

impl<D: Driven> Future for Pump<D> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match Pin::new(&mut this.incoming).poll_next(cx) {
                Poll::Ready(Some(command)) => {
                    this.carry_out(command);
                    this.mirror();
                }
                // Every handle is gone.
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => break,
            }
        }
        while this.socket.poll_changed(cx).is_ready() {
            if this.mirror() == CLOSED {
                // Done: later sends fail at once; those given meanwhile are
                // dropped with the receiver.
                this.incoming.close();
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

/// A plain socket: its state is the browser's; it changes to closed once.
pub(crate) struct DrivenSocket {
    handle: Handle,
    closed: Closed,
}

impl DrivenSocket {
    pub(crate) fn new(handle: Handle) -> Self {
        let closed = handle.closed();
        Self { handle, closed }
    }
}

impl Driven for DrivenSocket {
    fn send_text(&self, text: &str) -> Result<()> {
        self.handle.send_text(text)
    }

    fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.handle.send_bytes(bytes)
    }

    fn close_with(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.handle.close_with(code, reason)
    }

    fn state(&self) -> u8 {
        match self.handle.ready_state() {
            ReadyState::Open => OPEN,
            ReadyState::Connecting => CONNECTING,
            ReadyState::Closing => CLOSING,
            ReadyState::Closed => CLOSED,
        }
    }

    fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.closed).poll(cx).map(|_| ())
    }
}

/// The state of a socket that lives across connections (reconnecting,
/// shared): closed once done for good, else open while connected.
fn between_connections(finished: bool, connected: bool) -> u8 {
    if finished {
        CLOSED
    } else if connected {
        OPEN
    } else {
        CONNECTING
    }
}

/// A reconnecting socket: connected or not, until done for good; told of
/// every change by its events.
pub(crate) struct DrivenReconnecting {
    handle: ReconnectingHandle,
    seen: u64,
}

impl DrivenReconnecting {
    pub(crate) fn new(handle: ReconnectingHandle) -> Self {
        Self { handle, seen: 0 }
    }
}

impl Driven for DrivenReconnecting {
    fn send_text(&self, text: &str) -> Result<()> {
        self.handle.send_text(text)
    }

    fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.handle.send_bytes(bytes)
    }

    fn close_with(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.handle.close_with(code, reason)
    }

    fn state(&self) -> u8 {
        between_connections(self.handle.is_finished(), self.handle.is_connected())
    }

    fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.handle.poll_event(cx, &mut self.seen)
    }
}

/// A tab's part of a shared socket: connected or not, until it leaves or the
/// connection ends; told of every change by the tab.
pub(crate) struct DrivenShared {
    handle: SharedHandle,
    seen: u64,
}

impl DrivenShared {
    pub(crate) fn new(handle: SharedHandle) -> Self {
        Self { handle, seen: 0 }
    }
}

impl Driven for DrivenShared {
    fn send_text(&self, text: &str) -> Result<()> {
        self.handle.send_message(&crate::Message::from(text))
    }

    fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.handle
            .send_message(&crate::Message::Binary(bytes.to_vec()))
    }

    /// A tab closes its part only: it leaves the shared connection.
    fn close_with(&self, _code: CloseCode, _reason: &str) -> Result<()> {
        self.handle.leave();
        Ok(())
    }

    fn state(&self) -> u8 {
        between_connections(self.handle.is_finished(), self.handle.is_connected())
    }

    fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.handle.poll_changed(cx, &mut self.seen)
    }
}
