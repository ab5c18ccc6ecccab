//! The callback API: the browser's `onopen`/`onmessage`/`onerror`/`onclose`, for
//! code that does not use async. Fed by the same event layer as the streams.

use std::cell::RefCell;

use crate::{CloseEvent, Error, Handle, Message};

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
///   ([`Error::ConnectionClosed`]), always followed by `on_close`; or a message
///   could not be decoded.
/// - `on_close`: the socket closed; called exactly once, last.
///
/// # Example
///
/// ```no_run
/// # fn demo() -> websocket_web::Result<()> {
/// use websocket_web::{Callbacks, Message, WebSocket};
///
/// let socket = WebSocket::builder("ws://127.0.0.1:8080/echo").open_with_callbacks(
///     Callbacks::new()
///         .on_open(|socket| {
///             let _ = socket.send_text("an example message");
///         })
///         .on_message(|socket, message| {
///             if message.as_text() == Some("an example message") {
///                 let _ = socket.close();
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
    on_open: RefCell<Option<OpenFn>>,
    on_message: RefCell<Option<MessageFn>>,
    on_error: RefCell<Option<ErrorFn>>,
    on_close: RefCell<Option<CloseFn>>,
}

impl Callbacks {
    /// No callbacks yet.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = websocket_web::Callbacks::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Called once the socket is open.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = websocket_web::Callbacks::new().on_open(|socket| {
    ///     let _ = socket.send_text("hello");
    /// });
    /// ```
    pub fn on_open(self, callback: impl FnMut(&Handle) + 'static) -> Self {
        *self.on_open.borrow_mut() = Some(Box::new(callback));
        self
    }

    /// Called for each message, in arrival order.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = websocket_web::Callbacks::new().on_message(|_, message| {
    ///     let _ = message.as_text();
    /// });
    /// ```
    pub fn on_message(self, callback: impl FnMut(&Handle, Message) + 'static) -> Self {
        *self.on_message.borrow_mut() = Some(Box::new(callback));
        self
    }

    /// Called when the connection fails or breaks (then `on_close` follows), or a
    /// message cannot be decoded.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = websocket_web::Callbacks::new().on_error(|_, error| {
    ///     let _ = error.close_event();
    /// });
    /// ```
    pub fn on_error(self, callback: impl FnMut(&Handle, &Error) + 'static) -> Self {
        *self.on_error.borrow_mut() = Some(Box::new(callback));
        self
    }

    /// Called once when the socket has closed, with how it closed.
    ///
    /// # Example
    ///
    /// ```
    /// let callbacks = websocket_web::Callbacks::new().on_close(|_, event| {
    ///     let _ = event.was_clean;
    /// });
    /// ```
    pub fn on_close(self, callback: impl FnMut(&Handle, CloseEvent) + 'static) -> Self {
        *self.on_close.borrow_mut() = Some(Box::new(callback));
        self
    }

    // A callback that re-enters itself (only possible by dispatching a synthetic
    // event from inside it) finds its slot borrowed and is skipped, not panicked on.

    pub(crate) fn open(&self, handle: &Handle) {
        if let Ok(mut slot) = self.on_open.try_borrow_mut() {
            if let Some(callback) = slot.as_mut() {
                callback(handle);
            }
        }
    }

    pub(crate) fn message(&self, handle: &Handle, message: Message) {
        if let Ok(mut slot) = self.on_message.try_borrow_mut() {
            if let Some(callback) = slot.as_mut() {
                callback(handle, message);
            }
        }
    }

    pub(crate) fn error(&self, handle: &Handle, error: &Error) {
        if let Ok(mut slot) = self.on_error.try_borrow_mut() {
            if let Some(callback) = slot.as_mut() {
                callback(handle, error);
            }
        }
    }

    pub(crate) fn close(&self, handle: &Handle, event: CloseEvent) {
        if let Ok(mut slot) = self.on_close.try_borrow_mut() {
            if let Some(callback) = slot.as_mut() {
                callback(handle, event);
            }
        }
    }
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks").finish_non_exhaustive()
    }
}
