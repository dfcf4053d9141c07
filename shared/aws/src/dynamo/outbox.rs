//! The outbox on DynamoDB. Events are written by the quote transactions (`event_puts`) as
//! `OUTBOX#<eventId>` items that carry `obpk = OUTBOX#PENDING#<n>` on the outbox's own
//! index ([`keys::OUTBOX_INDEX`]: sparse, `KEYS_ONLY`), what the relay still has to send,
//! each shard in write order. Publishing moves an event to the `OUTBOX#PUBLISHED#<n>`
//! partition of that index (the same `n`; for `purge_published`) and only then gives it a
//! TTL (seven days, a backstop of the purge): a pending event never expires, it is published
//! or parked. Parking (the relay gave up on it, its whole copy is in the destination's
//! dead-letter queue) moves it the same way and keeps `parked_reason`; a queue's refusals
//! are counted in `attempts`.
//!
//! **Keys only.** The index holds keys, not the event: an entry costs one write unit to put
//! or delete whatever the event's size, where a copy of the whole item (`ALL`, as on `gsi2`
//! before) cost the event's size three times (in, out of pending, into published). The
//! readers pay instead, and only the sweep reads: `pending_entries` merges the index
//! entries, then fetches those items with one strongly consistent `BatchGetItem` per 100 and
//! drops any that left the partition since the index was read (the index lags the table).
//!
//! **Shards.** `n` is [`keys::outbox_shard`] of the event id (FNV-1a modulo
//! [`keys::OUTBOX_SHARDS`] = 32). Unsharded, every event wrote one pending key twice (into
//! the index and out of it) and one published key once: the capacity model measured 24,000
//! and 12,000 WCU/s on them at 1,000 quote lifecycles/s, where a GSI partition takes 1,000
//! (`docs/capacity.md`). Over 32 shards that is 750 and 375 WCU/s per key at that rate,
//! 25 % under the limit (measured after the change: 783 and 406, the 3 bytes of `#<n>`
//! pushing some events past a write unit). The readers cover every shard: `pending_entries` queries the
//! shards concurrently ([`SHARD_READ_CONCURRENCY`] at a time), a few items each, and merges
//! them by `gsi2sk` (write time, position, id), reading more of a shard only when the merge
//! reaches its end, so it returns the oldest `limit` events across shards having read about
//! `limit` plus a few per shard; `oldest_pending` takes the oldest of the shards' first
//! items; `purge_published` purges each published shard.
//!
//! **Upgrades.** Items written by older releases carry their keys on `gsi2` (`gsi2pk`:
//! the same sharded keys, or the unsharded [`keys::OUTBOX_PENDING_LEGACY`] /
//! [`keys::OUTBOX_PUBLISHED_LEGACY`] of releases before the sharding): every reader also
//! reads those partitions (one Query each), and a mark accepts an event pending under any of
//! them, moving it to its published key on the outbox index (and off `gsi2`). See `keys` for
//! when the legacy reads can go. During the deployment an older relay marking an event of
//! this release fails its condition (a no-op to it) and leaves the event pending: the new
//! sweep sends it again (consumers de-duplicate) and marks it.
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
use q2c_service::ports::{
    Destination, OutboxEvent, OutboxStore, ParkedEvent, PendingEvent, StoreError, UndecodableEvent,
    write_limits,
};
use q2c_service::quotas::{OpenQuoteCounts, open_quote_delta};
use time::{Duration, OffsetDateTime};

use super::DynamoStore;
use super::item::{self, Item, n, s};
use super::keys::{
    self, EXPIRES_AT, GSI2, GSI2PK, GSI2SK, OUTBOX_INDEX, OUTBOX_INDEX_PK, OUTBOX_INDEX_SK,
};
use super::query::{QueryPage, QuerySpec};
use super::transact::{Expr, TransactError, contention_pause, put_write, update_write};
use crate::error::DynamoError;

