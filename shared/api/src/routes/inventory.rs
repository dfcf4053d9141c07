//! TMF637 `productInventory` routes: the caller's products (scope `inventory.read`), read-only.
//! A listing names `billingAccount.id` or `relatedParty.id` (the partitions products are
//! indexed under); `status` and `productOffering.id` narrow it.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use q2c_model::limits::MAX_ID_LENGTH;
use q2c_model::tmf::ProductStatus;
use q2c_service::Scope;
use q2c_service::inventory::{InventoryService, ProductFilter, StoredProduct};
use serde_json::Value;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::paging::{Fields, Params, select};
use crate::response::{json, listing_response};

fn service(state: &AppState) -> InventoryService {
    InventoryService::new(state.ports.clone())
}

fn resource(product: &StoredProduct, fields: Option<&Fields>) -> Result<Value, ApiError> {
    let value = serde_json::to_value(&product.product).map_err(|_| ApiError::Internal)?;
    Ok(select(fields, value))
}

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
/// `relatedParty.id` required), newest `startDate` first; paging and `fields=`;
/// `X-Total-Count` and `X-Result-Count`.
#[tracing::instrument(name = "product.list", skip_all)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::InventoryRead)?;
    let (page, fields, filter) = Params::from_uri(&uri)?.listing(&state.config, filter)?;
    let listing = service(&state).list(ctx, &filter, page).await?;
    listing_response(&listing, |product| resource(product, fields.as_ref()))
}

/// `GET /product/{id}` with `fields=`.
#[tracing::instrument(name = "product.get", skip_all, fields(product_id = %id))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::InventoryRead)?;
    let fields = Params::fields_only(&uri)?;
    let product = service(&state).get(ctx, &id).await?;
    Ok(json(&resource(&product, fields.as_ref())?))
}
