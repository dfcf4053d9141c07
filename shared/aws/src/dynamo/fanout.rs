//! The price fan-out's ports on DynamoDB.
//!
//! - [`PriceCatalogWriter`] and [`OfferingCatalogWriter`]: one conditional `PutItem` of the
//!   price item `POP#<id>` / `POP` (offering: `PO#<id>` / `PO`),
//!   `attribute_not_exists(pk) OR attribute_not_exists(last_update_ns) OR last_update_ns <
//!   :new`; when the condition fails, one strongly consistent `GetItem` tells a redelivery
//!   (equal) from a stale event (older). A delete writes the same item as a tombstone:
//!   `deleted = true`, no listing keys, `last_update_ns` kept, so an older update still fails
//!   the condition and lookups skip it.
//! - [`OpenQuoteIndex`]: per page, one Query of each shard `POPIDX#<priceId>#<n>` (by
//!   offering: `POIDX#<offeringId>#<n>`) and of the unsharded key older releases wrote,
//!   `sk > <cursor>`, `Limit` one above the page (to know whether more follow), merged by
//!   sort key: the page callers see is the one an unsharded partition would give.
//! - [`CatalogVersions`]: `BatchGetItem` of the catalog items, tombstones included.

use async_trait::async_trait;
use q2c_service::catalog_sync::{CatalogKind, CatalogVersions, StoredVersion};
use q2c_service::fanout::{
    ApplyOutcome, FanoutCursor, IndexKey, IndexPage, OfferingCatalogWriter, OfferingChange,
    OpenQuoteIndex, OpenQuotePage, PriceCatalogWriter, PriceChange, PriceChangeKind,
};
use q2c_service::ports::StoreError;
use time::OffsetDateTime;

use super::DynamoStore;
use super::catalog::CatalogItem;
use super::item::{self, Item, s};
use super::keys::{self, DELETED, GSI1PK, GSI1SK, LAST_UPDATE_NS};
use super::open_quotes::{LEGACY_ONLY, decode, sort_key};
use super::query::QuerySpec;
use super::transact::Expr;
use crate::error::DynamoError;

/// A lost race against a concurrent newer write is re-examined this often.
const APPLY_ATTEMPTS: usize = 3;

impl DynamoStore {
    /// `None` when concurrent writers kept changing the item through every attempt.
    async fn apply_change(
        &self,
        change: &PriceChange,
    ) -> Result<Option<ApplyOutcome>, DynamoError> {
        let pk = keys::price_pk(change.price_id());
        let body = item::to_body(&change.price, &pk)?;
        self.apply_catalog_change(
            CatalogItem::PRICE,
            change.price_id(),
            body,
            change.last_update,
            change.kind == PriceChangeKind::Delete,
        )
        .await
    }

    /// Writes one catalog item when `last_update` is newer than the stored one.
    async fn apply_catalog_change(
        &self,
        kind: CatalogItem,
        id: &str,
        body: aws_sdk_dynamodb::types::AttributeValue,
        last_update: OffsetDateTime,
        deleted: bool,
    ) -> Result<Option<ApplyOutcome>, DynamoError> {
        let pk = (kind.pk)(id);
        let new_ns = keys::epoch_nanos(last_update);
        let mut entry = item::item_with_key(&pk, kind.sk);
        entry.insert(keys::BODY.into(), body);
        entry.insert(LAST_UPDATE_NS.into(), item::n(new_ns));
        if deleted {
            entry.insert(
                DELETED.into(),
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            );
        } else {
            entry.insert(GSI1PK.into(), s(kind.listing));
            entry.insert(GSI1SK.into(), s(id));
        }
        let condition =
            Expr::new("attribute_not_exists(pk) OR attribute_not_exists(#lu) OR #lu < :lu")
                .name("#lu", LAST_UPDATE_NS)
                .value(":lu", item::n(new_ns));
        for _ in 0..APPLY_ATTEMPTS {
            if self
                .put_item(entry.clone(), Some(condition.clone()))
                .await?
            {
                return Ok(Some(ApplyOutcome::Applied));
            }
            let stored = self
                .get_item(item::key(&pk, kind.sk), true)
                .await?
                .and_then(|found| item::get_n::<i128>(&found, LAST_UPDATE_NS).ok());
            match stored {
                Some(ns) if ns == new_ns => return Ok(Some(ApplyOutcome::AlreadyCurrent)),
                Some(ns) if ns > new_ns => {
                    return Ok(Some(ApplyOutcome::Stale {
                        stored: OffsetDateTime::from_unix_timestamp_nanos(ns)
                            .unwrap_or(last_update),
                    }));
                }
                // Older or gone by now (a race with a delete of the item): try again.
                _ => {}
            }
        }
        Ok(None)
    }

