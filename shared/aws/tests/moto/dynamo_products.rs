//! Inventory products on DynamoDB beyond the contract: the item layout (sparse listing
//! indexes per billing account on `gsi1` and per owner party on `gsi2`) and the requests a
//! product read and listing make (no scan).

use aws_sdk_dynamodb::types::AttributeValue;
use q2c_aws::Operation;
use q2c_model::tmf::{EntityRef, Product, ProductOrderState, ProductStatus};
use q2c_service::inventory::{ProductFilter, ProductStore, StoredProduct};
use q2c_service::orders::{OrderStore, StateChange};
use q2c_service::ports::Page;
use time::macros::datetime;

use crate::common::{insert_accepted, quote, raw_item, setup};

fn product(id: &str, account: Option<&str>, party: Option<&str>) -> StoredProduct {
    StoredProduct {
        product: Product {
            id: Some(id.into()),
            status: Some(ProductStatus::Active),
            start_date: Some(datetime!(2026-01-02 10:00 UTC)),
            billing_account: account.map(EntityRef::to),
            related_party: party
                .map(|p| serde_json::from_value(serde_json::json!([{"id": p, "role": "customer"}])))
                .transpose()
                .expect("party")
                .unwrap_or_default(),
            ..Product::default()
        },
        version: 1,
    }
}

/// The product item as stored.
async fn raw(table: &str, id: &str) -> std::collections::HashMap<String, AttributeValue> {
    raw_item(table, &format!("T#acme#PRODUCT#{id}"), "PRODUCT")
        .await
        .expect("the product item is keyed T#<tenant>#PRODUCT#<id> / PRODUCT")
}

#[tokio::test]
async fn products_are_listed_per_account_and_party_in_two_queries_each() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let stored = quote("q-1", now, &[]);
    let (_, order) = insert_accepted(&store, &acme, &stored, now).await;
    let mut completed = order.clone();
    completed.order.state = Some(ProductOrderState::Completed);
    completed.version = 2;
    let products = [
        product("p-1", Some("ba-1"), Some("cust-1")),
        product("p-2", None, None),
    ];
    store
        .record_state_change(
            &acme,
            StateChange {
                order: &completed,
                expected_version: 1,
                products: &products,
                events: &[],
            },
        )
        .await
        .expect("completion");

    let listed = raw(store.table(), "p-1").await;
    assert_eq!(
        listed["gsi1pk"],
        AttributeValue::S("T#acme#PRODUCTS#BA#ba-1".into())
    );
    assert_eq!(
        listed["gsi2pk"],
        AttributeValue::S("T#acme#PRODUCTS#PARTY#cust-1".into())
    );
    let sort_key = AttributeValue::S("2026-01-02T10:00:00.000000000Z#p-1".into());
    assert_eq!(
        (&listed["gsi1sk"], &listed["gsi2sk"]),
        (&sort_key, &sort_key)
    );
    let unlisted = raw(store.table(), "p-2").await;
    assert!(
        !unlisted.contains_key("gsi1pk") && !unlisted.contains_key("gsi2pk"),
        "a product without account or party is on no listing partition: {unlisted:?}"
    );

    let page = Page {
        offset: 0,
        limit: 20,
    };
    for filter in [
        ProductFilter {
            billing_account_id: Some("ba-1".into()),
            ..ProductFilter::default()
        },
        ProductFilter {
            related_party_id: Some("cust-1".into()),
            status: Some(ProductStatus::Active),
            ..ProductFilter::default()
        },
    ] {
        let before = store.requests().snapshot();
        let listing = ProductStore::list(&store, &acme, &filter, page)
            .await
            .expect("list");
        let delta = store.requests().snapshot().since(&before);
        assert_eq!(listing.total, 1, "{filter:?}");
        assert_eq!(listing.items[0].id(), "p-1");
        assert_eq!(
            (delta.total(), delta.of(Operation::Query)),
            (2, 2),
            "a page and its count: {filter:?}"
        );
    }
    let before = store.requests().snapshot();
    ProductStore::get(&store, &acme, "p-2")
        .await
        .expect("get")
        .expect("product");
    let delta = store.requests().snapshot().since(&before);
    assert_eq!((delta.total(), delta.of(Operation::GetItem)), (1, 1));
}
