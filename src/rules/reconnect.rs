//! The reconnecting socket's driver as a pure state machine: it is told what
//! happened ([`Input`]: a connection opened or closed, a frame arrived, a timer
//! fired, the page was hidden, frozen or went offline, the app closed) with the
//! time and a random number, and answers with what to do ([`Command`]s: report
//! an event, wait, connect, probe the connection, drop it). The JS layer carries
//! the commands out; the clock and the random source are injected, so every
//! branch is tested here without a browser.

use std::time::Duration;

use crate::rules::close::CloseEvent;
use crate::rules::policy::ReconnectPolicy;

/// Why the connection's liveness is being checked.
///
/// # Example
///
/// ```
/// use browser_websocket::CheckReason;
/// let urgent = |reason: CheckReason| reason != CheckReason::Idle;
/// assert!(urgent(CheckReason::Visible));
/// ```
///
/// New reasons may be added: a `match` needs a `_` arm.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckReason {
    /// The page became visible again: its timers may have been throttled for
    /// minutes.
    Visible,
    /// A timer fired far later than asked: the machine probably slept.
    Slept,
    /// The browser reported being back online.
    Online,
    /// Nothing arrived for the idle timeout.
    Idle,
    /// The app asked ([`ReconnectingHandle::ensure_alive`](crate::ReconnectingHandle::ensure_alive)).
    App,
}

impl CheckReason {
    /// Whether the page itself is back (visible, awake, online): a connection
    /// found dead then is replaced at once, with the backoff reset.
    fn page_is_back(self) -> bool {
        matches!(self, Self::Visible | Self::Slept | Self::Online)
    }
}

/// What a [`ReconnectingWebSocket`](crate::ReconnectingWebSocket) is doing, for
/// the app to observe. Each connection that opens is a new *session*, numbered
/// from 1; events about a connection carry its session.
///
/// # Example
///
/// ```
/// use browser_websocket::ReconnectEvent;
/// let describe = |event: &ReconnectEvent| match event {
///     ReconnectEvent::Connecting { attempt, delay } => format!("attempt {attempt} in {delay:?}"),
///     ReconnectEvent::Open { session, .. } => format!("session {session} open"),
///     ReconnectEvent::Closed { close, .. } => format!("closed: {close}"),
///     ReconnectEvent::GaveUp { attempts } => format!("gave up after {attempts} attempts"),
///     other => format!("{other:?}"),
/// };
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ReconnectEvent {
    /// Attempt `attempt` (1 after a good connection) starts after `delay`.
    Connecting {
        /// The attempt's number in the current run of failures, from 1.
        attempt: u32,
        /// How long it waits first.
        delay: Duration,
    },
    /// Connected: the open hook runs, then queued messages are sent.
    Open {
        /// Which attempt succeeded.
        attempt: u32,
        /// The new session's number: 1 for the first connection, then 2, ...
        session: u64,
    },
    /// A connection ended or an attempt failed, with how.
    Closed {
        /// The session that ended; `None` for an attempt that never opened.
        session: Option<u64>,
        /// How it closed.
        close: CloseEvent,
    },
    /// The policy's attempts are used up; the socket is closed for good.
    GaveUp {
        /// How many attempts failed in a row.
        attempts: u32,
    },
    /// The page is entering the back/forward cache: the connection (if any)
    /// was closed cleanly (1000, "page suspended") so that the page may be
    /// cached. Not a failure, and no retry is spent.
    Suspended {
        /// The session that was closed, if one was open.
        session: Option<u64>,
    },
    /// The page came back from the back/forward cache: reconnecting at once,
    /// with the backoff reset.
    Resumed,
    /// The browser reports being offline: failed attempts stop counting
    /// against the policy, and retries slow to its longest delay.
    Offline,
    /// The browser reports being online again: a waiting retry starts at once.
    Online,
    /// The connection's liveness is being checked (with the heartbeat's ping,
    /// or against the idle timeout).
    Checking {
        /// The session checked.
        session: u64,
        /// Why.
        reason: CheckReason,
    },
    /// A check found the connection alive: a frame arrived.
    Alive {
        /// The session found alive.
        session: u64,
    },
    /// Messages bound to a session (sent with [`SendPolicy::DropOnDisconnect`](crate::SendPolicy::DropOnDisconnect)
    /// or [`FailOnDisconnect`](crate::SendPolicy::FailOnDisconnect)) were still queued when it ended,
    /// and were dropped rather than sent into the next one.
    Discarded {
        /// The session they were meant for.
        session: u64,
        /// How many.
        messages: usize,
    },
}

/// What happened, as told to the machine.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Input {
    /// The wait before an attempt is over.
    WaitOver,
    /// The attempt's socket opened.
    Opened,
    /// The attempt failed or the open connection ended.
    Closed(CloseEvent),
    /// The attempt took longer than the connect timeout.
    ConnectTimedOut,
    /// Time to send the next heartbeat ping.
    PingDue,
    /// A frame arrived on the open connection: proof of life.
    Heard,
    /// The probe's deadline passed with nothing heard.
    ProbeOverdue,
    /// Time to see whether the connection has been idle too long.
    IdleCheckDue,
    /// A timer fired far later than asked (the machine slept); its own input follows inside.
    Late(Box<Input>),
    /// The page became visible.
    Visible,
    /// `pagehide` with `persisted`: the page may enter the back/forward cache.
    PageHidden,
    /// `pageshow` with `persisted`: the page is back from the cache.
    PageShown,
    /// The browser went offline.
    Offline,
    /// The browser came back online.
    Online,
    /// The app asked to check the connection.
    CheckRequested,
    /// The app closed the socket for good.
    AppClosed,
}

