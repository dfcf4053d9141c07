//! Order dispatch: the consumer of the `orders` queue that hands each product order to the
//! downstream TMF622 order-management system, at least once and de-duplicably.
//!
//! - [`classify`](mod@classify): what a downstream answer means (dispatched, duplicate, permanent, transient).
//! - [`retry`]: [`RetrySchedule`], backoff with full jitter bounded by the remaining time.
//! - [`breaker`]: [`CircuitBreaker`] per downstream.
//! - [`ports`]: [`Downstream`], [`DispatchLog`], [`DispatchStatusSink`], [`Sleeper`].
//! - [`usecase`]: [`OrderDispatch`], the handler, and its [`DispatchOutcome`].

pub mod breaker;
pub mod classify;
#[cfg(test)]
pub(crate) mod fakes;
pub mod ports;
pub mod retry;
#[cfg(test)]
mod tests;
pub mod usecase;

pub use breaker::{
    BreakerState, CircuitBreaker, DEFAULT_OPEN_FOR, DEFAULT_THRESHOLD, Permit, StateChangeHook,
};
pub use classify::{AUTH_REFUSALS_BEFORE_PERMANENT, Classification, classify, classify_answer};
pub use ports::{
    DispatchClaim, DispatchLog, DispatchStatus, DispatchStatusSink, DispatchUpdate, Dispatched,
    Downstream, DownstreamAnswer, Lease, OrderKey, OrderStatusSink, Sleeper,
};
pub use retry::{JitterSource, RandomJitter, RetrySchedule};
pub use usecase::{DispatchOutcome, OrderDispatch, idempotency_key};
