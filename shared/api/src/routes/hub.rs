//! TMF648 `/hub`: register (201) and remove (204) event subscriptions of the caller's tenant.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use q2c_model::tmf::EventSubscription;
use q2c_service::Scope;
use q2c_service::ports::HubApi;
use serde::Deserialize;

use crate::auth::Caller;
use crate::body::{json_object, typed};
use crate::error::ApiError;
use crate::idempotency::PostRequest;
use crate::paging::Params;
use crate::routes::{json, location};
use crate::schema::request_schemas;
use crate::{AppState, QUOTE_API_BASE, idempotency};
use serde_json::Value;

/// Longest callback accepted.
pub const MAX_CALLBACK_LEN: usize = 2048;

/// TMF `EventSubscriptionInput`.
#[derive(Debug, Deserialize)]
struct EventSubscriptionInput {
    callback: String,
    #[serde(default)]
    query: Option<String>,
}

/// Parses and checks an `EventSubscriptionInput`.
///
/// # Errors
/// `MALFORMED_JSON` or `INVALID_INPUT` (missing or empty callback, wrong types).
pub fn parse_input(bytes: &[u8]) -> Result<(String, Option<String>), ApiError> {
    let body = Value::Object(json_object(bytes)?);
    request_schemas().check_hub_input(&body)?;
    let input: EventSubscriptionInput = typed(body)?;
    let callback = input.callback;
    let length = callback.chars().count();
    if length == 0 || length > MAX_CALLBACK_LEN {
        return Err(ApiError::InvalidBody(format!(
            "callback: must be 1-{MAX_CALLBACK_LEN} characters"
        )));
    }
    Ok((callback, input.query))
}

/// `POST /hub` → 201 with the subscription and `Location`; honours `Idempotency-Key`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request = PostRequest {
        method,
        uri,
        headers,
        body,
    };
    create_for(HubApi::Quote, QUOTE_API_BASE, &state, &caller, request).await
}

/// `POST <base>/hub` of `api`'s hub (shared by the quote and ordering APIs).
pub(crate) async fn create_for(
    api: HubApi,
    base: &'static str,
    state: &AppState,
    caller: &Caller,
    request: PostRequest,
) -> Result<Response, ApiError> {
    idempotency::json_post(
        state,
        caller,
        Scope::HubWrite,
        request,
        |bytes| async move { subscribe(api, base, state, caller, &bytes).await },
    )
    .await
}

async fn subscribe(
    api: HubApi,
    base: &str,
    state: &AppState,
    caller: &Caller,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let (callback, query) = parse_input(bytes)?;
    let subscription = EventSubscription {
        id: uuid::Uuid::new_v4().to_string(),
        callback,
        query,
    };
    state
        .ports
        .hubs
        .create(&caller.0.tenant, api, &subscription)
        .await
        .map_err(|e| ApiError::Service(e.into()))?;
    let location = location(state, &format!("{base}/hub/{}", subscription.id))?;
    let mut response = json(&subscription);
    *response.status_mut() = StatusCode::CREATED;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// `DELETE /hub/{id}` → 204, 404 when the tenant has no such subscription.
#[tracing::instrument(name = "hub.delete", skip_all, fields(subscription_id = %id))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    delete_for(HubApi::Quote, &state, &caller, &id, &uri).await
}

/// `DELETE <base>/hub/{id}` of `api`'s hub (shared by the quote and ordering APIs).
pub(crate) async fn delete_for(
    api: HubApi,
    state: &AppState,
    caller: &Caller,
    id: &str,
    uri: &Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::HubWrite)?;
    Params::from_uri(uri)?.finish()?;
    let removed = state
        .ports
        .hubs
        .delete(&ctx.tenant, api, id)
        .await
        .map_err(|e| ApiError::Service(e.into()))?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound(format!(
            "EventSubscription {id} not found"
        )))
    }
}
