//! [`IdempotencyStore`] on DynamoDB. A claim is one conditional `PutItem` that succeeds when
//! the key is free: absent, completed and expired, or in progress past its deadline. Expiry
//! is decided by that condition on exact nanosecond attributes; the TTL attribute
//! `expires_at` only reclaims space later. When the condition fails, a strongly consistent
//! read classifies the record (replay, mismatch, in progress).
//!
//! Each record is also indexed on `gsi2` by the time it goes stale (spread over a few shard
//! partitions, as every API write touches it), so `purge_expired` is Queries, not a Scan.

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::ports::{IdempotencyClaim, IdempotencyStore, StoreError, StoredResponse};
use time::{Duration, OffsetDateTime};

use super::DynamoStore;
use super::item::{self, Item, n, s};
use super::keys::{self, EXPIRES_AT, GSI2, GSI2PK, GSI2SK};
use super::query::QuerySpec;
use super::transact::Expr;
use crate::error::DynamoError;

const STATUS: &str = "status";
const IN_PROGRESS: &str = "in-progress";
const COMPLETED: &str = "completed";
const REQUEST_HASH: &str = "request_hash";
/// Nanoseconds since the epoch until which a claim holds.
const IN_PROGRESS_UNTIL: &str = "in_progress_until";
/// Nanoseconds since the epoch when a completed record expires.
const EXPIRES_NS: &str = "expires_ns";
const RESPONSE: &str = "response";
/// How long an abandoned claim stays before TTL removes it.
const ABANDONED_CLAIM_TTL: Duration = Duration::days(1);

/// A record counts as absent when: none, completed and expired, or a claim past its deadline.
const FREE: &str = "attribute_not_exists(pk) \
     OR (#status = :completed AND #expires_ns <= :now) \
     OR (#status = :in_progress AND #until <= :now)";

fn free_names(expr: Expr, now: OffsetDateTime) -> Expr {
    expr.name("#status", STATUS)
        .name("#expires_ns", EXPIRES_NS)
        .name("#until", IN_PROGRESS_UNTIL)
        .value(":completed", s(COMPLETED))
        .value(":in_progress", s(IN_PROGRESS))
        .value(":now", n(keys::epoch_nanos(now)))
}

fn gsi2sk(stale_at: OffsetDateTime, tenant: &TenantId, key: &str) -> String {
    format!("{}#{tenant}#{key}", keys::sortable_time(stale_at))
}

impl DynamoStore {
    /// Classifies the record that made a claim fail.
    async fn classify(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
    ) -> Result<Option<IdempotencyClaim>, DynamoError> {
        let id = item::key(keys::idempotency_pk(tenant, key), keys::IDEMPOTENCY_SK);
        let Some(record) = self.get_item(id, true).await? else {
            return Ok(None);
        };
        if item::get_s(&record, REQUEST_HASH)? != request_hash {
            return Ok(Some(IdempotencyClaim::Mismatch));
        }
        if item::get_s(&record, STATUS)? == IN_PROGRESS {
            return Ok(Some(IdempotencyClaim::InProgress));
        }
        let response = item::get_s(&record, RESPONSE)?;
        let response = serde_json::from_str(response).map_err(|source| DynamoError::Body {
            key: item::pk_of(&record),
            source,
        })?;
        Ok(Some(IdempotencyClaim::Replay(response)))
    }

    fn claim_item(tenant: &TenantId, key: &str, request_hash: &str, until: OffsetDateTime) -> Item {
        let mut entry =
            item::item_with_key(&keys::idempotency_pk(tenant, key), keys::IDEMPOTENCY_SK);
        entry.insert(STATUS.into(), s(IN_PROGRESS));
        entry.insert(REQUEST_HASH.into(), s(request_hash));
        entry.insert(IN_PROGRESS_UNTIL.into(), n(keys::epoch_nanos(until)));
        let ttl = keys::epoch_seconds(until + ABANDONED_CLAIM_TTL);
        entry.insert(EXPIRES_AT.into(), n(ttl));
        entry.insert(GSI2PK.into(), s(keys::idempotency_gsi2pk(tenant, key)));
        entry.insert(GSI2SK.into(), s(gsi2sk(until, tenant, key)));
        entry
    }
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn claim(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
        now: OffsetDateTime,
        in_progress_until: OffsetDateTime,
    ) -> Result<IdempotencyClaim, StoreError> {
        // Two rounds: a record can go stale (or vanish) between the failed put and the read.
        for _ in 0..2 {
            let entry = Self::claim_item(tenant, key, request_hash, in_progress_until);
            if self
                .put_item(entry, Some(free_names(Expr::new(FREE), now)))
                .await?
            {
                return Ok(IdempotencyClaim::Claimed);
            }
            if let Some(outcome) = self.classify(tenant, key, request_hash).await? {
                return Ok(outcome);
            }
        }
        Ok(IdempotencyClaim::InProgress)
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn complete(
        &self,
        tenant: &TenantId,
        key: &str,
        response: &StoredResponse,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pk = keys::idempotency_pk(tenant, key);
        let response = serde_json::to_string(response).map_err(|source| DynamoError::Body {
            key: pk.clone(),
            source,
        })?;
        let update = Expr::new(
            "SET #status = :completed, #response = :response, #expires_ns = :expires_ns, \
             #ttl = :ttl, #gsi2sk = :gsi2sk",
        )
        .name("#status", STATUS)
        .name("#response", RESPONSE)
        .name("#expires_ns", EXPIRES_NS)
        .name("#ttl", EXPIRES_AT)
        .name("#gsi2sk", GSI2SK)
        .value(":completed", s(COMPLETED))
        .value(":response", s(response))
        .value(":expires_ns", n(keys::epoch_nanos(expires_at)))
        .value(":ttl", n(keys::epoch_seconds(expires_at)))
        .value(":gsi2sk", s(gsi2sk(expires_at, tenant, key)));
        // Completing a key nobody claimed is a no-op (as on SQLite), not a new record.
        let key = item::key(pk, keys::IDEMPOTENCY_SK);
        self.update_item(key, update, "attribute_exists(pk)")
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn release(&self, tenant: &TenantId, key: &str) -> Result<(), StoreError> {
        let key = item::key(keys::idempotency_pk(tenant, key), keys::IDEMPOTENCY_SK);
        // Only a claim is released; a completed response stays replayable.
        let condition = Expr::new("#status = :in_progress")
            .name("#status", STATUS)
            .value(":in_progress", s(IN_PROGRESS));
        self.delete_item(key, Some(condition)).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, err)]
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        // `<stale time>#...` <= now for every record stale at `now`: '$' sorts after '#'.
        let bound = format!("{}$", keys::sortable_time(now));
        let mut purged = 0;
        for shard in 0..keys::IDEMPOTENCY_SHARDS {
            let spec = QuerySpec::new(Some(GSI2), "gsi2pk = :pk AND gsi2sk < :bound")
                .value(":pk", s(keys::idempotency_shard_pk(shard)))
                .value(":bound", s(bound.clone()));
            for entry in self.query_all(&spec).await? {
                let key = item::key(item::pk_of(&entry), keys::IDEMPOTENCY_SK);
                // The index lags; the condition re-checks staleness on the item itself.
                let condition = free_names(Expr::new(FREE), now);
                if self.delete_item(key, Some(condition)).await?.is_some() {
                    purged += 1;
                }
            }
        }
        Ok(purged)
    }
}
