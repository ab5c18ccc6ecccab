//! The reconnecting socket's queue of messages sent while disconnected, as pure
//! logic: bounded in count and bytes, kept in order; a message bound to a
//! session leaves with it.

use std::collections::VecDeque;

use crate::rules::error::{Error, Result};
use crate::rules::message::Message;

/// What happens to a message sent through a
/// [`ReconnectingWebSocket`](crate::ReconnectingWebSocket) when no connection
/// is open, or when the connection it was queued for ends first.
///
/// Apps whose server keeps per-session state (subscriptions, sequence numbers,
/// a login) should send that state from the
/// [open hook](crate::ReconnectingBuilder::on_open), which runs on every
/// connection before anything queued, and send messages that only make sense
/// in the session they were written for with one of the two session-bound
/// policies.
///
/// # Example
///
/// ```no_run
/// use browser_websocket::{Message, ReconnectingWebSocket, SendPolicy};
/// let socket = ReconnectingWebSocket::builder("/live").send_policy(SendPolicy::DropOnDisconnect).connect();
/// socket.send_text("cursor 10,20")?; // dropped if disconnected: stale by the next session
/// socket.send_with(&Message::from("order 42"), SendPolicy::Replay)?; // kept until sent
/// # Ok::<(), browser_websocket::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendPolicy {
    /// Queued while disconnected (bounded), and sent in order on the next
    /// connection, after its open hook. The default.
    #[default]
    Replay,
    /// Sent only into the session open now: while none is open it is dropped
    /// (counted by [`discarded`](crate::ReconnectingHandle::discarded)), and if
    /// it had to wait in the queue and its session ends first, it is dropped
    /// and reported as [`ReconnectEvent::Discarded`](crate::ReconnectEvent::Discarded).
    DropOnDisconnect,
    /// As `DropOnDisconnect`, but a send while no connection is open fails
    /// with [`Error::NotOpen`](crate::Error::NotOpen), so the app knows at once.
    FailOnDisconnect,
}

/// Where a message goes when it is sent, by its [`SendPolicy`] and the
/// session open now (if any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Kept for `session` alone (`None`: for any, replayed after a reconnect):
    /// sent now if it can be, else queued.
    Keep { session: Option<u64> },
    /// Dropped, and counted as discarded.
    Discard,
    /// Refused with `NotOpen`.
    Refuse,
}

impl SendPolicy {
    /// Where a message sent now goes, while `open_session` is open (or none is).
    pub(crate) fn route(self, open_session: Option<u64>) -> Route {
        match (self, open_session) {
            (Self::Replay, _) => Route::Keep { session: None },
            (_, Some(session)) => Route::Keep {
                session: Some(session),
            },
            (Self::DropOnDisconnect, None) => Route::Discard,
            (Self::FailOnDisconnect, None) => Route::Refuse,
        }
    }
}

/// A message waiting to be sent.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Queued {
    pub(crate) message: Message,
    /// Its size, given by the caller (a Blob's size is known only to the browser).
    pub(crate) bytes: u64,
    /// The session it was meant for alone; `None`: any (replayed after a
    /// reconnection).
    pub(crate) session: Option<u64>,
}

#[cfg(all(test, not(target_arch = "wasm32")))]
impl Queued {
    /// A message for any session.
    pub(crate) fn replayable(message: Message, bytes: u64) -> Self {
        Self {
            message,
            bytes,
            session: None,
        }
    }
}

/// Messages waiting for the next connection.
#[derive(Debug)]
pub(crate) struct Outbox {
    max_messages: usize,
    max_bytes: usize,
    messages: VecDeque<Queued>,
    bytes: u64,
}