/// How long an event item lives after it was published or parked (TTL, a backstop of
/// `purge_published`); a pending event has none.
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
const PARKED_REASON: &str = "parked_reason";
const ATTEMPTS: &str = "attempts";

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
    let shard = keys::outbox_shard(&event.event_id);
    item.insert(OUTBOX_INDEX_PK.into(), s(keys::outbox_pending_pk(shard)));
    let order = keys::outbox_pending_sk(written, position, &event.event_id);
    item.insert(OUTBOX_INDEX_SK.into(), s(order));
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
    Destination::from_queue_name(name).ok_or_else(|| DynamoError::Attribute {
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

/// A pending item as the relay takes it: decoded, or undecodable with what could be read
/// (its body text as stored), never an error for the whole read.
fn decode_entry(item: &Item) -> PendingEvent {
    match decode(item) {
        Ok(event) => PendingEvent::Ready {
            event,
            attempts: item::get_n::<u32>(item, ATTEMPTS).unwrap_or(0),
        },
        Err(error) => {
            let pk = item::pk_of(item);
            let event_id = item::opt_s(item, EVENT_ID)
                .unwrap_or_else(|| pk.strip_prefix("OUTBOX#").unwrap_or(&pk).to_owned());
            let mut reason = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                reason.push_str(": ");
                reason.push_str(&cause.to_string());
                source = cause.source();
            }
            PendingEvent::Undecodable(UndecodableEvent {
                event_id,
                destination: item::opt_s(item, DESTINATION)
                    .and_then(|d| Destination::from_queue_name(&d)),
                event_type: item::opt_s(item, EVENT_TYPE),
                tenant: item::opt_s(item, TENANT),
                body: item::opt_s(item, keys::BODY).unwrap_or_default(),
                reason,
            })
        }
    }
}

/// Concurrent `UpdateItem`s of one `mark_published`.
const MARK_CONCURRENCY: usize = 8;

/// Counted events (see below) marked in one `TransactWriteItems`: their marks plus one `ADD`
/// per count shard touched, at most twice this many items (a transaction takes 100).
const COUNTED_CHUNK: usize = 40;

/// Attempts of a single counted mark that concurrent transactions on its shard cancel.
const COUNTED_MARK_ATTEMPTS: u32 = 5;

/// Concurrent Queries of the outbox's index partitions in one read.
const SHARD_READ_CONCURRENCY: usize = 8;

/// Items asked of each pending shard by the first round of a `pending_entries` read, at
/// least (the limit's share of the shards otherwise): most shards then answer in one Query.
const MIN_SHARD_PAGE: usize = 4;

/// The condition of a mark: the event is still pending, under its own shard's key on the
/// outbox index (or on `gsi2`, or the unsharded key there, as older releases wrote it).
/// Needs [`pending_values`].
const PENDING: &str = "(#obpk = :pending OR #gsi2pk = :pending OR #gsi2pk = :pending_legacy)";

/// The names and values [`PENDING`] uses, for `event_id`.
fn pending_values(expr: Expr, event_id: &str) -> Expr {
    let shard = keys::outbox_shard(event_id);
    expr.name("#obpk", OUTBOX_INDEX_PK)
        .name("#gsi2pk", GSI2PK)
        .value(":pending", s(keys::outbox_pending_pk(shard)))
        .value(":pending_legacy", s(keys::OUTBOX_PENDING_LEGACY))
}

/// Whether a stored event item is still pending ([`PENDING`] read back).
fn is_pending(stored: &Item, event_id: &str) -> bool {
    let shard = keys::outbox_pending_pk(keys::outbox_shard(event_id));
    item::opt_s(stored, OUTBOX_INDEX_PK).is_some_and(|pk| pk == shard)
        || item::opt_s(stored, GSI2PK)
            .is_some_and(|pk| pk == shard || pk == keys::OUTBOX_PENDING_LEGACY)
}

/// One index partition of the outbox: the index, its key attributes, the partition key.
#[derive(Debug, Clone)]
struct Partition {
    index: &'static str,
    pk: &'static str,
    sk: &'static str,
    key: String,
}

/// The outbox index and its key attributes, and `gsi2`'s (older releases).
const ON_OUTBOX_INDEX: (&str, &str, &str) = (OUTBOX_INDEX, OUTBOX_INDEX_PK, OUTBOX_INDEX_SK);
const ON_GSI2: (&str, &str, &str) = (GSI2, GSI2PK, GSI2SK);

impl Partition {
    /// The partition `key` of the index `(index, pk, sk)`.
    fn of((index, pk, sk): (&'static str, &'static str, &'static str), key: String) -> Self {
        Partition { index, pk, sk, key }
    }

    /// The query of the partition in sort key order, `condition` on the sort key (`#sk`)
    /// added when given.
    fn spec(&self, sort_condition: Option<(&str, &str, String)>) -> QuerySpec {
        let mut text = String::from("#pk = :pk");
        if let Some((condition, _, _)) = &sort_condition {
            text.push_str(" AND ");
            text.push_str(condition);
        }
        let mut spec = QuerySpec::new(Some(self.index), text)
            .name("#pk", self.pk)
            .value(":pk", s(self.key.clone()));
        if let Some((_, placeholder, value)) = sort_condition {
            spec = spec.name("#sk", self.sk).value(placeholder, s(value));
        }
        spec
    }

    /// The sort key of an entry read from this partition.
    fn sort_key<'a>(&self, entry: &'a Item) -> &'a str {
        entry
            .get(self.sk)
            .and_then(|v| v.as_s().ok())
            .map_or("", String::as_str)
    }

    /// Whether a stored item is (still) in this partition: the index lags the table.
    fn holds(&self, stored: &Item) -> bool {
        item::opt_s(stored, self.pk).is_some_and(|pk| pk == self.key)
    }
}

