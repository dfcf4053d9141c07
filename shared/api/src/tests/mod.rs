//! Router tests through `oneshot`, over small in-memory fakes of the ports. The quote
//! use-cases are not called on success paths here (their bodies belong to the service crate),
//! except in `extensibility_tests`, which brings its own in-memory quote store to show the
//! pass-through of unknown fields over HTTP.

mod auth_tests;
mod catalog_listener_tests;
mod errors_tests;
mod extensibility_tests;
mod fakes;
mod hub_tests;
mod limits_tests;
mod quotes_tests;
mod surface_tests;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use q2c_service::delivery::CallbackPolicy;
use q2c_service::{QuoteService, QuoteServiceConfig, Scope};
use serde_json::Value;
use tower::ServiceExt;

use crate::{ApiConfig, AppState, Authenticator, JwtKey, JwtVerifier, issue_dev_token, router};

pub(crate) const SECRET: &[u8] = b"test-secret-test-secret-test-secret";
pub(crate) const ISSUER: &str = "q2c-test";
pub(crate) const AUDIENCE: &str = "q2c-api";

/// A router over fresh fakes, verifying HS256 tokens signed with [`SECRET`].
pub(crate) fn app() -> (Router, fakes::Fakes) {
    let verifier = JwtVerifier::new(JwtKey::Hs256Secret(SECRET.to_vec()), ISSUER, AUDIENCE)
        .expect("an HS256 verifier");
    app_with(
        Authenticator::jwt(verifier),
        ApiConfig::new("https://api.test", "https://docs.test"),
    )
}

pub(crate) fn app_with(auth: Authenticator, config: ApiConfig) -> (Router, fakes::Fakes) {
    let (state, fakes) = state_with(auth, config);
    (router(state), fakes)
}

/// The callback URL prefix the test apps allow.
pub(crate) const LISTENERS: &str = "https://listener.example";
/// A queue the test apps allow.
pub(crate) const ALLOWED_QUEUE: &str = "arn:aws:sqs:eu-west-1:123456789012:crm-events";

/// The state of [`app`], for tests that add routes.
pub(crate) fn state() -> AppState {
    let verifier = JwtVerifier::new(JwtKey::Hs256Secret(SECRET.to_vec()), ISSUER, AUDIENCE)
        .expect("an HS256 verifier");
    state_with(
        Authenticator::jwt(verifier),
        ApiConfig::new("", "https://docs.test"),
    )
    .0
}

fn state_with(auth: Authenticator, config: ApiConfig) -> (AppState, fakes::Fakes) {
    let fakes = fakes::Fakes::default();
    let ports = fakes.ports();
    let quotes = QuoteService::new(
        ports.clone(),
        QuoteServiceConfig {
            quote_href_base: "/tmf-api/quoteManagement/v4/quote".to_owned(),
        },
    );
    let policy = CallbackPolicy::from_allowlist(&format!("{LISTENERS},{ALLOWED_QUEUE}"))
        .expect("test allow-list");
    (
        AppState::new(quotes, ports, auth, config).with_callback_policy(policy),
        fakes,
    )
}

/// A valid token of `tenant` with `scopes`.
pub(crate) fn token(tenant: &str, scopes: &[Scope]) -> String {
    issue_dev_token(
        SECRET,
        tenant,
        scopes,
        Duration::from_secs(600),
        ISSUER,
        AUDIENCE,
    )
}

/// A request builder with a bearer token of tenant `t1` holding every scope.
pub(crate) fn req(method: &str, uri: &str) -> axum::http::request::Builder {
    req_as("t1", &Scope::ALL, method, uri)
}

/// A request builder with a bearer token of `tenant` holding `scopes`.
pub(crate) fn req_as(
    tenant: &str,
    scopes: &[Scope],
    method: &str,
    uri: &str,
) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri).header(
        header::AUTHORIZATION,
        format!("Bearer {}", token(tenant, scopes)),
    )
}

/// A request without a body of tenant `t1` with every scope.
pub(crate) fn empty_req(method: &str, uri: &str) -> Request<Body> {
    req(method, uri).body(Body::empty()).expect("a request")
}

/// A JSON request of tenant `t1` with every scope.
pub(crate) fn json_req(method: &str, uri: &str, body: &str) -> Request<Body> {
    typed_req(method, uri, "application/json", body)
}

/// A request of tenant `t1` with every scope and a body of this content type.
pub(crate) fn typed_req(method: &str, uri: &str, content_type: &str, body: &str) -> Request<Body> {
    req(method, uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_owned()))
        .expect("a request")
}

/// A response, read whole.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The TMF630 `code`.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The TMF630 `message`.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// Asserts that the TMF630 `message` starts with `prefix`.
    pub fn assert_message_starts_with(&self, prefix: &str) {
        assert!(
            self.message().starts_with(prefix),
            "expected a message starting with {prefix:?}: {:?}",
            self.body
        );
    }
}

/// Sends a `GET` of tenant `t1` with every scope through the router.
pub(crate) async fn send_get(app: &Router, uri: &str) -> Reply {
    send(app, empty_req("GET", uri)).await
}

/// Sends a JSON `POST` of tenant `t1` with every scope through the router.
pub(crate) async fn send_post(app: &Router, uri: &str, body: &str) -> Reply {
    send(app, json_req("POST", uri, body)).await
}

/// Sends one request through the router.
pub(crate) async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("infallible router");
    reply(response).await
}

/// A response, read whole: its body as JSON, as a string when it is not JSON, `null` when
/// empty.
pub(crate) async fn reply(response: axum::response::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Asserts a TMF630 error of `status` and `code` with our content type.
pub(crate) fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{:?}", reply.body);
    assert_eq!(reply.code(), code, "{:?}", reply.body);
    assert_eq!(reply.body["status"], status.to_string());
    assert!(reply.body["reason"].is_string());
    assert_eq!(
        reply.body["referenceError"],
        format!(
            "https://docs.test/docs/errors.md#{}",
            code.to_ascii_lowercase()
        )
    );
    assert_eq!(reply.headers[header::CONTENT_TYPE], crate::error::JSON_UTF8);
}
