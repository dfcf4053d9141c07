//! In-memory fakes of the ports the edge uses directly (hubs, idempotency, catalog); the
//! quote store is inert because the quote use-cases are not exercised here.

use q2c_service::listing::{Scan, Scanned};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use q2c_model::tmf::{EventSubscription, ProductOffering, ProductOfferingPrice};
use q2c_service::TenantId;
use q2c_service::event_versions::SchemaMajor;
use q2c_service::orders::{DispatchUpdate, OrderKey, OrderStore, StateChange, StoredOrder};
use q2c_service::ports::{
    CatalogStore, Clock, HubApi, HubStore, IdempotencyClaim, IdempotencyStore, Listing,
    OutboxEvent, Page, Ports, QuoteFilter, QuoteStore, StoreError, StoredQuote, StoredResponse,
    VersionedSubscription,
};
use q2c_service::testing::DefaultSettings;
use time::OffsetDateTime;

/// Shared handles on the fakes.
#[derive(Clone, Default)]
pub(crate) struct Fakes {
    pub hubs: Arc<FakeHubs>,
    pub idempotency: Arc<FakeIdempotency>,
    pub catalog: Arc<FakeCatalog>,
}

impl Fakes {
    pub fn ports(&self) -> Ports {
        Ports {
            quotes: Arc::new(InertQuotes),
            orders: Arc::new(InertQuotes),
            products: Arc::new(InertQuotes),
            catalog: self.catalog.clone(),
            hubs: self.hubs.clone(),
            idempotency: self.idempotency.clone(),
            settings: Arc::new(DefaultSettings),
            clock: Arc::new(FixedClock),
        }
    }
}

fn backend() -> StoreError {
    StoreError::Backend("fake backend down".into())
}

#[derive(Default)]
pub(crate) struct FakeHubs {
    pub subs: Mutex<HashMap<(String, HubApi), Vec<VersionedSubscription>>>,
    pub down: AtomicBool,
}

#[async_trait]
impl HubStore for FakeHubs {
    async fn create_versioned(
        &self,
        t: &TenantId,
        api: HubApi,
        s: &EventSubscription,
        version: SchemaMajor,
    ) -> Result<(), StoreError> {
        self.create_within(t, api, s, version, u64::MAX)
            .await
            .map(|_| ())
    }
    /// Counts and inserts under one lock; the quota is checked before the backend is.
    async fn create_within(
        &self,
        t: &TenantId,
        api: HubApi,
        s: &EventSubscription,
        version: SchemaMajor,
        max: u64,
    ) -> Result<bool, StoreError> {
        let mut subs = self.subs.lock().expect("lock");
        let list = subs.entry((t.to_string(), api)).or_default();
        if u64::try_from(list.len()).unwrap_or(u64::MAX) >= max {
            return Ok(false);
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(backend());
        }
        list.push(VersionedSubscription {
            subscription: s.clone(),
            version,
        });
        Ok(true)
    }
    async fn delete(&self, t: &TenantId, api: HubApi, id: &str) -> Result<bool, StoreError> {
        let mut subs = self.subs.lock().expect("lock");
        let list = subs.entry((t.to_string(), api)).or_default();
        let before = list.len();
        list.retain(|s| s.subscription.id != id);
        Ok(list.len() < before)
    }
    async fn list_versioned(
        &self,
        t: &TenantId,
        api: HubApi,
    ) -> Result<Vec<VersionedSubscription>, StoreError> {
        let subs = self.subs.lock().expect("lock");
        Ok(subs.get(&(t.to_string(), api)).cloned().unwrap_or_default())
    }
    async fn list_for_api_versioned(
        &self,
        api: HubApi,
    ) -> Result<Vec<(TenantId, VersionedSubscription)>, StoreError> {
        let subs = self.subs.lock().expect("lock");
        Ok(subs
            .iter()
            .filter(|((_, a), _)| *a == api)
            .flat_map(|((t, _), list)| {
                let tenant = TenantId::parse(t).expect("stored tenants are valid");
                list.iter().map(move |s| (tenant.clone(), s.clone()))
            })
            .collect())
    }
}

/// (tenant, key) → (request hash, completed response).
type IdempotencyRecords = HashMap<(String, String), (String, Option<StoredResponse>)>;

#[derive(Default)]
pub(crate) struct FakeIdempotency {
    pub records: Mutex<IdempotencyRecords>,
    pub released: Mutex<Vec<String>>,
}

#[async_trait]
impl IdempotencyStore for FakeIdempotency {
    async fn claim(
        &self,
        t: &TenantId,
        key: &str,
        hash: &str,
        _now: OffsetDateTime,
        _until: OffsetDateTime,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut records = self.records.lock().expect("lock");
        match records.get(&(t.to_string(), key.to_owned())) {
            None => {
                records.insert((t.to_string(), key.to_owned()), (hash.to_owned(), None));
                Ok(IdempotencyClaim::Claimed)
            }
            Some((h, _)) if h != hash => Ok(IdempotencyClaim::Mismatch),
            Some((_, None)) => Ok(IdempotencyClaim::InProgress),
            Some((_, Some(r))) => Ok(IdempotencyClaim::Replay(r.clone())),
        }
    }
    async fn complete(
        &self,
        t: &TenantId,
        key: &str,
        response: &StoredResponse,
        _expires: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut records = self.records.lock().expect("lock");
        if let Some(record) = records.get_mut(&(t.to_string(), key.to_owned())) {
            record.1 = Some(response.clone());
        }
        Ok(())
    }
    async fn release(&self, t: &TenantId, key: &str) -> Result<(), StoreError> {
        self.records
            .lock()
            .expect("lock")
            .remove(&(t.to_string(), key.to_owned()));
        self.released.lock().expect("lock").push(key.to_owned());
        Ok(())
    }
    async fn purge_expired(&self, _now: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(0)
    }
}

