//! A socket's lifecycle as a pure state machine: the browser's events, in any
//! order an engine produces them, become one sequence of typed [`Event`]s. The
//! stream and the callbacks are two consumers of that one sequence, so they
//! cannot disagree.
//!
//! | browser events | typed events |
//! |---|---|
//! | `open`, `message`…, `close` (clean) | `Open`, `Message`…, `Close` |
//! | `open`, `close` (not clean: TCP drop) | `Open`, `Error(ConnectionClosed)`, `Close` |
//! | `open`, `error`, `close` | `Open`, `Error(ConnectionClosed)`, `Close` (at the `error`) |
//! | `error`, `close` before `open` (refused, 403, …) | `Error(ConnectionFailed)`, `Close` (at the `error`) |
//! | `error` and no `close` (WebKit, blocked port) | `Error(ConnectionFailed)`, `Close` |
//! | `close` before `open` | `Error(ConnectionFailed)`, `Close` |
//! | after the app's own `close`: `close` (clean or not) | `Close` only: the app asked for it |
//! | `message` with data of an unknown type | `Error(UnexpectedMessageType)`, and it goes on |
//! | anything after `Close` | nothing |
//!
//! `error` is terminal: WebKit may never follow it with `close`, so the `Close`
//! (code 1006) is produced at once and a later browser `close` is ignored.

use crate::rules::close::CloseEvent;
use crate::rules::error::Error;
use crate::rules::message::Message;

/// An event as the browser fired it, with its data already translated.
#[derive(Clone, Debug)]
pub(crate) enum BrowserEvent {
    Open,
    Message(Result<Message, Error>),
    /// The browser's `error` event, which carries no detail.
    Error,
    Close(CloseEvent),
}

/// What a socket reports, in order, to whichever API consumes it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Event {
    Open,
    Message(Message),
    /// A connection error (always followed by `Close`) or an undecodable message.
    Error(Error),
    /// The last event, exactly once.
    Close(CloseEvent),
}

#[derive(Debug, Default)]
enum Phase {
    #[default]
    Connecting,
    Open,
    Closed(CloseEvent),
}

/// The lifecycle of one socket.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    phase: Phase,
    opened: bool,
    closed_by_app: bool,
}

/// The typed events one browser event produced: none, one or two.
#[derive(Debug, Default)]
pub(crate) struct Transition {
    first: Option<Event>,
    second: Option<Event>,
}

impl Transition {
    fn one(event: Event) -> Self {
        Self {
            first: Some(event),
            second: None,
        }
    }

    fn two(first: Event, second: Event) -> Self {
        Self {
            first: Some(first),
            second: Some(second),
        }
    }
}

impl Iterator for Transition {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.first.take().or_else(|| self.second.take())
    }
}

impl Lifecycle {
    /// Applies a browser event; returns what to report.
    pub(crate) fn on_browser_event(&mut self, event: BrowserEvent) -> Transition {
        match (&self.phase, event) {
            (Phase::Closed(_), _) => Transition::default(),
            (Phase::Connecting, BrowserEvent::Open) => {
                self.phase = Phase::Open;
                self.opened = true;
                Transition::one(Event::Open)
            }
            (Phase::Open, BrowserEvent::Message(Ok(message))) => {
                Transition::one(Event::Message(message))
            }
            (Phase::Open, BrowserEvent::Message(Err(error))) => {
                Transition::one(Event::Error(error))
            }
            (_, BrowserEvent::Error) => self.close(CloseEvent::abnormal()),
            (_, BrowserEvent::Close(event)) => self.close(event),
            // Browsers fire neither a second `open` nor a message before `open`.
            (_, BrowserEvent::Open | BrowserEvent::Message(_)) => Transition::default(),
        }
    }

    /// The app started the closing handshake: how it ends is not an error.
    pub(crate) fn on_app_close(&mut self) {
        self.closed_by_app = true;
    }

