//! The rest of the surface: health, the OpenAPI document, unknown routes and methods,
//! panics, correlation ids, and the catalog.

use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::get;
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice};
use q2c_service::Scope;

use super::{app, assert_error, empty_req, req_as, send, send_get};

const CATALOG: &str = "/tmf-api/productCatalogManagement/v4";

fn anonymous(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("a request")
}

#[tokio::test]
async fn health_and_openapi_need_no_token() {
    let (app, _) = app();
    let health = send(&app, anonymous("/health")).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, serde_json::json!({"status": "ok"}));
    let doc = send(&app, anonymous("/tmf-api/quoteManagement/v4/openapi.json")).await;
    assert_eq!(doc.status, 200);
    assert!(
        doc.body["openapi"]
            .as_str()
            .expect("a version")
            .starts_with("3.0")
    );
    assert_eq!(doc.headers[header::CONTENT_TYPE], crate::error::JSON_UTF8);
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_in_tmf_bodies() {
    let (app, _) = app();
    assert_error(
        &send(&app, anonymous("/nowhere")).await,
        404,
        "ROUTE_NOT_FOUND",
    );
    let put = empty_req("PUT", "/tmf-api/quoteManagement/v4/quote");
    let reply = send(&app, put).await;
    assert_error(&reply, 405, "METHOD_NOT_ALLOWED");
    assert!(
        reply.headers[header::ALLOW]
            .to_str()
            .expect("ascii")
            .contains("POST")
    );
}

async fn boom() -> &'static str {
    panic!("boom")
}

#[tokio::test]
async fn a_panic_is_a_500_tmf_body() {
    let state = super::state();
    let routes = crate::routes::routes().route("/boom", get(boom));
    let app = crate::layered(routes, state);
    let reply = send(&app, anonymous("/boom")).await;
    assert_error(&reply, 500, "INTERNAL_ERROR");
    assert!(reply.headers.contains_key("x-correlation-id"));
}

#[tokio::test]
async fn correlation_ids_are_echoed_or_generated() {
    let (app, _) = app();
    let with_id = Request::get("/health")
        .header("x-correlation-id", "abc-123")
        .body(Body::empty());
    let reply = send(&app, with_id.expect("a request")).await;
    assert_eq!(reply.headers["x-correlation-id"], "abc-123");
    let overlong = "x".repeat(129);
    let with_long = Request::get("/nowhere")
        .header("x-correlation-id", &overlong)
        .body(Body::empty());
    let reply = send(&app, with_long.expect("a request")).await;
    let generated = reply.headers["x-correlation-id"].to_str().expect("ascii");
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");
}

/// An app whose catalog holds three offerings and a price ([`seed`]).
fn seeded_app() -> axum::Router {
    let (app, fakes) = app();
    seed(&fakes);
    app
}

fn seed(fakes: &super::fakes::Fakes) {
    let mut offerings = fakes.catalog.offerings.lock().expect("lock");
    for i in 1..=3 {
        offerings.push(ProductOffering {
            id: format!("po-{i}"),
            name: Some(format!("Offer {i}")),
            description: Some("d".into()),
            ..ProductOffering::default()
        });
    }
    fakes
        .catalog
        .prices
        .lock()
        .expect("lock")
        .push(ProductOfferingPrice {
            id: "pop-1".into(),
            price_type: "recurring".into(),
            ..ProductOfferingPrice::default()
        });
}

#[tokio::test]
async fn catalog_lists_page_and_select_fields() {
    let app = seeded_app();
    let uri = format!("{CATALOG}/productOffering?offset=1&limit=1&fields=name");
    let reply = send_get(&app, &uri).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["x-total-count"], "3");
    assert_eq!(reply.headers["x-result-count"], "1");
    // `fields=` keeps the href, which is this server's (the fake catalog has none).
    assert_eq!(
        reply.body,
        serde_json::json!([{"id": "po-2", "href": format!("https://api.test{CATALOG}/productOffering/po-2"), "name": "Offer 2"}])
    );
    let prices = format!("{CATALOG}/productOfferingPrice");
    let reply = send_get(&app, &prices).await;
    assert_eq!(reply.body[0]["id"], "pop-1");
}

#[tokio::test]
async fn catalog_items_are_read_by_id_or_404() {
    let app = seeded_app();
    let one = format!("{CATALOG}/productOffering/po-3?fields=description");
    let reply = send_get(&app, &one).await;
    assert_eq!(
        reply.body,
        serde_json::json!({"id": "po-3", "href": format!("https://api.test{CATALOG}/productOffering/po-3"), "description": "d"})
    );
    let price = format!("{CATALOG}/productOfferingPrice/pop-1");
    assert_eq!(send_get(&app, &price).await.status, 200);
    let missing = format!("{CATALOG}/productOfferingPrice/nope");
    assert_error(&send_get(&app, &missing).await, 404, "NOT_FOUND");
    let bad = format!("{CATALOG}/productOffering?limit=5000");
    assert_error(&send_get(&app, &bad).await, 400, "INVALID_QUERY");
}

#[tokio::test]
async fn catalog_needs_catalog_read() {
    let (app, _) = app();
    let request = req_as(
        "t1",
        &[Scope::QuoteRead],
        "GET",
        &format!("{CATALOG}/productOffering"),
    )
    .body(Body::empty())
    .expect("a request");
    assert_error(&send(&app, request).await, 403, "MISSING_SCOPE");
}
