//! The reconnecting socket's queue of messages sent while disconnected, as pure
//! logic: bounded in count and bytes, kept in order.

use std::collections::VecDeque;

use crate::rules::error::{Error, Result};
use crate::rules::message::Message;

/// Messages waiting for the next connection. Sizes are given by the caller (a
/// Blob's size is known only to the browser).
#[derive(Debug)]
pub(crate) struct Outbox {
    max_messages: usize,
    max_bytes: usize,
    messages: VecDeque<(Message, u64)>,
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
    pub(crate) fn push(&mut self, message: Message, bytes: u64) -> Result<()> {
        if self.messages.len() >= self.max_messages
            || self.bytes.saturating_add(bytes) > self.max_bytes as u64
        {
            return Err(self.full());
        }
        self.push_back(message, bytes);
        Ok(())
    }

    /// Whether another message may be queued by [`push_when_room`](Self::push_when_room).
    pub(crate) fn has_room(&self) -> bool {
        self.messages.len() < self.max_messages && self.bytes < self.max_bytes as u64
    }

    /// Queues `message` once [`has_room`](Self::has_room) said yes: the `Sink`,
    /// which waits for room and then takes the message whole, so the bytes may
    /// pass the limit by one message.
    pub(crate) fn push_when_room(&mut self, message: Message, bytes: u64) -> Result<()> {
        if !self.has_room() {
            return Err(self.full());
        }
        self.push_back(message, bytes);
        Ok(())
    }

    fn push_back(&mut self, message: Message, bytes: u64) {
        self.bytes += bytes;
        self.messages.push_back((message, bytes));
    }

    fn full(&self) -> Error {
        Error::QueueFull {
            messages: self.messages.len(),
            bytes: usize::try_from(self.bytes).unwrap_or(usize::MAX),
        }
    }

    pub(crate) fn pop(&mut self) -> Option<(Message, u64)> {
        let (message, bytes) = self.messages.pop_front()?;
        self.bytes -= bytes;
        Some((message, bytes))
    }

    /// Puts a message that could not be sent back at the front.
    pub(crate) fn push_front(&mut self, message: Message, bytes: u64) {
        self.bytes += bytes;
        self.messages.push_front((message, bytes));
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
    use super::*;
    use proptest::prelude::*;

    fn text(text: &str) -> (Message, u64) {
        (Message::from(text), text.len() as u64)
    }

    #[test]
    fn bounded_in_count_and_bytes_and_keeps_order() {
        let mut queue = Outbox::new(3, 10);
        let (m, b) = text("abcd");
        queue.push(m, b).unwrap();
        queue.push(Message::from(vec![1, 2, 3, 4]), 4).unwrap();
        let (m, b) = text("abc");
        assert_eq!(
            queue.push(m, b),
            Err(Error::QueueFull {
                messages: 2,
                bytes: 8
            })
        );
        let (m, b) = text("ab");
        queue.push(m, b).unwrap();
        let (m, b) = text("");
        assert_eq!(
            queue.push(m, b),
            Err(Error::QueueFull {
                messages: 3,
                bytes: 10
            })
        );
        assert_eq!(queue.pop(), Some(text("abcd")));
        queue.push_front(Message::from("abcd"), 4);
        assert_eq!(queue.pop(), Some(text("abcd")));
        assert_eq!(queue.pop(), Some((Message::from(vec![1, 2, 3, 4]), 4)));
        assert_eq!(queue.pop(), Some(text("ab")));
        assert_eq!(queue.pop(), None);
        assert!(queue.is_empty());
    }

    #[test]
    fn the_sink_takes_a_whole_message_while_there_is_room() {
        let mut queue = Outbox::new(10, 10);
        let (m, b) = text("123456789");
        queue.push_when_room(m, b).unwrap();
        assert!(queue.has_room());
        // 9 + 5 > 10: refused by `push`, taken by the Sink, then no more room.
        let (m, b) = text("12345");
        assert!(queue.push(m.clone(), b).is_err());
        queue.push_when_room(m, b).unwrap();
        assert!(!queue.has_room());
        let (m, b) = text("x");
        assert!(queue.push_when_room(m, b).is_err());
        assert_eq!(queue.len(), 2);
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
                let message = Message::from(index.to_string());
                match action {
                    0 => if queue.push(message.clone(), size).is_ok() { model.push_back((message, size)) },
                    1 => if queue.push_when_room(message.clone(), size).is_ok() { model.push_back((message, size)) },
                    _ => prop_assert_eq!(queue.pop(), model.pop_front()),
                }
                let bytes: u64 = model.iter().map(|(_, size)| size).sum();
                prop_assert_eq!(queue.bytes, bytes);
                prop_assert_eq!(queue.len(), model.len());
                prop_assert!(queue.len() <= max_messages);
                let largest = model.iter().map(|(_, size)| *size).max().unwrap_or(0);
                prop_assert!(bytes <= max_bytes as u64 + largest);
            }
        }
    }
}
