//! The browser's `WebSocket` object: construction, the one send path, close,
//! and the getters. Everything above this file speaks Rust types only.
// Natively with the `native` feature the native backend takes its place.
#![cfg_attr(all(not(target_arch = "wasm32"), feature = "native"), allow(dead_code))]

use std::rc::Rc;

use crate::js::exceptions::error_from_js;
use crate::js::listeners::SocketListeners;
use crate::rules::close::CloseCode;
use crate::rules::error::Result;
use crate::rules::lifecycle::BrowserEvent;
use crate::rules::message::{BinaryType, Message, ReadyState};

/// One message on its way to the browser, borrowed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outgoing<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    Blob(&'a web_sys::Blob),
    /// Bytes in JS memory, sent without a copy through wasm.
    JsBytes(&'a js_sys::Uint8Array),
}

impl<'a> From<&'a Message> for Outgoing<'a> {
    fn from(message: &'a Message) -> Self {
        match message {
            Message::Text(text) => Self::Text(text),
            Message::Binary(bytes) => Self::Bytes(bytes),
            Message::Blob(blob) => Self::Blob(blob),
            Message::JsBinary(view) => Self::JsBytes(view),
        }
    }
}

impl Outgoing<'_> {
    /// What sending it adds to `bufferedAmount`: the UTF-8 length of text, the
    /// length of bytes, the size of a Blob.
    pub(crate) fn byte_len(self) -> u64 {
        match self {
            Self::Text(text) => text.len() as u64,
            Self::Bytes(bytes) => bytes.len() as u64,
            // A Blob's size is a whole number of bytes, as an f64.
            Self::Blob(blob) => blob.size() as u64,
            Self::JsBytes(view) => u64::from(view.byte_length()),
        }
    }
}

/// What a message occupies once received: its bytes, or a Blob's size.
pub(crate) fn received_len(message: &Message) -> u64 {
    Outgoing::from(message).byte_len()
}

/// The browser's socket.
pub(crate) struct BrowserSocket {
    socket: web_sys::WebSocket,
    /// [`BinaryType::JsArrayBuffer`]: binary data stays in JS.
    keep_binary_in_js: bool,
}

/// With the `testing` feature: what opens a socket in place of the browser
/// for a URL a mock server listens on. The mock server (in `testing/`, which
/// builds on this layer) sets it; this layer knows nothing of it.
#[cfg(all(feature = "testing", target_arch = "wasm32"))]
pub(crate) type Interceptor = fn(&str, &[String]) -> Option<web_sys::WebSocket>;

#[cfg(all(feature = "testing", target_arch = "wasm32"))]
thread_local! {
    static INTERCEPTOR: std::cell::Cell<Option<Interceptor>> = const { std::cell::Cell::new(None) };
}

/// Routes the sockets opened from now on through `interceptor` first.
#[cfg(all(feature = "testing", target_arch = "wasm32"))]
pub(crate) fn set_interceptor(interceptor: Interceptor) {
    INTERCEPTOR.with(|slot| slot.set(Some(interceptor)));
}

#[cfg(all(feature = "testing", target_arch = "wasm32"))]
fn intercepted(url: &str, protocols: &[String]) -> Option<web_sys::WebSocket> {
    INTERCEPTOR.with(std::cell::Cell::get)?(url, protocols)
}

impl BrowserSocket {
    /// Constructs the browser's socket for an already checked URL and
    /// protocols. The protocols are passed as a list, never joined.
    /// With the `testing` feature, a URL a mock server listens on gets the
    /// mock's socket instead, driven the same way.
    pub(crate) fn open(url: &str, protocols: &[String], binary_type: BinaryType) -> Result<Self> {
        #[cfg(all(feature = "testing", target_arch = "wasm32"))]
        if let Some(socket) = intercepted(url, protocols) {
            return Ok(Self::configure(socket, binary_type));
        }
        let socket = if protocols.is_empty() {
            web_sys::WebSocket::new(url)
        } else {
            let protocols: js_sys::Array = protocols
                .iter()
                .map(|p| js_sys::JsString::from(p.as_str()))
                .collect();
            web_sys::WebSocket::new_with_str_sequence(url, &protocols)
        }
        .map_err(error_from_js)?;
        Ok(Self::configure(socket, binary_type))
    }

    fn configure(socket: web_sys::WebSocket, binary_type: BinaryType) -> Self {
        socket.set_binary_type(match binary_type {
            BinaryType::ArrayBuffer | BinaryType::JsArrayBuffer => web_sys::BinaryType::Arraybuffer,
            BinaryType::Blob => web_sys::BinaryType::Blob,
        });
        Self {
            socket,
            keep_binary_in_js: binary_type == BinaryType::JsArrayBuffer,
        }
    }

