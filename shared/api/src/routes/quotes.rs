//! TMF648 `/quote` routes. The edge checks what it can without the use-cases (scopes,
//! content type, JSON shape, server-owned fields, `If-Match`, paging) and then calls exactly
//! one `QuoteService` method.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use q2c_model::tmf::Quote;
use q2c_service::Scope;
use q2c_service::ports::StoredQuote;
use serde_json::Value;

use crate::auth::Caller;
use crate::body::{Accepts, body_bytes, check_content_type, json_object, reject_forbidden, typed};
use crate::error::ApiError;
use crate::idempotency::PostRequest;
use crate::paging::{Fields, Params, count_headers, select};
use crate::routes::{json, location};
use crate::schema::request_schemas;
use crate::{AppState, QUOTE_API_BASE, idempotency};

/// The `ETag` of a quote version: `"<version>"`.
pub fn etag(version: u64) -> HeaderValue {
    // Digits in quotes are always a valid header value.
    HeaderValue::try_from(format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The version named by `If-Match` (`"3"`, `W/"3"`); `*` or no header means any version.
///
/// # Errors
/// `ApiError::InvalidHeader` for anything else.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::InvalidHeader(
            "If-Match must be one ETag of this API, e.g. \"3\" (W/ tolerated) or *".to_owned(),
        )
    };
    let text = raw.to_str().map_err(|_| invalid())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text);
    // Lenient on input: a bare version (`3`) is taken as the ETag `"3"`.
    let version = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| (!tag.contains('"')).then_some(tag));
    version
        .filter(|t| !t.is_empty() && t.len() <= 19 && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(invalid)
}

/// A quote response: body (optionally selected) and `ETag`.
fn quote_response(stored: &StoredQuote, fields: Option<&Fields>) -> Result<Response, ApiError> {
    let value = serde_json::to_value(&stored.quote).map_err(|_| ApiError::Internal)?;
    let mut response = json(&select(fields, value));
    response
        .headers_mut()
        .insert(header::ETAG, etag(stored.version));
    Ok(response)
}

/// Parses a `Quote_Create` body: JSON object, no server-owned field (even `null`),
/// `quoteItem` present and not empty, then typed with the path of any error.
///
/// # Errors
/// `MALFORMED_JSON`, `FORBIDDEN_FIELD` or `INVALID_INPUT`.
pub fn parse_create(bytes: &[u8]) -> Result<Quote, ApiError> {
    let object = json_object(bytes)?;
    reject_forbidden(&object)?;
    let problem = match object.get("quoteItem") {
        None => Some("quoteItem: missing required field"),
        Some(Value::Array(items)) if items.is_empty() => {
            Some("quoteItem: at least one item is required")
        }
        Some(_) => None,
    };
    if let Some(problem) = problem {
        return Err(ApiError::InvalidBody(problem.to_owned()));
    }
    let body = Value::Object(object);
    request_schemas().check_quote_create(&body)?;
    typed(body)
}

/// `POST /quote` → 201 with `Location` and `ETag`; honours `Idempotency-Key`.
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
    let (state, caller) = (&state, &caller);
    idempotency::json_post(
        state,
        caller,
        Scope::QuoteWrite,
        request,
        |bytes| async move { create_quote(state, caller, &bytes).await },
    )
    .await
}

async fn create_quote(
    state: &AppState,
    caller: &Caller,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let input = parse_create(bytes)?;
    let stored = state.quotes.create(&caller.0, input).await?;
    let location = location(state, &format!("{QUOTE_API_BASE}/quote/{}", stored.id()))?;
    let mut response = quote_response(&stored, None)?;
    *response.status_mut() = StatusCode::CREATED;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// `GET /quote`: paging, `fields=`, filters; `X-Total-Count` and `X-Result-Count`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::QuoteRead)?;
    let mut params = Params::from_uri(&uri)?;
    let page = params.page(&state.config)?;
    let fields = params.fields()?;
    let filter = params.quote_filter()?;
    params.finish()?;
    let listing = state.quotes.list(ctx, &filter, page).await?;
    let items = listing
        .items
        .iter()
        .map(|q| serde_json::to_value(&q.quote).map(|v| select(fields.as_ref(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::Internal)?;
    let headers = count_headers(listing.total, items.len());
    Ok((headers, json(&items)).into_response())
}

/// `GET /quote/{id}` with `fields=`.
#[tracing::instrument(name = "quote.get", skip_all, fields(quote_id = %id))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::QuoteRead)?;
    let mut params = Params::from_uri(&uri)?;
    let fields = params.fields()?;
    params.finish()?;
    let stored = state.quotes.get(ctx, &id).await?;
    quote_response(&stored, fields.as_ref())
}

/// `PATCH /quote/{id}`: JSON merge patch, optional `If-Match`.
#[tracing::instrument(name = "quote.patch", skip_all, fields(quote_id = %id))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::QuoteWrite)?;
    Params::from_uri(&uri)?.finish()?;
    check_content_type(&headers, Accepts::JsonOrMergePatch)?;
    let version = if_match(&headers)?;
    let bytes = body_bytes(body, state.config.body_limit)?;
    let patch = Value::Object(json_object(&bytes)?);
    request_schemas().check_quote_patch(&patch)?;
    let stored = state.quotes.patch(ctx, &id, &patch, version).await?;
    quote_response(&stored, None)
}

/// `DELETE /quote/{id}` → 204; optional `If-Match`.
#[tracing::instrument(name = "quote.delete", skip_all, fields(quote_id = %id))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::QuoteWrite)?;
    Params::from_uri(&uri)?.finish()?;
    let version = if_match(&headers)?;
    state.quotes.delete(ctx, &id, version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
