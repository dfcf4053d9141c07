//! `Idempotency-Key` on POSTs: claim the key with a hash of the request, run it once, keep
//! the response for replay; release the claim when the request failed with a 5xx.

use std::convert::Infallible;
use std::future::Future;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use q2c_service::ports::{IdempotencyClaim, StoredResponse};
use q2c_service::{RequestContext, Scope};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Caller;
use crate::body::{Accepts, body_bytes, check_content_type};
use crate::error::{ApiError, ErrorParts, error_body};
use crate::paging::Params;

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on replayed responses.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

const REPLAYED_HEADERS: [HeaderName; 3] = [header::LOCATION, header::ETAG, header::CONTENT_TYPE];

/// The request of a create `POST` as the edge receives it.
pub struct PostRequest {
    /// Method (part of the request hash).
    pub method: Method,
    /// URI: its path is part of the hash; it may have no query parameters.
    pub uri: Uri,
    /// Headers (`Content-Type`, `Idempotency-Key`).
    pub headers: HeaderMap,
    /// The body, or why axum could not read it.
    pub body: Result<Bytes, BytesRejection>,
}

/// Extracts the parts a create `POST` needs, never refusing: a body axum could not read is
/// kept as its rejection, for [`JsonPost::run`] to answer after the scope check.
impl<S: Send + Sync> FromRequest<S> for PostRequest {
    type Rejection = Infallible;

    async fn from_request(request: Request, state: &S) -> Result<Self, Infallible> {
        let method = request.method().clone();
        let uri = request.uri().clone();
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state).await;
        Ok(PostRequest {
            method,
            uri,
            headers,
            body,
        })
    }
}

/// A create `POST` as its handler receives it: the state, the authenticated caller and the
/// request. [`JsonPost::run`] is the shared front of every create.
pub struct JsonPost {
    state: AppState,
    caller: Caller,
    request: PostRequest,
}

/// Authenticates the caller (refusing as [`Caller`] does), then takes the request as
/// [`PostRequest`] does.
impl FromRequest<AppState> for JsonPost {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = request.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state).await?;
        let Ok(request) = PostRequest::from_request(Request::from_parts(parts, body), state).await;
        Ok(JsonPost {
            state: state.clone(),
            caller,
            request,
        })
    }
}

impl JsonPost {
    /// The shared front of every create `POST`: the caller needs `scope`, the URI has no
    /// query parameters, the body is JSON within the limit; then `create` runs on the body at
    /// most once per `Idempotency-Key` (see [`once`]).
    ///
    /// # Errors
    /// As the checks above and [`once`].
    pub async fn run<F>(self, scope: Scope, create: F) -> Result<Response, ApiError>
    where
        F: AsyncFnOnce(&AppState, &Caller, &[u8]) -> Result<Response, ApiError>,
    {
        let JsonPost {
            state,
            caller,
            request,
        } = self;
        let ctx = caller.require(scope)?;
        Params::from_uri(&request.uri)?.finish()?;
        check_content_type(&request.headers, Accepts::Json)?;
        let bytes = body_bytes(request.body, state.config.body_limit, &request.headers)?;
        let hashed = (&request.method, request.uri.path(), &bytes[..]);
        once(&state, ctx, &request.headers, hashed, || async {
            create(&state, &caller, &bytes)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        })
        .await
    }
}

/// The key of the request, if any.
///
/// # Errors
/// `ApiError::InvalidHeader` for an empty, too long or non-visible-ASCII key.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get(&IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let valid = raw.to_str().ok().filter(|k| {
        !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
    });
    match valid {
        Some(k) => Ok(Some(k.to_owned())),
        None => Err(ApiError::InvalidHeader(format!(
            "Idempotency-Key must be 1-{MAX_KEY_LEN} visible ASCII characters"
        ))),
    }
}

/// sha256 over method, path and body, hex.
pub fn request_hash(method: &Method, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Runs `handler` at most once per key: without a key it simply runs.
///
/// # Errors
/// Invalid key (400), key in progress (409), key reused with another request (422), store
/// failure on claim (503).
pub async fn once<F, Fut>(
    state: &AppState,
    ctx: &RequestContext,
    headers: &HeaderMap,
    (method, path, body): (&Method, &str, &[u8]),
    handler: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(key) = key(headers)? else {
        return Ok(handler().await);
    };
    let store = &state.ports.idempotency;
    let now = state.ports.clock.now();
    let hash = request_hash(method, path, body);
    let lease = now + state.config.idempotency_lease;
    match store.claim(&ctx.tenant, &key, &hash, now, lease).await {
        Err(e) => Err(e.into()),
        Ok(IdempotencyClaim::InProgress) => Err(ApiError::IdempotencyInProgress),
        Ok(IdempotencyClaim::Mismatch) => Err(ApiError::IdempotencyKeyReused),
        Ok(IdempotencyClaim::Replay(stored)) => Ok(replay(stored)),
        Ok(IdempotencyClaim::Claimed) => {
            let response = handler().await;
            let typed = crate::error::is_v5_path(path);
            Ok(finish(state, ctx, &key, response, typed).await)
        }
    }
}

async fn finish(
    state: &AppState,
    ctx: &RequestContext,
    key: &str,
    response: Response,
    typed: bool,
) -> Response {
    let store = &state.ports.idempotency;
    if response.status().is_server_error() {
        if let Err(e) = store.release(&ctx.tenant, key).await {
            tracing::warn!(error.message = %e, error.cause_chain = ?e, "idempotency release failed");
        }
        return response;
    }
    let (head, body) = response.into_parts();
    let bytes = match head.extensions.get::<ErrorParts>() {
        // Store the error as the client sees it, with the configured docs base.
        Some(parts) => error_body(head.status, parts, &state.config.docs_base_url, typed).into(),
        None => match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => return ApiError::Internal.into_response(),
        },
    };
    let stored = StoredResponse {
        status: head.status.as_u16(),
        headers: REPLAYED_HEADERS
            .iter()
            .filter_map(|name| {
                let value = head.headers.get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let expires = state.ports.clock.now() + state.config.idempotency_ttl;
    if let Err(e) = store.complete(&ctx.tenant, key, &stored, expires).await {
        tracing::warn!(error.message = %e, error.cause_chain = ?e, "idempotency completion failed");
    }
    Response::from_parts(head, Body::from(bytes))
}

/// Rebuilds a stored response, marked `Idempotent-Replayed: true`.
pub fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            headers.insert(name, value);
        }
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}