/// Every partition of pending events: the outbox index's shards, then the `gsi2` ones of
/// older releases (sharded, then unsharded).
fn pending_partitions() -> Vec<Partition> {
    partitions(keys::outbox_pending_pk, keys::OUTBOX_PENDING_LEGACY)
}

/// Every partition of published events, as [`pending_partitions`].
fn published_partitions() -> Vec<Partition> {
    partitions(keys::outbox_published_pk, keys::OUTBOX_PUBLISHED_LEGACY)
}

/// The shards `shard_key` names on the outbox index, then on `gsi2`, then `legacy` on `gsi2`.
fn partitions(shard_key: fn(u32) -> String, legacy: &str) -> Vec<Partition> {
    let shards = || (0..keys::OUTBOX_SHARDS).map(shard_key);
    shards()
        .map(|key| Partition::of(ON_OUTBOX_INDEX, key))
        .chain(shards().map(|key| Partition::of(ON_GSI2, key)))
        .chain([Partition::of(ON_GSI2, legacy.to_owned())])
        .collect()
}

/// One pending partition as `pending_entries` reads it: what was read and not yet merged,
/// where the next page starts (`None` with `started`: read to its end), and the size of
/// the last page asked for.
struct ShardCursor {
    partition: Partition,
    spec: QuerySpec,
    buffered: std::collections::VecDeque<Item>,
    next: Option<Item>,
    started: bool,
    page: usize,
}

impl ShardCursor {
    /// The sort key of the first buffered entry (`""` when none).
    fn head_key(&self) -> &str {
        self.buffered
            .front()
            .map_or("", |entry| self.partition.sort_key(entry))
    }

    /// Whether the merge needs another page of this partition before it can go on.
    fn needs_page(&self) -> bool {
        self.buffered.is_empty() && (!self.started || self.next.is_some())
    }
}

