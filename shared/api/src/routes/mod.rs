//! The handlers and the route table.

pub mod catalog;
pub mod catalog_listener;
pub mod hub;
pub mod inventory;
pub mod orders;
pub mod quotes;
pub mod tenant;

use std::any::Any;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::handler::Handler;
use axum::http::Uri;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use q2c_service::Scope;
use q2c_service::context::RequestContext;
use q2c_service::inventory::StoredProduct;
use q2c_service::orders::StoredOrder;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::paging::{Fields, Params};
use crate::response::{json, json_text};
use crate::routes::hub::{CatalogHub, HubRoute, OrderingHub, QuoteHub};
use crate::version::{ApiVersion, V4, V5};
use crate::{AppState, CATALOG_API_BASE, INVENTORY_API_BASE, ORDERING_API_BASE};

/// A request about one resource, `/<resource>/{id}`: the state, the authenticated caller, the
/// id and the URI (for its query), extracted in that order.
pub struct ItemRequest {
    /// The application state.
    pub state: AppState,
    /// The authenticated caller.
    pub caller: Caller,
    /// The resource's id, from the path.
    pub id: String,
    uri: Uri,
}

impl FromRequestParts<AppState> for ItemRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = Caller::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(ItemRequest {
            state: state.clone(),
            caller,
            id,
            uri: parts.uri.clone(),
        })
    }
}

impl ItemRequest {
    /// A read: the caller's context if it has `scope`, then the `fields=` selection (the only
    /// query parameter a read takes).
    ///
    /// # Errors
    /// `MISSING_SCOPE` or `INVALID_QUERY`.
    pub fn read(&self, scope: Scope) -> Result<(&RequestContext, Option<Fields>), ApiError> {
        let ctx = self.caller.require(scope)?;
        Ok((ctx, Params::fields_only(&self.uri)?))
    }

    /// A change: the caller's context if it has `scope`; the query must be empty.
    ///
    /// # Errors
    /// `MISSING_SCOPE` or `INVALID_QUERY`.
    pub fn change(&self, scope: Scope) -> Result<&RequestContext, ApiError> {
        let ctx = self.caller.require(scope)?;
        Params::from_uri(&self.uri)?.finish()?;
        Ok(ctx)
    }
}

/// The routes of hub `H`: `POST <base>/hub` and `DELETE <base>/hub/{id}`.
fn hub_routes<H: HubRoute>() -> Router<AppState> {
    let base = hub::hub_base::<H>();
    Router::new()
        .route(&base, axum::routing::post(hub::create::<H>))
        .route(
            &format!("{base}/{{id}}"),
            axum::routing::delete(hub::delete::<H>),
        )
}

/// A read-only resource at `path`: `GET <path>` lists it, `GET <path>/{id}` reads one.
fn read_only<L, G, TL, TG>(path: &str, list: L, get_one: G) -> Router<AppState>
where
    L: Handler<TL, AppState>,
    G: Handler<TG, AppState>,
    TL: 'static,
    TG: 'static,
{
    Router::new()
        .route(path, get(list))
        .route(&format!("{path}/{{id}}"), get(get_one))
}

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
        .merge(hub_routes::<QuoteHub<V>>())
}

/// Every route of the surface, before state and layers.
pub fn routes() -> Router<AppState> {
    let c = CATALOG_API_BASE;
    let o = ORDERING_API_BASE;
    Router::new()
        .route("/health", get(health))
        .merge(quote_routes::<V4>())
        .merge(quote_routes::<V5>())
        .merge(hub_routes::<CatalogHub>())
        .merge(read_only(
            &format!("{c}/productOffering"),
            catalog::list_offerings,
            catalog::get_offering,
        ))
        .merge(read_only(
            &format!("{c}/productOfferingPrice"),
            catalog::list_prices,
            catalog::get_price,
        ))
        .merge(read_only(
            &format!("{o}/productOrder"),
            orders::list,
            tenant::get::<StoredOrder>,
        ))
        .route(
            &format!("{o}/listener/productOrderStateChangeEvent"),
            axum::routing::post(orders::state_change_listener),
        )
        .merge(hub_routes::<OrderingHub>())
        .route(
            &format!("{c}/listener/{{event_name}}"),
            axum::routing::post(catalog_listener::receive),
        )
        .merge(read_only(
            &format!("{INVENTORY_API_BASE}/product"),
            tenant::list::<StoredProduct>,
            tenant::get::<StoredProduct>,
        ))
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
