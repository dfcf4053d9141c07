//! In-memory fakes of the ports, for unit tests of the use-cases and (feature `testing`) of
//! the crates on top of them. The real adapters are proven by the contract suites
//! (`q2c-contract`) against SQLite and DynamoDB.

use crate::listing::{self, Scan, Scanned};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use q2c_model::sample_catalog::sample_catalog;
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{
    EntityRef, EventSubscription, ProductOffering, ProductOfferingPrice, Quote, QuoteItem,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::catalog::{CatalogStore, SettingsSource};
use crate::clock::Clock;
use crate::context::{RequestContext, Scope, TenantId};
use crate::dispatch::{BreakerState, DispatchStatusSink, Downstream, DownstreamAnswer};
use crate::event_versions::SchemaMajor;
use crate::fanout::{Announce, ApplyOutcome};
use crate::hubs::{HubApi, HubStore, VersionedSubscription};
use crate::idempotency::{IdempotencyClaim, IdempotencyStore, StoredResponse};
use crate::messaging::{
    HandlerError, MAX_BATCH, OutgoingMessage, ParsedMessage, QueueClient, QueueCounts, QueueError,
    Receive, ReceivedMessage, SendOutcome,
};
use crate::orders::{
    DispatchDecision, DispatchUpdate, OrderKey, OrderStore, StateChange, StoredOrder,
    dispatch_failed_event,
};
use crate::outbox::OutboxEvent;
use crate::quotes::{
    Ports, QuoteFilter, QuoteService, QuoteServiceConfig, QuoteStore, StoredQuote,
};
use crate::store::{Listing, Page, StoreError};

type QuoteKey = (String, String);

/// Quotes and their outbox events, in memory.
#[derive(Default)]
pub struct MemoryQuotes {
    /// Quotes by (tenant, id).
    pub quotes: Mutex<BTreeMap<QuoteKey, StoredQuote>>,
    /// Every outbox event written, in order.
    pub outbox: Mutex<Vec<OutboxEvent>>,
    /// Product orders (accepting a quote writes here), same keys.
    pub orders: Mutex<BTreeMap<QuoteKey, StoredOrder>>,
    /// Inventory products (an order's completion writes here), same keys.
    pub products: Mutex<BTreeMap<QuoteKey, crate::inventory::StoredProduct>>,
    /// When set, another writer changes each quote once between a caller's read and its
    /// `update_from` (the version race a use-case must survive); the ids raced so far.
    pub raced: Mutex<Option<Vec<String>>>,
}

impl MemoryQuotes {
    /// The first outbox event of `event_type` written.
    ///
    /// # Panics
    /// When there is none.
    pub fn first_event(&self, event_type: &str) -> OutboxEvent {
        self.outbox
            .lock()
            .expect("lock")
            .iter()
            .find(|e| e.event_type == event_type)
            .cloned()
            .unwrap_or_else(|| panic!("a {event_type} in the outbox"))
    }

    /// While racing ([`MemoryQuotes::raced`]): the first write of quote `id` finds it
    /// changed by another writer (description and version).
    fn race_once(&self, t: &TenantId, id: &str) {
        let mut raced = self.raced.lock().expect("lock");
        let Some(raced) = raced.as_mut() else {
            return;
        };
        if raced.iter().any(|r| r == id) {
            return;
        }
        raced.push(id.to_owned());
        let mut quotes = self.quotes.lock().expect("lock");
        let meanwhile = quotes.get_mut(&key(t, id)).expect("quote");
        meanwhile.quote.description = Some("edited meanwhile".to_owned());
        meanwhile.version += 1;
    }
}

fn key(tenant: &TenantId, id: &str) -> QuoteKey {
    (tenant.as_str().to_owned(), id.to_owned())
}

/// The condition of a versioned write: the quote at `key` is stored at version `expected`.
fn at_version(
    quotes: &BTreeMap<QuoteKey, StoredQuote>,
    key: &QuoteKey,
    expected: u64,
) -> Result<(), StoreError> {
    match quotes.get(key) {
        Some(current) if current.version == expected => Ok(()),
        _ => Err(StoreError::VersionConflict),
    }
}

/// Every list fake pages the same way: `page` of `items`, with their count.
fn paged<T>(items: Vec<T>, page: Page) -> Listing<T> {
    let total = items.len() as u64;
    let items = items
        .into_iter()
        .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
        .collect();
    Listing { items, total }
}

#[async_trait]
impl QuoteStore for MemoryQuotes {
    async fn insert(
        &self,
        t: &TenantId,
        q: &StoredQuote,
        ev: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let mut quotes = self.quotes.lock().expect("lock");
        if quotes.contains_key(&key(t, q.id())) {
            return Err(StoreError::AlreadyExists);
        }
        quotes.insert(key(t, q.id()), q.clone());
        self.outbox.lock().expect("lock").extend_from_slice(ev);
        Ok(())
    }
    async fn get(&self, t: &TenantId, id: &str) -> Result<Option<StoredQuote>, StoreError> {
        Ok(self.quotes.lock().expect("lock").get(&key(t, id)).cloned())
    }
    async fn update(
        &self,
        t: &TenantId,
        q: &StoredQuote,
        expected: u64,
        ev: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let mut quotes = self.quotes.lock().expect("lock");
        at_version(&quotes, &key(t, q.id()), expected)?;
        quotes.insert(key(t, q.id()), q.clone());
        self.outbox.lock().expect("lock").extend_from_slice(ev);
        Ok(())
    }
    async fn update_from(
        &self,
        t: &TenantId,
        previous: &StoredQuote,
        q: &StoredQuote,
        ev: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        self.race_once(t, q.id());
        self.update(t, q, previous.version, ev).await
    }
    async fn accept(
        &self,
        t: &TenantId,
        q: &StoredQuote,
        expected: u64,
        order: &StoredOrder,
        ev: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let mut quotes = self.quotes.lock().expect("lock");
        let mut orders = self.orders.lock().expect("lock");
        at_version(&quotes, &key(t, q.id()), expected)?;
        if orders.contains_key(&key(t, order.id())) {
            return Err(StoreError::AlreadyExists);
        }
        quotes.insert(key(t, q.id()), q.clone());
        orders.insert(key(t, order.id()), order.clone());
        self.outbox.lock().expect("lock").extend_from_slice(ev);
        Ok(())
    }
    async fn delete(
        &self,
        t: &TenantId,
        id: &str,
        expected: u64,
        ev: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let mut quotes = self.quotes.lock().expect("lock");
        at_version(&quotes, &key(t, id), expected)?;
        quotes.remove(&key(t, id));
        self.outbox.lock().expect("lock").extend_from_slice(ev);
        Ok(())
    }
    async fn list(
        &self,
        t: &TenantId,
        _f: &QuoteFilter,
        page: Page,
    ) -> Result<Listing<StoredQuote>, StoreError> {
        let quotes = self.quotes.lock().expect("lock");
        let mine: Vec<_> = quotes
            .iter()
            .filter(|((tenant, _), _)| tenant == t.as_str())
            .map(|(_, q)| q.clone())
            .collect();
        Ok(paged(mine, page))
    }
    async fn scan(
        &self,
        t: &TenantId,
        f: &QuoteFilter,
        scan: Scan,
    ) -> Result<Scanned<StoredQuote>, StoreError> {
        let all = QuoteStore::list(self, t, f, Page::everything()).await?;
        Ok(listing::scan_in_memory(all.items, &scan))
    }
}

#[async_trait]
impl OrderStore for MemoryQuotes {
    async fn get(&self, t: &TenantId, id: &str) -> Result<Option<StoredOrder>, StoreError> {
        Ok(self.orders.lock().expect("lock").get(&key(t, id)).cloned())
    }
    async fn list(&self, t: &TenantId, page: Page) -> Result<Listing<StoredOrder>, StoreError> {
        let orders = self.orders.lock().expect("lock");
        let mut mine: Vec<_> = orders
            .iter()
            .filter(|((tenant, _), _)| tenant == t.as_str())
            .map(|(_, o)| o.clone())
            .collect();
        mine.sort_by(|a, b| {
            b.order
                .order_date
                .cmp(&a.order.order_date)
                .then_with(|| a.id().cmp(b.id()))
        });
        Ok(paged(mine, page))
    }
    async fn scan(&self, t: &TenantId, scan: Scan) -> Result<Scanned<StoredOrder>, StoreError> {
        let all = OrderStore::list(self, t, Page::everything()).await?;
        Ok(listing::scan_in_memory(all.items, &scan))
    }
    async fn record_dispatch(
        &self,
        at: OrderKey<'_>,
        update: DispatchUpdate,
    ) -> Result<(), StoreError> {
        let t = at.tenant;
        let mut orders = self.orders.lock().expect("lock");
        let Some(order) = orders.get_mut(&key(t, at.order_id)) else {
            return Err(StoreError::VersionConflict);
        };
        let DispatchDecision::Write { announce_failure } = order.dispatch.apply(&update) else {
            return Ok(());
        };
        order.dispatch = update;
        order.version += 1;
        if announce_failure {
            let event =
                dispatch_failed_event(order, t, time::macros::datetime!(2026-11-27 12:00 UTC))
                    .map_err(|e| StoreError::Backend(Box::new(e)))?;
            self.outbox.lock().expect("lock").push(event);
        }
        Ok(())
    }
    async fn record_state_change(
        &self,
        t: &TenantId,
        change: StateChange<'_>,
    ) -> Result<(), StoreError> {
        let (order, made) = (change.order, change.products);
        let mut orders = self.orders.lock().expect("lock");
        let Some(current) = orders.get_mut(&key(t, order.id())) else {
            return Err(StoreError::VersionConflict);
        };
        if current.version != change.expected_version {
            return Err(StoreError::VersionConflict);
        }
        let mut products = self.products.lock().expect("lock");
        if made.iter().any(|p| products.contains_key(&key(t, p.id()))) {
            return Err(StoreError::AlreadyExists);
        }
        for product in made {
            products.insert(key(t, product.id()), product.clone());
        }
        current.order = order.order.clone();
        current.version = order.version;
        self.outbox
            .lock()
            .expect("lock")
            .extend_from_slice(change.events);
        Ok(())
    }
}

#[async_trait]
impl crate::inventory::ProductStore for MemoryQuotes {
    async fn get(
        &self,
        t: &TenantId,
        id: &str,
    ) -> Result<Option<crate::inventory::StoredProduct>, StoreError> {
        Ok(self
            .products
            .lock()
            .expect("lock")
            .get(&key(t, id))
            .cloned())
    }

    async fn list(
        &self,
        t: &TenantId,
        filter: &crate::inventory::ProductFilter,
        page: Page,
    ) -> Result<Listing<crate::inventory::StoredProduct>, StoreError> {
        let mut found: Vec<_> = self
            .products
            .lock()
            .expect("lock")
            .iter()
            .filter(|((tenant, _), p)| {
                tenant == t.as_str() && filter.is_keyed() && filter.matches(&p.product)
            })
            .map(|(_, p)| p.clone())
            .collect();
        found.sort_by(|a, b| {
            (std::cmp::Reverse(a.product.start_date), a.id())
                .cmp(&(std::cmp::Reverse(b.product.start_date), b.id()))
        });
        Ok(paged(found, page))
    }
}

/// The sample catalog, in memory.
pub struct MemoryCatalog(pub Mutex<(Vec<ProductOffering>, Vec<ProductOfferingPrice>)>);

impl Default for MemoryCatalog {
    fn default() -> Self {
        let snapshot = sample_catalog();
        MemoryCatalog(Mutex::new((
            snapshot.offerings().cloned().collect(),
            snapshot.prices().cloned().collect(),
        )))
    }
}

#[async_trait]
impl CatalogStore for MemoryCatalog {
    async fn offerings(&self, ids: &[String]) -> Result<Vec<ProductOffering>, StoreError> {
        let c = self.0.lock().expect("lock");
        Ok(c.0
            .iter()
            .filter(|o| ids.contains(&o.id))
            .cloned()
            .collect())
    }
    async fn prices(&self, ids: &[String]) -> Result<Vec<ProductOfferingPrice>, StoreError> {
        let c = self.0.lock().expect("lock");
        Ok(c.1
            .iter()
            .filter(|p| ids.contains(&p.id))
            .cloned()
            .collect())
    }
    async fn list_offerings(&self, _page: Page) -> Result<Listing<ProductOffering>, StoreError> {
        let c = self.0.lock().expect("lock");
        Ok(Listing {
            items: c.0.clone(),
            total: c.0.len() as u64,
        })
    }
    async fn list_prices(&self, _page: Page) -> Result<Listing<ProductOfferingPrice>, StoreError> {
        let c = self.0.lock().expect("lock");
        Ok(Listing {
            items: c.1.clone(),
            total: c.1.len() as u64,
        })
    }
    async fn put_offering(&self, o: &ProductOffering) -> Result<(), StoreError> {
        self.0.lock().expect("lock").0.push(o.clone());
        Ok(())
    }
    async fn put_price(&self, p: &ProductOfferingPrice) -> Result<(), StoreError> {
        self.0.lock().expect("lock").1.push(p.clone());
        Ok(())
    }
}

/// No idempotency: the use-cases do not touch it.
pub struct Unused;

/// Hub subscriptions (each delivered in v4) that use-cases only read.
pub struct ReadOnlyHubs(pub Vec<(TenantId, HubApi, EventSubscription)>);

#[async_trait]
impl HubStore for ReadOnlyHubs {
    async fn create_versioned(
        &self,
        _: &TenantId,
        _: HubApi,
        _: &EventSubscription,
        _: SchemaMajor,
    ) -> Result<(), StoreError> {
        unreachable!("the use-cases under test only read subscriptions")
    }
    async fn create_within(
        &self,
        _: &TenantId,
        _: HubApi,
        _: &EventSubscription,
        _: SchemaMajor,
        _: u64,
    ) -> Result<bool, StoreError> {
        unreachable!("the use-cases under test only read subscriptions")
    }
    async fn delete(&self, _: &TenantId, _: HubApi, _: &str) -> Result<bool, StoreError> {
        unreachable!("the use-cases under test only read subscriptions")
    }
    async fn list_versioned(
        &self,
        t: &TenantId,
        api: HubApi,
    ) -> Result<Vec<VersionedSubscription>, StoreError> {
        Ok(self
            .0
            .iter()
            .filter(|(tt, a, _)| tt == t && *a == api)
            .map(|(_, _, s)| v4(s))
            .collect())
    }
    async fn list_for_api_versioned(
        &self,
        api: HubApi,
    ) -> Result<Vec<(TenantId, VersionedSubscription)>, StoreError> {
        Ok(self
            .0
            .iter()
            .filter(|(_, a, _)| *a == api)
            .map(|(t, _, s)| (t.clone(), v4(s)))
            .collect())
    }
}

fn v4(subscription: &EventSubscription) -> VersionedSubscription {
    VersionedSubscription {
        subscription: subscription.clone(),
        version: SchemaMajor::V4,
    }
}

#[async_trait]
impl IdempotencyStore for Unused {
    async fn claim(
        &self,
        _: &TenantId,
        _: &str,
        _: &str,
        _: OffsetDateTime,
        _: OffsetDateTime,
    ) -> Result<IdempotencyClaim, StoreError> {
        unreachable!("quote use-cases do not use idempotency records")
    }
    async fn complete(
        &self,
        _: &TenantId,
        _: &str,
        _: &StoredResponse,
        _: OffsetDateTime,
    ) -> Result<(), StoreError> {
        unreachable!("quote use-cases do not use idempotency records")
    }
    async fn release(&self, _: &TenantId, _: &str) -> Result<(), StoreError> {
        unreachable!("quote use-cases do not use idempotency records")
    }
    async fn purge_expired(&self, _: OffsetDateTime) -> Result<u64, StoreError> {
        unreachable!("quote use-cases do not use idempotency records")
    }
}

/// Default settings for every tenant.
pub struct DefaultSettings;

#[async_trait]
impl SettingsSource for DefaultSettings {
    async fn settings(&self, _: &TenantId) -> Result<TenantSettings, StoreError> {
        Ok(TenantSettings::default())
    }
}

/// Records every announced event id.
#[derive(Default)]
pub struct RecordingAnnounce(pub Mutex<Vec<String>>);

#[async_trait]
impl Announce for RecordingAnnounce {
    async fn announce(&self, message: &ParsedMessage) -> Result<(), HandlerError> {
        self.0.lock().expect("lock").push(message.event_id.clone());
        Ok(())
    }
}

/// A queue that only takes sends: batches of at most [`MAX_BATCH`] to the one queue it
/// stands for, kept in order in `sent` (tests pop them from there).
pub struct SentMessages {
    queue: &'static str,
    /// What was sent, oldest first.
    pub sent: Mutex<VecDeque<OutgoingMessage>>,
    /// When set, every send fails (to check that nothing is lost).
    pub refuse: Mutex<bool>,
}

impl SentMessages {
    /// A queue standing for `queue` (sends to another are a test failure).
    pub fn to(queue: &'static str) -> Self {
        SentMessages {
            queue,
            sent: Mutex::default(),
            refuse: Mutex::default(),
        }
    }
}

#[async_trait]
impl QueueClient for SentMessages {
    async fn send_batch(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, QueueError> {
        assert_eq!(queue, self.queue);
        assert!(messages.len() <= MAX_BATCH);
        if *self.refuse.lock().expect("lock") {
            return Err(QueueError::Backend("queue down".into()));
        }
        let mut sent = self.sent.lock().expect("lock");
        sent.extend(messages.iter().cloned());
        Ok(SendOutcome {
            sent: (0..messages.len()).map(|i| (i, format!("m{i}"))).collect(),
            failed: Vec::new(),
        })
    }
    async fn receive(&self, _: &str, _: Receive) -> Result<Vec<ReceivedMessage>, QueueError> {
        unreachable!("tests pop `sent` directly")
    }
    async fn delete_batch(&self, _: &str, _: &[String]) -> Result<(), QueueError> {
        unreachable!("tests pop `sent` directly")
    }
    async fn change_visibility(&self, _: &str, _: &str, _: Duration) -> Result<(), QueueError> {
        unreachable!("tests pop `sent` directly")
    }
    async fn counts(&self, _: &str) -> Result<QueueCounts, QueueError> {
        unreachable!("tests pop `sent` directly")
    }
}

/// Every message visible on `queue` now, received in batches until none is left; each is
/// hidden for a minute once received, so it is seen once.
///
/// # Panics
/// When a receive fails.
pub async fn drain(queues: &dyn QueueClient, queue: &str) -> Vec<ReceivedMessage> {
    let mut all = Vec::new();
    loop {
        let batch = queues
            .receive(queue, Receive::batch(Duration::from_secs(60)))
            .await
            .expect("receive");
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

/// A stored catalog record: the record, its `lastUpdate`, and whether it is a tombstone.
pub type CatalogRow<T> = (T, Option<OffsetDateTime>, bool);

/// The catalog writers' rule: stores `record` (stamped `last_update`, a tombstone when
/// `deleted`) at `key` unless what `rows` holds there is as new or newer.
pub fn apply_newer<K: Ord, T>(
    rows: &mut BTreeMap<K, CatalogRow<T>>,
    key: K,
    record: T,
    last_update: OffsetDateTime,
    deleted: bool,
) -> ApplyOutcome {
    if let Some((_, Some(stored), _)) = rows.get(&key) {
        if *stored == last_update {
            return ApplyOutcome::AlreadyCurrent;
        }
        if *stored > last_update {
            return ApplyOutcome::Stale { stored: *stored };
        }
    }
    rows.insert(key, (record, Some(last_update), deleted));
    ApplyOutcome::Applied
}

/// The order-dispatch statuses recorded, every update in order.
#[derive(Default)]
pub struct MemorySink(pub Mutex<Vec<(String, DispatchUpdate)>>);

#[async_trait]
impl DispatchStatusSink for MemorySink {
    async fn record_dispatch(
        &self,
        order: OrderKey<'_>,
        update: DispatchUpdate,
    ) -> Result<(), StoreError> {
        self.0
            .lock()
            .expect("lock")
            .push((order.order_id.to_owned(), update));
        Ok(())
    }
}

impl MemorySink {
    /// The last status recorded for `order_id`.
    ///
    /// # Panics
    /// When none was.
    pub fn last(&self, order_id: &str) -> DispatchUpdate {
        self.0
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(id, _)| id == order_id)
            .map(|(_, u)| u.clone())
            .expect("a status was recorded")
    }

    /// The last status recorded for each order.
    pub fn latest(&self) -> BTreeMap<String, DispatchUpdate> {
        self.0.lock().expect("lock").iter().cloned().collect()
    }
}

/// A downstream whose first call "crashes" right after `inner`'s answer arrived: the answer
/// is kept in `first_answer`, `answered` is notified, and the call never returns (the test
/// drops the dispatch, as a dying process would). Later calls pass through.
pub struct CrashAfterFirstAnswer {
    inner: Arc<dyn Downstream>,
    /// Notified when the first answer arrived.
    pub answered: Arc<Notify>,
    /// The first call's answer, once it arrived.
    pub first_answer: Mutex<Option<DownstreamAnswer>>,
}

impl CrashAfterFirstAnswer {
    /// Passes calls to `inner`.
    pub fn new(inner: Arc<dyn Downstream>) -> Self {
        CrashAfterFirstAnswer {
            inner,
            answered: Arc::new(Notify::new()),
            first_answer: Mutex::new(None),
        }
    }
}

#[async_trait]
impl Downstream for CrashAfterFirstAnswer {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn call_timeout(&self) -> Duration {
        self.inner.call_timeout()
    }
    async fn post_order(&self, order: &Value, key: &str) -> DownstreamAnswer {
        let answer = self.inner.post_order(order, key).await;
        let first = {
            let mut first_answer = self.first_answer.lock().expect("lock");
            let first = first_answer.is_none();
            if first {
                *first_answer = Some(answer.clone());
            }
            first
        };
        if first {
            self.answered.notify_one();
            std::future::pending::<()>().await;
        }
        answer
    }
}

/// Asserts a circuit breaker's state changes (from, to) of an outage and its recovery: it
/// opened first (from closed) and closed last (from half-open).
pub fn assert_opened_then_closed(transitions: &[(BreakerState, BreakerState)]) {
    assert_eq!(
        transitions.first(),
        Some(&(BreakerState::Closed, BreakerState::Open))
    );
    assert_eq!(
        transitions.last(),
        Some(&(BreakerState::HalfOpen, BreakerState::Closed))
    );
}

/// A clock tests can move.
pub struct TestClock(pub Mutex<OffsetDateTime>);

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("lock")
    }
}

/// Everything a use-case test needs.
pub struct Fixture {
    /// The quote, order and product store behind `ports`.
    pub quotes: Arc<MemoryQuotes>,
    /// The clock behind `ports`, at 2026-11-27 12:00 UTC until moved.
    pub clock: Arc<TestClock>,
    /// Every port, in memory.
    pub ports: Ports,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// Empty stores, the sample catalog, default settings.
    pub fn new() -> Self {
        let quotes = Arc::new(MemoryQuotes::default());
        let clock = Arc::new(TestClock(Mutex::new(
            time::macros::datetime!(2026-11-27 12:00 UTC),
        )));
        let ports = Ports {
            quotes: quotes.clone(),
            orders: quotes.clone(),
            products: quotes.clone(),
            catalog: Arc::new(MemoryCatalog::default()),
            hubs: Arc::new(ReadOnlyHubs(Vec::new())),
            idempotency: Arc::new(Unused),
            settings: Arc::new(DefaultSettings),
            clock: clock.clone(),
        };
        Fixture {
            quotes,
            clock,
            ports,
        }
    }

    /// The quote use-cases over the fixture's ports.
    pub fn quote_service(&self) -> QuoteService {
        quote_service(self.ports.clone())
    }

    /// Moves the clock on by `by`.
    pub fn advance(&self, by: time::Duration) {
        *self.clock.0.lock().expect("lock") += by;
    }
}

/// The quote use-cases over `ports`, quote hrefs under [`QUOTE_HREF_BASE`].
pub fn quote_service(ports: Ports) -> QuoteService {
    QuoteService::new(
        ports,
        QuoteServiceConfig {
            quote_href_base: QUOTE_HREF_BASE.into(),
        },
    )
}

/// Where the test quote services put their quotes' hrefs.
pub const QUOTE_HREF_BASE: &str = "http://q2c.test/tmf-api/quoteManagement/v4/quote";

/// The tenant `name` (a valid tenant id).
pub fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).expect("valid tenant")
}

