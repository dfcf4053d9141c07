//! The in-invocation retry schedule: exponential backoff with full jitter, bounded by an
//! attempt count and by the time the invocation has left.
//!
//! Our own ~40 lines instead of `backon`: the schedule must take the remaining Lambda time
//! into account on every step and draw its jitter from an injected source so that tests can
//! pin it without sleeping; `backon` owns its sleeping and its random numbers.

use std::sync::Arc;
use std::time::Duration;

/// Where the jitter comes from: a duration drawn uniformly from `0..=upper`.
pub trait JitterSource: Send + Sync {
    /// A duration in `0..=upper`.
    fn pick(&self, upper: Duration) -> Duration;
}

/// Uniform jitter from the thread-local random generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomJitter;

impl JitterSource for RandomJitter {
    fn pick(&self, upper: Duration) -> Duration {
        let nanos = u64::try_from(upper.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::random_range(0..=nanos))
    }
}

/// Exponential backoff with full jitter: the delay before retry `n` (0-based) is drawn from
/// `0..=min(cap, base * 2^n)`.
#[derive(Clone)]
pub struct RetrySchedule {
    /// Ceiling of the first delay.
    pub base: Duration,
    /// Largest ceiling.
    pub cap: Duration,
    /// Most calls in one invocation (first call included).
    pub max_calls: u32,
    /// How long a message is hidden after its first failed delivery.
    pub redelivery_base: Duration,
    /// Longest a failed message is hidden before its next delivery.
    pub redelivery_cap: Duration,
    jitter: Arc<dyn JitterSource>,
}

impl std::fmt::Debug for RetrySchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetrySchedule")
            .field("base", &self.base)
            .field("cap", &self.cap)
            .field("max_calls", &self.max_calls)
            .field("redelivery_base", &self.redelivery_base)
            .field("redelivery_cap", &self.redelivery_cap)
            .finish_non_exhaustive()
    }
}

impl Default for RetrySchedule {
    /// 200 ms base, 5 s cap, 4 calls, redelivery after 30 s doubling up to 15 min, random
    /// jitter.
    fn default() -> Self {
        RetrySchedule::new(Duration::from_millis(200), Duration::from_secs(5), 4)
    }
}

impl RetrySchedule {
    /// A schedule with random jitter.
    pub fn new(base: Duration, cap: Duration, max_calls: u32) -> Self {
        RetrySchedule {
            base,
            cap,
            max_calls,
            redelivery_base: Duration::from_secs(30),
            redelivery_cap: Duration::from_secs(15 * 60),
            jitter: Arc::new(RandomJitter),
        }
    }

    /// The same schedule drawing its jitter from `jitter`.
    pub fn with_jitter(mut self, jitter: Arc<dyn JitterSource>) -> Self {
        self.jitter = jitter;
        self
    }

    /// The ceiling of the delay before retry `retry` (0-based): `min(cap, base * 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.checked_pow(retry).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// The delay before the call after `calls_made` calls, or `None` when no retry fits:
    /// the call budget is spent, or waiting plus one more call (`call_time`, the call's
    /// total timeout) would not end within `remaining`. A drawn delay longer than the time
    /// left for waiting is shortened to it.
    pub fn next_delay(
        &self,
        calls_made: u32,
        remaining: Duration,
        call_time: Duration,
    ) -> Option<Duration> {
        if calls_made == 0 || calls_made >= self.max_calls {
            return None;
        }
        let time_to_wait = remaining.checked_sub(call_time)?;
        let drawn = self.jitter.pick(self.ceiling(calls_made - 1));
        Some(drawn.min(time_to_wait))
    }

    /// How long a message should stay hidden before its next delivery after it failed in
    /// its `deliveries`-th invocation (1-based): `redelivery_base * 2^(deliveries - 1)`, at
    /// most `redelivery_cap`. With the queue's `maxReceiveCount` of 5 this spreads the five
    /// deliveries over about 15 minutes (30 s + 1 + 2 + 4 + 8 min) before SQS dead-letters the
    /// message, and spreads the retries of a backlog instead of sending them together.
    pub fn redelivery_delay(&self, deliveries: u32) -> Duration {
        let factor = 2u32
            .checked_pow(deliveries.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.redelivery_base
            .checked_mul(factor)
            .unwrap_or(self.redelivery_cap)
            .min(self.redelivery_cap)
    }
}
