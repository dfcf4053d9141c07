//! [`PriceFanout`], the consumer of the `pricing-changes` queue: apply the change (to a
//! price or an offering), announce it, process one page of affected open quotes (for an
//! offering only when the change retires it), and hand the rest to a continuation message
//! sent before the current message is acknowledged (so no page is ever lost: if the send
//! fails, the message is redelivered and the page, already done, is a no-op).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{QuoteItem, QuoteState};
use time::OffsetDateTime;

use super::message::{FanoutWork, parse_work};
use super::page_catalog::PageCatalog;
use super::rules::{ChangeFacts, QuoteChange, apply_rules};
use super::{
    Announce, ApplyOutcome, CatalogSubject, FanoutCursor, OfferingCatalogWriter, OfferingChange,
    OpenQuote, OpenQuoteIndex, PriceCatalogWriter, continuation_message,
};
use crate::context::{RequestContext, TenantId};
use crate::error::ServiceError;
use crate::event_versions::{SchemaMajor, render_message};
use crate::events::{QuoteEventType, quote_event};
use crate::messaging::{HandlerError, ParsedMessage, QueueClient, queues};
use crate::ports::{CatalogStore, Clock, QuoteStore, SettingsSource, StoreError, StoredQuote};

/// A quote that keeps losing optimistic-lock races is retried this often, then the whole
/// message is redelivered (the quotes already done are no-ops then).
const MAX_ATTEMPTS: usize = 3;

/// The subject recorded on events the fan-out causes.
const SUBJECT: &str = "q2c-price-fanout";

/// Tuning of the fan-out.
#[derive(Debug, Clone)]
pub struct FanoutConfig {
    /// Open quotes processed per message (the rest continue in follow-up messages).
    pub page_size: usize,
    /// Where continuation messages go (the queue the fan-out consumes).
    pub queue: String,
    /// The schema major of the continuation messages it sends.
    pub emit: SchemaMajor,
}

impl Default for FanoutConfig {
    fn default() -> Self {
        FanoutConfig {
            page_size: 200,
            queue: queues::PRICING_CHANGES.to_owned(),
            emit: SchemaMajor::DEFAULT_EMIT,
        }
    }
}

/// The ports the fan-out needs.
#[derive(Clone)]
pub struct FanoutPorts {
    /// Open quotes are read and updated here (with their outbox events).
    pub quotes: Arc<dyn QuoteStore>,
    /// The catalog re-pricing reads (after the change is applied).
    pub catalog: Arc<dyn CatalogStore>,
    /// Applies price changes, ordered by `lastUpdate`.
    pub writer: Arc<dyn PriceCatalogWriter>,
    /// Applies offering changes, ordered by `lastUpdate`.
    pub offerings: Arc<dyn OfferingCatalogWriter>,
    /// Open quotes by price and by offering.
    pub index: Arc<dyn OpenQuoteIndex>,
    /// Tenant settings (tax rate) for re-pricing.
    pub settings: Arc<dyn SettingsSource>,
    /// Continuation messages are sent here.
    pub queue: Arc<dyn QueueClient>,
    /// Tells hub subscribers about applied changes.
    pub announce: Arc<dyn Announce>,
    /// Now, for pricing and notes.
    pub clock: Arc<dyn Clock>,
}

/// What one page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageReport {
    /// Open quotes re-priced with new amounts (each with a `QuoteAttributeValueChangeEvent`).
    pub repriced: u64,
    /// Approved quotes given a price-change note.
    pub noted: u64,
    /// Open quotes flagged for holding a retired price.
    pub flagged: u64,
    /// Quotes whose result equalled what was stored (nothing written).
    pub unchanged: u64,
    /// Final quotes left alone, and index entries whose quote is gone.
    pub untouched: u64,
    /// Quotes that no longer price (e.g. their offering was withdrawn): logged, left as they are.
    pub failed: u64,
}

/// What handling one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanoutOutcome {
    /// The catalog write; `None` for a continuation message.
    pub applied: Option<ApplyOutcome>,
    /// The page processed (empty for a stale event).
    pub page: PageReport,
    /// The cursor of the continuation message sent, if any.
    pub continued_after: Option<FanoutCursor>,
}

/// The price fan-out use-case.
pub struct PriceFanout {
    ports: FanoutPorts,
    config: FanoutConfig,
    stale_skipped: AtomicU64,
}

