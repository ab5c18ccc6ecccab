//! The JS boundary: the only module that owns JS closures and listeners, and
//! turns browser events and exceptions into Rust values.
//!
//! Every listener is an [`EventListener`] that removes itself when dropped, so the
//! lifetime of each closure is that of the Rust value holding it. A closure dropped
//! while the browser is running it (a socket dropped from inside its own message
//! handler) is freed by wasm-bindgen only after that call returns.

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::{CloseCode, CloseEvent, Error, Message};

static LIVE_LISTENERS: AtomicUsize = AtomicUsize::new(0);

/// How many JS callbacks this crate has registered with the browser and not yet
/// released (event listeners on sockets, and flow-control timers), across all
/// sockets of this thread or worker. With every socket dropped, it is 0: tests
/// and apps can check that nothing leaks.
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

// The message listener does in JS what would otherwise be several calls across
// the JS/wasm boundary per message (read `data`, test its type, make a view, ask
// its length, copy): the wasm closure is called once, with the text or the bytes.
#[wasm_bindgen(inline_js = r#"
export function listenForMessages(socket, onText, onBytes, onOther) {
  const listener = (event) => {
    const data = event.data;
    if (typeof data === "string") onText(data);
    else if (data instanceof ArrayBuffer) onBytes(new Uint8Array(data));
    else onOther(data);
  };
  socket.addEventListener("message", listener);
  return listener;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = listenForMessages)]
    fn listen_for_messages(
        socket: &web_sys::WebSocket,
        on_text: &Closure<dyn FnMut(String)>,
        on_bytes: &Closure<dyn FnMut(Vec<u8>)>,
        on_other: &Closure<dyn FnMut(JsValue)>,
    ) -> js_sys::Function;
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

/// A browser event on a socket, translated.
pub(crate) enum SocketEvent {
    Open,
    Message(Result<Message, Error>),
    /// The browser's `error` event, which carries no detail.
    Error,
    Close(CloseEvent),
}

/// A listener that is removed, and its closure released, when dropped.
#[must_use = "the listener is removed when dropped"]
struct EventListener {
    target: web_sys::EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl EventListener {
    fn new(
        target: &web_sys::EventTarget,
        kind: &'static str,
        callback: impl FnMut(web_sys::Event) + 'static,
    ) -> Self {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(callback);
        // Cannot throw for a function listener; were it to, the listener is simply
        // not attached and removing it later is a no-op.
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        LIVE_LISTENERS.fetch_add(1, Ordering::Relaxed);
        Self {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
        LIVE_LISTENERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The `message` listener: a JS function that sorts each message's data and
/// hands it to one of three closures; removed and released when dropped.
#[must_use = "the listener is removed when dropped"]
struct MessageListener {
    socket: web_sys::WebSocket,
    listener: js_sys::Function,
    _on_text: Closure<dyn FnMut(String)>,
    _on_bytes: Closure<dyn FnMut(Vec<u8>)>,
    _on_other: Closure<dyn FnMut(JsValue)>,
}

impl MessageListener {
    fn new(socket: &web_sys::WebSocket, on_event: Rc<dyn Fn(SocketEvent)>) -> Self {
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
        let on_other = Closure::<dyn FnMut(JsValue)>::new(move |data| {
            on_event(SocketEvent::Message(blob_or_error(data)));
        });
        let listener = listen_for_messages(socket, &on_text, &on_bytes, &on_other);
        LIVE_LISTENERS.fetch_add(1, Ordering::Relaxed);
        Self {
            socket: socket.clone(),
            listener,
            _on_text: on_text,
            _on_bytes: on_bytes,
            _on_other: on_other,
        }
    }
}

impl Drop for MessageListener {
    fn drop(&mut self) {
        let _ = self
            .socket
            .remove_event_listener_with_callback("message", &self.listener);
        LIVE_LISTENERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The four listeners of one socket; dropping this detaches them all.
#[must_use = "the listeners are removed when dropped"]
pub(crate) struct SocketListeners {
    _open: EventListener,
    _message: MessageListener,
    _error: EventListener,
    _close: EventListener,
}

impl SocketListeners {
    /// Attaches `open`, `message`, `error` and `close` listeners that hand each
    /// event, translated, to `on_event`.
    pub(crate) fn attach(socket: &web_sys::WebSocket, on_event: Rc<dyn Fn(SocketEvent)>) -> Self {
        let target: &web_sys::EventTarget = socket.as_ref();
        let open = {
            let on_event = Rc::clone(&on_event);
            EventListener::new(target, "open", move |_| on_event(SocketEvent::Open))
        };
        let message = MessageListener::new(socket, Rc::clone(&on_event));
        let error = {
            let on_event = Rc::clone(&on_event);
            EventListener::new(target, "error", move |_| on_event(SocketEvent::Error))
        };
        let close = EventListener::new(target, "close", move |event| {
            let event: web_sys::CloseEvent = event.unchecked_into();
            on_event(SocketEvent::Close(CloseEvent {
                code: CloseCode::from(event.code()),
                reason: event.reason(),
                was_clean: event.was_clean(),
            }));
        });
        Self {
            _open: open,
            _message: message,
            _error: error,
            _close: close,
        }
    }
}

/// Message data that is neither text nor an `ArrayBuffer`: a `Blob` (kept as
/// is), or something no browser sends, reported rather than assumed away.
fn blob_or_error(data: JsValue) -> Result<Message, Error> {
    match data.dyn_into::<web_sys::Blob>() {
        Ok(blob) => Ok(Message::Blob(blob)),
        Err(other) => Err(Error::UnexpectedMessageType {
            type_name: other.js_typeof().as_string().unwrap_or_default(),
        }),
    }
}

/// A thrown JS value as an [`Error`], keyed on the `DOMException` name, which
/// (unlike the message) is the same in every browser.
pub(crate) fn error_from_js(thrown: JsValue) -> Error {
    match gloo_utils::errors::JsError::try_from(thrown) {
        Ok(error) if error.name == "SecurityError" => Error::Security {
            message: error.message,
        },
        Ok(error) => Error::Js {
            name: error.name,
            message: error.message,
        },
        Err(not_an_error) => Error::Js {
            name: "Error".to_owned(),
            message: not_an_error.to_string(),
        },
    }
}