/// A quote item of `quantity` × `offering`.
pub fn item(offering: &str, quantity: i64) -> QuoteItem {
    QuoteItem {
        quantity: Some(quantity),
        product_offering: Some(EntityRef::to(offering)),
        ..QuoteItem::default()
    }
}

/// Quote `id`, in progress since now, at version 1: a fresh quote to write events with.
pub fn fresh_quote(id: &str) -> StoredQuote {
    StoredQuote {
        quote: Quote {
            id: Some(id.to_owned()),
            state: Some(q2c_model::tmf::QuoteState::InProgress),
            quote_date: Some(OffsetDateTime::now_utc()),
            ..Quote::default()
        },
        version: 1,
        approval_required: false,
        price_ids: vec![],
    }
}

/// Item `1` adding one `offering`, as a client sends it.
pub fn added_item(offering: &str) -> QuoteItem {
    QuoteItem {
        id: Some("1".to_owned()),
        action: Some("add".to_owned()),
        ..item(offering, 1)
    }
}

/// A quote of `items`, nothing else set.
pub fn quote_of(items: Vec<QuoteItem>) -> Quote {
    Quote {
        quote_item: items,
        ..Quote::default()
    }
}

/// A caller of `tenant` with `scopes`.
pub fn caller(tenant: &str, scopes: &[Scope]) -> RequestContext {
    RequestContext {
        tenant: self::tenant(tenant),
        subject: format!("{tenant}-user"),
        subject_name: Some("Test User".to_owned()),
        scopes: scopes.iter().copied().collect(),
        correlation_id: "corr-1".to_owned(),
    }
}

