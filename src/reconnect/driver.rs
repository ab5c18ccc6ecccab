//! What drives a [`ReconnectingWebSocket`](super::ReconnectingWebSocket): the
//! pure [`Reconnector`] decides, and [`Inner`] carries its commands out (timers,
//! connections, the page's life listeners) and feeds it what happens. There is no
//! task: every input arrives from a browser callback or an app call, and the
//! connection's events come straight from its socket, so received messages go
//! into the one delivery queue with no extra hop.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Waker;

use crate::backend::Timer;
use crate::js::global::{now_ms, random};
use crate::js::listeners::{PageLifeListener, PageSignal};
use crate::js::socket::Outgoing;
use crate::reconnect::builder::{Heartbeat, Target};
use crate::reconnect::handle::ReconnectingHandle;
use crate::rules::close::{CloseCode, CloseEvent};
use crate::rules::flow::FlowControl;
use crate::rules::inbox::Inbox;
use crate::rules::lifecycle::Event;
use crate::rules::message::{BinaryType, Message};
use crate::rules::outbox::{Outbox, SendPolicy};
use crate::rules::policy::ReconnectPolicy;
use crate::rules::reconnect::{
    timer_was_late, Beat, Command, Input, Liveness, ReconnectEvent, Reconnector,
};
use crate::socket::shared::Shared;
use crate::socket::websocket::WebSocket;

pub(crate) type EventFn = Box<dyn FnMut(&ReconnectEvent)>;
pub(crate) type MessageFn = Box<dyn FnMut(u64, Message)>;
pub(crate) type OpenFn = Box<dyn FnMut(&ReconnectingHandle, u64)>;
pub(crate) type TargetFn = Box<dyn FnMut() -> Target>;

/// What the builder hands over.
pub(crate) struct Config {
    pub(crate) binary_type: BinaryType,
    pub(crate) flow: FlowControl,
    pub(crate) heartbeat: Option<Heartbeat>,
    pub(crate) idle_timeout: Option<std::time::Duration>,
    pub(crate) follow_page_life: bool,
    pub(crate) send_policy: SendPolicy,
    pub(crate) target: TargetFn,
    pub(crate) on_event: Option<EventFn>,
    pub(crate) on_message: Option<MessageFn>,
    pub(crate) on_open: Option<OpenFn>,
    pub(crate) inbox: Inbox,
    pub(crate) outbox: Outbox,
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    pub(crate) native: crate::native::options::NativeOptions,
}

/// How a message that cannot go out now is queued.
#[derive(Clone, Copy)]
pub(crate) enum Queueing {
    /// `send_*`: only if it fits whole, else [`Error::QueueFull`].
    IfItFits,
    /// The `Sink`, which waited for room: taken whole.
    WhenRoom,
}

pub(crate) struct Inner {
    pub(super) binary_type: BinaryType,
    pub(super) flow: FlowControl,
    pub(super) heartbeat: Option<Heartbeat>,
    /// Whether frames are reported to the machine (something watches them).
    pub(super) watches_frames: bool,
    pub(crate) send_policy: SendPolicy,
    pub(super) target: RefCell<TargetFn>,
    pub(super) on_event: RefCell<Option<EventFn>>,
    pub(super) on_message: RefCell<Option<MessageFn>>,
    pub(super) on_open: RefCell<Option<OpenFn>>,
    /// The open hook is running: its sends go out before the queue.
    pub(super) opening: Cell<bool>,
    pub(super) machine: RefCell<Reconnector>,
    /// Inputs that arrived while another was being carried out (an app
    /// callback closing the socket, a failed construction).
    pub(super) pending: RefCell<VecDeque<Input>>,
    pub(super) running: Cell<bool>,
    pub(super) resources: RefCell<Resources>,
    pub(super) delivery: RefCell<Delivery>,
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    native: crate::native::options::NativeOptions,
}

/// What the commands hold: the connection (or attempt) and the timers.
#[derive(Default)]
pub(super) struct Resources {
    pub(super) connection: Option<Rc<Shared>>,
    pub(super) wait: Option<Timer>,
    pub(super) page_life: Option<PageLifeListener>,
    pub(super) connect_timeout: Option<Timer>,
    pub(super) next_ping: Option<Timer>,
    pub(super) proof_deadline: Option<Timer>,
    pub(super) idle_check: Option<Timer>,
}

