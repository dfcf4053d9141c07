//! TMF648 `/quote` routes, generic over the served [`ApiVersion`] (v4, v5): the version maps
//! bodies and query names at the edge, the use-cases are the same. The edge checks what it
//! can without the use-cases (scopes, content type, JSON shape, server-owned fields,
//! `If-Match`, paging) and then calls one `QuoteService` method (a JSON Patch reads the quote
//! first, to apply the patch to its wire representation).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use q2c_model::limits::{self, LimitError, MAX_JSON_DEPTH, MAX_PATCH_OPERATIONS, MAX_QUOTE_BYTES};
use q2c_model::tmf::Quote;
use q2c_service::Scope;
use q2c_service::ports::StoredQuote;
use serde_json::{Map, Value};

use crate::AppState;
use crate::auth::Caller;
use crate::body::{PatchFormat, body_bytes, check_depth, json_object, patch_format, typed};
use crate::error::ApiError;
use crate::idempotency::JsonPost;
use crate::listing::{self, ListQuery};
use crate::paging::{Fields, Params, select};
pub use crate::preconditions::if_match;
use crate::preconditions::{IfMatch, expected_version};
use crate::response::{json, location};
use crate::routes::ItemRequest;
use crate::schema::request_schemas;
use crate::version::{ApiVersion, V4};
use q2c_service::ServiceError;
use q2c_service::contention;
use q2c_service::context::RequestContext;