    fn close(&mut self, event: CloseEvent) -> Transition {
        let error = match self.phase {
            _ if self.closed_by_app => None,
            Phase::Connecting => Some(Error::ConnectionFailed(event.clone())),
            Phase::Open if !event.was_clean => Some(Error::ConnectionClosed(event.clone())),
            _ => None,
        };
        self.phase = Phase::Closed(event.clone());
        match error {
            Some(error) => Transition::two(Event::Error(error), Event::Close(event)),
            None => Transition::one(Event::Close(event)),
        }
    }

    /// Whether `open` has been reported (even if the socket has closed since).
    pub(crate) fn has_opened(&self) -> bool {
        self.opened
    }

    /// Whether the socket is open and not yet closed.
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open)
    }

    /// How the socket closed, once it has.
    pub(crate) fn close_event(&self) -> Option<&CloseEvent> {
        match &self.phase {
            Phase::Closed(event) => Some(event),
            _ => None,
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::rules::close::CloseCode;
    use proptest::prelude::*;

    fn close(code: u16, clean: bool) -> CloseEvent {
        CloseEvent {
            code: CloseCode::from(code),
            reason: String::new(),
            was_clean: clean,
        }
    }

    fn run(events: Vec<BrowserEvent>) -> Vec<Event> {
        let mut lifecycle = Lifecycle::default();
        events
            .into_iter()
            .flat_map(|event| lifecycle.on_browser_event(event))
            .collect()
    }

    fn text(text: &str) -> BrowserEvent {
        BrowserEvent::Message(Ok(Message::from(text)))
    }

    /// Each row of the table in the module docs.
    #[test]
    fn the_documented_table() {
        let abnormal = CloseEvent::abnormal();
        let clean = close(4000, true);
        assert_eq!(
            run(vec![
                BrowserEvent::Open,
                text("a"),
                BrowserEvent::Close(clean.clone())
            ]),
            [
                Event::Open,
                Event::Message(Message::from("a")),
                Event::Close(clean.clone())
            ]
        );
        assert_eq!(
            run(vec![
                BrowserEvent::Open,
                BrowserEvent::Close(abnormal.clone())
            ]),
            [
                Event::Open,
                Event::Error(Error::ConnectionClosed(abnormal.clone())),
                Event::Close(abnormal.clone())
            ]
        );
        let broke = [
            Event::Open,
            Event::Error(Error::ConnectionClosed(abnormal.clone())),
            Event::Close(abnormal.clone()),
        ];
        assert_eq!(
            run(vec![
                BrowserEvent::Open,
                BrowserEvent::Error,
                BrowserEvent::Close(abnormal.clone())
            ]),
            broke
        );
        let failed = [
            Event::Error(Error::ConnectionFailed(abnormal.clone())),
            Event::Close(abnormal.clone()),
        ];
        assert_eq!(
            run(vec![
                BrowserEvent::Error,
                BrowserEvent::Close(abnormal.clone())
            ]),
            failed
        );
        assert_eq!(run(vec![BrowserEvent::Error]), failed);
        assert_eq!(run(vec![BrowserEvent::Close(abnormal.clone())]), failed);
        let unexpected = Error::UnexpectedMessageType {
            type_name: "object".into(),
        };
        assert_eq!(
            run(vec![
                BrowserEvent::Open,
                BrowserEvent::Message(Err(unexpected.clone())),
                text("b")
            ]),
            [
                Event::Open,
                Event::Error(unexpected),
                Event::Message(Message::from("b"))
            ]
        );
        assert_eq!(
            run(vec![
                BrowserEvent::Close(clean.clone()),
                BrowserEvent::Open,
                text("late"),
                BrowserEvent::Error
            ]),
            [
                Event::Error(Error::ConnectionFailed(clean.clone())),
                Event::Close(clean)
            ]
        );
    }

    #[test]
    fn after_the_apps_close_no_error_is_reported() {
        let abnormal = CloseEvent::abnormal();
        let mut lifecycle = Lifecycle::default();
        let _ = lifecycle.on_browser_event(BrowserEvent::Open).count();
        lifecycle.on_app_close();
        let events: Vec<_> = lifecycle
            .on_browser_event(BrowserEvent::Close(abnormal.clone()))
            .collect();
        assert_eq!(events, [Event::Close(abnormal.clone())]);
        let mut connecting = Lifecycle::default();
        connecting.on_app_close();
        let events: Vec<_> = connecting.on_browser_event(BrowserEvent::Error).collect();
        assert_eq!(events, [Event::Close(abnormal)]);
        assert!(!connecting.has_opened());
    }

    fn browser_event() -> impl Strategy<Value = BrowserEvent> {
        prop_oneof![
            Just(BrowserEvent::Open),
            "[a-z]{0,3}".prop_map(|t| BrowserEvent::Message(Ok(Message::Text(t)))),
            Just(BrowserEvent::Message(Err(Error::UnexpectedMessageType {
                type_name: "object".into()
            }))),
            Just(BrowserEvent::Error),
            (0u16..5000, any::<bool>())
                .prop_map(|(code, clean)| BrowserEvent::Close(close(code, clean))),
        ]
    }

    proptest! {
        /// Whatever order the browser fires events in: at most one `Open`, first;
        /// exactly one `Close` once the browser has closed or failed, last; a
        /// connection error only right before an unclean `Close` or a failure
        /// before open, and always before one; messages only while open.
        #[test]
        fn every_order_gives_a_well_formed_sequence(
            events in prop::collection::vec(browser_event(), 0..12),
            app_close_at in prop::option::of(0usize..12),
        ) {
            let browser_closed = events
                .iter()
                .any(|e| matches!(e, BrowserEvent::Error | BrowserEvent::Close(_)));
            let mut lifecycle = Lifecycle::default();
            let mut out = Vec::new();
            let mut closed_by_app = false;
            for (index, event) in events.into_iter().enumerate() {
                if app_close_at == Some(index) {
                    lifecycle.on_app_close();
                }
                let before = out.len();
                out.extend(lifecycle.on_browser_event(event));
                if out[before..].iter().any(|e| matches!(e, Event::Close(_))) {
                    closed_by_app = lifecycle.closed_by_app;
                }
            }
            let closes = out.iter().filter(|e| matches!(e, Event::Close(_))).count();
            prop_assert_eq!(closes, usize::from(browser_closed));
            if browser_closed {
                prop_assert!(matches!(out.last(), Some(Event::Close(_))));
                prop_assert!(lifecycle.close_event().is_some());
                prop_assert!(!lifecycle.is_open());
            }
            let opens: Vec<_> = out.iter().enumerate().filter(|(_, e)| **e == Event::Open).collect();
            prop_assert!(opens.len() <= 1);
            if let Some((index, _)) = opens.first() {
                prop_assert_eq!(*index, 0);
            }
            for (index, event) in out.iter().enumerate() {
                match event {
                    Event::Message(_) => prop_assert_eq!(opens.len(), 1),
                    Event::Error(Error::ConnectionFailed(failure)) => {
                        prop_assert!(opens.is_empty());
                        prop_assert_eq!(out.get(index + 1), Some(&Event::Close(failure.clone())));
                    }
                    Event::Error(Error::ConnectionClosed(broken)) => {
                        prop_assert!(!broken.was_clean);
                        prop_assert_eq!(out.get(index + 1), Some(&Event::Close(broken.clone())));
                    }
                    Event::Close(event) => {
                        let reported = index > 0
                            && matches!(&out[index - 1], Event::Error(e) if e.close_event() == Some(event));
                        let expected = !closed_by_app && (opens.is_empty() || !event.was_clean);
                        prop_assert_eq!(reported, expected, "{:?}", out);
                    }
                    _ => {}
                }
            }
        }
    }
}
