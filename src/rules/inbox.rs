//! The receive bound, as pure logic: received messages wait in an [`Inbox`]
//! until the app reads them, and the bytes waiting are limited.
//!
//! Browsers deliver every message as it arrives, with no way to pause the
//! server. An app that stops reading (a stream nobody polls, a busy task) would
//! otherwise queue without limit. Past the limit, the socket is closed with
//! [`RECEIVE_LIMIT_CLOSE_CODE`] and the stream yields every message received so
//! far, then one [`Error::ReceiveLimitExceeded`]: nothing is dropped silently.
//! (Messages the server sends after that close are not delivered, as browsers
//! deliver none after `close()`; the close code tells the server why.)

use std::collections::VecDeque;

use crate::rules::error::Error;
use crate::rules::message::Message;

/// The default receive limit: 64 MiB of messages received and not yet read.
///
/// Real apps read messages as they come and hold a few at most; 64 MiB leaves
/// room for bursts and for large single messages (each message is taken whole,
/// so the queue may pass the limit by one message).
///
/// # Example
///
/// ```
/// assert_eq!(browser_websocket::DEFAULT_RECEIVE_LIMIT, 64 << 20);
/// ```
pub const DEFAULT_RECEIVE_LIMIT: usize = 64 << 20;

/// The close code sent when the receive limit is exceeded: 4009, after 1009
/// ("message too big"), which browsers may not send.
///
/// # Example
///
/// ```
/// assert_eq!(browser_websocket::RECEIVE_LIMIT_CLOSE_CODE, 4009);
/// ```
pub const RECEIVE_LIMIT_CLOSE_CODE: u16 = 4009;

/// The close reason sent with [`RECEIVE_LIMIT_CLOSE_CODE`].
pub(crate) const RECEIVE_LIMIT_CLOSE_REASON: &str = "receive limit exceeded";

/// What [`Inbox::push_message`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admitted {
    Queued,
    /// Queued, and the unread bytes are now past the limit: close the socket.
    /// The error has been queued after the message. Returned once.
    LimitExceeded,
    /// Not queued: the limit was exceeded before and the socket is closing.
    Closing,
}

/// Received messages (and non-fatal errors) waiting to be read, in order.
#[derive(Debug)]
pub(crate) struct Inbox {
    items: VecDeque<(Result<Message, Error>, u64)>,
    unread_bytes: u64,
    limit: Option<usize>,
    exceeded: bool,
}

impl Inbox {
    /// An empty inbox with a limit in bytes (`None`: unlimited).
    pub(crate) fn new(limit: Option<usize>) -> Self {
        Self {
            items: VecDeque::new(),
            unread_bytes: 0,
            limit,
            exceeded: false,
        }
    }

    /// Queues a message of `bytes` bytes. Once the limit was exceeded the
    /// socket is closing at our request, and, as browsers do after `close()`,
    /// nothing more is taken: the error stays last.
    pub(crate) fn push_message(&mut self, message: Message, bytes: u64) -> Admitted {
        if self.exceeded {
            return Admitted::Closing;
        }
        self.items.push_back((Ok(message), bytes));
        self.unread_bytes = self.unread_bytes.saturating_add(bytes);
        match self.limit {
            Some(limit) if !self.exceeded && self.unread_bytes > limit as u64 => {
                self.exceeded = true;
                self.push_error(Error::ReceiveLimitExceeded { limit });
                Admitted::LimitExceeded
            }
            _ => Admitted::Queued,
        }
    }

    /// Queues an error, to be read after what came before it.
    pub(crate) fn push_error(&mut self, error: Error) {
        self.items.push_back((Err(error), 0));
    }

    /// The oldest unread item.
    pub(crate) fn pop(&mut self) -> Option<Result<Message, Error>> {
        let (item, bytes) = self.items.pop_front()?;
        self.unread_bytes -= bytes;
        Some(item)
    }

    /// How many bytes of messages wait unread.
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn unread_bytes(&self) -> u64 {
        self.unread_bytes
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn past_the_limit_the_error_follows_every_message() {
        let mut inbox = Inbox::new(Some(10));
        assert_eq!(
            inbox.push_message(Message::from("12345"), 5),
            Admitted::Queued
        );
        assert_eq!(
            inbox.push_message(Message::from("67890"), 5),
            Admitted::Queued
        );
        assert_eq!(
            inbox.push_message(Message::from("x"), 1),
            Admitted::LimitExceeded
        );
        assert_eq!(inbox.pop(), Some(Ok(Message::from("12345"))));
        assert_eq!(inbox.pop(), Some(Ok(Message::from("67890"))));
        assert_eq!(inbox.pop(), Some(Ok(Message::from("x"))));
        assert_eq!(
            inbox.pop(),
            Some(Err(Error::ReceiveLimitExceeded { limit: 10 }))
        );
        assert_eq!(inbox.pop(), None);
        assert_eq!(inbox.unread_bytes(), 0);
    }

    #[test]
    fn no_limit_means_none() {
        let mut inbox = Inbox::new(None);
        for _ in 0..1000 {
            assert_eq!(
                inbox.push_message(Message::from(vec![0; 1000]), 1000),
                Admitted::Queued
            );
        }
        assert_eq!(inbox.unread_bytes(), 1_000_000);
    }

    proptest! {
        /// Reading as fast as messages come never trips the limit; when it
        /// trips, it trips once, every message is still read in order, and the
        /// error comes right after the message that crossed the limit.
        #[test]
        fn bounded_in_order_and_lossless(
            limit in 0usize..5_000,
            steps in prop::collection::vec((0u64..2_000, any::<bool>()), 1..100),
        ) {
            let mut inbox = Inbox::new(Some(limit));
            let mut sent = 0u32;
            let mut read = Vec::new();
            let mut trips = 0;
            for (size, read_now) in steps {
                let text = format!("{sent}");
                sent += 1;
                let over_before = inbox.unread_bytes() + size > limit as u64;
                match inbox.push_message(Message::Text(text), size) {
                    Admitted::LimitExceeded => {
                        trips += 1;
                        prop_assert!(over_before);
                    }
                    Admitted::Queued => prop_assert!(!over_before),
                    Admitted::Closing => prop_assert!(trips == 1),
                }
                if read_now {
                    while let Some(item) = inbox.pop() {
                        read.push(item);
                    }
                }
            }
            while let Some(item) = inbox.pop() {
                read.push(item);
            }
            prop_assert!(trips <= 1);
            let texts: Vec<u32> = read
                .iter()
                .filter_map(|item| item.as_ref().ok().and_then(Message::as_text))
                .map(|text| text.parse().unwrap())
                .collect();
            // Every message up to the one that crossed the limit, in order;
            // then the error, last.
            prop_assert_eq!(&texts, &(0..texts.len() as u32).collect::<Vec<_>>());
            prop_assert_eq!(read.iter().filter(|item| item.is_err()).count(), trips);
            if trips == 1 {
                prop_assert!(read.last().is_some_and(Result::is_err));
            } else {
                prop_assert_eq!(texts.len() as u32, sent);
            }
        }
    }
}
