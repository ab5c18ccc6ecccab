//! One-shot timers, cancelled and released when dropped, and the monotonic
//! clock.

use std::time::Duration;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::Registration;

// Timers the browser takes as asked. `setTimeout` called from a timer's own
// task counts one more level of nesting, and past five levels browsers wait at
// least 4 ms whatever was asked (HTML, timer initialization steps); a waiting
// Sink re-arms from its timer, so its waits would all be 4 ms. Armed from a
// message task instead, nesting starts again at zero. Waits under half a
// millisecond take only the message hop: a turn of the event loop, in which
// the browser can send.
#[wasm_bindgen(inline_js = r#"
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
"#)]
extern "C" {
    #[wasm_bindgen(js_name = setTimer)]
    fn set_timer(handler: &js_sys::Function, milliseconds: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimer)]
    fn clear_timer(handle: &JsValue);
    #[wasm_bindgen(js_name = monotonicNow)]
    fn monotonic_now() -> f64;
}

/// Milliseconds on the scope's monotonic clock (`performance.now()`).
pub(crate) fn now_monotonic_ms() -> f64 {
    monotonic_now()
}

/// A one-shot timer: calls its callback once after the delay, unless dropped
/// first. Dropping it (even after it fired) releases the closure.
#[must_use = "the timer is cancelled when dropped"]
pub(crate) struct Timer {
    handle: JsValue,
    _callback: Closure<dyn FnMut()>,
    _registration: Registration,
}

impl Timer {
    /// Calls `callback` after `delay` (to the millisecond; under half a
    /// millisecond, on the next turn of the event loop).
    pub(crate) fn once(delay: Duration, callback: impl FnOnce() + 'static) -> Self {
        let mut callback = Some(callback);
        let callback = Closure::<dyn FnMut()>::new(move || {
            if let Some(callback) = callback.take() {
                callback();
            }
        });
        let milliseconds = delay.as_secs_f64() * 1000.0;
        let handle = set_timer(callback.as_ref().unchecked_ref(), milliseconds);
        Self {
            handle,
            _callback: callback,
            _registration: Registration::new(1),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timer(&self.handle);
    }
}
