//! Requests and their replies, as pure logic: how an app describes its
//! protocol ([`Protocol`]), how a request ends ([`RequestError`]), and the
//! table of requests in flight: when each gives up, what a dropped connection
//! does to each, and whether an incoming reply is one somebody waits for.
//!
//! Every request ends exactly once (its reply, or a [`RequestError`]); a reply
//! to an id nobody waits for (unknown, already answered, timed out, forgotten)
//! is not taken, so it goes to the ordinary stream like any other message.
//! The clock is the caller's (milliseconds on a monotonic clock), so the table
//! is tested natively with an injected one.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::rules::error::Error;
use crate::rules::message::Message;

/// How an app's protocol carries requests and replies, described once: the
/// request layer ([`RequestClient`](crate::RequestClient)) does the rest
/// (ids, timeouts, drops, routing, bounds).
///
/// Ids are the layer's: a `u64` counting up from 1, never reused on a client,
/// so a late reply to a request that ended cannot be taken for a new one.
///
/// # Example
///
/// A protocol of text lines: `"<id> <question>"` out, `"<id> ok <answer>"` or
/// `"<id> error <why>"` back; anything else is an ordinary message.
///
/// ```
/// use browser_websocket::{Incoming, Message, Protocol};
///
/// struct Lines;
///
/// impl Protocol for Lines {
///     type Request = String;
///     type Reply = String;
///     type Rejection = String;
///
///     fn request_message(&self, id: u64, question: &String) -> browser_websocket::Result<Message> {
///         Ok(Message::Text(format!("{id} {question}")))
///     }
///
///     fn classify(&self, message: &Message) -> Incoming<String, String> {
///         let Some((id, rest)) = message.as_text().and_then(|text| text.split_once(' ')) else {
///             return Incoming::Other;
///         };
///         let Ok(id) = id.parse() else { return Incoming::Other };
///         match rest.split_once(' ') {
///             Some(("ok", answer)) => Incoming::Reply { id, reply: Ok(answer.to_owned()) },
///             Some(("error", why)) => Incoming::Reply { id, reply: Err(why.to_owned()) },
///             _ => Incoming::Other,
///         }
///     }
/// }
///
/// let reply = Lines.classify(&Message::from("7 ok 42"));
/// assert_eq!(reply, Incoming::Reply { id: 7, reply: Ok("42".to_owned()) });
/// assert_eq!(Lines.classify(&Message::from("hello")), Incoming::Other);
/// ```
pub trait Protocol: 'static {
    /// What the app asks for.
    type Request;
    /// What a reply carries.
    type Reply;
    /// What an error reply carries (the server's rejection).
    type Rejection: Clone;

    /// The message that carries `request` under `id`.
    ///
    /// # Errors
    ///
    /// Whatever stops the request from being encoded (e.g. [`Error::Json`]);
    /// the request then fails with [`RequestError::Send`] and nothing is sent.
    fn request_message(&self, id: u64, request: &Self::Request) -> Result<Message, Error>;

    /// What an incoming message is: a reply (or error reply) to an id, or
    /// anything else, which goes to the ordinary stream.
    fn classify(&self, message: &Message) -> Incoming<Self::Reply, Self::Rejection>;

    /// The message that tells the server the app no longer waits for `id`,
    /// where the protocol has one (sent when a request's future is dropped
    /// before it ended). None by default.
    fn cancel_message(&self, id: u64) -> Option<Message> {
        let _ = id;
        None
    }

    /// The message that opens each connection, where the protocol has one
    /// (graphql-transport-ws's `connection_init`): sent first on every
    /// connection, and nothing else the layer sends goes out until
    /// [`classify`](Self::classify) finds the server's
    /// [`Incoming::Accepted`]. Requests made meanwhile wait in the layer (in
    /// order, bounded and timed like any request). None by default.
    fn handshake(&self) -> Option<Message> {
        None
    }
}