impl PriceFanout {
    /// The fan-out over `ports`.
    pub fn new(ports: FanoutPorts, config: FanoutConfig) -> Self {
        PriceFanout {
            ports,
            config: FanoutConfig {
                page_size: config.page_size.max(1),
                ..config
            },
            stale_skipped: AtomicU64::new(0),
        }
    }

    /// How many stale events (older than the stored price) this instance skipped.
    pub fn stale_events_skipped(&self) -> u64 {
        self.stale_skipped.load(Ordering::Relaxed)
    }

    /// Handles one `pricing-changes` message.
    ///
    /// # Errors
    /// `Poison` for an unknown event type or an invalid payload (the reason names the field);
    /// `Transient` when a store, the queue or the announcement fails.
    #[tracing::instrument(skip_all, fields(event_id = %message.event_id, event_type = %message.event_type))]
    pub async fn handle(&self, message: ParsedMessage) -> Result<FanoutOutcome, HandlerError> {
        let work = parse_work(&message).map_err(|reason| HandlerError::Poison { reason })?;
        match work {
            FanoutWork::Change(change) => {
                let applied = self
                    .ports
                    .writer
                    .apply_price_change(&change)
                    .await
                    .map_err(store_failure)?;
                if let ApplyOutcome::Stale { stored } = applied {
                    self.stale_skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        price_id = change.price_id(),
                        event_last_update = %change.last_update,
                        stored_last_update = %stored,
                        "stale price event skipped: a newer change is stored"
                    );
                    return Ok(FanoutOutcome {
                        applied: Some(applied),
                        page: PageReport::default(),
                        continued_after: None,
                    });
                }
                // Also on a redelivery that finds the change stored: the first attempt may
                // have failed before announcing. Subscribers de-duplicate on eventId.
                self.ports.announce.announce(&message).await?;
                let facts = ChangeFacts {
                    subject: CatalogSubject::Price,
                    price_id: change.price_id(),
                    retired: change.retires(),
                    last_update: change.last_update,
                };
                let (page, continued_after) = self.run_page(&message, &facts, None).await?;
                Ok(FanoutOutcome {
                    applied: Some(applied),
                    page,
                    continued_after,
                })
            }
            FanoutWork::Offering(change) => self.handle_offering(&message, &change).await,
            FanoutWork::Continue(continuation) => {
                let cursor = FanoutCursor::parse(&continuation.cursor)
                    .map_err(|reason| HandlerError::Poison { reason })?;
                let facts = ChangeFacts {
                    subject: continuation.subject,
                    price_id: &continuation.price_id,
                    retired: continuation.retired,
                    last_update: continuation.last_update,
                };
                let source = ParsedMessage {
                    event_id: continuation.source_event_id.clone(),
                    ..message
                };
                let (page, continued_after) = self.run_page(&source, &facts, Some(&cursor)).await?;
                Ok(FanoutOutcome {
                    applied: None,
                    page,
                    continued_after,
                })
            }
        }
    }

    /// Applies an offering change, announces it, and when it retires the offering flags the
    /// first page of open quotes holding it. Other offering changes walk no quotes: prices
    /// come with their own events, and open quotes re-price from the catalog when edited.
    async fn handle_offering(
        &self,
        message: &ParsedMessage,
        change: &OfferingChange,
    ) -> Result<FanoutOutcome, HandlerError> {
        let applied = self
            .ports
            .offerings
            .apply_offering_change(change)
            .await
            .map_err(store_failure)?;
        if let ApplyOutcome::Stale { stored } = applied {
            self.stale_skipped.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                offering_id = change.offering_id(),
                event_last_update = %change.last_update,
                stored_last_update = %stored,
                "stale offering event skipped: a newer change is stored"
            );
            return Ok(FanoutOutcome {
                applied: Some(applied),
                page: PageReport::default(),
                continued_after: None,
            });
        }
        // As for prices: also on a redelivery, subscribers de-duplicate on eventId.
        self.ports.announce.announce(message).await?;
        if !change.retires() {
            return Ok(FanoutOutcome {
                applied: Some(applied),
                page: PageReport::default(),
                continued_after: None,
            });
        }
        let facts = ChangeFacts {
            subject: CatalogSubject::Offering,
            price_id: change.offering_id(),
            retired: true,
            last_update: change.last_update,
        };
        let (page, continued_after) = self.run_page(message, &facts, None).await?;
        Ok(FanoutOutcome {
            applied: Some(applied),
            page,
            continued_after,
        })
    }

    /// Processes one page after `after` and sends the continuation when more remain.
    async fn run_page(
        &self,
        source: &ParsedMessage,
        facts: &ChangeFacts<'_>,
        after: Option<&FanoutCursor>,
    ) -> Result<(PageReport, Option<FanoutCursor>), HandlerError> {
        let index = self.ports.index.as_ref();
        let page = match facts.subject {
            CatalogSubject::Price => {
                index
                    .open_quotes(facts.price_id, after, self.config.page_size)
                    .await
            }
            CatalogSubject::Offering => {
                index
                    .open_quotes_by_offering(facts.price_id, after, self.config.page_size)
                    .await
            }
        }
        .map_err(transient)?;
        let mut report = PageReport::default();
        let settings = CachedSettings {
            inner: self.ports.settings.as_ref(),
            cache: std::sync::Mutex::new(BTreeMap::new()),
        };
        // The whole page in one read, and the catalog it needs in one more (not per quote).
        let keys: Vec<(TenantId, String)> = page
            .quotes
            .iter()
            .map(|open| (open.tenant.clone(), open.quote_id.clone()))
            .collect();
        let stored = self.ports.quotes.get_many(&keys).await.map_err(transient)?;
        let catalog = PageCatalog::new(self.ports.catalog.as_ref());
        if !facts.retired {
            let items: Vec<QuoteItem> = stored
                .iter()
                .flatten()
                .filter(|quote| is_repriced(quote))
                .flat_map(|quote| quote.quote.quote_item.iter().cloned())
                .collect();
            match catalog.preload(&items).await {
                Ok(()) => {}
                Err(ServiceError::Unavailable(e)) => return Err(transient(e)),
                // Each quote reads what it misses again and reports its own failure.
                Err(e) => tracing::warn!(error = %e, "page catalog not preloaded"),
            }
        }
        for (open, read) in page.quotes.iter().zip(stored) {
            match self
                .process_quote(source, facts, open, read, &settings, &catalog)
                .await?
            {
                Some(QuoteChange::Repriced) => report.repriced += 1,
                Some(QuoteChange::Noted) => report.noted += 1,
                Some(QuoteChange::Flagged) => report.flagged += 1,
                Some(QuoteChange::Unchanged) => report.unchanged += 1,
                Some(QuoteChange::Final) => report.untouched += 1,
                None => report.failed += 1,
            }
        }
        if let Some(next) = &page.next {
            let message = continuation_message(
                facts.subject,
                facts.price_id,
                next,
                facts.retired,
                facts.last_update,
                &source.event_id,
                source.correlation_id.as_deref(),
                self.ports.clock.now(),
            );
            let message = render_message(&message, self.config.emit);
            let outcome = self
                .ports
                .queue
                .send_batch(&self.config.queue, std::slice::from_ref(&message))
                .await
                .map_err(transient)?;
            if let Some(failure) = outcome.failed.first() {
                return Err(HandlerError::Transient(
                    format!("continuation message refused: {failure:?}").into(),
                ));
            }
        }
        tracing::info!(
            subject = ?facts.subject,
            id = facts.price_id,
            repriced = report.repriced,
            noted = report.noted,
            flagged = report.flagged,
            unchanged = report.unchanged,
            untouched = report.untouched,
            failed = report.failed,
            continued = page.next.is_some(),
            "price fan-out page done"
        );
        Ok((report, page.next))
    }

    /// Applies the rules to one quote; `None` when it no longer prices (logged).
    async fn process_quote(
        &self,
        source: &ParsedMessage,
        facts: &ChangeFacts<'_>,
        open: &OpenQuote,
        read: Option<StoredQuote>,
        settings: &CachedSettings<'_>,
        catalog: &PageCatalog<'_>,
    ) -> Result<Option<QuoteChange>, HandlerError> {
        let mut read = Some(read);
        for _ in 0..MAX_ATTEMPTS {
            // The page's read first; after a lost race, the quote as it is now (`get_many`
            // reads strongly consistent where `get` may not, so the retry sees the winner).
            let current = match read.take() {
                Some(current) => current,
                None => self
                    .ports
                    .quotes
                    .get_many(&[(open.tenant.clone(), open.quote_id.clone())])
                    .await
                    .map_err(transient)?
                    .pop()
                    .flatten(),
            };
            let Some(stored) = current else {
                return Ok(Some(QuoteChange::Final));
            };
            let now = self.ports.clock.now();
            let (change, next) = match apply_rules(
                &open.tenant,
                &stored,
                facts,
                catalog,
                settings,
                now,
            )
            .await
            {
                Ok(result) => result,
                Err(ServiceError::Unavailable(e)) => return Err(transient(e)),
                Err(e) => {
                    tracing::warn!(tenant = %open.tenant, quote_id = %open.quote_id, error = %e,
                        "open quote cannot take the change (it no longer prices, or would exceed a limit); left unchanged");
                    return Ok(None);
                }
            };
            let Some(next) = next else {
                return Ok(Some(change));
            };
            // Permanent for this quote (an amount JSON cannot hold): retrying cannot help, and
            // failing the message would hold back every other quote of the page.
            let event = match self.event_for(source, &open.tenant, &next, now) {
                Ok(event) => event,
                Err(e) => {
                    tracing::warn!(tenant = %open.tenant, quote_id = %open.quote_id, error = %e,
                        "open quote's event cannot be written; left unchanged");
                    return Ok(None);
                }
            };
            match self
                .ports
                .quotes
                .update_from(&open.tenant, &stored, &next, &[event])
                .await
            {
                Ok(()) => return Ok(Some(change)),
                Err(StoreError::VersionConflict) => {}
                Err(StoreError::Limit(e)) => {
                    tracing::warn!(tenant = %open.tenant, quote_id = %open.quote_id, error = %e,
                        "the store refuses the re-priced quote; left unchanged");
                    return Ok(None);
                }
                Err(e) => return Err(transient(e)),
            }
        }
        Err(HandlerError::Transient(
            format!(
                "quote {}/{} kept changing during the price fan-out",
                open.tenant, open.quote_id
            )
            .into(),
        ))
    }

    fn event_for(
        &self,
        source: &ParsedMessage,
        tenant: &TenantId,
        quote: &StoredQuote,
        now: OffsetDateTime,
    ) -> Result<crate::ports::OutboxEvent, serde_json::Error> {
        let ctx = RequestContext {
            tenant: tenant.clone(),
            subject: SUBJECT.to_owned(),
            subject_name: None,
            scopes: Default::default(),
            correlation_id: source
                .correlation_id
                .clone()
                .unwrap_or_else(|| source.event_id.clone()),
        };
        quote_event(
            QuoteEventType::AttributeValueChange,
            &quote.quote,
            &ctx,
            now,
        )
    }
}

