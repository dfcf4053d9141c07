//! The ports of the quote use-cases, in one place: the quote store and the records it
//! keeps ([`StoredQuote`], [`QuoteFilter`]), the limits every store checks before writing
//! ([`write_limits`]), and [`Ports`], the bundle of every store the API's use-cases need.

use std::sync::Arc;

use async_trait::async_trait;
use q2c_model::tmf::{Quote, QuoteState};
use time::OffsetDateTime;

use crate::catalog::{CatalogStore, SettingsSource};
use crate::clock::Clock;
use crate::context::TenantId;
use crate::hubs::HubStore;
use crate::idempotency::IdempotencyStore;
use crate::inventory::{InventoryPorts, ProductStore};
use crate::listing::{ListCursor, Listed, Scan, Scanned};
use crate::orders::{OrderPorts, OrderStore, StoredOrder};
use crate::outbox::OutboxEvent;
use crate::store::{Listing, Page, StoreError};

/// The limits every store adapter checks before a write reaches its backend, so that SQLite
/// and DynamoDB accept and refuse exactly the same writes (`q2c_model::limits`; the use-cases
/// check the same budget earlier, with a reserve for approval and acceptance, so these only
/// catch a caller that skipped them). Each works on the JSON text the adapter writes anyway.
pub mod write_limits {
    use q2c_model::limits::{
        self, LimitError, MAX_CATALOG_REFS, MAX_EVENT_BYTES, MAX_JSON_DEPTH, MAX_ORDER_BYTES,
        MAX_QUOTE_BYTES,
    };

    use super::StoredQuote;

    /// A quote whose JSON is `body`: at most `maxQuoteBytes` with the copies stored beside it
    /// (price ids, party ids, external id), at most `maxJsonDepth` deep and, while open, at
    /// most `maxCatalogRefs` index entries.
    ///
    /// # Errors
    /// [`LimitError`] (adapters answer it as [`StoreError::Limit`](crate::store::StoreError::Limit)).
    pub fn quote(stored: &StoredQuote, body: &str) -> Result<(), LimitError> {
        let quote = &stored.quote;
        let beside = limits::bytes_beside(quote, &stored.price_ids);
        MAX_QUOTE_BYTES.check(body.len() + beside, || "$".to_owned())?;
        depth(body)?;
        if !quote.state.is_some_and(|s| s.is_final()) {
            let refs = limits::distinct_catalog_refs(quote, &stored.price_ids);
            MAX_CATALOG_REFS.check(refs, || "quoteItem".to_owned())?;
        }
        Ok(())
    }

    /// A new product order whose JSON is `body`: at most `maxOrderBytes` (later state and
    /// dispatch records add a few hundred bytes, within the item's slack).
    ///
    /// # Errors
    /// [`LimitError`] (adapters answer it as [`StoreError::Limit`](crate::store::StoreError::Limit)).
    pub fn order(body: &str) -> Result<(), LimitError> {
        MAX_ORDER_BYTES.check(body.len(), || "$".to_owned())?;
        depth(body)
    }

    /// An outbox event whose envelope JSON is `body`: at most the largest event an accepted
    /// quote causes (`maxOrderBytes` and an envelope).
    ///
    /// # Errors
    /// [`LimitError`] (adapters answer it as [`StoreError::Limit`](crate::store::StoreError::Limit)).
    pub fn event(body: &str) -> Result<(), LimitError> {
        if body.len() > MAX_EVENT_BYTES {
            let largest = limits::Limit {
                value: MAX_EVENT_BYTES as u64,
                ..MAX_ORDER_BYTES
            };
            return Err(LimitError::new(largest, body.len(), "$"));
        }
        Ok(())
    }

    fn depth(body: &str) -> Result<(), LimitError> {
        limits::check_json_text(body.as_bytes(), MAX_JSON_DEPTH).map(|_| ())
    }
}

/// A quote as stored: the TMF resource plus the data the store needs beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredQuote {
    /// The quote (id always set).
    pub quote: Quote,
    /// Optimistic-lock version, 1 on create, +1 on every change; exposed as the `ETag`.
    pub version: u64,
    /// A requested discount exceeds the tenant threshold: approving needs `quote.approve`.
    pub approval_required: bool,
    /// Catalog price ids the quote's prices come from (index of open quotes by price).
    pub price_ids: Vec<String>,
}

impl StoredQuote {
    /// The quote id.
    pub fn id(&self) -> &str {
        self.quote.id.as_deref().unwrap_or_default()
    }
}

/// Filters of `GET /quote` (all optional, combined with AND).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuoteFilter {
    /// `state=`.
    pub state: Option<QuoteState>,
    /// `relatedParty.id=`.
    pub related_party_id: Option<String>,
    /// `externalId=`.
    pub external_id: Option<String>,
    /// `quoteDate.gte=`.
    pub quote_date_gte: Option<OffsetDateTime>,
    /// `quoteDate.lt=`.
    pub quote_date_lt: Option<OffsetDateTime>,
}

