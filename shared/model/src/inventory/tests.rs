use serde_json::{Value, json};
use time::macros::datetime;

use super::*;
use crate::tmf::ProductOrder;

const NOW: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);

fn order() -> ProductOrder {
    serde_json::from_value(json!({
        "id": "o-1",
        "href": "/tmf-api/productOrderingManagement/v4/productOrder/o-1",
        "orderDate": "2026-11-30T09:00:00Z",
        "state": "completed",
        "billingAccount": {"id": "ba-7"},
        "relatedParty": [{"id": "cust-1", "role": "customer"}],
        "productOrderItem": [
            {
                "id": "1", "action": "add", "quantity": 1,
                "productOffering": {"id": "fibre-1g", "name": "Fibre 1G"},
                "product": {"productCharacteristic": [{"name": "speed", "value": "1G"}],
                            "x-installSlot": "am"},
                "x-channel": "shop",
                "itemPrice": [{
                    "priceType": "recurring", "recurringChargePeriod": "month",
                    "price": {"dutyFreeAmount": {"unit": "EUR", "value": 40},
                              "taxIncludedAmount": {"unit": "EUR", "value": 48}},
                    "productOfferingPrice": {"id": "fibre-1g-monthly"},
                    "priceAlteration": [{
                        "priceType": "discount", "applicationDuration": 3,
                        "recurringChargePeriod": "month",
                        "price": {"percentage": 50},
                        "productOfferingPrice": {"id": "fibre-1g-promo-50"}
                    }]
                }]
            },
            {
                "id": "2", "action": "add",
                "productOffering": {"id": "family-pack"},
                "productOrderItem": [
                    {"id": "2.1", "action": "add", "productOffering": {"id": "mobile-s"},
                     "itemPrice": [{"priceType": "recurring", "recurringChargePeriod": "month",
                                    "price": {"dutyFreeAmount": {"unit": "EUR", "value": 10}}}]},
                    {"id": "2.2", "action": "add", "productOffering": {"id": "mobile-s"}}
                ]
            }
        ]
    }))
    .expect("an order")
}

fn products() -> Vec<Product> {
    let mut n = 0;
    products_from_order(
        &order(),
        || {
            n += 1;
            format!("p-{n}")
        },
        NOW,
    )
}

#[test]
fn every_add_item_becomes_an_active_product_with_the_quoted_prices() {
    let products = products();
    assert_eq!(product_count(&order()), 4);
    assert_eq!(products.len(), 4);
    let fibre = &products[0];
    assert_eq!(fibre.id(), "p-1");
    assert_eq!(fibre.status, Some(ProductStatus::Active));
    assert_eq!(fibre.start_date, Some(NOW));
    assert_eq!(fibre.billing_account_id(), Some("ba-7"));
    assert_eq!(fibre.related_party[0].id, "cust-1");
    assert_eq!(fibre.name.as_deref(), Some("Fibre 1G"));
    let price = &fibre.product_price[0];
    assert_eq!(price.price_type, "recurring");
    assert_eq!(
        price.product_offering_price.as_ref().map(|p| p.id.as_str()),
        Some("fibre-1g-monthly")
    );
    let promo = &price.product_price_alteration[0];
    assert_eq!(promo.application_duration, Some(3));
    assert_eq!(fibre.product_order_item[0].product_order_id, "o-1");
    assert_eq!(fibre.product_order_item[0].order_item_id, "1");
    assert_eq!(
        fibre.href.as_deref(),
        Some("/tmf-api/productInventory/v4/product/p-1")
    );
}

#[test]
fn unknown_fields_of_the_item_and_the_product_are_carried() {
    let value = serde_json::to_value(&products()[0]).expect("serialises");
    assert_eq!(value["x-installSlot"], "am");
    assert_eq!(value["x-channel"], "shop");
    // Order item fields are not product fields.
    assert_eq!(value.get("quantity"), None);
    assert_eq!(value.get("action"), None);
    let amount: Value = value["productPrice"][0]["price"]["dutyFreeAmount"].clone();
    assert_eq!(amount, json!({"unit": "EUR", "value": 40}));
}

#[test]
fn a_bundle_is_a_product_related_to_a_product_per_component() {
    let products = products();
    let bundle = &products[1];
    assert_eq!(bundle.is_bundle, Some(true));
    let related: Vec<&str> = bundle
        .product_relationship
        .iter()
        .map(|r| r.product.id.as_str())
        .collect();
    assert_eq!(related, ["p-3", "p-4"]);
    assert!(
        bundle
            .product_relationship
            .iter()
            .all(|r| r.relationship_type == BUNDLES)
    );
    assert_eq!(products[2].product_order_item[0].order_item_id, "2.1");
    assert!(products[2].product_relationship.is_empty());
}

#[test]
fn items_that_are_not_adds_create_nothing() {
    let mut order = order();
    order.product_order_item[0].action = "modify".to_owned();
    assert_eq!(product_count(&order), 3);
    let made = products_from_order(&order, || "x".to_owned(), NOW);
    assert_eq!(made.len(), 3);
    assert!(
        made.iter()
            .all(|p| p.product_offering.as_ref().map(|o| o.id.as_str()) != Some("fibre-1g"))
    );
}

#[test]
fn the_v4_spelling_of_aborted_is_read() {
    let status: ProductStatus = serde_json::from_value(json!("aborted ")).expect("reads");
    assert_eq!(status, ProductStatus::Aborted);
    assert_eq!(
        serde_json::to_value(ProductStatus::PendingActive).expect("ok"),
        json!("pendingActive")
    );
}
