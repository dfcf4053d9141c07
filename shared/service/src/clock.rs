//! Foundation: time as the use-cases see it, injected so that expiry, validity, backoff and
//! leases are testable: [`Clock`] (now) and [`Sleeper`] (waiting). Names nothing else in the
//! crate.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

/// The current time. Injected so that expiry and validity are testable.
///
/// An implementation answers the current time in UTC, the same time for every use-case of
/// one process (leases, backoff and the circuit breaker measure intervals with it).
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Waiting, injected so that tests advance a fake clock instead of sleeping.
///
/// An implementation returns no earlier than `duration` later, as its [`Clock`] measures
/// time (a fake advances its fake clock by `duration`).
#[async_trait]
pub trait Sleeper: Send + Sync {
    /// Returns after `duration`.
    async fn sleep(&self, duration: Duration);
}
