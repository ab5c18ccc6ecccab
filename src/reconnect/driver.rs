//! What drives a [`ReconnectingWebSocket`](super::ReconnectingWebSocket): the
//! pure [`Reconnector`] decides, and [`Inner`] carries its commands out (timers,
//! connections, the `online` listener) and feeds it what happens. There is no
//! task: every input arrives from a browser callback or an app call, and the
//! connection's events come straight from its socket, so received messages go
//! into the one delivery queue with no extra hop.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Waker;

use crate::js::global::{now_ms, random};
use crate::js::listeners::OnlineListener;
use crate::js::socket::{received_len, Outgoing};
use crate::js::timers::Timer;
use crate::reconnect::builder::{Heartbeat, Target};
use crate::rules::close::{CloseCode, CloseEvent};
use crate::rules::error::{Error, Result};
use crate::rules::flow::FlowControl;
use crate::rules::inbox::{Admitted, Inbox, RECEIVE_LIMIT_CLOSE_CODE, RECEIVE_LIMIT_CLOSE_REASON};
use crate::rules::lifecycle::Event;
use crate::rules::message::{BinaryType, Message, ReadyState};
use crate::rules::outbox::Outbox;
use crate::rules::policy::ReconnectPolicy;
use crate::rules::reconnect::{Beat, Command, Input, ReconnectEvent, Reconnector};
use crate::socket::shared::Shared;
use crate::socket::websocket::WebSocket;

pub(crate) type EventFn = Box<dyn FnMut(&ReconnectEvent)>;
pub(crate) type MessageFn = Box<dyn FnMut(Message)>;
pub(crate) type TargetFn = Box<dyn FnMut() -> Target>;

/// What the builder hands over.
pub(crate) struct Config {
    pub(crate) binary_type: BinaryType,
    pub(crate) flow: FlowControl,
    pub(crate) heartbeat: Option<Heartbeat>,
    pub(crate) reconnect_when_online: bool,
    pub(crate) target: TargetFn,
    pub(crate) on_event: Option<EventFn>,
    pub(crate) on_message: Option<MessageFn>,
    pub(crate) inbox: Inbox,
    pub(crate) outbox: Outbox,
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
    binary_type: BinaryType,
    flow: FlowControl,
    heartbeat: Option<Heartbeat>,
    reconnect_when_online: bool,
    target: RefCell<TargetFn>,
    on_event: RefCell<Option<EventFn>>,
    on_message: RefCell<Option<MessageFn>>,
    machine: RefCell<Reconnector>,
    /// Inputs that arrived while another was being carried out (an app
    /// callback closing the socket, a failed construction).
    pending: RefCell<VecDeque<Input>>,
    running: Cell<bool>,
    resources: RefCell<Resources>,
    delivery: RefCell<Delivery>,
}

/// What the commands hold: the connection (or attempt) and the timers.
#[derive(Default)]
struct Resources {
    connection: Option<Rc<Shared>>,
    wait: Option<Timer>,
    online: Option<OnlineListener>,
    connect_timeout: Option<Timer>,
    next_ping: Option<Timer>,
    pong_deadline: Option<Timer>,
}

/// The app's side: what it will read, what waits to be sent, who waits.
struct Delivery {
    inbox: Inbox,
    outbox: Outbox,
    reader: Option<Waker>,
    sink: Option<Waker>,
    last_close: Option<CloseEvent>,
    /// The receiving half was dropped: nobody will read.
    discard: bool,
}