/// The app's side: what it will read, what waits to be sent, who waits.
pub(super) struct Delivery {
    pub(super) inbox: Inbox,
    /// The session of each message in the inbox, as runs of (session, count).
    pub(super) inbox_sessions: VecDeque<(u64, usize)>,
    pub(super) outbox: Outbox,
    pub(super) reader: Option<Waker>,
    pub(super) sink: Option<Waker>,
    pub(super) last_close: Option<CloseEvent>,
    /// The receiving half was dropped: nobody will read.
    pub(super) discard: bool,
    /// Messages dropped by their [`SendPolicy`].
    pub(super) discarded: usize,
    /// Proofs of life so far (opens and answered checks), and the session of
    /// the last; [`Inner::poll_alive`] waits for the next.
    pub(super) proofs: u64,
    pub(super) proven_session: u64,
    pub(super) alive_waiters: Vec<Waker>,
    /// Events reported so far, and the tasks waiting for the next
    /// ([`SendHandle`](crate::SendHandle)'s pumps, which mirror the state).
    pub(super) events: u64,
    pub(super) event_waiters: Vec<Waker>,
}

impl Inner {
    /// Starts the machine: the first attempt is made at once.
    pub(crate) fn start(policy: ReconnectPolicy, config: Config) -> Rc<Self> {
        let liveness = Liveness {
            beat: config.heartbeat.as_ref().map(|heartbeat| Beat {
                interval: heartbeat.interval,
                timeout: heartbeat.timeout,
            }),
            idle_timeout: config.idle_timeout,
        };
        let (machine, commands) = Reconnector::start(policy, liveness);
        let inner = Rc::new(Self {
            binary_type: config.binary_type,
            #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
            native: config.native,
            flow: config.flow,
            heartbeat: config.heartbeat,
            watches_frames: liveness.watches_frames(),
            send_policy: config.send_policy,
            target: RefCell::new(config.target),
            on_event: RefCell::new(config.on_event),
            on_message: RefCell::new(config.on_message),
            on_open: RefCell::new(config.on_open),
            opening: Cell::new(false),
            machine: RefCell::new(machine),
            pending: RefCell::new(VecDeque::new()),
            running: Cell::new(false),
            resources: RefCell::new(Resources::default()),
            delivery: RefCell::new(Delivery {
                inbox: config.inbox,
                inbox_sessions: VecDeque::new(),
                outbox: config.outbox,
                reader: None,
                sink: None,
                last_close: None,
                discard: false,
                discarded: 0,
                proofs: 0,
                proven_session: 0,
                alive_waiters: Vec::new(),
                events: 0,
                event_waiters: Vec::new(),
            }),
        });
        if config.follow_page_life {
            let weak = Rc::downgrade(&inner);
            let listener = PageLifeListener::attach(move |signal| {
                if let Some(inner) = weak.upgrade() {
                    inner.input(match signal {
                        PageSignal::Online => Input::Online,
                        PageSignal::Offline => Input::Offline,
                        PageSignal::Hidden => Input::PageHidden,
                        PageSignal::Shown => Input::PageShown,
                        PageSignal::Visible => Input::Visible,
                    });
                }
            });
            inner.resources.borrow_mut().page_life = listener;
        }
        inner.run(commands);
        inner
    }

    /// Tells the machine what happened and carries out what it decides.
    pub(crate) fn input(self: &Rc<Self>, input: Input) {
        self.pending.borrow_mut().push_back(input);
        self.run(Vec::new());
    }

    /// Carries out `commands`, then every pending input in order. Re-entrant
    /// calls (from a callback run by a command) only queue their input.
    pub(super) fn run(self: &Rc<Self>, commands: Vec<Command>) {
        if self.running.replace(true) {
            return;
        }
        commands
            .into_iter()
            .for_each(|command| self.execute(command));
        loop {
            let Some(input) = self.pending.borrow_mut().pop_front() else {
                break;
            };
            let commands = self.machine.borrow_mut().step(input, now_ms(), random());
            commands
                .into_iter()
                .for_each(|command| self.execute(command));
        }
        self.running.set(false);
    }

    /// A frame arrived: proof of life, told to the machine without the
    /// random number (per message, every call across to JS counts).
    pub(super) fn heard(self: &Rc<Self>) {
        if self.running.get() {
            self.pending.borrow_mut().push_back(Input::Heard);
            return;
        }
        let commands = self.machine.borrow_mut().step(Input::Heard, now_ms(), 0.0);
        if !commands.is_empty() {
            self.run(commands);
        }
    }

