//! The demo page (placeholder until the demo lands): the crate compiled for the page.
#![forbid(unsafe_code)]

pub use websocket_web as library;
