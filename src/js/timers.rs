//! One-shot timers, cancelled and released when dropped, and the monotonic
//! clock.
// Natively with the `native` feature the native backend takes its place.
#![cfg_attr(all(not(target_arch = "wasm32"), feature = "native"), allow(dead_code))]

use std::time::Duration;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::global::{clear_timer, monotonic_now, set_timer};
use crate::js::Registration;

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
