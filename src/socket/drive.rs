//! [`drive`]: the same code on both targets for an app whose thread waits on
//! something other than its sockets.

use std::future::Future;

/// Runs `future`, and meanwhile the events of the sockets this thread made.
///
/// In a browser the page's event loop runs every socket's events, timers and
/// tasks, so this is `future` itself. Natively they run on the thread that
/// made the socket, whenever that thread polls one of this crate's futures
/// (a socket's stream or sink, `closed()`, a reconnecting socket, a request's
/// reply): an app that awaits its sockets needs nothing more. Wrap the
/// thread's future in `drive` when it waits on something else while its
/// sockets must go on: callbacks only ([`Callbacks`](crate::Callbacks), a
/// reconnecting socket's `on_message`), or a [`SendHandle`](crate::SendHandle)
/// or [`RequestHandle`](crate::RequestHandle) used from other threads while
/// this one awaits a signal.
///
/// # Example
///
/// ```no_run
/// use browser_websocket::{Callbacks, Message, WebSocket};
///
/// async fn log_until_closed() -> browser_websocket::Result<()> {
///     let socket = WebSocket::builder("wss://example.com/feed").open_with_callbacks(
///         Callbacks::new().on_message(|_, message: Message| println!("{message:?}")),
///     )?;
///     // Natively the callbacks run while this thread drives them.
///     browser_websocket::drive(socket.closed()).await;
///     Ok(())
/// }
/// ```
pub async fn drive<F: Future>(future: F) -> F::Output {
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    {
        crate::native::event_loop::Driven {
            future: Box::pin(future),
        }
        .await
    }
    #[cfg(any(target_arch = "wasm32", not(feature = "native")))]
    {
        future.await
    }
}
