//! Which types may cross threads, checked at compile time; used by
//! `not_send.rs` (natively) and `threaded.rs` (threaded wasm, `+atomics`).
//!
//! - The sockets, their halves and handles, their builders, futures and
//!   policies are `!Send` on every target: they share state through `Rc` and
//!   wrap the browser's objects of the thread that made them, so the compiler
//!   keeps them on that thread.
//! - With atomics, wasm-bindgen's `JsValue` is `!Send` too, and so is every
//!   type holding a JS object: `Message` (a `Blob` or `Uint8Array`), the
//!   mock server's `MockConnection`. (Without atomics there is one thread, and
//!   wasm-bindgen makes them `Send`.)
//! - Plain data is `Send + Sync`: errors, close codes and events, reconnect
//!   events, so another thread can be told what happened. Bytes and text cross
//!   threads as `Vec<u8>` and `String`, and the socket's thread sends them.
//! - `SendHandle` is `Send + Sync + Clone` on every target: it holds a
//!   channel's sender and atomics, and the socket's thread carries out what it
//!   is given.
//!
//! A type listed as `!Send` that became `Send` would fail the build (two impls
//! of one trait would then apply: an ambiguity error).
#![allow(dead_code)]

use browser_websocket::tabs::{Role, SharedBuilder, SharedEvent, SharedWebSocket};
use browser_websocket::{
    BinaryType, ByteStream, Callbacks, CloseCode, CloseEvent, Closed, Connecting, EnsureAlive,
    Error, FlowControl, Handle, ReadBlobs, ReadyState, Receiver, ReconnectEvent, ReconnectPolicy,
    ReconnectingBuilder, ReconnectingHandle, ReconnectingReceiver, ReconnectingSender,
    ReconnectingWebSocket, Sender, WebSocket,
};

/// Compiles only if none of the types is `Send`.
macro_rules! assert_not_send {
    ($($type:ty),* $(,)?) => {$(
        const _: fn() = || {
            trait AmbiguousIfSend<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfSend<()> for T {}
            impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
            // One impl applies to a `!Send` type, two (ambiguous) to a `Send` one.
            let _ = <$type as AmbiguousIfSend<_>>::some_item;
        };
    )*};
}

assert_not_send!(
    WebSocket,
    Sender,
    Receiver,
    Handle,
    Closed,
    Connecting,
    ByteStream,
    ReadBlobs<WebSocket>,
    Callbacks,
    ReconnectingWebSocket,
    ReconnectingSender,
    ReconnectingReceiver,
    ReconnectingHandle,
    ReconnectingBuilder,
    ReconnectPolicy,
    EnsureAlive,
    SharedWebSocket,
    SharedBuilder,
);

#[cfg(all(feature = "testing", target_arch = "wasm32"))]
assert_not_send!(browser_websocket::testing::MockServer);

#[cfg(target_feature = "atomics")]
assert_not_send!(browser_websocket::Message);

#[cfg(all(target_feature = "atomics", feature = "testing"))]
assert_not_send!(browser_websocket::testing::MockConnection);

fn send_and_sync<T: Send + Sync>() {}

/// The plain data types are `Send + Sync` (a compile-time check; calling it
/// does nothing).
pub fn plain_data_is_send_and_sync() {
    send_and_sync::<Error>();
    send_and_sync::<CloseCode>();
    send_and_sync::<CloseEvent>();
    send_and_sync::<ReconnectEvent>();
    send_and_sync::<FlowControl>();
    send_and_sync::<BinaryType>();
    send_and_sync::<ReadyState>();
    send_and_sync::<browser_websocket::WebSocketBuilder>();
    send_and_sync::<Role>();
    send_and_sync::<SharedEvent>();
    send_sync_and_clone::<browser_websocket::SendHandle>();
    #[cfg(feature = "json")]
    {
        send_sync_and_clone::<browser_websocket::RequestHandle<browser_websocket::JsonRpc>>();
        send_sync_and_clone::<browser_websocket::RequestHandle<browser_websocket::GraphqlWs>>();
        send_and_sync::<browser_websocket::RemoteReply<browser_websocket::JsonRpc>>();
        send_and_sync::<browser_websocket::RemoteSubscription<browser_websocket::JsonRpc>>();
        send_sync_and_clone::<browser_websocket::RemoteDelivery<browser_websocket::JsonRpc>>();
        send_and_sync::<browser_websocket::RemoteAcked<browser_websocket::JsonRpc>>();
    }
}

fn send_sync_and_clone<T: Send + Sync + Clone + 'static>() {}

#[cfg(feature = "json")]
assert_not_send!(
    browser_websocket::RequestClient<browser_websocket::JsonRpc>,
    browser_websocket::Pending<browser_websocket::JsonRpc>,
    browser_websocket::Messages<browser_websocket::JsonRpc>,
    browser_websocket::Subscription<browser_websocket::JsonRpc>,
);
