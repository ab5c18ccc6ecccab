//! The socket's public API: [`WebSocket`](websocket::WebSocket) and its
//! builder, its halves, its handles, and the callbacks. Both the stream and
//! the callbacks consume the one typed event sequence kept by `shared`.

pub(crate) mod byte_stream;
pub(crate) mod callbacks;
pub(crate) mod drive;
pub(crate) mod halves;
pub(crate) mod handle;
pub(crate) mod shared;
pub(crate) mod websocket;
