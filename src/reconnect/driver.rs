//! The task behind a [`ReconnectingWebSocket`](super::ReconnectingWebSocket):
//! a state machine that waits, connects (with a timeout), forwards messages and
//! heartbeats while open, and decides what follows each close.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use super::{Inner, ReconnectEvent};
use crate::events::Signal;
use crate::{CloseCode, CloseEvent, Connecting, Error, WebSocket};

pub(super) struct Driver {
    inner: Rc<Inner>,
    phase: Phase,
    /// Failed attempts (and unstable connections) in a row.
    failures: u32,
}

enum Phase {
    /// Waiting before an attempt; coming back online cuts the wait short.
    Waiting(Signal, Option<Signal>),
    Connecting {
        connecting: Connecting,
        deadline: Signal,
    },
    Open(Box<OpenConnection>),
    Done,
}

struct OpenConnection {
    socket: WebSocket,
    opened_at: f64,
    next_ping: Option<Signal>,
    pong_deadline: Option<Signal>,
}

/// What a phase decided.
enum Step {
    Stay,
    Go(Phase),
}

fn abnormal(reason: &str) -> CloseEvent {
    CloseEvent {
        code: CloseCode::Abnormal,
        reason: reason.to_owned(),
        was_clean: false,
    }
}

impl Driver {
    pub(super) fn new(inner: Rc<Inner>) -> Self {
        inner.emit(ReconnectEvent::Connecting {
            attempt: 1,
            delay: Duration::ZERO,
        });
        Self {
            inner,
            phase: Phase::Waiting(Signal::after(Duration::ZERO), None),
            failures: 0,
        }
    }

    fn closed_by_app(&self) -> bool {
        self.inner.state.borrow().closed_by_app
    }

    fn start_attempt(&mut self) -> Phase {
        let target = (self.inner.target.borrow_mut())();
        let connecting = WebSocket::builder(&target.url)
            .protocols(target.protocols)
            .binary_type(self.inner.binary_type)
            .flow_control(self.inner.flow)
            .connect();
        Phase::Connecting {
            connecting,
            deadline: Signal::after(self.inner.policy.connect_timeout),
        }
    }

    fn opened(&mut self, socket: WebSocket) -> Phase {
        let handle = socket.handle();
        self.inner.state.borrow_mut().current = Some(handle.clone());
        self.inner.connected.set(true);
        self.inner.emit(ReconnectEvent::Open {
            attempt: self.failures + 1,
        });
        self.flush_queue(&handle);
        Phase::Open(Box::new(OpenConnection {
            socket,
            opened_at: js_sys::Date::now(),
            next_ping: self
                .inner
                .heartbeat
                .as_ref()
                .map(|beat| Signal::after(beat.interval)),
            pong_deadline: None,
        }))
    }

    /// Sends what was queued while down, in order, until the socket refuses.
    fn flush_queue(&self, handle: &crate::Handle) {
        loop {
            let Some(message) = self.inner.state.borrow_mut().queue.pop() else {
                return;
            };
            if handle.send_message(&message).is_err() {
                self.inner.state.borrow_mut().queue.push_front(message);
                return;
            }
        }
    }

    /// An attempt failed (refused, rejected, timed out).
    fn failed(&mut self, event: CloseEvent) -> Phase {
        self.failures += 1;
        self.inner.emit(ReconnectEvent::Closed(event));
        if self.closed_by_app() {
            return self.finish();
        }
        self.next_attempt()
    }

    /// An open connection ended.
    fn ended(&mut self, event: CloseEvent, opened_at: f64) -> Phase {
        self.inner.state.borrow_mut().current = None;
        self.inner.connected.set(false);
        let stable = js_sys::Date::now() - opened_at
            >= self.inner.policy.stable_after.as_secs_f64() * 1000.0;
        if stable {
            self.failures = 0;
        } else {
            self.failures += 1;
        }
        let reconnect = self
            .inner
            .policy
            .should_reconnect(&event, self.closed_by_app());
        self.inner.emit(ReconnectEvent::Closed(event));
        if reconnect {
            self.next_attempt()
        } else {
            self.finish()
        }
    }

    fn next_attempt(&mut self) -> Phase {
        if !self.inner.policy.may_attempt(self.failures) {
            self.inner.emit(ReconnectEvent::GaveUp {
                attempts: self.failures,
            });
            return self.finish();
        }
        let attempt = self.failures + 1;
        // A drop after a stable connection is retry 1 too: it waits at least
        // the minimum, so that clients dropped together spread out.
        let retry = self.failures.max(1);
        let delay = self
            .inner
            .policy
            .delay_before_retry(retry, js_sys::Math::random());
        self.inner
            .emit(ReconnectEvent::Connecting { attempt, delay });
        let online = self.inner.reconnect_when_online.then(Signal::online);
        Phase::Waiting(Signal::after(delay), online)
    }

