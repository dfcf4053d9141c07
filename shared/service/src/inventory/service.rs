//! [`InventoryService`]: reading the caller's products (TMF637 `GET /product[/{id}]`).

use std::sync::Arc;

use super::{ProductFilter, ProductStore, StoredProduct};
use crate::context::RequestContext;
use crate::error::{ServiceError, found};
use crate::store::{Listing, Page};

/// The ports of the inventory use-cases: their part of [`crate::Ports`] (which converts
/// into them).
#[derive(Clone)]
pub struct InventoryPorts {
    /// Inventory products (TMF637).
    pub products: Arc<dyn ProductStore>,
}

/// The product inventory read use-cases.
#[derive(Clone)]
pub struct InventoryService {
    ports: InventoryPorts,
}

impl InventoryService {
    /// Builds the use-cases over the given ports (the whole [`crate::Ports`] will do).
    pub fn new(ports: impl Into<InventoryPorts>) -> Self {
        InventoryService {
            ports: ports.into(),
        }
    }

    /// The product `id` of the caller's tenant.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's id), `Unavailable`.
    pub async fn get(&self, ctx: &RequestContext, id: &str) -> Result<StoredProduct, ServiceError> {
        found(
            self.ports.products.get(&ctx.tenant, id).await?,
            "Product",
            id,
        )
    }

    /// A page of the caller's products matching `filter`, newest `startDate` first.
    ///
    /// # Errors
    /// `InvalidInput` when the filter names neither `billingAccount.id` nor
    /// `relatedParty.id` (products are indexed per account and per party, never tenant-wide);
    /// `Unavailable`.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &ProductFilter,
        page: Page,
    ) -> Result<Listing<StoredProduct>, ServiceError> {
        if !filter.is_keyed() {
            return Err(ServiceError::InvalidInput {
                path: Some("billingAccount.id".to_owned()),
                message: "a product listing names billingAccount.id or relatedParty.id \
                          (products are listed per billing account or party)"
                    .to_owned(),
            });
        }
        Ok(self.ports.products.list(&ctx.tenant, filter, page).await?)
    }
}