/// What to do, in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Command {
    /// Tell the app.
    Report(ReconnectEvent),
    /// Wait, then send [`Input::WaitOver`].
    Wait(Duration),
    /// Open a connection; send [`Input::ConnectTimedOut`] after the timeout.
    Connect { timeout: Duration },
    /// The connection is open as this session: run the app's open hook
    /// (its sends go out first), then send the queued messages.
    RunOpenHook(u64),
    /// Send the queued messages.
    Flush,
    /// Send [`Input::PingDue`] after this long.
    SchedulePing(Duration),
    /// Send the heartbeat's ping.
    SendPing,
    /// Send [`Input::ProbeOverdue`] after this long, unless cancelled.
    AwaitProof(Duration),
    /// Proof came: cancel [`Command::AwaitProof`].
    ProofArrived,
    /// Send [`Input::IdleCheckDue`] after this long.
    ScheduleIdleCheck(Duration),
    /// Close the open connection cleanly (1000, "page suspended") before
    /// dropping it: browsers let an app send only 1000 or 3000-4999.
    CloseForSuspend,
    /// This session ended: drop what was queued for it alone.
    EndSession(u64),
    /// Close and release the connection or attempt, and its timers.
    DropConnection,
    /// Closed for good: end the stream, release everything.
    Finish,
}

/// Whether a timer asked to fire after `asked` and firing after `elapsed_ms`
/// was held up far longer than throttling in a busy page explains: by more
/// than its own delay plus two seconds. Hidden tabs throttle timers by up to a
/// minute, and a sleeping machine stops them; either way the connection is
/// worth checking at once.
pub(crate) fn timer_was_late(asked: Duration, elapsed_ms: f64) -> bool {
    let asked_ms = asked.as_secs_f64() * 1000.0;
    elapsed_ms > 2.0 * asked_ms + 2000.0
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Waiting,
    Connecting,
    Open(Connection),
    /// In the back/forward cache; nothing happens until it is shown again.
    Suspended,
    Finished,
}

/// The open connection.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Connection {
    session: u64,
    opened_at_ms: f64,
    /// When the last frame arrived (or it opened).
    heard_at_ms: f64,
    /// The ping in flight, if one is, awaiting proof of life.
    probe: Option<Probe>,
}

/// Why a ping is in flight.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Probe {
    /// The heartbeat's routine ping: not reported.
    Routine,
    /// A check, reported as [`ReconnectEvent::Checking`] and answered by
    /// [`ReconnectEvent::Alive`].
    Check(CheckReason),
}

/// The heartbeat's timing: ping every `interval`, pong within `timeout`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Beat {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

/// How liveness is watched: the heartbeat, and the idle timeout.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Liveness {
    pub(crate) beat: Option<Beat>,
    pub(crate) idle_timeout: Option<Duration>,
}

impl Liveness {
    /// Whether frames must be reported as [`Input::Heard`]: only when
    /// something watches them.
    pub(crate) fn watches_frames(&self) -> bool {
        self.beat.is_some() || self.idle_timeout.is_some()
    }
}

/// The driver's decisions.
#[derive(Debug)]
pub(crate) struct Reconnector {
    policy: ReconnectPolicy,
    liveness: Liveness,
    phase: Phase,
    /// Failed attempts (and unstable connections) in a row.
    failures: u32,
    closed_by_app: bool,
    /// Sessions opened so far.
    sessions: u64,
    offline: bool,
}

impl Reconnector {
    /// A machine about to make its first attempt, and the commands for it.
    pub(crate) fn start(policy: ReconnectPolicy, liveness: Liveness) -> (Self, Vec<Command>) {
        let mut machine = Self {
            policy,
            liveness,
            phase: Phase::Connecting,
            failures: 0,
            closed_by_app: false,
            sessions: 0,
            offline: false,
        };
        let commands = machine.connect_now();
        (machine, commands)
    }

