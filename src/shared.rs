//! The state one socket's halves, handles and listeners share, and how each
//! browser event changes it.
//!
//! Ownership: the public types hold an `Rc<Shared>`; the listeners hold only a
//! `Weak`, so there is no cycle, and when the last public value is dropped,
//! [`Shared`]'s `Drop` closes the socket with 1000 and detaches the listeners.
//!
//! Re-entrancy: a `RefCell` borrow is never held while calling out (wakers, user
//! callbacks, the browser), so no borrow can fail.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use crate::callback::Callbacks;
use crate::events::{SocketEvent, SocketListeners, Timer};
use crate::flow::Gate;
use crate::{CloseEvent, Error, FlowControl, Handle, Message, ReadyState};

/// How often a waiting `Sink` looks at `bufferedAmount` (browsers fire no drain
/// event). 4 ms is the shortest delay browsers honour for repeated timers.
const DRAIN_POLL_MS: i32 = 4;

static LIVE_SOCKETS: AtomicUsize = AtomicUsize::new(0);

/// How many sockets of this crate are alive (not yet dropped) in this thread or
/// worker. With every socket, half and handle dropped, it is 0.
///
/// # Example
///
/// ```
/// assert_eq!(websocket_web::live_sockets(), 0);
/// ```
pub fn live_sockets() -> usize {
    LIVE_SOCKETS.load(Ordering::Relaxed)
}

pub(crate) struct Shared {
    pub(crate) socket: web_sys::WebSocket,
    flow: FlowControl,
    state: RefCell<State>,
    /// Declared last: dropped after `Drop::drop` has closed the socket.
    _listeners: SocketListeners,
}

#[derive(Default)]
struct State {
    opened: bool,
    /// Set once, by the `close` event or by an `error` event (WebKit may never
    /// follow an `error` with a `close`, so `error` is terminal here).
    closed: Option<CloseEvent>,
    incoming: VecDeque<Result<Message, Error>>,
    /// Set when the receiving half is dropped: nobody will read, so don't buffer.
    discard_incoming: bool,
    /// The abnormal close was reported on the stream; the stream is over.
    stream_finished: bool,
    open_waker: Option<Waker>,
    incoming_waker: Option<Waker>,
    close_wakers: Vec<Waker>,
    callbacks: Option<Rc<Callbacks>>,
    /// Flow control of the `Sink`: its gate, its waiting task, and the timer
    /// that polls `bufferedAmount` while it waits.
    gate: Gate,
    sink_waker: Option<Waker>,
    drain_timer: Option<Timer>,
}

impl Shared {
    /// Wraps a freshly constructed browser socket and attaches its listeners.
    pub(crate) fn new(
        socket: web_sys::WebSocket,
        flow: FlowControl,
        callbacks: Option<Callbacks>,
    ) -> Rc<Self> {
        LIVE_SOCKETS.fetch_add(1, Ordering::Relaxed);
        Rc::new_cyclic(|weak: &Weak<Self>| {
            let weak = weak.clone();
            let listeners = SocketListeners::attach(
                &socket,
                Rc::new(move |event| {
                    if let Some(shared) = weak.upgrade() {
                        Shared::handle_event(&shared, event);
                    }
                }),
            );
            Self {
                socket,
                flow,
                state: RefCell::new(State {
                    callbacks: callbacks.map(Rc::new),
                    ..State::default()
                }),
                _listeners: listeners,
            }
        })
    }