    fn finish(&mut self) -> Phase {
        let reader = {
            let mut state = self.inner.state.borrow_mut();
            state.finished = true;
            state.current = None;
            state.reader.take()
        };
        self.inner.connected.set(false);
        if let Some(reader) = reader {
            reader.wake();
        }
        Phase::Done
    }

    fn poll_phase(&mut self, cx: &mut Context<'_>) -> Step {
        let app_closed = self.closed_by_app();
        match &mut self.phase {
            Phase::Done => Step::Stay,
            Phase::Waiting(..) | Phase::Connecting { .. } if app_closed => Step::Go(self.finish()),
            Phase::Waiting(sleep, online) => {
                let back_online = online
                    .as_mut()
                    .is_some_and(|online| Pin::new(online).poll(cx).is_ready());
                if back_online || Pin::new(sleep).poll(cx).is_ready() {
                    Step::Go(self.start_attempt())
                } else {
                    Step::Stay
                }
            }
            Phase::Connecting {
                connecting,
                deadline,
            } => {
                if let Poll::Ready(outcome) = Pin::new(connecting).poll(cx) {
                    return Step::Go(match outcome {
                        Ok(socket) => self.opened(socket),
                        Err(error) => {
                            let event =
                                error.close_event().cloned().unwrap_or_else(|| abnormal(""));
                            self.failed(event)
                        }
                    });
                }
                match Pin::new(deadline).poll(cx) {
                    // Replacing the phase drops the attempt, which closes it.
                    Poll::Ready(()) => Step::Go(self.failed(abnormal("connect timeout"))),
                    Poll::Pending => Step::Stay,
                }
            }
            Phase::Open(connection) => {
                let opened_at = connection.opened_at;
                match poll_open(&self.inner, connection, cx) {
                    Some(event) => Step::Go(self.ended(event, opened_at)),
                    None => Step::Stay,
                }
            }
        }
    }
}

/// Forwards messages and runs the heartbeat; returns how the connection ended,
/// once it has.
fn poll_open(
    inner: &Inner,
    connection: &mut OpenConnection,
    cx: &mut Context<'_>,
) -> Option<CloseEvent> {
    loop {
        match Pin::new(&mut connection.socket).poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => {
                let is_pong = inner
                    .heartbeat
                    .as_ref()
                    .is_some_and(|beat| (beat.is_pong)(&message));
                if is_pong {
                    connection.pong_deadline = None;
                } else {
                    inner.deliver(message);
                }
            }
            Poll::Ready(Some(Err(Error::ConnectionClosed(event)))) => return Some(event),
            // A message of a type no browser sends: skipped.
            Poll::Ready(Some(Err(_))) => {}
            Poll::Ready(None) => {
                return Some(
                    connection
                        .socket
                        .close_event()
                        .unwrap_or_else(|| abnormal("")),
                )
            }
            Poll::Pending => break,
        }
    }
    if let Some(heartbeat) = &inner.heartbeat {
        if let Some(deadline) = connection.pong_deadline.as_mut() {
            if Pin::new(deadline).poll(cx).is_ready() {
                // Dead: no close handshake to wait for. Dropping the socket
                // (when the phase is replaced) closes it and frees its listeners.
                return Some(abnormal("heartbeat timeout"));
            }
        }
        if let Some(next_ping) = connection.next_ping.as_mut() {
            if Pin::new(next_ping).poll(cx).is_ready() {
                let _ = connection.socket.send_message(&heartbeat.ping);
                if connection.pong_deadline.is_none() {
                    let mut deadline = Signal::after(heartbeat.timeout);
                    // Register this task with the new timers.
                    let _ = Pin::new(&mut deadline).poll(cx);
                    connection.pong_deadline = Some(deadline);
                }
                let mut next = Signal::after(heartbeat.interval);
                let _ = Pin::new(&mut next).poll(cx);
                connection.next_ping = Some(next);
            }
        }
    }
    None
}

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.state.borrow_mut().driver = Some(cx.waker().clone());
        loop {
            match self.poll_phase(cx) {
                Step::Go(phase) => {
                    self.phase = phase;
                    if matches!(self.phase, Phase::Done) {
                        return Poll::Ready(());
                    }
                }
                Step::Stay => {
                    return if matches!(self.phase, Phase::Done) {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    };
                }
            }
        }
    }
}
