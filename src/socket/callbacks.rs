//! The callback API: the browser's `onopen`/`onmessage`/`onerror`/`onclose`, for
//! code that does not use async. A consumer of the same typed event sequence as
//! the stream, so the two report the same things.

use std::rc::Rc;

use crate::rules::close::CloseEvent;
use crate::rules::error::{Error, Result};
use crate::rules::lifecycle::Event;
use crate::rules::message::Message;
use crate::socket::handle::Handle;
use crate::socket::shared::Forward;
use crate::socket::websocket::WebSocketBuilder;

type OpenFn = Box<dyn FnMut(&Handle)>;
type MessageFn = Box<dyn FnMut(&Handle, Message)>;
type ErrorFn = Box<dyn FnMut(&Handle, &Error)>;
type CloseFn = Box<dyn FnMut(&Handle, CloseEvent)>;

/// Callbacks for [`WebSocketBuilder::open_with_callbacks`](crate::WebSocketBuilder::open_with_callbacks).
///
/// Each callback gets a [`Handle`] on the socket, so it can send or close without
/// capturing the socket (which would make a reference cycle). The callbacks are
/// released when the socket closes, so even a callback that captured a handle
/// leaks nothing once the socket is closed.
///
/// - `on_open`: the socket is open.
/// - `on_message`: a message arrived, in order.
/// - `on_error`: the connection failed ([`Error::ConnectionFailed`]) or broke
///   ([`Error::ConnectionClosed`]: an abnormal close, such as a dropped TCP
///   connection), always followed by `on_close`; or a message could not be
///   decoded. Exactly when the stream yields an `Err` (see the table in the
///   crate docs).
/// - `on_close`: the socket closed; called exactly once, last.
///
/// # Example
///
/// ```no_run
/// # fn demo() -> browser_websocket::Result<()> {
/// use browser_websocket::{Callbacks, Message, WebSocket};
///
/// let socket = WebSocket::builder("ws://127.0.0.1:8080/echo").open_with_callbacks(
///     Callbacks::new()
///         .on_open(|socket| {
///             let _ = socket.send_text("an example message");
///         })
///         .on_message(|socket, message| {
///             if message.as_text() == Some("an example message") {
///                 let _ = socket.close_normal();
///             }
///         })
///         .on_error(|_, error| web_sys::console::error_1(&error.to_string().into()))
///         .on_close(|_, event| web_sys::console::log_1(&event.to_string().into())),
/// )?;
/// // Keep `socket` alive as long as the connection is wanted: dropping the
/// // last handle closes it.
/// # drop(socket);
/// # Ok(()) }
/// ```
#[derive(Default)]
#[must_use = "callbacks do nothing until passed to open_with_callbacks"]
pub struct Callbacks {
    on_open: Option<OpenFn>,
    on_message: Option<MessageFn>,
    on_error: Option<ErrorFn>,
    on_close: Option<CloseFn>,
}

impl Callbacks {
    /// No callbacks yet.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = browser_websocket::Callbacks::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Called once the socket is open.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = browser_websocket::Callbacks::new().on_open(|socket| {
    ///     let _ = socket.send_text("hello");
    /// });
    /// ```
    pub fn on_open(mut self, callback: impl FnMut(&Handle) + 'static) -> Self {
        self.on_open = Some(Box::new(callback));
        self
    }

    /// Called for each message, in arrival order.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = browser_websocket::Callbacks::new().on_message(|_, message| {
    ///     let _ = message.as_text();
    /// });
    /// ```
    pub fn on_message(mut self, callback: impl FnMut(&Handle, Message) + 'static) -> Self {
        self.on_message = Some(Box::new(callback));
        self
    }

    /// Called when the connection fails or breaks (then `on_close` follows), or a
    /// message cannot be decoded.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = browser_websocket::Callbacks::new().on_error(|_, error| {
    ///     let _ = error.close_event();
    /// });
    /// ```
    pub fn on_error(mut self, callback: impl FnMut(&Handle, &Error) + 'static) -> Self {
        self.on_error = Some(Box::new(callback));
        self
    }

    /// Called once when the socket has closed, with how it closed.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = browser_websocket::Callbacks::new().on_close(|_, event| {
    ///     let _ = event.was_clean;
    /// });
    /// ```
    pub fn on_close(mut self, callback: impl FnMut(&Handle, CloseEvent) + 'static) -> Self {
        self.on_close = Some(Box::new(callback));
        self
    }

    /// The consumer of the socket's events that calls these callbacks. It is
    /// never re-entered: the socket holds it out of reach while it runs.
    pub(crate) fn into_forward(mut self) -> Forward {
        Box::new(move |shared, event| {
            let handle = Handle::from_shared(Rc::clone(shared));
            self.call(&handle, event);
        })
    }

    fn call(&mut self, handle: &Handle, event: Event) {
        match event {
            Event::Open => {
                if let Some(callback) = &mut self.on_open {
                    callback(handle);
                }
            }
            Event::Message(message) => {
                if let Some(callback) = &mut self.on_message {
                    callback(handle, message);
                }
            }
            Event::Error(error) => {
                if let Some(callback) = &mut self.on_error {
                    callback(handle, &error);
                }
            }
            Event::Close(event) => {
                if let Some(callback) = &mut self.on_close {
                    callback(handle, event);
                }
            }
        }
    }
}

/// The callbacks consumer opens a socket from the builder, which knows nothing
/// of it: it only hands a socket's events to a forwarder.
impl WebSocketBuilder {
    /// Opens the socket with browser-style callbacks instead of async; see
    /// [`Callbacks`]. Returns at once, while the socket connects.
    ///
    /// # Errors
    ///
    /// The URL and protocol errors of [`Error`], and [`Error::Security`]; a
    /// connection that fails later is reported to the `on_error` and `on_close`
    /// callbacks.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # fn demo() -> browser_websocket::Result<()> {
    /// use browser_websocket::{Callbacks, WebSocket};
    /// let socket = WebSocket::builder("ws://127.0.0.1:8080/echo").open_with_callbacks(
    ///     Callbacks::new()
    ///         .on_open(|socket| { let _ = socket.send_text("an example message"); })
    ///         .on_message(|_, message| web_sys::console::log_1(&format!("{message:?}").into())),
    /// )?;
    /// # Ok(()) }
    /// ```
    #[must_use = "dropping the last handle closes the socket"]
    pub fn open_with_callbacks(self, callbacks: Callbacks) -> Result<Handle> {
        self.open_forwarding(callbacks.into_forward())
            .map(Handle::from_shared)
    }
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks").finish_non_exhaustive()
    }
}
