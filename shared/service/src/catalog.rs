//! What pricing reads beside the quote: the operator's product catalog ([`CatalogStore`],
//! shared by all tenants) and the tenant settings ([`SettingsSource`]). Read by the quote
//! use-cases, the price fan-out and the catalog import, and by the TMF620 API as
//! [`ServedCatalog`] (with this server's hrefs); names only the foundation.

use async_trait::async_trait;
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice};

use crate::context::TenantId;
use crate::hrefs::CatalogHrefs;
use crate::listing::{self, ListCursor, Listed, Scan, Scanned};
use crate::store::{Listing, Page, StoreError};

/// The operator's product catalog, shared by all tenants.
///
/// An adapter guarantees: reads by id answer only entries that exist (any order, missing
/// ids left out, never an error for them); listings are ordered by id and page stably; a
/// `put_*` replaces the entry with the same id whole. Every method is required.
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
    /// At most `scan.max` offerings after `scan.after`, by id ([`crate::listing`]). The
    /// default reads every offering through `list_offerings`, which is right only where that
    /// returns the whole catalog in one page (in-memory fakes, the fan-out's page view);
    /// the stores the API reads seek to the cursor.
    async fn scan_offerings(&self, scan: Scan) -> Result<Scanned<ProductOffering>, StoreError> {
        let all = self.list_offerings(Page::everything()).await?;
        Ok(listing::scan_in_memory(all.items, &scan))
    }
    /// At most `scan.max` prices after `scan.after`, by id; the default as
    /// [`CatalogStore::scan_offerings`].
    async fn scan_prices(&self, scan: Scan) -> Result<Scanned<ProductOfferingPrice>, StoreError> {
        let all = self.list_prices(Page::everything()).await?;
        Ok(listing::scan_in_memory(all.items, &scan))
    }
    /// Inserts or replaces an offering.
    async fn put_offering(&self, offering: &ProductOffering) -> Result<(), StoreError>;
    /// Inserts or replaces a price.
    async fn put_price(&self, price: &ProductOfferingPrice) -> Result<(), StoreError>;
}

impl Listed for ProductOffering {
    fn position(&self) -> ListCursor {
        ListCursor::after(None, &self.id)
    }
}

impl Listed for ProductOfferingPrice {
    fn position(&self) -> ListCursor {
        ListCursor::after(None, &self.id)
    }
}

/// A catalog as this server serves it: what `inner` reads, with this server's hrefs
/// ([`CatalogHrefs::serve_offering`], [`CatalogHrefs::serve_price`]); writes pass through
/// unchanged, so the store keeps the catalog of record's hrefs.
pub struct ServedCatalog {
    inner: std::sync::Arc<dyn CatalogStore>,
    hrefs: CatalogHrefs,
}

impl ServedCatalog {
    /// `inner` served with `hrefs`.
    pub fn new(inner: std::sync::Arc<dyn CatalogStore>, hrefs: CatalogHrefs) -> Self {
        ServedCatalog { inner, hrefs }
    }

    fn offerings_served(&self, mut offerings: Vec<ProductOffering>) -> Vec<ProductOffering> {
        offerings
            .iter_mut()
            .for_each(|o| self.hrefs.serve_offering(o));
        offerings
    }

    fn prices_served(&self, mut prices: Vec<ProductOfferingPrice>) -> Vec<ProductOfferingPrice> {
        prices.iter_mut().for_each(|p| self.hrefs.serve_price(p));
        prices
    }
}

#[async_trait]
impl CatalogStore for ServedCatalog {
    async fn offerings(&self, ids: &[String]) -> Result<Vec<ProductOffering>, StoreError> {
        Ok(self.offerings_served(self.inner.offerings(ids).await?))
    }

    async fn prices(&self, ids: &[String]) -> Result<Vec<ProductOfferingPrice>, StoreError> {
        Ok(self.prices_served(self.inner.prices(ids).await?))
    }

