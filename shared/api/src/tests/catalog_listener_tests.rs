//! The TMF620 listener: validation, scope, enqueueing on `pricing-changes`, 201 with the
//! event, 503 without a queue or when the queue fails.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use q2c_service::Scope;
use q2c_service::testing::SentMessages;
use serde_json::{Value, json};

use super::{Reply, assert_error, json_req, req_as, send, send_post, state};
use crate::router;

const LISTENER: &str = "/tmf-api/productCatalogManagement/v4/listener";

/// The listener's queue: every send must go to `pricing-changes` (it asserts so); each
/// send fails when `down`.
fn app_with_queue(down: bool) -> (Router, Arc<SentMessages>) {
    let queue = Arc::new(SentMessages::to("pricing-changes"));
    *queue.refuse.lock().expect("lock") = down;
    (router(state().with_pricing_queue(queue.clone())), queue)
}

fn event(event_type: &str, price: Value) -> String {
    json!({
        "eventId": "ev-1",
        "eventType": event_type,
        "eventTime": "2026-11-27T12:00:00Z",
        "event": {"productOfferingPrice": price},
    })
    .to_string()
}

/// Posts `body` to the listener of `event_name` as tenant `t1` with every scope.
async fn post_event(app: &Router, event_name: &str, body: &str) -> Reply {
    send_post(app, &format!("{LISTENER}/{event_name}"), body).await
}

fn valid_price() -> Value {
    json!({"id": "fibre-1g-monthly", "lastUpdate": "2026-11-27T11:00:00Z",
           "priceType": "recurring", "price": {"unit": "EUR", "value": 45}})
}

#[tokio::test]
async fn a_valid_event_is_enqueued_and_answered_201_with_the_event() {
    let (app, queue) = app_with_queue(false);
    let body = event(
        "ProductOfferingPriceAttributeValueChangeEvent",
        valid_price(),
    );
    let reply = post_event(&app, "productOfferingPriceAttributeValueChangeEvent", &body).await;

    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body["eventId"], "ev-1");
    assert_eq!(
        reply.body["event"]["productOfferingPrice"]["id"],
        "fibre-1g-monthly"
    );
    let sent = queue.sent.lock().expect("lock");
    assert_eq!(sent.len(), 1);
    let message = &sent[0];
    assert_eq!(message.body, body, "the event travels as posted");
    assert_eq!(
        message.attributes["eventType"],
        "ProductOfferingPriceAttributeValueChangeEvent"
    );
    assert_eq!(message.attributes["eventId"], "ev-1");
    assert_eq!(
        message.attributes["schemaVersion"], "4.0",
        "an unversioned TMF620 event is labelled as the v4 envelope it is"
    );
}

