//! Ports: the capabilities the use-cases need from the outside world. Adapters implement them
//! (`q2c-local` on SQLite, `q2c-aws` on DynamoDB/SQS); one contract suite checks each adapter.

use std::sync::Arc;

use async_trait::async_trait;
use q2c_model::limits::LimitError;
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{EventSubscription, ProductOffering, ProductOfferingPrice, Quote, QuoteState};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::context::TenantId;
use crate::event_versions::SchemaMajor;
use crate::orders::{OrderStore, StoredOrder};

/// A boxed error cause from an adapter (driver, SDK).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of a store adapter.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write failed: the stored version is not the expected one.
    #[error("version conflict")]
    VersionConflict,
    /// An insert found the key already present.
    #[error("already exists")]
    AlreadyExists,
    /// The backend failed; retrying may help.
    #[error("store backend failed")]
    Backend(#[source] BoxError),
    /// The write exceeds a stated limit (`q2c_model::limits`: a quote over its byte budget,
    /// more index entries than a transaction holds, an event too large for an item). Refused
    /// before any request to the backend, identically by every adapter; retrying never helps.
    #[error(transparent)]
    Limit(LimitError),
}

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
    /// [`LimitError`] (adapters answer it as [`StoreError::Limit`](super::StoreError::Limit)).
    pub fn quote(stored: &StoredQuote, body: &str) -> Result<(), LimitError> {
        let quote = &stored.quote;
        let beside: usize = stored.price_ids.iter().map(String::len).sum::<usize>()
            + quote
                .related_party
                .iter()
                .map(|p| p.id.len())
                .sum::<usize>()
            + quote.external_id.as_ref().map_or(0, String::len);
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
    /// [`LimitError`] (adapters answer it as [`StoreError::Limit`](super::StoreError::Limit)).
    pub fn order(body: &str) -> Result<(), LimitError> {
        MAX_ORDER_BYTES.check(body.len(), || "$".to_owned())?;
        depth(body)
    }

    /// An outbox event whose envelope JSON is `body`: at most the largest event an accepted
    /// quote causes (`maxOrderBytes` and an envelope).
    ///
    /// # Errors
    /// [`LimitError`] (adapters answer it as [`StoreError::Limit`](super::StoreError::Limit)).
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

/// A page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items to skip.
    pub offset: u64,
    /// Most items to return.
    pub limit: u64,
}

/// One page of results and the total count matching the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// The page.
    pub items: Vec<T>,
    /// All matching items (`X-Total-Count`).
    pub total: u64,
}

/// Where the relay sends an outbox event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Destination {
    /// Quote*Event → quote-events queue.
    QuoteEvents,
    /// Catalog changes → pricing-changes queue.
    PricingChanges,
    /// Product orders → orders queue.
    Orders,
    /// TMF637 product events → billing-updates queue (billing reads them).
    BillingUpdates,
}

impl Destination {
    /// Every destination.
    pub const ALL: [Destination; 4] = [
        Destination::QuoteEvents,
        Destination::PricingChanges,
        Destination::Orders,
        Destination::BillingUpdates,
    ];

    /// The destination whose queue is `name`.
    pub fn from_queue_name(name: &str) -> Option<Destination> {
        Self::ALL.into_iter().find(|d| d.queue_name() == name)
    }

    /// The queue name (as in the SAM template and the local engine).
    pub fn queue_name(self) -> &'static str {
        match self {
            Destination::QuoteEvents => "quote-events",
            Destination::PricingChanges => "pricing-changes",
            Destination::Orders => "orders",
            Destination::BillingUpdates => "billing-updates",
        }
    }
}

/// An event to announce, written in the same transaction as the change it announces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// Stable id (also the envelope's `eventId`): consumers de-duplicate on it.
    pub event_id: String,
    /// e.g. `QuoteStateChangeEvent`.
    pub event_type: String,
    /// Tenant of the aggregate; `None` for catalog events.
    pub tenant: Option<String>,
    /// Id of the changed resource.
    pub aggregate_id: String,
    /// Correlation id of the request that caused it.
    pub correlation_id: Option<String>,
    /// Message schema version, e.g. `1.0`.
    pub schema_version: String,
    /// Target queue.
    pub destination: Destination,
    /// The message body: a TMF event envelope.
    pub body: serde_json::Value,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Quotes, partitioned by tenant, with optimistic locking. Every write takes the outbox
/// events announcing it and stores them in the same transaction.
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
}

/// The operator's product catalog, shared by all tenants.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// The offerings with these ids that exist (any order).
    async fn offerings(&self, ids: &[String]) -> Result<Vec<ProductOffering>, StoreError>;
    /// The prices with these ids that exist (any order).
    async fn prices(&self, ids: &[String]) -> Result<Vec<ProductOfferingPrice>, StoreError>;
    /// A page of offerings ordered by id.
    async fn list_offerings(&self, page: Page) -> Result<Listing<ProductOffering>, StoreError>;
    /// A page of prices ordered by id.
    async fn list_prices(&self, page: Page) -> Result<Listing<ProductOfferingPrice>, StoreError>;
    /// Inserts or replaces an offering.
    async fn put_offering(&self, offering: &ProductOffering) -> Result<(), StoreError>;
    /// Inserts or replaces a price.
    async fn put_price(&self, price: &ProductOfferingPrice) -> Result<(), StoreError>;
}

