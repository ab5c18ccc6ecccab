//! The state one socket's halves, handles and listeners share: the browser
//! socket, its [`Lifecycle`], the one consumer of its typed events, and the
//! `Sink`'s flow control. Every event goes one way: browser event → lifecycle
//! → typed [`Event`]s → the consumer (the stream's inbox, or a forwarder for the
//! callbacks or a reconnecting socket). Every send goes one way too:
//! [`Shared::send`].
//!
//! Ownership: the public types hold an `Rc<Shared>`; the listeners hold only a
//! `Weak`, so there is no cycle, and when the last public value is dropped the
//! browser socket is closed with 1000 and the listeners are detached.
//!
//! Re-entrancy: no `RefCell` borrow is held while calling user code (callbacks,
//! forwarders) or waking a task, so no borrow can fail. A few browser calls run
//! under a borrow (`bufferedAmount`, `setTimeout`, `clearTimeout`); they run no
//! script, so they cannot re-enter this code.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crate::backend::{now_monotonic_ms, Listeners, PlatformSocket, Timer};
use crate::js::socket::{received_len, Outgoing};
use crate::rules::close::{CloseCode, CloseEvent};
use crate::rules::error::{Error, Result};
use crate::rules::flow::{Admission, FlowControl, Gate, Look};
use crate::rules::inbox::{Admitted, Inbox, RECEIVE_LIMIT_CLOSE_CODE, RECEIVE_LIMIT_CLOSE_REASON};
use crate::rules::lifecycle::{BrowserEvent, Event, Lifecycle};
use crate::rules::message::{Message, ReadyState};

/// How many sockets of this crate are alive (not yet dropped) in this thread or
/// worker. With every socket, half and handle dropped, it is 0.
///
/// # Example
///
/// ```
/// assert_eq!(browser_websocket::live_sockets(), 0);
/// ```
pub fn live_sockets() -> usize {
    crate::live::SOCKETS.get()
}

/// Receives a socket's typed events as they happen, with the socket.
pub(crate) type Forward = Box<dyn FnMut(&Rc<Shared>, Event)>;

/// The one consumer of a socket's typed events.
pub(crate) enum Consumer {
    /// The `Stream`: messages and errors wait in the inbox until read.
    Stream(Inbox),
    /// Callbacks, or a reconnecting socket: each event is handed over at once.
    /// Empty while it runs, and after the `Close` (which releases it).
    Forward(Option<Forward>),
    /// The receiving half was dropped: nobody will read.
    Discard,
}

pub(crate) struct Shared {
    /// Closed with 1000 when dropped, before the listeners are detached.
    socket: PlatformSocket,
    flow: FlowControl,
    state: RefCell<State>,
    _listeners: Listeners,
}

struct State {
    lifecycle: Lifecycle,
    consumer: Consumer,
    open_waker: Option<Waker>,
    incoming_waker: Option<Waker>,
    close_wakers: Vec<Waker>,
    /// Flow control of the `Sink`: its gate, its waiting task, and the timer
    /// that wakes it when the gate expects the buffer to have drained.
    gate: Gate,
    sink_waker: Option<Waker>,
    drain_timer: Option<Timer>,
}

impl Shared {
    /// Wraps a freshly constructed browser socket and attaches its listeners.
    pub(crate) fn new(socket: PlatformSocket, flow: FlowControl, consumer: Consumer) -> Rc<Self> {
        crate::live::SOCKETS.add(1);
        Rc::new_cyclic(|weak: &Weak<Self>| {
            let weak = weak.clone();
            let listeners = socket.listen(Rc::new(move |event| {
                if let Some(shared) = weak.upgrade() {
                    shared.on_browser_event(event);
                }
            }));
            Self {
                socket,
                flow,
                state: RefCell::new(State {
                    lifecycle: Lifecycle::default(),
                    consumer,
                    open_waker: None,
                    incoming_waker: None,
                    close_wakers: Vec::new(),
                    gate: Gate::default(),
                    sink_waker: None,
                    drain_timer: None,
                }),
                _listeners: listeners,
            }
        })
    }