#[tokio::test]
async fn the_listener_needs_the_catalog_write_scope() {
    let (app, queue) = app_with_queue(false);
    let uri = format!("{LISTENER}/ProductOfferingPriceCreateEvent");
    let body = event("ProductOfferingPriceCreateEvent", valid_price());
    let reader = req_as("t1", &[Scope::CatalogRead], "POST", &uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.clone()))
        .expect("a request");
    assert_error(&send(&app, reader).await, 403, "MISSING_SCOPE");
    let anonymous = Request::post(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("a request");
    assert_error(&send(&app, anonymous).await, 401, "UNAUTHORIZED");
    assert!(queue.sent.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn invalid_events_are_400_naming_the_field_and_not_enqueued() {
    let (app, queue) = app_with_queue(false);
    let create = format!("{LISTENER}/productOfferingPriceCreateEvent");
    let cases = [
        (
            event("ProductOfferingPriceCreateEvent", json!({"id": "p"})),
            "event.productOfferingPrice.lastUpdate: missing",
        ),
        (
            event(
                "ProductOfferingPriceCreateEvent",
                json!({"id": "p", "lastUpdate": "2026-11-27T11:00:00Z",
                       "price": {"unit": "EUR", "value": "abc"}}),
            ),
            "event.productOfferingPrice.price.value",
        ),
        (
            event("ProductOfferingPriceDeleteEvent", valid_price()),
            "posted to the ProductOfferingPriceCreateEvent listener",
        ),
        (
            json!({"eventType": "ProductOfferingPriceCreateEvent", "event": {}}).to_string(),
            "eventId",
        ),
    ];
    for (body, expected) in cases {
        let reply = send_post(&app, &create, &body).await;
        assert_error(&reply, 400, "INVALID_INPUT");
        assert!(
            reply.message().contains(expected),
            "`{}` lacks `{expected}`",
            reply.message()
        );
    }
    let malformed = send_post(&app, &create, "{").await;
    assert_error(&malformed, 400, "MALFORMED_JSON");
    assert!(queue.sent.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn an_unknown_listener_is_404() {
    let (app, _) = app_with_queue(false);
    let reply = send_post(
        &app,
        &format!("{LISTENER}/catalogCreateEvent"),
        &event("CatalogCreateEvent", valid_price()),
    )
    .await;
    assert_error(&reply, 404, "NOT_FOUND");
}

#[tokio::test]
async fn without_a_working_queue_the_listener_is_503() {
    let body = event("ProductOfferingPriceCreateEvent", valid_price());
    let uri = format!("{LISTENER}/productOfferingPriceCreateEvent");
    let unconfigured = router(state());
    assert_error(
        &send(&unconfigured, json_req("POST", &uri, &body)).await,
        503,
        "UNAVAILABLE",
    );
    let (down, _) = app_with_queue(true);
    assert_error(
        &send(&down, json_req("POST", &uri, &body)).await,
        503,
        "UNAVAILABLE",
    );
}

#[tokio::test]
async fn offering_events_are_enqueued_and_invalid_ones_refused_naming_the_field() {
    let (app, queue) = app_with_queue(false);
    let offering = json!({"id": "slice-1", "lastUpdate": "2026-11-27T11:00:00Z",
                          "@type": "SomeNewOffering", "x-new": [1, 2]});
    let body = json!({
        "eventId": "ev-po", "eventType": "ProductOfferingCreateEvent",
        "eventTime": "2026-11-27T12:00:00Z", "event": {"productOffering": offering},
    })
    .to_string();
    let reply = post_event(&app, "productOfferingCreateEvent", &body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(
        reply.body["event"]["productOffering"]["x-new"],
        json!([1, 2])
    );
    {
        let sent = queue.sent.lock().expect("lock");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].body, body, "the event travels as posted");
    }

    let undated = json!({
        "eventId": "ev-bad", "eventType": "ProductOfferingDeleteEvent",
        "eventTime": "2026-11-27T12:00:00Z", "event": {"productOffering": {"id": "slice-1"}},
    })
    .to_string();
    let reply = post_event(&app, "ProductOfferingDeleteEvent", &undated).await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(
        reply
            .body
            .to_string()
            .contains("event.productOffering.lastUpdate"),
        "{:?}",
        reply.body
    );
    assert_eq!(
        queue.sent.lock().expect("lock").len(),
        1,
        "nothing enqueued"
    );
}

#[tokio::test]
async fn events_beyond_the_limits_are_4xx_naming_the_limit_and_nothing_is_enqueued() {
    let (app, queue) = app_with_queue(false);
    let uri = format!("{LISTENER}/ProductOfferingPriceAttributeValueChangeEvent");
    // Posts the valid price changed by `edit`.
    let post = async |edit: &dyn Fn(&mut Value)| {
        let mut price = valid_price();
        edit(&mut price);
        let body = event("ProductOfferingPriceAttributeValueChangeEvent", price);
        send_post(&app, &uri, &body).await
    };

    // 300 KB can never become a queue message: 413 at once, not 503 "retry later".
    let reply = post(&|p| p["blob"] = json!("x".repeat(300_000))).await;
    assert_error(&reply, 413, "PAYLOAD_TOO_LARGE");
    assert_eq!(reply.body["limit"]["name"], "maxRequestBytes");

    // Within the body limit, beyond what one catalog event may be.
    let reply = post(&|p| p["blob"] = json!("x".repeat(100_000))).await;
    assert_error(&reply, 413, "PAYLOAD_TOO_LARGE");
    assert_eq!(reply.body["limit"]["name"], "maxCatalogEventBytes");
    assert_eq!(reply.body["limit"]["value"], 98_304);

    // The entry alone is over its limit.
    let reply = post(&|p| p["blob"] = json!("x".repeat(70_000))).await;
    assert_error(&reply, 413, "PAYLOAD_TOO_LARGE");
    assert_eq!(reply.body["limit"]["name"], "maxCatalogEntryBytes");
    assert_eq!(reply.body["limit"]["path"], "event.productOfferingPrice");

    // A price the store cannot write exactly.
    let reply = post(&|p| p["price"]["value"] = json!(1.2345678901234567)).await;
    assert_error(&reply, 400, "LIMIT_EXCEEDED");
    assert_eq!(
        reply.body["limit"],
        json!({"name": "maxSignificantDigits", "value": 15, "unit": "significant digits",
               "received": 17, "path": "event.productOfferingPrice.price.value"})
    );
    reply.assert_message_starts_with(
        "event.productOfferingPrice.price.value: 17 significant digits",
    );

    // Too deep, found before parsing.
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let reply = post(&|p| p["x"] = serde_json::from_str(&deep).expect("json")).await;
    assert_error(&reply, 400, "LIMIT_EXCEEDED");
    assert_eq!(reply.body["limit"]["name"], "maxJsonDepth");
    assert!(
        reply.body["limit"]["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("event.productOfferingPrice.x[0]")),
        "{}",
        reply.body
    );

    assert!(queue.sent.lock().expect("lock").is_empty());
}
