//! [`InventoryService`]: reading the caller's products (TMF637 `GET /product[/{id}]`).

use super::{ProductFilter, StoredProduct};
use crate::context::RequestContext;
use crate::error::ServiceError;
use crate::ports::{Listing, Page, Ports};

/// The product inventory read use-cases.
#[derive(Clone)]
pub struct InventoryService {
    ports: Ports,
}

impl InventoryService {
    /// Builds the use-cases over the given ports.
    pub fn new(ports: Ports) -> Self {
        InventoryService { ports }
    }

    /// The product `id` of the caller's tenant.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's id), `Unavailable`.
    pub async fn get(&self, ctx: &RequestContext, id: &str) -> Result<StoredProduct, ServiceError> {
        self.ports
            .products
            .get(&ctx.tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                resource: "Product",
                id: id.to_owned(),
            })
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
