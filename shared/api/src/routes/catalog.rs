//! Read-only TMF620 catalog: offerings and prices, shared by all tenants (`catalog.read`).

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use q2c_model::filter::{PRODUCT_OFFERING, PRODUCT_OFFERING_PRICE};
use q2c_service::Scope;
use serde::Serialize;
use serde_json::Value;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::listing::{self, ListQuery};
use crate::paging::{Fields, Params, select};
use crate::response::json;

/// A catalog entry as served.
fn render<T: Serialize>(item: &T) -> Result<Value, ApiError> {
    serde_json::to_value(item).map_err(|_| ApiError::Internal)
}

fn one<T: Serialize>(
    found: Option<T>,
    kind: &str,
    id: &str,
    fields: Option<Fields>,
) -> Result<Response, ApiError> {
    let found = found.ok_or_else(|| ApiError::NotFound(format!("{kind} {id} not found")))?;
    Ok(json(&select(fields.as_ref(), render(&found)?)))
}

/// The two handlers of a catalog resource, which are alike but for the store's methods:
/// `$list` (`GET /<resource>`: paging, `fields=` and the TMF630 filters `$filters`, by
/// [`crate::listing`]) over the store's `$list_all` and `$scan`, and `$get`
/// (`GET /<resource>/{id}`: `fields=`, 404 naming `$kind`) over its `$by_ids`.
macro_rules! catalog_resource {
    (
        $(#[$list_doc:meta])* $list:ident => $list_all:ident, $scan:ident, $filters:expr,
        $(#[$get_doc:meta])* $get:ident => $by_ids:ident, $kind:literal
    ) => {
        $(#[$list_doc])*
        pub async fn $list(
            State(state): State<AppState>,
            caller: Caller,
            uri: Uri,
        ) -> Result<Response, ApiError> {
            caller.require(Scope::CatalogRead)?;
            let query = ListQuery::parse(&uri, &state.config, $filters)?;
            let page = query.page;
            let catalog = &state.ports.catalog;
            listing::respond(
                &uri,
                query,
                async { Ok(catalog.$list_all(page).await?) },
                |scan| catalog.$scan(scan),
                render,
            )
            .await
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
    list_offerings => list_offerings, scan_offerings, PRODUCT_OFFERING,
    /// `GET /productOffering/{id}`.
    get_offering => offerings, "ProductOffering"
);

catalog_resource!(
    /// `GET /productOfferingPrice`.
    list_prices => list_prices, scan_prices, PRODUCT_OFFERING_PRICE,
    /// `GET /productOfferingPrice/{id}`.
    get_price => prices, "ProductOfferingPrice"
);
