//! The reconnecting socket's driver as a pure state machine: it is told what
//! happened ([`Input`]: a connection opened or closed, a timer fired, the app
//! closed) with the time and a random number, and answers with what to do
//! ([`Command`]s: report an event, wait, connect, ping, drop the connection).
//! The JS layer carries the commands out; the clock and the random source are
//! injected, so every branch is tested here without a browser.

use std::time::Duration;

use crate::rules::close::CloseEvent;
use crate::rules::policy::ReconnectPolicy;

/// What a [`ReconnectingWebSocket`](crate::ReconnectingWebSocket) is doing, for
/// the app to observe.
///
/// # Example
///
/// ```
/// use browser_websocket::ReconnectEvent;
/// let describe = |event: &ReconnectEvent| match event {
///     ReconnectEvent::Connecting { attempt, delay } => format!("attempt {attempt} in {delay:?}"),
///     ReconnectEvent::Open { .. } => "online".to_owned(),
///     ReconnectEvent::Closed(close) => format!("closed: {close}"),
///     ReconnectEvent::GaveUp { attempts } => format!("gave up after {attempts} attempts"),
/// };
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ReconnectEvent {
    /// Attempt `attempt` (1 after a good connection) starts after `delay`.
    Connecting {
        /// The attempt's number in the current run of failures, from 1.
        attempt: u32,
        /// How long it waits first.
        delay: Duration,
    },
    /// Connected; queued messages are being sent.
    Open {
        /// Which attempt succeeded.
        attempt: u32,
    },
    /// A connection ended or an attempt failed, with how.
    Closed(CloseEvent),
    /// The policy's attempts are used up; the socket is closed for good.
    GaveUp {
        /// How many attempts failed in a row.
        attempts: u32,
    },
}

/// What happened, as told to the machine.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Input {
    /// The wait before an attempt is over (its timer fired, or the browser came
    /// back online).
    WaitOver,
    /// The attempt's socket opened.
    Opened,
    /// The attempt failed or the open connection ended.
    Closed(CloseEvent),
    /// The attempt took longer than the connect timeout.
    ConnectTimedOut,
    /// Time to send the next heartbeat ping.
    PingDue,
    /// A pong arrived.
    PongReceived,
    /// No pong arrived in time.
    PongOverdue,
    /// The app closed the socket for good.
    AppClosed,
}

/// What to do, in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Command {
    /// Tell the app.
    Report(ReconnectEvent),
    /// Wait, then send [`Input::WaitOver`] (coming back online may cut it short).
    Wait(Duration),
    /// Open a connection; send [`Input::ConnectTimedOut`] after the timeout.
    Connect { timeout: Duration },
    /// The connection is open: send the queued messages.
    Flush,
    /// Send [`Input::PingDue`] after this long.
    SchedulePing(Duration),
    /// Send the heartbeat's ping.
    SendPing,
    /// Send [`Input::PongOverdue`] after this long.
    AwaitPong(Duration),
    /// The pong came: cancel [`Command::AwaitPong`].
    PongArrived,
    /// Close and release the connection or attempt, and its timers.
    DropConnection,
    /// Closed for good: end the stream, release everything.
    Finish,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Waiting,
    Connecting,
    Open {
        opened_at_ms: f64,
        awaiting_pong: bool,
    },
    Finished,
}

/// The heartbeat's timing: ping every `interval`, pong within `timeout`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Beat {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

/// The driver's decisions.
#[derive(Debug)]
pub(crate) struct Reconnector {
    policy: ReconnectPolicy,
    beat: Option<Beat>,
    phase: Phase,
    /// Failed attempts (and unstable connections) in a row.
    failures: u32,
    closed_by_app: bool,
}

impl Reconnector {
    /// A machine about to make its first attempt, and the commands for it.
    pub(crate) fn start(policy: ReconnectPolicy, beat: Option<Beat>) -> (Self, Vec<Command>) {
        let timeout = policy.connect_timeout;
        let machine = Self {
            policy,
            beat,
            phase: Phase::Connecting,
            failures: 0,
            closed_by_app: false,
        };
        let commands = vec![
            Command::Report(ReconnectEvent::Connecting {
                attempt: 1,
                delay: Duration::ZERO,
            }),
            Command::Connect { timeout },
        ];
        (machine, commands)
    }

