//! TMF622 `productOrderingManagement` routes: reading product orders (with our `dispatch`
//! extension), the ordering hub (the quote hub's handlers for [`HubApi::Ordering`]), and the
//! listener taking `ProductOrderStateChangeEvent`s from order management.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use q2c_service::Scope;
use q2c_service::orders::{OrderService, StoredOrder};
use q2c_service::ports::HubApi;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Caller;
use crate::body::{Accepts, body_bytes, check_content_type, json_object};
use crate::error::ApiError;
use crate::idempotency::{self, IDEMPOTENCY_KEY};
use crate::paging::{Fields, Params, select};
use crate::response::{json, listing_response};
use crate::routes::hub;
use crate::schema::request_schemas;

fn service(state: &AppState) -> OrderService {
    OrderService::new(state.ports.clone())
}

fn resource(order: &StoredOrder, fields: Option<&Fields>) -> Result<Value, ApiError> {
    let value = order.to_resource().map_err(|_| ApiError::Internal)?;
    Ok(select(fields, value))
}

/// `GET /productOrder`: the caller's orders, newest first; paging and `fields=`;
/// `X-Total-Count` and `X-Result-Count`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::OrderRead)?;
    let mut params = Params::from_uri(&uri)?;
    let page = params.page(&state.config)?;
    let fields = params.fields()?;
    params.finish()?;
    let listing = service(&state).list(ctx, page).await?;
    listing_response(&listing, |order| resource(order, fields.as_ref()))
}

/// `GET /productOrder/{id}` with `fields=`.
#[tracing::instrument(name = "order.get", skip_all, fields(order_id = %id))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::OrderRead)?;
    let mut params = Params::from_uri(&uri)?;
    let fields = params.fields()?;
    params.finish()?;
    let order = service(&state).get(ctx, &id).await?;
    Ok(json(&resource(&order, fields.as_ref())?))
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
    method: Method,
    uri: Uri,
    mut headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
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

/// `POST /hub` of the ordering API (as the quote hub; subscriptions under
/// [`HubApi::Ordering`]).
pub async fn create_hub(
    state: State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    hub::create_on(HubApi::Ordering, state, caller, method, uri, headers, body).await
}

/// `DELETE /hub/{id}` of the ordering API.
pub async fn delete_hub(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    hub::delete_on(HubApi::Ordering, state, caller, id, uri).await
}
