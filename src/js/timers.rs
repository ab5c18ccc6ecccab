//! One-shot timers, cancelled and released when dropped.

use std::time::Duration;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::Registration;

#[wasm_bindgen]
extern "C" {
    // The global functions, present on pages and in workers alike.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, milliseconds: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
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
    /// Calls `callback` after `delay` (clamped to what `setTimeout` takes).
    pub(crate) fn once(delay: Duration, callback: impl FnOnce() + 'static) -> Self {
        let mut callback = Some(callback);
        let callback = Closure::<dyn FnMut()>::new(move || {
            if let Some(callback) = callback.take() {
                callback();
            }
        });
        let milliseconds = i32::try_from(delay.as_millis()).unwrap_or(i32::MAX);
        let handle = set_timeout(callback.as_ref().unchecked_ref(), milliseconds);
        Self {
            handle,
            _callback: callback,
            _registration: Registration::new(1),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}
