//! The global scope: the base URL of the page or worker, and URL parsing by the
//! browser's own WHATWG URL parser. No `window` is assumed.

use wasm_bindgen::JsCast;

use crate::events::error_from_js;
use crate::{url, Error, Result};

/// Parses `input` against the scope's base URL and applies the WebSocket rules.
pub(crate) fn resolve_url(input: &str) -> Result<String> {
    let parsed = match base_url() {
        Some(base) => web_sys::Url::new_with_base(input, &base),
        None => web_sys::Url::new(input),
    }
    .map_err(|thrown| Error::InvalidUrl {
        url: input.to_owned(),
        // The parser throws a TypeError; its message is the reason.
        reason: match error_from_js(thrown) {
            Error::Js { message, .. } | Error::Security { message } => message,
            _ => String::new(),
        },
    })?;
    url::websocket_url_from_parsed(&parsed.href(), input)
}

/// `document.baseURI` on a page, `location.href` in a worker.
fn base_url() -> Option<String> {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        return window.document()?.base_uri().ok().flatten();
    }
    if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        return Some(worker.location().href());
    }
    None
}
