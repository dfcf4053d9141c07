//! The quote hub, and the edge behaviour it shares with `POST /quote`: content types, body
//! limit, malformed JSON, idempotency.

use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use q2c_service::Scope;
use q2c_service::ports::HubApi;

use super::fakes::Fakes;
use super::{
    app, app_with, assert_error, empty_req, json_req, req, req_as, send, send_post, typed_req,
};
use crate::{ApiConfig, Authenticator, JwtKey, JwtVerifier};

const HUB: &str = "/tmf-api/quoteManagement/v4/hub";
const BODY: &str =
    r#"{"callback":"https://listener.example/quote","query":"eventType=QuoteStateChangeEvent"}"#;

/// Content types a JSON `POST` refuses (415).
const NOT_JSON: [&str; 3] = [
    "text/plain",
    "application/xml",
    "application/merge-patch+json",
];

fn keyed(body: &str, key: &str) -> Request<Body> {
    let mut request = json_req("POST", HUB, body);
    request
        .headers_mut()
        .insert("idempotency-key", key.parse().expect("a header"));
    request
}

#[tokio::test]
async fn a_subscription_is_created_with_an_id_and_location() {
    let (app, fakes) = app();
    let reply = send_post(&app, HUB, BODY).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let id = reply.body["id"].as_str().expect("an id");
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(reply.body["callback"], "https://listener.example/quote");
    assert_eq!(
        reply.headers[header::LOCATION],
        format!("https://api.test{HUB}/{id}")
    );
    let stored = fakes.hubs.subs.lock().expect("lock");
    assert_eq!(stored[&("t1".to_owned(), HubApi::Quote)].len(), 1);
}

#[tokio::test]
async fn hubs_are_deleted_only_by_their_tenant() {
    let (app, _) = app();
    let created = send_post(&app, HUB, BODY).await;
    let uri = format!("{HUB}/{}", created.body["id"].as_str().expect("an id"));
    let other = req_as("t2", &[Scope::HubWrite], "DELETE", &uri)
        .body(Body::empty())
        .expect("a request");
    assert_error(&send(&app, other).await, 404, "NOT_FOUND");
    let own = empty_req("DELETE", &uri);
    let reply = send(&app, own).await;
    assert_eq!(reply.status, 204);
    let again = empty_req("DELETE", &uri);
    assert_error(&send(&app, again).await, 404, "NOT_FOUND");
}

