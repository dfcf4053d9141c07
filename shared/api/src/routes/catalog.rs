//! Read-only TMF620 catalog: offerings and prices, shared by all tenants (`catalog.read`).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use q2c_service::Scope;
use q2c_service::ports::{Listing, Page};
use serde::Serialize;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::paging::{Fields, Params, select};
use crate::response::{json, listing_response};

fn store_error(e: q2c_service::ports::StoreError) -> ApiError {
    ApiError::Service(e.into())
}

fn catalog_listing<T: Serialize>(listing: &Listing<T>, uri: &Uri) -> Result<Response, ApiError> {
    let mut params = Params::from_uri(uri)?;
    let fields = params.fields()?;
    listing_response(listing, |item| {
        serde_json::to_value(item)
            .map(|v| select(fields.as_ref(), v))
            .map_err(|_| ApiError::Internal)
    })
}

/// Checks a listing's query and returns its page (`offset`, `limit`, `fields` only).
fn list_page(state: &AppState, uri: &Uri) -> Result<Page, ApiError> {
    let mut params = Params::from_uri(uri)?;
    let page = params.page(&state.config)?;
    params.fields()?;
    params.finish()?;
    Ok(page)
}

/// Checks a single read's query (`fields` only).
fn one_fields(uri: &Uri) -> Result<Option<Fields>, ApiError> {
    let mut params = Params::from_uri(uri)?;
    let fields = params.fields()?;
    params.finish()?;
    Ok(fields)
}

fn one<T: Serialize>(
    found: Option<T>,
    kind: &str,
    id: &str,
    fields: Option<Fields>,
) -> Result<Response, ApiError> {
    let found = found.ok_or_else(|| ApiError::NotFound(format!("{kind} {id} not found")))?;
    let value = serde_json::to_value(&found).map_err(|_| ApiError::Internal)?;
    Ok(json(&select(fields.as_ref(), value)))
}

/// `GET /productOffering`.
pub async fn list_offerings(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    caller.require(Scope::CatalogRead)?;
    let page = list_page(&state, &uri)?;
    let listing = state
        .ports
        .catalog
        .list_offerings(page)
        .await
        .map_err(store_error)?;
    catalog_listing(&listing, &uri)
}

/// `GET /productOffering/{id}`.
pub async fn get_offering(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    caller.require(Scope::CatalogRead)?;
    let fields = one_fields(&uri)?;
    let found = state
        .ports
        .catalog
        .offerings(std::slice::from_ref(&id))
        .await
        .map_err(store_error)?;
    one(
        found.into_iter().find(|o| o.id == id),
        "ProductOffering",
        &id,
        fields,
    )
}

/// `GET /productOfferingPrice`.
pub async fn list_prices(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    caller.require(Scope::CatalogRead)?;
    let page = list_page(&state, &uri)?;
    let listing = state
        .ports
        .catalog
        .list_prices(page)
        .await
        .map_err(store_error)?;
    catalog_listing(&listing, &uri)
}

/// `GET /productOfferingPrice/{id}`.
pub async fn get_price(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    caller.require(Scope::CatalogRead)?;
    let fields = one_fields(&uri)?;
    let found = state
        .ports
        .catalog
        .prices(std::slice::from_ref(&id))
        .await
        .map_err(store_error)?;
    one(
        found.into_iter().find(|p| p.id == id),
        "ProductOfferingPrice",
        &id,
        fields,
    )
}
