//! The JS boundary: the only module that owns JS closures and listeners, and
//! turns browser events and exceptions into Rust values.
//!
//! A socket's four listeners are attached by one small JS function, which also
//! does per message what would otherwise take several calls across the JS/wasm
//! boundary (read `data`, test its type, make a view, ask its length, copy): each
//! event reaches wasm in one call, with plain values. [`SocketListeners`] owns the
//! closures and detaches the listeners when dropped, so each closure lives exactly
//! as long as the Rust value holding it. A closure dropped while the browser is
//! running it (a socket dropped from inside its own message handler) is freed by
//! wasm-bindgen only after that call returns.

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::{CloseCode, CloseEvent, Error, Message};

static LIVE_LISTENERS: AtomicUsize = AtomicUsize::new(0);

/// Listeners per socket: open, message, error, close.
const LISTENERS_PER_SOCKET: usize = 4;

/// How many JS callbacks this crate has registered with the browser and not yet
/// released (event listeners on sockets, four each, timers, and the `online`
/// listener of a reconnecting socket while it waits),
/// across all sockets of this thread or worker. With every socket dropped, it is
/// 0: tests and apps can check that nothing leaks.
///
/// # Example
///
/// ```
/// // No socket exists yet, so no listener is attached.
/// assert_eq!(websocket_web::live_listeners(), 0);
/// ```
pub fn live_listeners() -> usize {
    LIVE_LISTENERS.load(Ordering::Relaxed)
}

#[wasm_bindgen(inline_js = r#"
export function listenForOnline(onOnline) {
  const online = () => onOnline();
  globalThis.addEventListener("online", online);
  return () => globalThis.removeEventListener("online", online);
}

export function listen(socket, onOpen, onText, onBytes, onBlob, onOther, onError, onClose) {
  const open = () => onOpen();
  const message = (event) => {
    const data = event.data;
    if (typeof data === "string") onText(data);
    else if (data instanceof ArrayBuffer) onBytes(new Uint8Array(data));
    else if (data instanceof Blob) onBlob(data);
    else onOther(typeof data);
  };
  const error = () => onError();
  const close = (event) => onClose(event.code, event.reason, event.wasClean);
  socket.addEventListener("open", open);
  socket.addEventListener("message", message);
  socket.addEventListener("error", error);
  socket.addEventListener("close", close);
  return () => {
    socket.removeEventListener("open", open);
    socket.removeEventListener("message", message);
    socket.removeEventListener("error", error);
    socket.removeEventListener("close", close);
  };
}
"#)]
extern "C" {
    /// Attaches the four listeners; returns the function that detaches them.
    fn listen(
        socket: &web_sys::WebSocket,
        on_open: &Closure<dyn FnMut()>,
        on_text: &Closure<dyn FnMut(String)>,
        on_bytes: &Closure<dyn FnMut(Vec<u8>)>,
        on_blob: &Closure<dyn FnMut(JsValue)>,
        on_other: &Closure<dyn FnMut(String)>,
        on_error: &Closure<dyn FnMut()>,
        on_close: &Closure<dyn FnMut(u16, String, bool)>,
    ) -> js_sys::Function;

    /// Calls `on_online` when the browser reports being back online; returns
    /// the function that stops listening.
    #[wasm_bindgen(js_name = listenForOnline)]
    fn listen_for_online(on_online: &Closure<dyn FnMut()>) -> js_sys::Function;
}

