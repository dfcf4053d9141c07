//! TMF622 `productOrderingManagement` routes: reading product orders (with our `dispatch`
//! extension), the ordering hub (the hub's handlers for [`hub::OrderingHub`](crate::routes::hub::OrderingHub)), and the
//! listener taking `ProductOrderStateChangeEvent`s from order management.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use q2c_model::filter::PRODUCT_ORDER;
use q2c_service::context::RequestContext;
use q2c_service::orders::{OrderService, StoredOrder};
use q2c_service::{Scope, ServiceError};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::Span;

use crate::AppState;
use crate::auth::Caller;
use crate::body::{Accepts, body_bytes, check_content_type, json_object};
use crate::error::ApiError;
use crate::idempotency::{self, IDEMPOTENCY_KEY, PostRequest};
use crate::listing::{self, ListQuery};
use crate::paging::Params;
use crate::routes::tenant::TenantResource;
use crate::schema::request_schemas;

fn service(state: &AppState) -> OrderService {
    OrderService::new(state.ports.clone())
}

/// `GET /productOrder/{id}`: one of the caller's orders.
impl TenantResource for StoredOrder {
    const SCOPE: Scope = Scope::OrderRead;

    fn get_span(id: &str) -> Span {
        tracing::info_span!("order.get", order_id = %id)
    }

    async fn get(state: &AppState, ctx: &RequestContext, id: &str) -> Result<Self, ServiceError> {
        service(state).get(ctx, id).await
    }

    fn resource(&self) -> Result<Value, ApiError> {
        self.to_resource().map_err(|_| ApiError::Internal)
    }
}

/// `GET /productOrder`: the caller's orders, newest first, with the TMF630 filters of
/// `q2c_model::filter::PRODUCT_ORDER` (`quote.id=` finds the order a quote became); none is
/// served by an index, so a filtered page is a cursor page ([`crate::listing`]).
#[tracing::instrument(name = "order.list", skip_all)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::OrderRead)?;
    let query = ListQuery::parse(&uri, &state.config, PRODUCT_ORDER)?;
    let page = query.page;
    let orders = &state.ports.orders;
    listing::respond(
        &uri,
        query,
        async { Ok(service(&state).list(ctx, page).await?) },
        |scan| orders.scan(&ctx.tenant, scan),
        StoredOrder::resource,
    )
    .await
}

/// `POST /listener/productOrderStateChangeEvent` → 201 once the state is recorded; 404 for
/// an unknown order, 422 for a state the TMF622 machine does not allow. Notifications arrive
/// at least once: the first answer to an `eventId` is kept (24 h, as for `Idempotency-Key`,
/// which takes precedence when sent) and replayed to its redeliveries, so a late duplicate of
/// an older state is not refused once the order has moved on.
#[tracing::instrument(name = "order.listener", skip_all)]
pub async fn state_change_listener(
    State(state): State<AppState>,
    caller: Caller,
    PostRequest {
        method,
        uri,
        mut headers,
        body,
    }: PostRequest,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::OrderWrite)?;
    Params::from_uri(&uri)?.finish()?;
    check_content_type(&headers, Accepts::Json)?;
    let bytes = body_bytes(body, state.config.body_limit, &headers)?;
    let notification = Value::Object(json_object(&bytes)?);
    request_schemas().check_order_state_change(&notification)?;
    if !headers.contains_key(&IDEMPOTENCY_KEY)
        && let Some(key) = notification
            .get("eventId")
            .and_then(Value::as_str)
            .and_then(event_key)
    {
        headers.insert(IDEMPOTENCY_KEY, key);
    }
    let service = service(&state);
    idempotency::once(
        &state,
        ctx,
        &headers,
        (&method, uri.path(), &bytes),
        || async {
            match service.apply_state_change(ctx, &notification).await {
                Ok(_) => StatusCode::CREATED.into_response(),
                Err(e) => ApiError::from(e).into_response(),
            }
        },
    )
    .await
}

/// The de-duplication key of a notification: its `eventId`, hashed so that any id makes a
/// valid key of fixed length.
fn event_key(event_id: &str) -> Option<HeaderValue> {
    let digest = Sha256::digest(event_id.as_bytes());
    HeaderValue::try_from(format!("order-event:{}", hex::encode(digest))).ok()
}
