//! What pricing reads beside the quote: the operator's product catalog ([`CatalogStore`],
//! shared by all tenants) and the tenant settings ([`SettingsSource`]). Read by the quote
//! use-cases, the price fan-out and the catalog import; names only the foundation.

use async_trait::async_trait;
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice};

use crate::context::TenantId;
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

/// Tenant settings (tax rate, approval threshold, validity, currency).
///
/// An adapter guarantees an answer for every tenant: its own settings, else the defaults
/// (a tenant without settings is not an error).
#[async_trait]
pub trait SettingsSource: Send + Sync {
    /// Settings of the tenant (the defaults when it has none of its own).
    async fn settings(&self, tenant: &TenantId) -> Result<TenantSettings, StoreError>;
}
