//! Flow control for the `Sink`, as pure logic: high and low watermarks on the
//! browser's `bufferedAmount`, and an upper bound on it that saves asking the
//! browser before every send.
//!
//! Browsers buffer every `send` without limit and fire no event when the buffer
//! drains. So `poll_ready` stops the producer when `bufferedAmount` is above the
//! high watermark, and waits until it falls to the low watermark (hysteresis:
//! the producer then refills a whole `high - low` at once).
//!
//! How long to wait is learnt, not fixed: each look at `bufferedAmount` tells
//! how many bytes the browser sent since the last look, so the gate knows the
//! drain rate and wakes when the buffer should be at the low watermark. A
//! loopback connection drains a megabyte in about 2 ms, a phone on a slow link
//! in seconds; one fixed period is too slow for the first (the sender idles
//! with an empty buffer) and wakes the second hundreds of times for nothing.

use std::time::Duration;

use crate::rules::error::{Error, Result};

/// The `Sink`'s watermarks on `bufferedAmount`, in bytes.
///
/// The `Sink` accepts a message while `bufferedAmount` is at most `high`; above
/// it, `poll_ready` waits until `bufferedAmount` is at most `low`. So the browser
/// never buffers more than `high` plus one message. The plain `send_*` methods
/// ignore it and send at once.
///
/// # Example
///
/// ```
/// use browser_websocket::FlowControl;
///
/// assert_eq!(FlowControl::default(), FlowControl::new(1792 << 10, 1 << 20).unwrap());
/// let small = FlowControl::new(64 * 1024, 16 * 1024)?;
/// assert_eq!((small.high(), small.low()), (65536, 16384));
/// assert!(FlowControl::new(1024, 4096).is_err());
/// # Ok::<(), browser_websocket::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowControl {
    high: u32,
    low: u32,
}

impl FlowControl {
    /// Watermarks of `high` and `low` bytes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidWatermarks`] unless `low <= high`.
    ///
    /// # Example
    ///
    /// ```
    /// let flow = browser_websocket::FlowControl::new(4 << 20, 1 << 20)?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn new(high: u32, low: u32) -> Result<Self> {
        if low > high {
            return Err(Error::InvalidWatermarks { high, low });
        }
        Ok(Self { high, low })
    }

    /// No flow control: the `Sink` never waits (as other crates behave).
    ///
    /// # Example
    ///
    /// ```
    /// let unlimited = browser_websocket::FlowControl::unlimited();
    /// assert_eq!(unlimited.high(), u32::MAX);
    /// ```
    pub fn unlimited() -> Self {
        Self {
            high: u32::MAX,
            low: u32::MAX,
        }
    }

    /// The high watermark: above it, the `Sink` waits.
    ///
    /// ```
    /// assert_eq!(browser_websocket::FlowControl::default().high(), 1792 << 10);
    /// ```
    pub fn high(&self) -> u32 {
        self.high
    }

    /// The low watermark: the `Sink` resumes at or below it.
    ///
    /// ```
    /// assert_eq!(browser_websocket::FlowControl::default().low(), 1 << 20);
    /// ```
    pub fn low(&self) -> u32 {
        self.low
    }
}

impl Default for FlowControl {
    /// 1.75 MiB high, 1 MiB low: with messages up to 256 KiB the browser
    /// holds at most 2 MiB, and the low watermark leaves enough buffered that
    /// a loopback link (the fastest there is) is still sending when the `Sink`
    /// wakes. The guide's benchmarks chapter has the figures.
    fn default() -> Self {
        Self {
            high: 1792 << 10,
            low: 1 << 20,
        }
    }
}

/// The first wait, before the gate has seen the buffer drain.
const FIRST_WAIT: Duration = Duration::from_millis(1);
/// The longest wait: a link that speeds up is noticed within this.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_millis(50);

/// One look at the browser's buffer: `bufferedAmount`, and when (a monotonic
/// clock, in milliseconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Look {
    pub(crate) buffered: u32,
    pub(crate) at_ms: f64,
}

/// What the `Sink` does now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Send.
    Ready,
    /// Look at the buffer again after this long.
    WaitFor(Duration),
}

/// How many of the last looks the drain rate is taken over: browsers report
/// the drain in bursts (Firefox's buffer can stay put for 2 ms, then halve), so
/// one interval says little and a few say what the link does.
const RATE_WINDOW: usize = 8;

/// Whether the `Sink` may send now, and if not, when to look again.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// Waiting for the buffer to drain to the low watermark.
    paused: bool,
    /// An upper bound on `bufferedAmount`: the last value read plus every byte
    /// sent since (the browser's value can only have gone down from there).
    bound: u64,
    /// What the looks so far showed; made at the first look, so a socket
    /// whose `Sink` never waits carries none of it.
    history: Option<Box<DrainHistory>>,
}

