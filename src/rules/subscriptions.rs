//! The subscription registry, as pure logic: which topics are read and by
//! whom, when a topic's subscribe request is due (its first reader while
//! connected, or every new connection), when its unsubscribe is (its last
//! reader gone), which readers are told a topic was subscribed again, and
//! where an item goes. The layer above holds the readers (`R`) and sends what
//! this says; the bound on topics is here too.

use std::collections::BTreeMap;

/// Past the bound on topics: the subscription was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooManyTopics {
    pub(crate) topics: usize,
}

/// What adding a reader to a topic calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Added {
    /// A new topic, and the connection is ready: subscribe now.
    SubscribeNow,
    /// A new topic, not ready: it is subscribed when the next connection is.
    SubscribeLater,
    /// The topic is read already: nothing to send.
    Joined,
}

/// One topic: its readers, whether it was established once (confirmed by the
/// server, or sent where subscribing has no reply), its current subscribe
/// request's id, and what the layer keeps with it (`H`).
struct Topic<R, H> {
    readers: Vec<R>,
    established: bool,
    request: Option<u64>,
    kept: H,
}

/// The last reader of a topic left: what to unsubscribe with.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unsubscribe<H> {
    /// The subscribe request's id, where it is an open request to cancel.
    pub(crate) request: Option<u64>,
    pub(crate) kept: H,
}

/// Every topic of a client, with its readers.
pub(crate) struct Registry<T, R, H> {
    topics: BTreeMap<T, Topic<R, H>>,
    max_topics: usize,
}

impl<T: Ord + Clone, R, H> Registry<T, R, H> {
    pub(crate) fn new(max_topics: usize) -> Self {
        Self {
            topics: BTreeMap::new(),
            max_topics,
        }
    }

    /// Adds `reader` to `topic`; `kept` is made for a new topic only.
    pub(crate) fn add_reader(
        &mut self,
        topic: &T,
        reader: R,
        ready: bool,
        kept: impl FnOnce() -> H,
    ) -> Result<Added, TooManyTopics> {
        if let Some(entry) = self.topics.get_mut(topic) {
            entry.readers.push(reader);
            return Ok(Added::Joined);
        }
        if self.topics.len() >= self.max_topics {
            return Err(TooManyTopics {
                topics: self.topics.len(),
            });
        }
        let entry = Topic {
            readers: vec![reader],
            established: false,
            request: None,
            kept: kept(),
        };
        self.topics.insert(topic.clone(), entry);
        Ok(if ready {
            Added::SubscribeNow
        } else {
            Added::SubscribeLater
        })
    }

    /// `topic`'s subscribe request went out as `id`; where subscribing has
    /// no reply (`answered` false), that establishes it.
    pub(crate) fn subscribing(&mut self, topic: &T, id: u64, answered: bool) {
        if let Some(entry) = self.topics.get_mut(topic) {
            entry.request = Some(id);
            entry.established |= !answered;
        }
    }

    /// Removes the readers of `topic` that `is_gone` picks; the topic, if that
    /// was the last of them.
    pub(crate) fn remove_readers(
        &mut self,
        topic: &T,
        is_gone: impl Fn(&R) -> bool,
    ) -> Option<Unsubscribe<H>> {
        let entry = self.topics.get_mut(topic)?;
        entry.readers.retain(|reader| !is_gone(reader));
        if !entry.readers.is_empty() {
            return None;
        }
        let entry = self.topics.remove(topic)?;
        Some(Unsubscribe {
            request: entry.request,
            kept: entry.kept,
        })
    }

    /// A connection is ready: every topic, to subscribe again, with the
    /// readers to tell they may have missed items, if it is told now (where
    /// subscribing has no reply: `answered` false; else once confirmed).
    pub(crate) fn session_ready(&mut self, answered: bool) -> Vec<(T, Vec<&R>)> {
        self.topics
            .iter_mut()
            .map(|(topic, entry)| {
                let told = if !answered && entry.established {
                    entry.readers.iter().collect()
                } else {
                    Vec::new()
                };
                (topic.clone(), told)
            })
            .collect()
    }

    /// The server confirmed `topic`: the readers to tell it was subscribed
    /// again (none the first time).
    pub(crate) fn confirmed(&mut self, topic: &T) -> Vec<&R> {
        let Some(entry) = self.topics.get_mut(topic) else {
            return Vec::new();
        };
        let again = std::mem::replace(&mut entry.established, true);
        if again {
            entry.readers.iter().collect()
        } else {
            Vec::new()
        }
    }

