//! The global scope, on a page or in a worker (no `window` is assumed):
//! resolving a URL against the base URL of the page (`document.baseURI`) or
//! worker (`location.href`) with the browser's own WHATWG URL parser, the
//! clock, and the random source.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use crate::js::exceptions::error_from_js;
use crate::rules::error::{Error, Result};
use crate::rules::url;

// One call instead of one per step (global type checks, document, baseURI,
// location, URL, href): smaller and faster. Some engines quote the URL in the
// parser's message, and a URL may carry a token: the copy is replaced here,
// where it costs no wasm (the same in Rust brought in the standard library's
// generic string searcher on every app's connect path: 8 KB gzipped).
#[wasm_bindgen(inline_js = r#"
export function resolveAgainstBase(input) {
  const base = globalThis.document?.baseURI ?? globalThis.location?.href;
  try {
    return new URL(input, base).href;
  } catch (error) {
    if (input && typeof error?.message === "string") {
      error.message = error.message.split(input).join("(the URL)");
    }
    throw error;
  }
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = resolveAgainstBase, catch)]
    fn resolve_against_base(input: &str) -> std::result::Result<String, JsValue>;
}

/// Parses `input` against the scope's base URL and applies the WebSocket rules.
pub(crate) fn resolve_url(input: &str) -> Result<String> {
    let parsed = resolve_against_base(input).map_err(|thrown| Error::InvalidUrl {
        url: input.into(),
        // The parser throws a TypeError; its message is the reason (with
        // any copy of the URL in it replaced by "(the URL)", in JS above).
        reason: match error_from_js(thrown) {
            Error::Js { message, .. } | Error::Security { message } => message,
            _ => String::new(),
        },
    })?;
    url::websocket_url_from_parsed(&parsed, input)
}

/// Milliseconds since the epoch. (Natively, where a reconnecting socket only
/// reports that it needs a browser, the system clock.)
pub(crate) fn now_ms() -> f64 {
    if cfg!(target_arch = "wasm32") {
        js_sys::Date::now()
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |elapsed| elapsed.as_secs_f64() * 1000.0)
    }
}

/// A uniform random number in `[0, 1)` (natively, the middle of the range).
pub(crate) fn random() -> f64 {
    if cfg!(target_arch = "wasm32") {
        js_sys::Math::random()
    } else {
        0.5
    }
}