/// Quotes, partitioned by tenant, with optimistic locking. Every write takes the outbox
/// events announcing it and stores them in the same transaction.
///
/// An adapter guarantees (checked by `q2c-contract`'s `quote_store_contract`):
/// - a tenant sees only its own quotes, by any method;
/// - every write is all or nothing: the quote (and on `accept` the order) with its events,
///   conditional on the stored version where a version is given, and nothing written when
///   the condition fails;
/// - `get` reads what the last successful write stored (strongly consistent), which the
///   default [`QuoteStore::get_many`] relies on;
/// - a write over a limit of [`write_limits`] is refused with [`StoreError::Limit`] before
///   it reaches the backend.
///
/// `get_many` and `update_from` have defaults that are correct for every such adapter; an
/// adapter overrides them only to save requests (one bulk read, no re-read of the previous
/// version).
#[async_trait]
pub trait QuoteStore: Send + Sync {
    /// Inserts a new quote (`version` 1) and its events.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] when the id is taken.
    async fn insert(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError>;

    /// The quote with this id in this tenant.
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredQuote>, StoreError>;

    /// Replaces the quote if its stored version is `expected_version`; `quote.version` is
    /// the new version.
    ///
    /// # Errors
    /// [`StoreError::VersionConflict`] when the stored version differs (or the quote is gone).
    async fn update(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError>;

    /// The quotes with these `(tenant, id)` keys, one entry per key in the same order
    /// (`None` where there is none), as of now: read strongly consistent, since callers
    /// write on top of what they read. Stores answer in bulk where they can (the price
    /// fan-out reads a whole page this way); the default asks [`QuoteStore::get`] per key
    /// (right for stores whose `get` is consistent).
    async fn get_many(
        &self,
        keys: &[(TenantId, String)],
    ) -> Result<Vec<Option<StoredQuote>>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for (tenant, id) in keys {
            found.push(self.get(tenant, id).await?);
        }
        Ok(found)
    }

    /// Replaces `previous` (as read by the caller) with `quote`, conditional on the stored
    /// version still being `previous.version`, so a store need not read the quote again to
    /// learn what it replaces (e.g. which index entries to remove).
    ///
    /// # Errors
    /// [`StoreError::VersionConflict`] when the stored version differs (or the quote is
    /// gone): nothing is written then.
    async fn update_from(
        &self,
        tenant: &TenantId,
        previous: &StoredQuote,
        quote: &StoredQuote,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        self.update(tenant, quote, previous.version, events).await
    }

    /// Accepts the quote: replaces it (as `update` does, conditional on
    /// `expected_version`) and inserts `order` (the product order it becomes), with the
    /// events, all in one transaction.
    ///
    /// # Errors
    /// [`StoreError::VersionConflict`] when the stored version differs (or the quote is
    /// gone); [`StoreError::AlreadyExists`] when the order id is taken. Nothing is written
    /// then.
    async fn accept(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        expected_version: u64,
        order: &StoredOrder,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError>;

    /// Deletes the quote if its stored version is `expected_version`.
    ///
    /// # Errors
    /// [`StoreError::VersionConflict`] when the stored version differs (or the quote is gone).
    async fn delete(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError>;

    /// Quotes of the tenant matching the filter, newest `quoteDate` first, then by id.
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        page: Page,
    ) -> Result<Listing<StoredQuote>, StoreError>;

    /// At most `scan.max` quotes of the tenant matching the filter after `scan.after`, in
    /// the order of [`QuoteStore::list`] ([`crate::listing`]), reading from the cursor on
    /// (never the quotes before it).
    async fn scan(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        scan: Scan,
    ) -> Result<Scanned<StoredQuote>, StoreError>;
}

impl Listed for StoredQuote {
    fn position(&self) -> ListCursor {
        ListCursor::after(self.quote.quote_date, self.id())
    }
}

/// Every store the request-facing use-cases need, as shared trait objects: what an adapter
/// (`q2c-local`, `q2c-aws`) hands the API. [`QuoteService`](super::QuoteService) holds it
/// whole (accepting a quote writes its order); the order and inventory services take their
/// own part of it ([`OrderPorts`], [`InventoryPorts`]).
#[derive(Clone)]
pub struct Ports {
    /// Quotes.
    pub quotes: Arc<dyn QuoteStore>,
    /// Product orders.
    pub orders: Arc<dyn OrderStore>,
    /// Inventory products (TMF637).
    pub products: Arc<dyn ProductStore>,
    /// Catalog.
    pub catalog: Arc<dyn CatalogStore>,
    /// Hub subscriptions.
    pub hubs: Arc<dyn HubStore>,
    /// Idempotency records.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Tenant settings.
    pub settings: Arc<dyn SettingsSource>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
}

impl From<Ports> for OrderPorts {
    fn from(ports: Ports) -> Self {
        OrderPorts {
            orders: ports.orders,
            clock: ports.clock,
        }
    }
}

impl From<Ports> for InventoryPorts {
    fn from(ports: Ports) -> Self {
        InventoryPorts {
            products: ports.products,
        }
    }
}