/// The key of an event and the update moving it to the published partition of the outbox
/// index (off `gsi2`, where an older release wrote it), with its TTL from now on, and the
/// reason when it is parked. Only a pending event moves ([`PENDING`]): marking twice keeps
/// the first publication time, and an unknown id does not create an item.
fn mark_of(event_id: &str, now: OffsetDateTime, parked: Option<&str>) -> (Item, Expr) {
    let key = item::key(keys::outbox_pk(event_id), keys::OUTBOX_SK);
    let shard = keys::outbox_shard(event_id);
    let mut text = String::from(
        "SET #obpk = :published, #obsk = :sk, #published_at = :now, #expires = :expires",
    );
    if parked.is_some() {
        text.push_str(", #parked_reason = :reason");
    }
    text.push_str(" REMOVE #gsi2pk, #gsi2sk");
    let update = Expr::new(text)
        .name("#obsk", OUTBOX_INDEX_SK)
        .name("#gsi2sk", GSI2SK)
        .name("#published_at", PUBLISHED_AT)
        .name("#expires", EXPIRES_AT)
        .value(":published", s(keys::outbox_published_pk(shard)))
        .value(":sk", s(keys::outbox_published_sk(now, event_id)))
        .value(":now", s(keys::sortable_time(now)))
        .value(":expires", n(keys::epoch_seconds(now + EVENT_TTL)));
    let mut update = pending_values(update, event_id);
    if let Some(reason) = parked {
        update = update
            .name("#parked_reason", PARKED_REASON)
            .value(":reason", s(reason));
    }
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

/// An event to mark, with the reason when it is parked.
type Mark<'a> = (&'a OutboxEvent, Option<&'a str>);

impl DynamoStore {
    /// Marks events published, or parked with a reason: those that open or close a quote
    /// move their tenant's count in the transaction that marks them, a chunk per
    /// transaction; the others take one `UpdateItem` each, a few at a time (after the
    /// transactions: no write of this call runs beside one).
    async fn mark_all(
        &self,
        marks: Vec<(String, Option<&OutboxEvent>, Option<&str>)>,
        now: OffsetDateTime,
    ) -> Result<(), DynamoError> {
        let mut seen = std::collections::HashSet::new();
        let mut counted: Vec<Mark<'_>> = Vec::new();
        let mut plain: Vec<(String, Option<String>)> = Vec::new();
        for (event_id, event, reason) in marks {
            if !seen.insert(event_id.clone()) {
                continue;
            }
            match event {
                Some(event) if open_quote_delta(event).is_some() => counted.push((event, reason)),
                _ => plain.push((event_id, reason.map(str::to_owned))),
            }
        }
        for chunk in counted.chunks(COUNTED_CHUNK) {
            self.mark_counted(chunk, now).await?;
        }
        futures::stream::iter(plain)
            .map(|(event_id, reason)| self.mark_plain(event_id, reason, now))
            .buffer_unordered(MARK_CONCURRENCY)
            .try_collect::<Vec<bool>>()
            .await?;
        Ok(())
    }

    /// Counts one refusal of a pending event (a failed condition: no longer pending).
    async fn refuse_one(&self, event_id: String) -> Result<bool, DynamoError> {
        let key = item::key(keys::outbox_pk(&event_id), keys::OUTBOX_SK);
        let update = Expr::new("ADD #attempts :one")
            .name("#attempts", ATTEMPTS)
            .value(":one", n(1));
        let update = pending_values(update, &event_id);
        self.update_item(key, update, PENDING).await
    }

    /// Marks an uncounted event (a failed condition is a no-op).
    async fn mark_plain(
        &self,
        event_id: String,
        reason: Option<String>,
        now: OffsetDateTime,
    ) -> Result<bool, DynamoError> {
        let (key, update) = mark_of(&event_id, now, reason.as_deref());
        self.update_item(key, update, PENDING).await
    }

    /// Marks counted events (those that open or close a quote) in one transaction with the
    /// summed change of each count shard. If one of them is no longer pending (a repeated
    /// mark) or a concurrent transaction cancels it, falls back to one transaction each.
    async fn mark_counted(
        &self,
        events: &[Mark<'_>],
        now: OffsetDateTime,
    ) -> Result<(), DynamoError> {
        let mut items = Vec::with_capacity(events.len() * 2);
        let mut shards: BTreeMap<String, (Item, i64)> = BTreeMap::new();
        for (event, reason) in events {
            let (key, update) = mark_of(&event.event_id, now, *reason);
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
                for (event, reason) in events {
                    self.mark_one_counted(event, *reason, now).await?;
                }
                Ok(())
            }
        }
    }

    /// One counted event: its mark and its shard's change in one transaction, retried while
    /// the event is still pending (a concurrent transaction on the shard cancelled it).
    /// Retried by hand rather than with a retry crate: a cancelled attempt re-reads the event
    /// and stops, successfully, once someone else has published it.
    async fn mark_one_counted(
        &self,
        event: &OutboxEvent,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), DynamoError> {
        let Some((count_key, delta)) = count_change(event) else {
            return Ok(());
        };
        let (key, update) = mark_of(&event.event_id, now, reason);
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
                    let pending = stored.is_some_and(|i| is_pending(&i, &event.event_id));
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
    async fn pending_entries(&self, limit: usize) -> Result<Vec<PendingEvent>, StoreError> {
        Ok(self
            .pending_items(limit)
            .await?
            .iter()
            .map(decode_entry)
            .collect())
    }

    #[tracing::instrument(skip_all, fields(events = events.len()), err)]
    async fn mark_published(
        &self,
        events: &[OutboxEvent],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let marks = events
            .iter()
            .map(|e| (e.event_id.clone(), Some(e), None))
            .collect();
        Ok(self.mark_all(marks, now).await?)
    }

    #[tracing::instrument(skip_all, fields(events = event_ids.len()), err)]
    async fn record_refusals(&self, event_ids: &[String]) -> Result<(), StoreError> {
        let ids: Vec<String> = event_ids.to_vec();
        futures::stream::iter(ids)
            .map(|event_id| self.refuse_one(event_id))
            .buffer_unordered(MARK_CONCURRENCY)
            .try_collect::<Vec<bool>>()
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(events = events.len()), err)]
    async fn park(&self, events: &[ParkedEvent], now: OffsetDateTime) -> Result<(), StoreError> {
        let marks = events
            .iter()
            .map(|p| {
                (
                    p.event_id.clone(),
                    p.event.as_ref(),
                    Some(p.reason.as_str()),
                )
            })
            .collect();
        Ok(self.mark_all(marks, now).await?)
    }

    #[tracing::instrument(skip_all, err)]
    async fn oldest_pending(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        // Each partition is in write order: its first entry is its oldest pending event; the
        // oldest event is the oldest of those, its creation time read from its item.
        let firsts: Vec<Option<(String, String)>> = futures::stream::iter(pending_partitions())
            .map(|partition| async move {
                let page = self
                    .query_page(&partition.spec(None), None, Some(1), false)
                    .await?;
                Ok::<_, DynamoError>(
                    page.items
                        .first()
                        .map(|entry| (partition.sort_key(entry).to_owned(), item::pk_of(entry))),
                )
            })
            .buffer_unordered(SHARD_READ_CONCURRENCY)
            .try_collect()
            .await?;
        let Some((sort_key, pk)) = firsts.into_iter().flatten().min() else {
            return Ok(None);
        };
        // Gone since the index was read (published and purged): its write time, the start
        // of its sort key, is as old.
        let key = item::key(pk.clone(), keys::OUTBOX_SK);
        let created = match self.get_item(key, true).await? {
            Some(stored) => item::get_s(&stored, CREATED_AT)?.to_owned(),
            None => sort_key.split('#').next().unwrap_or_default().to_owned(),
        };
        let created_at =
            OffsetDateTime::parse(&created, &time::format_description::well_known::Rfc3339)
                .map_err(|_| DynamoError::Attribute {
                    key: pk,
                    attribute: CREATED_AT,
                })?;
        Ok(Some(created_at))
    }

    #[tracing::instrument(skip_all, err)]
    async fn purge_published(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let purged: Vec<u64> = futures::stream::iter(published_partitions())
            .map(|partition| self.purge_partition(partition, before))
            .buffer_unordered(SHARD_READ_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(purged.into_iter().sum())
    }
}

impl DynamoStore {
    /// The oldest `limit` pending items across the pending partitions, oldest first (by
    /// their sort key): a k-way merge of the partitions' index entries in write order, then
    /// the items fetched ([`Self::fetch_pending`]). Each partition is read a page at a time,
    /// the first round all of them concurrently with a small page (the limit's share, at
    /// least [`MIN_SHARD_PAGE`]), later rounds only the partitions the merge has run out of,
    /// each with twice its last page (at most what is still missing): a partition is read at
    /// most about twice as far as the merge took from it, plus its first page, in a number
    /// of Queries logarithmic in what it gave.
    async fn pending_items(&self, limit: usize) -> Result<Vec<Item>, DynamoError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut cursors: Vec<ShardCursor> = pending_partitions()
            .into_iter()
            .map(|partition| ShardCursor {
                spec: partition.spec(None),
                partition,
                buffered: std::collections::VecDeque::new(),
                next: None,
                started: false,
                page: 0,
            })
            .collect();
        let first_page = limit.div_ceil(cursors.len()).max(MIN_SHARD_PAGE).min(limit);
        let mut merged: Vec<(usize, Item)> = Vec::with_capacity(limit.min(1_024));
        'merge: while merged.len() < limit {
            let missing = limit - merged.len();
            let reads: Vec<(usize, QuerySpec, Option<Item>, usize)> = cursors
                .iter_mut()
                .enumerate()
                .filter(|(_, c)| c.needs_page())
                .map(|(i, c)| {
                    c.page = if c.started {
                        c.page.saturating_mul(2)
                    } else {
                        first_page
                    }
                    .min(missing);
                    (i, c.spec.clone(), c.next.take(), c.page)
                })
                .collect();
            let pages: Vec<(usize, QueryPage)> = futures::stream::iter(reads)
                .map(|(i, spec, start, page)| self.shard_page(i, spec, start, page))
                .buffer_unordered(SHARD_READ_CONCURRENCY)
                .try_collect()
                .await?;
            for (i, read) in pages {
                let cursor = &mut cursors[i];
                cursor.started = true;
                cursor.buffered.extend(read.items);
                cursor.next = read.last_key;
            }
            // Take the oldest heads while every partition that may hold older ones has a
            // head to compare with.
            while merged.len() < limit && !cursors.iter().any(ShardCursor::needs_page) {
                let oldest = cursors
                    .iter_mut()
                    .enumerate()
                    .filter(|(_, c)| !c.buffered.is_empty())
                    .min_by(|(_, a), (_, b)| a.head_key().cmp(b.head_key()));
                match oldest.and_then(|(i, c)| c.buffered.pop_front().map(|e| (i, e))) {
                    Some(entry) => merged.push(entry),
                    None => break 'merge,
                }
            }
        }
        let partitions: Vec<Partition> = cursors.into_iter().map(|c| c.partition).collect();
        self.fetch_pending(&partitions, merged).await
    }

    /// The items of merged index entries (each with the index of its partition), in their
    /// order: one strongly consistent `BatchGetItem` per 100, keeping only the items still
    /// in the partition their entry was read from (the index lags the table: one published
    /// since is not sent again). Legacy `gsi2` entries carry their item whole, but are
    /// fetched as well: what the merge read is the same whichever the projection.
    async fn fetch_pending(
        &self,
        partitions: &[Partition],
        mut merged: Vec<(usize, Item)>,
    ) -> Result<Vec<Item>, DynamoError> {
        // An item listed twice (pending on both indexes: not written so, but BatchGetItem
        // refuses a repeated key, which would stop every sweep) is taken once, where older.
        let mut seen = std::collections::HashSet::new();
        merged.retain(|(_, entry)| seen.insert(item::pk_of(entry)));
        let keys = merged
            .iter()
            .map(|(_, entry)| item::key(item::pk_of(entry), keys::OUTBOX_SK))
            .collect();
        let mut stored: std::collections::HashMap<String, Item> = self
            .batch_get_reading(keys, true)
            .await?
            .into_iter()
            .map(|found| (item::pk_of(&found), found))
            .collect();
        Ok(merged
            .into_iter()
            .filter_map(|(i, entry)| {
                stored
                    .remove(&item::pk_of(&entry))
                    .filter(|found| partitions[i].holds(found))
            })
            .collect())
    }

    /// One page of the `i`-th partition of a merge.
    async fn shard_page(
        &self,
        i: usize,
        spec: QuerySpec,
        start: Option<Item>,
        limit: usize,
    ) -> Result<(usize, QueryPage), DynamoError> {
        let limit = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
        Ok((i, self.query_page(&spec, start, Some(limit), false).await?))
    }

    /// Deletes the events of one published partition published before `before`.
    async fn purge_partition(
        &self,
        partition: Partition,
        before: OffsetDateTime,
    ) -> Result<u64, DynamoError> {
        let spec = partition.spec(Some((
            "#sk < :before",
            ":before",
            keys::sortable_time(before),
        )));
        let entries = self.query_all(&spec).await?;
        let mut purged = 0;
        for entry in &entries {
            let key = item::key(item::pk_of(entry), keys::OUTBOX_SK);
            // The index is eventually consistent: delete only what is still published (in
            // the partition it was found in).
            let condition = Expr::new("#pk = :published")
                .name("#pk", partition.pk)
                .value(":published", s(partition.key.clone()));
            if self.delete_item(key, Some(condition)).await?.is_some() {
                purged += 1;
            }
        }
        Ok(purged)
    }
}
