//! The hubs: register (201) and remove (204) event subscriptions of the caller's tenant, on
//! the quote API (TMF648 `/hub`), the catalog API (TMF620 `/hub`, price events) and the
//! ordering API (TMF622 `/hub`), one [`HubRoute`] each, served by the same handlers. A
//! subscription's `query` must follow the delivery grammar (`eventType=A,B`, `a.b.c=v`,
//! joined by `&`) and its `callback` must pass the deploy-time [`CallbackPolicy`]
//! (`AppState::callback_policy`: never a system queue, the tenant's own subscriber queue or
//! an allow-listed target); both are refused with 400 naming the problem. A tenant has at
//! most the quota's subscriptions per hub (`AppState::quotas`; 422 beyond).

use std::marker::PhantomData;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use q2c_model::tmf::EventSubscription;
use q2c_service::delivery::{CallbackPolicy, SubscriptionQuery};
use q2c_service::ports::HubApi;
use q2c_service::{Scope, TenantId};
use serde::Deserialize;

use crate::auth::Caller;
use crate::body::{json_object, typed};
use crate::error::ApiError;
use crate::idempotency::JsonPost;
use crate::response::location;
use crate::routes::ItemRequest;
use crate::schema::request_schemas;
use crate::version::{ApiVersion, V4};
use crate::{AppState, CATALOG_API_BASE, ORDERING_API_BASE};
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

/// The base path of hub `H`.
pub(crate) fn hub_base<H: HubRoute>() -> String {
    match H::API {
        HubApi::Quote => format!("{}/hub", H::Version::BASE),
        HubApi::Catalog => format!("{CATALOG_API_BASE}/hub"),
        HubApi::Ordering => format!("{ORDERING_API_BASE}/hub"),
    }
}

/// One hub's routes: the subscriptions it holds and the version its answers are in.
pub trait HubRoute: Send + Sync + 'static {
    /// The API whose subscriptions the hub holds.
    const API: HubApi;
    /// The version of the subscription's representation and of its events.
    type Version: ApiVersion;
}

/// The quote hub of version `V` (TMF648 `/hub`; one set of subscriptions for every version).
pub struct QuoteHub<V>(PhantomData<V>);

impl<V: ApiVersion> HubRoute for QuoteHub<V> {
    const API: HubApi = HubApi::Quote;
    type Version = V;
}

/// The catalog hub (TMF620 `/hub`, price events).
pub struct CatalogHub;

impl HubRoute for CatalogHub {
    const API: HubApi = HubApi::Catalog;
    type Version = V4;
}

/// The ordering hub (TMF622 `/hub`, order events).
pub struct OrderingHub;

impl HubRoute for OrderingHub {
    const API: HubApi = HubApi::Ordering;
    type Version = V4;
}

/// `POST /hub` (scope `hub.write`) → 201 with the subscription (quote v5: `Hub`, otherwise
/// `EventSubscription`) and `Location`; honours `Idempotency-Key`.
pub async fn create<H: HubRoute>(post: JsonPost) -> Result<Response, ApiError> {
    post.run(Scope::HubWrite, subscribe::<H>).await
}

async fn subscribe<H: HubRoute>(
    state: &AppState,
    caller: &Caller,
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
            H::API,
            &subscription,
            H::Version::EVENT_MAJOR,
            max.unwrap_or(u64::MAX),
        )
        .await?;
    if !stored {
        return Err(ApiError::QuotaExceeded {
            code: "SUBSCRIPTION_QUOTA_EXCEEDED",
            message: format!(
                "tenant {tenant} already has {} subscriptions on the {} hub, the most this \
                 deployment allows: delete one first",
                max.unwrap_or(u64::MAX),
                H::API.as_str()
            ),
        });
    }
    let path = format!("{}/{}", hub_base::<H>(), subscription.id);
    let location = location(state, &path)?;
    let href = location.to_str().map_err(|_| ApiError::Internal)?;
    let mut response = H::Version::hub_response(&subscription, href);
    *response.status_mut() = StatusCode::CREATED;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// `DELETE /hub/{id}` (scope `hub.write`) → 204; 404 when the caller's tenant has no such
/// subscription on this hub.
#[tracing::instrument(name = "hub.delete", skip_all, fields(api = H::API.as_str(), subscription_id = %request.id))]
pub async fn delete<H: HubRoute>(request: ItemRequest) -> Result<Response, ApiError> {
    let ctx = request.change(Scope::HubWrite)?;
    let hubs = &request.state.ports.hubs;
    let removed = hubs.delete(&ctx.tenant, H::API, &request.id).await?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound(format!(
            "EventSubscription {} not found",
            request.id
        )))
    }
}