impl Inner {
    /// Starts the machine: the first attempt is made at once.
    pub(crate) fn start(policy: ReconnectPolicy, config: Config) -> Rc<Self> {
        let beat = config.heartbeat.as_ref().map(|heartbeat| Beat {
            interval: heartbeat.interval,
            timeout: heartbeat.timeout,
        });
        let (machine, commands) = Reconnector::start(policy, beat);
        let inner = Rc::new(Self {
            binary_type: config.binary_type,
            flow: config.flow,
            heartbeat: config.heartbeat,
            reconnect_when_online: config.reconnect_when_online,
            target: RefCell::new(config.target),
            on_event: RefCell::new(config.on_event),
            on_message: RefCell::new(config.on_message),
            machine: RefCell::new(machine),
            pending: RefCell::new(VecDeque::new()),
            running: Cell::new(false),
            resources: RefCell::new(Resources::default()),
            delivery: RefCell::new(Delivery {
                inbox: config.inbox,
                outbox: config.outbox,
                reader: None,
                sink: None,
                last_close: None,
                discard: false,
            }),
        });
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
    fn run(self: &Rc<Self>, commands: Vec<Command>) {
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

    fn execute(self: &Rc<Self>, command: Command) {
        match command {
            Command::Report(event) => self.report(&event),
            Command::Wait(delay) => {
                let wait = self.timer(delay, Input::WaitOver);
                let online = self.reconnect_when_online.then(|| {
                    let weak = Rc::downgrade(self);
                    OnlineListener::attach(move || {
                        if let Some(inner) = weak.upgrade() {
                            inner.input(Input::WaitOver);
                        }
                    })
                });
                let mut resources = self.resources.borrow_mut();
                resources.wait = Some(wait);
                resources.online = online;
            }
            Command::Connect { timeout } => self.connect(timeout),
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
            Command::AwaitPong(timeout) => {
                let timer = self.timer(timeout, Input::PongOverdue);
                self.resources.borrow_mut().pong_deadline = Some(timer);
            }
            Command::PongArrived => {
                let deadline = self.resources.borrow_mut().pong_deadline.take();
                drop(deadline);
            }
            Command::DropConnection => {
                let resources = {
                    let mut resources = self.resources.borrow_mut();
                    Resources {
                        connection: resources.connection.take(),
                        connect_timeout: resources.connect_timeout.take(),
                        next_ping: resources.next_ping.take(),
                        pong_deadline: resources.pong_deadline.take(),
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
            Command::Finish => {
                let resources = std::mem::take(&mut *self.resources.borrow_mut());
                drop(resources);
                let (reader, sink) = {
                    let mut delivery = self.delivery.borrow_mut();
                    (delivery.reader.take(), delivery.sink.take())
                };
                reader.into_iter().chain(sink).for_each(Waker::wake);
                // Nothing more will be reported: release the app's callbacks,
                // and any handle they captured, so such a cycle ends here.
                let on_event = self
                    .on_event
                    .try_borrow_mut()
                    .ok()
                    .and_then(|mut slot| slot.take());
                let on_message = self
                    .on_message
                    .try_borrow_mut()
                    .ok()
                    .and_then(|mut slot| slot.take());
                drop((on_event, on_message));
            }
        }
    }

    fn report(&self, event: &ReconnectEvent) {
        if let ReconnectEvent::Closed(close) = event {
            self.delivery.borrow_mut().last_close = Some(close.clone());
        }
        // A re-entrant report (the callback causing another event) is skipped,
        // not panicked on; the app sees the state through the getters.
        if let Ok(mut slot) = self.on_event.try_borrow_mut() {
            if let Some(on_event) = slot.as_mut() {
                on_event(event);
            }
        }
    }

    /// A timer that feeds `input` to the machine.
    fn timer(self: &Rc<Self>, delay: std::time::Duration, input: Input) -> Timer {
        let weak = Rc::downgrade(self);
        Timer::once(delay, move || {
            if let Some(inner) = weak.upgrade() {
                inner.input(input);
            }
        })
    }

    fn connect(self: &Rc<Self>, timeout: std::time::Duration) {
        let (wait, online) = {
            let mut resources = self.resources.borrow_mut();
            (resources.wait.take(), resources.online.take())
        };
        drop((wait, online));
        let target = (self.target.borrow_mut())();
        let weak = Rc::downgrade(self);
        let opened = WebSocket::builder(&target.url)
            .protocols(target.protocols)
            .binary_type(self.binary_type)
            .flow_control(self.flow)
            .open_forwarding(Box::new(move |connection, event| {
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
            // No browser at all: no attempt will ever work; the stream says why.
            Err(error @ Error::UnsupportedTarget { .. }) => {
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

    /// Sends what was queued while down, in order, until the socket refuses;
    /// then lets a waiting `Sink` go on.
    fn flush(&self) {
        let connect_timeout = self.resources.borrow_mut().connect_timeout.take();
        drop(connect_timeout);
        if let Some(connection) = self.connection() {
            loop {
                let Some((message, bytes)) = self.delivery.borrow_mut().outbox.pop() else {
                    break;
                };
                if connection.send(Outgoing::from(&message)).is_err() {
                    self.delivery.borrow_mut().outbox.push_front(message, bytes);
                    break;
                }
            }
        }
        let sink = self.delivery.borrow_mut().sink.take();
        if let Some(sink) = sink {
            sink.wake();
        }
    }

    /// An event of a connection: only the current one's count.
    fn on_connection_event(self: &Rc<Self>, connection: &Rc<Shared>, event: Event) {
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
                let is_pong = self
                    .heartbeat
                    .as_ref()
                    .is_some_and(|heartbeat| (heartbeat.is_pong)(&message));
                if is_pong {
                    self.input(Input::PongReceived);
                } else {
                    self.deliver(message);
                }
            }
            // The end of the connection follows as `Close`.
            Event::Error(error) if error.close_event().is_some() => {}
            Event::Error(error) => self.deliver_error(error),
            Event::Close(event) => self.input(Input::Closed(event)),
        }
    }

    fn deliver(self: &Rc<Self>, message: Message) {
        let message = match self.on_message.try_borrow_mut() {
            Ok(mut slot) => match slot.as_mut() {
                Some(on_message) => return on_message(message),
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

    fn deliver_error(&self, error: Error) {
        let reader = {
            let mut delivery = self.delivery.borrow_mut();
            delivery.inbox.push_error(error);
            delivery.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    fn connection(&self) -> Option<Rc<Shared>> {
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

    /// Sends now if connected and nothing older waits, else queues.
    pub(crate) fn send(&self, message: Message, queueing: Queueing) -> Result<()> {
        if self.machine.borrow().is_closed() {
            return Err(Error::NotOpen {
                state: ReadyState::Closed,
            });
        }
        let live = self.delivery.borrow().outbox.is_empty() && self.machine.borrow().is_open();
        if let Some(connection) = self.connection().filter(|_| live) {
            match connection.send(Outgoing::from(&message)) {
                // Closing: queued for the next connection.
                Err(Error::NotOpen { .. }) => {}
                sent => return sent,
            }
        }
        let bytes = Outgoing::from(&message).byte_len();
        let mut delivery = self.delivery.borrow_mut();
        match queueing {
            Queueing::IfItFits => delivery.outbox.push(message, bytes),
            Queueing::WhenRoom => delivery.outbox.push_when_room(message, bytes),
        }
    }

    /// Ready when the `Sink` may take a message: while connected with nothing
    /// queued, by the live connection's flow control; otherwise when the queue
    /// has room.
    pub(crate) fn poll_send_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        use std::task::Poll;
        if self.machine.borrow().is_closed() {
            return Poll::Ready(Err(Error::NotOpen {
                state: ReadyState::Closed,
            }));
        }
        let connected = self.machine.borrow().is_open() && self.delivery.borrow().outbox.is_empty();
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

    /// The stream's next item; `None` once closed for good and all is read.
    pub(crate) fn poll_next(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Message>>> {
        use std::task::Poll;
        let mut delivery = self.delivery.borrow_mut();
        if let Some(item) = delivery.inbox.pop() {
            return Poll::Ready(Some(item));
        }
        if self.machine.borrow().is_finished() {
            return Poll::Ready(None);
        }
        delivery.reader = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Ready once closed for good.
    pub(crate) fn poll_finished(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.machine.borrow().is_finished() {
            return std::task::Poll::Ready(());
        }
        self.delivery.borrow_mut().sink = Some(cx.waker().clone());
        std::task::Poll::Pending
    }

    /// The receiving half is gone: drop what is queued and queue nothing more.
    pub(crate) fn stop_receiving(&self) {
        let mut delivery = self.delivery.borrow_mut();
        delivery.discard = true;
        let unread = std::mem::replace(&mut delivery.inbox, Inbox::new(None));
        drop(delivery);
        drop(unread);
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.machine.borrow().is_open()
    }

    pub(crate) fn queued(&self) -> usize {
        self.delivery.borrow().outbox.len()
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