/// A [`Protocol`] whose server pushes items on topics the client subscribes
/// to with a request (JSON-RPC servers' `rpc.on` / `rpc.off`, chat rooms,
/// price feeds).
///
/// # Example
///
/// The built-in [`JsonRpc`](crate::JsonRpc) subscribes with `rpc.on` and reads
/// items as notifications whose method (or `notification`) is the topic:
///
/// ```
/// # #[cfg(feature = "json")] {
/// use browser_websocket::{JsonRpc, Message, Subscriptions};
/// let item = JsonRpc.item(&Message::from(r#"{"notification":"tick","params":{"n":1}}"#));
/// assert_eq!(item, Some(("tick".to_owned(), serde_json::json!({"n": 1}))));
/// # }
/// ```
pub trait Subscriptions: Protocol {
    /// What a subscription is to.
    type Topic: Clone + Ord + std::fmt::Debug + 'static;
    /// What the server pushes on a topic.
    type Item: 'static;

    /// The request that subscribes to `topic` (sent once per connection).
    fn subscribe(&self, topic: &Self::Topic) -> Self::Request;

    /// The request that unsubscribes from `topic`, if the protocol has one
    /// (sent when the last [`Subscription`](crate::Subscription) to it is dropped).
    fn unsubscribe(&self, topic: &Self::Topic) -> Option<Self::Request>;

    /// The topic and item an incoming message carries, if it is an item of
    /// a named topic.
    fn item(&self, message: &Message) -> Option<(Self::Topic, Self::Item)>;

    /// Whether the server answers the subscribe request with a reply
    /// (JSON-RPC's `rpc.on`: the default). `false` where a subscribe request
    /// stays open instead (graphql-transport-ws): its items carry the
    /// request's id ([`item_of_request`](Self::item_of_request)), an error
    /// reply ends it, [`Incoming::Complete`] ends it quietly, and dropping the
    /// last reader sends the protocol's
    /// [`cancel_message`](Protocol::cancel_message) for that id.
    fn subscribe_is_answered(&self) -> bool {
        true
    }

    /// The subscribe request's id and the item an incoming message carries,
    /// for protocols whose items name the request rather than the topic.
    /// None by default.
    fn item_of_request(&self, message: &Message) -> Option<(u64, Self::Item)> {
        let _ = message;
        None
    }
}

/// What a [`Subscription`](crate::Subscription) yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubscriptionEvent<I> {
    /// An item the server pushed on the topic.
    Item(I),
    /// The reconnecting socket connected again and the topic was subscribed
    /// again: items pushed in between were missed.
    Resubscribed,
}

/// What [`Protocol::classify`] found a message to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming<R, E> {
    /// The reply to request `id`: its payload, or the server's rejection.
    /// Taken only while that request waits; otherwise (an unknown id, a
    /// second reply, a reply after the timeout) the message goes to the
    /// ordinary stream, unchanged.
    Reply {
        /// The request's id.
        id: u64,
        /// The reply's payload, or the error reply's.
        reply: Result<R, E>,
    },
    /// A reply to request `id` that the protocol cannot read (e.g. a JSON-RPC
    /// error reply without its error object): the request fails with
    /// [`RequestError::MalformedReply`]. Taken only while that request waits,
    /// as a reply is.
    Malformed {
        /// The request's id.
        id: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The exchange of request `id` is over (graphql-transport-ws's
    /// `complete`): a subscription on that request ends quietly; a request
    /// still waiting fails with [`RequestError::MalformedReply`]; for an id
    /// nobody waits for it is dropped, as the protocol's own traffic.
    Complete {
        /// The request's id.
        id: u64,
    },
    /// The server accepted the connection's
    /// [`handshake`](Protocol::handshake): what waited goes out.
    Accepted,
    /// The protocol's own traffic (a keep-alive ping or pong): not passed
    /// on; `answer`, if any, is sent back at once.
    Control {
        /// The message to send back (a pong), if any.
        answer: Option<Message>,
    },
    /// Not a reply: it goes to the ordinary stream, in order.
    Other,
}

/// How a request failed. `E` is the protocol's rejection payload.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RequestError<E> {
    /// No reply came within the request's timeout. A reply that comes later
    /// goes to the ordinary stream.
    #[error("no reply within {0:?}")]
    TimedOut(Duration),
    /// The connection dropped while the request was in flight: the server may
    /// or may not have acted on it.
    #[error("the connection dropped while the request was in flight")]
    Disconnected,
    /// The socket was closed (by the app, or cleanly by the server) before the
    /// reply came, or before the request was made.
    #[error("the socket is closed")]
    Closed,
    /// The server answered with an error reply.
    #[error("the server rejected the request")]
    Rejected(E),
    /// A subscription held more unread items than the receive limit (by
    /// their messages' size): it ends.
    #[error("more than {limit} bytes of items unread")]
    ReceiveLimitExceeded {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The reply came, but the protocol could not read it
    /// ([`Incoming::Malformed`]).
    #[error("the reply could not be read: {reason}")]
    MalformedReply {
        /// What is wrong with it.
        reason: String,
    },
    /// Too many requests (or bytes of them) in flight: this one was not sent.
    #[error("{requests} requests ({bytes} bytes) already in flight")]
    TooManyInFlight {
        /// Requests in flight.
        requests: usize,
        /// Bytes of them.
        bytes: usize,
    },
    /// Too many topics subscribed at once: this subscription was not made
    /// (nothing was sent).
    #[error("{topics} topics already subscribed")]
    TooManyTopics {
        /// Topics subscribed.
        topics: usize,
    },
    /// The request could not be encoded or handed to the browser.
    #[error("the request could not be sent: {0}")]
    Send(Error),
}

/// What a request does when its connection drops before the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum OnDrop {
    /// It fails with "disconnected" (the default: the server may or may not
    /// have acted on it).
    #[default]
    Fail,
    /// It is sent again, in order, on the next session (for idempotent
    /// requests; a plain socket has no next session, so there it fails too).
    Resend,
}

