//! [`DispatchLog`] on DynamoDB: one item per order, `T#<tenant>#DISPATCH#<orderId>` /
//! `DISPATCH`. A claim is one conditional `UpdateItem` that succeeds when the order has no
//! record, or is not dispatched and its lease ended; when the condition fails, a strongly
//! consistent read says why (dispatched, or whose lease until when).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, ReturnValue};
use q2c_service::context::TenantId;
use q2c_service::dispatch::{DispatchClaim, DispatchLog, Dispatched, Lease, OrderKey};
use q2c_service::ports::StoreError;
use time::{Duration, OffsetDateTime};

use super::DynamoStore;
use super::item::{self, n, s};
use super::keys::{self, EXPIRES_AT};
use super::transact::Expr;
use crate::error::DynamoError;
use crate::metrics::Operation;

const STATUS: &str = "status";
const IN_PROGRESS: &str = "in-progress";
const DISPATCHED: &str = "dispatched";
/// Claims so far (also the fencing token of `release`).
const ATTEMPTS: &str = "attempts";
/// Epoch nanoseconds until which the current claim holds; 0 once released.
const LEASE_UNTIL: &str = "lease_until";
const DOWNSTREAM_ID: &str = "downstream_id";
const DISPATCHED_AT: &str = "dispatched_at";
/// How long a record is kept after its last write: beyond SQS retention of the order and
/// its DLQ (4 + 14 days), so a redriven copy still finds it dispatched.
const RECORD_TTL: Duration = Duration::days(30);

const CLAIMABLE: &str = "attribute_not_exists(pk) OR (#status = :in_progress AND #lease <= :now)";

impl DynamoStore {
    /// The claim's conditional update; `Some(attempt)` when granted.
    async fn try_claim(
        &self,
        tenant: &TenantId,
        order_id: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<u32>, DynamoError> {
        let update = Expr::new(
            "SET #status = :in_progress, #lease = :until, #ttl = :ttl, \
             #attempts = if_not_exists(#attempts, :zero) + :one",
        )
        .name("#status", STATUS)
        .name("#lease", LEASE_UNTIL)
        .name("#ttl", EXPIRES_AT)
        .name("#attempts", ATTEMPTS)
        .value(":in_progress", s(IN_PROGRESS))
        .value(":until", n(keys::epoch_nanos(lease_until)))
        .value(":ttl", n(keys::epoch_seconds(lease_until + RECORD_TTL)))
        .value(":zero", n(0))
        .value(":one", n(1))
        .value(":now", n(keys::epoch_nanos(now)));
        self.requests.record(Operation::UpdateItem);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_key(Some(item::key(
                keys::dispatch_pk(tenant, order_id),
                keys::DISPATCH_SK,
            )))
            .update_expression(&update.text)
            .condition_expression(CLAIMABLE)
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                self.record_capacity(Operation::UpdateItem, output.consumed_capacity());
                let attributes = output.attributes.unwrap_or_default();
                Ok(Some(item::get_n(&attributes, ATTEMPTS)?))
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(DynamoError::sdk(Operation::UpdateItem, e)),
        }
    }
}

#[async_trait]
impl DispatchLog for DynamoStore {
    #[tracing::instrument(skip_all, fields(tenant = %order.tenant), err)]
    async fn claim(&self, order: OrderKey<'_>, lease: Lease) -> Result<DispatchClaim, StoreError> {
        let OrderKey { tenant, order_id } = order;
        let (now, lease_until) = (lease.now, lease.until);
        // Two rounds: a lease can end (or a release land) between the failed update and the
        // read.
        for _ in 0..2 {
            if let Some(attempt) = self.try_claim(tenant, order_id, now, lease_until).await? {
                return Ok(DispatchClaim::Claimed { attempt });
            }
            let key = item::key(keys::dispatch_pk(tenant, order_id), keys::DISPATCH_SK);
            let Some(record) = self.get_item(key, true).await? else {
                continue;
            };
            if item::get_s(&record, STATUS)? == DISPATCHED {
                return Ok(DispatchClaim::AlreadyDispatched {
                    downstream_id: item::opt_s(&record, DOWNSTREAM_ID),
                    attempts: item::get_n(&record, ATTEMPTS)?,
                });
            }
            let lease: i128 = item::get_n(&record, LEASE_UNTIL)?;
            if lease > keys::epoch_nanos(now) {
                let lease_until = OffsetDateTime::from_unix_timestamp_nanos(lease)
                    .map_err(|e| StoreError::Backend(Box::new(e)))?;
                return Ok(DispatchClaim::InProgress { lease_until });
            }
        }
        Ok(DispatchClaim::InProgress { lease_until })
    }

    #[tracing::instrument(skip_all, fields(tenant = %order.tenant), err)]
    async fn complete(&self, order: OrderKey<'_>, done: Dispatched<'_>) -> Result<(), StoreError> {
        let OrderKey { tenant, order_id } = order;
        let (downstream_id, now) = (done.downstream_id, done.at);
        let mut text = String::from(
            "SET #status = :dispatched, #lease = :zero, #at = :at, #ttl = :ttl, \
             #attempts = if_not_exists(#attempts, :one)",
        );
        if downstream_id.is_some() {
            text.push_str(", #downstream_id = :downstream_id");
        }
        let mut update = Expr::new(text)
            .name("#status", STATUS)
            .name("#lease", LEASE_UNTIL)
            .name("#at", DISPATCHED_AT)
            .name("#ttl", EXPIRES_AT)
            .name("#attempts", ATTEMPTS)
            .value(":dispatched", s(DISPATCHED))
            .value(":zero", n(0))
            .value(":one", n(1))
            .value(":at", n(keys::epoch_nanos(now)))
            .value(":ttl", n(keys::epoch_seconds(now + RECORD_TTL)));
        if let Some(id) = downstream_id {
            update = update
                .name("#downstream_id", DOWNSTREAM_ID)
                .value(":downstream_id", s(id));
        }
        let key = item::key(keys::dispatch_pk(tenant, order_id), keys::DISPATCH_SK);
        // The first completion wins; a later one finds the condition false and changes nothing.
        self.update_item(
            key,
            update,
            "attribute_not_exists(pk) OR #status <> :dispatched",
        )
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant = %order.tenant), err)]
    async fn release(&self, order: OrderKey<'_>, attempt: u32) -> Result<(), StoreError> {
        let OrderKey { tenant, order_id } = order;
        let update = Expr::new("SET #lease = :zero")
            .name("#lease", LEASE_UNTIL)
            .name("#status", STATUS)
            .name("#attempts", ATTEMPTS)
            .value(":zero", n(0))
            .value(":in_progress", s(IN_PROGRESS))
            .value(":attempt", n(attempt));
        let key = item::key(keys::dispatch_pk(tenant, order_id), keys::DISPATCH_SK);
        // Only the holder of claim `attempt` releases; otherwise nothing happens.
        self.update_item(
            key,
            update,
            "#status = :in_progress AND #attempts = :attempt",
        )
        .await?;
        Ok(())
    }
}