    async fn list_offerings(&self, page: Page) -> Result<Listing<ProductOffering>, StoreError> {
        let listing = self.inner.list_offerings(page).await?;
        Ok(Listing {
            items: self.offerings_served(listing.items),
            ..listing
        })
    }

    async fn list_prices(&self, page: Page) -> Result<Listing<ProductOfferingPrice>, StoreError> {
        let listing = self.inner.list_prices(page).await?;
        Ok(Listing {
            items: self.prices_served(listing.items),
            ..listing
        })
    }

    async fn scan_offerings(&self, scan: Scan) -> Result<Scanned<ProductOffering>, StoreError> {
        let scanned = self.inner.scan_offerings(scan).await?;
        Ok(Scanned {
            items: self.offerings_served(scanned.items),
            ..scanned
        })
    }

    async fn scan_prices(&self, scan: Scan) -> Result<Scanned<ProductOfferingPrice>, StoreError> {
        let scanned = self.inner.scan_prices(scan).await?;
        Ok(Scanned {
            items: self.prices_served(scanned.items),
            ..scanned
        })
    }

    async fn put_offering(&self, offering: &ProductOffering) -> Result<(), StoreError> {
        self.inner.put_offering(offering).await
    }

    async fn put_price(&self, price: &ProductOfferingPrice) -> Result<(), StoreError> {
        self.inner.put_price(price).await
    }
}

/// Tenant settings (tax rate, approval threshold, validity, currency).
///
/// An adapter guarantees an answer for every tenant: its own settings, else the defaults
/// (a tenant without settings is not an error).
#[async_trait]
pub trait SettingsSource: Send + Sync {
    /// Settings of the tenant (the defaults when it has none of its own).
    async fn settings(&self, tenant: &TenantId) -> Result<TenantSettings, StoreError>;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::testing::MemoryCatalog;

    const OURS: &str = "https://api.example.com/tmf-api/productCatalogManagement/v4";

    fn served() -> (Arc<MemoryCatalog>, ServedCatalog) {
        let store = Arc::new(MemoryCatalog::default());
        let served =
            ServedCatalog::new(store.clone(), CatalogHrefs::new("https://api.example.com"));
        (store, served)
    }

    #[tokio::test]
    async fn reads_are_served_with_this_servers_hrefs_and_writes_keep_the_catalogs() {
        let (store, served) = served();
        let page = Page {
            offset: 0,
            limit: 100,
        };
        let listed = served.list_offerings(page).await.expect("offerings");
        assert!(!listed.items.is_empty());
        assert_eq!(
            listed.total,
            store.list_offerings(page).await.expect("all").total
        );
        for offering in &listed.items {
            let href = format!("{OURS}/productOffering/{}", offering.id);
            assert_eq!(offering.href.as_deref(), Some(href.as_str()));
        }
        let ids = ["fibre-1g-promo-50".to_owned()];
        let promo = served.prices(&ids).await.expect("prices").remove(0);
        assert_eq!(
            promo.pop_relationship[0].href.as_deref(),
            Some(&*format!("{OURS}/productOfferingPrice/fibre-1g-monthly"))
        );
        let listed = served.list_prices(page).await.expect("prices");
        assert!(
            listed
                .items
                .iter()
                .all(|p| p.href.as_deref()
                    == Some(&*format!("{OURS}/productOfferingPrice/{}", p.id)))
        );

        // A write through it stores the entry as given (the catalog of record's href).
        let mut offering = served
            .offerings(&["fibre-1g".to_owned()])
            .await
            .expect("one")
            .remove(0);
        offering.id = "fibre-2g".into();
        offering.href = Some("https://catalog.example/po/fibre-2g".into());
        served.put_offering(&offering).await.expect("put");
        let stored = store
            .offerings(&["fibre-2g".to_owned()])
            .await
            .expect("stored");
        assert_eq!(
            stored[0].href.as_deref(),
            Some("https://catalog.example/po/fibre-2g")
        );
    }
}
