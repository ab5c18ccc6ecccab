//! When and how soon to reconnect, as pure logic: exponential backoff with full
//! jitter, and the decision per close.

use std::rc::Rc;
use std::time::Duration;

use crate::rules::close::{CloseCode, CloseEvent};

/// The app's own reconnect rule.
type CloseRule = Rc<dyn Fn(&CloseEvent) -> bool>;

/// How a [`ReconnectingWebSocket`](crate::ReconnectingWebSocket) retries.
///
/// The first connection is tried at once. Retry *n* after a drop (or after a
/// failed attempt) waits a delay drawn uniformly between `min_delay` and
/// `min(max_delay, min_delay × factor^(n-1))` ("full jitter", so that many
/// clients dropped together do not return together). The retry counter resets
/// once a connection has stayed up for `stable_after`.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use browser_websocket::ReconnectPolicy;
///
/// let policy = ReconnectPolicy::default()
///     .delays(Duration::from_millis(250), Duration::from_secs(10))
///     .max_attempts(Some(20));
/// assert_eq!(policy.delay_before_retry(1, 0.0), Duration::from_millis(250));
/// assert!(policy.delay_before_retry(5, 1.0) <= Duration::from_secs(10));
/// ```
#[derive(Clone)]
pub struct ReconnectPolicy {
    pub(crate) min_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) factor: f64,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) connect_timeout: Duration,
    pub(crate) stable_after: Duration,
    pub(crate) final_codes: Vec<u16>,
    pub(crate) rule: Option<CloseRule>,
}

impl Default for ReconnectPolicy {
    /// 0.5 s to 30 s, factor 2, unlimited attempts, 10 s connect timeout, reset
    /// after 5 s up; reconnect after 1006, 1001, 1012 and 1013.
    fn default() -> Self {
        Self {
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            factor: 2.0,
            max_attempts: None,
            connect_timeout: Duration::from_secs(10),
            stable_after: Duration::from_secs(5),
            final_codes: Vec::new(),
            rule: None,
        }
    }
}

impl std::fmt::Debug for ReconnectPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectPolicy")
            .field("min_delay", &self.min_delay)
            .field("max_delay", &self.max_delay)
            .field("factor", &self.factor)
            .field("max_attempts", &self.max_attempts)
            .field("connect_timeout", &self.connect_timeout)
            .field("stable_after", &self.stable_after)
            .field("final_codes", &self.final_codes)
            .field("custom_rule", &self.rule.is_some())
            .finish()
    }
}