/// Which API's hub a subscription belongs to (each TMF API has its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HubApi {
    /// TMF648 quote events.
    Quote,
    /// TMF620 catalog (price) events.
    Catalog,
    /// TMF622 product order events.
    Ordering,
}

impl HubApi {
    /// Stable name used in store keys.
    pub fn as_str(self) -> &'static str {
        match self {
            HubApi::Quote => "quote",
            HubApi::Catalog => "catalog",
            HubApi::Ordering => "ordering",
        }
    }
}

/// A hub subscription with the schema major its events are delivered in: the API version it
/// was registered through. Stored as the subscription's JSON plus `eventSchemaMajor` (written
/// only when not 4, so rows stored before versions, and v4 rows, read as 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionedSubscription {
    /// The subscription.
    #[serde(flatten)]
    pub subscription: EventSubscription,
    /// The schema major its events are rendered in.
    #[serde(
        rename = "eventSchemaMajor",
        default,
        skip_serializing_if = "is_previous_default"
    )]
    pub version: SchemaMajor,
}

fn is_previous_default(major: &SchemaMajor) -> bool {
    *major == SchemaMajor::default()
}

/// Hub subscriptions, per tenant and API, each with the schema major its events are
/// delivered in (the API version it was registered through).
///
/// Adapters implement the four required methods, which store and read versioned
/// subscriptions; `create`, `list` and `list_for_api` are derived from them (version 4, or
/// the versions dropped) and every adapter relies on those defaults.
#[async_trait]
pub trait HubStore: Send + Sync {
    /// Stores a subscription (its `id` is set by the caller) delivered in `version`.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] when the tenant's hub has one with this id.
    async fn create_versioned(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
        version: SchemaMajor,
    ) -> Result<(), StoreError>;

    /// Removes a subscription; `false` when there was none with this id.
    async fn delete(&self, tenant: &TenantId, api: HubApi, id: &str) -> Result<bool, StoreError>;

    /// Every subscription of the tenant on this API, with its version.
    async fn list_versioned(
        &self,
        tenant: &TenantId,
        api: HubApi,
    ) -> Result<Vec<VersionedSubscription>, StoreError>;

    /// Every subscription on this API, of every tenant, with its tenant and version: catalog
    /// events are shared by all tenants, so their delivery needs them all. Served by an
    /// index, not a scan.
    async fn list_for_api_versioned(
        &self,
        api: HubApi,
    ) -> Result<Vec<(TenantId, VersionedSubscription)>, StoreError>;

    /// Stores a subscription as [`HubStore::create_versioned`] unless the tenant already has
    /// `max` subscriptions on `api`: `Ok(false)` then, and nothing is stored. The count and
    /// the insert are one atomic step in the adapters (a burst of concurrent registrations
    /// cannot pass the quota); the default (test fakes) counts with [`HubStore::list`].
    ///
    /// # Errors
    /// As [`HubStore::create`].
    async fn create_within(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
        version: SchemaMajor,
        max: u64,
    ) -> Result<bool, StoreError> {
        let count = self.list(tenant, api).await?.len();
        if u64::try_from(count).unwrap_or(u64::MAX) >= max {
            return Ok(false);
        }
        self.create_versioned(tenant, api, subscription, version)
            .await
            .map(|()| true)
    }

    /// [`HubStore::create_versioned`] with version 4.
    async fn create(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
    ) -> Result<(), StoreError> {
        self.create_versioned(tenant, api, subscription, SchemaMajor::V4)
            .await
    }

    /// [`HubStore::list_versioned`] without the versions.
    async fn list(
        &self,
        tenant: &TenantId,
        api: HubApi,
    ) -> Result<Vec<EventSubscription>, StoreError> {
        let versioned = self.list_versioned(tenant, api).await?;
        Ok(versioned.into_iter().map(|v| v.subscription).collect())
    }

    /// [`HubStore::list_for_api_versioned`] without the versions.
    async fn list_for_api(
        &self,
        api: HubApi,
    ) -> Result<Vec<(TenantId, EventSubscription)>, StoreError> {
        let versioned = self.list_for_api_versioned(api).await?;
        Ok(versioned
            .into_iter()
            .map(|(tenant, v)| (tenant, v.subscription))
            .collect())
    }
}

/// A response kept for idempotent replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers worth replaying (`Location`, `ETag`, `Content-Type`).
    pub headers: Vec<(String, String)>,
    /// Body bytes as UTF-8 text.
    pub body: String,
}

/// Outcome of claiming an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// First use (or the previous claim expired): proceed, then `complete` or `release`.
    Claimed,
    /// Completed before with the same request: replay this response.
    Replay(StoredResponse),
    /// Another request with this key is still being processed.
    InProgress,
    /// The key was used with a different request body.
    Mismatch,
}

