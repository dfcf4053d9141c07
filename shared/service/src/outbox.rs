//! Foundation: the transactional outbox. Every write of a use-case stores the events
//! announcing it ([`OutboxEvent`], bound for a [`Destination`] queue) in the same
//! transaction; the relay ([`crate::relay`]) reads them back through [`OutboxStore`] and
//! publishes them. Names only the other foundation modules.

use async_trait::async_trait;
use q2c_model::tmf::EventEnvelope;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::event_versions::SchemaMajor;
use crate::store::StoreError;

/// The schema version of the envelopes the use-cases build and the outbox stores: the
/// internal form (v4 envelope, model representation). Publishers render them in the emitted
/// major ([`crate::relay::render_outbox_event`]).
pub const SCHEMA_VERSION: &str = SchemaMajor::V4.version();

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

/// What an outbox event announces: the parts in which the event families (quote, product
/// order, product) differ. [`Announcement::into_event`] builds the TMF event envelope and the
/// outbox entry around them the same way for all.
#[derive(Debug, Clone)]
pub struct Announcement<'a> {
    /// The TMF event type, e.g. `QuoteCreateEvent`.
    pub event_type: &'a str,
    /// The envelope's `domain`, e.g. `quoteManagement`.
    pub domain: &'a str,
    /// Tenant of the aggregate.
    pub tenant: &'a str,
    /// Id of the changed resource.
    pub aggregate_id: String,
    /// Correlation id of the request that caused it.
    pub correlation_id: Option<&'a str>,
    /// Target queue.
    pub destination: Destination,
    /// The envelope's `event` payload, e.g. `{"quote": …}`.
    pub event: Value,
    /// Envelope fields beside `schemaVersion` (always set to [`SCHEMA_VERSION`]).
    pub extensions: Map<String, Value>,
}

impl Announcement<'_> {
    /// The outbox event: a new event id (UUIDv7), the envelope (priority 3, `title`
    /// `<type> <aggregate id>`, event and occurrence time `now`) as its body.
    ///
    /// # Errors
    /// When the envelope cannot be serialised (an amount beyond 15 significant digits).
    pub fn into_event(self, now: OffsetDateTime) -> Result<OutboxEvent, serde_json::Error> {
        let event_id = uuid::Uuid::now_v7().to_string();
        let mut extensions =
            Map::from_iter([("schemaVersion".to_owned(), Value::from(SCHEMA_VERSION))]);
        extensions.extend(self.extensions);
        let envelope = EventEnvelope {
            event_id: event_id.clone(),
            event_time: now,
            event_type: self.event_type.to_owned(),
            correlation_id: self.correlation_id.map(str::to_owned),
            domain: Some(self.domain.to_owned()),
            title: Some(format!("{} {}", self.event_type, self.aggregate_id)),
            description: None,
            priority: Some("3".to_owned()),
            time_occurred: Some(now),
            event: self.event,
            extensions,
        };
        Ok(OutboxEvent {
            event_id,
            event_type: self.event_type.to_owned(),
            tenant: Some(self.tenant.to_owned()),
            aggregate_id: self.aggregate_id,
            correlation_id: self.correlation_id.map(str::to_owned),
            schema_version: SCHEMA_VERSION.to_owned(),
            destination: self.destination,
            body: serde_json::to_value(&envelope)?,
            created_at: now,
        })
    }
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

/// The relay's side of the outbox (the use-cases write events through their own stores, in
/// the transaction of the change).
///
/// An adapter guarantees (checked by `q2c-contract`'s outbox and relay suites): pending
/// entries come oldest first and never as an error for one entry that does not decode;
/// `mark_published` and `park` are idempotent and move a tenant's open-quote count once
/// per event; purging removes only published (or parked) entries. The default
/// [`OutboxStore::pending`] is derived from `pending_entries` and right for every adapter.
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
