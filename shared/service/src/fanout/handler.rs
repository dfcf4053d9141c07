//! [`PriceFanout`], the consumer of the `pricing-changes` queue and of its own
//! `pricing-continuations` queue: apply the change (to a price or an offering), announce it,
//! split the affected open quotes (for an offering only when the change retires it) into up
//! to [`FanoutConfig::segments`] segments of whole pages, hand every segment but the first to
//! a continuation message of its own, and process the first page of the first segment. Each
//! continuation processes one page of its segment (the page's quotes written
//! [`FanoutConfig::write_concurrency`] at a time) and hands the rest of its segment to the
//! next continuation; every continuation carries its hop and its segment's hop bound, and one
//! over its bound is refused as poison (to the DLQ with the reason). Continuations are sent
//! before the current message is acknowledged, so no page is ever lost: if a send fails, the
//! message is redelivered and the pages already done are no-ops.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};

use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{QuoteItem, QuoteState};
use time::OffsetDateTime;

use super::message::{FanoutWork, SegmentHop, parse_work};
use super::page_catalog::PageCatalog;
use super::rules::{ChangeFacts, QuoteChange, apply_rules};
use super::{
    Announce, ApplyOutcome, CatalogSubject, FanoutCursor, IndexKey, OfferingCatalogWriter,
    OfferingChange, OpenQuote, OpenQuoteIndex, OpenQuotePage, PriceCatalogWriter,
    continuation_message,
};
use crate::catalog::{CatalogStore, SettingsSource};
use crate::clock::Clock;
use crate::context::{RequestContext, TenantId};
use crate::error::ServiceError;
use crate::event_versions::SchemaMajor;
use crate::events::{QuoteEventType, quote_event};
use crate::messaging::{HandlerError, ParsedMessage, QueueClient, queues, render_message};
use crate::quotes::{QuoteStore, StoredQuote};
use crate::store::StoreError;

/// A quote that keeps losing optimistic-lock races is retried this often, then the whole
/// message is redelivered (the quotes already done are no-ops then).
const MAX_ATTEMPTS: usize = 3;

/// The subject recorded on events the fan-out causes.
const SUBJECT: &str = "q2c-price-fanout";

/// Open quotes read per index request while planning the segments of a change.
const PLAN_READ: usize = 2000;

/// Tuning of the fan-out.
#[derive(Debug, Clone)]
pub struct FanoutConfig {
    /// Open quotes processed per message (the rest continue in follow-up messages).
    pub page_size: usize,
    /// Most segments a change is split into: each walks its share of the pages with a chain
    /// of continuations of its own, the segments at once (default 8).
    pub segments: usize,
    /// Quotes of one page written at once (default 8; each write is one transaction on its
    /// own quote's partition).
    pub write_concurrency: usize,
    /// Where continuation messages go: a queue of their own (`pricing-continuations`), whose
    /// event source mapping has no batching window.
    pub queue: String,
    /// The schema major of the continuation messages it sends.
    pub emit: SchemaMajor,
}

impl Default for FanoutConfig {
    fn default() -> Self {
        FanoutConfig {
            page_size: 200,
            segments: 8,
            write_concurrency: 8,
            queue: queues::PRICING_CONTINUATIONS.to_owned(),
            emit: SchemaMajor::DEFAULT_EMIT,
        }
    }
}

/// One segment of a change's open quotes: whole pages, after `after` up to `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    /// Where it starts (after this quote); `None` for the first.
    after: Option<FanoutCursor>,
    /// Its last quote (inclusive); `None` for the last.
    until: Option<FanoutCursor>,
    /// How many pages it held when planned.
    pages: usize,
}

