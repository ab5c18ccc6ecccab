//! One tab's part of a [`SharedWebSocket`](super::SharedWebSocket): it
//! carries out the pure machine's commands in the browser (the channel and
//! the lock, the connection while it leads, what the app reads).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::task::Waker;

use crate::js::global;
use crate::js::listeners::{PageLifeListener, PageSignal};
use crate::js::socket::received_len;
use crate::js::tabs::TabLink;
use crate::reconnect::{ReconnectEvent, ReconnectingWebSocket, SendPolicy};
use crate::rules::close::{CloseCode, CloseEvent};
use crate::rules::error::{Error, Result};
use crate::rules::inbox::{Admitted, Inbox};
use crate::rules::message::{BinaryType, Message, ReadyState};
use crate::rules::tabs::{Command, Input, SharedEvent, TabMachine};

use super::{Configure, EventFn, MessageFn};

/// What a tab needs to open the connection each time it leads.
pub(super) struct LeaderSetup {
    pub(super) url: String,
    pub(super) configure: Option<Configure>,
}

/// One tab's part: the machine, the link to the other tabs, the connection
/// while it leads, and what the app reads.
pub(super) struct Tab {
    pub(super) name: String,
    pub(super) binary_type: BinaryType,
    pub(super) machine: RefCell<TabMachine>,
    pub(super) link: RefCell<Option<TabLink>>,
    /// While sharing: a page going into the back/forward cache steps out
    /// (a frozen page would keep the lock, and the other tabs without a
    /// connection), and joins again when back.
    pub(super) page_life: RefCell<Option<PageLifeListener>>,
    pub(super) connection: RefCell<Option<ReconnectingWebSocket>>,
    pub(super) leader: RefCell<Option<LeaderSetup>>,
    /// Inputs that arrived while another was being carried out.
    pub(super) inputs: RefCell<VecDeque<Input>>,
    pub(super) busy: Cell<bool>,
    pub(super) inbox: RefCell<Inbox>,
    pub(super) reader: RefCell<Option<Waker>>,
    pub(super) writer: RefCell<Option<Waker>>,
    pub(super) on_message: RefCell<Option<MessageFn>>,
    pub(super) on_event: RefCell<Option<EventFn>>,
    /// Left or ended: the stream ends, sends fail.
    pub(super) finished: Cell<bool>,
    /// Changes of state so far (events, the end), and the tasks waiting for
    /// the next ([`SendHandle`](crate::SendHandle)'s pumps).
    pub(super) changes: Cell<u64>,
    pub(super) change_waiters: RefCell<Vec<Waker>>,
}

impl Tab {
    pub(super) fn join(tab: &Rc<Self>) {
        match tab.open_link() {
            Ok(()) => {
                let page_life = {
                    let tab = Rc::downgrade(tab);
                    PageLifeListener::attach(move |signal| match signal {
                        PageSignal::Hidden => feed(&tab, Input::Away),
                        PageSignal::Shown => feed(&tab, Input::Back),
                        _ => {}
                    })
                };
                *tab.page_life.borrow_mut() = page_life;
                tab.say_hello();
            }
            Err(missing) => tab.feed(Input::Alone { missing }),
        }
    }