/// Where a request's message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    /// Handed to a live connection.
    Sent,
    /// In the reconnecting socket's queue, which sends it on the next session.
    Queued,
    /// Sent on a connection that dropped; to be sent again on the next one.
    ToResend,
}

/// Past the table's bounds: the request was not started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooManyInFlight {
    pub(crate) requests: usize,
    pub(crate) bytes: usize,
}

impl<E> From<TooManyInFlight> for RequestError<E> {
    fn from(full: TooManyInFlight) -> Self {
        Self::TooManyInFlight {
            requests: full.requests,
            bytes: full.bytes,
        }
    }
}

/// The bounds on what is in flight at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) requests: usize,
    pub(crate) bytes: usize,
}

impl Default for Bounds {
    /// 1,024 requests and 4 MiB of them.
    fn default() -> Self {
        Self {
            requests: 1024,
            bytes: 4 << 20,
        }
    }
}

struct Entry<W> {
    deadline_ms: f64,
    on_drop: OnDrop,
    delivery: Delivery,
    bytes: usize,
    waiter: W,
}

/// The requests in flight, each with what waits for its end (`W`: a waker's
/// slot, in the layer above).
pub(crate) struct InFlight<W> {
    bounds: Bounds,
    /// The next id: ids are never reused, so a late reply to an ended request
    /// cannot be taken for a new one.
    next_id: u64,
    /// By id, which is the order they were started in (and are resent in).
    entries: BTreeMap<u64, Entry<W>>,
    bytes: usize,
}

impl<W> InFlight<W> {
    pub(crate) fn new(bounds: Bounds) -> Self {
        Self {
            bounds,
            next_id: 1,
            entries: BTreeMap::new(),
            bytes: 0,
        }
    }

    /// Starts a request of `bytes` that gives up `timeout_ms` after `now_ms`,
    /// handed to a live connection (`sent`) or queued for the next one;
    /// returns its id.
    pub(crate) fn start(
        &mut self,
        now_ms: f64,
        timeout_ms: f64,
        on_drop: OnDrop,
        bytes: usize,
        sent: bool,
        waiter: W,
    ) -> Result<u64, TooManyInFlight> {
        self.room_for(bytes)?;
        let id = self.next_id;
        self.next_id += 1;
        self.insert(
            id,
            now_ms + timeout_ms.max(0.0),
            on_drop,
            bytes,
            sent,
            waiter,
        );
        Ok(id)
    }