    /// Whether a connection is open.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open { .. })
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
            (Phase::Open { opened_at_ms, .. }, Input::Closed(event)) => {
                self.ended(event, opened_at_ms, now_ms, random)
            }
            (Phase::Open { opened_at_ms, .. }, Input::PongOverdue) => {
                // Dead: no close handshake to wait for.
                let event = CloseEvent::abnormal_because("heartbeat timeout");
                self.ended(event, opened_at_ms, now_ms, random)
            }
            (Phase::Open { awaiting_pong, .. }, Input::PingDue) => self.ping(awaiting_pong),
            (Phase::Open { opened_at_ms, .. }, Input::PongReceived) => {
                self.phase = Phase::Open {
                    opened_at_ms,
                    awaiting_pong: false,
                };
                vec![Command::PongArrived]
            }
            // A timer or event of a phase that is over.
            _ => Vec::new(),
        }
    }

    fn app_closed(&mut self) -> Vec<Command> {
        self.closed_by_app = true;
        match self.phase {
            // The close handshake runs; its `Closed` finishes.
            Phase::Open { .. } => Vec::new(),
            Phase::Connecting => {
                self.phase = Phase::Finished;
                vec![Command::DropConnection, Command::Finish]
            }
            Phase::Waiting | Phase::Finished => {
                self.phase = Phase::Finished;
                vec![Command::Finish]
            }
        }
    }

    fn opened(&mut self, now_ms: f64) -> Vec<Command> {
        self.phase = Phase::Open {
            opened_at_ms: now_ms,
            awaiting_pong: false,
        };
        let mut commands = vec![
            Command::Report(ReconnectEvent::Open {
                attempt: self.failures + 1,
            }),
            Command::Flush,
        ];
        commands.extend(self.beat.map(|beat| Command::SchedulePing(beat.interval)));
        commands
    }

    fn ping(&mut self, awaiting_pong: bool) -> Vec<Command> {
        let Some(beat) = self.beat else {
            return Vec::new();
        };
        let mut commands = vec![Command::SendPing, Command::SchedulePing(beat.interval)];
        if !awaiting_pong {
            if let Phase::Open { opened_at_ms, .. } = self.phase {
                self.phase = Phase::Open {
                    opened_at_ms,
                    awaiting_pong: true,
                };
            }
            commands.push(Command::AwaitPong(beat.timeout));
        }
        commands
    }

    fn attempt_failed(&mut self, event: CloseEvent, random: f64) -> Vec<Command> {
        self.failures = self.failures.saturating_add(1);
        let mut commands = vec![
            Command::DropConnection,
            Command::Report(ReconnectEvent::Closed(event)),
        ];
        commands.extend(self.next_attempt(random));
        commands
    }

    fn ended(
        &mut self,
        event: CloseEvent,
        opened_at_ms: f64,
        now_ms: f64,
        random: f64,
    ) -> Vec<Command> {
        let stable = now_ms - opened_at_ms >= self.policy.stable_after.as_secs_f64() * 1000.0;
        self.failures = if stable {
            0
        } else {
            self.failures.saturating_add(1)
        };
        let reconnect = self.policy.should_reconnect(&event, self.closed_by_app);
        let mut commands = vec![
            Command::DropConnection,
            Command::Report(ReconnectEvent::Closed(event)),
        ];
        if reconnect {
            commands.extend(self.next_attempt(random));
        } else {
            self.phase = Phase::Finished;
            commands.push(Command::Finish);
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
        // the minimum, so that clients dropped together spread out.
        let retry = self.failures.max(1);
        let delay = self.policy.delay_before_retry(retry, random);
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
        let (mut machine, commands) = Reconnector::start(policy(), None);
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
                Command::Report(ReconnectEvent::Open { attempt: 1 }),
                Command::Flush
            ]
        );
        assert!(machine.is_open());
    }

    #[test]
    fn a_drop_waits_then_reconnects_and_a_final_code_finishes() {
        let (mut machine, _) = Reconnector::start(policy(), None);
        machine.step(Input::Opened, 0.0, 0.0);
        let commands = machine.step(Input::Closed(close(1006)), 10_000.0, 0.0);
        assert_eq!(
            commands,
            [
                Command::DropConnection,
                Command::Report(ReconnectEvent::Closed(close(1006))),
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
        let (mut machine, _) = Reconnector::start(policy(), None);
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
                ReconnectEvent::Closed(CloseEvent::abnormal_because("connect timeout")),
                ReconnectEvent::Connecting {
                    attempt: 3,
                    delay: Duration::from_millis(200)
                }
            ]
        );
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let (mut machine, _) = Reconnector::start(policy().max_attempts(Some(2)), None);
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
        let (mut machine, _) = Reconnector::start(policy(), Some(beat));
        let opened = machine.step(Input::Opened, 0.0, 0.0);
        assert_eq!(opened.last(), Some(&Command::SchedulePing(beat.interval)));
        assert_eq!(
            machine.step(Input::PingDue, 100.0, 0.0),
            [
                Command::SendPing,
                Command::SchedulePing(beat.interval),
                Command::AwaitPong(beat.timeout)
            ]
        );
        // A second ping while the first is unanswered keeps the first deadline.
        assert_eq!(
            machine.step(Input::PingDue, 200.0, 0.0),
            [Command::SendPing, Command::SchedulePing(beat.interval)]
        );
        assert_eq!(
            machine.step(Input::PongReceived, 250.0, 0.0),
            [Command::PongArrived]
        );
        machine.step(Input::PingDue, 300.0, 0.0);
        let commands = machine.step(Input::PongOverdue, 600.0, 0.0);
        assert_eq!(
            reports(&commands)[0],
            ReconnectEvent::Closed(CloseEvent::abnormal_because("heartbeat timeout"))
        );
        assert_eq!(commands[0], Command::DropConnection);
    }

    #[test]
    fn the_apps_close_finishes_in_every_phase() {
        let (mut connecting, _) = Reconnector::start(policy(), None);
        assert_eq!(
            connecting.step(Input::AppClosed, 0.0, 0.0),
            [Command::DropConnection, Command::Finish]
        );
        let (mut open, _) = Reconnector::start(policy(), None);
        open.step(Input::Opened, 0.0, 0.0);
        assert!(open.step(Input::AppClosed, 0.0, 0.0).is_empty());
        assert!(open.is_closed() && !open.is_finished());
        let commands = open.step(Input::Closed(close(1006)), 0.0, 0.0);
        assert_eq!(
            commands,
            [
                Command::DropConnection,
                Command::Report(ReconnectEvent::Closed(close(1006))),
                Command::Finish
            ]
        );
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
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
            Just(Input::PongReceived),
            Just(Input::PongOverdue),
            Just(Input::AppClosed),
        ]
    }

    proptest! {
        /// Model check over any order of inputs (stale timers included): one
        /// connection at a time, every connection dropped before the next, every
        /// delay within the policy, nothing after `Finish`, never a new attempt
        /// after the app's close, and `GaveUp` only when attempts ran out.
        #[test]
        fn any_order_of_inputs_keeps_the_invariants(
            inputs in prop::collection::vec((input(), 0.0f64..20_000.0, 0.0f64..=1.0), 0..60),
            max_attempts in prop::option::of(1u32..5),
            heartbeat: bool,
        ) {
            let policy = policy().max_attempts(max_attempts).final_codes([4001]);
            let beat = heartbeat.then_some(Beat {
                interval: Duration::from_millis(100),
                timeout: Duration::from_millis(300),
            });
            let (mut machine, mut commands) = Reconnector::start(policy.clone(), beat);
            let mut connection = false;
            let mut finished = false;
            let mut app_closed = false;
            let mut now = 0.0;
            let mut inputs = inputs.into_iter();
            loop {
                for command in &commands {
                    prop_assert!(!finished, "{command:?} after Finish");
                    match command {
                        Command::Connect { .. } => {
                            prop_assert!(!connection, "two connections");
                            prop_assert!(!app_closed, "attempt after the app's close");
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
                        Command::SendPing | Command::AwaitPong(_) | Command::SchedulePing(_) => {
                            prop_assert!(heartbeat && machine.is_open());
                        }
                        _ => {}
                    }
                }
                prop_assert_eq!(finished, machine.is_finished());
                if finished {
                    prop_assert!(!connection, "finished with a connection");
                }
                let Some((input, elapsed, random)) = inputs.next() else { break };
                now += elapsed;
                app_closed |= input == Input::AppClosed;
                commands = machine.step(input, now, random);
            }
        }
    }
}