    /// One page of the open-quote index under the unsharded key `unsharded` (`POPIDX#…` or
    /// `POIDX#…`): every shard and the legacy unsharded partition (until found empty) queried
    /// for `sk > after`, `Limit` = page + 1 each, merged by sort key: at most
    /// (shards + 1) × (page + 1) items read for a page.
    async fn open_quote_page(
        &self,
        unsharded: &str,
        after: Option<&FanoutCursor>,
        limit: usize,
    ) -> Result<OpenQuotePage, DynamoError> {
        if limit == 0 {
            return Ok(OpenQuotePage::default());
        }
        let wanted = limit.saturating_add(1);
        // The unsharded partition of older releases too, until this process found it empty.
        let legacy = (!self.legacy_known_empty(unsharded)).then(|| unsharded.to_owned());
        let partitions = (0..keys::OPEN_QUOTE_INDEX_SHARDS)
            .map(|shard| keys::open_quote_index_shard_pk(unsharded, shard))
            .chain(legacy.clone());
        let reads = partitions.map(|pk| {
            let legacy_only = pk == unsharded;
            self.open_quote_partition(pk, legacy_only, after, wanted)
        });
        let read = futures::future::try_join_all(reads).await?;
        if legacy.is_some() && after.is_none() && read.last().is_some_and(Vec::is_empty) {
            self.note_legacy_empty(unsharded);
        }
        let mut items: Vec<Item> = read.into_iter().flatten().collect();
        // A quote's item is in one partition; an older release writing the legacy key during
        // an upgrade could leave it in two: keep one.
        items.sort_by(|a, b| sort_key(a).cmp(sort_key(b)));
        items.dedup_by(|a, b| sort_key(a) == sort_key(b));
        items.truncate(wanted);
        let found = items.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        Ok(OpenQuotePage::from_overfetch(found, limit))
    }

    /// Up to `wanted` items of one index partition after `after`, in sort key order; of an
    /// unsharded key (`legacy_only`) only older releases' items.
    async fn open_quote_partition(
        &self,
        pk: String,
        legacy_only: bool,
        after: Option<&FanoutCursor>,
        wanted: usize,
    ) -> Result<Vec<Item>, DynamoError> {
        let mut spec = match after {
            Some(cursor) => {
                QuerySpec::new(None, "pk = :pk AND sk > :after").value(":after", s(cursor.as_str()))
            }
            None => QuerySpec::new(None, "pk = :pk"),
        }
        .value(":pk", s(pk));
        spec.filter = legacy_only.then(|| LEGACY_ONLY.to_owned());
        let mut start = None;
        let mut items = Vec::new();
        // Normally one request; more only when a page hits DynamoDB's 1 MB response cap.
        loop {
            let room = i32::try_from(wanted - items.len()).unwrap_or(i32::MAX);
            let page = self.query_page(&spec, start, Some(room), false).await?;
            items.extend(page.items);
            match page.last_key {
                Some(key) if items.len() < wanted => start = Some(key),
                _ => break,
            }
        }
        Ok(items)
    }
}

#[async_trait]
impl PriceCatalogWriter for DynamoStore {
    #[tracing::instrument(skip_all, fields(price_id = change.price_id()), err)]
    async fn apply_price_change(&self, change: &PriceChange) -> Result<ApplyOutcome, StoreError> {
        self.apply_change(change).await?.ok_or_else(|| {
            StoreError::Backend(
                format!(
                    "price {} kept changing while applying a change",
                    change.price_id()
                )
                .into(),
            )
        })
    }
}

#[async_trait]
impl OpenQuoteIndex for DynamoStore {
    #[tracing::instrument(skip_all, fields(key = ?page.key, limit = page.limit), err)]
    async fn open_quotes(&self, page: IndexPage<'_>) -> Result<OpenQuotePage, StoreError> {
        let unsharded = match page.key {
            IndexKey::Price(price_id) => keys::open_quote_index_pk(price_id),
            IndexKey::Offering(offering_id) => keys::open_quote_offering_index_pk(offering_id),
        };
        Ok(self
            .open_quote_page(&unsharded, page.after, page.limit)
            .await?)
    }
}

#[async_trait]
impl OfferingCatalogWriter for DynamoStore {
    #[tracing::instrument(skip_all, fields(offering_id = change.offering_id()), err)]
    async fn apply_offering_change(
        &self,
        change: &OfferingChange,
    ) -> Result<ApplyOutcome, StoreError> {
        let id = change.offering_id();
        let body = item::to_body(&change.offering, &keys::offering_pk(id))?;
        self.apply_catalog_change(
            CatalogItem::OFFERING,
            id,
            body,
            change.last_update,
            change.kind == PriceChangeKind::Delete,
        )
        .await?
        .ok_or_else(|| {
            StoreError::Backend(
                format!("offering {id} kept changing while applying a change").into(),
            )
        })
    }
}

#[async_trait]
impl CatalogVersions for DynamoStore {
    #[tracing::instrument(skip_all, fields(ids = ids.len()), err)]
    async fn stored_versions(
        &self,
        kind: CatalogKind,
        ids: &[String],
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let place = match kind {
            CatalogKind::Offering => CatalogItem::OFFERING,
            CatalogKind::Price => CatalogItem::PRICE,
        };
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique
            .into_iter()
            .map(|id| item::key((place.pk)(id), place.sk))
            .collect();
        // Strongly consistent: an import's re-run must see its own writes.
        let items = self.batch_get_reading(keys, true).await?;
        let versions = items
            .iter()
            .map(|entry| {
                let body: serde_json::Value = item::body(entry)?;
                let id = body
                    .get("id")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                Ok(StoredVersion {
                    id,
                    last_update: item::get_n::<i128>(entry, LAST_UPDATE_NS)
                        .ok()
                        .and_then(|ns| OffsetDateTime::from_unix_timestamp_nanos(ns).ok()),
                    deleted: item::get_bool(entry, DELETED),
                    body,
                })
            })
            .collect::<Result<Vec<_>, DynamoError>>()?;
        Ok(versions)
    }
}