/// The recent looks at the buffer.
#[derive(Debug, Default)]
struct DrainHistory {
    last_look: Option<Look>,
    /// The bytes drained and the milliseconds taken between recent looks.
    intervals: [(f64, f64); RATE_WINDOW],
    /// Where the next interval goes in `intervals`.
    next: usize,
}

impl Gate {
    /// May the `Sink` send now? `look` asks the browser, and is called only when
    /// the bound cannot answer.
    pub(crate) fn ready(&mut self, limits: FlowControl, look: impl FnOnce() -> Look) -> Admission {
        if !self.paused && self.bound <= u64::from(limits.high) {
            return Admission::Ready;
        }
        let Look { buffered, at_ms } = look();
        let buffered = u64::from(buffered);
        self.learn(buffered, at_ms);
        self.bound = buffered;
        self.paused = if self.paused {
            buffered > u64::from(limits.low)
        } else {
            buffered > u64::from(limits.high)
        };
        if self.paused {
            Admission::WaitFor(self.wait(buffered - u64::from(limits.low)))
        } else {
            Admission::Ready
        }
    }

    /// Counts bytes handed to the browser by any send.
    pub(crate) fn sent(&mut self, bytes: u64) {
        self.bound = self.bound.saturating_add(bytes);
    }

    /// The drain rate, bytes per millisecond, once an interval has been seen:
    /// what drained over the recent intervals, over their time (0 when
    /// nothing did).
    pub(crate) fn rate(&self) -> Option<f64> {
        let (bytes, ms) = self
            .history
            .as_ref()?
            .intervals
            .iter()
            .fold((0.0, 0.0), |(bytes, ms), (b, m)| (bytes + b, ms + m));
        Some(bytes / ms).filter(|rate| rate.is_finite())
    }

    /// Learns from a look: the bound was exactly what the buffer held at the
    /// last look plus what was sent since, so the difference is what drained
    /// in between.
    fn learn(&mut self, buffered: u64, at_ms: f64) {
        let history = self.history.get_or_insert_with(Box::default);
        let previous = history.last_look.replace(Look {
            buffered: u32::try_from(buffered).unwrap_or(u32::MAX),
            at_ms,
        });
        let Some(previous) = previous.filter(|look| look.buffered > 0) else {
            // The first look, or the buffer was empty then and filled since at
            // moments unknown: the interval says nothing of the rate.
            return;
        };
        let elapsed = at_ms - previous.at_ms;
        if elapsed <= 0.0 {
            // A clock too coarse to tell the two looks apart.
            return;
        }
        let drained = self.bound.saturating_sub(buffered) as f64;
        let interval = if buffered > 0 {
            // The buffer drained all along: the interval shows the rate.
            (drained, elapsed)
        } else {
            // It emptied at some point before this look, so the rate is more
            // than the interval shows. Counting it as twice as fast finds the
            // real rate in a few looks.
            (drained, elapsed / 2.0)
        };
        history.intervals[history.next] = interval;
        history.next = (history.next + 1) % RATE_WINDOW;
    }

