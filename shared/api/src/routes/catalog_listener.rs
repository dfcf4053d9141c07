//! TMF620 listener: `POST /productCatalogManagement/v4/listener/{eventName}` (scope
//! `catalog.write`). The operator's catalog posts its `ProductOfferingPrice*Event`s and
//! `ProductOffering*Event`s here; we validate the envelope and `event.productOfferingPrice`
//! (or `event.productOffering`) as the fan-out will, enqueue
//! the event on `pricing-changes` and answer 201 with the event, as TMF v4 listeners do.
//! Applying it is the fan-out's job (at least once, de-duplicated on `eventId`), so the
//! listener stays fast and a redelivered POST is harmless.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use q2c_model::limits;
use q2c_service::Scope;
use q2c_service::ServiceError;
use q2c_service::event_versions::SchemaMajor;
use q2c_service::fanout::{
    EntryInvalid, OFFERING_EVENT_TYPES, PRICE_EVENT_TYPES, PriceChangeKind, parse_offering,
    parse_offering_event, parse_price, parse_price_event,
};
use q2c_service::messaging::{OutgoingMessage, attributes, parse_message, queues};
use q2c_service::ports::StoreError;

use crate::AppState;
use crate::auth::Caller;
use crate::body::{Accepts, body_bytes, check_content_type, check_depth};
use crate::error::ApiError;
use crate::response::json;

/// The event type a listener path names: `productOfferingPriceCreateEvent` (TMF v4 paths)
/// or `ProductOfferingPriceCreateEvent`.
fn event_type_of(event_name: &str) -> Option<&'static str> {
    PRICE_EVENT_TYPES
        .iter()
        .chain(OFFERING_EVENT_TYPES.iter())
        .copied()
        .find(|t| t.eq_ignore_ascii_case(event_name))
}

fn unavailable(why: &str) -> ApiError {
    ApiError::Service(ServiceError::Unavailable(StoreError::Backend(
        why.to_owned().into(),
    )))
}

/// `POST /listener/{eventName}` → 201 with the event, once it is on `pricing-changes`.
pub async fn receive(
    State(state): State<AppState>,
    caller: Caller,
    Path(event_name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::CatalogWrite)?;
    let event_type = event_type_of(&event_name)
        .ok_or_else(|| ApiError::NotFound(format!("no listener for {event_name}")))?;
    check_content_type(&headers, Accepts::Json)?;
    let bytes = body_bytes(body, state.config.body_limit, &headers)?;
    // The event goes on pricing-changes as posted: it must fit a queue message for good, so
    // a larger one is a 413 (retrying can never help), checked before it is parsed.
    limits::check_catalog_event_bytes(bytes.len()).map_err(ServiceError::Limit)?;
    check_depth(&bytes)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::MalformedJson("the body is not UTF-8".to_owned()))?;
    serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| ApiError::MalformedJson(format!("$: {e}")))?;
    let parsed = parse_message("listener", text, &BTreeMap::new(), None)
        .map_err(|reason| ApiError::InvalidBody(reason.replace("unparseable body: ", "")))?;
    if parsed.event_type != event_type {
        return Err(ApiError::InvalidBody(format!(
            "eventType: `{}` posted to the {event_type} listener",
            parsed.event_type
        )));
    }
    // The entry is validated as the fan-out and `q2c catalog import` validate it (one
    // validator): a limit is answered with its own status and body, the rest as invalid input.
    let (field, checked) = if OFFERING_EVENT_TYPES.contains(&event_type) {
        let entry = parsed
            .event
            .get("productOffering")
            .filter(|v| v.is_object());
        (
            "productOffering",
            entry.map(|raw| parse_offering(raw).map(|_| ())),
        )
    } else {
        let entry = parsed
            .event
            .get("productOfferingPrice")
            .filter(|v| v.is_object());
        let kind = PriceChangeKind::Upsert;
        (
            "productOfferingPrice",
            entry.map(|raw| parse_price(raw, kind).map(|_| ())),
        )
    };
    if let Some(Err(EntryInvalid::Limit(limit))) = checked {
        return Err(ServiceError::Limit(limit.under(&format!("event.{field}"))).into());
    }
    if OFFERING_EVENT_TYPES.contains(&event_type) {
        parse_offering_event(&parsed).map_err(ApiError::InvalidBody)?;
    } else {
        parse_price_event(&parsed).map_err(ApiError::InvalidBody)?;
    }

    let queue = state
        .pricing_queue
        .as_ref()
        .ok_or_else(|| unavailable("no pricing-changes queue is configured"))?;
    let message = OutgoingMessage {
        body: text.to_owned(),
        attributes: BTreeMap::from([
            (attributes::EVENT_TYPE.to_owned(), event_type.to_owned()),
            (attributes::EVENT_ID.to_owned(), parsed.event_id.clone()),
            // The body is forwarded as posted, so its version is the one it states; an
            // unversioned TMF620 event is a v4 envelope.
            (
                attributes::SCHEMA_VERSION.to_owned(),
                parsed
                    .schema_version
                    .clone()
                    .unwrap_or_else(|| SchemaMajor::V4.version().to_owned()),
            ),
            (
                attributes::CORRELATION_ID.to_owned(),
                ctx.correlation_id.clone(),
            ),
        ]),
    };
    let outcome = queue
        .send_batch(queues::PRICING_CHANGES, std::slice::from_ref(&message))
        .await
        .map_err(|e| {
            tracing::error!(error.message = %e, "pricing-changes send failed");
            unavailable("pricing-changes send failed")
        })?;
    if !outcome.failed.is_empty() {
        tracing::error!(failed = ?outcome.failed, "pricing-changes refused the event");
        return Err(unavailable("pricing-changes refused the event"));
    }
    tracing::info!(event_id = %parsed.event_id, event_type, "catalog event enqueued");
    Ok((StatusCode::CREATED, json(&parsed.envelope)).into_response())
}
