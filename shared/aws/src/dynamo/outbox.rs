//! The outbox on DynamoDB. Events are written by the quote transactions (`event_puts`) as
//! `OUTBOX#<eventId>` items that carry `gsi2pk = OUTBOX#PENDING`, a sparse index of what the
//! relay still has to send, so `pending` is one Query, in write order. Publishing moves an
//! event to the `OUTBOX#PUBLISHED` partition of `gsi2` (for `purge_published`); every event
//! also carries a TTL of seven days as a backstop.
//!
//! Every pending event shares one `gsi2` partition key: fine for the write rates of one
//! quote API (a GSI partition takes 1,000 writes/s); shard it if that ever binds.
//!
//! Marking an event that opens or closes a quote also moves its tenant's open-quote count
//! (`q2c_service::quotas`), one of [`keys::OPEN_QUOTE_SHARDS`] shard items
//! `T#<tenant>#OPENQ#<n>`, in one transaction with the mark, which is conditional on the
//! event being pending: each event moves a count exactly once. The counted events of one
//! call share a transaction (with one `ADD` per shard), so a relay batch of creates costs
//! one `TransactWriteItems`, not one each.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use futures::{StreamExt, TryStreamExt};
use q2c_service::context::TenantId;
use q2c_service::ports::{Destination, OutboxEvent, OutboxStore, StoreError, write_limits};
use q2c_service::quotas::{OpenQuoteCounts, open_quote_delta};
use time::{Duration, OffsetDateTime};

use super::DynamoStore;
use super::item::{self, Item, n, s};
use super::keys::{self, EXPIRES_AT, GSI2, GSI2PK, GSI2SK};
use super::query::QuerySpec;
use super::transact::{Expr, TransactError, contention_pause, put_write, update_write};
use crate::error::DynamoError;

/// How long an event item lives at most (TTL), published or not.
const EVENT_TTL: Duration = Duration::days(7);

const EVENT_ID: &str = "event_id";
const EVENT_TYPE: &str = "event_type";
const TENANT: &str = "tenant";
const AGGREGATE_ID: &str = "aggregate_id";
const CORRELATION_ID: &str = "correlation_id";
const SCHEMA_VERSION: &str = "schema_version";
const DESTINATION: &str = "destination";
const CREATED_AT: &str = "created_at";
const PUBLISHED_AT: &str = "published_at";

/// The item of a new, pending event, the `position`-th of a write made at `written`.
fn encode(
    event: &OutboxEvent,
    written: OffsetDateTime,
    position: usize,
) -> Result<Item, DynamoError> {
    let pk = keys::outbox_pk(&event.event_id);
    let mut item = item::item_with_key(&pk, keys::OUTBOX_SK);
    let body = item::to_body(&event.body, &pk)?;
    write_limits::event(item::body_text(&body)).map_err(DynamoError::Limit)?;
    item.insert(keys::BODY.into(), body);
    item.insert(EVENT_ID.into(), s(event.event_id.clone()));
    item.insert(EVENT_TYPE.into(), s(event.event_type.clone()));
    item.insert(AGGREGATE_ID.into(), s(event.aggregate_id.clone()));
    item.insert(SCHEMA_VERSION.into(), s(event.schema_version.clone()));
    item.insert(DESTINATION.into(), s(event.destination.queue_name()));
    item.insert(CREATED_AT.into(), s(keys::sortable_time(event.created_at)));
    if let Some(tenant) = &event.tenant {
        item.insert(TENANT.into(), s(tenant.clone()));
    }
    if let Some(correlation_id) = &event.correlation_id {
        item.insert(CORRELATION_ID.into(), s(correlation_id.clone()));
    }
    item.insert(GSI2PK.into(), s(keys::OUTBOX_PENDING));
    let order = keys::outbox_pending_sk(written, position, &event.event_id);
    item.insert(GSI2SK.into(), s(order));
    let expires = keys::epoch_seconds(event.created_at + EVENT_TTL);
    item.insert(EXPIRES_AT.into(), n(expires));
    Ok(item)
}

/// The transactional `Put`s of the events of one write (each fails if its id exists).
///
/// Pending events are ordered by when they were written (this process's wall clock), then
/// by their position in the write, like the SQLite outbox's insertion sequence; `created_at`
/// is kept as data. Writers on different hosts are ordered only as well as their clocks
/// agree, which is enough for a relay whose queues do not promise order anyway.
pub(crate) fn event_puts(
    table: &str,
    events: &[OutboxEvent],
) -> Result<Vec<TransactWriteItem>, DynamoError> {
    let written = OffsetDateTime::now_utc();
    events
        .iter()
        .enumerate()
        .map(|(position, event)| {
            let item = encode(event, written, position)?;
            put_write(table, item, Some(Expr::new("attribute_not_exists(pk)")))
        })
        .collect()
}

