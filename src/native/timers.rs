//! One-shot timers and the monotonic clock, natively: the timer waits on the
//! IO runtime, and its callback runs on the thread that armed it, through that
//! thread's loop.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::js::Registration;
use crate::native::event_loop::{self, Job};
use crate::native::runtime;

/// Milliseconds on a monotonic clock, from the first time it is read.
pub(crate) fn now_monotonic_ms() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// A one-shot timer: calls its callback once after the delay, unless dropped
/// first. Dropping it (even from inside its callback) cancels it.
#[must_use = "the timer is cancelled when dropped"]
pub(crate) struct Timer {
    id: u64,
    wait: Option<tokio::task::AbortHandle>,
    _registration: Registration,
}

impl Timer {
    /// Calls `callback` after `delay`, on this thread.
    pub(crate) fn once(delay: Duration, callback: impl FnOnce() + 'static) -> Self {
        let id = event_loop::next_id();
        event_loop::at_timer(id, Box::new(callback));
        let inbox = event_loop::inbox();
        // Without a runtime no socket exists either, and nothing waits on it.
        let wait = runtime::handle().ok().map(|runtime| {
            runtime
                .spawn(async move {
                    tokio::time::sleep(delay).await;
                    inbox.push(Job::Timer(id));
                })
                .abort_handle()
        });
        Self {
            id,
            wait,
            _registration: Registration::new(1),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(wait) = &self.wait {
            wait.abort();
        }
        event_loop::cancel_timer(self.id);
    }
}
