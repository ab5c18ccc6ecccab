//! The JS boundary: the only code that holds JS closures or calls the browser.
//! Socket listeners, timers, the page's life signals, the link between tabs,
//! the global scope, exceptions, Blob reading, and the browser socket itself
//! (construction, the one send path, close, getters). Every registration of a
//! JS callback holds a [`Registration`], so [`live_js_callbacks`] counts them
//! all in one place.

pub(crate) mod blob;
pub(crate) mod exceptions;
pub(crate) mod global;
pub(crate) mod listeners;
#[cfg(all(feature = "testing", target_arch = "wasm32"))]
pub(crate) mod mock;
pub(crate) mod socket;
pub(crate) mod stored;
pub(crate) mod tabs;
pub(crate) mod timers;

/// How many JS callbacks this crate has registered with the browser and not yet
/// released, across all sockets of this thread or worker: four event listeners
/// per socket, each pending timer (flow control, reconnect waits, heartbeats,
/// connect timeouts), the page-life listener of each reconnecting socket, and
/// the channel and lock callbacks of each shared socket. With every socket
/// dropped it is 0, so tests and apps can check that nothing leaks. Natively
/// the same things are counted (each socket's four listeners on its thread's
/// loop, each timer), for this thread.
///
/// # Example
///
/// ```
/// // No socket exists yet, so nothing is registered.
/// assert_eq!(browser_websocket::live_js_callbacks(), 0);
/// ```
pub fn live_js_callbacks() -> usize {
    crate::live::CALLBACKS.get()
}

/// `count` JS callbacks registered with the browser, counted while this lives.
/// Held by every type that registers one, next to the closure, and dropped
/// after the registration is removed.
#[must_use = "the count drops when this is dropped"]
pub(crate) struct Registration(usize);

impl Registration {
    pub(crate) fn new(count: usize) -> Self {
        crate::live::CALLBACKS.add(count);
        Self(count)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        crate::live::CALLBACKS.sub(self.0);
    }
}