fn destination(item: &Item) -> Result<Destination, DynamoError> {
    let name = item::get_s(item, DESTINATION)?;
    Destination::ALL
        .into_iter()
        .find(|d| d.queue_name() == name)
        .ok_or_else(|| DynamoError::Attribute {
            key: item::pk_of(item),
            attribute: DESTINATION,
        })
}

fn decode(item: &Item) -> Result<OutboxEvent, DynamoError> {
    let created = item::get_s(item, CREATED_AT)?;
    let created_at = OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
        .map_err(|_| DynamoError::Attribute {
            key: item::pk_of(item),
            attribute: CREATED_AT,
        })?;
    Ok(OutboxEvent {
        event_id: item::get_s(item, EVENT_ID)?.to_owned(),
        event_type: item::get_s(item, EVENT_TYPE)?.to_owned(),
        tenant: item::opt_s(item, TENANT),
        aggregate_id: item::get_s(item, AGGREGATE_ID)?.to_owned(),
        correlation_id: item::opt_s(item, CORRELATION_ID),
        schema_version: item::get_s(item, SCHEMA_VERSION)?.to_owned(),
        destination: destination(item)?,
        body: item::body(item)?,
        created_at,
    })
}

/// Concurrent `UpdateItem`s of one `mark_published`.
const MARK_CONCURRENCY: usize = 8;

/// Counted events (see below) marked in one `TransactWriteItems`: their marks plus one `ADD`
/// per count shard touched, at most twice this many items (a transaction takes 100).
const COUNTED_CHUNK: usize = 40;

/// Attempts of a single counted mark that concurrent transactions on its shard cancel.
const COUNTED_MARK_ATTEMPTS: u32 = 5;

/// The condition of a mark: the event is still pending.
const PENDING: &str = "#gsi2pk = :pending";

/// The key of an event and the update moving it to the published partition of `gsi2`.
/// Only a pending event moves ([`PENDING`]): marking twice keeps the first publication
/// time, and an unknown id does not create an item.
fn mark_of(event_id: &str, now: OffsetDateTime) -> (Item, Expr) {
    let key = item::key(keys::outbox_pk(event_id), keys::OUTBOX_SK);
    let update = Expr::new("SET #gsi2pk = :published, #gsi2sk = :sk, #published_at = :now")
        .name("#gsi2pk", GSI2PK)
        .name("#gsi2sk", GSI2SK)
        .name("#published_at", PUBLISHED_AT)
        .value(":published", s(keys::OUTBOX_PUBLISHED))
        .value(":sk", s(keys::outbox_published_sk(now, event_id)))
        .value(":now", s(keys::sortable_time(now)))
        .value(":pending", s(keys::OUTBOX_PENDING));
    (key, update)
}

/// The count shard item an event moves, and by how much; `None` for uncounted events.
fn count_change(event: &OutboxEvent) -> Option<(Item, i64)> {
    let (tenant, delta) = open_quote_delta(event)?;
    let shard = keys::open_quote_shard(&event.event_id);
    let key = item::key(keys::open_quote_count_pk(tenant, shard), keys::COUNT_SK);
    Some((key, delta))
}

fn add(delta: i64) -> Expr {
    Expr::new("ADD #n :delta")
        .name("#n", keys::COUNT_N)
        .value(":delta", n(delta))
}

impl DynamoStore {
    /// Marks an uncounted event (a failed condition is a no-op).
    async fn mark_plain(&self, event_id: String, now: OffsetDateTime) -> Result<bool, DynamoError> {
        let (key, update) = mark_of(&event_id, now);
        self.update_item(key, update, PENDING).await
    }

    /// Marks counted events (those that open or close a quote) in one transaction with the
    /// summed change of each count shard. If one of them is no longer pending (a repeated
    /// mark) or a concurrent transaction cancels it, falls back to one transaction each.
    async fn mark_counted(
        &self,
        events: &[&OutboxEvent],
        now: OffsetDateTime,
    ) -> Result<(), DynamoError> {
        let mut items = Vec::with_capacity(events.len() * 2);
        let mut shards: BTreeMap<String, (Item, i64)> = BTreeMap::new();
        for event in events {
            let (key, update) = mark_of(&event.event_id, now);
            items.push(update_write(&self.table, key, update, PENDING)?);
            if let Some((key, delta)) = count_change(event) {
                shards.entry(item::pk_of(&key)).or_insert((key, 0)).1 += delta;
            }
        }
        for (key, delta) in shards.into_values().filter(|(_, d)| *d != 0) {
            items.push(update_write(&self.table, key, add(delta), "")?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TransactError::Other(error)) => Err(error),
            Err(TransactError::Conditions(_)) => {
                for event in events {
                    self.mark_one_counted(event, now).await?;
                }
                Ok(())
            }
        }
    }

