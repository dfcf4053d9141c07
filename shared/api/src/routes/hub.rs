//! The hubs: register (201) and remove (204) event subscriptions of the caller's tenant, on
//! the quote API (TMF648 `/hub`) and the catalog API (TMF620 `/hub`, price events). A
//! subscription's `query` must follow the delivery grammar (`eventType=A,B`, `a.b.c=v`,
//! joined by `&`) and its `callback` must pass the deploy-time [`CallbackPolicy`]
//! (`AppState::callback_policy`: never a system queue, the tenant's own subscriber queue or
//! an allow-listed target); both are refused with 400 naming the problem. A tenant has at
//! most the quota's subscriptions per hub (`AppState::quotas`; 422 beyond).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use q2c_model::tmf::EventSubscription;
use q2c_service::delivery::{CallbackPolicy, SubscriptionQuery};
use q2c_service::ports::HubApi;
use q2c_service::{Scope, TenantId};
use serde::Deserialize;

use crate::auth::Caller;
use crate::body::{json_object, typed};
use crate::error::ApiError;
use crate::idempotency::PostRequest;
use crate::paging::Params;
use crate::response::location;
use crate::schema::request_schemas;
use crate::version::{ApiVersion, V4};
use crate::{AppState, CATALOG_API_BASE, ORDERING_API_BASE, idempotency};
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

/// Checks a subscription's `query` grammar and `tenant`'s `callback` against `policy`.
///
/// # Errors
/// `INVALID_INPUT` naming the problem (`query: ...`, `callback: ...`).
pub fn check_subscription(
    policy: &CallbackPolicy,
    tenant: &TenantId,
    callback: &str,
    query: Option<&str>,
) -> Result<(), ApiError> {
    SubscriptionQuery::parse(query).map_err(|e| ApiError::InvalidBody(e.to_string()))?;
    policy
        .check(tenant, callback)
        .map_err(|e| ApiError::InvalidBody(e.to_string()))?;
    Ok(())
}

/// The base path of `api`'s hub (the quote hub of version `V`).
fn hub_base<V: ApiVersion>(api: HubApi) -> String {
    match api {
        HubApi::Quote => format!("{}/hub", V::BASE),
        HubApi::Catalog => format!("{CATALOG_API_BASE}/hub"),
        HubApi::Ordering => format!("{ORDERING_API_BASE}/hub"),
    }
}

/// Quote `POST /hub` → 201 with the subscription (v4 `EventSubscription`, v5 `Hub`) and
/// `Location`; honours `Idempotency-Key`.
pub async fn create<V: ApiVersion>(
    state: State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    create_in::<V>(HubApi::Quote, state, caller, method, uri, headers, body).await
}

/// Catalog `POST /hub` (price events) → 201, as the quote hub.
pub async fn create_catalog(
    state: State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    create_on(HubApi::Catalog, state, caller, method, uri, headers, body).await
}

/// `POST` on `api`'s hub (scope `hub.write`), for any hub's route (the ordering hub's too).
pub async fn create_on(
    api: HubApi,
    state: State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    create_in::<V4>(api, state, caller, method, uri, headers, body).await
}

/// `POST` on `api`'s hub answering in version `V`'s representation.
async fn create_in<V: ApiVersion>(
    api: HubApi,
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
    let (state, caller) = (&state, &caller);
    idempotency::json_post(
        state,
        caller,
        Scope::HubWrite,
        request,
        |bytes| async move { subscribe::<V>(state, caller, api, &bytes).await },
    )
    .await
}

async fn subscribe<V: ApiVersion>(
    state: &AppState,
    caller: &Caller,
    api: HubApi,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let tenant = &caller.0.tenant;
    let (callback, query) = parse_input(bytes)?;
    check_subscription(&state.callback_policy, tenant, &callback, query.as_deref())?;
    let subscription = EventSubscription {
        id: uuid::Uuid::new_v4().to_string(),
        callback,
        query,
    };
    let max = state.quotas.max_subscriptions_per_api();
    let stored = state
        .ports
        .hubs
        .create_within(
            tenant,
            api,
            &subscription,
            V::EVENT_MAJOR,
            max.unwrap_or(u64::MAX),
        )
        .await
        .map_err(|e| ApiError::Service(e.into()))?;
    if !stored {
        return Err(ApiError::QuotaExceeded {
            code: "SUBSCRIPTION_QUOTA_EXCEEDED",
            message: format!(
                "tenant {tenant} already has {} subscriptions on the {} hub, the most this \
                 deployment allows: delete one first",
                max.unwrap_or(u64::MAX),
                api.as_str()
            ),
        });
    }
    let path = format!("{}/{}", hub_base::<V>(api), subscription.id);
    let location = location(state, &path)?;
    let href = location.to_str().map_err(|_| ApiError::Internal)?;
    let mut response = V::hub_response(&subscription, href);
    *response.status_mut() = StatusCode::CREATED;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// Quote `DELETE /hub/{id}` → 204, 404 when the tenant has no such subscription (the
/// subscriptions are shared by the versions: one quote hub).
pub async fn delete<V: ApiVersion>(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    delete_on(HubApi::Quote, state, caller, id, uri).await
}

/// Catalog `DELETE /hub/{id}` → 204, as the quote hub.
pub async fn delete_catalog(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    delete_on(HubApi::Catalog, state, caller, id, uri).await
}

/// `DELETE` on `api`'s hub (scope `hub.write`): only the caller's tenant's subscriptions.
#[tracing::instrument(name = "hub.delete", skip_all, fields(api = api.as_str(), subscription_id = %id))]
pub async fn delete_on(
    api: HubApi,
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::HubWrite)?;
    Params::from_uri(&uri)?.finish()?;
    let removed = state
        .ports
        .hubs
        .delete(&ctx.tenant, api, &id)
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
