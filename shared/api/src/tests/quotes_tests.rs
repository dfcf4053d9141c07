//! Quote routes at the edge: everything decided before a `QuoteService` call.

use axum::body::Body;
use axum::http::header;
use q2c_service::Scope;

use super::{app, assert_error, empty_req, req, req_as, send, send_post, typed_req};
use crate::body::FORBIDDEN_QUOTE_FIELDS;
use crate::routes::quotes::{etag, parse_create};

const QUOTES: &str = "/tmf-api/quoteManagement/v4/quote";

#[tokio::test]
async fn each_server_owned_field_is_rejected_even_when_null() {
    let (app, _) = app();
    for field in FORBIDDEN_QUOTE_FIELDS {
        let body = format!(r#"{{"quoteItem":[{{"id":"1"}}],"{field}":null}}"#);
        let reply = send_post(&app, QUOTES, &body).await;
        assert_error(&reply, 400, "FORBIDDEN_FIELD");
        assert!(
            reply.message().contains(&format!("`{field}`")),
            "{}",
            reply.message()
        );
    }
}

#[tokio::test]
async fn a_wrongly_typed_field_is_400_naming_its_path() {
    let (app, _) = app();
    let body = r#"{"quoteItem":[{"id":"1","productOffering":{"id":"mobile-s"},"quantity":"two"}]}"#;
    let reply = send_post(&app, QUOTES, body).await;
    assert_error(&reply, 400, "INVALID_INPUT");
    reply.assert_message_starts_with("quoteItem[0].quantity: value is not of type");
    let reply = send_post(&app, QUOTES, r#"{"description":"no items"}"#).await;
    assert_error(&reply, 400, "INVALID_INPUT");
    assert!(reply.message().starts_with("quoteItem:"));
    let reply = send_post(&app, QUOTES, r#"{"quoteItem":[]}"#).await;
    reply.assert_message_starts_with("quoteItem: at least one");
    let reply = send_post(&app, QUOTES, "{\"quoteItem\": [").await;
    assert_error(&reply, 400, "MALFORMED_JSON");
}

#[test]
fn a_valid_create_body_keeps_extensions() {
    let quote =
        parse_create(br#"{"quoteItem":[{"id":"1","productOffering":{"id":"mobile-s"},"quantity":2}],"x-crm":"o-1"}"#).expect("a quote");
    assert_eq!(quote.quote_item[0].quantity, Some(2));
    assert_eq!(
        quote.extensions.get("x-crm").and_then(|v| v.as_str()),
        Some("o-1")
    );
}

#[tokio::test]
async fn writes_need_quote_write_and_json() {
    let (app, _) = app();
    let read_only = req_as("t1", &[Scope::QuoteRead], "POST", QUOTES)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .expect("a request");
    assert_error(&send(&app, read_only).await, 403, "MISSING_SCOPE");
    let xml = typed_req("PATCH", &format!("{QUOTES}/q1"), "application/xml", "{}");
    assert_error(&send(&app, xml).await, 415, "UNSUPPORTED_MEDIA_TYPE");
    let bad_if_match = req("PATCH", &format!("{QUOTES}/q1"))
        .header(header::CONTENT_TYPE, "application/merge-patch+json")
        .header(header::IF_MATCH, "version-3")
        .body(Body::from("{}"))
        .expect("a request");
    assert_error(&send(&app, bad_if_match).await, 400, "INVALID_HEADER");
    let not_an_object = typed_req(
        "PATCH",
        &format!("{QUOTES}/q1"),
        "application/merge-patch+json",
        "[]",
    );
    assert_error(&send(&app, not_an_object).await, 400, "INVALID_INPUT");
}

/// `If-Match` parsing is tested in `preconditions`; the `ETag` it is compared with:
#[test]
fn etags_are_the_quoted_version() {
    assert_eq!(etag(7), "\"7\"");
}

#[tokio::test]
async fn list_parameters_are_validated_before_the_service() {
    let (app, _) = app();
    for query in [
        "limit=0",
        "limit=1001",
        "offset=-5",
        "offset=abc",
        "state=finished",
        "quoteDate.gte=2026-13-01",
        "quoteDate.lt=yesterday",
        "colour=red",
        "fields=,",
    ] {
        let request = empty_req("GET", &format!("{QUOTES}?{query}"));
        assert_error(&send(&app, request).await, 400, "INVALID_QUERY");
    }
    let request = empty_req("GET", &format!("{QUOTES}/q1?sort=id"));
    assert_error(&send(&app, request).await, 400, "INVALID_QUERY");
}

#[tokio::test]
async fn reads_need_quote_read() {
    let (app, _) = app();
    let request = req_as("t1", &[Scope::QuoteWrite], "GET", QUOTES)
        .body(Body::empty())
        .expect("a request");
    assert_error(&send(&app, request).await, 403, "MISSING_SCOPE");
}
