//! TMF637 `productInventory` routes: the caller's products (scope `inventory.read`), read-only.
//! A listing names `billingAccount.id` or `relatedParty.id` (the partitions products are
//! indexed under); `status` and `productOffering.id` narrow it.

use q2c_model::limits::MAX_ID_LENGTH;
use q2c_model::tmf::ProductStatus;
use q2c_service::context::RequestContext;
use q2c_service::inventory::{InventoryService, ProductFilter, StoredProduct};
use q2c_service::ports::{Listing, Page};
use q2c_service::{Scope, ServiceError};
use serde_json::Value;
use tracing::Span;

use crate::AppState;
use crate::error::ApiError;
use crate::paging::Params;
use crate::routes::tenant::{TenantListing, TenantResource};

/// The product filters: `billingAccount.id`, `relatedParty.id`, `status`,
/// `productOffering.id`.
fn filter(params: &mut Params) -> Result<ProductFilter, ApiError> {
    let status = params.take_enum::<ProductStatus>("status")?;
    Ok(ProductFilter {
        billing_account_id: id(params, "billingAccount.id")?,
        related_party_id: id(params, "relatedParty.id")?,
        status,
        offering_id: id(params, "productOffering.id")?,
    })
}

/// An id filter, at most `maxIdLength` characters (the account and party ids are parts of
/// index keys).
fn id(params: &mut Params, name: &str) -> Result<Option<String>, ApiError> {
    let value = params.take(name)?;
    if let Some(v) = &value
        && v.chars().count() > MAX_ID_LENGTH.max()
    {
        return Err(ApiError::InvalidQuery(format!(
            "{name}: longer than {} characters ({})",
            MAX_ID_LENGTH.max(),
            MAX_ID_LENGTH.name
        )));
    }
    Ok(value)
}

/// `GET /product`: the caller's products matching the filters (one of `billingAccount.id`,
/// `relatedParty.id` required), newest `startDate` first. `GET /product/{id}`: one of them.
impl TenantResource for StoredProduct {
    const SCOPE: Scope = Scope::InventoryRead;

    fn get_span(id: &str) -> Span {
        tracing::info_span!("product.get", product_id = %id)
    }

    async fn get(state: &AppState, ctx: &RequestContext, id: &str) -> Result<Self, ServiceError> {
        InventoryService::new(state.ports.clone())
            .get(ctx, id)
            .await
    }

    fn resource(&self) -> Result<Value, ApiError> {
        serde_json::to_value(&self.product).map_err(|_| ApiError::Internal)
    }
}

impl TenantListing for StoredProduct {
    type Filter = ProductFilter;

    fn filter(params: &mut Params) -> Result<ProductFilter, ApiError> {
        filter(params)
    }

    fn list_span() -> Span {
        tracing::info_span!("product.list")
    }

    async fn list(
        state: &AppState,
        ctx: &RequestContext,
        filter: &ProductFilter,
        page: Page,
    ) -> Result<Listing<Self>, ServiceError> {
        InventoryService::new(state.ports.clone())
            .list(ctx, filter, page)
            .await
    }
}