    pub(super) fn execute(self: &Rc<Self>, command: Command) {
        match command {
            Command::Report(event) => self.report(&event),
            Command::Wait(delay) => {
                let wait = self.timer(delay, Input::WaitOver);
                self.resources.borrow_mut().wait = Some(wait);
            }
            Command::Connect { timeout } => self.connect(timeout),
            Command::RunOpenHook(session) => self.run_open_hook(session),
            Command::Flush => self.flush(),
            Command::SchedulePing(interval) => {
                let timer = self.timer(interval, Input::PingDue);
                self.resources.borrow_mut().next_ping = Some(timer);
            }
            Command::SendPing => {
                if let (Some(connection), Some(heartbeat)) = (self.connection(), &self.heartbeat) {
                    // A ping that cannot be sent goes unanswered: the deadline decides.
                    let _ = connection.send(Outgoing::from(&heartbeat.ping));
                }
            }
            Command::AwaitProof(timeout) => {
                let timer = self.timer(timeout, Input::ProbeOverdue);
                self.resources.borrow_mut().proof_deadline = Some(timer);
            }
            Command::ProofArrived => {
                let deadline = self.resources.borrow_mut().proof_deadline.take();
                drop(deadline);
            }
            Command::ScheduleIdleCheck(delay) => {
                let timer = self.timer(delay, Input::IdleCheckDue);
                self.resources.borrow_mut().idle_check = Some(timer);
            }
            Command::CloseForSuspend => {
                if let Some(connection) = self.connection() {
                    // Only fails if already closing, which is as good.
                    let _ = connection.close(CloseCode::Normal, "page suspended");
                }
            }
            Command::EndSession(session) => self.end_session(session),
            Command::DropConnection => self.drop_connection(),
            Command::Finish => self.finish(),
        }
    }

    pub(super) fn drop_connection(&self) {
        let resources = {
            let mut resources = self.resources.borrow_mut();
            Resources {
                connection: resources.connection.take(),
                connect_timeout: resources.connect_timeout.take(),
                next_ping: resources.next_ping.take(),
                proof_deadline: resources.proof_deadline.take(),
                idle_check: resources.idle_check.take(),
                ..Resources::default()
            }
        };
        // Dropping the connection closes it (1000) and detaches its
        // listeners; a failed or dead one is already closed. A `Sink`
        // that waited on its flow control now waits on the queue.
        drop(resources);
        let sink = self.delivery.borrow_mut().sink.take();
        if let Some(sink) = sink {
            sink.wake();
        }
    }

    pub(super) fn finish(&self) {
        let resources = std::mem::take(&mut *self.resources.borrow_mut());
        drop(resources);
        let (reader, sink, waiters) = {
            let mut delivery = self.delivery.borrow_mut();
            (
                delivery.reader.take(),
                delivery.sink.take(),
                std::mem::take(&mut delivery.alive_waiters),
            )
        };
        reader
            .into_iter()
            .chain(sink)
            .chain(waiters)
            .for_each(Waker::wake);
        // Nothing more will be reported: release the app's callbacks, and any
        // handle they captured, so such a cycle ends here.
        let callbacks = (
            take_callback(&self.on_event),
            take_callback(&self.on_message),
            take_callback(&self.on_open),
        );
        drop(callbacks);
    }

