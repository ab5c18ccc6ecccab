//! The global scope, on a page or in a worker (no `window` is assumed):
//! resolving a URL against the base URL of the page (`document.baseURI`) or
//! worker (`location.href`) with the browser's own WHATWG URL parser, the
//! clocks, the random source, and the JS halves of the timers (see
//! [`crate::js::timers`]) and of the outbox kept in IndexedDB (see
//! [`crate::js::stored`]).
// Natively with the `native` feature the native backend takes its place.
#![cfg_attr(all(not(target_arch = "wasm32"), feature = "native"), allow(dead_code))]

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use crate::js::exceptions::error_from_js;
use crate::rules::error::{Error, Result};
use crate::rules::url;

// One snippet for the whole scope: each inline module is one more request
// when the app loads (wasm-bindgen's test runner stalled Chromium's load for
// minutes once there were seven).
//
// The base URL: one call instead of one per step (global type checks,
// document, baseURI, location, URL, href): smaller and faster. Some engines
// quote the URL in the parser's message, and a URL may carry a token: the copy
// is replaced here, where it costs no wasm (the same in Rust brought in the
// standard library's generic string searcher on every app's connect path:
// 8 KB gzipped).
//
// Timers, taken as asked: `setTimeout` called from a timer's own task counts
// one more level of nesting, and past five levels browsers wait at least 4 ms
// whatever was asked (HTML, timer initialization steps); a waiting
// Sink re-arms from its timer, so its waits would all be 4 ms. Armed from a
// message task instead, nesting starts again at zero. Waits under half a
// millisecond take only the message hop: a turn of the event loop, in which
// the browser can send.
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

let hop = null;
const due = [];
export function setTimer(callback, ms) {
  if (!hop) {
    hop = new MessageChannel();
    hop.port1.onmessage = () => {
      const alarm = due.shift();
      if (!alarm || alarm.cancelled) return;
      if (alarm.ms < 0.5) alarm.callback();
      // setTimeout takes its delay modulo 2^32 (a WebIDL long): 2^32 ms would
      // fire at once. Longer waits wait 2^31 - 1 ms (24.8 days).
      else alarm.timer = setTimeout(alarm.callback, Math.min(Math.round(alarm.ms), 2147483647));
    };
  }
  const alarm = { callback, ms, cancelled: false, timer: undefined };
  due.push(alarm);
  hop.port2.postMessage(null);
  return alarm;
}
export function clearTimer(alarm) {
  alarm.cancelled = true;
  clearTimeout(alarm.timer);
}
export function monotonicNow() {
  return performance.now();
}

let outboxDb = null;
function openOutbox() {
  outboxDb ??= new Promise((resolve, reject) => {
    const factory = globalThis.indexedDB;
    if (!factory) return reject(new Error("IndexedDB is not available here"));
    const open = factory.open("browser-websocket-outbox", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("messages", { keyPath: ["name", "id"] });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  outboxDb.catch(() => { outboxDb = null; });
  return outboxDb;
}
function outboxRequest(mode, act) {
  return openOutbox().then((db) => new Promise((resolve, reject) => {
    const transaction = db.transaction("messages", mode);
    const request = act(transaction.objectStore("messages"));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  }));
}
export function outboxLoad(name) {
  return outboxRequest("readonly", (store) => store.getAll(IDBKeyRange.bound([name, 0], [name, Infinity])));
}
export function outboxPut(name, id, data) {
  return outboxRequest("readwrite", (store) => store.put({ name, id, data }));
}
export function outboxDelete(name, id) {
  return outboxRequest("readwrite", (store) => store.delete([name, id]));
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = resolveAgainstBase, catch)]
    fn resolve_against_base(input: &str) -> std::result::Result<String, JsValue>;
    #[wasm_bindgen(js_name = setTimer)]
    pub(crate) fn set_timer(handler: &js_sys::Function, milliseconds: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimer)]
    pub(crate) fn clear_timer(handle: &JsValue);
    #[wasm_bindgen(js_name = monotonicNow)]
    pub(crate) fn monotonic_now() -> f64;
    #[wasm_bindgen(js_name = outboxLoad)]
    pub(crate) fn outbox_load(name: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = outboxPut)]
    pub(crate) fn outbox_put(name: &str, id: f64, data: &JsValue) -> js_sys::Promise;
    #[wasm_bindgen(js_name = outboxDelete)]
    pub(crate) fn outbox_delete(name: &str, id: f64) -> js_sys::Promise;
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

/// A uniform random number in `[0, 1)` (natively, from the standard
/// library's per-process random hash keys: jitter needs no more).
pub(crate) fn random() -> f64 {
    if cfg!(target_arch = "wasm32") {
        js_sys::Math::random()
    } else {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(now_ms().to_bits());
        (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
    }
}