impl ReconnectPolicy {
    /// The smallest and largest delay between attempts (`max` is raised to
    /// `min` if below it).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let policy = browser_websocket::ReconnectPolicy::default().delays(Duration::from_millis(100), Duration::from_secs(5));
    /// ```
    pub fn delays(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// How much the ceiling grows per attempt (at least 1).
    ///
    /// ```
    /// let policy = browser_websocket::ReconnectPolicy::default().factor(1.5);
    /// ```
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Give up after this many failed attempts in a row (`None`: never).
    ///
    /// ```
    /// let policy = browser_websocket::ReconnectPolicy::default().max_attempts(Some(10));
    /// ```
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// How long one attempt may take to open before it counts as failed.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let policy = browser_websocket::ReconnectPolicy::default().connect_timeout(Duration::from_secs(3));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a connection must stay up for the attempt counter to reset.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let policy = browser_websocket::ReconnectPolicy::default().stable_after(Duration::from_secs(30));
    /// ```
    pub fn stable_after(mut self, duration: Duration) -> Self {
        self.stable_after = duration;
        self
    }

    /// Close codes after which the app wants no reconnection (e.g. 4001
    /// "logged out").
    ///
    /// ```
    /// let policy = browser_websocket::ReconnectPolicy::default().final_codes([4001, 4003]);
    /// ```
    pub fn final_codes(mut self, codes: impl IntoIterator<Item = u16>) -> Self {
        self.final_codes = codes.into_iter().collect();
        self
    }

    /// The app's own rule: reconnect after this close? Replaces the default
    /// rule (final codes still never reconnect, nor does the app's own close).
    ///
    /// ```
    /// let policy = browser_websocket::ReconnectPolicy::default().reconnect_if(|event| !event.was_clean);
    /// ```
    pub fn reconnect_if(mut self, rule: impl Fn(&CloseEvent) -> bool + 'static) -> Self {
        self.rule = Some(Rc::new(rule));
        self
    }

    /// The delay before retry `retry` (1 is the first after a drop or a failed
    /// first connection), given a uniform random number in `[0, 1]`: between
    /// `min_delay` and `min(max_delay, min_delay × factor^(retry-1))`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let policy = browser_websocket::ReconnectPolicy::default();
    /// assert_eq!(policy.delay_before_retry(1, 1.0), Duration::from_millis(500));
    /// assert_eq!(policy.delay_before_retry(3, 0.0), Duration::from_millis(500));
    /// assert_eq!(policy.delay_before_retry(3, 1.0), Duration::from_millis(2000));
    /// assert_eq!(policy.delay_before_retry(30, 1.0), Duration::from_secs(30));
    /// // The longest delays, without a panic.
    /// let longest = browser_websocket::ReconnectPolicy::default().delays(Duration::MAX, Duration::MAX);
    /// assert_eq!(longest.delay_before_retry(1, 1.0), Duration::MAX);
    /// ```
    pub fn delay_before_retry(&self, retry: u32, unit_random: f64) -> Duration {
        let min = self.min_delay.as_secs_f64();
        let exponent = i32::try_from(retry.max(1) - 1).unwrap_or(i32::MAX);
        let ceiling = (min * self.factor.powi(exponent))
            .min(self.max_delay.as_secs_f64())
            .max(min);
        let random = if unit_random.is_finite() {
            unit_random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Delays near `Duration::MAX` round up past it as f64 seconds.
        Duration::try_from_secs_f64(min + random * (ceiling - min)).unwrap_or(Duration::MAX)
    }

    /// Whether another attempt is allowed after `failed` failures in a row.
    pub(crate) fn may_attempt(&self, failed: u32) -> bool {
        self.max_attempts.is_none_or(|max| failed < max)
    }

    /// Whether to reconnect after `event`. Never after the app's own close or a
    /// final code; otherwise the app's rule, or by default after an abnormal
    /// close (1006), the server going away (1001), restarting (1012) or asking
    /// to try again later (1013).
    ///
    /// ```
    /// use browser_websocket::{CloseCode, CloseEvent, ReconnectPolicy};
    /// let event = |code: u16| CloseEvent { code: code.into(), reason: String::new(), was_clean: code != 1006 };
    /// let policy = ReconnectPolicy::default().final_codes([4001]);
    /// assert!(policy.should_reconnect(&event(1012), false));
    /// assert!(!policy.should_reconnect(&event(1012), true));
    /// assert!(!policy.should_reconnect(&event(4001), false));
    /// assert!(!policy.should_reconnect(&event(1000), false));
    /// ```
    pub fn should_reconnect(&self, event: &CloseEvent, closed_by_app: bool) -> bool {
        if closed_by_app || self.final_codes.contains(&u16::from(event.code)) {
            return false;
        }
        match &self.rule {
            Some(rule) => rule(event),
            None => matches!(
                event.code,
                CloseCode::Abnormal
                    | CloseCode::GoingAway
                    | CloseCode::ServiceRestart
                    | CloseCode::TryAgainLater
            ),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn delays_stay_between_min_and_the_growing_ceiling(
            min_ms in 0u64..5_000, extra_ms in 0u64..60_000, factor in 1.0f64..4.0,
            retry in 1u32..200, random in 0.0f64..=1.0,
        ) {
            let min = Duration::from_millis(min_ms);
            let max = Duration::from_millis(min_ms + extra_ms);
            let policy = ReconnectPolicy::default().delays(min, max).factor(factor);
            let delay = policy.delay_before_retry(retry, random).as_secs_f64();
            let ceiling = (min.as_secs_f64() * factor.powi((retry - 1) as i32)).min(max.as_secs_f64());
            prop_assert!(delay + 1e-6 >= min.as_secs_f64(), "{delay} < {min:?}");
            prop_assert!(delay <= ceiling.max(min.as_secs_f64()) + 1e-6, "{delay} > {ceiling}");
            // Full jitter: the whole range is reachable.
            let top = policy.delay_before_retry(retry, 1.0).as_secs_f64();
            prop_assert!((top - ceiling.max(min.as_secs_f64())).abs() < 1e-6);
        }

        #[test]
        fn the_apps_close_and_final_codes_never_reconnect(code in 0u16..5000, clean: bool) {
            let policy = ReconnectPolicy::default().final_codes([code]).reconnect_if(|_| true);
            let event = CloseEvent { code: code.into(), reason: String::new(), was_clean: clean };
            prop_assert!(!policy.should_reconnect(&event, false));
            let open = ReconnectPolicy::default().reconnect_if(|_| true);
            prop_assert!(!open.should_reconnect(&event, true));
            prop_assert!(open.should_reconnect(&event, false));
        }

        #[test]
        fn attempts_are_limited_when_asked(max in 0u32..50, failed in 0u32..100) {
            let policy = ReconnectPolicy::default().max_attempts(Some(max));
            prop_assert_eq!(policy.may_attempt(failed), failed < max);
            prop_assert!(ReconnectPolicy::default().may_attempt(failed));
        }
    }
}