impl Segment {
    /// The hop bound of its chain: twice the pages it was planned with, plus one (room for
    /// quotes opened in its range while the fan-out runs).
    fn max_hops(&self) -> u32 {
        u32::try_from(self.pages.saturating_mul(2).saturating_add(1)).unwrap_or(u32::MAX)
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

impl FanoutOutcome {
    /// A catalog write and nothing else: no page walked, no continuation.
    fn applied_only(applied: ApplyOutcome) -> Self {
        FanoutOutcome {
            applied: Some(applied),
            page: PageReport::default(),
            continued_after: None,
        }
    }
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
                segments: config.segments.max(1),
                write_concurrency: config.write_concurrency.max(1),
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
                    return Ok(FanoutOutcome::applied_only(applied));
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
                let (page, continued_after) = self.start(&message, &facts).await?;
                Ok(FanoutOutcome {
                    applied: Some(applied),
                    page,
                    continued_after,
                })
            }
            FanoutWork::Offering(change) => self.handle_offering(&message, &change).await,
            FanoutWork::Continue(continuation) => {
                if continuation.hop > continuation.max_hops {
                    return Err(HandlerError::Poison {
                        reason: format!(
                            "continuation hop {} of segment {} is over its bound of {} hops \
                             (fan-out of {} after {}, from event {}); re-publish the change \
                             to finish it",
                            continuation.hop,
                            continuation.segment,
                            continuation.max_hops,
                            continuation.price_id,
                            continuation.cursor,
                            continuation.source_event_id
                        ),
                    });
                }
                let cursor = FanoutCursor::parse(&continuation.cursor)
                    .map_err(|reason| HandlerError::Poison { reason })?;
                let until = continuation
                    .until
                    .as_deref()
                    .map(FanoutCursor::parse)
                    .transpose()
                    .map_err(|reason| HandlerError::Poison { reason })?;
                let at = SegmentHop {
                    until,
                    segment: continuation.segment,
                    hop: continuation.hop,
                    max_hops: continuation.max_hops,
                };
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
                let (page, continued_after) =
                    self.run_page(&source, &facts, Some(&cursor), &at).await?;
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
            return Ok(FanoutOutcome::applied_only(applied));
        }
        // As for prices: also on a redelivery, subscribers de-duplicate on eventId.
        self.ports.announce.announce(message).await?;
        if !change.retires() {
            return Ok(FanoutOutcome::applied_only(applied));
        }
        let facts = ChangeFacts {
            subject: CatalogSubject::Offering,
            price_id: change.offering_id(),
            retired: true,
            last_update: change.last_update,
        };
        let (page, continued_after) = self.start(message, &facts).await?;
        Ok(FanoutOutcome {
            applied: Some(applied),
            page,
            continued_after,
        })
    }

    /// One page of the open-quote index for the change.
    async fn index_page(
        &self,
        facts: &ChangeFacts<'_>,
        after: Option<&FanoutCursor>,
        limit: usize,
    ) -> Result<OpenQuotePage, HandlerError> {
        let key = match facts.subject {
            CatalogSubject::Price => IndexKey::Price(facts.price_id),
            CatalogSubject::Offering => IndexKey::Offering(facts.price_id),
        };
        self.ports
            .index
            .open_quotes(key.page(after, limit))
            .await
            .map_err(transient)
    }

