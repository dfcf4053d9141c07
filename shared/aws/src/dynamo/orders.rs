//! [`OrderStore`] on DynamoDB, and the order half of `QuoteStore::accept` (in `quotes`).
//!
//! An order is the item `T#<tenant>#ORDER#<id>` / `ORDER` holding the TMF622 order as JSON
//! (`body`), the dispatch record as JSON (`dispatch`), `dispatch_status`, `state`,
//! `quote_id` and `version`. It is listed on `gsi1` under `T#<tenant>#ORDERS`, sort key
//! `<orderDate>#<id>`, read newest first: a Query, never a Scan. Every change is one
//! `TransactWriteItems` of the order (conditional on its version), the products a completion
//! creates (`products`) and its outbox events.

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::inventory::StoredProduct;
use q2c_service::listing::{Scan, Scanned};
use q2c_service::orders::{
    Dispatch, DispatchDecision, DispatchUpdate, OrderKey, OrderStore, StateChange, StoredOrder,
    dispatch_failed_event,
};
use q2c_service::ports::{Listing, OutboxEvent, Page, StoreError, write_limits};
use time::OffsetDateTime;

use super::DynamoStore;
use super::cursor::{ScanSpec, SortKey};
use super::item::{self, Item, n, s};
use super::keys::{self, GSI1, GSI1PK, GSI1SK};
use super::outbox::event_puts;
use super::products::product_puts;
use super::query::QuerySpec;
use super::transact::{Expr, TransactError, put_write};
use crate::error::DynamoError;

const VERSION: &str = "version";
const DISPATCH: &str = "dispatch";
const DISPATCH_STATUS: &str = "dispatch_status";
const STATE: &str = "state";
const QUOTE_ID: &str = "quote_id";
/// A dispatch outcome that loses a race with another write re-reads this often.
const MAX_DISPATCH_ATTEMPTS: usize = 3;

/// The item of a new order, within `write_limits::order`.
pub(crate) fn encode_new(tenant: &TenantId, stored: &StoredOrder) -> Result<Item, DynamoError> {
    let item = encode(tenant, stored)?;
    let body = item
        .get(keys::BODY)
        .map(item::body_text)
        .unwrap_or_default();
    write_limits::order(body).map_err(DynamoError::Limit)?;
    Ok(item)
}

/// The order item.
pub(crate) fn encode(tenant: &TenantId, stored: &StoredOrder) -> Result<Item, DynamoError> {
    let id = stored.id();
    let pk = keys::order_pk(tenant, id);
    let mut item = item::item_with_key(&pk, keys::ORDER_SK);
    item.insert(keys::BODY.into(), item::to_body(&stored.order, &pk)?);
    item.insert(DISPATCH.into(), item::to_body(&stored.dispatch, &pk)?);
    item.insert(DISPATCH_STATUS.into(), s(stored.dispatch.status.as_str()));
    item.insert(VERSION.into(), n(stored.version));
    item.insert(QUOTE_ID.into(), s(stored.quote_id()));
    item.insert(GSI1PK.into(), s(keys::orders_gsi1pk(tenant, id)));
    item.insert(
        GSI1SK.into(),
        s(keys::quotes_gsi1sk(stored.order.order_date, id)),
    );
    if let Some(state) = stored
        .order
        .state
        .and_then(|st| serde_json::to_value(st).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
    {
        item.insert(STATE.into(), s(state));
    }
    Ok(item)
}

fn decode(item: &Item) -> Result<StoredOrder, DynamoError> {
    let dispatch_text = item::get_s(item, DISPATCH)?;
    let dispatch: Dispatch =
        serde_json::from_str(dispatch_text).map_err(|source| DynamoError::Body {
            key: item::pk_of(item),
            source,
        })?;
    Ok(StoredOrder {
        order: item::body(item)?,
        version: item::get_n(item, VERSION)?,
        dispatch,
    })
}

fn version_condition(expected: u64) -> Expr {
    Expr::new("#v = :expected")
        .name("#v", VERSION)
        .value(":expected", n(expected))
}

impl DynamoStore {
    async fn order_item(
        &self,
        tenant: &TenantId,
        id: &str,
        consistent: bool,
    ) -> Result<Option<StoredOrder>, StoreError> {
        let key = item::key(keys::order_pk(tenant, id), keys::ORDER_SK);
        let item = self.get_item(key, consistent).await?;
        Ok(item.as_ref().map(decode).transpose()?)
    }

    /// Writes `order` if its stored version is `expected`, with the new `products` and
    /// `events`, in one transaction.
    async fn replace_order(
        &self,
        tenant: &TenantId,
        order: &StoredOrder,
        expected: u64,
        products: &[StoredProduct],
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let mut writes = vec![put_write(
            &self.table,
            encode(tenant, order)?,
            Some(version_condition(expected)),
        )?];
        writes.extend(product_puts(&self.table, tenant, products)?);
        writes.extend(event_puts(&self.table, events)?);
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TransactError::Conditions(failed)) if failed.contains(&0) => {
                Err(StoreError::VersionConflict)
            }
            Err(TransactError::Conditions(failed))
                if failed.iter().any(|&i| i >= 1 && i <= products.len()) =>
            {
                Err(StoreError::AlreadyExists)
            }
            Err(TransactError::Conditions(positions)) => {
                Err(DynamoError::DuplicateEvent { positions }.into())
            }
            Err(TransactError::Other(e)) => Err(e.into()),
        }
    }
}