/// The `ETag` of a quote version: `"<version>"`.
pub fn etag(version: u64) -> HeaderValue {
    // Digits in quotes are always a valid header value.
    HeaderValue::try_from(format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// A quote response in version `V`: body (optionally selected) and `ETag`.
fn quote_response<V: ApiVersion>(
    stored: &StoredQuote,
    fields: Option<&Fields>,
) -> Result<Response, ApiError> {
    let value = V::quote_body(&stored.quote)?;
    let mut response = json(&select(fields, value));
    response
        .headers_mut()
        .insert(header::ETAG, etag(stored.version));
    Ok(response)
}

/// Parses a v4 `Quote_Create` body (see [`parse_create_in`]).
///
/// # Errors
/// `MALFORMED_JSON`, `FORBIDDEN_FIELD` or `INVALID_INPUT`.
pub fn parse_create(bytes: &[u8]) -> Result<Quote, ApiError> {
    parse_create_in::<V4>(bytes)
}

/// Parses a create body of version `V`: JSON object within the request limits
/// (`q2c_model::limits`: depth before parsing, then items, nesting, arrays, strings), no
/// server-owned field (even `null`), the version's requirements (v5: `@type`,
/// `instantSyncQuote`), `quoteItem` present and not empty, then typed with the path of any
/// error.
///
/// # Errors
/// `LIMIT_EXCEEDED`, `MALFORMED_JSON`, `FORBIDDEN_FIELD` or `INVALID_INPUT`.
pub fn parse_create_in<V: ApiVersion>(bytes: &[u8]) -> Result<Quote, ApiError> {
    let object = V::create_fields(within_limits(json_object(bytes)?)?)?;
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
    request_schemas().quote.check_create(&body)?;
    typed(body)
}

/// `POST /quote` → 201 (200 with `instantSyncQuote: true`) with `Location` and `ETag`;
/// honours `Idempotency-Key`.
pub async fn create<V: ApiVersion>(post: JsonPost) -> Result<Response, ApiError> {
    post.run(Scope::QuoteWrite, create_quote::<V>).await
}

async fn create_quote<V: ApiVersion>(
    state: &AppState,
    caller: &Caller,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let input = parse_create_in::<V>(bytes)?;
    // TMF648 `Quote_Create.instantSyncQuote`: true asks for the quoting result at once, and 200
    // says the operation succeeded; otherwise 201. q2c prices every quote synchronously, so
    // the body is the same either way.
    let status = if input.instant_sync_quote == Some(true) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    state.quotas.admit_open_quote(&caller.0.tenant).await?;
    let stored = state.quotes.create(&caller.0, input).await?;
    let location = location(state, &format!("{}/quote/{}", V::BASE, stored.id()))?;
    let mut response = quote_response::<V>(&stored, None)?;
    *response.status_mut() = status;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// `GET /quote`: paging (offset or cursor), `fields=`, the TMF630 filters of the version
/// ([`crate::listing`]).
pub async fn list<V: ApiVersion>(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::QuoteRead)?;
    let mut query = ListQuery::parse(&uri, &state.config, V::FILTERS)?;
    let index = V::index_filter(&mut query.filter);
    let page = query.page;
    let quotes = &state.ports.quotes;
    listing::respond(
        &uri,
        query,
        async { Ok(state.quotes.list(ctx, &index, page).await?) },
        |scan| quotes.scan(&ctx.tenant, &index, scan),
        |q: &StoredQuote| V::quote_body(&q.quote),
    )
    .await
}

/// `GET /quote/{id}` with `fields=`.
#[tracing::instrument(name = "quote.get", skip_all, fields(quote_id = %request.id))]
pub async fn get<V: ApiVersion>(request: ItemRequest) -> Result<Response, ApiError> {
    let (ctx, fields) = request.read(Scope::QuoteRead)?;
    let stored = request.state.quotes.get(ctx, &request.id).await?;
    quote_response::<V>(&stored, fields.as_ref())
}

/// `PATCH /quote/{id}`: JSON merge patch (v5 also JSON Patch), optional `If-Match`.
#[tracing::instrument(name = "quote.patch", skip_all, fields(quote_id = %id, version = V::NAME))]
pub async fn patch<V: ApiVersion>(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Scope::QuoteWrite)?;
    Params::from_uri(&uri)?.finish()?;
    let format = patch_format(&headers, V::PATCH_ACCEPTS)?;
    let condition = if_match(&headers)?;
    let bytes = body_bytes(body, state.config.body_limit, &headers)?;
    let stored = match format {
        PatchFormat::Merge => {
            let patch = V::patch_fields(Value::Object(within_limits(json_object(&bytes)?)?))?;
            request_schemas().quote.check_patch(&patch)?;
            let version = expected_version(&state, ctx, &id, &condition).await?;
            state.quotes.patch(ctx, &id, &patch, version).await?
        }
        PatchFormat::JsonPatch => {
            json_patch_quote::<V>(&state, ctx, &id, &bytes, &condition).await?
        }
    };
    quote_response::<V>(&stored, None)
}

/// Applies a JSON Patch (RFC 6902) atomically: to the quote's representation in version `V`,
/// all operations or none (a failing `test` changes nothing); the difference is then mapped
/// back as a merge patch of the model and written only if the quote is still the version read.
async fn json_patch_quote<V: ApiVersion>(
    state: &AppState,
    ctx: &RequestContext,
    id: &str,
    bytes: &[u8],
    condition: &IfMatch,
) -> Result<StoredQuote, ApiError> {
    check_depth(bytes)?;
    let operations: Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    if let Some(ops) = operations.as_array() {
        MAX_PATCH_OPERATIONS
            .check(ops.len(), || "$".to_owned())
            .map_err(ServiceError::Limit)?;
    }
    V::check_json_patch(&operations)?;
    let operations: json_patch::Patch = serde_json::from_value(operations)
        .map_err(|e| ApiError::InvalidPatch(format!("not an array of RFC 6902 operations: {e}")))?;
    let if_match = expected_version(state, ctx, id, condition).await?;
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let stored = state.quotes.get(ctx, id).await?;
        let before = V::quote_body(&stored.quote)?;
        let after = apply_within_limits(&before, &operations)?;
        let Some(difference) = merge_difference(&before, &after) else {
            return match if_match {
                Some(v) if v != stored.version => Err(ServiceError::VersionMismatch {
                    expected: v,
                    current: stored.version,
                }
                .into()),
                _ => Ok(stored),
            };
        };
        // What the operations change is held to the limits of a request, as a merge patch is.
        let patch = within_limits_value(difference)
            .and_then(V::patch_fields)
            .and_then(|patch| request_schemas().quote.check_patch(&patch).map(|()| patch))
            .map_err(unprocessable)?;
        // Written only on the version read (the patch was applied to it); without
        // If-Match a lost race is read, patched and written again, with jitter.
        let expected = Some(if_match.unwrap_or(stored.version));
        match state.quotes.patch(ctx, id, &patch, expected).await {
            Err(ServiceError::VersionMismatch { .. }) if if_match.is_none() => {
                if attempt >= contention::UNCONDITIONAL_ATTEMPTS {
                    return Err(ServiceError::Contended {
                        resource: "Quote",
                        id: id.to_owned(),
                        attempts: attempt,
                    }
                    .into());
                }
                tokio::time::sleep(contention::pause(attempt)).await;
            }
            other => return other.map_err(|e| unprocessable(e.into())),
        }
    }
}