    /// Takes back a request made under `id` before (an acknowledged message
    /// kept across a reload), with no deadline; later ids start past it.
    /// `false` (and nothing changes) past the bounds, or if `id` is in flight.
    pub(crate) fn restore(
        &mut self,
        id: u64,
        on_drop: OnDrop,
        bytes: usize,
        sent: bool,
        waiter: W,
    ) -> Result<(), TooManyInFlight> {
        self.room_for(bytes)?;
        if self.entries.contains_key(&id) {
            return Err(self.too_many());
        }
        self.skip_to(id.saturating_add(1));
        self.insert(id, f64::INFINITY, on_drop, bytes, sent, waiter);
        Ok(())
    }

    /// `Ok` if one more request of `bytes` stays within the bounds.
    fn room_for(&self, bytes: usize) -> Result<(), TooManyInFlight> {
        let full = self.entries.len() >= self.bounds.requests
            || self.bytes.saturating_add(bytes) > self.bounds.bytes;
        if full {
            Err(self.too_many())
        } else {
            Ok(())
        }
    }

    fn too_many(&self) -> TooManyInFlight {
        TooManyInFlight {
            requests: self.entries.len(),
            bytes: self.bytes,
        }
    }

    /// Later ids are `id` or above (ids never go back).
    pub(crate) fn skip_to(&mut self, id: u64) {
        self.next_id = self.next_id.max(id);
    }

    fn insert(
        &mut self,
        id: u64,
        deadline_ms: f64,
        on_drop: OnDrop,
        bytes: usize,
        sent: bool,
        waiter: W,
    ) {
        self.bytes += bytes;
        let entry = Entry {
            deadline_ms,
            on_drop,
            delivery: if sent {
                Delivery::Sent
            } else {
                Delivery::Queued
            },
            bytes,
            waiter,
        };
        self.entries.insert(id, entry);
    }