impl Outbox {
    pub(crate) fn new(max_messages: usize, max_bytes: usize) -> Self {
        Self {
            max_messages,
            max_bytes,
            messages: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Queues `message` if it fits whole, or refuses it (keeping everything
    /// already queued): the immediate `send_*` methods.
    pub(crate) fn push(&mut self, queued: Queued) -> Result<()> {
        if self.messages.len() >= self.max_messages
            || self.bytes.saturating_add(queued.bytes) > self.max_bytes as u64
        {
            return Err(self.full());
        }
        self.push_back(queued);
        Ok(())
    }

    /// Whether another message may be queued by [`push_when_room`](Self::push_when_room).
    pub(crate) fn has_room(&self) -> bool {
        self.messages.len() < self.max_messages && self.bytes < self.max_bytes as u64
    }

    /// Queues `message` once [`has_room`](Self::has_room) said yes: the `Sink`,
    /// which waits for room and then takes the message whole, so the bytes may
    /// pass the limit by one message.
    pub(crate) fn push_when_room(&mut self, queued: Queued) -> Result<()> {
        if !self.has_room() {
            return Err(self.full());
        }
        self.push_back(queued);
        Ok(())
    }

    fn push_back(&mut self, queued: Queued) {
        self.bytes += queued.bytes;
        self.messages.push_back(queued);
    }

    fn full(&self) -> Error {
        Error::QueueFull {
            messages: self.messages.len(),
            bytes: usize::try_from(self.bytes).unwrap_or(usize::MAX),
        }
    }

    pub(crate) fn pop(&mut self) -> Option<Queued> {
        let queued = self.messages.pop_front()?;
        self.bytes -= queued.bytes;
        Some(queued)
    }

    /// Puts a message that could not be sent back at the front.
    pub(crate) fn push_front(&mut self, queued: Queued) {
        self.bytes += queued.bytes;
        self.messages.push_front(queued);
    }

    /// Removes the messages meant for `session` alone, which has ended; the
    /// others keep their order. Returns how many were removed.
    pub(crate) fn drop_session(&mut self, session: u64) -> usize {
        let before = self.messages.len();
        self.messages
            .retain(|queued| queued.session != Some(session));
        self.bytes = self.messages.iter().map(|queued| queued.bytes).sum();
        before - self.messages.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.messages.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #[test]
    fn each_policy_routes_a_send_by_whether_a_session_is_open() {
        use super::{Route, SendPolicy};
        let keep = |session| Route::Keep { session };
        assert_eq!(SendPolicy::Replay.route(None), keep(None));
        assert_eq!(SendPolicy::Replay.route(Some(3)), keep(None));
        assert_eq!(SendPolicy::DropOnDisconnect.route(Some(3)), keep(Some(3)));
        assert_eq!(SendPolicy::DropOnDisconnect.route(None), Route::Discard);
        assert_eq!(SendPolicy::FailOnDisconnect.route(Some(3)), keep(Some(3)));
        assert_eq!(SendPolicy::FailOnDisconnect.route(None), Route::Refuse);
    }

    use super::*;
    use proptest::prelude::*;

    fn text(text: &str) -> Queued {
        Queued::replayable(Message::from(text), text.len() as u64)
    }

    #[test]
    fn bounded_in_count_and_bytes_and_keeps_order() {
        let mut queue = Outbox::new(3, 10);
        queue.push(text("abcd")).unwrap();
        queue
            .push(Queued::replayable(Message::from(vec![1, 2, 3, 4]), 4))
            .unwrap();
        assert_eq!(
            queue.push(text("abc")),
            Err(Error::QueueFull {
                messages: 2,
                bytes: 8
            })
        );
        queue.push(text("ab")).unwrap();
        assert_eq!(
            queue.push(text("")),
            Err(Error::QueueFull {
                messages: 3,
                bytes: 10
            })
        );
        assert_eq!(queue.pop(), Some(text("abcd")));
        queue.push_front(text("abcd"));
        assert_eq!(queue.pop(), Some(text("abcd")));
        assert_eq!(
            queue.pop(),
            Some(Queued::replayable(Message::from(vec![1, 2, 3, 4]), 4))
        );
        assert_eq!(queue.pop(), Some(text("ab")));
        assert_eq!(queue.pop(), None);
        assert!(queue.is_empty());
    }

    #[test]
    fn the_sink_takes_a_whole_message_while_there_is_room() {
        let mut queue = Outbox::new(10, 10);
        queue.push_when_room(text("123456789")).unwrap();
        assert!(queue.has_room());
        // 9 + 5 > 10: refused by `push`, taken by the Sink, then no more room.
        assert!(queue.push(text("12345")).is_err());
        queue.push_when_room(text("12345")).unwrap();
        assert!(!queue.has_room());
        assert!(queue.push_when_room(text("x")).is_err());
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn an_ended_session_takes_its_messages_and_leaves_the_rest_in_order() {
        let mut queue = Outbox::new(10, 100);
        let bound = |text: &str, session| Queued {
            session: Some(session),
            ..super::tests::text(text)
        };
        for queued in [
            text("a"),
            bound("b", 1),
            text("cc"),
            bound("d", 2),
            bound("e", 1),
        ] {
            queue.push(queued).unwrap();
        }
        assert_eq!(queue.drop_session(1), 2);
        assert_eq!(queue.bytes, 4);
        assert_eq!(queue.pop(), Some(text("a")));
        assert_eq!(queue.pop(), Some(text("cc")));
        assert_eq!(queue.pop(), Some(bound("d", 2)));
        assert_eq!(queue.drop_session(1), 0);
    }

    proptest! {
        /// Whatever is pushed and popped, the byte count matches the messages
        /// queued, the order is kept, and the bounds hold (by one message for
        /// the Sink).
        #[test]
        fn counts_match_and_bounds_hold(
            max_messages in 1usize..10, max_bytes in 1usize..100,
            steps in prop::collection::vec((0u64..40, 0u8..3), 1..200),
        ) {
            let mut queue = Outbox::new(max_messages, max_bytes);
            let mut model = VecDeque::new();
            for (index, (size, action)) in steps.into_iter().enumerate() {
                let queued = Queued::replayable(Message::from(index.to_string()), size);
                match action {
                    0 => if queue.push(queued.clone()).is_ok() { model.push_back(queued) },
                    1 => if queue.push_when_room(queued.clone()).is_ok() { model.push_back(queued) },
                    _ => prop_assert_eq!(queue.pop(), model.pop_front()),
                }
                let bytes: u64 = model.iter().map(|queued| queued.bytes).sum();
                prop_assert_eq!(queue.bytes, bytes);
                prop_assert_eq!(queue.len(), model.len());
                prop_assert!(queue.len() <= max_messages);
                let largest = model.iter().map(|queued| queued.bytes).max().unwrap_or(0);
                prop_assert!(bytes <= max_bytes as u64 + largest);
            }
        }
    }
}
