//! The `orders` queue consumer: [`OrderDispatch`] POSTs each order to order management, at
//! most one copy at a time, retrying transient failures inside the invocation while time
//! allows and the circuit breaker is closed, and says how long to hide a message it returns.

use std::sync::Arc;
use std::time::Duration;

use q2c_model::tmf::ProductOrder;
use serde_json::Value;
use time::OffsetDateTime;
use tracing::Instrument;

use super::breaker::{CircuitBreaker, Permit, duration_between};
use super::classify::{Classification, classify_answer};
use super::ports::{
    DispatchClaim, DispatchLog, DispatchStatus, DispatchStatusSink, DispatchUpdate, Dispatched,
    Downstream, Lease, OrderKey, Sleeper,
};
use super::retry::RetrySchedule;
use crate::clock::Clock;
use crate::context::TenantId;
use crate::messaging::{HandlerError, ParsedMessage};
use crate::store::StoreError;

/// What became of one order message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchOutcome {
    /// This delivery dispatched the order (or found the downstream already had it).
    Dispatched {
        /// The downstream's id of the order.
        downstream_id: Option<String>,
        /// POSTs made by this delivery.
        calls: u32,
    },
    /// An earlier delivery dispatched it: nothing was called.
    AlreadyDispatched,
    /// Not dispatched yet: return the message and hide it for `after` (extend its
    /// visibility) so that retries spread out.
    RetryLater {
        /// Suggested visibility timeout before the next delivery.
        after: Duration,
        /// Why.
        reason: String,
    },
    /// The message can never succeed (unparseable, or refused by order management): send it
    /// to the DLQ with this reason.
    Rejected {
        /// The `failureReason`.
        reason: String,
    },
}

impl DispatchOutcome {
    /// The visibility timeout to set on a returned message, if it is returned.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DispatchOutcome::RetryLater { after, .. } => Some(*after),
            _ => None,
        }
    }

    /// The outcome in the shared handler contract: `RetryLater` → `Transient`, `Rejected` →
    /// `Poison`.
    pub fn into_result(self) -> Result<(), HandlerError> {
        match self {
            DispatchOutcome::Dispatched { .. } | DispatchOutcome::AlreadyDispatched => Ok(()),
            DispatchOutcome::RetryLater { after, reason } => Err(HandlerError::Transient(
                Box::new(crate::messaging::RetryAfter { after, reason }),
            )),
            DispatchOutcome::Rejected { reason } => Err(HandlerError::Poison { reason }),
        }
    }
}

/// Time kept back from the deadline for our own bookkeeping after the last call.
const BOOKKEEPING: Duration = Duration::from_millis(500);

/// The order dispatch use-case. Share one per process: the circuit breaker inside is the
/// breaker of this consumer.
pub struct OrderDispatch {
    downstream: Arc<dyn Downstream>,
    log: Arc<dyn DispatchLog>,
    status: Arc<dyn DispatchStatusSink>,
    breaker: Arc<CircuitBreaker>,
    schedule: RetrySchedule,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
}

/// Why an attempt loop stopped without dispatching.
enum Stop {
    Retry { after: Duration, reason: String },
    Refused { reason: String },
}

impl OrderDispatch {
    /// The use-case over its ports.
    pub fn new(
        downstream: Arc<dyn Downstream>,
        log: Arc<dyn DispatchLog>,
        status: Arc<dyn DispatchStatusSink>,
        breaker: Arc<CircuitBreaker>,
        schedule: RetrySchedule,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Self {
        OrderDispatch {
            downstream,
            log,
            status,
            breaker,
            schedule,
            clock,
            sleeper,
        }
    }

    /// The circuit breaker of this consumer.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// Handles one `orders` message (handler contract of the consumers); finish by
    /// `deadline` (the Lambda deadline, or the poller's visibility timeout).
    ///
    /// # Errors
    /// `Transient` for a message to return, `Poison` for one to dead-letter.
    pub async fn handle(
        &self,
        message: ParsedMessage,
        deadline: OffsetDateTime,
    ) -> Result<(), HandlerError> {
        self.dispatch(message, deadline).await.into_result()
    }

    /// Handles one `orders` message and says what became of it (drivers that can extend a
    /// message's visibility use [`DispatchOutcome::retry_after`]). A failure of our own
    /// stores returns the message (`RetryLater`).
    pub async fn dispatch(
        &self,
        message: ParsedMessage,
        deadline: OffsetDateTime,
    ) -> DispatchOutcome {
        let (tenant, order) = match parse(&message) {
            Ok(parsed) => parsed,
            Err(reason) => return DispatchOutcome::Rejected { reason },
        };
        let order_id = order.id.clone().unwrap_or_default();
        let span = tracing::info_span!("dispatch_order", tenant = %tenant, order_id = %order_id);
        let deliveries = message.receive_count.unwrap_or(1);
        match self
            .dispatch_order(&tenant, order, deliveries, deadline)
            .instrument(span)
            .await
        {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(%tenant, %order_id, error = ?error, "order dispatch bookkeeping failed");
                DispatchOutcome::RetryLater {
                    after: self.schedule.base,
                    reason: format!("dispatch bookkeeping failed: {error}"),
                }
            }
        }
    }