/// Three offerings of an unknown `@type` and their prices, for the extensibility tests:
/// `slice-open` defines no characteristics (any pass through) and has a `penalty` price;
/// `slice-strict` defines a mandatory `sliceType` (eMBB or URLLC) and an optional
/// `latencyMs` from 1 to 50; `slice-expired` is no longer valid.
pub fn slice_catalog() -> (Vec<ProductOffering>, Vec<ProductOfferingPrice>) {
    let offerings = serde_json::from_value(json!([
        {"id": "slice-open", "@type": "FiveGSliceOffering", "lifecycleStatus": "Launched",
         "productOfferingPrice": [{"id": "slice-monthly"}, {"id": "slice-exit-penalty"}]},
        {"id": "slice-strict", "@type": "FiveGSliceOffering", "lifecycleStatus": "Launched",
         "productOfferingPrice": [{"id": "slice-monthly"}],
         "prodSpecCharValueUse": [
             {"name": "sliceType", "minCardinality": 1, "maxCardinality": 1,
              "productSpecCharacteristicValue": [{"value": "eMBB"}, {"value": "URLLC"}]},
             {"name": "latencyMs", "valueType": "number",
              "productSpecCharacteristicValue": [{"valueFrom": 1, "valueTo": 50}]}
         ]},
        {"id": "slice-expired", "@type": "FiveGSliceOffering",
         "validFor": {"endDateTime": "2026-01-01T00:00:00Z"},
         "productOfferingPrice": [{"id": "slice-monthly"}]}
    ]))
    .expect("offerings");
    let prices = serde_json::from_value(json!([
        {"id": "slice-monthly", "priceType": "recurring", "recurringChargePeriodType": "month",
         "price": {"unit": "EUR", "value": 100}},
        {"id": "slice-exit-penalty", "priceType": "penalty", "name": "Early exit",
         "price": {"unit": "EUR", "value": 500}}
    ]))
    .expect("prices");
    (offerings, prices)
}

