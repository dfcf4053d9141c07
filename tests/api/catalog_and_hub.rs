//! The read-only catalog, the hub, health and the OpenAPI document.

use q2c_tests::{
    CATALOG, QUOTES, assert_not_found, hub_path, numeric_header, spawn_app, spawn_as_admin,
};
use serde_json::{Value, json};

#[tokio::test]
async fn the_sample_catalog_is_served_with_paging() {
    let (app, token) = spawn_as_admin().await;
    let page = app
        .get(&format!("{CATALOG}/productOffering?limit=3"), &token)
        .await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-result-count"], "3");
    let total: u64 = numeric_header(&page, "x-total-count");
    assert!(total >= 7, "{total}");
    let offering: Value = app
        .get_json(&format!("{CATALOG}/productOffering/fibre-1g"), &token)
        .await;
    assert_eq!(offering["id"], "fibre-1g");
    let price: Value = app
        .get_json(
            &format!("{CATALOG}/productOfferingPrice/fibre-1g-promo-50"),
            &token,
        )
        .await;
    assert_eq!(price["priceType"], "discount");
    assert_eq!(price["percentage"], json!(50));
    let prices = app
        .get(
            &format!("{CATALOG}/productOfferingPrice?offset=0&limit=100"),
            &token,
        )
        .await;
    assert_eq!(prices.status(), 200);
    assert_not_found(
        app.get(&format!("{CATALOG}/productOffering/nope"), &token)
            .await,
    )
    .await;
}

#[tokio::test]
async fn a_hub_subscription_is_created_and_removed() {
    let (app, token) = spawn_as_admin().await;
    let subscription = json!({"callback": "http://127.0.0.1:9/listener",
                              "query": "eventType=QuoteStateChangeEvent"});
    let response = app.subscribe(&token, &subscription).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("location"));
    let hub: Value = response.json().await.expect("json");
    assert_eq!(hub["callback"], "http://127.0.0.1:9/listener");
    let path = hub_path(&hub);
    assert_eq!(app.delete(&path, &token).await.status(), 204);
    let again = app.delete(&path, &token).await;
    assert_not_found(again).await;

    let missing_callback = app
        .subscribe(&token, &json!({"query": "eventType=QuoteStateChangeEvent"}))
        .await;
    assert_eq!(missing_callback.status(), 400);
}

#[tokio::test]
async fn health_and_the_openapi_document_need_no_token() {
    let app = spawn_app().await;
    let health = app.get_anonymous("/health").await;
    assert_eq!(health.status(), 200);
    let doc = app.get_anonymous(&format!("{QUOTES}/openapi.json")).await;
    assert_eq!(doc.status(), 200);
    let doc: Value = doc.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert!(
        doc["paths"]["/quote"].is_object() || doc["paths"][format!("{QUOTES}/quote")].is_object()
    );
}

#[tokio::test]
async fn the_correlation_id_is_echoed_or_generated() {
    let (app, token) = spawn_as_admin().await;
    let echoed = app
        .request(reqwest::Method::GET, &format!("{QUOTES}/quote"), &token)
        .header("X-Correlation-Id", "trace-123")
        .send()
        .await
        .expect("GET");
    assert_eq!(echoed.headers()["x-correlation-id"], "trace-123");
    let generated = app.get(&format!("{QUOTES}/quote"), &token).await;
    assert!(
        generated.headers()["x-correlation-id"]
            .to_str()
            .is_ok_and(|v| v.len() >= 16)
    );
}
