//! The handlers and the route table.

pub mod catalog;
pub mod catalog_listener;
pub mod hub;
pub mod inventory;
pub mod orders;
pub mod quotes;

use std::any::Any;

use axum::Router;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::response::{json, json_text};
use crate::routes::hub::{CatalogHub, OrderingHub, QuoteHub};
use crate::version::{ApiVersion, V4, V5};
use crate::{AppState, CATALOG_API_BASE, INVENTORY_API_BASE, ORDERING_API_BASE};

/// The quote API of version `V`: document, quote CRUD and hub.
fn quote_routes<V: ApiVersion>() -> Router<AppState> {
    let q = V::BASE;
    Router::new()
        .route(&format!("{q}/openapi.json"), get(openapi_document::<V>))
        .route(
            &format!("{q}/quote"),
            get(quotes::list::<V>).post(quotes::create::<V>),
        )
        .route(
            &format!("{q}/quote/{{id}}"),
            get(quotes::get::<V>)
                .patch(quotes::patch::<V>)
                .delete(quotes::delete::<V>),
        )
        .route(
            &format!("{q}/hub"),
            axum::routing::post(hub::create::<QuoteHub<V>>),
        )
        .route(
            &format!("{q}/hub/{{id}}"),
            axum::routing::delete(hub::delete::<QuoteHub<V>>),
        )
}

/// Every route of the surface, before state and layers.
pub fn routes() -> Router<AppState> {
    let c = CATALOG_API_BASE;
    let o = ORDERING_API_BASE;
    Router::new()
        .route("/health", get(health))
        .merge(quote_routes::<V4>())
        .merge(quote_routes::<V5>())
        .route(
            &format!("{c}/hub"),
            axum::routing::post(hub::create::<CatalogHub>),
        )
        .route(
            &format!("{c}/hub/{{id}}"),
            axum::routing::delete(hub::delete::<CatalogHub>),
        )
        .route(
            &format!("{c}/productOffering"),
            get(catalog::list_offerings),
        )
        .route(
            &format!("{c}/productOffering/{{id}}"),
            get(catalog::get_offering),
        )
        .route(
            &format!("{c}/productOfferingPrice"),
            get(catalog::list_prices),
        )
        .route(
            &format!("{c}/productOfferingPrice/{{id}}"),
            get(catalog::get_price),
        )
        .route(&format!("{o}/productOrder"), get(orders::list))
        .route(&format!("{o}/productOrder/{{id}}"), get(orders::get))
        .route(
            &format!("{o}/listener/productOrderStateChangeEvent"),
            axum::routing::post(orders::state_change_listener),
        )
        .route(
            &format!("{o}/hub"),
            axum::routing::post(hub::create::<OrderingHub>),
        )
        .route(
            &format!("{o}/hub/{{id}}"),
            axum::routing::delete(hub::delete::<OrderingHub>),
        )
        .route(
            &format!("{c}/listener/{{event_name}}"),
            axum::routing::post(catalog_listener::receive),
        )
        .route(
            &format!("{INVENTORY_API_BASE}/product"),
            get(inventory::list),
        )
        .route(
            &format!("{INVENTORY_API_BASE}/product/{{id}}"),
            get(inventory::get),
        )
        .fallback(not_found)
}

/// `GET /tmf-api/quoteManagement/<version>/openapi.json` (no authentication): the
/// version's document as written.
async fn openapi_document<V: ApiVersion>() -> Response {
    json_text(V::OPENAPI)
}

async fn health() -> Response {
    json(&serde_json::json!({"status": "ok"}))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::RouteNotFound(uri.path().to_owned())
}

/// The response to a panic caught by `CatchPanicLayer`: a TMF630 500.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    ApiError::Internal.into_response()
}
