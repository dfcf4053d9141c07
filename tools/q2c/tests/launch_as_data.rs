//! Launching a product purely as data: a TMF620 `ProductOfferingCreateEvent` for an offering
//! of an `@type` no code knows, with a characteristic no code knows (allowed values in
//! `prodSpecCharValueUse`), and a `ProductOfferingPriceCreateEvent` of a `priceType` the
//! pricing engine does not model, arrive on `pricing-changes` of a running `q2c local`. A
//! quote for the offering requesting that characteristic is then created, approved and
//! accepted, and the order the fake order management receives carries the unknown fields
//! unchanged (compared as JSON). Nothing but this test names the type or characteristic.

use q2c_testkit::poll::eventually;
use std::collections::BTreeMap;
use std::time::Duration;

use q2c_local::SqliteQueues;
use q2c_service::ports::CatalogStore;
use serde_json::{Value, json};

mod local_common;
use local_common::{Local, call};

const SECRET: &str = "launch-secret";
const API: &str = "/tmf-api/quoteManagement/v4";
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_product_launched_as_catalog_data_is_quoted_and_ordered_with_its_unknown_fields() {
    let local = Local::start(SECRET, "launch", |_| {}).await;
    let (url, downstream) = (local.url.clone(), local.downstream.clone());
    let (http, token) = (local.http.clone(), local.token.clone());
    let store = local.store();
    let queues = SqliteQueues::new(&store);

    // The catalog launches the product: two events on pricing-changes.
    let price = json!({
        "id": "slice-gold-allowance",
        "name": "Gold slice data allowance",
        "priceType": "allowance",
        "price": {"unit": "EUR", "value": 12.5},
        "unitOfMeasure": {"amount": 100, "units": "GB"},
        "lastUpdate": "2026-11-27T09:00:00Z",
        "lifecycleStatus": "Active",
        "@type": "ProductOfferingPrice",
        "x-allowance-rollover": {"months": 2}
    });
    let offering = json!({
        "id": "slice-gold",
        "name": "5G slice Gold",
        "@type": "FiveGSliceOffering",
        "@baseType": "ProductOffering",
        "@schemaLocation": "https://catalog.example/schemas/FiveGSliceOffering.json",
        "isSellable": true,
        "lifecycleStatus": "Launched",
        "lastUpdate": "2026-11-27T09:00:00Z",
        "productOfferingPrice": [{"id": "slice-gold-allowance"}],
        "prodSpecCharValueUse": [{
            "name": "sliceLatencyClass",
            "valueType": "string",
            "minCardinality": 1,
            "maxCardinality": 1,
            "productSpecCharacteristicValue": [
                {"value": "ultra-low", "isDefault": true},
                {"value": "low"}
            ]
        }],
        "x-slice-profile": {"sst": 1, "sd": "0x00A1B2"}
    });
    for (event_type, field, payload) in [
        (
            "ProductOfferingPriceCreateEvent",
            "productOfferingPrice",
            &price,
        ),
        ("ProductOfferingCreateEvent", "productOffering", &offering),
    ] {
        let body = json!({
            "eventId": format!("launch-{event_type}"),
            "eventType": event_type,
            "eventTime": "2026-11-27T09:00:01Z",
            "event": {field: payload},
        });
        q2c::queue_cmd::send(
            &queues,
            "pricing-changes",
            &body.to_string(),
            &BTreeMap::new(),
        )
        .await
        .expect("enqueued");
    }

    // The fan-out stores both, unknown fields included.
    let (stored, stored_price) = eventually(
        "the offering and its price in the catalog copy",
        WAIT,
        || async {
            let offerings = store.offerings(&["slice-gold".to_owned()]).await;
            let prices = store.prices(&["slice-gold-allowance".to_owned()]).await;
            Some((
                offerings.expect("read").pop()?,
                prices.expect("read").pop()?,
            ))
        },
    )
    .await;
    assert_eq!(serde_json::to_value(&stored).expect("json"), offering);
    assert_eq!(serde_json::to_value(&stored_price).expect("json"), price);

    // A quote for it, requesting the new characteristic, with fields we do not model.
    let product = json!({
        "@type": "FiveGSlice",
        "@schemaLocation": "https://catalog.example/schemas/FiveGSlice.json",
        "productCharacteristic": [
            {"name": "sliceLatencyClass", "valueType": "string", "value": "low"}
        ],
        "x-slice-request": {"areas": ["cell-17", "cell-18"], "peakMbps": 750.5}
    });
    let item_extras = json!({"x-site-survey": {"id": "survey-9", "ok": true}});
    let mut item = json!({
        "action": "add",
        "quantity": 1,
        "productOffering": {"id": "slice-gold"},
        "product": product,
    });
    item["x-site-survey"] = item_extras["x-site-survey"].clone();
    let (status, quote) = call(
        &http,
        &token,
        reqwest::Method::POST,
        &format!("{url}{API}/quote"),
        Some(json!({"quoteItem": [item]})),
    )
    .await;
    assert_eq!(status, 201, "{quote}");
    let id = quote["id"].as_str().expect("id").to_owned();
    assert_eq!(quote["quoteItem"][0]["product"], product, "{quote}");
    let allowance_line = quote["quoteItem"][0]["quoteItemPrice"]
        .as_array()
        .and_then(|prices| prices.iter().find(|p| p["priceType"] == "allowance"))
        .cloned();
    assert!(
        allowance_line.is_some(),
        "the allowance price is listed on the item: {quote}"
    );

    for state in ["approved", "accepted"] {
        let (status, body) = call(
            &http,
            &token,
            reqwest::Method::PATCH,
            &format!("{url}{API}/quote/{id}"),
            Some(json!({"state": state})),
        )
        .await;
        assert_eq!(status, 200, "{state}: {body}");
    }

    // The order order management receives carries the unknown fields unchanged.
    let received = eventually("the order at order management", WAIT, || async {
        let list: Value = reqwest::get(format!("{downstream}/productOrder"))
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        list.as_array()?.first().cloned()
    })
    .await;
    let order_item = &received["order"]["productOrderItem"][0];
    assert_eq!(
        order_item["productOffering"]["id"], "slice-gold",
        "{received}"
    );
    assert_eq!(order_item["product"], product, "{received}");
    assert_eq!(
        order_item["x-site-survey"], item_extras["x-site-survey"],
        "{received}"
    );

    local.stop().await;
}
