//! Read-only TMF620 catalog: offerings and prices, shared by all tenants (`catalog.read`).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use q2c_service::Scope;
use q2c_service::ports::Listing;
use serde::Serialize;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::paging::{Fields, Params, select};
use crate::response::{json, listing_response};

fn catalog_listing<T: Serialize>(
    listing: &Listing<T>,
    fields: Option<Fields>,
) -> Result<Response, ApiError> {
    listing_response(listing, |item| {
        serde_json::to_value(item)
            .map(|v| select(fields.as_ref(), v))
            .map_err(|_| ApiError::Internal)
    })
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

/// The two handlers of a catalog resource, which are alike but for the store's methods:
/// `$list` (`GET /<resource>`: paging and `fields=`) over the store's `$list_all`, and `$get`
/// (`GET /<resource>/{id}`: `fields=`, 404 naming `$kind`) over its `$by_ids`.
macro_rules! catalog_resource {
    (
        $(#[$list_doc:meta])* $list:ident => $list_all:ident,
        $(#[$get_doc:meta])* $get:ident => $by_ids:ident, $kind:literal
    ) => {
        $(#[$list_doc])*
        pub async fn $list(
            State(state): State<AppState>,
            caller: Caller,
            uri: Uri,
        ) -> Result<Response, ApiError> {
            caller.require(Scope::CatalogRead)?;
            let (page, fields, ()) = Params::from_uri(&uri)?.listing(&state.config, |_| Ok(()))?;
            let listing = state.ports.catalog.$list_all(page).await?;
            catalog_listing(&listing, fields)
        }

        $(#[$get_doc])*
        pub async fn $get(
            State(state): State<AppState>,
            caller: Caller,
            Path(id): Path<String>,
            uri: Uri,
        ) -> Result<Response, ApiError> {
            caller.require(Scope::CatalogRead)?;
            let fields = Params::fields_only(&uri)?;
            let found = state.ports.catalog.$by_ids(std::slice::from_ref(&id)).await?;
            one(found.into_iter().find(|item| item.id == id), $kind, &id, fields)
        }
    };
}

catalog_resource!(
    /// `GET /productOffering`.
    list_offerings => list_offerings,
    /// `GET /productOffering/{id}`.
    get_offering => offerings, "ProductOffering"
);

catalog_resource!(
    /// `GET /productOfferingPrice`.
    list_prices => list_prices,
    /// `GET /productOfferingPrice/{id}`.
    get_price => prices, "ProductOfferingPrice"
);