    pub(super) fn report(&self, event: &ReconnectEvent) {
        match event {
            ReconnectEvent::Closed { close, .. } => {
                self.delivery.borrow_mut().last_close = Some(close.clone());
            }
            ReconnectEvent::Open { session, .. } | ReconnectEvent::Alive { session } => {
                self.proved_alive(*session);
            }
            _ => {}
        }
        let waiters = {
            let mut delivery = self.delivery.borrow_mut();
            delivery.events += 1;
            std::mem::take(&mut delivery.event_waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
        // A re-entrant report (the callback causing another event) is skipped,
        // not panicked on; the app sees the state through the getters.
        if let Ok(mut slot) = self.on_event.try_borrow_mut() {
            if let Some(on_event) = slot.as_mut() {
                on_event(event);
            }
        }
    }

    /// Ready once an event was reported since `seen`.
    pub(crate) fn poll_event(
        &self,
        cx: &mut std::task::Context<'_>,
        seen: &mut u64,
    ) -> std::task::Poll<()> {
        crate::backend::drive(cx);
        let mut delivery = self.delivery.borrow_mut();
        if delivery.events != *seen {
            *seen = delivery.events;
            return std::task::Poll::Ready(());
        }
        delivery.event_waiters.push(cx.waker().clone());
        std::task::Poll::Pending
    }

    pub(super) fn proved_alive(&self, session: u64) {
        let waiters = {
            let mut delivery = self.delivery.borrow_mut();
            delivery.proofs += 1;
            delivery.proven_session = session;
            std::mem::take(&mut delivery.alive_waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }

    /// A timer that feeds `input` to the machine, marked [`Input::Late`] if
    /// it fired far later than asked.
    pub(super) fn timer(self: &Rc<Self>, delay: std::time::Duration, input: Input) -> Timer {
        let weak = Rc::downgrade(self);
        let started_ms = now_ms();
        Timer::once(delay, move || {
            if let Some(inner) = weak.upgrade() {
                let input = if timer_was_late(delay, now_ms() - started_ms) {
                    Input::Late(Box::new(input))
                } else {
                    input
                };
                inner.input(input);
            }
        })
    }

    pub(super) fn connect(self: &Rc<Self>, timeout: std::time::Duration) {
        let wait = self.resources.borrow_mut().wait.take();
        drop(wait);
        let target = (self.target.borrow_mut())();
        let weak = Rc::downgrade(self);
        let builder = WebSocket::builder(&target.url)
            .protocols(target.protocols)
            .binary_type(self.binary_type)
            .flow_control(self.flow);
        #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
        let builder = builder.native_options(self.native.clone());
        let opened = builder.open_forwarding(Box::new(move |connection, event| {
            if let Some(inner) = weak.upgrade() {
                inner.on_connection_event(connection, event);
            }
        }));
        match opened {
            Ok(connection) => {
                let timer = self.timer(timeout, Input::ConnectTimedOut);
                let mut resources = self.resources.borrow_mut();
                resources.connection = Some(connection);
                resources.connect_timeout = Some(timer);
            }
            // No browser at all, or (natively) a header, certificate or
            // binary type refused: no attempt will ever work; the stream
            // says why.
            Err(error) if error.is_permanent_for_connecting() => {
                self.deliver_error(error);
                self.pending.borrow_mut().push_front(Input::AppClosed);
            }
            // A URL or protocol the browser refuses: a failed attempt, with why.
            Err(error) => {
                let failed = CloseEvent::abnormal_because(&error.to_string());
                self.pending.borrow_mut().push_back(Input::Closed(failed));
            }
        }
    }

    /// Runs the app's open hook: what it sends goes out before the queue.
    pub(super) fn run_open_hook(self: &Rc<Self>, session: u64) {
        let connect_timeout = self.resources.borrow_mut().connect_timeout.take();
        drop(connect_timeout);
        // Re-entered (the hook's own sends cannot open a connection): skipped.
        let Ok(mut slot) = self.on_open.try_borrow_mut() else {
            return;
        };
        if let Some(on_open) = slot.as_mut() {
            let handle = ReconnectingHandle {
                inner: Rc::clone(self),
            };
            self.opening.set(true);
            on_open(&handle, session);
            self.opening.set(false);
        }
    }

    /// Sends what was queued while down, in order, until the socket refuses;
    /// then lets a waiting `Sink` go on.
    pub(super) fn flush(&self) {
        if let Some(connection) = self.connection() {
            loop {
                let Some(queued) = self.delivery.borrow_mut().outbox.pop() else {
                    break;
                };
                if connection.send(Outgoing::from(&queued.message)).is_err() {
                    self.delivery.borrow_mut().outbox.push_front(queued);
                    break;
                }
            }
        }
        let sink = self.delivery.borrow_mut().sink.take();
        if let Some(sink) = sink {
            sink.wake();
        }
    }

    /// `session` ended: what was queued for it alone is dropped, and said so.
    pub(super) fn end_session(&self, session: u64) {
        let messages = {
            let mut delivery = self.delivery.borrow_mut();
            let messages = delivery.outbox.drop_session(session);
            delivery.discarded += messages;
            messages
        };
        if messages > 0 {
            self.report(&ReconnectEvent::Discarded { session, messages });
        }
    }

    /// An event of a connection: only the current one's count.
    pub(super) fn on_connection_event(self: &Rc<Self>, connection: &Rc<Shared>, event: Event) {
        let current = self
            .resources
            .borrow()
            .connection
            .as_ref()
            .is_some_and(|current| Rc::ptr_eq(current, connection));
        if !current {
            return;
        }
        match event {
            Event::Open => self.input(Input::Opened),
            Event::Message(message) => {
                if self.watches_frames {
                    self.heard();
                }
                let is_pong = self
                    .heartbeat
                    .as_ref()
                    .is_some_and(|heartbeat| (heartbeat.is_pong)(&message));
                if !is_pong {
                    self.deliver(message);
                }
            }
            // The end of the connection follows as `Close`.
            Event::Error(error) if error.close_event().is_some() => {}
            Event::Error(error) => self.deliver_error(error),
            Event::Close(event) => self.input(Input::Closed(event)),
        }
    }
}

/// Takes an app callback out of its slot, unless it is running (then it is
/// left for the slot's owner to drop).
pub(super) fn take_callback<T>(slot: &RefCell<Option<T>>) -> Option<T> {
    slot.try_borrow_mut().ok().and_then(|mut slot| slot.take())
}
