//! Product orders (TMF622): the order store port, the dispatch record the dispatch engine
//! keeps on each order, the order events, and [`OrderService`] (reads and the state-change
//! listener).
//!
//! An order is created by accepting a quote ([`crate::quotes::QuoteStore::accept`]: quote,
//! order and events in one transaction). The order's TMF `state` belongs to order management
//! and arrives through the listener; our own progress in handing the order over is the
//! separate [`Dispatch`] record (`pending` → `dispatched` | `failed`).

mod events;
mod service;

use async_trait::async_trait;
use q2c_model::tmf::ProductOrder;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::TenantId;
use crate::inventory::StoredProduct;
use crate::listing::{ListCursor, Listed, Scan, Scanned};
use crate::outbox::OutboxEvent;
use crate::store::{Listing, Page, StoreError};

pub use events::{OrderEventType, dispatch_failed_event, order_created_event, order_event};
pub(crate) use service::new_order_for;
pub use service::{
    ILLEGAL_ORDER_STATE_TRANSITION, ORDER_TOO_LARGE_TO_COMPLETE, OrderPorts, OrderService,
};

/// Path of product orders (hrefs are `<base>/<id>`).
pub const PRODUCT_ORDER_HREF_BASE: &str = "/tmf-api/productOrderingManagement/v4/productOrder";

/// Where handing the order to order management stands (ours, not the TMF order `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DispatchStatus {
    /// Not yet accepted by order management (new, or being retried).
    Pending,
    /// Order management accepted it.
    Dispatched,
    /// Given up (retries exhausted or refused); a redrive may still dispatch it.
    Failed,
}

impl DispatchStatus {
    /// The wire name (`pending`, `dispatched`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchStatus::Pending => "pending",
            DispatchStatus::Dispatched => "dispatched",
            DispatchStatus::Failed => "failed",
        }
    }
}

/// The dispatch record of an order, shown as the order's `dispatch` extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dispatch {
    /// Where it stands.
    pub status: DispatchStatus,
    /// Submissions tried so far.
    pub attempts: u32,
    /// Why the last attempt failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The id order management gave the order, once dispatched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downstream_id: Option<String>,
}

/// A dispatch outcome to record: the order's new dispatch record in full.
pub type DispatchUpdate = Dispatch;

impl Dispatch {
    /// The record of a new order: pending, no attempt yet.
    pub fn new_order() -> Self {
        Dispatch {
            status: DispatchStatus::Pending,
            attempts: 0,
            last_error: None,
            downstream_id: None,
        }
    }

    /// What recording `update` over this record does. `dispatched` is terminal: a later
    /// `pending` or `failed` (a late or redelivered outcome) is ignored. A failed order may
    /// still become pending or dispatched (redrive).
    pub fn apply(&self, update: &DispatchUpdate) -> DispatchDecision {
        if self.status == DispatchStatus::Dispatched && update.status != DispatchStatus::Dispatched
        {
            return DispatchDecision::Ignore;
        }
        if self == update {
            return DispatchDecision::Ignore;
        }
        DispatchDecision::Write {
            announce_failure: update.status == DispatchStatus::Failed
                && self.status != DispatchStatus::Failed,
        }
    }
}

/// The outcome of [`Dispatch::apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchDecision {
    /// Nothing to write.
    Ignore,
    /// Write the update (version + 1).
    Write {
        /// The order just failed: write a `ProductOrderStateChangeEvent` for the ordering
        /// hub in the same transaction.
        announce_failure: bool,
    },
}

/// An order as stored: the TMF resource, our dispatch record and an optimistic-lock version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrder {
    /// The order (id always set; `state` as order management last reported it).
    pub order: ProductOrder,
    /// 1 on create, +1 on every change (dispatch outcome or state change).
    pub version: u64,
    /// Where dispatching stands.
    pub dispatch: Dispatch,
}

impl Listed for StoredOrder {
    fn position(&self) -> ListCursor {
        ListCursor::after(self.order.order_date, self.id())
    }
}

