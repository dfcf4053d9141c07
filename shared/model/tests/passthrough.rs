//! Extensibility, model level: whatever a client puts on a quote item that q2c does not model
//! (unknown keys, `@type`/`@schemaLocation` subtypes, characteristics of any name, value type
//! and value) survives pricing, a JSON round trip (what the stores do) and the product order
//! built on acceptance, equal as `serde_json::Value`.

use proptest::prelude::*;
use q2c_model::ordering::order_from_quote;
use q2c_model::pricing::price_quote;
use q2c_model::sample_catalog::sample_catalog;
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{Quote, QuoteItem, QuoteState};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);

/// Any JSON value, floats included (they round-trip through serde_json's shortest form).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1.0e12f64..1.0e12).prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z@]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Unknown keys: prefixed so that they never collide with a modelled field.
fn unknown_fields() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x[A-Z][a-zA-Z]{0,8}", json_value(), 0..4)
        .prop_map(|m| m.into_iter().collect())
}

fn characteristic() -> impl Strategy<Value = Value> {
    (
        "[a-zA-Z]{1,12}",
        prop::option::of("[a-zA-Z]{1,10}"),
        // Absent (TMF648 v5 allows it), `null` or anything else: each must come back as sent.
        prop::option::of(json_value()),
        prop::option::of("[A-Z][a-zA-Z]{1,10}"),
        unknown_fields(),
    )
        .prop_map(|(name, value_type, value, type_name, unknown)| {
            let mut c = unknown;
            c.insert("name".into(), json!(name));
            if let Some(value) = value {
                c.insert("value".into(), value);
            }
            if let Some(value_type) = value_type {
                c.insert("valueType".into(), json!(value_type));
            }
            if let Some(type_name) = type_name {
                c.insert("@type".into(), json!(type_name));
            }
            Value::Object(c)
        })
}

