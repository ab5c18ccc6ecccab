//! The app's side of a [`ReconnectingWebSocket`](super::ReconnectingWebSocket)'s
//! driver: what the handles, the `Stream` and the `Sink` ask of it (sends and
//! the send policy's routing, closing, reading, proofs of life, the getters),
//! and the delivery of received messages to the stream or the callback.

use std::rc::Rc;

use crate::js::socket::{received_len, Outgoing};
use crate::rules::close::{CloseCode, CloseEvent};
use crate::rules::error::{Error, Result};
use crate::rules::inbox::{Admitted, Inbox, RECEIVE_LIMIT_CLOSE_CODE, RECEIVE_LIMIT_CLOSE_REASON};
use crate::rules::message::{Message, ReadyState};
use crate::rules::outbox::{Queued, Route, SendPolicy};
use crate::rules::reconnect::Input;
use crate::socket::shared::Shared;

use super::driver::{Inner, Queueing};

impl Inner {
    pub(super) fn deliver(self: &Rc<Self>, message: Message) {
        let session = self.machine.borrow().open_session().unwrap_or(0);
        let message = match self.on_message.try_borrow_mut() {
            Ok(mut slot) => match slot.as_mut() {
                Some(on_message) => return on_message(session, message),
                None => message,
            },
            // Re-entered from inside `on_message`: queue it for the stream.
            Err(_) => message,
        };
        let bytes = received_len(&message);
        let (admitted, reader) = {
            let mut delivery = self.delivery.borrow_mut();
            if delivery.discard {
                return;
            }
            let admitted = delivery.inbox.push_message(message, bytes);
            if admitted != Admitted::Closing {
                match delivery.inbox_sessions.back_mut() {
                    Some((last, count)) if *last == session => *count += 1,
                    _ => delivery.inbox_sessions.push_back((session, 1)),
                }
            }
            (admitted, delivery.reader.take())
        };
        if let Some(reader) = reader {
            reader.wake();
        }
        if admitted == Admitted::LimitExceeded {
            let code = CloseCode::from(RECEIVE_LIMIT_CLOSE_CODE);
            let _ = self.close(code, RECEIVE_LIMIT_CLOSE_REASON);
        }
    }