    /// Attaches the four listeners, which hand each event to `on_event`.
    pub(crate) fn listen(&self, on_event: Rc<dyn Fn(BrowserEvent)>) -> SocketListeners {
        SocketListeners::attach(&self.socket, self.keep_binary_in_js, on_event)
    }

    /// Hands one message to the browser. The caller has checked the state.
    pub(crate) fn send(&self, message: Outgoing<'_>) -> Result<()> {
        match message {
            Outgoing::Text(text) => self.socket.send_with_str(text),
            Outgoing::Bytes(bytes) => send_bytes(&self.socket, bytes),
            Outgoing::Blob(blob) => self.socket.send_with_blob(blob),
            Outgoing::JsBytes(view) => send_view(&self.socket, view),
        }
        .map_err(error_from_js)
    }

    /// Starts the closing handshake. The caller has checked code and reason.
    pub(crate) fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.socket
            .close_with_code_and_reason(u16::from(code), reason)
            .map_err(error_from_js)
    }

    pub(crate) fn as_web_sys(&self) -> &web_sys::WebSocket {
        &self.socket
    }

    pub(crate) fn url(&self) -> String {
        self.socket.url()
    }

    pub(crate) fn protocol(&self) -> String {
        self.socket.protocol()
    }

    pub(crate) fn extensions(&self) -> String {
        self.socket.extensions()
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        ReadyState::from(self.socket.ready_state())
    }

    pub(crate) fn buffered_amount(&self) -> u32 {
        self.socket.buffered_amount()
    }

    pub(crate) fn binary_type(&self) -> BinaryType {
        match self.socket.binary_type() {
            web_sys::BinaryType::Blob => BinaryType::Blob,
            _ if self.keep_binary_in_js => BinaryType::JsArrayBuffer,
            _ => BinaryType::ArrayBuffer,
        }
    }
}

impl Drop for BrowserSocket {
    fn drop(&mut self) {
        // Cannot throw: 1000 with no reason is always valid, and on a closing or
        // closed socket the browser does nothing.
        let _ = self.socket.close_with_code(1000);
    }
}

/// Browsers refuse to send a view of shared (threaded) wasm memory, so with
/// atomics the bytes are first copied into a fresh buffer.
#[cfg(target_feature = "atomics")]
fn send_bytes(
    socket: &web_sys::WebSocket,
    bytes: &[u8],
) -> std::result::Result<(), wasm_bindgen::JsValue> {
    socket.send_with_array_buffer_view(&js_sys::Uint8Array::from(bytes))
}

#[cfg(not(target_feature = "atomics"))]
fn send_bytes(
    socket: &web_sys::WebSocket,
    bytes: &[u8],
) -> std::result::Result<(), wasm_bindgen::JsValue> {
    socket.send_with_u8_array(bytes)
}

/// With atomics, a `Uint8Array` may be a view of shared memory (wasm's own
/// memory, or any `SharedArrayBuffer`), which browsers refuse to send (and to
/// post to other tabs): such a view is copied into a fresh buffer first. Views
/// of ordinary buffers (what the browser hands over for received messages)
/// are used as they are. "Shared" is tested as "not an `ArrayBuffer`": WebKit
/// can hide the `SharedArrayBuffer` constructor from scripts while wasm memory
/// still is one.
#[cfg(target_feature = "atomics")]
pub(crate) fn unshared(view: &js_sys::Uint8Array) -> js_sys::Uint8Array {
    use wasm_bindgen::JsCast;
    if view.buffer().is_instance_of::<js_sys::ArrayBuffer>() {
        view.clone()
    } else {
        view.slice(0, view.length())
    }
}

#[cfg(not(target_feature = "atomics"))]
pub(crate) fn unshared(view: &js_sys::Uint8Array) -> js_sys::Uint8Array {
    view.clone()
}

#[cfg(target_feature = "atomics")]
fn send_view(
    socket: &web_sys::WebSocket,
    view: &js_sys::Uint8Array,
) -> std::result::Result<(), wasm_bindgen::JsValue> {
    socket.send_with_array_buffer_view(&unshared(view))
}

#[cfg(not(target_feature = "atomics"))]
fn send_view(
    socket: &web_sys::WebSocket,
    view: &js_sys::Uint8Array,
) -> std::result::Result<(), wasm_bindgen::JsValue> {
    socket.send_with_array_buffer_view(view)
}