#[async_trait]
impl OrderStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(tenant = %tenant, order_id = id), err)]
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredOrder>, StoreError> {
        self.order_item(tenant, id, false).await
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn list(
        &self,
        tenant: &TenantId,
        page: Page,
    ) -> Result<Listing<StoredOrder>, StoreError> {
        let mut spec = QuerySpec::new(Some(GSI1), "gsi1pk = :pk");
        spec.forward = false;
        // Ties of orderDate are re-sorted and the page held to maxPageBytes, as for quotes.
        let partitions = keys::orders_listing_pks(tenant);
        Ok(self
            .offset_page_across(&spec, &partitions, page, decode)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn scan(
        &self,
        tenant: &TenantId,
        scan: Scan,
    ) -> Result<Scanned<StoredOrder>, StoreError> {
        let table_key = |id: &str| (keys::order_pk(tenant, id), keys::ORDER_SK.to_owned());
        let listing = ScanSpec {
            base: QuerySpec::new(Some(GSI1), "gsi1pk = :pk"),
            partitions: keys::orders_listing_pks(tenant),
            sort: SortKey::Dated,
            from: None,
            to: None,
            table_key: &table_key,
        };
        Ok(self.scan_listing(&listing, &scan, decode).await?)
    }

    #[tracing::instrument(skip_all, fields(tenant = %order.tenant, order_id = order.order_id, status = update.status.as_str()), err)]
    async fn record_dispatch(
        &self,
        order: OrderKey<'_>,
        update: DispatchUpdate,
    ) -> Result<(), StoreError> {
        let OrderKey { tenant, order_id } = order;
        // Optimistic concurrency, not a transient-error retry (so no retry crate): each round
        // re-reads the order and re-applies the update to what it finds, immediately.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(mut stored) = self.order_item(tenant, order_id, true).await? else {
                return Err(StoreError::VersionConflict);
            };
            let DispatchDecision::Write { announce_failure } = stored.dispatch.apply(&update)
            else {
                return Ok(());
            };
            let expected = stored.version;
            stored.dispatch = update.clone();
            stored.version += 1;
            let events = if announce_failure {
                vec![
                    dispatch_failed_event(&stored, tenant, OffsetDateTime::now_utc())
                        .map_err(|e| StoreError::Backend(Box::new(e)))?,
                ]
            } else {
                Vec::new()
            };
            match self
                .replace_order(tenant, &stored, expected, &[], &events)
                .await
            {
                Err(StoreError::VersionConflict) if attempt < MAX_DISPATCH_ATTEMPTS => {}
                other => return other,
            }
        }
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, order_id = change.order.id(), expected_version = change.expected_version), err)]
    async fn record_state_change(
        &self,
        tenant: &TenantId,
        change: StateChange<'_>,
    ) -> Result<(), StoreError> {
        // The dispatch record is the dispatch engine's: keep what is stored. The version
        // condition makes this read safe.
        let Some(current) = self.order_item(tenant, change.order.id(), true).await? else {
            return Err(StoreError::VersionConflict);
        };
        if current.version != change.expected_version {
            return Err(StoreError::VersionConflict);
        }
        let next = StoredOrder {
            dispatch: current.dispatch,
            ..change.order.clone()
        };
        self.replace_order(
            tenant,
            &next,
            change.expected_version,
            change.products,
            change.events,
        )
        .await
    }
}
