//! `X-Correlation-Id`: honoured when sane, generated otherwise, echoed on every response,
//! carried into the `RequestContext` and the per-request trace span.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Response};
use axum::middleware::Next;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The header name.
pub const X_CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// The correlation id of the request, as a request extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationId(pub String);

/// Keeps a client's id when it is 1-128 visible ASCII characters; otherwise a new uuid v4.
pub fn accept_or_generate(raw: Option<&HeaderValue>) -> String {
    raw.and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Middleware: sets the [`CorrelationId`] extension and echoes the header on the response.
pub async fn correlate(mut request: Request, next: Next) -> axum::response::Response {
    let id = accept_or_generate(request.headers().get(&X_CORRELATION_ID));
    request.extensions_mut().insert(CorrelationId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_CORRELATION_ID, value);
    }
    response
}

/// The trace layer of [`trace_layer`].
pub type RequestTrace = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    fn(&Request) -> Span,
    tower_http::trace::DefaultOnRequest,
    fn(&Response<axum::body::Body>, Duration, &Span),
>;

/// The per-request span: method, route, correlation id; status and latency on response.
pub fn trace_layer() -> RequestTrace {
    TraceLayer::new_for_http()
        .make_span_with(make_span as fn(&Request) -> Span)
        .on_response(on_response as fn(&Response<axum::body::Body>, Duration, &Span))
}

fn make_span(request: &Request) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", MatchedPath::as_str);
    let correlation_id = request
        .extensions()
        .get::<CorrelationId>()
        .map_or("", |c| c.0.as_str());
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        correlation_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

fn on_response(response: &Response<axum::body::Body>, latency: Duration, span: &Span) {
    span.record("status", response.status().as_u16());
    span.record("latency_ms", latency.as_millis() as u64);
    tracing::info!(parent: span, status = response.status().as_u16(), "response");
}