    /// The id the next request will get.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id
    }

    /// A reply to `id` arrived: the waiter, if somebody waits for it. `None`
    /// for an id that is unknown or has ended: the message is not a reply
    /// anybody waits for.
    pub(crate) fn reply(&mut self, id: u64) -> Option<W> {
        self.end(id)
    }

    /// The waiter gave up (its future was dropped). `true` if the request was
    /// still in flight (the protocol's cancel message, where it has one, is
    /// then due).
    pub(crate) fn forget(&mut self, id: u64) -> bool {
        self.end(id).is_some()
    }

    /// The requests whose deadline is at or before `now_ms`, ended, in id
    /// order.
    pub(crate) fn expire(&mut self, now_ms: f64) -> Vec<(u64, W)> {
        let due: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.deadline_ms <= now_ms)
            .map(|(id, _)| *id)
            .collect();
        self.end_all(due)
    }

    /// When the next request gives up, if any is in flight.
    pub(crate) fn next_deadline(&self) -> Option<f64> {
        self.entries
            .values()
            .map(|entry| entry.deadline_ms)
            .min_by(f64::total_cmp)
    }

    /// The connection dropped: the requests sent on it that fail, ended, in
    /// id order. Those to resend wait for [`opened`](Self::opened); those
    /// still queued go out with the queue.
    pub(crate) fn disconnected(&mut self) -> Vec<(u64, W)> {
        let mut failed = Vec::new();
        for (id, entry) in &mut self.entries {
            if entry.delivery != Delivery::Sent {
                continue;
            }
            match entry.on_drop {
                OnDrop::Fail => failed.push(*id),
                OnDrop::Resend => entry.delivery = Delivery::ToResend,
            }
        }
        self.end_all(failed)
    }

    /// A connection opened: the ids to send again on it, in id order, before
    /// the queue (whose requests count as sent from now on).
    pub(crate) fn opened(&mut self) -> Vec<u64> {
        let mut resend = Vec::new();
        for (id, entry) in &mut self.entries {
            if entry.delivery == Delivery::ToResend {
                resend.push(*id);
            }
            entry.delivery = Delivery::Sent;
        }
        resend
    }

    /// Every request in flight, in id order: whether its message is on a
    /// live connection (not queued or waiting to be resent), and its waiter.
    pub(crate) fn each(&self) -> impl Iterator<Item = (bool, &W)> {
        self.entries
            .values()
            .map(|entry| (entry.delivery == Delivery::Sent, &entry.waiter))
    }

    /// What waits for request `id`, while it is in flight.
    pub(crate) fn waiter(&self, id: u64) -> Option<&W> {
        self.entries.get(&id).map(|entry| &entry.waiter)
    }

    /// The socket closed for good: every request ends, in id order.
    pub(crate) fn closed(&mut self) -> Vec<(u64, W)> {
        let all: Vec<u64> = self.entries.keys().copied().collect();
        self.end_all(all)
    }

    /// How many requests, and how many bytes of them, are in flight.
    pub(crate) fn load(&self) -> (usize, usize) {
        (self.entries.len(), self.bytes)
    }

    fn end(&mut self, id: u64) -> Option<W> {
        let entry = self.entries.remove(&id)?;
        self.bytes -= entry.bytes;
        Some(entry.waiter)
    }

    fn end_all(&mut self, ids: Vec<u64>) -> Vec<(u64, W)> {
        ids.into_iter()
            .filter_map(|id| self.end(id).map(|waiter| (id, waiter)))
            .collect()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, VecDeque};

    fn table() -> InFlight<&'static str> {
        InFlight::new(Bounds::default())
    }

    #[test]
    fn a_reply_is_taken_once_and_only_for_a_request_in_flight() {
        let mut requests = table();
        let id = requests
            .start(0.0, 1000.0, OnDrop::Fail, 10, true, "a")
            .unwrap();
        assert_eq!(requests.reply(id + 1), None, "unknown id");
        assert_eq!(requests.reply(id), Some("a"));
        assert_eq!(requests.reply(id), None, "already answered");
        assert_eq!(requests.load(), (0, 0));
    }

    #[test]
    fn ids_are_never_reused() {
        let mut requests = table();
        let first = requests
            .start(0.0, 10.0, OnDrop::Fail, 1, true, "a")
            .unwrap();
        requests.reply(first);
        let second = requests
            .start(0.0, 10.0, OnDrop::Fail, 1, true, "b")
            .unwrap();
        assert_ne!(first, second);
        assert_eq!(requests.reply(first), None, "a late reply to the first");
    }

    #[test]
    fn a_request_gives_up_at_its_deadline_not_before() {
        let mut requests = table();
        let slow = requests
            .start(0.0, 100.0, OnDrop::Fail, 1, true, "slow")
            .unwrap();
        let quick = requests
            .start(10.0, 20.0, OnDrop::Fail, 1, true, "quick")
            .unwrap();
        assert_eq!(requests.next_deadline(), Some(30.0));
        assert!(requests.expire(29.9).is_empty());
        assert_eq!(requests.expire(30.0), vec![(quick, "quick")]);
        assert_eq!(requests.next_deadline(), Some(100.0));
        assert_eq!(requests.expire(1000.0), vec![(slow, "slow")]);
        assert_eq!(requests.next_deadline(), None);
    }

    #[test]
    fn a_drop_fails_some_and_keeps_the_others_for_the_next_session_in_order() {
        let mut requests = table();
        let a = requests
            .start(0.0, 100.0, OnDrop::Resend, 1, true, "a")
            .unwrap();
        let b = requests
            .start(0.0, 100.0, OnDrop::Fail, 1, true, "b")
            .unwrap();
        let c = requests
            .start(0.0, 100.0, OnDrop::Resend, 1, true, "c")
            .unwrap();
        // Made while down: in the socket's queue, not ours to resend or fail.
        let d = requests
            .start(0.0, 100.0, OnDrop::Fail, 1, false, "d")
            .unwrap();
        assert_eq!(requests.disconnected(), vec![(b, "b")]);
        assert!(
            requests.disconnected().is_empty(),
            "a second report changes nothing"
        );
        assert_eq!(requests.opened(), vec![a, c]);
        assert!(requests.opened().is_empty(), "resent once");
        // The resent ones still wait, and still time out; the queued one was
        // sent with the queue, so the next drop fails it.
        assert_eq!(requests.reply(c), Some("c"));
        assert_eq!(requests.disconnected(), vec![(d, "d")]);
        assert_eq!(requests.expire(100.0), vec![(a, "a")]);
    }

    #[test]
    fn a_restored_request_keeps_its_id_and_later_ones_start_past_it() {
        let mut requests = table();
        requests.skip_to(1_000);
        requests.skip_to(10);
        assert_eq!(requests.next_id(), 1_000, "ids never go back");
        requests
            .restore(5_000, OnDrop::Resend, 3, false, "kept")
            .unwrap();
        assert!(
            requests
                .restore(5_000, OnDrop::Resend, 3, false, "twice")
                .is_err(),
            "an id in flight is not taken twice"
        );
        let next = requests
            .start(0.0, 10.0, OnDrop::Fail, 1, true, "new")
            .unwrap();
        assert_eq!(next, 5_001);
        assert!(
            requests.expire(1e12).iter().all(|(id, _)| *id != 5_000),
            "no deadline"
        );
        assert_eq!(requests.opened(), Vec::<u64>::new());
        assert_eq!(requests.reply(5_000), Some("kept"));
        assert_eq!(requests.load(), (0, 0));
    }

    #[test]
    fn past_the_bounds_a_request_is_refused_and_nothing_changes() {
        let mut requests = InFlight::new(Bounds {
            requests: 2,
            bytes: 100,
        });
        requests
            .start(0.0, 1.0, OnDrop::Fail, 60, true, "a")
            .unwrap();
        assert_eq!(
            requests.start(0.0, 1.0, OnDrop::Fail, 50, true, "b"),
            Err(TooManyInFlight {
                requests: 1,
                bytes: 60
            })
        );
        requests
            .start(0.0, 1.0, OnDrop::Fail, 40, true, "c")
            .unwrap();
        assert!(requests
            .start(0.0, 1.0, OnDrop::Fail, 0, true, "d")
            .is_err());
        assert_eq!(requests.load(), (2, 100));
    }

    #[derive(Clone, Debug)]
    enum Step {
        Start {
            timeout: u8,
            resend: bool,
            sent: bool,
            bytes: u16,
        },
        Reply(u8),
        Forget(u8),
        Advance(u8),
        Drop,
        Open,
        Close,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (any::<u8>(), any::<bool>(), any::<bool>(), 0u16..2000)
                .prop_map(|(timeout, resend, sent, bytes)| Step::Start { timeout, resend, sent, bytes }),
            2 => any::<u8>().prop_map(Step::Reply),
            1 => any::<u8>().prop_map(Step::Forget),
            2 => any::<u8>().prop_map(Step::Advance),
            1 => Just(Step::Drop),
            1 => Just(Step::Open),
            1 => Just(Step::Close),
        ]
    }

    /// The model's view of one request in flight.
    #[derive(Clone, Copy)]
    struct Live {
        deadline: f64,
        resend: bool,
        bytes: usize,
        delivery: Delivery,
    }

    proptest! {
        /// Against random starts (sent or queued), replies (to ids in flight,
        /// ended or never given), forgets, clock steps, drops, opens and
        /// closes: every request ends exactly once; no reply is taken for an
        /// ended id; nothing times out before its deadline or stays past it
        /// once the clock is checked; a drop fails exactly the sent requests
        /// not marked to resend; an open resends exactly those sent on a
        /// dropped connection, once, in id order; the bounds hold.
        #[test]
        fn every_request_ends_exactly_once(steps in prop::collection::vec(step(), 1..200)) {
            let bounds = Bounds { requests: 16, bytes: 8000 };
            let mut requests: InFlight<u64> = InFlight::new(bounds);
            let mut now = 0.0;
            let mut live: BTreeMap<u64, Live> = BTreeMap::new();
            let mut ended: BTreeSet<u64> = BTreeSet::new();
            let mut end = |id: u64, live: &mut BTreeMap<u64, Live>| {
                prop_assert!(live.remove(&id).is_some(), "{} ended but was not live", id);
                prop_assert!(ended.insert(id), "{} ended twice", id);
                Ok(())
            };
            for step in steps {
                match step {
                    Step::Start { timeout, resend, sent, bytes } => {
                        let on_drop = if resend { OnDrop::Resend } else { OnDrop::Fail };
                        let used: usize = live.values().map(|request| request.bytes).sum();
                        let fits = live.len() < bounds.requests && used + usize::from(bytes) <= bounds.bytes;
                        let next = requests.next_id();
                        match requests.start(now, f64::from(timeout), on_drop, usize::from(bytes), sent, next) {
                            Ok(id) => {
                                prop_assert!(fits);
                                prop_assert_eq!(id, next);
                                let delivery = if sent { Delivery::Sent } else { Delivery::Queued };
                                let deadline = now + f64::from(timeout);
                                live.insert(id, Live { deadline, resend, bytes: usize::from(bytes), delivery });
                            }
                            Err(_) => prop_assert!(!fits),
                        }
                    }
                    Step::Reply(pick) | Step::Forget(pick) => {
                        // Any id from 0 to a few past the last one given.
                        let id = u64::from(pick) % (requests.next_id() + 3);
                        let took = if matches!(step, Step::Reply(_)) {
                            requests.reply(id).inspect(|waiter| assert_eq!(*waiter, id)).is_some()
                        } else {
                            requests.forget(id)
                        };
                        prop_assert_eq!(took, live.contains_key(&id));
                        if took {
                            end(id, &mut live)?;
                        }
                    }
                    Step::Advance(ms) => {
                        now += f64::from(ms);
                        let expired = requests.expire(now);
                        for (id, waiter) in &expired {
                            prop_assert_eq!(id, waiter);
                            prop_assert!(live[id].deadline <= now, "{} expired before its deadline", id);
                            end(*id, &mut live)?;
                        }
                        prop_assert!(live.values().all(|request| request.deadline > now));
                    }
                    Step::Drop => {
                        let expected: Vec<u64> = live
                            .iter()
                            .filter(|(_, request)| request.delivery == Delivery::Sent && !request.resend)
                            .map(|(id, _)| *id)
                            .collect();
                        let failed: Vec<u64> = requests.disconnected().into_iter().map(|(id, _)| id).collect();
                        prop_assert_eq!(&failed, &expected, "the sent ones not to resend, in id order");
                        for id in failed {
                            end(id, &mut live)?;
                        }
                        for request in live.values_mut() {
                            if request.delivery == Delivery::Sent {
                                request.delivery = Delivery::ToResend;
                            }
                        }
                    }
                    Step::Open => {
                        let expected: Vec<u64> = live
                            .iter()
                            .filter(|(_, request)| request.delivery == Delivery::ToResend)
                            .map(|(id, _)| *id)
                            .collect();
                        prop_assert_eq!(requests.opened(), expected, "the resent, in id order");
                        for request in live.values_mut() {
                            request.delivery = Delivery::Sent;
                        }
                    }
                    Step::Close => {
                        for (id, _) in requests.closed() {
                            end(id, &mut live)?;
                        }
                    }
                }
                let bytes: usize = live.values().map(|request| request.bytes).sum();
                prop_assert_eq!(requests.load(), (live.len(), bytes));
                prop_assert!(live.len() <= bounds.requests && bytes <= bounds.bytes);
            }
        }
    }

    /// What happens on the wire around acknowledged messages.
    #[derive(Clone, Debug)]
    enum Wire {
        /// The app sends an acknowledged message.
        Send,
        /// The server reads the next message on the connection and
        /// acknowledges it (the ack travels back).
        ServerReads,
        /// The next ack reaches the client.
        AckArrives,
        /// An ack the client had before arrives again (a duplicate).
        DuplicateAck(u8),
        /// The connection drops: what is on the wire either way is lost.
        Drop,
        /// A new connection opens.
        Open,
    }

    fn wire() -> impl Strategy<Value = Wire> {
        prop_oneof![
            3 => Just(Wire::Send),
            3 => Just(Wire::ServerReads),
            3 => Just(Wire::AckArrives),
            1 => any::<u8>().prop_map(Wire::DuplicateAck),
            1 => Just(Wire::Drop),
            1 => Just(Wire::Open),
        ]
    }

    proptest! {
        /// The table as the acknowledged messages' outbox, with a server
        /// that acknowledges what it reads, over connections that drop at
        /// any point (losing what is on the wire both ways), with duplicate
        /// acks: every message is acknowledged exactly once in the end; the
        /// server reads each at least once, always with its first id; none
        /// goes out again once acknowledged; on each connection they go out
        /// in id order (those to send again first, then those queued while
        /// down); the bound holds throughout.
        #[test]
        fn acknowledged_messages_reach_the_server_at_least_once_in_order(steps in prop::collection::vec(wire(), 1..200)) {
            let bounds = Bounds { requests: 8, bytes: 1 << 20 };
            let mut outbox: InFlight<u64> = InFlight::new(bounds);
            let mut connected = true;
            // Client to server on this connection, and back.
            let mut to_server: VecDeque<u64> = VecDeque::new();
            let mut to_client: VecDeque<u64> = VecDeque::new();
            // What the socket queues while down, sent after the resends.
            let mut queued: Vec<u64> = Vec::new();
            let mut started: BTreeSet<u64> = BTreeSet::new();
            let mut acked: BTreeSet<u64> = BTreeSet::new();
            let mut read_by_server: BTreeMap<u64, usize> = BTreeMap::new();
            let mut sent_on_connection: Vec<u64> = Vec::new();
            let go_out = |id: u64, acked: &BTreeSet<u64>, to_server: &mut VecDeque<u64>, sent: &mut Vec<u64>| {
                prop_assert!(!acked.contains(&id), "{} sent again after its ack", id);
                prop_assert!(sent.last().is_none_or(|last| *last < id), "{} out of order after {:?}", id, sent);
                sent.push(id);
                to_server.push_back(id);
                Ok(())
            };
            let mut run = |step: Wire, connected: &mut bool| -> Result<(), TestCaseError> {
                match step {
                    Wire::Send => {
                        let next = outbox.next_id();
                        match outbox.start(0.0, f64::INFINITY, OnDrop::Resend, 10, *connected, next) {
                            Ok(id) => {
                                started.insert(id);
                                if *connected {
                                    go_out(id, &acked, &mut to_server, &mut sent_on_connection)?;
                                } else {
                                    queued.push(id);
                                }
                            }
                            Err(_) => prop_assert!(outbox.load().0 >= bounds.requests),
                        }
                    }
                    Wire::ServerReads => {
                        if let Some(id) = to_server.pop_front() {
                            *read_by_server.entry(id).or_default() += 1;
                            to_client.push_back(id);
                        }
                    }
                    Wire::AckArrives => {
                        if let Some(id) = to_client.pop_front() {
                            let took = outbox.reply(id).is_some();
                            prop_assert_eq!(took, !acked.contains(&id), "an ack is taken once");
                            acked.insert(id);
                        }
                    }
                    Wire::DuplicateAck(pick) => {
                        if let Some(id) = acked.iter().nth(usize::from(pick) % acked.len().max(1)).copied() {
                            prop_assert!(outbox.reply(id).is_none(), "a duplicate ack of {} was taken", id);
                        }
                    }
                    Wire::Drop => {
                        if *connected {
                            *connected = false;
                            to_server.clear();
                            to_client.clear();
                            prop_assert!(outbox.disconnected().is_empty(), "no acknowledged message fails on a drop");
                        }
                    }
                    Wire::Open => {
                        if !*connected {
                            *connected = true;
                            sent_on_connection.clear();
                            for id in outbox.opened() {
                                go_out(id, &acked, &mut to_server, &mut sent_on_connection)?;
                            }
                            for id in std::mem::take(&mut queued) {
                                go_out(id, &acked, &mut to_server, &mut sent_on_connection)?;
                            }
                        }
                    }
                }
                prop_assert!(outbox.load().0 <= bounds.requests);
                Ok(())
            };
            for step in steps {
                run(step, &mut connected)?;
            }
            // Then the network behaves: every message is acknowledged.
            for _ in 0..(4 * bounds.requests + 4) {
                run(Wire::Open, &mut connected)?;
                run(Wire::ServerReads, &mut connected)?;
                run(Wire::AckArrives, &mut connected)?;
            }
            prop_assert_eq!(&acked, &started, "every message acknowledged");
            prop_assert_eq!(outbox.load().0, 0);
            for id in &started {
                prop_assert!(read_by_server.get(id).copied().unwrap_or(0) >= 1, "{} never reached the server", id);
            }
        }
    }
}
