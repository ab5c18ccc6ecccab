//! Which backend the layers above run on: the browser's (the JS layer, in
//! wasm32 builds and natively without the `native` feature, where opening a
//! socket is a typed error) or the native one. Each name here has the same
//! calls on both, so nothing above this file knows which it has.

#[cfg(any(target_arch = "wasm32", not(feature = "native")))]
mod chosen {
    pub(crate) use crate::js::global::resolve_url;
    pub(crate) use crate::js::listeners::SocketListeners as Listeners;
    pub(crate) use crate::js::socket::BrowserSocket as PlatformSocket;
    pub(crate) use crate::js::timers::{now_monotonic_ms, Timer};

    /// Runs `task` on this thread's event loop.
    #[inline]
    pub(crate) fn spawn_local(task: impl std::future::Future<Output = ()> + 'static) {
        wasm_bindgen_futures::spawn_local(task);
    }

    /// Nothing to run: the browser's event loop runs the callbacks.
    #[inline]
    pub(crate) fn drive(_cx: &mut std::task::Context<'_>) {}

    /// Whether sockets can be opened in this build.
    pub(crate) const CAN_OPEN: bool = cfg!(target_arch = "wasm32");
}

#[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
mod chosen {
    pub(crate) use crate::native::event_loop::{drive, spawn_local};
    pub(crate) use crate::native::resolve_url;
    pub(crate) use crate::native::socket::{
        NativeListeners as Listeners, NativeSocket as PlatformSocket,
    };
    pub(crate) use crate::native::timers::{now_monotonic_ms, Timer};

    pub(crate) const CAN_OPEN: bool = true;
}

pub(crate) use chosen::*;
