//! Pure Rust: the rules of the WebSocket API and of this crate, with no
//! JavaScript, tested natively. URL and subprotocol rules, close codes and
//! reasons, messages, the one error type, flow control, the receive bound, the
//! socket's lifecycle, and the reconnect policy, queue and driver.

pub(crate) mod close;
pub(crate) mod error;
pub(crate) mod flow;
pub(crate) mod inbox;
#[cfg(feature = "json")]
pub(crate) mod json;
pub(crate) mod lifecycle;
pub(crate) mod message;
pub(crate) mod outbox;
pub(crate) mod policy;
pub(crate) mod reconnect;
pub(crate) mod requests;
pub(crate) mod tabs;
pub(crate) mod url;
