//! `ApiError`: every way a request can fail, mapped in one place to a status, a stable
//! code and a TMF630 body. The docs base of `referenceError` is filled in by [`render_errors`].

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use q2c_model::limits::{LimitClass, LimitError};
use q2c_model::tmf::ErrorBody;
use q2c_service::ServiceError;

use crate::AppState;

/// `Content-Type` of every JSON response.
pub const JSON_UTF8: &str = "application/json;charset=utf-8";

/// A failed request: a service error or one found at the edge.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A use-case failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The body is not JSON.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON of the wrong shape (`path: problem`).
    #[error("{0}")]
    InvalidBody(String),
    /// A server-owned field was sent.
    #[error("field `{0}` is set by the server and may not be sent")]
    ForbiddenField(String),
    /// A query parameter is unknown or invalid.
    #[error("{0}")]
    InvalidQuery(String),
    /// A header (`If-Match`, `Idempotency-Key`) is invalid.
    #[error("{0}")]
    InvalidHeader(String),
    /// No or an invalid token.
    #[error("{0}")]
    Unauthorized(String),
    /// The token lacks a scope.
    #[error("missing scope {0}")]
    MissingScope(&'static str),
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// No such route.
    #[error("no route for {0}")]
    RouteNotFound(String),
    /// The route exists, the method does not.
    #[error("method {0} is not allowed on this path; its Allow header lists the methods it has")]
    MethodNotAllowed(String),
    /// Another request with this idempotency key is in progress.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInProgress,
    /// The idempotency key was used with another request.
    #[error("Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The body exceeds the limit.
    #[error("request body exceeds {0} bytes")]
    PayloadTooLarge(usize),
    /// The content type is not accepted.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A JSON Patch (RFC 6902) that is not a valid patch of this resource (not an array of
    /// operations, an unknown op, a pointer that addresses nothing).
    #[error("invalid JSON patch: {0}")]
    InvalidPatch(String),
    /// A JSON Patch `test` operation failed: nothing was changed.
    #[error("JSON patch test failed: {0}")]
    PatchTestFailed(String),
    /// A JSON Patch operation addresses what the quote does not have (RFC 5789 §2.2
    /// "conflicting state"): nothing was changed.
    #[error("JSON patch does not apply to the quote: {0}")]
    PatchConflict(String),
    /// The JSON Patch applied, but the quote it yields is not valid (RFC 5789 §2.2
    /// "unprocessable request"): nothing was changed.
    #[error("the patched quote is not valid: {0}")]
    PatchResultInvalid(String),
    /// `If-Match` names no tag that matches the current `ETag` strongly (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// The tenant's request rate is over its quota (429, with `Retry-After`).
    #[error("{message}")]
    RateLimited {
        /// Explanation naming the quota.
        message: String,
        /// When a request would be admitted again.
        retry_after: std::time::Duration,
    },
    /// A count quota of the tenant is reached (422).
    #[error("{message}")]
    QuotaExceeded {
        /// Stable code, e.g. `SUBSCRIPTION_QUOTA_EXCEEDED`.
        code: &'static str,
        /// Explanation naming the quota.
        message: String,
    },
    /// The request body did not arrive in time (408; `q2c local`'s body timeout).
    #[error("the request body did not arrive within the time allowed")]
    RequestTimeout,
    /// A panic or another bug.
    #[error(
        "internal error: a bug on the server's side; its details are logged under this \
         response's X-Correlation-Id"
    )]
    Internal,
}

/// A store failure: the service's `Unavailable` (503).
impl From<q2c_service::ports::StoreError> for ApiError {
    fn from(e: q2c_service::ports::StoreError) -> Self {
        ApiError::Service(e.into())
    }
}

impl From<q2c_wire::WireError> for ApiError {
    fn from(e: q2c_wire::WireError) -> Self {
        match e {
            q2c_wire::WireError::ForbiddenField(field) => ApiError::ForbiddenField(field),
            invalid @ q2c_wire::WireError::Invalid { .. } => {
                ApiError::InvalidBody(invalid.to_string())
            }
        }
    }
}

/// The parts of an error body the edge decides; carried in the response extensions so
/// that [`render_errors`] can add the configured `referenceError` base.
#[derive(Debug, Clone)]
pub struct ErrorParts {
    /// Stable code, e.g. `FORBIDDEN_FIELD`.
    pub code: String,
    /// Short class of the error.
    pub reason: &'static str,
    /// Detail of this occurrence.
    pub message: String,
    /// The limit exceeded, when that is the error: rendered as the body's `limit` member
    /// (`name`, `value`, `unit`, `received`, `path`), beside the message saying the same.
    pub limit: Option<LimitError>,
}