/// Tenant settings read once per tenant and page.
struct CachedSettings<'a> {
    inner: &'a dyn SettingsSource,
    cache: std::sync::Mutex<BTreeMap<TenantId, TenantSettings>>,
}

#[async_trait::async_trait]
impl SettingsSource for CachedSettings<'_> {
    async fn settings(&self, tenant: &TenantId) -> Result<TenantSettings, StoreError> {
        if let Some(found) = self.cache.lock().ok().and_then(|c| c.get(tenant).cloned()) {
            return Ok(found);
        }
        let loaded = self.inner.settings(tenant).await?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(tenant.clone(), loaded.clone());
        }
        Ok(loaded)
    }
}

/// Whether the rules re-price this quote from the catalog (open, not yet approved).
fn is_repriced(quote: &StoredQuote) -> bool {
    matches!(
        quote.quote.state.unwrap_or(QuoteState::InProgress),
        QuoteState::InProgress | QuoteState::Pending
    )
}

fn transient(e: impl std::error::Error + Send + Sync + 'static) -> HandlerError {
    HandlerError::Transient(Box::new(e))
}

/// A store refusing a catalog write by a stated limit refuses it for ever: poison (to the DLQ
/// with the reason at once); any other store failure may pass.
fn store_failure(e: StoreError) -> HandlerError {
    match e {
        StoreError::Limit(limit) => HandlerError::Poison {
            reason: format!("the store refuses the change: {limit}"),
        },
        other => transient(other),
    }
}
