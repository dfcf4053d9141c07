//! What pricing reads beside the quote: the operator's product catalog ([`CatalogStore`],
//! shared by all tenants) and the tenant settings ([`SettingsSource`]). Read by the quote
//! use-cases, the price fan-out and the catalog import; names only the foundation.

use async_trait::async_trait;
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice};

use crate::context::TenantId;
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
    /// Inserts or replaces an offering.
    async fn put_offering(&self, offering: &ProductOffering) -> Result<(), StoreError>;
    /// Inserts or replaces a price.
    async fn put_price(&self, price: &ProductOfferingPrice) -> Result<(), StoreError>;
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