impl ApiError {
    /// HTTP status, stable code and reason.
    pub fn classify(&self) -> (StatusCode, &str, &'static str) {
        use ServiceError as S;
        use StatusCode as C;
        match self {
            ApiError::Service(e) => match e {
                S::InvalidInput { .. } => (C::BAD_REQUEST, "INVALID_INPUT", "Invalid input"),
                S::InvalidConfiguration { code, .. } => {
                    (C::BAD_REQUEST, code, "Invalid product configuration")
                }
                S::ForbiddenField { .. } => (C::BAD_REQUEST, "FORBIDDEN_FIELD", "Forbidden field"),
                S::MissingScope { .. } => (C::FORBIDDEN, "MISSING_SCOPE", "Forbidden"),
                S::NotFound { .. } => (C::NOT_FOUND, "NOT_FOUND", "Not found"),
                S::IllegalTransition { .. } => (
                    C::CONFLICT,
                    "ILLEGAL_TRANSITION",
                    "Illegal state transition",
                ),
                S::QuoteExpired { .. } => (C::CONFLICT, "QUOTE_EXPIRED", "Quote expired"),
                S::NotUpdatable { .. } => (C::CONFLICT, "NOT_UPDATABLE", "Quote not updatable"),
                S::Conflict { .. } => (C::CONFLICT, "CONFLICT", "Conflict"),
                S::VersionMismatch { .. } => (
                    C::PRECONDITION_FAILED,
                    "VERSION_MISMATCH",
                    "Precondition failed",
                ),
                S::Contended { .. } => (
                    C::SERVICE_UNAVAILABLE,
                    "WRITE_CONTENTION",
                    "Concurrent writes",
                ),
                S::BusinessRule { code, .. } => {
                    (C::UNPROCESSABLE_ENTITY, code, "Business rule violated")
                }
                S::Limit(limit) => match limit.limit.class {
                    LimitClass::Payload => (
                        C::PAYLOAD_TOO_LARGE,
                        "PAYLOAD_TOO_LARGE",
                        "Payload too large",
                    ),
                    LimitClass::Request => (C::BAD_REQUEST, "LIMIT_EXCEEDED", "Limit exceeded"),
                    LimitClass::Stored => (
                        C::UNPROCESSABLE_ENTITY,
                        "QUOTE_TOO_LARGE",
                        "Quote too large",
                    ),
                },
                S::Unavailable(_) => (C::SERVICE_UNAVAILABLE, "UNAVAILABLE", "Unavailable"),
            },
            ApiError::MalformedJson(_) => (C::BAD_REQUEST, "MALFORMED_JSON", "Malformed JSON"),
            ApiError::InvalidBody(_) => (C::BAD_REQUEST, "INVALID_INPUT", "Invalid input"),
            ApiError::ForbiddenField(_) => (C::BAD_REQUEST, "FORBIDDEN_FIELD", "Forbidden field"),
            ApiError::InvalidQuery(_) => (C::BAD_REQUEST, "INVALID_QUERY", "Invalid query"),
            ApiError::InvalidHeader(_) => (C::BAD_REQUEST, "INVALID_HEADER", "Invalid header"),
            ApiError::Unauthorized(_) => (C::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized"),
            ApiError::MissingScope(_) => (C::FORBIDDEN, "MISSING_SCOPE", "Forbidden"),
            ApiError::NotFound(_) => (C::NOT_FOUND, "NOT_FOUND", "Not found"),
            ApiError::RouteNotFound(_) => (C::NOT_FOUND, "ROUTE_NOT_FOUND", "Not found"),
            ApiError::MethodNotAllowed(_) => (
                C::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "Method not allowed",
            ),
            ApiError::IdempotencyInProgress => (
                C::CONFLICT,
                "IDEMPOTENCY_IN_PROGRESS",
                "Request in progress",
            ),
            ApiError::IdempotencyKeyReused => (
                C::UNPROCESSABLE_ENTITY,
                "IDEMPOTENCY_KEY_REUSED",
                "Idempotency key reused",
            ),
            ApiError::PayloadTooLarge(_) => (
                C::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "Payload too large",
            ),
            ApiError::UnsupportedMediaType(_) => (
                C::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Unsupported media type",
            ),
            ApiError::InvalidPatch(_) => (C::BAD_REQUEST, "INVALID_PATCH", "Invalid patch"),
            ApiError::PatchTestFailed(_) => (C::CONFLICT, "PATCH_TEST_FAILED", "Patch test failed"),
            ApiError::PatchConflict(_) => (C::CONFLICT, "PATCH_CONFLICT", "Patch conflict"),
            ApiError::PatchResultInvalid(_) => (
                C::UNPROCESSABLE_ENTITY,
                "PATCH_RESULT_INVALID",
                "Patched quote invalid",
            ),
            ApiError::PreconditionFailed(_) => (
                C::PRECONDITION_FAILED,
                "VERSION_MISMATCH",
                "Precondition failed",
            ),
            ApiError::RateLimited { .. } => {
                (C::TOO_MANY_REQUESTS, "RATE_LIMITED", "Too many requests")
            }
            ApiError::QuotaExceeded { code, .. } => {
                (C::UNPROCESSABLE_ENTITY, code, "Quota exceeded")
            }
            ApiError::RequestTimeout => (C::REQUEST_TIMEOUT, "REQUEST_TIMEOUT", "Request timeout"),
            ApiError::Internal => (C::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Internal error"),
        }
    }

    /// The message shown to the client: store details stay in the logs.
    fn client_message(&self) -> String {
        match self {
            ApiError::Service(ServiceError::Unavailable(_)) => {
                "the service is temporarily unavailable; retry later".to_owned()
            }
            ApiError::Service(ServiceError::InvalidInput {
                path: Some(path),
                message,
            }) => format!("{path}: {message}"),
            ApiError::Service(ServiceError::InvalidConfiguration { message, path, .. }) => {
                format!("{path}: {message}")
            }
            ApiError::Service(ServiceError::BusinessRule {
                message,
                path: Some(path),
                ..
            }) => format!("{path}: {message}"),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, reason) = self.classify();
        if status.is_server_error() {
            tracing::error!(error.message = %self, error.cause_chain = ?self, code, "request failed");
        } else {
            tracing::debug!(error.message = %self, code, "request rejected");
        }
        let parts = ErrorParts {
            code: code.to_owned(),
            reason,
            message: self.client_message(),
            limit: match &self {
                ApiError::Service(ServiceError::Limit(limit)) => Some(limit.clone()),
                _ => None,
            },
        };
        let retry_after = match &self {
            ApiError::RateLimited { retry_after, .. } => Some(retry_after.as_secs_f64().ceil()),
            // Contention passes quickly: a second is plenty.
            ApiError::Service(ServiceError::Contended { .. }) => Some(1.0),
            _ => None,
        };
        let mut response = error_response(status, parts);
        if let Some(seconds) = retry_after {
            // Whole seconds (RFC 9110 §10.2.3), at least 1.
            let seconds = (seconds as u64).max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A response for `parts` with a `referenceError` on the default docs base;
/// [`render_errors`] rewrites it with the configured one.
pub fn error_response(status: StatusCode, parts: ErrorParts) -> Response {
    let body = error_body(status, &parts, crate::DEFAULT_DOCS_BASE_URL, false);
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response.extensions_mut().insert(parts);
    response
}

/// The TMF630 body; `typed` adds `"@type": "Error"`, which TMF648 v5's `Error` requires
/// (it builds on `Extensible`). v4 bodies stay as they were (the v4 `Error` has no `@type`
/// requirement, and recorded v4 clients see the same bytes).
pub(crate) fn error_body(
    status: StatusCode,
    parts: &ErrorParts,
    docs_base: &str,
    typed: bool,
) -> String {
    let body = ErrorBody {
        code: parts.code.clone(),
        reason: parts.reason.to_owned(),
        message: Some(parts.message.clone()),
        status: Some(status.as_u16().to_string()),
        reference_error: Some(format!(
            "{docs_base}/docs/errors.md#{}",
            parts.code.to_ascii_lowercase()
        )),
        extensions: parts
            .limit
            .as_ref()
            .map(|limit| {
                serde_json::Map::from_iter([(
                    "limit".to_owned(),
                    serde_json::json!({
                        "name": limit.limit.name,
                        "value": limit.limit.value,
                        "unit": limit.limit.unit,
                        "received": limit.received,
                        "path": limit.path,
                    }),
                )])
            })
            .unwrap_or_default(),
        type_info: q2c_model::tmf::TypeInfo {
            type_name: typed.then(|| "Error".to_owned()),
            ..Default::default()
        },
    };
    serde_json::to_string(&body).unwrap_or_default()
}

/// Middleware: renders every error body with the configured docs base, and turns any
/// error response that is not ours (axum's 404/405, a rejection in plain text) into a
/// TMF630 body, keeping its headers (e.g. `Allow`).
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let typed = is_v5_path(request.uri().path());
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return response;
    }
    let (mut head, body) = response.into_parts();
    let parts = match head.extensions.remove::<ErrorParts>() {
        Some(parts) => parts,
        // Already a JSON body (e.g. an idempotent replay of an error): keep it.
        None if is_json(&head.headers) => {
            return Response::from_parts(head, body);
        }
        None => fallback_parts(status, &method),
    };
    let body = error_body(status, &parts, &state.config.docs_base_url, typed);
    head.headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    head.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(head, axum::body::Body::from(body))
}

/// Whether `path` belongs to an API served as v5 (its error bodies carry `@type`).
pub(crate) fn is_v5_path(path: &str) -> bool {
    path == crate::QUOTE_API_V5_BASE
        || path
            .strip_prefix(crate::QUOTE_API_V5_BASE)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"))
}

fn fallback_parts(status: StatusCode, method: &axum::http::Method) -> ErrorParts {
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::RouteNotFound("this path".to_owned()),
        // `Allow` is added outside this middleware (by the method router), so the message
        // points at it rather than repeating it.
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(method.to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(0),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("unsupported content type".to_owned())
        }
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized("authentication required".to_owned()),
        s if s.is_client_error() => ApiError::InvalidQuery("invalid request".to_owned()),
        _ => ApiError::Internal,
    };
    let (_, code, reason) = error.classify();
    ErrorParts {
        code: code.to_owned(),
        reason,
        message: match error {
            ApiError::PayloadTooLarge(_) => "request body too large".to_owned(),
            other => other.to_string(),
        },
        limit: None,
    }
}
