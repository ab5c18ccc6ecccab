//! Event listeners: a socket's four (open, message, error, close) and the
//! page's life (online, offline, back/forward cache, visibility). Each type owns its closures and removes its
//! listeners when dropped, so each closure lives exactly as long as the Rust
//! value holding it.
//!
//! A socket's four listeners are attached by one small JS function, which also
//! does per message what would otherwise take several calls across the JS/wasm
//! boundary (read `data`, test its type, make a view, ask its length, copy): each
//! event reaches wasm in one call, with plain values. An event dispatched on
//! the socket from inside a handler waits until that handler returns (a
//! wasm-bindgen `FnMut` closure cannot be re-entered, and the forwarder of the
//! callbacks is taken out while it runs). A closure dropped while
//! the browser is running it (a socket dropped from inside its own message
//! handler) is freed by wasm-bindgen only after that call returns.
// Natively with the `native` feature the native backend takes its place.
#![cfg_attr(all(not(target_arch = "wasm32"), feature = "native"), allow(dead_code))]

use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::Registration;
use crate::rules::close::{CloseCode, CloseEvent};
use crate::rules::error::Error;
use crate::rules::lifecycle::BrowserEvent;
use crate::rules::message::Message;

/// Listeners per socket: open, message, error, close.
const LISTENERS_PER_SOCKET: usize = 4;

#[wasm_bindgen(inline_js = r#"
export function listenForPageLife(onSignal) {
  const scope = globalThis;
  const doc = scope.document;
  const online = () => onSignal(0);
  const offline = () => onSignal(1);
  const pagehide = (event) => { if (event.persisted) onSignal(2); };
  const pageshow = (event) => { if (event.persisted) onSignal(3); };
  const visibility = () => { if (doc.visibilityState === "visible") onSignal(4); };
  scope.addEventListener("online", online);
  scope.addEventListener("offline", offline);
  scope.addEventListener("pagehide", pagehide);
  scope.addEventListener("pageshow", pageshow);
  if (doc) doc.addEventListener("visibilitychange", visibility);
  return () => {
    scope.removeEventListener("online", online);
    scope.removeEventListener("offline", offline);
    scope.removeEventListener("pagehide", pagehide);
    scope.removeEventListener("pageshow", pageshow);
    if (doc) doc.removeEventListener("visibilitychange", visibility);
  };
}

export function listen(socket, keepInJs, onText, onBytes, onSignal, onClose) {
  // An event dispatched on the socket from inside a handler (by the app, with
  // dispatchEvent) is handled after that handler returns, in order: wasm is
  // never re-entered by an event.
  // Once detached, held events are dropped: their closures may be gone.
  let running = false;
  let attached = true;
  const held = [];
  const guarded = (handle) => (event) => {
    if (running) {
      held.push(() => attached && handle(event));
      return;
    }
    running = true;
    try {
      handle(event);
      while (held.length) held.shift()();
    } finally {
      running = false;
    }
  };
  const open = guarded(() => onSignal(0));
  const message = guarded((event) => {
    const data = event.data;
    if (typeof data === "string") onText(data);
    else if (data instanceof ArrayBuffer) {
      if (keepInJs) onSignal(1, new Uint8Array(data));
      else onBytes(new Uint8Array(data));
    }
    else if (data instanceof Blob) onSignal(1, data);
    else onSignal(2, typeof data);
  });
  const error = guarded(() => onSignal(3));
  const close = guarded((event) => onClose(event.code, event.reason, event.wasClean));
  socket.addEventListener("open", open);
  socket.addEventListener("message", message);
  socket.addEventListener("error", error);
  socket.addEventListener("close", close);
  return () => {
    attached = false;
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
        keep_in_js: bool,
        on_text: &Closure<dyn FnMut(String)>,
        on_bytes: &Closure<dyn FnMut(Vec<u8>)>,
        on_signal: &Closure<dyn FnMut(u8, JsValue)>,
        on_close: &Closure<dyn FnMut(u16, String, bool)>,
    ) -> js_sys::Function;

    /// Calls `on_signal` with a [`PageSignal`]'s number at each change of the
    /// page's life; returns the function that stops listening.
    #[wasm_bindgen(js_name = listenForPageLife)]
    fn listen_for_page_life(on_signal: &Closure<dyn FnMut(u8)>) -> js_sys::Function;
}

/// A change in the page's life, as the browser reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PageSignal {
    Online,
    Offline,
    /// `pagehide` with `persisted`: entering the back/forward cache.
    Hidden,
    /// `pageshow` with `persisted`: back from the cache.
    Shown,
    /// The document became visible.
    Visible,
}

impl PageSignal {
    fn from_number(number: u8) -> Option<Self> {
        match number {
            0 => Some(Self::Online),
            1 => Some(Self::Offline),
            2 => Some(Self::Hidden),
            3 => Some(Self::Shown),
            4 => Some(Self::Visible),
            _ => None,
        }
    }
}

/// The page's life listeners (`online`, `offline`, `pagehide`, `pageshow` on
/// the global scope, `visibilitychange` on the document where there is one):
/// calls its callback with each [`PageSignal`] until dropped. None of them
/// keeps a page out of the back/forward cache (`unload` would).
#[must_use = "the listeners are removed when dropped"]
pub(crate) struct PageLifeListener {
    detach: js_sys::Function,
    _callback: Closure<dyn FnMut(u8)>,
    _registration: Registration,
}