/// A quote item of `mobile-s` carrying unknowns on the item, its product and its offering ref.
fn quote_item_json() -> impl Strategy<Value = Value> {
    (
        // At least one: an empty modelled list is dropped (same meaning; docs/pricing.md).
        prop::collection::vec(characteristic(), 1..5),
        unknown_fields(),
        unknown_fields(),
        unknown_fields(),
    )
        .prop_map(|(characteristics, on_item, on_product, on_offering)| {
            let mut product = on_product;
            product.insert("@type".into(), json!("FiveGSliceProduct"));
            product.insert(
                "@schemaLocation".into(),
                json!("https://schemas.example/FiveGSliceProduct.json"),
            );
            product.insert(
                "productCharacteristic".into(),
                Value::Array(characteristics),
            );
            let mut offering = on_offering;
            offering.insert("id".into(), json!("mobile-s"));
            offering.insert("@referredType".into(), json!("FiveGSliceOffering"));
            let mut item = on_item;
            item.insert("id".into(), json!("1"));
            item.insert("@type".into(), json!("SliceQuoteItem"));
            item.insert("product".into(), Value::Object(product));
            item.insert("productOffering".into(), Value::Object(offering));
            Value::Object(item)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn unknowns_on_a_quote_item_survive_pricing_storage_and_the_product_order(sent in quote_item_json()) {
        let item: QuoteItem = serde_json::from_value(sent.clone()).expect("a quote item");
        let priced = price_quote(std::slice::from_ref(&item), &sample_catalog(), &TenantSettings::default(), NOW)
            .expect("prices");
        let quote = Quote {
            id: Some("q-1".into()),
            state: Some(QuoteState::Accepted),
            quote_item: priced.items,
            quote_total_price: priced.total,
            ..Quote::default()
        };
        // What a store does: JSON text out, JSON text back.
        let stored: Quote = serde_json::from_str(&serde_json::to_string(&quote).expect("serialises"))
            .expect("deserialises");
        let stored_item = serde_json::to_value(&stored.quote_item[0]).expect("serialises");
        for key in sent.as_object().expect("an object").keys() {
            prop_assert_eq!(&stored_item[key], &sent[key], "quote item field {}", key);
        }

        let order = serde_json::to_value(order_from_quote(&stored, "o-1", NOW)).expect("serialises");
        let order_item = &order["productOrderItem"][0];
        prop_assert_eq!(&order_item["product"], &sent["product"]);
        prop_assert_eq!(&order_item["productOffering"], &sent["productOffering"]);
        for (key, value) in sent.as_object().expect("an object").iter().filter(|(k, _)| k.starts_with('x')) {
            prop_assert_eq!(&order_item[key], value, "order item field {}", key);
        }
    }
}

/// A catalog of one offering of an unknown `@type` with a recurring price, an early
/// termination `penalty`, a monthly `allowance` and a blanket 10 % promotion.
fn slice_catalog() -> q2c_model::pricing::CatalogSnapshot {
    let document: q2c_model::pricing::CatalogDocument = serde_json::from_value(json!({
        "productOffering": [{
            "id": "slice-5g", "@type": "FiveGSliceOffering", "lifecycleStatus": "Launched",
            "sliceProfile": {"latencyMs": 5},
            "productOfferingPrice": [
                {"id": "slice-monthly"}, {"id": "slice-exit-penalty"},
                {"id": "slice-allowance"}, {"id": "slice-promo"}
            ]
        }],
        "productOfferingPrice": [
            {"id": "slice-monthly", "priceType": "recurring", "recurringChargePeriodType": "month",
             "price": {"unit": "EUR", "value": 100}},
            {"id": "slice-exit-penalty", "priceType": "penalty", "name": "Early exit",
             "price": {"unit": "EUR", "value": 500}},
            {"id": "slice-allowance", "priceType": "allowance", "recurringChargePeriodType": "month",
             "price": {"unit": "EUR", "value": 5}},
            {"id": "slice-promo", "priceType": "discount", "percentage": 10}
        ]
    }))
    .expect("a catalog document");
    q2c_model::pricing::CatalogSnapshot::new(
        document.product_offering,
        document.product_offering_price,
    )
}

#[test]
fn unknown_price_types_travel_to_the_order_under_their_own_keys_and_are_never_discounted_blindly() {
    let item: QuoteItem = serde_json::from_value(json!({
        "id": "1", "quantity": 2, "productOffering": {"id": "slice-5g"}
    }))
    .expect("an item");
    let priced =
        price_quote(&[item], &slice_catalog(), &TenantSettings::default(), NOW).expect("prices");

    // (priceType, period, duty free, tax included, alterations) per line and per total.
    let summary = |prices: &[q2c_model::tmf::QuotePrice]| -> Vec<(String, Option<String>, String, String, usize)> {
        prices
            .iter()
            .map(|p| {
                (
                    p.price_type.clone(),
                    p.recurring_charge_period.clone(),
                    p.price.duty_free_amount.expect("amount").amount.normalize().to_string(),
                    p.price.tax_included_amount.expect("amount").amount.normalize().to_string(),
                    p.price_alteration.len(),
                )
            })
            .collect()
    };
    let month = Some("month".to_owned());
    assert_eq!(
        summary(&priced.items[0].quote_item_price),
        [
            (
                "recurring".into(),
                month.clone(),
                "180".into(),
                "216".into(),
                1
            ),
            ("penalty".into(), None, "1000".into(), "1200".into(), 0),
            (
                "allowance".into(),
                month.clone(),
                "10".into(),
                "12".into(),
                0
            ),
        ]
    );
    // Ordered recurring, oneTime, usage, then the other types by name.
    assert_eq!(
        summary(&priced.total),
        [
            (
                "recurring".into(),
                month.clone(),
                "180".into(),
                "216".into(),
                1
            ),
            ("allowance".into(), month, "10".into(), "12".into(), 0),
            ("penalty".into(), None, "1000".into(), "1200".into(), 0),
        ]
    );

    let quote = Quote {
        id: Some("q-1".into()),
        state: Some(QuoteState::Accepted),
        quote_item: priced.items.clone(),
        quote_total_price: priced.total.clone(),
        ..Quote::default()
    };
    let order = order_from_quote(&quote, "o-1", NOW);
    assert_eq!(
        order.product_order_item[0].item_price,
        priced.items[0].quote_item_price
    );
    assert_eq!(order.order_total_price, priced.total);
}
