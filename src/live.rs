//! The counts behind [`crate::live_js_callbacks`] and [`crate::live_sockets`]:
//! per wasm instance in a browser (one page or worker), per thread natively,
//! where each thread's sockets are its own and tests run side by side.

#[cfg(any(target_arch = "wasm32", not(feature = "native")))]
mod counter {
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(crate) struct Count(AtomicUsize);

    impl Count {
        pub(crate) const fn new() -> Self {
            Self(AtomicUsize::new(0))
        }
        pub(crate) fn add(&'static self, count: usize) {
            self.0.fetch_add(count, Ordering::Relaxed);
        }
        pub(crate) fn sub(&'static self, count: usize) {
            self.0.fetch_sub(count, Ordering::Relaxed);
        }
        pub(crate) fn get(&'static self) -> usize {
            self.0.load(Ordering::Relaxed)
        }
    }

    pub(crate) static CALLBACKS: Count = Count::new();
    pub(crate) static SOCKETS: Count = Count::new();
}

#[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
mod counter {
    use std::cell::Cell;
    use std::thread::LocalKey;

    thread_local! {
        static CALLBACKS_HERE: Cell<usize> = const { Cell::new(0) };
        static SOCKETS_HERE: Cell<usize> = const { Cell::new(0) };
    }

    /// A thread's count; `try_with`, as a count may drop while its thread ends.
    pub(crate) struct ThreadCount(&'static LocalKey<Cell<usize>>);

    impl ThreadCount {
        pub(crate) fn add(&'static self, count: usize) {
            let _ = self
                .0
                .try_with(|cell| cell.set(cell.get().saturating_add(count)));
        }
        pub(crate) fn sub(&'static self, count: usize) {
            let _ = self
                .0
                .try_with(|cell| cell.set(cell.get().saturating_sub(count)));
        }
        pub(crate) fn get(&'static self) -> usize {
            self.0.try_with(Cell::get).unwrap_or(0)
        }
    }

    pub(crate) static CALLBACKS: ThreadCount = ThreadCount(&CALLBACKS_HERE);
    pub(crate) static SOCKETS: ThreadCount = ThreadCount(&SOCKETS_HERE);
}

pub(crate) use counter::{CALLBACKS, SOCKETS};