/// A quote item for `slice-open` with unknowns on the item, its product, its characteristics
/// and its offering.
pub fn rich_item() -> Value {
    json!({
        "@type": "SliceQuoteItem",
        "x-channelHint": {"partner": "p-7", "score": 0.125},
        "productOffering": {"id": "slice-open", "@referredType": "FiveGSliceOffering",
                            "x-catalogRevision": 42},
        "product": {
            "@type": "FiveGSliceProduct",
            "@baseType": "Product",
            "@schemaLocation": "https://schemas.example/FiveGSliceProduct.json",
            "sliceProfile": {"isolation": "physical", "areas": ["DE-BE", "DE-HH"]},
            "productCharacteristic": [
                {"name": "sliceLatencyMs", "valueType": "x-latency",
                 "value": {"p99": 12.5, "unit": "ms", "nested": [1, null, true]},
                 "@type": "LatencyCharacteristic", "x-measuredBy": "probe-3"},
                {"name": "neverSeenBefore", "value": [1, "two", {"three": 3}]}
            ]
        }
    })
}

/// Asserts the prices a `slice-open` item ([`rich_item`]) is quoted or ordered with: its item
/// prices and the totals are each a recurring then a penalty line (the penalty never inside
/// the recurring one), the totals 100 and 500.
pub fn assert_slice_open_prices(item_prices: &Value, total_prices: &Value) {
    let types = |prices: &Value| -> Vec<String> {
        prices
            .as_array()
            .expect("prices")
            .iter()
            .map(|p| p["priceType"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(types(item_prices), ["recurring", "penalty"]);
    assert_eq!(types(total_prices), ["recurring", "penalty"]);
    assert_eq!(
        total_prices[0]["price"]["dutyFreeAmount"]["value"],
        json!(100)
    );
    assert_eq!(
        total_prices[1]["price"]["dutyFreeAmount"]["value"],
        json!(500)
    );
}