    /// Whether a connection is open.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open(_))
    }

    /// The open connection's session.
    pub(crate) fn open_session(&self) -> Option<u64> {
        match self.phase {
            Phase::Open(connection) => Some(connection.session),
            _ => None,
        }
    }

    /// Whether it is closed for good, or closing at the app's request.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed_by_app || self.phase == Phase::Finished
    }

    /// Whether it is closed for good.
    pub(crate) fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Applies `input` at time `now_ms`; `random` is uniform in `[0, 1]`, for
    /// the jitter of a retry's delay.
    pub(crate) fn step(&mut self, input: Input, now_ms: f64, random: f64) -> Vec<Command> {
        match (self.phase, input) {
            (Phase::Finished, _) => Vec::new(),
            (_, Input::AppClosed) => self.app_closed(),
            (_, Input::Late(input)) => self.late(*input, now_ms, random),
            (_, Input::PageHidden) => self.suspend(),
            (Phase::Suspended, Input::PageShown) => {
                self.failures = 0;
                let mut commands = vec![Command::Report(ReconnectEvent::Resumed)];
                commands.extend(self.connect_now());
                commands
            }
            (_, Input::Offline) => {
                self.offline = true;
                vec![Command::Report(ReconnectEvent::Offline)]
            }
            (_, Input::Online) => {
                self.offline = false;
                let mut commands = vec![Command::Report(ReconnectEvent::Online)];
                commands.extend(self.wake(CheckReason::Online, now_ms, random));
                commands
            }
            (Phase::Suspended, _) => Vec::new(),
            (_, Input::Visible) => self.wake(CheckReason::Visible, now_ms, random),
            // Shown from the cache without having been hidden into it (an
            // engine that fired no `pagehide`): the connection may be gone.
            (_, Input::PageShown) => self.wake(CheckReason::Visible, now_ms, random),
            (Phase::Waiting, Input::WaitOver) => {
                self.phase = Phase::Connecting;
                vec![Command::Connect {
                    timeout: self.policy.connect_timeout,
                }]
            }
            (Phase::Connecting, Input::Opened) => self.opened(now_ms),
            (Phase::Connecting, Input::Closed(event)) => self.attempt_failed(event, random),
            (Phase::Connecting, Input::ConnectTimedOut) => {
                self.attempt_failed(CloseEvent::abnormal_because("connect timeout"), random)
            }
            (Phase::Open(connection), input) => self.step_open(connection, input, now_ms, random),
            // A timer or event of a phase that is over.
            _ => Vec::new(),
        }
    }

    fn step_open(
        &mut self,
        connection: Connection,
        input: Input,
        now_ms: f64,
        random: f64,
    ) -> Vec<Command> {
        match input {
            Input::Closed(event) => self.ended(event, connection, now_ms, random, false),
            Input::Heard => self.heard(connection, now_ms),
            Input::ProbeOverdue => match connection.probe {
                // Dead: no close handshake to wait for. Found by a check of a
                // page that is back, it reconnects at once.
                Some(probe) => {
                    let event = CloseEvent::abnormal_because("heartbeat timeout");
                    let at_once = matches!(probe, Probe::Check(reason) if reason.page_is_back());
                    self.ended(event, connection, now_ms, random, at_once)
                }
                None => Vec::new(),
            },
            Input::PingDue => self.ping(connection),
            Input::IdleCheckDue => self.idle_check(connection, now_ms, random),
            Input::CheckRequested => self.check(connection, CheckReason::App, now_ms, random),
            _ => Vec::new(),
        }
    }

    fn app_closed(&mut self) -> Vec<Command> {
        self.closed_by_app = true;
        match self.phase {
            // The close handshake runs; its `Closed` finishes.
            Phase::Open(_) => Vec::new(),
            Phase::Connecting => {
                self.phase = Phase::Finished;
                vec![Command::DropConnection, Command::Finish]
            }
            Phase::Waiting | Phase::Suspended | Phase::Finished => {
                self.phase = Phase::Finished;
                vec![Command::Finish]
            }
        }
    }

    /// A timer that fired far too late: check the connection (or stop
    /// waiting) first, then handle the timer unless the check replaced it.
    fn late(&mut self, input: Input, now_ms: f64, random: f64) -> Vec<Command> {
        if matches!(input, Input::AppClosed | Input::PageHidden) {
            // Going away needs no check first.
            return self.step(input, now_ms, random);
        }
        if let (Input::ProbeOverdue, Phase::Open(mut connection)) = (&input, self.phase) {
            // The deadline passed while the machine slept: the server had no
            // fair chance to answer. A fresh probe replaces the old one.
            connection.probe = None;
            self.phase = Phase::Open(connection);
            return self.wake(CheckReason::Slept, now_ms, random);
        }
        let mut commands = self.wake(CheckReason::Slept, now_ms, random);
        match input {
            // The check just pinged: only keep the rhythm.
            Input::PingDue if self.is_open() => {
                commands.extend(
                    self.liveness
                        .beat
                        .map(|beat| Command::SchedulePing(beat.interval)),
                );
            }
            input => commands.extend(self.step(input, now_ms, random)),
        }
        commands
    }

    /// The page is back (visible, online, or its timers ran late): a waiting
    /// retry starts at once with the backoff reset; an open connection is
    /// checked.
    fn wake(&mut self, reason: CheckReason, now_ms: f64, random: f64) -> Vec<Command> {
        match self.phase {
            Phase::Waiting if !self.offline => {
                self.failures = 0;
                self.connect_now()
            }
            Phase::Open(connection) => self.check(connection, reason, now_ms, random),
            _ => Vec::new(),
        }
    }

    /// Starts a liveness check of the open connection: the heartbeat's ping
    /// (any frame answers it), or without a heartbeat the idle timeout's
    /// verdict. Without either there is nothing to check with, and the
    /// browser's word (it is open) stands.
    fn check(
        &mut self,
        mut connection: Connection,
        reason: CheckReason,
        now_ms: f64,
        random: f64,
    ) -> Vec<Command> {
        let session = connection.session;
        let checking = Command::Report(ReconnectEvent::Checking { session, reason });
        match connection.probe {
            // A ping is already out: its answer serves this check too.
            Some(Probe::Routine) => {
                connection.probe = Some(Probe::Check(reason));
                self.phase = Phase::Open(connection);
                return vec![checking];
            }
            Some(Probe::Check(_)) => return Vec::new(),
            None => {}
        }
        match (self.liveness.beat, self.liveness.idle_timeout) {
            (Some(beat), _) => {
                connection.probe = Some(Probe::Check(reason));
                self.phase = Phase::Open(connection);
                vec![
                    checking,
                    Command::SendPing,
                    Command::AwaitProof(beat.timeout),
                ]
            }
            (None, Some(idle)) => {
                let silent_ms = now_ms - connection.heard_at_ms;
                if silent_ms >= millis(idle) {
                    let event = CloseEvent::abnormal_because("idle timeout");
                    let at_once = reason.page_is_back();
                    let mut commands = vec![checking];
                    commands.extend(self.ended(event, connection, now_ms, random, at_once));
                    commands
                } else if reason == CheckReason::Idle {
                    Vec::new()
                } else {
                    vec![checking, Command::Report(ReconnectEvent::Alive { session })]
                }
            }
            (None, None) if reason == CheckReason::App => {
                vec![Command::Report(ReconnectEvent::Alive { session })]
            }
            (None, None) => Vec::new(),
        }
    }

    fn heard(&mut self, mut connection: Connection, now_ms: f64) -> Vec<Command> {
        connection.heard_at_ms = now_ms;
        let probe = connection.probe.take();
        self.phase = Phase::Open(connection);
        match probe {
            None => Vec::new(),
            Some(Probe::Routine) => vec![Command::ProofArrived],
            Some(Probe::Check(_)) => vec![
                Command::ProofArrived,
                Command::Report(ReconnectEvent::Alive {
                    session: connection.session,
                }),
            ],
        }
    }

    fn idle_check(&mut self, connection: Connection, now_ms: f64, random: f64) -> Vec<Command> {
        let Some(idle) = self.liveness.idle_timeout else {
            return Vec::new();
        };
        let silent_ms = now_ms - connection.heard_at_ms;
        if silent_ms < millis(idle) {
            // `Duration::MAX` as f64 seconds rounds up past what a
            // `Duration` holds: the rest of it is then as long as can be.
            let remaining = Duration::try_from_secs_f64((millis(idle) - silent_ms) / 1000.0)
                .unwrap_or(Duration::MAX);
            return vec![Command::ScheduleIdleCheck(remaining)];
        }
        let mut commands = self.check(connection, CheckReason::Idle, now_ms, random);
        if self.is_open() {
            commands.push(Command::ScheduleIdleCheck(idle));
        }
        commands
    }

    fn suspend(&mut self) -> Vec<Command> {
        let session = self.open_session();
        if self.closed_by_app {
            // Closing at the app's word: finish now rather than later.
            self.phase = Phase::Finished;
            let mut commands = vec![Command::DropConnection];
            commands.extend(session.map(Command::EndSession));
            commands.push(Command::Finish);
            return commands;
        }
        let mut commands = Vec::new();
        match self.phase {
            Phase::Open(_) => commands.push(Command::CloseForSuspend),
            Phase::Suspended => return commands,
            _ => {}
        }
        commands.push(Command::DropConnection);
        commands.extend(session.map(Command::EndSession));
        commands.push(Command::Report(ReconnectEvent::Suspended { session }));
        self.phase = Phase::Suspended;
        commands
    }

    fn connect_now(&mut self) -> Vec<Command> {
        self.phase = Phase::Connecting;
        vec![
            Command::Report(ReconnectEvent::Connecting {
                attempt: self.failures + 1,
                delay: Duration::ZERO,
            }),
            Command::Connect {
                timeout: self.policy.connect_timeout,
            },
        ]
    }

    fn opened(&mut self, now_ms: f64) -> Vec<Command> {
        self.sessions += 1;
        let session = self.sessions;
        self.phase = Phase::Open(Connection {
            session,
            opened_at_ms: now_ms,
            heard_at_ms: now_ms,
            probe: None,
        });
        let mut commands = vec![
            Command::Report(ReconnectEvent::Open {
                attempt: self.failures + 1,
                session,
            }),
            Command::RunOpenHook(session),
            Command::Flush,
        ];
        commands.extend(
            self.liveness
                .beat
                .map(|beat| Command::SchedulePing(beat.interval)),
        );
        commands.extend(self.liveness.idle_timeout.map(Command::ScheduleIdleCheck));
        commands
    }

    /// The heartbeat's ping; the first unanswered one sets the deadline.
    fn ping(&mut self, mut connection: Connection) -> Vec<Command> {
        let Some(beat) = self.liveness.beat else {
            return Vec::new();
        };
        let mut commands = vec![Command::SendPing, Command::SchedulePing(beat.interval)];
        if connection.probe.is_none() {
            connection.probe = Some(Probe::Routine);
            self.phase = Phase::Open(connection);
            commands.push(Command::AwaitProof(beat.timeout));
        }
        commands
    }

    fn attempt_failed(&mut self, event: CloseEvent, random: f64) -> Vec<Command> {
        // Offline, a failure says nothing about the server: not counted.
        if !self.offline {
            self.failures = self.failures.saturating_add(1);
        }
        let mut commands = vec![
            Command::DropConnection,
            Command::Report(ReconnectEvent::Closed {
                session: None,
                close: event,
            }),
        ];
        commands.extend(self.next_attempt(random));
        commands
    }

    /// The open connection ended; `at_once`: reconnect now, with the backoff
    /// reset (a check the page asked for found it dead).
    fn ended(
        &mut self,
        event: CloseEvent,
        connection: Connection,
        now_ms: f64,
        random: f64,
        at_once: bool,
    ) -> Vec<Command> {
        let stable = now_ms - connection.opened_at_ms >= millis(self.policy.stable_after);
        self.failures = if stable || at_once {
            0
        } else {
            self.failures.saturating_add(1)
        };
        let reconnect = self.policy.should_reconnect(&event, self.closed_by_app);
        let mut commands = vec![
            Command::DropConnection,
            Command::EndSession(connection.session),
            Command::Report(ReconnectEvent::Closed {
                session: Some(connection.session),
                close: event,
            }),
        ];
        if !reconnect {
            self.phase = Phase::Finished;
            commands.push(Command::Finish);
        } else if at_once && !self.closed_by_app {
            commands.extend(self.connect_now());
        } else {
            commands.extend(self.next_attempt(random));
        }
        commands
    }

    fn next_attempt(&mut self, random: f64) -> Vec<Command> {
        if self.closed_by_app || !self.policy.may_attempt(self.failures) {
            self.phase = Phase::Finished;
            let mut commands = Vec::new();
            if !self.closed_by_app {
                commands.push(Command::Report(ReconnectEvent::GaveUp {
                    attempts: self.failures,
                }));
            }
            commands.push(Command::Finish);
            return commands;
        }
        // A drop after a stable connection is retry 1 too: it waits at least
        // the minimum, so that clients dropped together spread out. Offline,
        // retries only probe, at the longest delay.
        let retry = self.failures.max(1);
        let delay = if self.offline {
            self.policy.max_delay
        } else {
            self.policy.delay_before_retry(retry, random)
        };
        self.phase = Phase::Waiting;
        vec![
            Command::Report(ReconnectEvent::Connecting {
                attempt: self.failures + 1,
                delay,
            }),
            Command::Wait(delay),
        ]
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::rules::close::CloseCode;
    use proptest::prelude::*;

    fn close(code: u16) -> CloseEvent {
        CloseEvent {
            code: CloseCode::from(code),
            reason: String::new(),
            was_clean: code != 1006,
        }
    }

    fn policy() -> ReconnectPolicy {
        ReconnectPolicy::default()
            .delays(Duration::from_millis(100), Duration::from_secs(2))
            .stable_after(Duration::from_secs(5))
    }

    fn beating(beat: Beat) -> Liveness {
        Liveness {
            beat: Some(beat),
            idle_timeout: None,
        }
    }

    const BEAT: Beat = Beat {
        interval: Duration::from_millis(100),
        timeout: Duration::from_millis(300),
    };

    /// A machine with an open first session.
    fn open_machine(liveness: Liveness) -> Reconnector {
        let (mut machine, _) = Reconnector::start(policy(), liveness);
        machine.step(Input::Opened, 0.0, 0.0);
        machine
    }

    fn connects_at_once(commands: &[Command]) -> bool {
        commands.ends_with(&[
            Command::Report(ReconnectEvent::Connecting {
                attempt: 1,
                delay: Duration::ZERO,
            }),
            Command::Connect {
                timeout: Duration::from_secs(10),
            },
        ])
    }

    fn reports(commands: &[Command]) -> Vec<ReconnectEvent> {
        commands
            .iter()
            .filter_map(|command| match command {
                Command::Report(event) => Some(event.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn connects_at_once_then_flushes_on_open() {
        let (mut machine, commands) = Reconnector::start(policy(), Liveness::default());
        assert_eq!(
            commands,
            [
                Command::Report(ReconnectEvent::Connecting {
                    attempt: 1,
                    delay: Duration::ZERO
                }),
                Command::Connect {
                    timeout: Duration::from_secs(10)
                }
            ]
        );
        assert_eq!(
            machine.step(Input::Opened, 0.0, 0.5),
            [
                Command::Report(ReconnectEvent::Open {
                    attempt: 1,
                    session: 1
                }),
                Command::RunOpenHook(1),
                Command::Flush
            ]
        );
        assert!(machine.is_open());
    }

    #[test]
    fn a_drop_waits_then_reconnects_and_a_final_code_finishes() {
        let (mut machine, _) = Reconnector::start(policy(), Liveness::default());
        machine.step(Input::Opened, 0.0, 0.0);
        let commands = machine.step(Input::Closed(close(1006)), 10_000.0, 0.0);
        assert_eq!(
            commands,
            [
                Command::DropConnection,
                Command::EndSession(1),
                Command::Report(ReconnectEvent::Closed {
                    session: Some(1),
                    close: close(1006)
                }),
                Command::Report(ReconnectEvent::Connecting {
                    attempt: 1,
                    delay: Duration::from_millis(100)
                }),
                Command::Wait(Duration::from_millis(100)),
            ]
        );
        assert_eq!(
            machine.step(Input::WaitOver, 10_100.0, 0.0),
            [Command::Connect {
                timeout: Duration::from_secs(10)
            }]
        );
        machine.step(Input::Opened, 10_200.0, 0.0);
        let commands = machine.step(Input::Closed(close(1000)), 10_300.0, 0.0);
        assert_eq!(commands.last(), Some(&Command::Finish));
        assert!(machine.is_finished());
        assert!(machine.step(Input::WaitOver, 0.0, 0.0).is_empty());
    }

    #[test]
    fn an_unstable_connection_counts_as_a_failure() {
        let (mut machine, _) = Reconnector::start(policy(), Liveness::default());
        machine.step(Input::Opened, 0.0, 0.0);
        let commands = machine.step(Input::Closed(close(1006)), 1_000.0, 1.0);
        assert_eq!(
            reports(&commands)[1],
            ReconnectEvent::Connecting {
                attempt: 2,
                delay: Duration::from_millis(100)
            }
        );
        machine.step(Input::WaitOver, 2_000.0, 0.0);
        let commands = machine.step(Input::ConnectTimedOut, 12_000.0, 1.0);
        assert_eq!(
            reports(&commands),
            [
                ReconnectEvent::Closed {
                    session: None,
                    close: CloseEvent::abnormal_because("connect timeout")
                },
                ReconnectEvent::Connecting {
                    attempt: 3,
                    delay: Duration::from_millis(200)
                }
            ]
        );
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let (mut machine, _) =
            Reconnector::start(policy().max_attempts(Some(2)), Liveness::default());
        machine.step(Input::Closed(close(1006)), 0.0, 0.0);
        machine.step(Input::WaitOver, 0.0, 0.0);
        let commands = machine.step(Input::Closed(close(1006)), 0.0, 0.0);
        assert_eq!(
            commands[2..],
            [
                Command::Report(ReconnectEvent::GaveUp { attempts: 2 }),
                Command::Finish
            ]
        );
    }

    #[test]
    fn the_heartbeat_pings_and_a_missing_pong_drops_the_connection() {
        let beat = Beat {
            interval: Duration::from_millis(100),
            timeout: Duration::from_millis(300),
        };
        let (mut machine, _) = Reconnector::start(policy(), beating(beat));
        let opened = machine.step(Input::Opened, 0.0, 0.0);
        assert_eq!(opened.last(), Some(&Command::SchedulePing(beat.interval)));
        assert_eq!(
            machine.step(Input::PingDue, 100.0, 0.0),
            [
                Command::SendPing,
                Command::SchedulePing(beat.interval),
                Command::AwaitProof(beat.timeout)
            ]
        );
        // A second ping while the first is unanswered keeps the first deadline.
        assert_eq!(
            machine.step(Input::PingDue, 200.0, 0.0),
            [Command::SendPing, Command::SchedulePing(beat.interval)]
        );
        assert_eq!(
            machine.step(Input::Heard, 250.0, 0.0),
            [Command::ProofArrived]
        );
        machine.step(Input::PingDue, 300.0, 0.0);
        let commands = machine.step(Input::ProbeOverdue, 600.0, 0.0);
        assert_eq!(
            reports(&commands)[0],
            ReconnectEvent::Closed {
                session: Some(1),
                close: CloseEvent::abnormal_because("heartbeat timeout")
            }
        );
        assert_eq!(commands[0], Command::DropConnection);
    }

    #[test]
    fn the_apps_close_finishes_in_every_phase() {
        let (mut connecting, _) = Reconnector::start(policy(), Liveness::default());
        assert_eq!(
            connecting.step(Input::AppClosed, 0.0, 0.0),
            [Command::DropConnection, Command::Finish]
        );
        let (mut open, _) = Reconnector::start(policy(), Liveness::default());
        open.step(Input::Opened, 0.0, 0.0);
        assert!(open.step(Input::AppClosed, 0.0, 0.0).is_empty());
        assert!(open.is_closed() && !open.is_finished());
        let commands = open.step(Input::Closed(close(1006)), 0.0, 0.0);
        assert_eq!(
            commands,
            [
                Command::DropConnection,
                Command::EndSession(1),
                Command::Report(ReconnectEvent::Closed {
                    session: Some(1),
                    close: close(1006)
                }),
                Command::Finish
            ]
        );
    }
    #[test]
    fn sessions_count_up_and_each_ends_once() {
        let (mut machine, _) = Reconnector::start(policy(), Liveness::default());
        machine.step(Input::Opened, 0.0, 0.0);
        machine.step(Input::Closed(close(1006)), 10.0, 0.0);
        machine.step(Input::WaitOver, 20.0, 0.0);
        let commands = machine.step(Input::Opened, 30.0, 0.0);
        assert_eq!(
            commands[..2],
            [
                Command::Report(ReconnectEvent::Open {
                    attempt: 2,
                    session: 2
                }),
                Command::RunOpenHook(2)
            ]
        );
        assert_eq!(machine.open_session(), Some(2));
        let commands = machine.step(Input::Closed(close(1001)), 40.0, 0.0);
        assert_eq!(commands[1], Command::EndSession(2));
    }

    #[test]
    fn the_back_forward_cache_suspends_and_resumes_without_a_failure() {
        let mut machine = open_machine(beating(BEAT));
        let commands = machine.step(Input::PageHidden, 1_000.0, 0.0);
        assert_eq!(
            commands,
            [
                Command::CloseForSuspend,
                Command::DropConnection,
                Command::EndSession(1),
                Command::Report(ReconnectEvent::Suspended { session: Some(1) })
            ]
        );
        // Frozen: stale timers, the close of the old connection, visibility
        // and checks do nothing.
        for input in [
            Input::PingDue,
            Input::ProbeOverdue,
            Input::WaitOver,
            Input::Closed(close(1006)),
            Input::Visible,
            Input::CheckRequested,
            Input::PageHidden,
        ] {
            assert!(machine.step(input, 2_000.0, 0.0).is_empty());
        }
        let commands = machine.step(Input::PageShown, 60_000.0, 0.0);
        assert_eq!(commands[0], Command::Report(ReconnectEvent::Resumed));
        assert!(connects_at_once(&commands), "{commands:?}");
        assert_eq!(machine.step(Input::Opened, 60_010.0, 0.0)[0], {
            Command::Report(ReconnectEvent::Open {
                attempt: 1,
                session: 2,
            })
        });
    }

    #[test]
    fn suspended_while_waiting_after_failures_resumes_with_the_backoff_reset() {
        let (mut machine, _) = Reconnector::start(policy(), Liveness::default());
        machine.step(Input::Closed(close(1006)), 0.0, 0.0);
        machine.step(Input::WaitOver, 100.0, 0.0);
        machine.step(Input::Closed(close(1006)), 200.0, 0.0);
        assert_eq!(
            machine.step(Input::PageHidden, 300.0, 0.0),
            [
                Command::DropConnection,
                Command::Report(ReconnectEvent::Suspended { session: None })
            ]
        );
        assert!(connects_at_once(&machine.step(
            Input::PageShown,
            400.0,
            0.0
        )));
        assert!(machine
            .step(Input::AppClosed, 500.0, 0.0)
            .contains(&Command::Finish));
    }

    #[test]
    fn the_page_coming_back_checks_an_open_connection_and_dead_means_reconnect_at_once() {
        let mut machine = open_machine(beating(BEAT));
        let commands = machine.step(Input::Visible, 1_000.0, 0.0);
        assert_eq!(
            commands,
            [
                Command::Report(ReconnectEvent::Checking {
                    session: 1,
                    reason: CheckReason::Visible
                }),
                Command::SendPing,
                Command::AwaitProof(BEAT.timeout)
            ]
        );
        // Nothing answers: dead, replaced at once, not after a backoff.
        let commands = machine.step(Input::ProbeOverdue, 1_300.0, 0.9);
        assert!(connects_at_once(&commands), "{commands:?}");
        assert_eq!(
            reports(&commands)[0],
            ReconnectEvent::Closed {
                session: Some(1),
                close: CloseEvent::abnormal_because("heartbeat timeout")
            }
        );
    }

    #[test]
    fn any_frame_answers_a_check() {
        let mut machine = open_machine(beating(BEAT));
        machine.step(Input::CheckRequested, 1_000.0, 0.0);
        assert_eq!(
            machine.step(Input::Heard, 1_010.0, 0.0),
            [
                Command::ProofArrived,
                Command::Report(ReconnectEvent::Alive { session: 1 })
            ]
        );
        // A routine ping's answer is not reported; a check during it is.
        machine.step(Input::PingDue, 1_100.0, 0.0);
        assert_eq!(
            machine.step(Input::Visible, 1_110.0, 0.0),
            [Command::Report(ReconnectEvent::Checking {
                session: 1,
                reason: CheckReason::Visible
            })]
        );
        assert_eq!(
            reports(&machine.step(Input::Heard, 1_120.0, 0.0)),
            [ReconnectEvent::Alive { session: 1 }]
        );
    }

    #[test]
    fn without_a_heartbeat_the_idle_timeout_decides() {
        let liveness = Liveness {
            beat: None,
            idle_timeout: Some(Duration::from_secs(30)),
        };
        let (mut machine, _) = Reconnector::start(policy(), liveness);
        let opened = machine.step(Input::Opened, 0.0, 0.0);
        assert_eq!(
            opened.last(),
            Some(&Command::ScheduleIdleCheck(Duration::from_secs(30)))
        );
        machine.step(Input::Heard, 20_000.0, 0.0);
        // Heard 10 s ago: check again when 30 s of silence would be up.
        assert_eq!(
            machine.step(Input::IdleCheckDue, 30_000.0, 0.0),
            [Command::ScheduleIdleCheck(Duration::from_secs(20))]
        );
        // Visible after 5 s of silence: alive.
        assert_eq!(
            reports(&machine.step(Input::Visible, 25_000.0, 0.0)),
            [
                ReconnectEvent::Checking {
                    session: 1,
                    reason: CheckReason::Visible
                },
                ReconnectEvent::Alive { session: 1 }
            ]
        );
        // 30 s of silence: dead, and, found by the idle timer, a normal retry.
        let commands = machine.step(Input::IdleCheckDue, 50_000.0, 0.0);
        assert_eq!(
            reports(&commands)[1],
            ReconnectEvent::Closed {
                session: Some(1),
                close: CloseEvent::abnormal_because("idle timeout")
            }
        );
        assert!(matches!(commands.last(), Some(Command::Wait(_))));
    }

    #[test]
    fn the_longest_idle_timeout_waits_without_a_panic() {
        let liveness = Liveness {
            beat: None,
            idle_timeout: Some(Duration::MAX),
        };
        let (mut machine, _) = Reconnector::start(policy(), liveness);
        machine.step(Input::Opened, 0.0, 0.0);
        machine.step(Input::Heard, 1_000.0, 0.0);
        assert_eq!(
            machine.step(Input::IdleCheckDue, 2_000.0, 0.0),
            [Command::ScheduleIdleCheck(Duration::MAX)]
        );
    }

    #[test]
    fn with_a_heartbeat_idle_silence_sends_a_probe() {
        let liveness = Liveness {
            beat: Some(Beat {
                interval: Duration::from_secs(60),
                timeout: Duration::from_secs(5),
            }),
            idle_timeout: Some(Duration::from_secs(10)),
        };
        let mut machine = open_machine(liveness);
        assert_eq!(
            machine.step(Input::IdleCheckDue, 10_000.0, 0.0),
            [
                Command::Report(ReconnectEvent::Checking {
                    session: 1,
                    reason: CheckReason::Idle
                }),
                Command::SendPing,
                Command::AwaitProof(Duration::from_secs(5)),
                Command::ScheduleIdleCheck(Duration::from_secs(10))
            ]
        );
    }

    #[test]
    fn without_any_liveness_the_apps_check_takes_the_browsers_word() {
        let mut machine = open_machine(Liveness::default());
        assert_eq!(
            reports(&machine.step(Input::CheckRequested, 0.0, 0.0)),
            [ReconnectEvent::Alive { session: 1 }]
        );
        assert!(machine.step(Input::Visible, 0.0, 0.0).is_empty());
    }

    #[test]
    fn a_late_timer_means_sleep_and_a_waiting_retry_starts_now() {
        assert!(!timer_was_late(Duration::from_secs(1), 3_900.0));
        assert!(timer_was_late(Duration::from_secs(1), 4_100.0));
        assert!(timer_was_late(Duration::from_millis(100), 2_300.0));
        let (mut machine, _) = Reconnector::start(
            policy().delays(Duration::from_secs(1), Duration::from_secs(60)),
            Liveness::default(),
        );
        machine.step(Input::Closed(close(1006)), 0.0, 0.0);
        machine.step(Input::WaitOver, 1_000.0, 0.0);
        machine.step(Input::Closed(close(1006)), 1_100.0, 0.0);
        let commands = machine.step(Input::Late(Box::new(Input::WaitOver)), 600_000.0, 0.5);
        assert!(connects_at_once(&commands), "{commands:?}");
    }

    #[test]
    fn a_probe_deadline_passed_in_sleep_gets_a_fresh_probe() {
        let mut machine = open_machine(beating(BEAT));
        machine.step(Input::PingDue, 100.0, 0.0);
        let commands = machine.step(Input::Late(Box::new(Input::ProbeOverdue)), 900_000.0, 0.0);
        assert_eq!(
            commands,
            [
                Command::Report(ReconnectEvent::Checking {
                    session: 1,
                    reason: CheckReason::Slept
                }),
                Command::SendPing,
                Command::AwaitProof(BEAT.timeout)
            ]
        );
        let late_ping = machine.step(Input::Late(Box::new(Input::PingDue)), 900_001.0, 0.0);
        assert_eq!(late_ping, [Command::SchedulePing(BEAT.interval)]);
    }

    #[test]
    fn offline_attempts_do_not_count_and_online_retries_at_once() {
        let policy = policy().max_attempts(Some(2));
        let (mut machine, _) = Reconnector::start(policy.clone(), Liveness::default());
        assert_eq!(
            reports(&machine.step(Input::Offline, 0.0, 0.0)),
            [ReconnectEvent::Offline]
        );
        for round in 0..5 {
            let now = f64::from(round) * 10_000.0;
            let commands = machine.step(Input::Closed(close(1006)), now, 0.0);
            assert_eq!(commands.last(), Some(&Command::Wait(policy.max_delay)));
            // Visible while offline does not hurry a retry either.
            assert!(machine.step(Input::Visible, now, 0.0).is_empty());
            machine.step(Input::WaitOver, now + 2_000.0, 0.0);
        }
        machine.step(Input::Closed(close(1006)), 60_000.0, 0.0);
        let commands = machine.step(Input::Online, 61_000.0, 0.0);
        assert_eq!(commands[0], Command::Report(ReconnectEvent::Online));
        assert!(connects_at_once(&commands), "{commands:?}");
    }

    fn input() -> impl Strategy<Value = Input> {
        let simple = prop_oneof![
            Just(Input::WaitOver),
            Just(Input::Opened),
            prop_oneof![
                Just(1000u16),
                Just(1001),
                Just(1006),
                Just(1012),
                Just(4001)
            ]
            .prop_map(|code| Input::Closed(close(code))),
            Just(Input::ConnectTimedOut),
            Just(Input::PingDue),
            Just(Input::Heard),
            Just(Input::ProbeOverdue),
            Just(Input::IdleCheckDue),
            Just(Input::Visible),
            Just(Input::PageHidden),
            Just(Input::PageShown),
            Just(Input::Offline),
            Just(Input::Online),
            Just(Input::CheckRequested),
            Just(Input::AppClosed),
        ];
        // Only timers fire late.
        let timer = prop_oneof![
            Just(Input::WaitOver),
            Just(Input::ConnectTimedOut),
            Just(Input::PingDue),
            Just(Input::ProbeOverdue),
            Just(Input::IdleCheckDue),
        ];
        prop_oneof![
            8 => simple,
            1 => timer.prop_map(|input| Input::Late(Box::new(input))),
        ]
    }

    proptest! {
        /// Model check over any order of inputs (stale timers, page life and
        /// late timers included): one connection at a time, every connection
        /// dropped before the next, sessions numbered 1, 2, ... each ended at
        /// most once, every delay within the policy, nothing after `Finish`,
        /// never a new attempt after the app's close or while suspended, and
        /// `GaveUp` only when attempts ran out.
        #[test]
        fn any_order_of_inputs_keeps_the_invariants(
            inputs in prop::collection::vec((input(), 0.0f64..20_000.0, 0.0f64..=1.0), 0..80),
            max_attempts in prop::option::of(1u32..5),
            heartbeat: bool,
            idle: bool,
        ) {
            let policy = policy().max_attempts(max_attempts).final_codes([4001]);
            let beat = heartbeat.then_some(BEAT);
            let idle_timeout = idle.then_some(Duration::from_millis(500));
            let (mut machine, mut commands) = Reconnector::start(policy.clone(), Liveness { beat, idle_timeout });
            let mut connection = false;
            let mut finished = false;
            let mut app_closed = false;
            let mut suspended = false;
            let mut sessions = 0u64;
            let mut ended = 0u64;
            let mut now = 0.0;
            let mut inputs = inputs.into_iter();
            loop {
                for command in &commands {
                    prop_assert!(!finished, "{command:?} after Finish");
                    match command {
                        Command::Connect { .. } => {
                            prop_assert!(!connection, "two connections");
                            prop_assert!(!app_closed, "attempt after the app's close");
                            prop_assert!(!suspended, "attempt while suspended");
                            connection = true;
                        }
                        Command::DropConnection => connection = false,
                        Command::Finish => finished = true,
                        Command::Wait(delay) => {
                            prop_assert!(*delay >= policy.min_delay && *delay <= policy.max_delay);
                        }
                        Command::Report(ReconnectEvent::GaveUp { attempts }) => {
                            prop_assert_eq!(Some(*attempts), max_attempts);
                        }
                        Command::Report(ReconnectEvent::Open { session, .. }) => {
                            sessions += 1;
                            prop_assert_eq!(*session, sessions);
                        }
                        Command::Report(ReconnectEvent::Suspended { .. }) => suspended = true,
                        Command::Report(ReconnectEvent::Resumed) => suspended = false,
                        Command::EndSession(session) => {
                            prop_assert_eq!(*session, ended + 1, "sessions end once, in order");
                            ended = *session;
                        }
                        Command::SendPing | Command::AwaitProof(_) | Command::SchedulePing(_) => {
                            prop_assert!(heartbeat && machine.is_open());
                        }
                        Command::ScheduleIdleCheck(_) => prop_assert!(idle && machine.is_open()),
                        _ => {}
                    }
                }
                prop_assert_eq!(finished, machine.is_finished());
                if finished {
                    prop_assert!(!connection, "finished with a connection");
                }
                prop_assert_eq!(machine.open_session().is_some(), sessions > ended);
                let Some((input, elapsed, random)) = inputs.next() else { break };
                now += elapsed;
                app_closed |= input == Input::AppClosed;
                commands = machine.step(input, now, random);
            }
        }
    }
}