#[derive(Default)]
pub(crate) struct FakeCatalog {
    pub offerings: Mutex<Vec<ProductOffering>>,
    pub prices: Mutex<Vec<ProductOfferingPrice>>,
}

fn page_of<T: Clone>(items: &[T], page: Page) -> Listing<T> {
    let start = usize::try_from(page.offset)
        .unwrap_or(usize::MAX)
        .min(items.len());
    let end = start
        .saturating_add(usize::try_from(page.limit).unwrap_or(usize::MAX))
        .min(items.len());
    Listing {
        items: items[start..end].to_vec(),
        total: items.len() as u64,
    }
}

/// The items of `all` whose `id` is one of `ids`.
fn with_ids<T: Clone>(all: &[T], ids: &[String], id: impl Fn(&T) -> &String) -> Vec<T> {
    all.iter()
        .filter(|t| ids.contains(id(t)))
        .cloned()
        .collect()
}

#[async_trait]
impl CatalogStore for FakeCatalog {
    async fn offerings(&self, ids: &[String]) -> Result<Vec<ProductOffering>, StoreError> {
        let all = self.offerings.lock().expect("lock");
        Ok(with_ids(&all, ids, |o| &o.id))
    }
    async fn prices(&self, ids: &[String]) -> Result<Vec<ProductOfferingPrice>, StoreError> {
        let all = self.prices.lock().expect("lock");
        Ok(with_ids(&all, ids, |p| &p.id))
    }
    async fn list_offerings(&self, page: Page) -> Result<Listing<ProductOffering>, StoreError> {
        Ok(page_of(&self.offerings.lock().expect("lock"), page))
    }
    async fn list_prices(&self, page: Page) -> Result<Listing<ProductOfferingPrice>, StoreError> {
        Ok(page_of(&self.prices.lock().expect("lock"), page))
    }
    async fn put_offering(&self, o: &ProductOffering) -> Result<(), StoreError> {
        self.offerings.lock().expect("lock").push(o.clone());
        Ok(())
    }
    async fn put_price(&self, p: &ProductOfferingPrice) -> Result<(), StoreError> {
        self.prices.lock().expect("lock").push(p.clone());
        Ok(())
    }
}

/// A quote store that holds nothing: the quote use-cases are tested in their own crate.
struct InertQuotes;

#[async_trait]
impl q2c_service::inventory::ProductStore for InertQuotes {
    async fn get(
        &self,
        _: &TenantId,
        _: &str,
    ) -> Result<Option<q2c_service::inventory::StoredProduct>, StoreError> {
        Ok(None)
    }
    async fn list(
        &self,
        _: &TenantId,
        _: &q2c_service::inventory::ProductFilter,
        _: Page,
    ) -> Result<Listing<q2c_service::inventory::StoredProduct>, StoreError> {
        Ok(Listing {
            items: Vec::new(),
            total: 0,
        })
    }
}

#[async_trait]
impl QuoteStore for InertQuotes {
    async fn insert(
        &self,
        _: &TenantId,
        _: &StoredQuote,
        _: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        Err(backend())
    }
    async fn get(&self, _: &TenantId, _: &str) -> Result<Option<StoredQuote>, StoreError> {
        Ok(None)
    }
    async fn update(
        &self,
        _: &TenantId,
        _: &StoredQuote,
        _: u64,
        _: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        Err(backend())
    }
    async fn accept(
        &self,
        _: &TenantId,
        _: &StoredQuote,
        _: u64,
        _: &StoredOrder,
        _: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        Err(backend())
    }
    async fn delete(
        &self,
        _: &TenantId,
        _: &str,
        _: u64,
        _: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        Err(backend())
    }
    async fn list(
        &self,
        _: &TenantId,
        _: &QuoteFilter,
        _: Page,
    ) -> Result<Listing<StoredQuote>, StoreError> {
        Ok(Listing {
            items: vec![],
            total: 0,
        })
    }
    async fn scan(
        &self,
        _: &TenantId,
        _: &QuoteFilter,
        _: Scan,
    ) -> Result<Scanned<StoredQuote>, StoreError> {
        Ok(Scanned::from_overfetch(vec![], 0))
    }
}

/// Holds no orders either: the order use-cases are tested in their own crate and end to end.
#[async_trait]
impl OrderStore for InertQuotes {
    async fn get(&self, _: &TenantId, _: &str) -> Result<Option<StoredOrder>, StoreError> {
        Ok(None)
    }
    async fn list(&self, _: &TenantId, _: Page) -> Result<Listing<StoredOrder>, StoreError> {
        Ok(Listing {
            items: vec![],
            total: 0,
        })
    }
    async fn scan(&self, _: &TenantId, _: Scan) -> Result<Scanned<StoredOrder>, StoreError> {
        Ok(Scanned::from_overfetch(vec![], 0))
    }
    async fn record_dispatch(&self, _: OrderKey<'_>, _: DispatchUpdate) -> Result<(), StoreError> {
        Err(backend())
    }
    async fn record_state_change(
        &self,
        _: &TenantId,
        _: StateChange<'_>,
    ) -> Result<(), StoreError> {
        Err(backend())
    }
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        time::macros::datetime!(2026-11-27 12:00 UTC)
    }
}
