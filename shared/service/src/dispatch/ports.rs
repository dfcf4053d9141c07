//! The ports of the order dispatch: the downstream order system, our dispatch log (who is
//! dispatching which order, and which are done), the order's dispatch status, and sleeping.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use time::OffsetDateTime;

use crate::store::StoreError;

pub use crate::clock::Sleeper;

/// What the downstream answered to one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownstreamAnswer {
    /// An HTTP answer.
    Http {
        /// Status code.
        status: u16,
        /// Body text (may be empty).
        body: String,
    },
    /// No complete answer within the call's timeout.
    Timeout(String),
    /// No connection (refused, DNS, TLS), or the credential could not be obtained.
    Unreachable(String),
}

/// The downstream TMF622 order system.
///
/// An implementation sends the `Idempotency-Key` with every POST, returns within
/// [`Downstream::call_timeout`] and turns every outcome, errors included, into a
/// [`DownstreamAnswer`].
#[async_trait]
pub trait Downstream: Send + Sync {
    /// A name for logs and the circuit breaker.
    fn name(&self) -> &str;

    /// The total timeout of one call (the retry schedule keeps time for one more call).
    fn call_timeout(&self) -> Duration;

    /// POSTs the order to `productOrder` with this `Idempotency-Key`. Never fails: every
    /// outcome is an answer to classify.
    async fn post_order(&self, order: &Value, idempotency_key: &str) -> DownstreamAnswer;
}

/// The outcome of claiming an order for dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchClaim {
    /// This caller may call the downstream until the lease ends; `attempt` counts the
    /// claims of this order so far (1 on the first). Finish with `complete` or `release`.
    Claimed {
        /// The claim's number: also its fencing token for [`DispatchLog::release`].
        attempt: u32,
    },
    /// The order was dispatched already: nothing to call.
    AlreadyDispatched {
        /// The downstream's id, if it named one.
        downstream_id: Option<String>,
        /// Claims the order took.
        attempts: u32,
    },
    /// Another caller holds an unexpired lease on the order.
    InProgress {
        /// When that lease ends.
        lease_until: OffsetDateTime,
    },
}

/// Our record of dispatches, per tenant and order: a claim is a conditional write, so two
/// copies of a message cannot call the downstream for one order at the same time.
///
/// A claim's lease: taken at `now`, held until `until` (then another copy may claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// When the claim is made.
    pub now: OffsetDateTime,
    /// When it ends unless completed or released first.
    pub until: OffsetDateTime,
}

/// A finished dispatch: the downstream's id of the order, if it gave one, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dispatched<'a> {
    /// The id the order management system gave the order.
    pub downstream_id: Option<&'a str>,
    /// When the dispatch was confirmed.
    pub at: OffsetDateTime,
}

/// An adapter guarantees that `claim` is one conditional write (of concurrent claims at
/// most one is granted), that `complete` is final and idempotent, and that `release` only
/// ends the claim numbered `attempt` (checked by `q2c-contract`'s dispatch log suite).
#[async_trait]
pub trait DispatchLog: Send + Sync {
    /// Claims the order for the `lease`: granted when there is no record, or the record is
    /// not dispatched and its lease ended at or before `lease.now` (released or abandoned).
    async fn claim(&self, order: OrderKey<'_>, lease: Lease) -> Result<DispatchClaim, StoreError>;

    /// Marks the order dispatched (final; idempotent).
    async fn complete(&self, order: OrderKey<'_>, done: Dispatched<'_>) -> Result<(), StoreError>;

    /// Ends claim `attempt` without a dispatch so that the next copy can claim at once;
    /// does nothing when the record is dispatched or another claim took over.
    async fn release(&self, order: OrderKey<'_>, attempt: u32) -> Result<(), StoreError>;
}

/// The dispatch status recorded on the order, and a change of it: the order store's own
/// types (one definition, `crate::orders`).
pub use crate::orders::{Dispatch as DispatchUpdate, DispatchStatus, OrderKey};

/// Where the dispatch status of an order is recorded (the order store implements it).
/// Calls are idempotent: the same update may be recorded more than once.
#[async_trait]
pub trait DispatchStatusSink: Send + Sync {
    /// Records the order's dispatch status.
    async fn record_dispatch(
        &self,
        order: OrderKey<'_>,
        update: DispatchUpdate,
    ) -> Result<(), StoreError>;
}

/// The [`DispatchStatusSink`] of an [`OrderStore`](crate::orders::OrderStore): records the
/// dispatch outcome on the order (a `failed` one also announces it on the ordering hub, in
/// the same write).
#[derive(Clone)]
pub struct OrderStatusSink(pub std::sync::Arc<dyn crate::orders::OrderStore>);

#[async_trait]
impl DispatchStatusSink for OrderStatusSink {
    async fn record_dispatch(
        &self,
        order: OrderKey<'_>,
        update: DispatchUpdate,
    ) -> Result<(), StoreError> {
        self.0.record_dispatch(order, update).await
    }
}