    async fn dispatch_order(
        &self,
        tenant: &TenantId,
        order: ProductOrder,
        deliveries: u32,
        deadline: OffsetDateTime,
    ) -> Result<DispatchOutcome, StoreError> {
        let order_id = order.id.clone().unwrap_or_default();
        // While the breaker is open, return the message before touching any store: a
        // backlog during an outage costs neither the downstream nor our tables anything.
        if let Some(retry_after) = self.breaker.refusing() {
            return Ok(DispatchOutcome::RetryLater {
                after: retry_after.max(self.schedule.redelivery_delay(deliveries)),
                reason: self.breaker_open_reason(),
            });
        }
        let now = self.clock.now();
        let call_timeout = self.downstream.call_timeout();
        // A call that could outlive the invocation would leave its result unrecorded: leave
        // the message to a later delivery instead (the last messages of a slow batch).
        if duration_between(now, deadline) < call_timeout + BOOKKEEPING {
            return Ok(DispatchOutcome::RetryLater {
                after: self.schedule.base,
                reason: "not enough time left in this invocation for a call".into(),
            });
        }
        // The lease covers this whole invocation; a copy delivered meanwhile waits it out.
        let lease = Lease {
            now,
            until: deadline + call_timeout,
        };
        let key = OrderKey::new(tenant, &order_id);
        let attempt = match self.log.claim(key, lease).await? {
            DispatchClaim::Claimed { attempt } => attempt,
            DispatchClaim::AlreadyDispatched {
                downstream_id,
                attempts,
            } => {
                // The status may not have been recorded if we died right after `complete`.
                self.record(
                    key,
                    DispatchStatus::Dispatched,
                    attempts,
                    None,
                    downstream_id,
                )
                .await?;
                return Ok(DispatchOutcome::AlreadyDispatched);
            }
            DispatchClaim::InProgress { lease_until } => {
                return Ok(DispatchOutcome::RetryLater {
                    after: duration_between(now, lease_until).max(self.schedule.base),
                    reason: "another delivery of this order is being dispatched".into(),
                });
            }
        };
        let body = downstream_body(order, &order_id);
        let idempotency_key = idempotency_key(tenant, &order_id);
        match self
            .call_with_retries(&body, &idempotency_key, &order_id, deliveries, deadline)
            .await
        {
            Ok((downstream_id, calls)) => {
                let done = Dispatched {
                    downstream_id: downstream_id.as_deref(),
                    at: self.clock.now(),
                };
                self.log.complete(key, done).await?;
                self.record(
                    key,
                    DispatchStatus::Dispatched,
                    attempt,
                    None,
                    downstream_id.clone(),
                )
                .await?;
                tracing::info!(calls, downstream_id = ?downstream_id, "order dispatched");
                Ok(DispatchOutcome::Dispatched {
                    downstream_id,
                    calls,
                })
            }
            Err(Stop::Refused { reason }) => {
                // Released, not failed: if the order is fixed downstream and the DLQ message
                // redriven, it is dispatched then.
                self.release_as(key, attempt, DispatchStatus::Failed, &reason)
                    .await?;
                tracing::warn!(%reason, "order refused by order management");
                Ok(DispatchOutcome::Rejected { reason })
            }
            Err(Stop::Retry { after, reason }) => {
                self.release_as(key, attempt, DispatchStatus::Pending, &reason)
                    .await?;
                let after = after.max(self.schedule.redelivery_delay(deliveries));
                tracing::warn!(%reason, retry_after_ms = after.as_millis(), "order not dispatched yet");
                Ok(DispatchOutcome::RetryLater { after, reason })
            }
        }
    }

