//! Flow control for the `Sink`, as pure logic: high and low watermarks on the
//! browser's `bufferedAmount`, and an upper bound on it that saves asking the
//! browser before every send.
//!
//! Browsers buffer every `send` without limit and fire no event when the buffer
//! drains. So `poll_ready` stops the producer when `bufferedAmount` is above the
//! high watermark, and a timer polls until it falls to the low watermark
//! (hysteresis: the producer then refills a whole `high - low` at once).

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
/// assert_eq!(FlowControl::default(), FlowControl::new(1 << 20, 256 << 10).unwrap());
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
    /// assert_eq!(browser_websocket::FlowControl::default().high(), 1 << 20);
    /// ```
    pub fn high(&self) -> u32 {
        self.high
    }

    /// The low watermark: the `Sink` resumes at or below it.
    ///
    /// ```
    /// assert_eq!(browser_websocket::FlowControl::default().low(), 256 << 10);
    /// ```
    pub fn low(&self) -> u32 {
        self.low
    }
}

impl Default for FlowControl {
    /// 1 MiB high, 256 KiB low.
    fn default() -> Self {
        Self {
            high: 1 << 20,
            low: 256 << 10,
        }
    }
}

/// Whether the `Sink` may send now.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// Waiting for the buffer to drain to the low watermark.
    paused: bool,
    /// An upper bound on `bufferedAmount`: the last value read plus every byte
    /// sent since (the browser's value can only have gone down from there).
    bound: u64,
}

impl Gate {
    /// May the `Sink` send now? `read_buffered` asks the browser, and is called
    /// only when the bound cannot answer.
    pub(crate) fn ready(
        &mut self,
        limits: FlowControl,
        read_buffered: impl FnOnce() -> u32,
    ) -> bool {
        if !self.paused && self.bound <= u64::from(limits.high) {
            return true;
        }
        let buffered = read_buffered();
        self.bound = u64::from(buffered);
        self.paused = if self.paused {
            buffered > limits.low
        } else {
            buffered > limits.high
        };
        !self.paused
    }

    /// Counts bytes handed to the browser by any send.
    pub(crate) fn sent(&mut self, bytes: u64) {
        self.bound = self.bound.saturating_add(bytes);
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

    #[test]
    fn waits_above_high_and_resumes_at_low() {
        let limits = FlowControl::new(100, 40).unwrap();
        let mut gate = Gate::default();
        assert!(gate.ready(limits, || unreachable!("the bound answers")));
        gate.sent(150);
        assert!(!gate.ready(limits, || 150));
        assert!(!gate.ready(limits, || 90), "still above low");
        assert!(gate.ready(limits, || 40));
        // Back under high, the bound answers without asking.
        assert!(gate.ready(limits, || unreachable!("the bound answers")));
    }

    #[test]
    fn asks_the_browser_only_when_the_bound_exceeds_high() {
        let limits = FlowControl::new(1000, 100).unwrap();
        let mut gate = Gate::default();
        let mut asked = 0;
        for _ in 0..10 {
            assert!(gate.ready(limits, || {
                asked += 1;
                0
            }));
            gate.sent(100);
        }
        // 10 sends of 100 bytes stay within the bound of 1000: no question asked.
        assert_eq!(asked, 0);
        assert!(gate.ready(limits, || unreachable!("1000 is not above high")));
        gate.sent(1);
        assert!(gate.ready(limits, || {
            asked += 1;
            300
        }));
        assert_eq!(asked, 1);
    }

    proptest! {
        /// Against a model of a network that drains at a random pace, the Sink
        /// never lets `bufferedAmount` exceed `high` plus one message, and never
        /// stalls when the buffer is at or below `low`.
        #[test]
        fn buffer_stays_bounded_and_never_stalls_when_drained(
            high in 1u32..100_000,
            low_fraction in 0.0f64..=1.0,
            steps in prop::collection::vec((1u32..20_000, 0u32..30_000), 1..300),
        ) {
            let low = (f64::from(high) * low_fraction) as u32;
            let limits = FlowControl::new(high, low).unwrap();
            let mut gate = Gate::default();
            let mut buffered: u64 = 0;
            for (message, drained) in steps {
                buffered = buffered.saturating_sub(u64::from(drained));
                let now = buffered;
                let ready = gate.ready(limits, || u32::try_from(now).unwrap_or(u32::MAX));
                if buffered <= u64::from(low) {
                    prop_assert!(ready, "stalled at {buffered} <= low {low}");
                }
                if ready {
                    prop_assert!(buffered <= u64::from(high));
                    buffered += u64::from(message);
                    gate.sent(u64::from(message));
                    prop_assert!(buffered <= u64::from(high) + u64::from(message));
                }
            }
        }
    }
}
