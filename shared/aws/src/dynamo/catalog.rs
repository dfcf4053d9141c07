//! [`CatalogStore`] on DynamoDB: offerings `PO#<id>` / `PO` and prices `POP#<id>` / `POP`,
//! shared by all tenants, listed by id through `gsi1` (`CATALOG#PO` / `CATALOG#POP`, sort
//! key the id). Lookups by id are `BatchGetItem`s; listings Query the index ascending, with
//! the same offset cost as quote listings.
//!
//! Offerings and prices also carry `last_update_ns` (epoch nanoseconds of `lastUpdate`, the order of
//! fan-out changes) and, once deleted by a catalog event, `deleted = true` without the
//! listing keys: a tombstone (`dynamo/fanout.rs`) that lookups skip.

use async_trait::async_trait;
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice};
use q2c_service::listing::{Scan, Scanned};
use q2c_service::ports::{CatalogStore, Listing, Page, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DynamoStore;
use super::cursor::{ScanSpec, SortKey};
use super::item::{self, s};
use super::keys::{self, GSI1, GSI1PK, GSI1SK};
use super::page;
use super::query::QuerySpec;
use crate::error::DynamoError;

/// Where one kind of catalog item lives (the catalog port and the fan-out's writers).
#[derive(Clone, Copy)]
pub(super) struct CatalogItem {
    pub(super) pk: fn(&str) -> String,
    pub(super) sk: &'static str,
    pub(super) listing: &'static str,
}

impl CatalogItem {
    pub(super) const PRICE: CatalogItem = CatalogItem {
        pk: keys::price_pk,
        sk: keys::PRICE_SK,
        listing: keys::PRICES_GSI1PK,
    };
    pub(super) const OFFERING: CatalogItem = CatalogItem {
        pk: keys::offering_pk,
        sk: keys::OFFERING_SK,
        listing: keys::OFFERINGS_GSI1PK,
    };
}

impl DynamoStore {
    async fn catalog_get<T: DeserializeOwned>(
        &self,
        kind: &CatalogItem,
        ids: &[String],
    ) -> Result<Vec<T>, DynamoError> {
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique
            .into_iter()
            .map(|id| item::key((kind.pk)(id), kind.sk))
            .collect();
        let items = self.batch_get(keys).await?;
        items
            .iter()
            .filter(|entry| !item::get_bool(entry, keys::DELETED))
            .map(item::body)
            .collect()
    }

    async fn catalog_list<T: DeserializeOwned>(
        &self,
        kind: &CatalogItem,
        page: Page,
    ) -> Result<Listing<T>, DynamoError> {
        let spec = QuerySpec::new(Some(GSI1), "gsi1pk = :pk").value(":pk", s(kind.listing));
        let total = self.count(&spec).await?;
        let needed = usize::try_from(page.offset.saturating_add(page.limit)).unwrap_or(usize::MAX);
        let items = if page.limit == 0 || page.offset >= total {
            Vec::new()
        } else {
            let evaluate =
                i32::try_from(page.offset.saturating_add(page.limit)).unwrap_or(i32::MAX);
            let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
            let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
            // Ordered by id (no ties): what an offset skips is known as it is read.
            self.query_while(&spec, Some(evaluate), |items| {
                for skipped in items.iter_mut().take(offset) {
                    skipped.remove(keys::BODY);
                }
                items.len() < page::needed(items, offset, limit).min(needed)
            })
            .await?
        };
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let page_items: Vec<item::Item> = items.into_iter().skip(offset).take(limit).collect();
        let fits = page::fitting(&page_items, limit);
        let items = page_items[..fits]
            .iter()
            .map(item::body)
            .collect::<Result<_, _>>()?;
        Ok(Listing { items, total })
    }

    async fn catalog_scan<T: DeserializeOwned>(
        &self,
        kind: &CatalogItem,
        scan: &Scan,
    ) -> Result<Scanned<T>, DynamoError> {
        let table_key = |id: &str| ((kind.pk)(id), kind.sk.to_owned());
        let listing = ScanSpec {
            base: QuerySpec::new(Some(GSI1), "gsi1pk = :pk"),
            partitions: vec![kind.listing.to_owned()],
            sort: SortKey::Id,
            from: None,
            to: None,
            table_key: &table_key,
        };
        self.scan_listing(&listing, scan, item::body).await
    }

    async fn catalog_put<T: Serialize>(
        &self,
        kind: &CatalogItem,
        id: &str,
        value: &T,
        last_update: Option<time::OffsetDateTime>,
    ) -> Result<(), DynamoError> {
        let pk = (kind.pk)(id);
        let mut entry = item::item_with_key(&pk, kind.sk);
        entry.insert(keys::BODY.into(), item::to_body(value, &pk)?);
        entry.insert(GSI1PK.into(), s(kind.listing));
        entry.insert(GSI1SK.into(), s(id));
        if let Some(at) = last_update {
            entry.insert(keys::LAST_UPDATE_NS.into(), item::n(keys::epoch_nanos(at)));
        }
        self.put_item(entry, None).await?;
        Ok(())
    }
}

#[async_trait]
impl CatalogStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(ids = ids.len()), err)]
    async fn offerings(&self, ids: &[String]) -> Result<Vec<ProductOffering>, StoreError> {
        Ok(self.catalog_get(&CatalogItem::OFFERING, ids).await?)
    }

    #[tracing::instrument(skip_all, fields(ids = ids.len()), err)]
    async fn prices(&self, ids: &[String]) -> Result<Vec<ProductOfferingPrice>, StoreError> {
        Ok(self.catalog_get(&CatalogItem::PRICE, ids).await?)
    }

    #[tracing::instrument(skip_all, err)]
    async fn list_offerings(&self, page: Page) -> Result<Listing<ProductOffering>, StoreError> {
        Ok(self.catalog_list(&CatalogItem::OFFERING, page).await?)
    }

    #[tracing::instrument(skip_all, err)]
    async fn list_prices(&self, page: Page) -> Result<Listing<ProductOfferingPrice>, StoreError> {
        Ok(self.catalog_list(&CatalogItem::PRICE, page).await?)
    }

    #[tracing::instrument(skip_all, err)]
    async fn scan_offerings(&self, scan: Scan) -> Result<Scanned<ProductOffering>, StoreError> {
        Ok(self.catalog_scan(&CatalogItem::OFFERING, &scan).await?)
    }

    #[tracing::instrument(skip_all, err)]
    async fn scan_prices(&self, scan: Scan) -> Result<Scanned<ProductOfferingPrice>, StoreError> {
        Ok(self.catalog_scan(&CatalogItem::PRICE, &scan).await?)
    }

    #[tracing::instrument(skip_all, fields(id = %offering.id), err)]
    async fn put_offering(&self, offering: &ProductOffering) -> Result<(), StoreError> {
        Ok(self
            .catalog_put(
                &CatalogItem::OFFERING,
                &offering.id,
                offering,
                offering.last_update,
            )
            .await?)
    }

    #[tracing::instrument(skip_all, fields(id = %price.id), err)]
    async fn put_price(&self, price: &ProductOfferingPrice) -> Result<(), StoreError> {
        Ok(self
            .catalog_put(&CatalogItem::PRICE, &price.id, price, price.last_update)
            .await?)
    }
}