#[tokio::test]
async fn bad_subscription_bodies_are_400_naming_the_path() {
    let (app, _) = app();
    let reply = send_post(&app, HUB, r#"{"query":"x"}"#).await;
    assert_error(&reply, 400, "INVALID_INPUT");
    assert!(reply.message().contains("callback"), "{}", reply.message());
    let reply = send_post(&app, HUB, r#"{"callback":42}"#).await;
    reply.assert_message_starts_with("callback: value is not of type");
    let reply = send_post(&app, HUB, r#"{"callback": "#).await;
    assert_error(&reply, 400, "MALFORMED_JSON");
    let reply = send_post(&app, HUB, "[1]").await;
    assert_error(&reply, 400, "INVALID_INPUT");
}

#[tokio::test]
async fn non_json_content_types_are_415_and_charsets_are_fine() {
    let (app, _) = app();
    for content_type in NOT_JSON {
        let request = typed_req("POST", HUB, content_type, BODY);
        assert_error(&send(&app, request).await, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    // A body without a Content-Type is 415; no body and no Content-Type a malformed
    // request (400).
    let missing = req("POST", HUB)
        .header(header::CONTENT_LENGTH, BODY.len())
        .body(Body::from(BODY))
        .expect("a request");
    assert_error(&send(&app, missing).await, 415, "UNSUPPORTED_MEDIA_TYPE");
    let nothing = empty_req("POST", HUB);
    assert_error(&send(&app, nothing).await, 400, "MALFORMED_JSON");
    let charset = typed_req("POST", HUB, "application/json; charset=ISO-8859-1", BODY);
    assert_eq!(send(&app, charset).await.status, 201);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let verifier = JwtVerifier::new(
        JwtKey::Hs256Secret(super::SECRET.to_vec()),
        super::ISSUER,
        super::AUDIENCE,
    )
    .expect("a verifier");
    let config = ApiConfig {
        body_limit: 64,
        ..ApiConfig::new("", "https://docs.test")
    };
    let (small, _) = app_with(Authenticator::jwt(verifier), config);
    let big = format!(r#"{{"callback":"https://x/{}"}}"#, "a".repeat(100));
    assert_error(
        &send(&small, json_req("POST", HUB, &big)).await,
        413,
        "PAYLOAD_TOO_LARGE",
    );
    let (app, _) = app();
    let huge = format!(r#"{{"callback":"https://x/{}"}}"#, "a".repeat(1024 * 1024));
    assert_error(&send_post(&app, HUB, &huge).await, 413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn a_repeated_key_replays_the_first_response() {
    let (app, fakes) = app();
    let first = send(&app, keyed(BODY, "k-1")).await;
    let second = send(&app, keyed(BODY, "k-1")).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.body, first.body);
    assert_eq!(
        second.headers[header::LOCATION],
        first.headers[header::LOCATION]
    );
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert!(first.headers.get("idempotent-replayed").is_none());
    assert_eq!(
        second.headers[header::CONTENT_TYPE],
        crate::error::JSON_UTF8
    );
    let stored = fakes.hubs.subs.lock().expect("lock");
    assert_eq!(stored[&("t1".to_owned(), HubApi::Quote)].len(), 1);
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_422_and_in_flight_is_409() {
    let (app, fakes) = app();
    send(&app, keyed(BODY, "k-2")).await;
    let other = r#"{"callback":"https://elsewhere.example"}"#;
    assert_error(
        &send(&app, keyed(other, "k-2")).await,
        422,
        "IDEMPOTENCY_KEY_REUSED",
    );
    let hash = crate::idempotency::request_hash(&axum::http::Method::POST, HUB, BODY.as_bytes());
    fakes
        .idempotency
        .records
        .lock()
        .expect("lock")
        .insert(("t1".into(), "k-3".into()), (hash, None));
    assert_error(
        &send(&app, keyed(BODY, "k-3")).await,
        409,
        "IDEMPOTENCY_IN_PROGRESS",
    );
}

#[tokio::test]
async fn errors_are_replayed_but_5xx_releases_the_key() {
    let (app, fakes) = app();
    let first = send(&app, keyed(r#"{"query":"x"}"#, "k-4")).await;
    let replay = send(&app, keyed(r#"{"query":"x"}"#, "k-4")).await;
    assert_error(&replay, 400, "INVALID_INPUT");
    assert_eq!(replay.body, first.body);
    fakes.hubs.down.store(true, Ordering::SeqCst);
    assert_error(&send(&app, keyed(BODY, "k-5")).await, 503, "UNAVAILABLE");
    assert_eq!(
        *fakes.idempotency.released.lock().expect("lock"),
        vec!["k-5".to_owned()]
    );
    fakes.hubs.down.store(false, Ordering::SeqCst);
    assert_eq!(send(&app, keyed(BODY, "k-5")).await.status, 201);
}

#[tokio::test]
async fn overlong_or_empty_keys_are_400() {
    let (app, _) = app();
    assert_error(
        &send(&app, keyed(BODY, &"k".repeat(256))).await,
        400,
        "INVALID_HEADER",
    );
    assert_eq!(send(&app, keyed(BODY, &"k".repeat(255))).await.status, 201);
    assert_error(&send(&app, keyed(BODY, "")).await, 400, "INVALID_HEADER");
}

const CATALOG_HUB: &str = "/tmf-api/productCatalogManagement/v4/hub";

#[tokio::test]
async fn the_catalog_hub_registers_and_removes_price_subscriptions_of_the_tenant() {
    let (app, fakes) = app();
    let body = format!(
        r#"{{"callback":"{}","query":"eventType=ProductOfferingPriceAttributeValueChangeEvent&event.productOfferingPrice.id=pop-1"}}"#,
        super::ALLOWED_QUEUE
    );
    let reply = send_post(&app, CATALOG_HUB, &body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let id = reply.body["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        reply.headers[header::LOCATION],
        format!("https://api.test{CATALOG_HUB}/{id}")
    );
    {
        let stored = fakes.hubs.subs.lock().expect("lock");
        assert_eq!(stored[&("t1".to_owned(), HubApi::Catalog)].len(), 1);
        assert!(!stored.contains_key(&("t1".to_owned(), HubApi::Quote)));
    }
    let quote_hub = empty_req("DELETE", &format!("{HUB}/{id}"));
    assert_error(&send(&app, quote_hub).await, 404, "NOT_FOUND");
    let own = empty_req("DELETE", &format!("{CATALOG_HUB}/{id}"));
    assert_eq!(send(&app, own).await.status, 204);
}

#[tokio::test]
async fn the_catalog_hub_needs_the_hub_write_scope() {
    let (app, _) = app();
    let request = req_as("t1", &[Scope::CatalogRead], "POST", CATALOG_HUB)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(BODY))
        .expect("a request");
    assert_error(&send(&app, request).await, 403, "MISSING_SCOPE");
}

#[tokio::test]
async fn queries_outside_the_grammar_are_400_naming_the_query() {
    let (app, fakes) = app();
    for query in ["state>3", "eventType=", "event..id=1", "event.id=a,b"] {
        let body = format!(r#"{{"callback":"https://listener.example/q","query":"{query}"}}"#);
        assert_invalid(&app, HUB, &body, "query:").await;
    }
    assert_nothing_stored(&fakes);
}

#[tokio::test]
async fn callbacks_outside_the_allow_list_or_to_private_addresses_are_400() {
    let (app, fakes) = app();
    for callback in [
        "https://elsewhere.example/hook",
        "https://listener.example.evil.net/hook",
        "http://listener.example/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://127.0.0.1/hook",
        "arn:aws:sqs:eu-west-1:123456789012:not-listed",
        "mailto:ops@example.com",
    ] {
        let body = format!(r#"{{"callback":"{callback}"}}"#);
        for hub in [HUB, CATALOG_HUB] {
            assert_invalid(&app, hub, &body, "callback:").await;
        }
    }
    assert_nothing_stored(&fakes);
}

/// Asserts that posting `body` to `hub` is a 400 `INVALID_INPUT` whose message starts with
/// `prefix`.
async fn assert_invalid(app: &Router, hub: &str, body: &str, prefix: &str) {
    let reply = send_post(app, hub, body).await;
    assert_error(&reply, 400, "INVALID_INPUT");
    assert!(
        reply.message().starts_with(prefix),
        "{body}: {}",
        reply.message()
    );
}

fn assert_nothing_stored(fakes: &Fakes) {
    assert!(
        fakes.hubs.subs.lock().expect("lock").is_empty(),
        "nothing stored"
    );
}
