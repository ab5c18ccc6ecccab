//! Subscriptions on the request layer: a topic subscribed once per client
//! however many [`Subscription`]s read it, subscribed again on every new
//! connection of a reconnecting socket (with each subscription told), and
//! unsubscribed when the last of them is dropped.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_core::Stream;

use super::{rearm, CoreCell, OnSettle, RequestClient};
use crate::js::tabs::TopicHold;
use crate::rules::message::Message;
use crate::rules::requests::{Protocol, RequestError, SubscriptionEvent, Subscriptions};
use crate::rules::subscriptions::{self as rules, Added};

pub(crate) type Event<P> = std::result::Result<
    SubscriptionEvent<<P as Subscriptions>::Item>,
    RequestError<<P as Protocol>::Rejection>,
>;

/// What one [`Subscription`] has not read yet.
struct Feed<P: Subscriptions> {
    events: VecDeque<(Event<P>, usize)>,
    unread_bytes: usize,
    limit: Option<usize>,
    ended: bool,
    waker: Option<Waker>,
}

type FeedCell<P> = Rc<RefCell<Feed<P>>>;

impl<P: Subscriptions> Feed<P> {
    fn push(&mut self, event: Event<P>, bytes: usize) {
        if self.ended {
            return;
        }
        self.unread_bytes += bytes;
        self.events.push_back((event, bytes));
        if let Some(limit) = self.limit.filter(|limit| self.unread_bytes > *limit) {
            // Unread past the receive limit: it says so, and ends.
            self.events
                .push_back((Err(RequestError::ReceiveLimitExceeded { limit }), 0));
            self.ended = true;
        }
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn end(&mut self, error: Option<RequestError<P::Rejection>>) {
        if self.ended {
            return;
        }
        if let Some(error) = error {
            self.events.push_back((Err(error), 0));
        }
        self.ended = true;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// A reader, as the registry keeps it: gone once its [`Subscription`] is
/// dropped.
type Reader<P> = Weak<RefCell<Feed<P>>>;

/// The pure registry, with each topic's Web Lock on a shared socket (so
/// another tab that stops reading it does not unsubscribe).
type Readers<P> = rules::Registry<<P as Subscriptions>::Topic, Reader<P>, Option<TopicHold>>;

type ReadersCell<P> = Rc<RefCell<Readers<P>>>;

/// Every topic of a client.
struct Registry<P: Subscriptions> {
    topics: ReadersCell<P>,
}

/// A subscribe request to make on a new connection.
pub(crate) struct Resubscription<P: Protocol> {
    pub(crate) request: P::Request,
    pub(crate) on_settle: OnSettle<P>,
    /// Records the id it went out with.
    pub(crate) sent_as: Box<dyn FnOnce(u64)>,
    /// `None` for the client's; no deadline where subscribing has no reply.
    pub(crate) timeout: Option<Duration>,
}

/// How long a subscribe request waits: the client's timeout for one the
/// server answers, no deadline for one that stays open.
fn subscribe_timeout<P: Subscriptions>(protocol: &P) -> Option<Duration> {
    if protocol.subscribe_is_answered() {
        None
    } else {
        Some(Duration::MAX)
    }
}

/// The registry as the request layer sees it, whatever the protocol.
pub(crate) trait Topics<P: Protocol> {
    /// Routes `message` to its topic's readers; `false` if it is no item of
    /// a topic subscribed to.
    fn take(&mut self, protocol: &P, message: &Message) -> bool;
    /// The subscribe requests for every topic, for a new connection, each
    /// with what to do with its outcome.
    fn to_resubscribe(&mut self, protocol: &P) -> Vec<Resubscription<P>>;
    /// The server ended subscribe request `id` ([`Incoming::Complete`]):
    /// its topic's readers end. `false` if no topic is on that request.
    ///
    /// [`Incoming::Complete`]: crate::Incoming::Complete
    fn completed(&mut self, id: u64) -> bool;
    /// The client ended: every reader is told (`Closed` ends quietly).
    fn end_all(&mut self, error: RequestError<P::Rejection>);
    fn as_any(&mut self) -> &mut dyn Any;
}

impl<P: Subscriptions> Topics<P> for Registry<P> {
    fn take(&mut self, protocol: &P, message: &Message) -> bool {
        let topics = self.topics.borrow();
        let (feeds, item) = if let Some((topic, item)) = protocol.item(message) {
            (live(topics.readers(&topic)), item)
        } else if let Some((id, item)) = protocol.item_of_request(message) {
            let readers = topics
                .topic_of_request(id)
                .map_or(&[][..], |topic| topics.readers(topic));
            (live(readers), item)
        } else {
            return false;
        };
        if feeds.is_empty() {
            // Not subscribed (any more): an ordinary message, or the reply
            // to a request.
            return false;
        }
        let bytes = message.len().unwrap_or(0);
        let mut first = Some(item);
        for feed in &feeds {
            // Items need not be `Clone`: readers past the first get their own
            // read of the message.
            let item = first.take().or_else(|| {
                protocol
                    .item(message)
                    .map(|(_, item)| item)
                    .or_else(|| protocol.item_of_request(message).map(|(_, item)| item))
            });
            if let Some(item) = item {
                feed.borrow_mut()
                    .push(Ok(SubscriptionEvent::Item(item)), bytes);
            }
        }
        true
    }

    fn to_resubscribe(&mut self, protocol: &P) -> Vec<Resubscription<P>> {
        let answered = protocol.subscribe_is_answered();
        let again = {
            let mut topics = self.topics.borrow_mut();
            let mut again = Vec::new();
            for (topic, told) in topics.session_ready(answered) {
                for feed in told.iter().filter_map(|reader| reader.upgrade()) {
                    feed.borrow_mut()
                        .push(Ok(SubscriptionEvent::Resubscribed), 0);
                }
                again.push(topic);
            }
            again
        };
        again
            .into_iter()
            .map(|topic| Resubscription {
                request: protocol.subscribe(&topic),
                on_settle: subscribed(&self.topics, topic.clone()),
                sent_as: sent_as(&self.topics, topic, answered),
                timeout: subscribe_timeout(protocol),
            })
            .collect()
    }

    fn completed(&mut self, id: u64) -> bool {
        let mut topics = self.topics.borrow_mut();
        let Some(topic) = topics.topic_of_request(id).cloned() else {
            return false;
        };
        for feed in live(&topics.ended(&topic)) {
            feed.borrow_mut().end(None);
        }
        true
    }

    fn end_all(&mut self, error: RequestError<P::Rejection>) {
        let error = match error {
            RequestError::Closed => None,
            other => Some(other),
        };
        let readers = self.topics.borrow_mut().end_all();
        for feed in live(&readers) {
            feed.borrow_mut().end(error.clone());
        }
    }

    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

fn live<P: Subscriptions>(readers: &[Reader<P>]) -> Vec<FeedCell<P>> {
    readers.iter().filter_map(Weak::upgrade).collect()
}

/// Records that `topic`'s subscribe request went out with an id.
fn sent_as<P: Subscriptions>(
    topics: &ReadersCell<P>,
    topic: P::Topic,
    answered: bool,
) -> Box<dyn FnOnce(u64)> {
    let topics = Rc::downgrade(topics);
    Box::new(move |id| {
        if let Some(topics) = topics.upgrade() {
            topics.borrow_mut().subscribing(&topic, id, answered);
        }
    })
}

/// What a subscribe request's outcome does to its topic: confirmed (and, if
/// it was confirmed before, its readers told they may have missed items);
/// refused by the server, its readers end with the error; a drop, a timeout or
/// the client's end changes nothing here.
fn subscribed<P: Subscriptions>(topics: &ReadersCell<P>, topic: P::Topic) -> OnSettle<P> {
    let topics = Rc::downgrade(topics);
    Box::new(move |outcome| {
        let Some(topics) = topics.upgrade() else {
            return;
        };
        let mut topics = topics.borrow_mut();
        match outcome {
            Ok(_) => {
                for feed in topics
                    .confirmed(&topic)
                    .into_iter()
                    .filter_map(Weak::upgrade)
                {
                    feed.borrow_mut()
                        .push(Ok(SubscriptionEvent::Resubscribed), 0);
                }
            }
            // The next connection subscribes again; or the client ended, and
            // its end tells every reader.
            Err(RequestError::Disconnected | RequestError::TimedOut(_) | RequestError::Closed) => {}
            Err(error) => {
                for feed in live(&topics.ended(&topic)) {
                    feed.borrow_mut().end(Some(error.clone()));
                }
            }
        }
    })
}

impl<P: Subscriptions> RequestClient<P> {
    /// Subscribes to `topic`: a `Stream` of its items. The subscribe request
    /// goes out once per topic however many subscriptions read it, now if the
    /// socket is open, and again on every new connection of a reconnecting
    /// socket (before requests resent and the queue), after which each
    /// subscription yields [`SubscriptionEvent::Resubscribed`]. Dropping the
    /// last subscription to a topic sends the unsubscribe request; items that
    /// come after go to [`Messages`](super::Messages). A subscription not read
    /// holds at most the receive limit of items (by their messages' size),
    /// then yields [`RequestError::ReceiveLimitExceeded`] and ends. It ends
    /// when the client does, or with the server's error if it refuses the
    /// topic.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")]
    /// # async fn demo(client: browser_websocket::RequestClient<browser_websocket::JsonRpc>) -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_util::StreamExt;
    /// use browser_websocket::SubscriptionEvent;
    /// let mut ticks = client.subscribe("tick".to_owned());
    /// while let Some(event) = ticks.next().await {
    ///     match event? {
    ///         SubscriptionEvent::Item(params) => println!("tick {params}"),
    ///         SubscriptionEvent::Resubscribed => println!("reconnected: some ticks may be missed"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn subscribe(&self, topic: P::Topic) -> Subscription<P> {
        let limit = self.core.borrow().receive_limit;
        let feed = Rc::new(RefCell::new(Feed {
            events: VecDeque::new(),
            unread_bytes: 0,
            limit,
            ended: false,
            waker: None,
        }));
        let message = self.register(&topic, &feed);
        if let Some(message) = message {
            let _ = self.send_message(&message);
            rearm(&self.core);
        }
        Subscription {
            feed,
            topic,
            core: self.core.clone(),
        }
    }

    /// Adds `feed` to `topic`'s readers; the subscribe message to send when
    /// the topic is new and the socket open.
    fn register(&self, topic: &P::Topic, feed: &FeedCell<P>) -> Option<Message> {
        let mut guard = self.core.borrow_mut();
        let core = &mut *guard;
        if let Some(ending) = core.ended {
            let error = match ending.error() {
                RequestError::Closed => None,
                other => Some(other),
            };
            feed.borrow_mut().end(error);
            return None;
        }
        let max_topics = core.max_topics;
        let registry = core.topics.get_or_insert_with(|| {
            Box::new(Registry::<P> {
                topics: Rc::new(RefCell::new(rules::Registry::new(max_topics))),
            })
        });
        let topics = registry
            .as_any()
            .downcast_mut::<Registry<P>>()?
            .topics
            .clone();
        // A reconnecting socket that is down (or a connection whose
        // handshake is not yet accepted) subscribes when it is ready, with
        // every other topic.
        let ready = core.is_ready();
        let lock_name = core.topic_locks.clone();
        let added = topics
            .borrow_mut()
            .add_reader(topic, Rc::downgrade(feed), ready, || {
                lock_name.and_then(|name| TopicHold::take(&name, &format!("{topic:?}")))
            });
        match added {
            Ok(Added::SubscribeNow) => {}
            Ok(Added::SubscribeLater | Added::Joined) => return None,
            Err(full) => {
                feed.borrow_mut().end(Some(RequestError::TooManyTopics {
                    topics: full.topics,
                }));
                return None;
            }
        }
        let request = core.protocol.subscribe(topic);
        let answered = core.protocol.subscribe_is_answered();
        let timeout = subscribe_timeout(&core.protocol);
        let (id, message) =
            core.start_own(&request, subscribed(&topics, topic.clone()), timeout)?;
        topics.borrow_mut().subscribing(topic, id, answered);
        Some(message)
    }
}

/// A subscription to one topic ([`RequestClient::subscribe`]): a `Stream` of
/// [`SubscriptionEvent`]s, or the error that ended it. Dropping the last one
/// to a topic unsubscribes.
#[must_use = "dropping the subscription unsubscribes"]
pub struct Subscription<P: Subscriptions> {
    feed: FeedCell<P>,
    topic: P::Topic,
    core: CoreCell<P>,
}

// Nothing in it is pinned (its state is behind an `Rc`): `next()` works
// whatever the topic's type.
impl<P: Subscriptions> Unpin for Subscription<P> {}

impl<P: Subscriptions> Stream for Subscription<P> {
    type Item = Event<P>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        crate::backend::drive(cx);
        let mut feed = self.feed.borrow_mut();
        if let Some((event, bytes)) = feed.events.pop_front() {
            feed.unread_bytes -= bytes;
            return Poll::Ready(Some(event));
        }
        if feed.ended {
            return Poll::Ready(None);
        }
        feed.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<P: Subscriptions> Drop for Subscription<P> {
    fn drop(&mut self) {
        let Some(last) = self.leave_topic() else {
            return;
        };
        match last.kept {
            // Another tab may read it still: the last to stop unsubscribes.
            Some(hold) => {
                let core = Rc::downgrade(&self.core);
                let topic = self.topic.clone();
                hold.release(move |no_other_tab| {
                    if let Some(core) = core.upgrade().filter(|_| no_other_tab) {
                        unsubscribe(&core, &topic, last.request);
                    }
                });
            }
            None => unsubscribe(&self.core, &self.topic, last.request),
        }
    }
}

impl<P: Subscriptions> Subscription<P> {
    /// Removes this reader (and any dropped); its topic's, if it was the last.
    fn leave_topic(&self) -> Option<rules::Unsubscribe<Option<TopicHold>>> {
        let mut guard = self.core.borrow_mut();
        let registry = guard.topics.as_mut()?;
        let registry = registry.as_any().downcast_mut::<Registry<P>>()?;
        let this = Rc::as_ptr(&self.feed);
        let mut topics = registry.topics.borrow_mut();
        topics.remove_readers(&self.topic, |reader| {
            reader.strong_count() == 0 || std::ptr::eq(reader.as_ptr(), this)
        })
    }
}

/// Nobody reads `topic` any more: its unsubscribe request goes out, or,
/// where subscribing is an open request (`request_id`), that request is
/// cancelled. Not if the client ended, or the topic is read again (a new
/// reader in this tab while other tabs were asked).
fn unsubscribe<P: Subscriptions>(core: &CoreCell<P>, topic: &P::Topic, request_id: Option<u64>) {
    let message = {
        let mut guard = core.borrow_mut();
        let state = &mut *guard;
        let read_again = state
            .topics
            .as_mut()
            .and_then(|registry| registry.as_any().downcast_mut::<Registry<P>>())
            .is_some_and(|registry| registry.topics.borrow().contains(topic));
        if state.ended.is_some() || read_again {
            return;
        }
        match state.protocol.unsubscribe(topic) {
            // Its reply is taken (not passed on to `Messages`); its outcome
            // matters to nobody.
            Some(request) if state.is_ready() => state
                .start_own(&request, Box::new(|_| {}), None)
                .map(|(_, message)| message),
            Some(_) => None,
            None => request_id.and_then(|id| state.forget(id)),
        }
    };
    if let Some(message) = message {
        let link = core.borrow().link.clone();
        let _ = link.send(&message);
        rearm(core);
    }
}

impl<P: Subscriptions> std::fmt::Debug for Subscription<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}