    /// Opens this tab's channel and lock request; `Err(missing API)` where
    /// the browser cannot share.
    pub(super) fn open_link(self: &Rc<Self>) -> std::result::Result<(), &'static str> {
        let on_envelope = {
            let tab = Rc::downgrade(self);
            move |envelope| feed(&tab, Input::Posted(envelope))
        };
        let on_elected = {
            let tab = Rc::downgrade(self);
            move || feed(&tab, Input::Elected)
        };
        let link = TabLink::open(&self.name, self.binary_type, on_envelope, on_elected)?;
        *self.link.borrow_mut() = Some(link);
        Ok(())
    }

    pub(super) fn say_hello(self: &Rc<Self>) {
        let hello = self.machine.borrow().hello();
        self.execute(hello);
    }

    pub(super) fn send(self: &Rc<Self>, message: Message) -> Result<()> {
        if self.finished.get() {
            return Err(closed());
        }
        self.machine.borrow().check_room()?;
        self.feed(Input::AppSend(message));
        Ok(())
    }

    /// Carries out `input` and whatever it leads to, one input at a time:
    /// an input arriving meanwhile (from a callback) waits its turn.
    pub(super) fn feed(self: &Rc<Self>, input: Input) {
        self.inputs.borrow_mut().push_back(input);
        if self.busy.replace(true) {
            return;
        }
        loop {
            let next = self.inputs.borrow_mut().pop_front();
            let Some(input) = next else { break };
            let mut commands: VecDeque<Command> = self.machine.borrow_mut().handle(input).into();
            while let Some(command) = commands.pop_front() {
                // A transmission's outcome is handled at once, before
                // anything else, so the next message goes only after it.
                if let Some(outcome) = self.execute(command) {
                    let next = self.machine.borrow_mut().handle(outcome);
                    for command in next.into_iter().rev() {
                        commands.push_front(command);
                    }
                }
            }
        }
        self.busy.set(false);
        if let Some(writer) = self.writer.borrow_mut().take() {
            writer.wake();
        }
    }

    pub(super) fn execute(self: &Rc<Self>, command: Command) -> Option<Input> {
        match command {
            Command::Post(envelope) => {
                if let Some(link) = self.link.borrow().as_ref() {
                    link.post(&envelope);
                }
            }
            Command::Transmit { tab, seq, message } => {
                let handed = self.connection.borrow().as_ref().is_some_and(|connection| {
                    connection
                        .send_with(&message, SendPolicy::FailOnDisconnect)
                        .is_ok()
                });
                return Some(Input::Transmitted { tab, seq, handed });
            }
            Command::Deliver(message) => self.deliver(message),
            Command::Report(event) => self.report(&event),
            Command::OpenConnection => self.open_connection(),
            Command::StepOut => self.step_out(),
            Command::Rejoin => match self.open_link() {
                Ok(()) => self.say_hello(),
                Err(missing) => return Some(Input::Alone { missing }),
            },
            Command::End => self.finish(),
        }
        None
    }

    pub(super) fn deliver(&self, message: Message) {
        if self.finished.get() {
            return;
        }
        let callback = self.on_message.borrow_mut().take();
        if let Some(mut on_message) = callback {
            on_message(message);
            restore(&self.on_message, on_message);
            return;
        }
        let bytes = received_len(&message);
        let admitted = self.inbox.borrow_mut().push_message(message, bytes);
        if admitted == Admitted::LimitExceeded {
            self.leave();
        }
        if let Some(reader) = self.reader.borrow_mut().take() {
            reader.wake();
        }
    }

    pub(super) fn report(&self, event: &SharedEvent) {
        self.changed();
        let callback = self.on_event.borrow_mut().take();
        if let Some(mut on_event) = callback {
            on_event(event);
            restore(&self.on_event, on_event);
        }
    }

    /// This tab leads: it opens the connection, whose messages and events
    /// come back to the machine.
    pub(super) fn open_connection(self: &Rc<Self>) {
        // Copied out: `configure` is the app's code, run with no borrow held.
        let Some((url, configure)) = self
            .leader
            .borrow()
            .as_ref()
            .map(|setup| (setup.url.clone(), setup.configure.clone()))
        else {
            return;
        };
        let mut builder = ReconnectingWebSocket::builder(url);
        if let Some(configure) = configure {
            builder = configure(builder);
        }
        let on_message = {
            let tab = Rc::downgrade(self);
            move |message| feed(&tab, Input::ServerMessage(message))
        };
        let on_event = {
            let tab = Rc::downgrade(self);
            move |event: &ReconnectEvent| {
                if let Some(tab) = tab.upgrade() {
                    tab.connection_event(event);
                }
            }
        };
        let connection = builder
            .binary_type(self.binary_type)
            .send_policy(SendPolicy::FailOnDisconnect)
            .on_message(on_message)
            .on_event(on_event)
            .connect();
        *self.connection.borrow_mut() = Some(connection);
    }

    pub(super) fn connection_event(self: &Rc<Self>, event: &ReconnectEvent) {
        match event {
            ReconnectEvent::Open { .. } => self.feed(Input::Connected),
            ReconnectEvent::Closed { close, .. } => {
                let ended = self
                    .connection
                    .try_borrow()
                    .ok()
                    .and_then(|connection| {
                        connection
                            .as_ref()
                            .map(|connection| connection.is_finished())
                    })
                    .unwrap_or(false);
                self.feed(if ended {
                    Input::Ended(close.clone())
                } else {
                    Input::Disconnected
                });
            }
            ReconnectEvent::GaveUp { .. } => {
                let close = self
                    .connection
                    .try_borrow()
                    .ok()
                    .and_then(|connection| connection.as_ref().and_then(|c| c.close_event()))
                    .unwrap_or_else(abnormal_close);
                self.feed(Input::Ended(close));
            }
            _ => {}
        }
    }

    /// Wakes whoever waits for a change of state.
    fn changed(&self) {
        self.changes.set(self.changes.get() + 1);
        let waiters = std::mem::take(&mut *self.change_waiters.borrow_mut());
        waiters.into_iter().for_each(Waker::wake);
    }

    pub(super) fn finish(&self) {
        self.finished.set(true);
        self.changed();
        if let Some(reader) = self.reader.borrow_mut().take() {
            reader.wake();
        }
        if let Some(writer) = self.writer.borrow_mut().take() {
            writer.wake();
        }
    }

    /// Lets go of the channel, the lock and any connection.
    pub(super) fn step_out(&self) {
        // Dropped outside the borrows: closing may call back.
        let link = self.link.borrow_mut().take();
        let connection = self
            .connection
            .try_borrow_mut()
            .ok()
            .and_then(|mut slot| slot.take());
        drop((link, connection));
    }

    pub(super) fn leave(&self) {
        self.leader.borrow_mut().take();
        let page_life = self.page_life.borrow_mut().take();
        drop(page_life);
        // Finished first: whatever closing calls back finds the tab gone.
        self.finish();
        self.step_out();
    }
}

fn feed(tab: &Weak<Tab>, input: Input) {
    if let Some(tab) = tab.upgrade() {
        tab.feed(input);
    }
}

fn restore<T>(slot: &RefCell<Option<T>>, value: T) {
    let mut slot = slot.borrow_mut();
    if slot.is_none() {
        *slot = Some(value);
    }
}

pub(super) fn closed() -> Error {
    Error::NotOpen {
        state: ReadyState::Closed,
    }
}

fn abnormal_close() -> CloseEvent {
    CloseEvent {
        code: CloseCode::Abnormal,
        reason: String::new(),
        was_clean: false,
    }
}

/// A name for this tab that no other tab of the origin picks.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(super) fn random_tab_id() -> String {
    format!(
        "{:x}{:x}",
        (global::random() * 2f64.powi(52)) as u64,
        global::now_ms() as u64
    )
}