    pub(super) fn deliver_error(&self, error: Error) {
        let reader = {
            let mut delivery = self.delivery.borrow_mut();
            delivery.inbox.push_error(error);
            delivery.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    pub(super) fn connection(&self) -> Option<Rc<Shared>> {
        self.resources.borrow().connection.clone()
    }

    /// Closes for good: the open connection with `code` and `reason` (already
    /// checked), an attempt or a wait at once.
    pub(crate) fn close(self: &Rc<Self>, code: CloseCode, reason: &str) -> Result<()> {
        if self.machine.borrow().is_open() {
            if let Some(connection) = self.connection() {
                match connection.close(code, reason) {
                    Ok(()) | Err(Error::NotOpen { .. }) => {}
                    Err(error) => return Err(error),
                }
            }
        }
        self.input(Input::AppClosed);
        Ok(())
    }

    /// Sends now if connected and nothing older waits (or from the open
    /// hook), else queues, as `policy` says.
    pub(crate) fn send(
        &self,
        message: Message,
        queueing: Queueing,
        policy: SendPolicy,
    ) -> Result<()> {
        if self.machine.borrow().is_closed() {
            return Err(Error::NotOpen {
                state: ReadyState::Closed,
            });
        }
        let open_session = self.machine.borrow().open_session();
        let session = match policy.route(open_session) {
            Route::Keep { session } => session,
            Route::Discard => {
                self.delivery.borrow_mut().discarded += 1;
                return Ok(());
            }
            Route::Refuse => {
                return Err(Error::NotOpen {
                    state: ReadyState::Connecting,
                })
            }
        };
        let live = (self.opening.get() || self.delivery.borrow().outbox.is_empty())
            && open_session.is_some();
        if let Some(connection) = self.connection().filter(|_| live) {
            match connection.send(Outgoing::from(&message)) {
                // Closing: queued for the next connection.
                Err(Error::NotOpen { .. }) => {}
                sent => return sent,
            }
        }
        let bytes = Outgoing::from(&message).byte_len();
        let queued = Queued {
            message,
            bytes,
            session,
        };
        let mut delivery = self.delivery.borrow_mut();
        match queueing {
            Queueing::IfItFits => delivery.outbox.push(queued),
            Queueing::WhenRoom => delivery.outbox.push_when_room(queued),
        }
    }

    /// Closed for good: no connection follows.
    pub(crate) fn is_closed_for_good(&self) -> bool {
        self.machine
            .try_borrow()
            .is_ok_and(|machine| machine.is_closed())
    }

    /// Ready when the `Sink` may take a message: while connected with nothing
    /// queued, by the live connection's flow control; otherwise when the queue
    /// has room (or at once, if the Sink's policy will not queue it).
    pub(crate) fn poll_send_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        crate::backend::drive(cx);
        use std::task::Poll;
        if self.machine.borrow().is_closed() {
            return Poll::Ready(Err(Error::NotOpen {
                state: ReadyState::Closed,
            }));
        }
        let open = self.machine.borrow().is_open();
        if !open && self.send_policy != SendPolicy::Replay {
            return Poll::Ready(Ok(()));
        }
        let connected = open && self.delivery.borrow().outbox.is_empty();
        if let Some(connection) = self.connection().filter(|_| connected) {
            match connection.poll_send_ready(cx) {
                // Closing: the message will be queued for the next connection.
                Poll::Ready(Err(Error::NotOpen { .. })) => {}
                Poll::Ready(ready) => return Poll::Ready(ready),
                Poll::Pending => {
                    // Also woken if the connection is dropped while it waits.
                    self.delivery.borrow_mut().sink = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
        let mut delivery = self.delivery.borrow_mut();
        if delivery.outbox.has_room() {
            return Poll::Ready(Ok(()));
        }
        delivery.sink = Some(cx.waker().clone());
        Poll::Pending
    }

    /// The stream's next item, with the session of a message; `None` once
    /// closed for good and all is read.
    pub(crate) fn poll_next(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<(u64, Message)>>> {
        crate::backend::drive(cx);
        use std::task::Poll;
        let mut delivery = self.delivery.borrow_mut();
        if let Some(item) = delivery.inbox.pop() {
            return Poll::Ready(Some(item.map(|message| {
                let session = match delivery.inbox_sessions.front_mut() {
                    Some((session, count)) => {
                        let session = *session;
                        *count -= 1;
                        if *count == 0 {
                            delivery.inbox_sessions.pop_front();
                        }
                        session
                    }
                    None => 0,
                };
                (session, message)
            })));
        }
        if self.machine.borrow().is_finished() {
            return Poll::Ready(None);
        }
        delivery.reader = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Ready once closed for good.
    pub(crate) fn poll_finished(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        crate::backend::drive(cx);
        if self.machine.borrow().is_finished() {
            return std::task::Poll::Ready(());
        }
        self.delivery.borrow_mut().sink = Some(cx.waker().clone());
        std::task::Poll::Pending
    }

    /// How many proofs of life there have been; [`poll_alive`](Self::poll_alive)
    /// waits for one more.
    pub(crate) fn proofs(&self) -> u64 {
        self.delivery.borrow().proofs
    }

    /// Asks the machine to check the connection.
    pub(crate) fn request_check(self: &Rc<Self>) {
        self.input(Input::CheckRequested);
    }

    /// Ready with the session once there were more than `seen` proofs of life.
    pub(crate) fn poll_alive(
        &self,
        seen: u64,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<u64>> {
        crate::backend::drive(cx);
        use std::task::Poll;
        let mut delivery = self.delivery.borrow_mut();
        if delivery.proofs > seen {
            return Poll::Ready(Ok(delivery.proven_session));
        }
        if self.machine.borrow().is_finished() {
            return Poll::Ready(Err(Error::NotOpen {
                state: ReadyState::Closed,
            }));
        }
        delivery.alive_waiters.push(cx.waker().clone());
        Poll::Pending
    }

    /// The receiving half is gone: drop what is queued and queue nothing more.
    pub(crate) fn stop_receiving(&self) {
        let mut delivery = self.delivery.borrow_mut();
        delivery.discard = true;
        let unread = std::mem::replace(&mut delivery.inbox, Inbox::new(None));
        delivery.inbox_sessions.clear();
        drop(delivery);
        drop(unread);
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.machine.borrow().is_open()
    }

    pub(crate) fn session(&self) -> Option<u64> {
        self.machine.borrow().open_session()
    }

    pub(crate) fn queued(&self) -> usize {
        self.delivery.borrow().outbox.len()
    }

    pub(crate) fn discarded(&self) -> usize {
        self.delivery.borrow().discarded
    }

    pub(crate) fn last_close(&self) -> Option<CloseEvent> {
        self.delivery.borrow().last_close.clone()
    }

    pub(crate) fn buffered_amount(&self) -> u32 {
        match self.connection() {
            Some(connection) if self.is_connected() => connection.socket().buffered_amount(),
            _ => 0,
        }
    }
}