/// Idempotency records (`Idempotency-Key`), per tenant. Expiry is checked on claim; the
/// background clean-up only reclaims space.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request whose body hashes to `request_hash`. A claim in progress
    /// older than `in_progress_until` may be taken over; a completed record past its
    /// expiry counts as absent.
    async fn claim(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
        now: OffsetDateTime,
        in_progress_until: OffsetDateTime,
    ) -> Result<IdempotencyClaim, StoreError>;
    /// Records the response of a claimed key, kept until `expires_at`.
    async fn complete(
        &self,
        tenant: &TenantId,
        key: &str,
        response: &StoredResponse,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Drops a claim whose request failed without effect, so the client can retry.
    async fn release(&self, tenant: &TenantId, key: &str) -> Result<(), StoreError>;
    /// Deletes records expired at `now`; returns how many.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}

/// A pending outbox entry as the relay reads it: an event, or a stored entry that cannot be
/// rebuilt into one (poison), which the relay parks as read instead of failing its round.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingEvent {
    /// A decoded event and how many times a queue has refused it so far.
    Ready {
        /// The event.
        event: OutboxEvent,
        /// Refusals by its queue ([`OutboxStore::record_refusals`]).
        attempts: u32,
    },
    /// An entry that cannot be decoded.
    Undecodable(UndecodableEvent),
}

impl PendingEvent {
    /// The entry's event id.
    pub fn event_id(&self) -> &str {
        match self {
            PendingEvent::Ready { event, .. } => &event.event_id,
            PendingEvent::Undecodable(entry) => &entry.event_id,
        }
    }
}

/// A stored outbox entry that cannot be rebuilt into an [`OutboxEvent`], with what could be
/// read of it: enough to park it whole (its body exactly as stored) with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecodableEvent {
    /// Its event id (the key, always readable).
    pub event_id: String,
    /// The destination queue as stored, when it is a known one.
    pub destination: Option<Destination>,
    /// Its event type, when readable.
    pub event_type: Option<String>,
    /// Its tenant, when readable.
    pub tenant: Option<String>,
    /// The stored body text, unchanged (empty when absent).
    pub body: String,
    /// Why it cannot be decoded.
    pub reason: String,
}

/// An event the relay gave up on, to mark parked: sent whole to its destination's
/// dead-letter queue with `reason`, so no longer pending.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkedEvent {
    /// Its event id.
    pub event_id: String,
    /// Why it was parked.
    pub reason: String,
    /// The decoded event (None for an undecodable entry): its effect on the tenant's
    /// open-quote count applies as marking it published would.
    pub event: Option<OutboxEvent>,
}

/// The relay's side of the outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Up to `limit` pending entries (neither published nor parked), oldest first; an entry
    /// that cannot be decoded is returned as [`PendingEvent::Undecodable`], never an error.
    async fn pending_entries(&self, limit: usize) -> Result<Vec<PendingEvent>, StoreError>;
    /// Up to `limit` pending events that decode, oldest first (undecodable entries are
    /// left out: the relay reads [`OutboxStore::pending_entries`]).
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        Ok(self
            .pending_entries(limit)
            .await?
            .into_iter()
            .filter_map(|entry| match entry {
                PendingEvent::Ready { event, .. } => Some(event),
                PendingEvent::Undecodable(_) => None,
            })
            .collect())
    }
    /// Adds one refusal to each pending event of `event_ids` (the relay parks an event
    /// refused [`crate::relay::MAX_PUBLISH_ATTEMPTS`] times).
    async fn record_refusals(&self, event_ids: &[String]) -> Result<(), StoreError>;
    /// Marks events parked (no longer pending; the reason kept on the entry until it is
    /// purged like a published one). Idempotent; a decoded event moves its tenant's
    /// open-quote count as [`OutboxStore::mark_published`] does, once.
    async fn park(&self, events: &[ParkedEvent], now: OffsetDateTime) -> Result<(), StoreError>;
    /// When the oldest pending entry was written (`None`: nothing pending).
    async fn oldest_pending(&self) -> Result<Option<OffsetDateTime>, StoreError>;
    /// Marks events published (idempotent: marking twice keeps the first time). The first
    /// marking of an event also applies its effect on its tenant's open-quote count
    /// ([`crate::quotas::open_quote_delta`]) in the same write, so a count is changed once
    /// per event however often the relay repeats itself ([`crate::quotas`]).
    async fn mark_published(
        &self,
        events: &[OutboxEvent],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Deletes events published before `before`; returns how many.
    async fn purge_published(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}

/// Tenant settings (tax rate, approval threshold, validity, currency).
#[async_trait]
pub trait SettingsSource: Send + Sync {
    /// Settings of the tenant (the defaults when it has none of its own).
    async fn settings(&self, tenant: &TenantId) -> Result<TenantSettings, StoreError>;
}

/// The current time. Injected so that expiry and validity are testable.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Everything the use-cases need, as shared trait objects.
#[derive(Clone)]
pub struct Ports {
    /// Quotes.
    pub quotes: Arc<dyn QuoteStore>,
    /// Product orders.
    pub orders: Arc<dyn OrderStore>,
    /// Inventory products (TMF637).
    pub products: Arc<dyn crate::inventory::ProductStore>,
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