/// A request body (create or merge patch) within the request limits of
/// `q2c_model::limits::check_quote_json`.
fn within_limits(object: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    match within_limits_value(Value::Object(object))? {
        Value::Object(object) => Ok(object),
        _ => Err(ApiError::Internal),
    }
}

fn within_limits_value(value: Value) -> Result<Value, ApiError> {
    limits::check_quote_json(&value).map_err(ServiceError::Limit)?;
    Ok(value)
}

/// Applies JSON Patch operations one at a time to a copy of `before` (all or none: the copy is
/// dropped on any failure), measuring the document after each: an operation that would make
/// it larger than `maxQuoteBytes` or deeper than `maxJsonDepth` stops the patch there, naming
/// the operation (`$[17]`). A `copy` can at most double the document, so no more than twice
/// the limit is ever built (18 copies of a quote into itself would otherwise make 30 MB).
pub(crate) fn apply_within_limits(
    before: &Value,
    operations: &json_patch::Patch,
) -> Result<Value, ApiError> {
    let mut after = before.clone();
    for (index, operation) in operations.0.iter().enumerate() {
        json_patch::patch(&mut after, std::slice::from_ref(operation)).map_err(|e| {
            match e.kind {
                json_patch::PatchErrorKind::TestFailed => {
                    ApiError::PatchTestFailed(format!("operation {index}: {e}"))
                }
                _ => ApiError::PatchConflict(format!("operation {index}: {e}")),
            }
        })?;
        match limits::measure(&after, MAX_QUOTE_BYTES, MAX_JSON_DEPTH) {
            Ok(_) => {}
            Err(limits::MeasureError::Limit(e)) => {
                return Err(ServiceError::Limit(LimitError {
                    path: format!("$[{index}]"),
                    ..e
                })
                .into());
            }
            Err(limits::MeasureError::Json(_)) => return Err(ApiError::Internal),
        }
    }
    Ok(after)
}

/// A patched quote that is not a valid quote is a 422 (RFC 5789 §2.2); other errors stay.
fn unprocessable(error: ApiError) -> ApiError {
    match error {
        ApiError::InvalidBody(_)
        | ApiError::ForbiddenField(_)
        | ApiError::Service(
            ServiceError::InvalidInput { .. } | ServiceError::ForbiddenField { .. },
        ) => ApiError::PatchResultInvalid(error.to_string()),
        other => other,
    }
}

/// The JSON merge patch (RFC 7396) that turns `before` into `after`; `None` when equal.
/// Arrays and scalars are replaced whole; removed members become `null`.
pub fn merge_difference(before: &Value, after: &Value) -> Option<Value> {
    if before == after {
        return None;
    }
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let mut patch = serde_json::Map::new();
            for key in old.keys().filter(|k| !new.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            for (key, value) in new {
                let change = match old.get(key) {
                    Some(previous) if value.is_object() && previous.is_object() => {
                        merge_difference(previous, value)
                    }
                    Some(previous) if previous == value => None,
                    _ => Some(value.clone()),
                };
                if let Some(change) = change {
                    patch.insert(key.clone(), change);
                }
            }
            Some(Value::Object(patch))
        }
        _ => Some(after.clone()),
    }
}

/// `DELETE /quote/{id}` → 204; optional `If-Match`.
#[tracing::instrument(name = "quote.delete", skip_all, fields(quote_id = %request.id))]
pub async fn delete<V: ApiVersion>(
    request: ItemRequest,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = request.change(Scope::QuoteWrite)?;
    let condition = if_match(&headers)?;
    let (state, id) = (&request.state, &request.id);
    let version = expected_version(state, ctx, id, &condition).await?;
    state.quotes.delete(ctx, id, version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