    /// Splits the change's open quotes into at most [`FanoutConfig::segments`] segments of
    /// whole pages, with one walk of the index ([`PLAN_READ`] entries a request; only the
    /// end of every page is kept).
    async fn plan(&self, facts: &ChangeFacts<'_>) -> Result<Vec<Segment>, HandlerError> {
        let page_size = self.config.page_size;
        let whole = |pages| {
            vec![Segment {
                after: None,
                until: None,
                pages,
            }]
        };
        if self.config.segments <= 1 {
            return Ok(whole(1));
        }
        let mut page_ends = Vec::new();
        let mut count = 0usize;
        let mut after = None;
        loop {
            let page = self
                .index_page(facts, after.as_ref(), PLAN_READ.max(page_size))
                .await?;
            for quote in &page.quotes {
                count += 1;
                if count.is_multiple_of(page_size) {
                    page_ends.push(FanoutCursor::after(&quote.tenant, &quote.quote_id));
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let pages = count.div_ceil(page_size).max(1);
        let segments = self.config.segments.min(pages);
        if segments <= 1 {
            return Ok(whole(pages));
        }
        // Segment k holds pages [k·pages/segments, (k+1)·pages/segments); it starts after the
        // end of the page before its first.
        let first_page = |k: usize| k * pages / segments;
        let start = |k: usize| (k > 0).then(|| page_ends[first_page(k) - 1].clone());
        Ok((0..segments)
            .map(|k| Segment {
                after: start(k),
                until: if k + 1 < segments { start(k + 1) } else { None },
                pages: first_page(k + 1) - first_page(k),
            })
            .collect())
    }

    /// The start of a fan-out: plans the segments, sends a continuation for each one but the
    /// first, and processes the first page of the first.
    async fn start(
        &self,
        source: &ParsedMessage,
        facts: &ChangeFacts<'_>,
    ) -> Result<(PageReport, Option<FanoutCursor>), HandlerError> {
        let segments = self.plan(facts).await?;
        let mut starts = Vec::new();
        for (number, segment) in segments.iter().enumerate().skip(1) {
            let Some(after) = &segment.after else {
                continue;
            };
            let at = SegmentHop {
                until: segment.until.clone(),
                segment: u32::try_from(number).unwrap_or(u32::MAX),
                hop: 1,
                max_hops: segment.max_hops(),
            };
            starts.push(self.continuation(source, facts, after, &at));
        }
        for batch in starts.chunks(crate::messaging::MAX_BATCH) {
            self.send(batch).await?;
        }
        if segments.len() > 1 {
            tracing::info!(
                id = facts.price_id,
                segments = segments.len(),
                pages = segments.iter().map(|s| s.pages).sum::<usize>(),
                "price fan-out split into segments"
            );
        }
        let first = segments.into_iter().next().unwrap_or(Segment {
            after: None,
            until: None,
            pages: 1,
        });
        let at = SegmentHop {
            until: first.until.clone(),
            segment: 0,
            hop: 0,
            max_hops: first.max_hops(),
        };
        self.run_page(source, facts, None, &at).await
    }

    /// The continuation of `facts` after `cursor` at `at`, rendered in the emitted schema.
    fn continuation(
        &self,
        source: &ParsedMessage,
        facts: &ChangeFacts<'_>,
        cursor: &FanoutCursor,
        at: &SegmentHop,
    ) -> crate::messaging::OutgoingMessage {
        let message = continuation_message(
            facts.subject,
            facts.price_id,
            cursor,
            at,
            facts.retired,
            facts.last_update,
            &source.event_id,
            source.correlation_id.as_deref(),
            self.ports.clock.now(),
        );
        render_message(&message, self.config.emit)
    }

    /// Sends continuation messages (at most [`crate::messaging::MAX_BATCH`]).
    async fn send(
        &self,
        messages: &[crate::messaging::OutgoingMessage],
    ) -> Result<(), HandlerError> {
        let outcome = self
            .ports
            .queue
            .send_batch(&self.config.queue, messages)
            .await
            .map_err(transient)?;
        if let Some(failure) = outcome.failed.first() {
            return Err(HandlerError::Transient(
                format!("continuation message refused: {failure:?}").into(),
            ));
        }
        Ok(())
    }

    /// Processes one page of segment `at` after `after` (its quotes
    /// [`FanoutConfig::write_concurrency`] at a time) and sends the segment's next
    /// continuation when more of it remains.
    async fn run_page(
        &self,
        source: &ParsedMessage,
        facts: &ChangeFacts<'_>,
        after: Option<&FanoutCursor>,
        at: &SegmentHop,
    ) -> Result<(PageReport, Option<FanoutCursor>), HandlerError> {
        let mut page = self.index_page(facts, after, self.config.page_size).await?;
        if let Some(until) = &at.until {
            // The segment ends at `until`: what follows belongs to the next one.
            let read = page.quotes.len();
            page.quotes
                .retain(|q| FanoutCursor::after(&q.tenant, &q.quote_id) <= *until);
            let reached = page
                .quotes
                .last()
                .is_some_and(|q| FanoutCursor::after(&q.tenant, &q.quote_id) == *until);
            if page.quotes.len() < read || reached {
                page.next = None;
            }
        }
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
        // Each quote is its own transaction on its own partition: written a few at a time.
        // (The futures are built in a loop, not a stream closure: a closure borrowing them
        // would leave the handler's future not `Send` for every lifetime, which spawning
        // it needs.)
        let mut writes = Vec::with_capacity(page.quotes.len());
        for (open, read) in page.quotes.iter().zip(stored) {
            writes.push(self.process_quote(source, facts, open, read, &settings, &catalog));
        }
        let results: Vec<Result<Option<QuoteChange>, HandlerError>> = futures::stream::iter(writes)
            .buffer_unordered(self.config.write_concurrency)
            .collect()
            .await;
        for result in results {
            match result? {
                Some(QuoteChange::Repriced) => report.repriced += 1,
                Some(QuoteChange::Noted) => report.noted += 1,
                Some(QuoteChange::Flagged) => report.flagged += 1,
                Some(QuoteChange::Unchanged) => report.unchanged += 1,
                Some(QuoteChange::Final) => report.untouched += 1,
                None => report.failed += 1,
            }
        }
        if let Some(next) = &page.next {
            let following = SegmentHop {
                hop: at.hop.saturating_add(1),
                ..at.clone()
            };
            let message = self.continuation(source, facts, next, &following);
            self.send(std::slice::from_ref(&message)).await?;
        }
        tracing::info!(
            subject = ?facts.subject,
            id = facts.price_id,
            segment = at.segment,
            hop = at.hop,
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
    ) -> Result<crate::outbox::OutboxEvent, serde_json::Error> {
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
