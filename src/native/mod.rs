//! The native backend (feature `native`, every target but wasm32): the three
//! seams the JS layer has in a browser (the socket, its listeners, timers),
//! the loop that runs their callbacks on the socket's thread, and the IO
//! runtime under them. Everything above speaks to them through
//! [`crate::backend`], unchanged.

pub(crate) mod event_loop;
pub(crate) mod options;
pub(crate) mod runtime;
pub(crate) mod socket;
pub(crate) mod timers;

use crate::rules::error::{Error, Result};
use crate::rules::url;

/// Applies the WebSocket URL rules natively, with the WHATWG URL parser the
/// browsers follow. There is no page, so a relative URL is an error.
pub(crate) fn resolve_url(input: &str) -> Result<String> {
    let parsed = ::url::Url::parse(input).map_err(|error| Error::InvalidUrl {
        url: input.into(),
        reason: match error {
            ::url::ParseError::RelativeUrlWithoutBase => {
                "a relative URL needs a page to resolve against; natively give an absolute ws: or wss: URL".to_owned()
            }
            other => other.to_string(),
        },
    })?;
    url::websocket_url_from_parsed(parsed.as_str(), input)
}