    /// Ends claim `attempt` without a dispatch and records the order `status` with `reason`.
    async fn release_as(
        &self,
        key: OrderKey<'_>,
        attempt: u32,
        status: DispatchStatus,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.log.release(key, attempt).await?;
        self.record(key, status, attempt, Some(reason.to_owned()), None)
            .await
    }

    /// Calls the downstream until it answers something final, the breaker refuses, or no
    /// retry fits before `deadline`. Ok: the downstream's id and the calls made.
    async fn call_with_retries(
        &self,
        body: &Value,
        key: &str,
        external_id: &str,
        deliveries: u32,
        deadline: OffsetDateTime,
    ) -> Result<(Option<String>, u32), Stop> {
        let mut calls = 0;
        loop {
            if let Permit::Refused { retry_after } = self.breaker.permit() {
                return Err(Stop::Retry {
                    after: retry_after,
                    reason: self.breaker_open_reason(),
                });
            }
            calls += 1;
            let answer = self.downstream.post_order(body, key).await;
            let classification = classify_answer(&answer, external_id);
            if classification.downstream_healthy() {
                self.breaker.record_success();
            } else {
                self.breaker.record_failure();
            }
            let reason = match classification {
                Classification::Dispatched { downstream_id }
                | Classification::Duplicate { downstream_id } => return Ok((downstream_id, calls)),
                Classification::Permanent { reason } => return Err(Stop::Refused { reason }),
                Classification::Unauthorized { reason }
                    if deliveries >= super::classify::AUTH_REFUSALS_BEFORE_PERMANENT =>
                {
                    return Err(Stop::Refused { reason });
                }
                // Not within this invocation: a rotation takes a new SSM value, which the
                // next delivery (after its redelivery delay) fetches.
                Classification::Unauthorized { reason } => {
                    return Err(Stop::Retry {
                        after: Duration::ZERO,
                        reason,
                    });
                }
                Classification::Transient { reason } => reason,
            };
            let remaining =
                duration_between(self.clock.now(), deadline).saturating_sub(BOOKKEEPING);
            match self
                .schedule
                .next_delay(calls, remaining, self.downstream.call_timeout())
            {
                Some(delay) => {
                    tracing::debug!(%reason, delay_ms = delay.as_millis(), "retrying order dispatch");
                    self.sleeper.sleep(delay).await;
                }
                None => {
                    return Err(Stop::Retry {
                        after: Duration::ZERO,
                        reason,
                    });
                }
            }
        }
    }

    fn breaker_open_reason(&self) -> String {
        format!("circuit breaker of {} is open", self.downstream.name())
    }

    async fn record(
        &self,
        order: OrderKey<'_>,
        status: DispatchStatus,
        attempts: u32,
        last_error: Option<String>,
        downstream_id: Option<String>,
    ) -> Result<(), StoreError> {
        let update = DispatchUpdate {
            status,
            attempts,
            last_error,
            downstream_id,
        };
        self.status.record_dispatch(order, update).await
    }
}

/// The tenant (attribute) and the order (`event.productOrder`, with an id) of a message.
fn parse(message: &ParsedMessage) -> Result<(TenantId, ProductOrder), String> {
    let tenant = message
        .tenant
        .as_deref()
        .ok_or("order message without a tenant attribute")?;
    let tenant = TenantId::parse(tenant).map_err(|e| format!("invalid tenant `{}`", e.0))?;
    let order = message
        .event
        .get("productOrder")
        .ok_or("order message without event.productOrder")?;
    let order: ProductOrder = serde_json::from_value(order.clone())
        .map_err(|e| format!("event.productOrder is not a ProductOrder: {e}"))?;
    match order.id.as_deref() {
        Some(id) if !id.is_empty() => Ok((tenant, order)),
        _ => Err("event.productOrder has no id".into()),
    }
}

/// The order as POSTed: no `id`, `href` or states (order management assigns them), our id
/// as `externalId`.
fn downstream_body(mut order: ProductOrder, order_id: &str) -> Value {
    order.id = None;
    order.href = None;
    order.state = None;
    order.external_id = Some(order_id.to_owned());
    fn clear_states(items: &mut [q2c_model::tmf::ProductOrderItem]) {
        for item in items {
            item.state = None;
            clear_states(&mut item.product_order_item);
        }
    }
    clear_states(&mut order.product_order_item);
    serde_json::to_value(&order).unwrap_or(Value::Null)
}

/// The `Idempotency-Key` of an order's POSTs: the same for every copy and retry.
pub fn idempotency_key(tenant: &TenantId, order_id: &str) -> String {
    format!("q2c-order-{tenant}-{order_id}")
}