    /// How long `excess` bytes above the low watermark should take to drain.
    fn wait(&self, excess: u64) -> Duration {
        let Some(rate) = self.rate() else {
            return FIRST_WAIT;
        };
        let ms = excess as f64 / rate;
        if ms.is_nan() || ms > LONGEST_WAIT.as_secs_f64() * 1000.0 {
            // Nothing drained lately (Chrome's buffer can sit still for
            // 150 ms, then drop by half), or far too much is buffered.
            return LONGEST_WAIT;
        }
        Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn watermarks_must_be_ordered() {
        assert_eq!(
            FlowControl::new(10, 20),
            Err(Error::InvalidWatermarks { high: 10, low: 20 })
        );
        assert!(FlowControl::new(10, 10).is_ok());
        assert!(FlowControl::new(0, 0).is_ok());
    }

    /// A look at `buffered` bytes at `at_ms`.
    fn look(buffered: u32, at_ms: f64) -> impl FnOnce() -> Look {
        move || Look { buffered, at_ms }
    }

    fn unasked() -> Look {
        unreachable!("the bound answers")
    }

    #[test]
    fn waits_above_high_and_resumes_at_low() {
        let limits = FlowControl::new(100, 40).unwrap();
        let mut gate = Gate::default();
        assert_eq!(gate.ready(limits, unasked), Admission::Ready);
        gate.sent(150);
        assert_eq!(
            gate.ready(limits, look(150, 0.0)),
            Admission::WaitFor(FIRST_WAIT)
        );
        assert!(
            matches!(gate.ready(limits, look(90, 1.0)), Admission::WaitFor(_)),
            "still above low"
        );
        assert_eq!(gate.ready(limits, look(40, 2.0)), Admission::Ready);
        // Back under high, the bound answers without asking.
        assert_eq!(gate.ready(limits, unasked), Admission::Ready);
    }

    #[test]
    fn asks_the_browser_only_when_the_bound_exceeds_high() {
        let limits = FlowControl::new(1000, 100).unwrap();
        let mut gate = Gate::default();
        let mut asked = 0;
        for _ in 0..10 {
            assert_eq!(
                gate.ready(limits, || {
                    asked += 1;
                    Look {
                        buffered: 0,
                        at_ms: 0.0,
                    }
                }),
                Admission::Ready
            );
            gate.sent(100);
        }
        // 10 sends of 100 bytes stay within the bound of 1000: no question asked.
        assert_eq!(asked, 0);
        assert_eq!(
            gate.ready(limits, unasked),
            Admission::Ready,
            "1000 is not above high"
        );
        gate.sent(1);
        assert_eq!(
            gate.ready(limits, || {
                asked += 1;
                Look {
                    buffered: 300,
                    at_ms: 1.0,
                }
            }),
            Admission::Ready
        );
        assert_eq!(asked, 1);
    }

    #[test]
    fn wakes_when_the_learnt_rate_says_the_buffer_reaches_low() {
        let limits = FlowControl::new(1000, 200).unwrap();
        let mut gate = Gate::default();
        gate.sent(1100);
        assert_eq!(
            gate.ready(limits, look(1100, 10.0)),
            Admission::WaitFor(FIRST_WAIT)
        );
        // 300 bytes drained in 3 ms: 100 bytes per ms, and 600 to go to low.
        assert_eq!(
            gate.ready(limits, look(800, 13.0)),
            Admission::WaitFor(Duration::from_millis(6))
        );
        assert_eq!(gate.rate(), Some(100.0));
    }

    #[test]
    fn an_empty_buffer_on_waking_counts_as_twice_as_fast() {
        let limits = FlowControl::new(1000, 200).unwrap();
        let mut gate = Gate::default();
        gate.sent(1100);
        gate.ready(limits, look(1100, 0.0));
        gate.ready(limits, look(1000, 1.0));
        assert_eq!(gate.rate(), Some(100.0));
        // Woken after 8 ms to an empty buffer: the 1000 bytes went faster
        // than 125 per ms, how much faster is unknown; counted as 250.
        assert_eq!(gate.ready(limits, look(0, 9.0)), Admission::Ready);
        assert_eq!(gate.rate(), Some(1100.0 / 5.0));
    }

    #[test]
    fn the_rate_is_taken_over_recent_looks_as_browsers_drain_in_bursts() {
        let limits = FlowControl::new(1 << 20, 0).unwrap();
        let mut gate = Gate::default();
        gate.sent(5_000_000);
        let mut buffered = 5_000_000;
        gate.ready(limits, look(buffered, 0.0));
        // Nothing for a millisecond, then 400 KB at once, again and again:
        // 200 KB per ms.
        for step in 1..=12 {
            if step % 2 == 0 {
                buffered -= 400_000;
            }
            gate.ready(limits, look(buffered, f64::from(step)));
        }
        assert_eq!(gate.rate(), Some(200_000.0));
    }

    #[test]
    fn a_buffer_that_sits_still_is_looked_at_every_longest_wait() {
        let limits = FlowControl::new(1000, 100).unwrap();
        let mut gate = Gate::default();
        gate.sent(1500);
        gate.ready(limits, look(1500, 0.0));
        for at in 1..=10 {
            let admission = gate.ready(limits, look(1500, f64::from(at) * 50.0));
            assert_eq!(admission, Admission::WaitFor(LONGEST_WAIT), "look {at}");
        }
        assert_eq!(gate.rate(), Some(0.0));
    }

    #[test]
    fn an_idle_buffer_says_nothing_and_the_wait_is_bounded() {
        let limits = FlowControl::new(1000, 0).unwrap();
        let mut gate = Gate::default();
        gate.sent(2000);
        gate.ready(limits, look(2000, 0.0));
        gate.ready(limits, look(1000, 1.0));
        assert_eq!(gate.rate(), Some(1000.0));
        gate.ready(limits, look(0, 2.0));
        assert_eq!(gate.rate(), Some(2000.0 / 1.5));
        // A minute later the buffer is full again, just sent: the minute it
        // sat empty says nothing of the rate.
        gate.sent(2000);
        assert_eq!(
            gate.ready(limits, look(2000, 60_000.0)),
            Admission::WaitFor(Duration::from_micros(1500))
        );
        // A link that slows to a byte per ms is looked at every 50 ms, not less.
        for at in 1..=20 {
            gate.ready(limits, look(2000 - at, 60_000.0 + f64::from(at)));
        }
        assert_eq!(
            gate.ready(limits, look(1979, 60_021.0)),
            Admission::WaitFor(LONGEST_WAIT)
        );
    }

    /// The `Sink` against a link that drains `rate` bytes per ms, woken by
    /// timers that fire late by up to `lateness_ms`: how long it takes to send
    /// `total` bytes in `message`-byte sends, and how often it looked.
    fn simulate(
        limits: FlowControl,
        rate: f64,
        lateness_ms: f64,
        total: u64,
        message: u64,
    ) -> (f64, u64) {
        let mut gate = Gate::default();
        let (mut now, mut buffered, mut sent, mut looks) = (0.0f64, 0.0f64, 0u64, 0u64);
        while sent < total || buffered > 0.0 {
            if sent >= total {
                now += buffered / rate;
                break;
            }
            let seen = buffered.ceil() as u32;
            match gate.ready(limits, || {
                looks += 1;
                Look {
                    buffered: seen,
                    at_ms: now,
                }
            }) {
                Admission::Ready => {
                    buffered += message as f64;
                    sent += message;
                    gate.sent(message);
                    assert!(buffered <= f64::from(limits.high()) + message as f64);
                }
                Admission::WaitFor(wait) => {
                    assert!(wait <= LONGEST_WAIT);
                    let elapsed = wait.as_secs_f64() * 1000.0 + lateness_ms;
                    now += elapsed;
                    buffered = (buffered - rate * elapsed).max(0.0);
                }
            }
        }
        (now, looks)
    }

    #[test]
    fn at_loopback_speed_the_sink_keeps_the_link_busy_with_few_looks() {
        let total = 32 << 20;
        for rate in [100_000.0, 400_000.0, 1_000_000.0] {
            let (ms, looks) = simulate(FlowControl::default(), rate, 0.2, total, 64 << 10);
            let ideal = total as f64 / rate;
            assert!(ms < ideal * 1.1, "{rate} B/ms: {ms} ms against {ideal}");
            let per_mib = looks as f64 / 32.0;
            assert!(per_mib < 4.0, "{rate} B/ms: {per_mib} looks per MiB");
        }
    }

    #[test]
    fn on_a_slow_link_the_sink_looks_rarely() {
        // 100 bytes per ms (800 kbit/s): 2 MiB take 21 s.
        let (ms, looks) = simulate(FlowControl::default(), 100.0, 1.0, 2 << 20, 16 << 10);
        assert!(ms < 21_000.0 * 1.02, "{ms} ms");
        assert!(looks < 21_000 / 40, "{looks} looks in {ms} ms");
    }

    proptest! {
        /// Against a model of a network that drains at a random pace, the Sink
        /// never lets `bufferedAmount` exceed `high` plus one message, never
        /// stalls when the buffer is at or below `low`, and never waits longer
        /// than the longest wait.
        #[test]
        fn buffer_stays_bounded_and_never_stalls_when_drained(
            high in 1u32..100_000,
            low_fraction in 0.0f64..=1.0,
            steps in prop::collection::vec((1u32..20_000, 0u32..30_000, 0.0f64..20.0), 1..300),
        ) {
            let low = (f64::from(high) * low_fraction) as u32;
            let limits = FlowControl::new(high, low).unwrap();
            let mut gate = Gate::default();
            let mut buffered: u64 = 0;
            let mut clock = 0.0;
            for (message, drained, elapsed) in steps {
                buffered = buffered.saturating_sub(u64::from(drained));
                clock += elapsed;
                let seen = Look { buffered: u32::try_from(buffered).unwrap_or(u32::MAX), at_ms: clock };
                let admission = gate.ready(limits, || seen);
                if buffered <= u64::from(low) {
                    prop_assert_eq!(admission, Admission::Ready, "stalled at {} <= low {}", buffered, low);
                }
                match admission {
                    Admission::Ready => {
                        prop_assert!(buffered <= u64::from(high));
                        buffered += u64::from(message);
                        gate.sent(u64::from(message));
                        prop_assert!(buffered <= u64::from(high) + u64::from(message));
                    }
                    Admission::WaitFor(wait) => prop_assert!(wait <= LONGEST_WAIT),
                }
            }
        }
    }
}