    /// The state, borrowed for a moment; never held while calling out, so the
    /// borrow cannot fail. One out-of-line place keeps its check small.
    #[inline(never)]
    fn state(&self) -> std::cell::RefMut<'_, State> {
        self.state.borrow_mut()
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        ReadyState::from(self.socket.ready_state())
    }

    fn handle_event(shared: &Rc<Self>, event: SocketEvent) {
        match event {
            SocketEvent::Open => shared.on_open(),
            SocketEvent::Message(message) => shared.on_message(message),
            SocketEvent::Error => shared.on_error(),
            SocketEvent::Close(event) => shared.on_close(event),
        }
    }

    fn on_open(self: &Rc<Self>) {
        let (waker, callbacks) = {
            let mut state = self.state();
            state.opened = true;
            (state.open_waker.take(), state.callbacks.clone())
        };
        wake(waker);
        if let Some(callbacks) = callbacks {
            callbacks.open(&self.handle());
        }
    }

    fn on_message(self: &Rc<Self>, message: Result<Message, Error>) {
        let callbacks = {
            let mut state = self.state();
            match state.callbacks.clone() {
                Some(callbacks) => Some(callbacks),
                None => {
                    if !state.discard_incoming {
                        state.incoming.push_back(message);
                        let waker = state.incoming_waker.take();
                        drop(state);
                        wake(waker);
                    }
                    return;
                }
            }
        };
        if let Some(callbacks) = callbacks {
            match message {
                Ok(message) => callbacks.message(&self.handle(), message),
                Err(error) => callbacks.error(&self.handle(), &error),
            }
        }
    }

    fn on_error(self: &Rc<Self>) {
        let (opened, callbacks) = {
            let state = self.state();
            if state.closed.is_some() {
                return;
            }
            (state.opened, state.callbacks.clone())
        };
        let event = CloseEvent::abnormal();
        if let Some(callbacks) = &callbacks {
            let error = if opened {
                Error::ConnectionClosed(event.clone())
            } else {
                Error::ConnectionFailed(event.clone())
            };
            callbacks.error(&self.handle(), &error);
        }
        self.on_close(event);
    }

    fn on_close(self: &Rc<Self>, event: CloseEvent) {
        let (wakers, callbacks) = {
            let mut state = self.state();
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(event.clone());
            let mut wakers = std::mem::take(&mut state.close_wakers);
            wakers.extend(state.open_waker.take());
            wakers.extend(state.incoming_waker.take());
            wakers.extend(state.sink_waker.take());
            state.drain_timer = None;
            (wakers, state.callbacks.clone())
        };
        wakers.into_iter().for_each(Waker::wake);
        if let Some(callbacks) = callbacks {
            callbacks.close(&self.handle(), event);
            // Nothing more will be called: release the callbacks, and with them
            // any handle they captured, so such a cycle ends with the connection.
            self.state().callbacks = None;
        }
    }

    fn handle(self: &Rc<Self>) -> Handle {
        Handle::from_shared(Rc::clone(self))
    }

    /// Ready once the socket is open (`Ok`) or failed before opening (`Err`).
    pub(crate) fn poll_open(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut state = self.state();
        if state.opened {
            Poll::Ready(Ok(()))
        } else if let Some(event) = &state.closed {
            Poll::Ready(Err(Error::ConnectionFailed(event.clone())))
        } else {
            state.open_waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    /// The next received message; after a clean close `None`, after an abnormal
    /// one a single `Err` carrying the close event, then `None`.
    pub(crate) fn poll_next_message(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        let mut state = self.state();
        if let Some(message) = state.incoming.pop_front() {
            return Poll::Ready(Some(message));
        }
        match state.closed.clone() {
            Some(event) if !event.was_clean && !state.stream_finished => {
                state.stream_finished = true;
                Poll::Ready(Some(Err(Error::ConnectionClosed(event))))
            }
            Some(_) => Poll::Ready(None),
            None => {
                state.incoming_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// Ready with the close event once the socket has closed.
    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<CloseEvent> {
        let mut state = self.state();
        if let Some(event) = &state.closed {
            return Poll::Ready(event.clone());
        }
        if !state
            .close_wakers
            .iter()
            .any(|waker| waker.will_wake(cx.waker()))
        {
            state.close_wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Ready when the `Sink` may send: the socket is open and, by the
    /// watermarks, the browser's buffer has room. While it has not, a timer polls
    /// `bufferedAmount`.
    pub(crate) fn poll_send_ready(
        self: &Rc<Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Error>> {
        match self.ready_state() {
            ReadyState::Open => {}
            state => return Poll::Ready(Err(Error::NotOpen { state })),
        }
        let mut state = self.state();
        if state
            .gate
            .ready(self.flow, || self.socket.buffered_amount())
        {
            state.sink_waker = None;
            return Poll::Ready(Ok(()));
        }
        state.sink_waker = Some(cx.waker().clone());
        if state.drain_timer.is_none() {
            let weak = Rc::downgrade(self);
            state.drain_timer = Some(Timer::once(DRAIN_POLL_MS, move || {
                if let Some(shared) = weak.upgrade() {
                    shared.on_drain_tick();
                }
            }));
        }
        Poll::Pending
    }

    fn on_drain_tick(&self) {
        let waker = {
            let mut state = self.state();
            // The timer has fired; dropping it here releases it once this call returns.
            state.drain_timer = None;
            state.sink_waker.take()
        };
        wake(waker);
    }

    /// Counts bytes handed to the browser, for the flow-control bound.
    pub(crate) fn note_sent(&self, bytes: u64) {
        self.state().gate.sent(bytes);
    }

    pub(crate) fn flow_control(&self) -> FlowControl {
        self.flow
    }

    pub(crate) fn close_event(&self) -> Option<CloseEvent> {
        self.state().closed.clone()
    }

    /// The receiving half is gone: drop what is queued and queue nothing more.
    pub(crate) fn stop_receiving(&self) {
        let mut state = self.state();
        state.discard_incoming = true;
        state.incoming = VecDeque::new();
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Cannot throw: 1000 with no reason is always valid, and on a closing or
        // closed socket the browser does nothing.
        let _ = self.socket.close_with_code(1000);
        LIVE_SOCKETS.fetch_sub(1, Ordering::Relaxed);
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}