    /// The server refused `topic` (or ended it): it is gone, and its readers
    /// end.
    pub(crate) fn ended(&mut self, topic: &T) -> Vec<R> {
        self.topics
            .remove(topic)
            .map(|entry| entry.readers)
            .unwrap_or_default()
    }

    /// The topic whose subscribe request is `id`, if any.
    pub(crate) fn topic_of_request(&self, id: u64) -> Option<&T> {
        self.topics
            .iter()
            .find(|(_, entry)| entry.request == Some(id))
            .map(|(topic, _)| topic)
    }

    /// The readers an item of `topic` goes to (none: not subscribed, the item
    /// is an ordinary message).
    pub(crate) fn readers(&self, topic: &T) -> &[R] {
        self.topics
            .get(topic)
            .map_or(&[], |entry| entry.readers.as_slice())
    }

    /// Whether `topic` is read.
    pub(crate) fn contains(&self, topic: &T) -> bool {
        self.topics.contains_key(topic)
    }

    /// The client ended: every reader, to end.
    pub(crate) fn end_all(&mut self) -> Vec<R> {
        std::mem::take(&mut self.topics)
            .into_values()
            .flat_map(|entry| entry.readers)
            .collect()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    type Topics = Registry<u8, u32, ()>;

    #[test]
    fn a_topic_is_subscribed_once_for_all_its_readers_and_unsubscribed_by_the_last() {
        let mut topics = Topics::new(8);
        assert_eq!(
            topics.add_reader(&1, 10, true, || ()),
            Ok(Added::SubscribeNow)
        );
        topics.subscribing(&1, 100, true);
        assert_eq!(topics.add_reader(&1, 11, true, || ()), Ok(Added::Joined));
        assert_eq!(topics.readers(&1), [10, 11]);
        assert_eq!(topics.remove_readers(&1, |r| *r == 10), None);
        assert_eq!(
            topics.remove_readers(&1, |r| *r == 11),
            Some(Unsubscribe {
                request: Some(100),
                kept: ()
            })
        );
        assert!(topics.readers(&1).is_empty());
    }

    #[test]
    fn past_the_bound_a_topic_is_refused_but_its_readers_may_join() {
        let mut topics = Topics::new(1);
        assert_eq!(
            topics.add_reader(&1, 10, false, || ()),
            Ok(Added::SubscribeLater)
        );
        assert_eq!(
            topics.add_reader(&2, 11, true, || ()),
            Err(TooManyTopics { topics: 1 })
        );
        assert_eq!(topics.add_reader(&1, 12, true, || ()), Ok(Added::Joined));
    }

    #[test]
    fn readers_are_told_of_a_renewal_only_after_a_first_subscription() {
        let mut answered = Topics::new(8);
        answered.add_reader(&1, 10, true, || ()).unwrap();
        assert!(answered.confirmed(&1).is_empty(), "the first confirmation");
        assert_eq!(answered.session_ready(true), [(1, vec![])]);
        assert_eq!(answered.confirmed(&1), [&10], "confirmed again");

        let mut open = Topics::new(8);
        open.add_reader(&1, 10, false, || ()).unwrap();
        assert_eq!(
            open.session_ready(false),
            [(1, vec![])],
            "never sent before"
        );
        open.subscribing(&1, 5, false);
        assert_eq!(open.session_ready(false), [(1, vec![&10])]);
        assert_eq!(open.topic_of_request(5), Some(&1));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add { topic: u8, ready: bool },
        Drop { topic: u8, nth: usize },
        Session,
        Confirm { topic: u8 },
        Refuse { topic: u8 },
        EndAll,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..4, any::<bool>()).prop_map(|(topic, ready)| Op::Add { topic, ready }),
            3 => (0u8..4, 0usize..4).prop_map(|(topic, nth)| Op::Drop { topic, nth }),
            1 => Just(Op::Session),
            1 => (0u8..4).prop_map(|topic| Op::Confirm { topic }),
            1 => (0u8..4).prop_map(|topic| Op::Refuse { topic }),
            1 => Just(Op::EndAll),
        ]
    }

    proptest! {
        /// Against a model (a set of readers per topic): a subscribe is due
        /// exactly for a topic's first reader (now if ready) and for every
        /// read topic on each new connection; an unsubscribe exactly when the
        /// last reader of a topic leaves; items reach exactly the topic's
        /// readers; a reader is told of a renewal only if its topic was
        /// established before; the bound holds; nothing panics.
        #[test]
        fn the_registry_follows_its_model(ops in proptest::collection::vec(op(), 0..60), answered in any::<bool>()) {
            let mut topics = Registry::<u8, u32, ()>::new(3);
            let mut model: BTreeMap<u8, BTreeSet<u32>> = BTreeMap::new();
            let mut established: BTreeSet<u8> = BTreeSet::new();
            let mut next_reader = 0u32;
            let mut next_id = 1u64;
            for op in ops {
                match op {
                    Op::Add { topic, ready } => {
                        next_reader += 1;
                        let added = topics.add_reader(&topic, next_reader, ready, || ());
                        let full = model.len() >= 3;
                        match model.get_mut(&topic) {
                            Some(readers) => {
                                prop_assert_eq!(added, Ok(Added::Joined));
                                readers.insert(next_reader);
                            }
                            None if full => {
                                prop_assert_eq!(added, Err(TooManyTopics { topics: 3 }));
                            }
                            None => {
                                let expected = if ready { Added::SubscribeNow } else { Added::SubscribeLater };
                                prop_assert_eq!(added, Ok(expected));
                                model.insert(topic, BTreeSet::from([next_reader]));
                                established.remove(&topic);
                                if ready {
                                    topics.subscribing(&topic, next_id, answered);
                                    next_id += 1;
                                    if !answered {
                                        established.insert(topic);
                                    }
                                }
                            }
                        }
                    }
                    Op::Drop { topic, nth } => {
                        let gone = model.get(&topic).and_then(|readers| readers.iter().nth(nth).copied());
                        let Some(gone) = gone else { continue };
                        let unsubscribe = topics.remove_readers(&topic, |r| *r == gone);
                        let readers = model.get_mut(&topic).unwrap();
                        readers.remove(&gone);
                        if readers.is_empty() {
                            model.remove(&topic);
                            established.remove(&topic);
                            prop_assert!(unsubscribe.is_some(), "the last reader unsubscribes");
                        } else {
                            prop_assert!(unsubscribe.is_none(), "others still read");
                        }
                    }
                    Op::Session => {
                        let again = topics.session_ready(answered);
                        let due: Vec<u8> = again.iter().map(|(topic, _)| *topic).collect();
                        prop_assert_eq!(due, model.keys().copied().collect::<Vec<_>>());
                        for (topic, told) in again {
                            let told: BTreeSet<u32> = told.into_iter().copied().collect();
                            if !answered && established.contains(&topic) {
                                prop_assert_eq!(&told, &model[&topic]);
                            } else {
                                prop_assert!(told.is_empty());
                            }
                        }
                        let read: Vec<u8> = model.keys().copied().collect();
                        for topic in read {
                            topics.subscribing(&topic, next_id, answered);
                            next_id += 1;
                            if !answered {
                                established.insert(topic);
                            }
                        }
                    }
                    Op::Confirm { topic } => {
                        let told: BTreeSet<u32> = topics.confirmed(&topic).into_iter().copied().collect();
                        if model.contains_key(&topic) && established.contains(&topic) {
                            prop_assert_eq!(&told, &model[&topic]);
                        } else {
                            prop_assert!(told.is_empty());
                        }
                        if model.contains_key(&topic) {
                            established.insert(topic);
                        }
                    }
                    Op::Refuse { topic } => {
                        let ended: BTreeSet<u32> = topics.ended(&topic).into_iter().collect();
                        prop_assert_eq!(ended, model.remove(&topic).unwrap_or_default());
                        established.remove(&topic);
                    }
                    Op::EndAll => {
                        let ended: BTreeSet<u32> = topics.end_all().into_iter().collect();
                        let all: BTreeSet<u32> = model.values().flatten().copied().collect();
                        prop_assert_eq!(ended, all);
                        model.clear();
                        established.clear();
                    }
                }
                for topic in 0u8..4 {
                    let readers: BTreeSet<u32> = topics.readers(&topic).iter().copied().collect();
                    prop_assert_eq!(readers, model.get(&topic).cloned().unwrap_or_default());
                    prop_assert_eq!(topics.contains(&topic), model.contains_key(&topic));
                }
            }
        }
    }
}
