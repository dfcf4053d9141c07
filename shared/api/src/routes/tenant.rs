//! The two reads of a resource the caller's tenant owns, `GET /<resource>` (paging, `fields=`,
//! the resource's filters; `X-Total-Count` and `X-Result-Count`) and `GET /<resource>/{id}`
//! (`fields=`): the same for product orders and inventory products but for what their
//! [`TenantResource`] names.

use std::future::Future;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use q2c_service::context::RequestContext;
use q2c_service::ports::{Listing, Page};
use q2c_service::{Scope, ServiceError};
use serde_json::Value;
use tracing::{Instrument, Span};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::paging::{Params, select};
use crate::response::{json, listing_response};
use crate::routes::ItemRequest;

/// A resource of the caller's tenant as its read handlers see it.
pub trait TenantResource: Sized + Send + Sync + 'static {
    /// The scope its reads need.
    const SCOPE: Scope;

    /// The span of the read of `id`.
    fn get_span(id: &str) -> Span;

    /// The caller's resource `id`.
    fn get(
        state: &AppState,
        ctx: &RequestContext,
        id: &str,
    ) -> impl Future<Output = Result<Self, ServiceError>> + Send;

    /// The resource's representation, before `fields=` selects from it.
    ///
    /// # Errors
    /// `ApiError::Internal` when it cannot be serialised.
    fn resource(&self) -> Result<Value, ApiError>;
}

/// A resource listed with its own filters (offset pages with `X-Total-Count`), not the
/// TMF630 engine of [`crate::listing`].
pub trait TenantListing: TenantResource {
    /// The listing's filters.
    type Filter: Send + Sync;

    /// Takes the listing's filters from its query.
    ///
    /// # Errors
    /// `INVALID_QUERY`.
    fn filter(params: &mut Params) -> Result<Self::Filter, ApiError>;

    /// The span of a listing.
    fn list_span() -> Span;

    /// A page of the caller's resources matching `filter`.
    fn list(
        state: &AppState,
        ctx: &RequestContext,
        filter: &Self::Filter,
        page: Page,
    ) -> impl Future<Output = Result<Listing<Self>, ServiceError>> + Send;
}

/// `GET /<resource>`.
pub async fn list<R: TenantListing>(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    async move {
        let ctx = caller.require(R::SCOPE)?;
        let (page, fields, filter) = Params::from_uri(&uri)?.listing(&state.config, R::filter)?;
        let listing = R::list(&state, ctx, &filter, page).await?;
        listing_response(&listing, |item| {
            Ok(select(fields.as_ref(), item.resource()?))
        })
    }
    .instrument(R::list_span())
    .await
}

/// `GET /<resource>/{id}`.
pub async fn get<R: TenantResource>(request: ItemRequest) -> Result<Response, ApiError> {
    let span = R::get_span(&request.id);
    async move {
        let (ctx, fields) = request.read(R::SCOPE)?;
        let item = R::get(&request.state, ctx, &request.id).await?;
        Ok(json(&select(fields.as_ref(), item.resource()?)))
    }
    .instrument(span)
    .await
}