    /// The state, borrowed for a moment; never held while calling user code or
    /// wakers, so the borrow cannot fail. One out-of-line place keeps its check
    /// small.
    #[inline(never)]
    fn state(&self) -> std::cell::RefMut<'_, State> {
        self.state.borrow_mut()
    }

    pub(crate) fn socket(&self) -> &PlatformSocket {
        &self.socket
    }

    fn on_browser_event(self: &Rc<Self>, event: BrowserEvent) {
        let transition = self.state().lifecycle.on_browser_event(event);
        for event in transition {
            self.dispatch(event);
        }
    }

    /// Wakes whoever waits on `event`, then hands it to the consumer.
    fn dispatch(self: &Rc<Self>, event: Event) {
        let is_close = matches!(event, Event::Close(_));
        let bytes = match &event {
            Event::Message(message) => received_len(message),
            _ => 0,
        };
        let mut event = Some(event);
        // Taken under the borrow, woken after it.
        let mut woken: [Option<Waker>; 3] = [None, None, None];
        let mut close_wakers = Vec::new();
        let mut forward = None;
        let mut limit_exceeded = false;
        let mut drain_timer = None;
        {
            let mut state = self.state();
            match &event {
                Some(Event::Open) => woken[0] = state.open_waker.take(),
                Some(Event::Close(_)) => {
                    close_wakers = std::mem::take(&mut state.close_wakers);
                    woken[0] = state.open_waker.take();
                    woken[1] = state.sink_waker.take();
                    drain_timer = state.drain_timer.take();
                }
                _ => {}
            }
            match &mut state.consumer {
                Consumer::Stream(inbox) => {
                    match event.take() {
                        Some(Event::Message(message)) => {
                            limit_exceeded =
                                inbox.push_message(message, bytes) == Admitted::LimitExceeded;
                        }
                        Some(Event::Error(error)) => inbox.push_error(error),
                        _ => {}
                    }
                    woken[2] = state.incoming_waker.take();
                }
                Consumer::Forward(slot) => forward = slot.take(),
                Consumer::Discard => {}
            }
        }
        drop(drain_timer);
        woken
            .into_iter()
            .flatten()
            .chain(close_wakers)
            .for_each(Waker::wake);
        if limit_exceeded {
            let code = CloseCode::from(RECEIVE_LIMIT_CLOSE_CODE);
            let _ = self.close(code, RECEIVE_LIMIT_CLOSE_REASON);
        }
        if let (Some(mut forward), Some(event)) = (forward, event) {
            forward(self, event);
            if !is_close {
                if let Consumer::Forward(slot @ None) = &mut self.state().consumer {
                    *slot = Some(forward);
                    return;
                }
            }
            // After the close nothing more is forwarded: release it (and any
            // handle it captured) with no borrow held.
            drop(forward);
        }
    }

    /// The state as the app sees it: the browser's, except that a socket whose
    /// failure was reported is closed even if the browser never says so (WebKit
    /// after an `error` on a blocked port).
    pub(crate) fn ready_state(&self) -> ReadyState {
        if self.state().lifecycle.close_event().is_some() {
            ReadyState::Closed
        } else {
            self.socket.ready_state()
        }
    }

    /// The one send path: checks that the socket is open, hands the message to
    /// the browser, and counts its bytes for flow control. Every send of every
    /// API (the `send_*` methods, the `Sink`, the reconnecting socket) comes
    /// here.
    pub(crate) fn send(&self, message: Outgoing<'_>) -> Result<()> {
        match self.ready_state() {
            ReadyState::Open => {}
            state => return Err(Error::NotOpen { state }),
        }
        let bytes = message.byte_len();
        self.socket.send(message)?;
        self.state().gate.sent(bytes);
        Ok(())
    }

    /// Starts the closing handshake; code and reason are checked by the caller.
    pub(crate) fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        match self.ready_state() {
            ReadyState::Connecting | ReadyState::Open => {
                self.state().lifecycle.on_app_close();
                self.socket.close(code, reason)
            }
            state => Err(Error::NotOpen { state }),
        }
    }

    /// Ready once the socket is open (`Ok`) or failed before opening (`Err`).
    pub(crate) fn poll_open(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        crate::backend::drive(cx);
        let mut state = self.state();
        if state.lifecycle.has_opened() {
            Poll::Ready(Ok(()))
        } else if let Some(event) = state.lifecycle.close_event() {
            Poll::Ready(Err(Error::ConnectionFailed(event.clone())))
        } else {
            state.open_waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    /// The stream's next item: messages and errors in order, then `None` once
    /// the socket has closed.
    pub(crate) fn poll_next_message(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        crate::backend::drive(cx);
        let mut state = self.state();
        if let Consumer::Stream(inbox) = &mut state.consumer {
            if let Some(item) = inbox.pop() {
                return Poll::Ready(Some(item));
            }
        }
        if state.lifecycle.close_event().is_some() {
            return Poll::Ready(None);
        }
        state.incoming_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Ready with the close event once the socket has closed.
    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<CloseEvent> {
        crate::backend::drive(cx);
        let mut state = self.state();
        if let Some(event) = state.lifecycle.close_event() {
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
    /// watermarks, the browser's buffer has room. While it has not, a timer
    /// wakes the task when the gate expects the buffer at the low watermark.
    pub(crate) fn poll_send_ready(self: &Rc<Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        crate::backend::drive(cx);
        match self.ready_state() {
            ReadyState::Open => {}
            state => return Poll::Ready(Err(Error::NotOpen { state })),
        }
        let mut state = self.state();
        if state.drain_timer.is_some() {
            // Woken by something else while the gate sleeps: it looks again
            // only when its timer fires (a task woken often must not turn the
            // wait into a poll of `bufferedAmount`).
            state.sink_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let admission = state.gate.ready(self.flow, || Look {
            buffered: self.socket.buffered_amount(),
            at_ms: now_monotonic_ms(),
        });
        let Admission::WaitFor(wait) = admission else {
            state.sink_waker = None;
            return Poll::Ready(Ok(()));
        };
        state.sink_waker = Some(cx.waker().clone());
        if state.drain_timer.is_none() {
            let weak = Rc::downgrade(self);
            state.drain_timer = Some(Timer::once(wait, move || {
                if let Some(shared) = weak.upgrade() {
                    shared.on_drain_tick();
                }
            }));
        }
        Poll::Pending
    }

    fn on_drain_tick(&self) {
        let (timer, waker) = {
            let mut state = self.state();
            (state.drain_timer.take(), state.sink_waker.take())
        };
        // The timer has fired; dropping it releases its closure once this
        // call returns.
        drop(timer);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn flow_control(&self) -> FlowControl {
        self.flow
    }

    pub(crate) fn close_event(&self) -> Option<CloseEvent> {
        self.state().lifecycle.close_event().cloned()
    }

    /// The receiving half is gone: drop what is queued and queue nothing more.
    pub(crate) fn stop_receiving(&self) {
        let discarded = std::mem::replace(&mut self.state().consumer, Consumer::Discard);
        drop(discarded);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        crate::live::SOCKETS.sub(1);
    }
}