#[wasm_bindgen]
extern "C" {
    // The global functions, present on pages and in workers alike.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, milliseconds: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// A one-shot timer, cancelled and released when dropped.
#[must_use = "the timer is cancelled when dropped"]
pub(crate) struct Timer {
    handle: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    pub(crate) fn once(milliseconds: i32, callback: impl FnOnce() + 'static) -> Self {
        let mut callback = Some(callback);
        let callback = Closure::<dyn FnMut()>::new(move || {
            if let Some(callback) = callback.take() {
                callback();
            }
        });
        let handle = set_timeout(callback.as_ref().unchecked_ref(), milliseconds);
        LIVE_LISTENERS.fetch_add(1, Ordering::Relaxed);
        Self {
            handle,
            _callback: callback,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
        LIVE_LISTENERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A future that becomes ready when its source fires: a timer, or the
/// browser reporting it is back online. Dropping it first cancels the timer or
/// removes the listener.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Signal {
    fired: Rc<Fired>,
    _source: Source,
}

/// Set by a signal's source; read by its future.
#[derive(Default)]
struct Fired {
    done: std::cell::Cell<bool>,
    waker: std::cell::Cell<Option<std::task::Waker>>,
}

impl Fired {
    fn fire(&self) {
        self.done.set(true);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// What fires a signal; held only so that dropping the signal releases it.
enum Source {
    Timer { _timer: Timer },
    Online { _listener: OnlineListener },
}

/// The global `online` listener, removed when dropped.
struct OnlineListener {
    detach: js_sys::Function,
    _callback: Closure<dyn FnMut()>,
}

impl Drop for OnlineListener {
    fn drop(&mut self) {
        let _ = self.detach.call0(&JsValue::UNDEFINED);
        LIVE_LISTENERS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Signal {
    /// Ready after `duration`.
    pub(crate) fn after(duration: std::time::Duration) -> Self {
        let fired = Rc::new(Fired::default());
        let source = Rc::clone(&fired);
        let milliseconds = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        Self {
            fired,
            _source: Source::Timer {
                _timer: Timer::once(milliseconds, move || source.fire()),
            },
        }
    }

    /// Ready once the browser reports being back online (the global `online`
    /// event).
    pub(crate) fn online() -> Self {
        let fired = Rc::new(Fired::default());
        let source = Rc::clone(&fired);
        let callback = Closure::<dyn FnMut()>::new(move || source.fire());
        let detach = listen_for_online(&callback);
        LIVE_LISTENERS.fetch_add(1, Ordering::Relaxed);
        Self {
            fired,
            _source: Source::Online {
                _listener: OnlineListener {
                    detach,
                    _callback: callback,
                },
            },
        }
    }
}

impl std::future::Future for Signal {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.fired.done.get() {
            std::task::Poll::Ready(())
        } else {
            self.fired.waker.set(Some(cx.waker().clone()));
            std::task::Poll::Pending
        }
    }
}

/// A browser event on a socket, translated.
pub(crate) enum SocketEvent {
    Open,
    Message(Result<Message, Error>),
    /// The browser's `error` event, which carries no detail.
    Error,
    Close(CloseEvent),
}

/// The four listeners of one socket; dropping this detaches them all and
/// releases their closures.
#[must_use = "the listeners are removed when dropped"]
pub(crate) struct SocketListeners {
    detach: js_sys::Function,
    _on_open: Closure<dyn FnMut()>,
    _on_text: Closure<dyn FnMut(String)>,
    _on_bytes: Closure<dyn FnMut(Vec<u8>)>,
    _on_blob: Closure<dyn FnMut(JsValue)>,
    _on_other: Closure<dyn FnMut(String)>,
    _on_error: Closure<dyn FnMut()>,
    _on_close: Closure<dyn FnMut(u16, String, bool)>,
}

impl SocketListeners {
    /// Attaches `open`, `message`, `error` and `close` listeners that hand each
    /// event, translated, to `on_event`.
    pub(crate) fn attach(socket: &web_sys::WebSocket, on_event: Rc<dyn Fn(SocketEvent)>) -> Self {
        let on_open = {
            let on_event = Rc::clone(&on_event);
            Closure::<dyn FnMut()>::new(move || on_event(SocketEvent::Open))
        };
        let on_text = {
            let on_event = Rc::clone(&on_event);
            Closure::<dyn FnMut(String)>::new(move |text| {
                on_event(SocketEvent::Message(Ok(Message::Text(text))))
            })
        };
        let on_bytes = {
            let on_event = Rc::clone(&on_event);
            Closure::<dyn FnMut(Vec<u8>)>::new(move |bytes| {
                on_event(SocketEvent::Message(Ok(Message::Binary(bytes))))
            })
        };
        let on_blob = {
            let on_event = Rc::clone(&on_event);
            // The listener has checked `instanceof Blob`.
            Closure::<dyn FnMut(JsValue)>::new(move |blob: JsValue| {
                on_event(SocketEvent::Message(Ok(Message::Blob(
                    blob.unchecked_into(),
                ))))
            })
        };
        // Data of another type is something no browser sends; it is reported
        // rather than assumed away.
        let on_other = {
            let on_event = Rc::clone(&on_event);
            Closure::<dyn FnMut(String)>::new(move |type_name| {
                on_event(SocketEvent::Message(Err(Error::UnexpectedMessageType {
                    type_name,
                })))
            })
        };
        let on_error = {
            let on_event = Rc::clone(&on_event);
            Closure::<dyn FnMut()>::new(move || on_event(SocketEvent::Error))
        };
        let on_close =
            Closure::<dyn FnMut(u16, String, bool)>::new(move |code, reason, was_clean| {
                on_event(SocketEvent::Close(CloseEvent {
                    code: CloseCode::from(code),
                    reason,
                    was_clean,
                }))
            });
        let detach = listen(
            socket, &on_open, &on_text, &on_bytes, &on_blob, &on_other, &on_error, &on_close,
        );
        LIVE_LISTENERS.fetch_add(LISTENERS_PER_SOCKET, Ordering::Relaxed);
        Self {
            detach,
            _on_open: on_open,
            _on_text: on_text,
            _on_bytes: on_bytes,
            _on_blob: on_blob,
            _on_other: on_other,
            _on_error: on_error,
            _on_close: on_close,
        }
    }
}

impl Drop for SocketListeners {
    fn drop(&mut self) {
        // Cannot throw: it only removes listeners.
        let _ = self.detach.call0(&JsValue::UNDEFINED);
        LIVE_LISTENERS.fetch_sub(LISTENERS_PER_SOCKET, Ordering::Relaxed);
    }
}

/// A thrown JS value as an [`Error`], keyed on the `DOMException` name, which
/// (unlike the message) is the same in every browser.
pub(crate) fn error_from_js(thrown: JsValue) -> Error {
    // DOMExceptions and TypeErrors are both `Error`s in JS.
    let (name, message) = match thrown.dyn_ref::<js_sys::Error>() {
        Some(error) => (String::from(error.name()), String::from(error.message())),
        None => ("Error".to_owned(), thrown.as_string().unwrap_or_default()),
    };
    if name == "SecurityError" {
        Error::Security { message }
    } else {
        Error::Js { name, message }
    }
}
