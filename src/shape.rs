//! [`Socket`]: what the three sockets do alike.

use crate::reconnect::{ReconnectingHandle, ReconnectingSender, ReconnectingWebSocket};
use crate::rules::error::Result;
use crate::rules::message::{Message, ReadyState};
use crate::socket::halves::Sender;
use crate::socket::handle::Handle;
use crate::socket::websocket::WebSocket;
use crate::tabs::SharedWebSocket;

/// What every socket of this crate does, with the same names: send, close,
/// and say whether it is connected or done. The plain [`WebSocket`] (and its
/// [`Handle`] and [`Sender`]), the [`ReconnectingWebSocket`] (and its handle
/// and sending half) and the [`SharedWebSocket`] implement it, so code that
/// should not care which one it was given takes `impl Socket`.
///
/// Where the three differ, it is in what a socket without a connection does
/// with a message, which is why there are three:
///
/// | | `WebSocket` | `ReconnectingWebSocket` | `SharedWebSocket` |
/// |---|---|---|---|
/// | send while not connected | `Err(NotOpen)` | queued (bounded), sent on the next connection | waits (bounded) for the tab that leads |
/// | `close_normal` | closes with 1000 | closes with 1000, and no reconnection follows | this tab leaves; the other tabs keep the connection |
/// | `is_connected` | the socket is open | a connection is open now | the shared connection is open, as this tab last heard |
/// | `is_finished` | closed | closed by the app, given up, or ended by a final code | this tab left, or the connection ended for good |
///
/// # Example
///
/// ```no_run
/// use browser_websocket::{ReconnectingWebSocket, Socket};
///
/// /// Says hello on whichever socket it is given, then closes it.
/// fn greet(socket: &impl Socket) -> browser_websocket::Result<()> {
///     socket.send_text("hello")?;
///     socket.close_normal()
/// }
///
/// greet(&ReconnectingWebSocket::connect("/live"))?;
/// greet(&browser_websocket::tabs::SharedWebSocket::connect("/live"))?;
/// # Ok::<(), browser_websocket::Error>(())
/// ```
pub trait Socket {
    /// Sends a message (or queues it, as the table above says).
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`](crate::Error::NotOpen) once the socket is finished
    /// (or, on a plain `WebSocket`, while it is not open);
    /// [`Error::QueueFull`](crate::Error::QueueFull) where a queue is full.
    fn send_message(&self, message: &Message) -> Result<()>;

    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    fn send_text(&self, text: &str) -> Result<()>;

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// As [`send_message`](Self::send_message).
    fn send_bytes(&self, bytes: &[u8]) -> Result<()>;

    /// Closes with 1000 (a shared socket: this tab leaves).
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`](crate::Error::NotOpen) if it was already closing or
    /// closed (never for a shared socket: leaving twice is leaving).
    fn close_normal(&self) -> Result<()>;

    /// Whether a connection is open now.
    fn is_connected(&self) -> bool;

    /// Whether it is done: no connection follows, sends fail.
    fn is_finished(&self) -> bool;
}

impl Socket for Handle {
    fn send_message(&self, message: &Message) -> Result<()> {
        Handle::send_message(self, message)
    }

    fn send_text(&self, text: &str) -> Result<()> {
        Handle::send_text(self, text)
    }

    fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        Handle::send_bytes(self, bytes)
    }

    fn close_normal(&self) -> Result<()> {
        Handle::close_normal(self)
    }

    fn is_connected(&self) -> bool {
        self.ready_state() == ReadyState::Open
    }

    fn is_finished(&self) -> bool {
        self.ready_state() == ReadyState::Closed
    }
}

impl Socket for ReconnectingHandle {
    fn send_message(&self, message: &Message) -> Result<()> {
        ReconnectingHandle::send_message(self, message)
    }

    fn send_text(&self, text: &str) -> Result<()> {
        ReconnectingHandle::send_text(self, text)
    }

    fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        ReconnectingHandle::send_bytes(self, bytes)
    }

    fn close_normal(&self) -> Result<()> {
        ReconnectingHandle::close_normal(self)
    }

    fn is_connected(&self) -> bool {
        ReconnectingHandle::is_connected(self)
    }

    fn is_finished(&self) -> bool {
        ReconnectingHandle::is_finished(self)
    }
}

impl Socket for SharedWebSocket {
    fn send_message(&self, message: &Message) -> Result<()> {
        SharedWebSocket::send_message(self, message)
    }

    fn send_text(&self, text: &str) -> Result<()> {
        SharedWebSocket::send_text(self, text)
    }

    fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
        SharedWebSocket::send_bytes(self, bytes)
    }

    fn close_normal(&self) -> Result<()> {
        self.leave();
        Ok(())
    }

    fn is_connected(&self) -> bool {
        SharedWebSocket::is_connected(self)
    }

    fn is_finished(&self) -> bool {
        SharedWebSocket::is_finished(self)
    }
}

/// The types that are a handle underneath (through `Deref`) are that
/// handle's kind of socket.
macro_rules! socket_through_deref {
    ($($outer:ty => $inner:ty),* $(,)?) => {$(
        impl Socket for $outer {
            fn send_message(&self, message: &Message) -> Result<()> {
                <$inner as Socket>::send_message(self, message)
            }

            fn send_text(&self, text: &str) -> Result<()> {
                <$inner as Socket>::send_text(self, text)
            }

            fn send_bytes(&self, bytes: &[u8]) -> Result<()> {
                <$inner as Socket>::send_bytes(self, bytes)
            }

            fn close_normal(&self) -> Result<()> {
                <$inner as Socket>::close_normal(self)
            }

            fn is_connected(&self) -> bool {
                <$inner as Socket>::is_connected(self)
            }

            fn is_finished(&self) -> bool {
                <$inner as Socket>::is_finished(self)
            }
        }
    )*};
}

socket_through_deref! {
    WebSocket => Handle,
    Sender => Handle,
    ReconnectingWebSocket => ReconnectingHandle,
    ReconnectingSender => ReconnectingHandle,
}
