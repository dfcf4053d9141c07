//! Characteristic validation against a small catalog: one offering with characteristic uses
//! (a mandatory colour from a list, an optional speed range, a free-text label), one without.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::pricing::CatalogSnapshot;
use crate::tmf::{EntityRef, ProductOffering, ProductRefOrValue, QuoteItem};

const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);

fn offering(id: &str, uses: Option<Value>) -> ProductOffering {
    let mut offering = ProductOffering {
        id: id.to_owned(),
        ..ProductOffering::default()
    };
    if let Some(uses) = uses {
        offering
            .extensions
            .insert(PROD_SPEC_CHAR_VALUE_USE.to_owned(), uses);
    }
    offering
}

fn catalog() -> CatalogSnapshot {
    let router = offering(
        "router",
        Some(json!([
            {"name": "colour", "valueType": "string", "minCardinality": 1, "maxCardinality": 1,
             "productSpecCharacteristicValue": [
                 {"value": "white"}, {"value": "black"},
                 {"value": "gold", "validFor": {"endDateTime": "2026-01-01T00:00:00Z"}}
             ]},
            {"name": "speedMbps", "valueType": "number", "minCardinality": 0, "maxCardinality": 2,
             "productSpecCharacteristicValue": [
                 {"valueFrom": 100, "valueTo": 1000, "rangeInterval": "closedBottom"},
                 {"value": 10}
             ]},
            {"name": "label", "valueType": "string"},
            {"name": "legacyPort", "validFor": {"endDateTime": "2025-01-01T00:00:00Z"}}
        ])),
    );
    CatalogSnapshot::new(
        vec![
            router,
            offering("plain", None),
            offering("empty-uses", Some(json!([]))),
        ],
        vec![],
    )
}

fn item(offering: &str, characteristics: Value) -> QuoteItem {
    QuoteItem {
        product_offering: Some(EntityRef::to(offering)),
        product: Some(ProductRefOrValue {
            product_characteristic: serde_json::from_value(characteristics)
                .expect("characteristics"),
            ..ProductRefOrValue::default()
        }),
        ..QuoteItem::default()
    }
}

fn check(items: &[QuoteItem]) -> Result<(), CharacteristicError> {
    validate_characteristics(items, &catalog(), NOW)
}

fn code_and_path(items: &[QuoteItem]) -> (&'static str, String) {
    let e = check(items).expect_err("refused");
    (e.code(), e.path)
}

/// The refusal of one `router` item with these characteristics.
fn router_refusal(characteristics: Value) -> (&'static str, String) {
    code_and_path(&[item("router", characteristics)])
}

#[test]
fn an_offering_without_characteristic_uses_lets_anything_through() {
    let anything = json!([
        {"name": "sliceLatencyMs", "valueType": "x-latency", "value": {"p99": 12, "unit": "ms"}},
        {"name": "neverSeen", "value": [1, "two", null]}
    ]);
    assert_eq!(check(&[item("plain", anything.clone())]), Ok(()));
    assert_eq!(check(&[item("empty-uses", anything)]), Ok(()));
}

#[test]
fn allowed_values_and_ranges_pass() {
    let ok = json!([
        {"name": "colour", "value": "black"},
        {"name": "speedMbps", "value": [100, "999.5"]},
        {"name": "label", "value": {"any": "thing"}}
    ]);
    assert_eq!(check(&[item("router", ok)]), Ok(()));
    // 10 is an exact allowed value, compared by number.
    let ten = json!([{"name": "colour", "value": "white"}, {"name": "speedMbps", "value": 10.0}]);
    assert_eq!(check(&[item("router", ten)]), Ok(()));
}

#[test]
fn an_unknown_characteristic_is_refused_at_its_name() {
    let turbo = json!([{"name": "colour", "value": "white"}, {"name": "turbo", "value": true}]);
    assert_eq!(
        router_refusal(turbo),
        (
            "UNKNOWN_CHARACTERISTIC",
            "quoteItem[0].product.productCharacteristic[1].name".to_owned()
        )
    );
}

#[test]
fn a_value_outside_the_allowed_list_or_range_is_refused_at_its_value() {
    for (value, refused) in [
        (json!("pink"), json!("pink")),
        (json!("gold"), json!("gold")),   // expired allowed value
        (json!("White"), json!("White")), // strings compare exactly
    ] {
        let items = [item("router", json!([{"name": "colour", "value": value}]))];
        let e = check(&items).expect_err("refused");
        assert_eq!(e.code(), "CHARACTERISTIC_VALUE_NOT_ALLOWED");
        assert_eq!(
            e.path,
            "quoteItem[0].product.productCharacteristic[0].value"
        );
        assert!(
            matches!(&e.kind, CharacteristicErrorKind::ValueNotAllowed { value, offering, .. } if **value == refused && offering == "router")
        );
    }
    for speed in [json!(1000), json!(99), json!("fast"), json!([100, 5000])] {
        let characteristics =
            json!([{"name": "colour", "value": "white"}, {"name": "speedMbps", "value": speed}]);
        assert_eq!(
            router_refusal(characteristics),
            (
                "CHARACTERISTIC_VALUE_NOT_ALLOWED",
                "quoteItem[0].product.productCharacteristic[1].value".to_owned()
            ),
            "{speed}"
        );
    }
}

