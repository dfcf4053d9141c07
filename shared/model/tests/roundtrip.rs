//! Lossless round trips of spec-shaped payloads: deserialise into the model, serialise, and
//! compare the JSON values (numbers compared by value, since `20.0` and `20` are different
//! `serde_json::Number`s but the same TMF amount).

use q2c_model::pricing::CatalogDocument;
use q2c_model::sample_catalog::SAMPLE_CATALOG_JSON;
use q2c_model::tmf::{
    ErrorBody, EventEnvelope, ProductOffering, ProductOfferingPrice, ProductOrder, Quote,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Rewrites every number as an `f64`, so that 20, 20.0 and 2e1 compare equal.
fn normalise(value: Value) -> Value {
    match value {
        Value::Number(n) => n.as_f64().map(Value::from).unwrap_or(Value::Number(n)),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalise(v))).collect())
        }
        other => other,
    }
}

fn assert_round_trip<T: Serialize + DeserializeOwned>(json: &str) -> T {
    let original: Value = serde_json::from_str(json).expect("the fixture is JSON");
    let typed: T = serde_json::from_str(json).expect("the fixture deserialises");
    let back = serde_json::to_value(&typed).expect("the model serialises");
    assert_eq!(normalise(back), normalise(original));
    typed
}

#[test]
fn a_spec_shaped_quote_round_trips_without_loss() {
    let quote: Quote = assert_round_trip(include_str!("fixtures/quote.json"));
    assert!(quote.extensions.contains_key("agreement"));
    assert!(
        quote.quote_item[0]
            .extensions
            .contains_key("quoteItemRelationship")
    );
    assert!(
        quote.quote_item[0]
            .product
            .as_ref()
            .is_some_and(|p| p.extensions.contains_key("place"))
    );
}

#[test]
fn an_offering_of_an_unknown_subtype_keeps_its_type_and_unknown_fields() {
    let offering: ProductOffering =
        assert_round_trip(include_str!("fixtures/product-offering.json"));
    assert_eq!(
        offering.type_info.type_name.as_deref(),
        Some("FiveGSliceOffering")
    );
    assert_eq!(
        offering.type_info.base_type.as_deref(),
        Some("ProductOffering")
    );
    assert_eq!(offering.extensions["sliceProfile"]["isolation"], "physical");
    assert!(offering.extensions["x-internal-sku"].is_null());
}

#[test]
fn a_usage_price_with_a_sub_cent_rate_round_trips_exactly() {
    let price: ProductOfferingPrice =
        assert_round_trip(include_str!("fixtures/product-offering-price.json"));
    assert_eq!(
        price.price.map(|m| m.amount.to_string()).as_deref(),
        Some("0.0015")
    );
    assert!(price.extensions.contains_key("pricingLogicAlgorithm"));
}

#[test]
fn a_product_order_round_trips_without_loss() {
    let order: ProductOrder = assert_round_trip(include_str!("fixtures/product-order.json"));
    assert!(
        order.product_order_item[0].item_price[0]
            .extensions
            .contains_key("billingAccount")
    );
}

#[test]
fn a_tmf630_error_round_trips_without_loss() {
    let error: ErrorBody = assert_round_trip(include_str!("fixtures/error.json"));
    assert_eq!(error.status.as_deref(), Some("422"));
}

#[derive(Debug, Serialize, Deserialize)]
struct QuotePayload {
    quote: Quote,
}

#[test]
fn a_quote_event_envelope_round_trips_with_the_v4_spelling() {
    let event: EventEnvelope<QuotePayload> =
        assert_round_trip(include_str!("fixtures/event-quote-state-change.json"));
    assert!(event.time_occurred.is_some());
    assert!(event.extensions.contains_key("source"));
}

#[test]
fn the_sample_catalog_round_trips_without_loss() {
    let doc: CatalogDocument = assert_round_trip(SAMPLE_CATALOG_JSON);
    assert_eq!(doc.product_offering.len(), 7);
}
