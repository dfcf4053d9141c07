//! In-memory fakes of the fan-out's ports (unit tests only; the adapters are proven by the
//! `q2c-contract` fan-out suite on SQLite and DynamoDB).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use q2c_model::sample_catalog::sample_catalog;
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice};

use super::*;
use crate::catalog::CatalogStore;
use crate::store::{Listing, Page};
use crate::testing::{CatalogRow, MemoryQuotes, apply_newer};

/// A stored price: the price, its `lastUpdate`, and whether it is a tombstone.
type PriceRow = CatalogRow<ProductOfferingPrice>;
/// A stored offering: the offering, its `lastUpdate`, and whether it is a tombstone.
type OfferingRow = CatalogRow<ProductOffering>;

/// The sample catalog with ordered price writes and tombstones.
pub struct MemoryPriceCatalog {
    pub offerings: Mutex<BTreeMap<String, OfferingRow>>,
    pub prices: Mutex<BTreeMap<String, PriceRow>>,
    /// Calls of `offerings` and of `prices` (each one store read), to check the page memo.
    pub reads: Mutex<(usize, usize)>,
}

impl Default for MemoryPriceCatalog {
    fn default() -> Self {
        let snapshot = sample_catalog();
        MemoryPriceCatalog {
            offerings: Mutex::new(
                snapshot
                    .offerings()
                    .map(|o| (o.id.clone(), (o.clone(), o.last_update, false)))
                    .collect(),
            ),
            prices: Mutex::new(
                snapshot
                    .prices()
                    .map(|p| (p.id.clone(), (p.clone(), p.last_update, false)))
                    .collect(),
            ),
            reads: Mutex::new((0, 0)),
        }
    }
}

#[async_trait]
impl CatalogStore for MemoryPriceCatalog {
    async fn offerings(&self, ids: &[String]) -> Result<Vec<ProductOffering>, StoreError> {
        self.reads.lock().expect("lock").0 += 1;
        let offerings = self.offerings.lock().expect("lock");
        Ok(offerings
            .values()
            .filter(|(o, _, deleted)| !deleted && ids.contains(&o.id))
            .map(|(o, _, _)| o.clone())
            .collect())
    }
    async fn prices(&self, ids: &[String]) -> Result<Vec<ProductOfferingPrice>, StoreError> {
        self.reads.lock().expect("lock").1 += 1;
        let prices = self.prices.lock().expect("lock");
        Ok(ids
            .iter()
            .filter_map(|id| prices.get(id))
            .filter(|(_, _, deleted)| !deleted)
            .map(|(p, _, _)| p.clone())
            .collect())
    }
    async fn list_offerings(&self, _: Page) -> Result<Listing<ProductOffering>, StoreError> {
        unreachable!("the fan-out does not list")
    }
    async fn list_prices(&self, _: Page) -> Result<Listing<ProductOfferingPrice>, StoreError> {
        unreachable!("the fan-out does not list")
    }
    async fn put_offering(&self, _: &ProductOffering) -> Result<(), StoreError> {
        unreachable!("the fan-out does not write offerings")
    }
    async fn put_price(&self, _: &ProductOfferingPrice) -> Result<(), StoreError> {
        unreachable!("the fan-out writes through apply_price_change")
    }
}

#[async_trait]
impl PriceCatalogWriter for MemoryPriceCatalog {
    async fn apply_price_change(&self, change: &PriceChange) -> Result<ApplyOutcome, StoreError> {
        Ok(apply_newer(
            &mut self.prices.lock().expect("lock"),
            change.price_id().to_owned(),
            change.price.clone(),
            change.last_update,
            change.kind == PriceChangeKind::Delete,
        ))
    }
}

#[async_trait]
impl OfferingCatalogWriter for MemoryPriceCatalog {
    async fn apply_offering_change(
        &self,
        change: &OfferingChange,
    ) -> Result<ApplyOutcome, StoreError> {
        Ok(apply_newer(
            &mut self.offerings.lock().expect("lock"),
            change.offering_id().to_owned(),
            change.offering.clone(),
            change.last_update,
            change.kind == PriceChangeKind::Delete,
        ))
    }
}

/// The open-quote index computed from the in-memory quotes. Unlike the adapters it also
/// lists final quotes, so that the rules' own final-state check is exercised.
pub struct MemoryIndex(pub Arc<MemoryQuotes>);

#[async_trait]
impl OpenQuoteIndex for MemoryIndex {
    async fn open_quotes(&self, page: IndexPage<'_>) -> Result<OpenQuotePage, StoreError> {
        let holds = |q: &crate::quotes::StoredQuote| match page.key {
            IndexKey::Price(price_id) => q.price_ids.iter().any(|p| p == price_id),
            IndexKey::Offering(offering_id) => {
                offering_ids_of(&q.quote).iter().any(|o| o == offering_id)
            }
        };
        let quotes = self.0.quotes.lock().expect("lock");
        let mut matching: Vec<OpenQuote> = quotes
            .iter()
            .filter(|(_, q)| holds(q))
            .map(|((tenant, id), _)| OpenQuote {
                tenant: TenantId::parse(tenant).expect("valid tenant"),
                quote_id: id.clone(),
            })
            .filter(|q| {
                page.after
                    .is_none_or(|a| FanoutCursor::after(&q.tenant, &q.quote_id) > *a)
            })
            .collect();
        matching.sort();
        Ok(OpenQuotePage::from_overfetch(matching, page.limit))
    }
}
