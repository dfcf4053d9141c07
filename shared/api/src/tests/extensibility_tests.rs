//! Catalog extensibility over HTTP: a quote item full of fields q2c does not model, for an
//! offering of an unknown `@type` with a `penalty` price, comes back unchanged from `POST` and
//! `GET` and reaches the product order (response of `GET /productOrder/{id}` and the
//! `ProductOrderCreateEvent` body for the dispatch); characteristic errors are 400 and
//! unsellable offerings 422, as TMF630 bodies. The quote and order stores are in memory.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use q2c_model::sample_catalog::sample_catalog;
use q2c_service::ports::Ports;
use q2c_service::testing::{MemoryQuotes, assert_slice_open_prices, rich_item, slice_catalog};
use q2c_service::{QuoteService, QuoteServiceConfig};
use serde_json::{Value, json};

use super::{AUDIENCE, ISSUER, Reply, SECRET, assert_error, fakes, json_req, req, send, send_get};
use crate::{ApiConfig, AppState, Authenticator, JwtKey, JwtVerifier, router};

const QUOTES: &str = "/tmf-api/quoteManagement/v4/quote";
const ORDERS: &str = "/tmf-api/productOrderingManagement/v4/productOrder";

/// The sample catalog plus the slice offerings and prices ([`slice_catalog`]).
fn catalog(fakes: &fakes::Fakes) {
    let sample = sample_catalog();
    let (slice_offerings, slice_prices) = slice_catalog();
    *fakes.catalog.offerings.lock().expect("lock") =
        sample.offerings().cloned().chain(slice_offerings).collect();
    *fakes.catalog.prices.lock().expect("lock") =
        sample.prices().cloned().chain(slice_prices).collect();
}

fn app() -> (Router, Arc<MemoryQuotes>) {
    let fakes = fakes::Fakes::default();
    catalog(&fakes);
    let store = Arc::new(MemoryQuotes::default());
    let ports = Ports {
        quotes: store.clone(),
        orders: store.clone(),
        ..fakes.ports()
    };
    let quotes = QuoteService::new(
        ports.clone(),
        QuoteServiceConfig {
            quote_href_base: QUOTES.to_owned(),
        },
    );
    let verifier = JwtVerifier::new(JwtKey::Hs256Secret(SECRET.to_vec()), ISSUER, AUDIENCE)
        .expect("an HS256 verifier");
    let state = AppState::new(
        quotes,
        ports,
        Authenticator::jwt(verifier),
        ApiConfig::new("https://api.test", "https://docs.test"),
    );
    (router(state), store)
}

fn patch(uri: &str, body: Value) -> axum::http::Request<axum::body::Body> {
    req("PATCH", uri)
        .header(header::CONTENT_TYPE, "application/merge-patch+json")
        .body(axum::body::Body::from(body.to_string()))
        .expect("a request")
}

async fn create(app: &Router, items: Value) -> Reply {
    send(
        app,
        json_req("POST", QUOTES, &json!({"quoteItem": items}).to_string()),
    )
    .await
}

#[tokio::test]
async fn unknown_fields_and_price_types_pass_through_quote_and_order_over_http() {
    let (app, store) = app();
    let sent = rich_item();

    let created = create(&app, json!([sent])).await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("an id").to_owned();
    let read = send_get(&app, &format!("{QUOTES}/{id}")).await;
    for body in [&created.body, &read.body] {
        let item = &body["quoteItem"][0];
        for field in ["@type", "x-channelHint", "productOffering", "product"] {
            assert_eq!(item[field], sent[field], "{field}");
        }
        assert_slice_open_prices(&item["quoteItemPrice"], &body["quoteTotalPrice"]);
    }

    for state in ["approved", "accepted"] {
        let reply = send(
            &app,
            patch(&format!("{QUOTES}/{id}"), json!({"state": state})),
        )
        .await;
        assert_eq!(reply.status.as_u16(), 200, "{:?}", reply.body);
    }
    let event = store.first_event("ProductOrderCreateEvent");
    let order_id = event.aggregate_id.clone();
    let order = send_get(&app, &format!("{ORDERS}/{order_id}")).await;
    assert_eq!(order.status.as_u16(), 200, "{:?}", order.body);
    for order in [&order.body, &event.body["event"]["productOrder"]] {
        let item = &order["productOrderItem"][0];
        assert_eq!(item["product"], sent["product"]);
        assert_eq!(item["productOffering"], sent["productOffering"]);
        assert_eq!(item["x-channelHint"], sent["x-channelHint"]);
        assert_slice_open_prices(&item["itemPrice"], &order["orderTotalPrice"]);
    }
}

#[tokio::test]
async fn characteristic_errors_are_400_tmf630_bodies_naming_the_path() {
    let (app, store) = app();
    let strict = |characteristics: Value| {
        json!([{"productOffering": {"id": "slice-strict"},
                "product": {"productCharacteristic": characteristics}}])
    };

    let reply = create(
        &app,
        strict(json!([{"name": "sliceType", "value": "mMTC"}])),
    )
    .await;
    assert_error(&reply, 400, "CHARACTERISTIC_VALUE_NOT_ALLOWED");
    assert_eq!(
        reply.message(),
        "quoteItem[0].product.productCharacteristic[0].value: value \"mMTC\" is not allowed for characteristic `sliceType` of product offering slice-strict"
    );
    assert_eq!(reply.body["reason"], "Invalid product configuration");

    let reply = create(
        &app,
        strict(json!([{"name": "sliceType", "value": "eMBB"}, {"name": "turbo", "value": 1}])),
    )
    .await;
    assert_error(&reply, 400, "UNKNOWN_CHARACTERISTIC");
    assert!(
        reply
            .message()
            .starts_with("quoteItem[0].product.productCharacteristic[1].name: ")
    );

    let reply = create(&app, strict(json!([]))).await;
    assert_error(&reply, 400, "MISSING_CHARACTERISTIC");
    assert!(store.quotes.lock().expect("lock").is_empty());

    // The same rules on a PATCH of the items.
    let created = create(
        &app,
        strict(json!([{"name": "sliceType", "value": "eMBB"}])),
    )
    .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("an id");
    let reply = send(
        &app,
        patch(
            &format!("{QUOTES}/{id}"),
            json!({"quoteItem": strict(json!([{"name": "sliceType", "value": "x"}]))}),
        ),
    )
    .await;
    assert_error(&reply, 400, "CHARACTERISTIC_VALUE_NOT_ALLOWED");
}

#[tokio::test]
async fn a_retired_offering_is_422_naming_it_on_create_and_patch() {
    let (app, _) = app();
    let reply = create(&app, json!([{"productOffering": {"id": "mobile-legacy"}}])).await;
    assert_error(&reply, 422, "OFFERING_NOT_SELLABLE");
    reply.assert_message_starts_with("quoteItem[0].productOffering.id: ");
    assert!(
        reply.message().contains("mobile-legacy"),
        "{}",
        reply.message()
    );

    let created = create(&app, json!([{"productOffering": {"id": "mobile-s"}}])).await;
    let id = created.body["id"].as_str().expect("an id");
    let reply = send(
        &app,
        patch(
            &format!("{QUOTES}/{id}"),
            json!({"quoteItem": [{"productOffering": {"id": "mobile-s"}},
                                 {"productOffering": {"id": "mobile-legacy"}}]}),
        ),
    )
    .await;
    assert_error(&reply, 422, "OFFERING_NOT_SELLABLE");
    reply.assert_message_starts_with("quoteItem[1].productOffering.id: ");
    assert!(reply.message().contains("mobile-legacy"));
}