#[test]
fn a_missing_mandatory_characteristic_is_refused() {
    let without_product = QuoteItem {
        product_offering: Some(EntityRef::to("router")),
        ..QuoteItem::default()
    };
    let e = check(&[without_product]).expect_err("refused");
    assert_eq!(e.code(), "MISSING_CHARACTERISTIC");
    assert_eq!(e.path, "quoteItem[0].product.productCharacteristic");
    assert!(
        e.to_string()
            .contains("`colour` of product offering router needs at least 1")
    );
}

#[test]
fn only_an_item_adding_a_product_must_configure_mandatory_characteristics() {
    let with_action = |action: &str| QuoteItem {
        action: Some(action.to_owned()),
        product_offering: Some(EntityRef::to("router")),
        ..QuoteItem::default()
    };
    assert_eq!(
        code_and_path(&[with_action("Add")]).0,
        "MISSING_CHARACTERISTIC"
    );
    for action in ["modify", "delete", "noChange"] {
        assert_eq!(check(&[with_action(action)]), Ok(()), "{action}");
    }
    // What a modify does send is still checked.
    let mut modify = item("router", json!([{"name": "colour", "value": "pink"}]));
    modify.action = Some("modify".into());
    assert_eq!(
        code_and_path(&[modify]).0,
        "CHARACTERISTIC_VALUE_NOT_ALLOWED"
    );
}

#[test]
fn a_characteristic_sent_without_a_value_carries_none() {
    let without_value = json!([{"name": "colour"}]);
    assert_eq!(router_refusal(without_value).0, "MISSING_CHARACTERISTIC");
    let optional = json!([{"name": "colour", "value": "white"}, {"name": "speedMbps"}]);
    assert_eq!(check(&[item("router", optional)]), Ok(()));
}

#[test]
fn more_values_than_max_cardinality_are_refused() {
    let twice = json!([{"name": "colour", "value": "white"}, {"name": "colour", "value": "black"}]);
    assert_eq!(router_refusal(twice).0, "TOO_MANY_CHARACTERISTIC_VALUES");
    let three = json!([{"name": "colour", "value": "white"}, {"name": "speedMbps", "value": [100, 200, 300]}]);
    assert_eq!(router_refusal(three).0, "TOO_MANY_CHARACTERISTIC_VALUES");
}

#[test]
fn an_expired_characteristic_use_is_unknown() {
    let legacy =
        json!([{"name": "colour", "value": "white"}, {"name": "legacyPort", "value": "rj11"}]);
    assert_eq!(router_refusal(legacy).0, "UNKNOWN_CHARACTERISTIC");
}

#[test]
fn child_items_are_checked_against_their_own_offering_with_a_nested_path() {
    let mut parent = item("plain", json!([{"name": "whatever", "value": 1}]));
    parent.quote_item = vec![
        item("plain", json!([])),
        item("router", json!([{"name": "colour", "value": "pink"}])),
    ];
    assert_eq!(
        code_and_path(&[parent]),
        (
            "CHARACTERISTIC_VALUE_NOT_ALLOWED",
            "quoteItem[0].quoteItem[1].product.productCharacteristic[0].value".to_owned()
        )
    );
}

#[test]
fn items_of_unknown_or_missing_offerings_are_left_to_pricing() {
    let unknown = item("nope", json!([{"name": "x", "value": 1}]));
    let none = QuoteItem::default();
    assert_eq!(check(&[unknown, none]), Ok(()));
}

#[test]
fn a_spec_shaped_tmf620_offering_is_read_as_it_comes() {
    let offering: ProductOffering =
        serde_json::from_str(include_str!("../../tests/fixtures/product-offering.json"))
            .expect("the fixture offering");
    let id = offering.id.clone();
    let catalog = CatalogSnapshot::new(vec![offering], vec![]);
    let latency = |value: Value| item(&id, json!([{"name": "latencyMs", "value": value}]));

    for allowed in [json!(10), json!(5.5), json!("5.50")] {
        assert_eq!(
            validate_characteristics(&[latency(allowed.clone())], &catalog, NOW),
            Ok(()),
            "{allowed}"
        );
    }
    let refused = validate_characteristics(&[latency(json!(7))], &catalog, NOW)
        .expect_err("7 ms is not offered");
    assert_eq!(refused.code(), "CHARACTERISTIC_VALUE_NOT_ALLOWED");
    let missing = validate_characteristics(&[item(&id, json!([]))], &catalog, NOW)
        .expect_err("latencyMs is mandatory");
    assert_eq!(missing.code(), "MISSING_CHARACTERISTIC");
}