    /// One counted event: its mark and its shard's change in one transaction, retried while
    /// the event is still pending (a concurrent transaction on the shard cancelled it).
    async fn mark_one_counted(
        &self,
        event: &OutboxEvent,
        now: OffsetDateTime,
    ) -> Result<(), DynamoError> {
        let Some((count_key, delta)) = count_change(event) else {
            return Ok(());
        };
        let (key, update) = mark_of(&event.event_id, now);
        for attempt in 0..COUNTED_MARK_ATTEMPTS {
            let items = vec![
                update_write(&self.table, key.clone(), update.clone(), PENDING)?,
                update_write(&self.table, count_key.clone(), add(delta), "")?,
            ];
            match self.transact(items).await {
                Ok(()) => return Ok(()),
                Err(TransactError::Other(error)) => return Err(error),
                Err(TransactError::Conditions(_)) => {
                    // Published already (by whoever counted it), or a concurrent transaction
                    // on the shard: only the second is retried.
                    let stored = self.get_item(key.clone(), true).await?;
                    let pending = stored.is_some_and(|i| {
                        item::opt_s(&i, GSI2PK).as_deref() == Some(keys::OUTBOX_PENDING)
                    });
                    if !pending {
                        return Ok(());
                    }
                    contention_pause(attempt).await;
                }
            }
        }
        // Still pending: the next relay round sends it again (consumers de-duplicate) and
        // marks it then, counting it once.
        tracing::warn!(
            event_id = event.event_id,
            "count shard contended; event left pending"
        );
        Ok(())
    }
}

/// [`OpenQuoteCounts`]: the sum of the tenant's count shards, one `BatchGetItem` of
/// [`keys::OPEN_QUOTE_SHARDS`] small items (eventually consistent), whatever the tenant's size.
#[async_trait]
impl OpenQuoteCounts for DynamoStore {
    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn open_quotes(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let keys = (0..keys::OPEN_QUOTE_SHARDS)
            .map(|shard| {
                item::key(
                    keys::open_quote_count_pk(tenant.as_str(), shard),
                    keys::COUNT_SK,
                )
            })
            .collect();
        let items = self.batch_get(keys).await?;
        let mut total: i64 = 0;
        for entry in &items {
            total = total.saturating_add(item::get_n::<i64>(entry, keys::COUNT_N)?);
        }
        Ok(u64::try_from(total).unwrap_or(0))
    }
}

#[async_trait]
impl OutboxStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(limit), err)]
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let spec = QuerySpec::new(Some(GSI2), "gsi2pk = :pk").value(":pk", s(keys::OUTBOX_PENDING));
        let page = i32::try_from(limit).unwrap_or(i32::MAX);
        let items = self
            .query_while(&spec, Some(page), |items| items.len() < limit)
            .await?;
        let events = items
            .iter()
            .take(limit)
            .map(decode)
            .collect::<Result<_, _>>()?;
        Ok(events)
    }

    #[tracing::instrument(skip_all, fields(events = events.len()), err)]
    async fn mark_published(
        &self,
        events: &[OutboxEvent],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // Events that open or close a quote move their tenant's count in the transaction
        // that marks them, a chunk per transaction; the others take one UpdateItem each, a
        // few at a time (after the transactions: no write of this call runs beside one).
        let mut seen = std::collections::HashSet::new();
        let (counted, plain): (Vec<&OutboxEvent>, Vec<&OutboxEvent>) = events
            .iter()
            .filter(|e| seen.insert(e.event_id.as_str()))
            .partition(|e| open_quote_delta(e).is_some());
        for chunk in counted.chunks(COUNTED_CHUNK) {
            self.mark_counted(chunk, now).await?;
        }
        let plain: Vec<String> = plain.into_iter().map(|e| e.event_id.clone()).collect();
        futures::stream::iter(plain)
            .map(|event_id| self.mark_plain(event_id, now))
            .buffer_unordered(MARK_CONCURRENCY)
            .try_collect::<Vec<bool>>()
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, err)]
    async fn purge_published(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let spec = QuerySpec::new(Some(GSI2), "gsi2pk = :pk AND gsi2sk < :before")
            .value(":pk", s(keys::OUTBOX_PUBLISHED))
            .value(":before", s(keys::sortable_time(before)));
        let items = self.query_all(&spec).await?;
        let mut purged = 0;
        for entry in &items {
            let key = item::key(item::pk_of(entry), keys::OUTBOX_SK);
            // The index is eventually consistent: delete only what is still published.
            let condition = Expr::new("#gsi2pk = :published")
                .name("#gsi2pk", GSI2PK)
                .value(":published", s(keys::OUTBOX_PUBLISHED));
            if self.delete_item(key, Some(condition)).await?.is_some() {
                purged += 1;
            }
        }
        Ok(purged)
    }
}