impl StoredOrder {
    /// The order id.
    pub fn id(&self) -> &str {
        self.order.id.as_deref().unwrap_or_default()
    }

    /// The id of the quote the order realises.
    pub fn quote_id(&self) -> &str {
        self.order
            .quote
            .first()
            .map(|q| q.id.as_str())
            .unwrap_or_default()
    }

    /// The order as the API shows it: the TMF622 resource plus our `dispatch` extension
    /// (`status`, `attempts`, `lastError`, `downstreamId`).
    ///
    /// # Errors
    /// When the order cannot be serialised (an amount beyond 15 significant digits).
    pub fn to_resource(&self) -> Result<Value, serde_json::Error> {
        let mut value = serde_json::to_value(&self.order)?;
        if let Value::Object(fields) = &mut value {
            fields.insert("dispatch".to_owned(), serde_json::to_value(&self.dispatch)?);
        }
        Ok(value)
    }
}

/// One tenant's product order: the key of the order's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey<'a> {
    /// The order's tenant.
    pub tenant: &'a TenantId,
    /// The order id.
    pub order_id: &'a str,
}

impl<'a> OrderKey<'a> {
    /// The order `order_id` of `tenant`.
    #[must_use]
    pub fn new(tenant: &'a TenantId, order_id: &'a str) -> Self {
        OrderKey { tenant, order_id }
    }
}

/// A conditional state change of an order, written all at once: the order as it now is
/// (`order.version` the new version), replacing the stored `expected_version`, with the
/// inventory `products` it creates and the `events` announcing both.
#[derive(Debug, Clone, Copy)]
pub struct StateChange<'a> {
    /// The order as order management reported it.
    pub order: &'a StoredOrder,
    /// The stored version it replaces.
    pub expected_version: u64,
    /// The inventory products its completion creates (new, version 1).
    pub products: &'a [StoredProduct],
    /// The outbox events announcing the change.
    pub events: &'a [OutboxEvent],
}

/// Product orders, partitioned by tenant. Orders are created with their quote's acceptance
/// ([`crate::quotes::QuoteStore::accept`]); every later change is versioned.
///
/// An adapter guarantees (checked by `q2c-contract`'s `order_store_contract`) that a tenant
/// sees only its own orders, that each write is all or nothing with its events and
/// products, and that `record_dispatch` follows [`Dispatch::apply`] (a repeated update
/// changes nothing).
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// The order with this id in this tenant.
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredOrder>, StoreError>;

    /// The tenant's orders, newest `orderDate` first, then by id.
    async fn list(&self, tenant: &TenantId, page: Page)
    -> Result<Listing<StoredOrder>, StoreError>;

    /// At most `scan.max` of the tenant's orders after `scan.after`, in the order of
    /// [`OrderStore::list`] ([`crate::listing`]), reading from the cursor on.
    async fn scan(&self, tenant: &TenantId, scan: Scan)
    -> Result<Scanned<StoredOrder>, StoreError>;

    /// Records a dispatch outcome per [`Dispatch::apply`]; an ignored update is `Ok`. When
    /// the order becomes `failed`, the [`dispatch_failed_event`] for the ordering hub is
    /// written in the same transaction.
    ///
    /// # Errors
    /// [`StoreError::VersionConflict`] when there is no such order (or it changed
    /// concurrently and the retry lost again).
    async fn record_dispatch(
        &self,
        order: OrderKey<'_>,
        update: DispatchUpdate,
    ) -> Result<(), StoreError>;

    /// Writes the [`StateChange`] of one of the tenant's orders in one write, if the stored
    /// version is its `expected_version`. The dispatch record is kept as stored.
    ///
    /// # Errors
    /// [`StoreError::VersionConflict`] when the stored version differs (or the order is
    /// gone); [`StoreError::AlreadyExists`] when a product id is taken. Either way nothing is
    /// written.
    async fn record_state_change(
        &self,
        tenant: &TenantId,
        change: StateChange<'_>,
    ) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests;
