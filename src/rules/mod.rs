//! Pure Rust: the rules of the WebSocket API and of this crate, with no
//! JavaScript, tested natively. URL and subprotocol rules, close codes and
//! reasons, messages, the one error type, flow control, the receive bound, the
//! socket's lifecycle, the reconnect policy, queue and driver, and requests
//! with replies (and JSON-RPC 2.0 as one protocol of them).

pub(crate) mod close;
pub(crate) mod error;
pub(crate) mod flow;
#[cfg(feature = "json")]
pub(crate) mod graphql_ws;
pub(crate) mod inbox;
#[cfg(feature = "json")]
pub(crate) mod json;
#[cfg(feature = "json")]
pub(crate) mod json_rpc;
pub(crate) mod lifecycle;
pub(crate) mod message;
pub(crate) mod outbox;
pub(crate) mod policy;
pub(crate) mod reconnect;
pub(crate) mod requests;
pub(crate) mod subscriptions;
pub(crate) mod tabs;
pub(crate) mod url;
