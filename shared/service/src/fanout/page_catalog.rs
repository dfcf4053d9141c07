//! [`PageCatalog`]: the catalog as one fan-out page sees it. The page first loads, in one
//! pass, everything all its quotes reference (offerings, bundled offerings, their prices);
//! re-pricing each quote then reads that snapshot instead of the store, so a page costs one
//! catalog read instead of one per quote. Answers are exactly what the store returned
//! (absent ids included), so each quote is priced against the same `CatalogView` as if it
//! had read the store itself; ids the page did not load are read through.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Mutex;

use async_trait::async_trait;
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice, QuoteItem};

use crate::catalog::CatalogStore;
use crate::configure::load_catalog_for;
use crate::error::ServiceError;
use crate::store::{Listing, Page, StoreError};

/// Per-id memo of one kind of catalog record: `None` = asked for, not in the store.
type Memo<T> = Mutex<HashMap<String, Option<T>>>;

/// A read-through memo of the catalog, lived for one page.
pub(crate) struct PageCatalog<'a> {
    inner: &'a dyn CatalogStore,
    offerings: Memo<ProductOffering>,
    prices: Memo<ProductOfferingPrice>,
}

impl<'a> PageCatalog<'a> {
    /// An empty memo over `inner`.
    pub(crate) fn new(inner: &'a dyn CatalogStore) -> Self {
        PageCatalog {
            inner,
            offerings: Mutex::new(HashMap::new()),
            prices: Mutex::new(HashMap::new()),
        }
    }

    /// Loads what pricing `items` (the items of all the page's quotes) needs.
    ///
    /// # Errors
    /// `Unavailable` when the catalog store fails.
    pub(crate) async fn preload(&self, items: &[QuoteItem]) -> Result<(), ServiceError> {
        if items.is_empty() {
            return Ok(());
        }
        load_catalog_for(self, items).await.map(|_| ())
    }
}

/// The records for `ids` through `memo`: the ones it knows nothing about are read with `read`
/// (one request) and remembered, then all are answered from the memo.
async fn read_through<T: Clone, Fut>(
    memo: &Memo<T>,
    ids: &[String],
    read: impl FnOnce(Vec<String>) -> Fut,
    id_of: fn(&T) -> &str,
) -> Result<Vec<T>, StoreError>
where
    Fut: Future<Output = Result<Vec<T>, StoreError>>,
{
    let missing = unknown(memo, ids)?;
    if !missing.is_empty() {
        let found = read(missing.clone()).await?;
        remember(memo, missing, found, id_of)?;
    }
    answer(memo, ids)
}

/// The ids among `ids` the memo knows nothing about (each once).
fn unknown<T>(memo: &Memo<T>, ids: &[String]) -> Result<Vec<String>, StoreError> {
    let known = memo.lock().map_err(|_| poisoned())?;
    let mut missing: Vec<String> = ids
        .iter()
        .filter(|id| !known.contains_key(*id))
        .cloned()
        .collect();
    missing.sort();
    missing.dedup();
    Ok(missing)
}

/// Remembers what the store answered for `asked`: the records found, the rest as absent.
fn remember<T>(
    memo: &Memo<T>,
    asked: Vec<String>,
    found: Vec<T>,
    id_of: fn(&T) -> &str,
) -> Result<(), StoreError> {
    let mut known = memo.lock().map_err(|_| poisoned())?;
    for id in asked {
        known.insert(id, None);
    }
    for record in found {
        known.insert(id_of(&record).to_owned(), Some(record));
    }
    Ok(())
}

/// The remembered records for `ids` that exist, each once.
fn answer<T: Clone>(memo: &Memo<T>, ids: &[String]) -> Result<Vec<T>, StoreError> {
    let known = memo.lock().map_err(|_| poisoned())?;
    let mut seen = BTreeSet::new();
    Ok(ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .filter_map(|id| known.get(id).cloned().flatten())
        .collect())
}

fn forget<T>(memo: &Memo<T>, id: &str) {
    if let Ok(mut known) = memo.lock() {
        known.remove(id);
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("page catalog memo poisoned".into())
}

#[async_trait]
impl CatalogStore for PageCatalog<'_> {
    async fn offerings(&self, ids: &[String]) -> Result<Vec<ProductOffering>, StoreError> {
        let read = |missing: Vec<String>| async move { self.inner.offerings(&missing).await };
        read_through(&self.offerings, ids, read, |o| o.id.as_str()).await
    }

    async fn prices(&self, ids: &[String]) -> Result<Vec<ProductOfferingPrice>, StoreError> {
        let read = |missing: Vec<String>| async move { self.inner.prices(&missing).await };
        read_through(&self.prices, ids, read, |p| p.id.as_str()).await
    }

    async fn list_offerings(&self, page: Page) -> Result<Listing<ProductOffering>, StoreError> {
        self.inner.list_offerings(page).await
    }

    async fn list_prices(&self, page: Page) -> Result<Listing<ProductOfferingPrice>, StoreError> {
        self.inner.list_prices(page).await
    }

    async fn put_offering(&self, offering: &ProductOffering) -> Result<(), StoreError> {
        forget(&self.offerings, &offering.id);
        self.inner.put_offering(offering).await
    }

    async fn put_price(&self, price: &ProductOfferingPrice) -> Result<(), StoreError> {
        forget(&self.prices, &price.id);
        self.inner.put_price(price).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fanout::fakes::MemoryPriceCatalog;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[tokio::test]
    async fn answers_as_the_store_did_and_asks_it_only_for_ids_not_seen() {
        let store = MemoryPriceCatalog::default();
        let page = PageCatalog::new(&store);
        let direct = store
            .offerings(&ids(&["fibre-1g", "no-such-offering"]))
            .await
            .expect("store");
        *store.reads.lock().expect("lock") = (0, 0);

        let first = page
            .offerings(&ids(&["fibre-1g", "no-such-offering"]))
            .await
            .expect("first");
        let again = page
            .offerings(&ids(&["no-such-offering", "fibre-1g", "fibre-1g"]))
            .await
            .expect("again");

        assert_eq!(first, direct, "the store's answer, absent id left out");
        assert_eq!(again, direct, "from memory, each record once");
        assert_eq!(
            store.reads.lock().expect("lock").0,
            1,
            "the absent id is remembered as absent, not asked again"
        );
        let more = page
            .offerings(&ids(&["fibre-1g", "home-bundle"]))
            .await
            .expect("read through");
        assert_eq!(more.len(), 2);
        assert_eq!(
            store.reads.lock().expect("lock").0,
            2,
            "only the new id is read"
        );
    }
}