impl PageLifeListener {
    /// Listens on the page or worker; `None` off the web (natively), where
    /// there is no page and no closure can be made.
    pub(crate) fn attach(callback: impl FnMut(PageSignal) + 'static) -> Option<Self> {
        cfg!(target_arch = "wasm32").then(|| Self::attach_on_the_web(callback))
    }

    fn attach_on_the_web(mut callback: impl FnMut(PageSignal) + 'static) -> Self {
        let callback = Closure::<dyn FnMut(u8)>::new(move |number| {
            if let Some(signal) = PageSignal::from_number(number) {
                callback(signal);
            }
        });
        let detach = listen_for_page_life(&callback);
        Self {
            detach,
            _callback: callback,
            _registration: Registration::new(1),
        }
    }
}

impl Drop for PageLifeListener {
    fn drop(&mut self) {
        // Cannot throw: it only removes listeners.
        let _ = self.detach.call0(&JsValue::UNDEFINED);
    }
}

/// What the listener reports through its signal callback: everything but
/// text, bytes copied into wasm, and the close. Numbered as the JS sends them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SocketSignal {
    Open,
    /// Data the listener checked: a `Blob`, or a `Uint8Array` it made.
    Object,
    /// Data of another type, with the type's name.
    OtherData,
    Error,
}

impl SocketSignal {
    fn from_number(number: u8) -> Option<Self> {
        match number {
            0 => Some(Self::Open),
            1 => Some(Self::Object),
            2 => Some(Self::OtherData),
            3 => Some(Self::Error),
            _ => None,
        }
    }

    /// The browser event this signal is, with the data it carries.
    fn into_event(self, data: JsValue) -> BrowserEvent {
        match self {
            Self::Open => BrowserEvent::Open,
            Self::Error => BrowserEvent::Error,
            Self::Object => {
                let message = if data.is_instance_of::<js_sys::Uint8Array>() {
                    Message::JsBinary(data.unchecked_into())
                } else {
                    Message::Blob(data.unchecked_into())
                };
                BrowserEvent::Message(Ok(message))
            }
            // Data of another type is something no browser sends; it is
            // reported rather than assumed away.
            Self::OtherData => BrowserEvent::Message(Err(Error::UnexpectedMessageType {
                type_name: data.as_string().unwrap_or_default(),
            })),
        }
    }
}

/// The four listeners of one socket; dropping this detaches them all and
/// releases their closures. Text and bytes, the per-message paths, each have
/// a closure of their own (their data crosses as a `String` or `Vec<u8>` in
/// the one call); the close has one; the rare rest share one.
#[must_use = "the listeners are removed when dropped"]
pub(crate) struct SocketListeners {
    detach: js_sys::Function,
    _on_text: Closure<dyn FnMut(String)>,
    _on_bytes: Closure<dyn FnMut(Vec<u8>)>,
    _on_signal: Closure<dyn FnMut(u8, JsValue)>,
    _on_close: Closure<dyn FnMut(u16, String, bool)>,
    _registration: Registration,
}

impl SocketListeners {
    /// Attaches `open`, `message`, `error` and `close` listeners that hand each
    /// event, translated, to `on_event`; with `keep_binary_in_js`, binary
    /// data arrives as [`Message::JsBinary`], not copied into wasm.
    pub(crate) fn attach(
        socket: &web_sys::WebSocket,
        keep_binary_in_js: bool,
        on_event: Rc<dyn Fn(BrowserEvent)>,
    ) -> Self {
        let on_text = {
            let on_event = Rc::clone(&on_event);
            Closure::<dyn FnMut(String)>::new(move |text| {
                on_event(BrowserEvent::Message(Ok(Message::Text(text))))
            })
        };
        let on_bytes = {
            let on_event = Rc::clone(&on_event);
            Closure::<dyn FnMut(Vec<u8>)>::new(move |bytes| {
                on_event(BrowserEvent::Message(Ok(Message::Binary(bytes))))
            })
        };
        let on_signal = {
            let on_event = Rc::clone(&on_event);
            Closure::<dyn FnMut(u8, JsValue)>::new(move |number, data| {
                if let Some(signal) = SocketSignal::from_number(number) {
                    on_event(signal.into_event(data));
                }
            })
        };
        let on_close =
            Closure::<dyn FnMut(u16, String, bool)>::new(move |code, reason, was_clean| {
                on_event(BrowserEvent::Close(CloseEvent {
                    code: CloseCode::from(code),
                    reason,
                    was_clean,
                }))
            });
        let detach = listen(
            socket,
            keep_binary_in_js,
            &on_text,
            &on_bytes,
            &on_signal,
            &on_close,
        );
        Self {
            detach,
            _on_text: on_text,
            _on_bytes: on_bytes,
            _on_signal: on_signal,
            _on_close: on_close,
            _registration: Registration::new(LISTENERS_PER_SOCKET),
        }
    }
}

impl Drop for SocketListeners {
    fn drop(&mut self) {
        // Cannot throw: it only removes listeners.
        let _ = self.detach.call0(&JsValue::UNDEFINED);
    }
}
