//! Extensibility through the use-cases, with in-memory ports: a quote item carrying fields
//! and subtypes q2c does not model, for an offering of an unknown `@type` with a price type
//! the engine does not know, goes create → read → approve → accept → product order event →
//! order dispatch, and order management receives the unknowns unchanged (compared as JSON).
//! Also: characteristic validation and unsellable offerings on create and on PATCH.

use q2c_model::tmf::Quote;
use serde_json::{Value, json};

use crate::context::{RequestContext, Scope};
use crate::dispatch::DispatchOutcome;
use crate::dispatch::fakes::{deadline, harness, http};
use crate::error::ServiceError;
use crate::messaging::parse_message;
use crate::quotes::QuoteService;
use crate::quotes::StoredQuote;
use crate::relay::outgoing;
use crate::testing::{Fixture, assert_slice_open_prices, caller, rich_item, slice_catalog};

const ALL: &[Scope] = &[Scope::QuoteRead, Scope::QuoteWrite, Scope::QuoteApprove];

/// Adds the slice offerings and their prices ([`slice_catalog`]).
async fn add_slice_offerings(fixture: &Fixture) {
    let catalog = &fixture.ports.catalog;
    let (offerings, prices) = slice_catalog();
    for offering in &offerings {
        catalog.put_offering(offering).await.expect("stored");
    }
    for price in &prices {
        catalog.put_price(price).await.expect("stored");
    }
}

fn quote_with(items: Vec<Value>) -> Quote {
    serde_json::from_value(json!({"quoteItem": items})).expect("a quote")
}

/// Relays the quote's `ProductOrderCreateEvent` as the queue would carry it and dispatches it;
/// the body order management received.
async fn dispatch_the_order(fixture: &Fixture) -> Value {
    let event = fixture.quotes.first_event("ProductOrderCreateEvent");
    let message = outgoing(&event).expect("a message");
    let parsed = parse_message("m-1", &message.body, &message.attributes, Some(1)).expect("parses");
    let h = harness(Box::new(|_, _, _| http(201, json!({"id": "OMS-1"}))));
    let outcome = h.dispatch.dispatch(parsed, deadline(&h)).await;
    assert!(
        matches!(outcome, DispatchOutcome::Dispatched { .. }),
        "{outcome:?}"
    );
    let calls = h.downstream.calls.lock().expect("lock");
    assert_eq!(calls.len(), 1);
    calls[0].1.clone()
}

async fn accept(service: &QuoteService, id: &str) -> StoredQuote {
    let ctx = caller("acme", ALL);
    service
        .patch(&ctx, id, &json!({"state": "approved"}), None)
        .await
        .expect("approved");
    service
        .patch(&ctx, id, &json!({"state": "accepted"}), None)
        .await
        .expect("accepted")
}

/// A fixture with the slice offerings, its quote service and a caller of tenant `acme` with
/// every scope.
async fn slices() -> (Fixture, QuoteService, RequestContext) {
    let fixture = Fixture::new();
    add_slice_offerings(&fixture).await;
    let service = fixture.quote_service();
    (fixture, service, caller("acme", ALL))
}

/// Creates a quote of the [`rich_item`]; the item as sent and the quote.
async fn create_rich(service: &QuoteService, ctx: &RequestContext) -> (Value, StoredQuote) {
    let sent = rich_item();
    let created = service
        .create(ctx, quote_with(vec![sent.clone()]))
        .await
        .expect("created");
    (sent, created)
}

fn item_json(quote: &Quote, index: usize) -> Value {
    serde_json::to_value(&quote.quote_item[index]).expect("serialises")
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn unknown_fields_and_subtypes_reach_order_management_unchanged() {
    let (fixture, service, ctx) = slices().await;
    let (sent, created) = create_rich(&service, &ctx).await;
    let id = created.id().to_owned();
    let read = service.get(&ctx, &id).await.expect("read");
    for quote in [&created.quote, &read.quote] {
        let item = item_json(quote, 0);
        for key in ["@type", "x-channelHint", "productOffering", "product"] {
            assert_eq!(item[key], sent[key], "{key}");
        }
    }

    let accepted = accept(&service, &id).await;
    assert_eq!(item_json(&accepted.quote, 0)["product"], sent["product"]);

    let order = dispatch_the_order(&fixture).await;
    let order_item = &order["productOrderItem"][0];
    assert_eq!(order_item["product"], sent["product"]);
    assert_eq!(order_item["productOffering"], sent["productOffering"]);
    assert_eq!(order_item["x-channelHint"], sent["x-channelHint"]);
    assert_eq!(order_item["@type"], "ProductOrderItem");

    // The penalty travels as its own price line and total, never inside the recurring one.
    assert_slice_open_prices(&order_item["itemPrice"], &order["orderTotalPrice"]);
}

fn configuration_code(result: Result<StoredQuote, ServiceError>) -> (&'static str, String) {
    match result {
        Err(ServiceError::InvalidConfiguration { code, path, .. }) => (code, path),
        other => panic!("expected InvalidConfiguration, got {other:?}"),
    }
}

fn strict_item(characteristics: Value) -> Value {
    json!({
        "productOffering": {"id": "slice-strict"},
        "product": {"productCharacteristic": characteristics}
    })
}

#[tokio::test]
async fn characteristics_are_validated_on_create() {
    let (fixture, service, ctx) = slices().await;

    let cases = [
        (
            json!([{"name": "sliceType", "value": "eMBB"}, {"name": "turbo", "value": true}]),
            "UNKNOWN_CHARACTERISTIC",
            "quoteItem[0].product.productCharacteristic[1].name",
        ),
        (
            json!([{"name": "sliceType", "value": "mMTC"}]),
            "CHARACTERISTIC_VALUE_NOT_ALLOWED",
            "quoteItem[0].product.productCharacteristic[0].value",
        ),
        (
            json!([{"name": "sliceType", "value": "URLLC"}, {"name": "latencyMs", "value": 51}]),
            "CHARACTERISTIC_VALUE_NOT_ALLOWED",
            "quoteItem[0].product.productCharacteristic[1].value",
        ),
        (
            json!([{"name": "latencyMs", "value": 5}]),
            "MISSING_CHARACTERISTIC",
            "quoteItem[0].product.productCharacteristic",
        ),
    ];
    for (characteristics, code, path) in cases {
        let result = service
            .create(&ctx, quote_with(vec![strict_item(characteristics.clone())]))
            .await;
        assert_eq!(
            configuration_code(result),
            (code, path.to_owned()),
            "{characteristics}"
        );
    }
    assert!(fixture.quotes.quotes.lock().expect("lock").is_empty());

    let valid =
        json!([{"name": "sliceType", "value": "URLLC"}, {"name": "latencyMs", "value": "12"}]);
    let created = service
        .create(&ctx, quote_with(vec![strict_item(valid.clone())]))
        .await
        .expect("a valid configuration is quoted");
    assert_eq!(
        item_json(&created.quote, 0)["product"]["productCharacteristic"],
        valid
    );
}

#[tokio::test]
async fn characteristics_are_validated_when_a_patch_changes_items() {
    let (_fixture, service, ctx) = slices().await;
    let created = service
        .create(
            &ctx,
            quote_with(vec![strict_item(
                json!([{"name": "sliceType", "value": "eMBB"}]),
            )]),
        )
        .await
        .expect("created");

    let patch = json!({"quoteItem": [
        strict_item(json!([{"name": "sliceType", "value": "eMBB"}])),
        strict_item(json!([{"name": "sliceType", "value": "nope"}]))
    ]});
    let result = service.patch(&ctx, created.id(), &patch, None).await;
    assert_eq!(
        configuration_code(result),
        (
            "CHARACTERISTIC_VALUE_NOT_ALLOWED",
            "quoteItem[1].product.productCharacteristic[0].value".to_owned()
        )
    );
    let stored = service.get(&ctx, created.id()).await.expect("read");
    assert_eq!(stored.version, 1, "a refused patch writes nothing");
}

fn business_rule(result: Result<StoredQuote, ServiceError>) -> (&'static str, String) {
    match result {
        Err(ServiceError::BusinessRule { code, message, .. }) => (code, message),
        other => panic!("expected BusinessRule, got {other:?}"),
    }
}

#[tokio::test]
async fn retired_or_expired_offerings_cannot_be_quoted_nor_added_by_patch() {
    let (fixture, service, ctx) = slices().await;
    let offering = |id: &str| json!({"productOffering": {"id": id}});

    // mobile-legacy is Retired in the sample catalog.
    for (id, expected) in [
        ("mobile-legacy", "OFFERING_NOT_SELLABLE"),
        ("slice-expired", "OFFERING_NOT_VALID"),
    ] {
        let (code, message) =
            business_rule(service.create(&ctx, quote_with(vec![offering(id)])).await);
        assert_eq!(code, expected);
        assert!(message.contains(id), "{message}");
    }

    let created = service
        .create(&ctx, quote_with(vec![offering("mobile-s")]))
        .await
        .expect("created");
    let patch = json!({"quoteItem": [offering("mobile-s"), offering("mobile-legacy")]});
    let (code, message) = business_rule(service.patch(&ctx, created.id(), &patch, None).await);
    assert_eq!(code, "OFFERING_NOT_SELLABLE");
    assert!(message.contains("mobile-legacy"), "{message}");

    // Obsolete, in any case, is retired too; and the offering is refused before its
    // characteristics are looked at.
    let mut obsolete = fixture
        .ports
        .catalog
        .offerings(&["slice-strict".to_owned()])
        .await
        .expect("read")
        .remove(0);
    obsolete.id = "slice-obsolete".into();
    obsolete.lifecycle_status = Some("OBSOLETE".into());
    fixture
        .ports
        .catalog
        .put_offering(&obsolete)
        .await
        .expect("stored");
    let unknown_characteristic = json!({
        "productOffering": {"id": "slice-obsolete"},
        "product": {"productCharacteristic": [{"name": "turbo", "value": true}]}
    });
    let (code, message) = business_rule(
        service
            .create(&ctx, quote_with(vec![unknown_characteristic]))
            .await,
    );
    assert_eq!(code, "OFFERING_NOT_SELLABLE");
    assert!(message.contains("slice-obsolete"), "{message}");
}

#[tokio::test]
async fn unknown_fields_survive_patches_of_other_fields_and_of_the_items() {
    let (_fixture, service, ctx) = slices().await;
    let (sent, created) = create_rich(&service, &ctx).await;

    let described = service
        .patch(&ctx, created.id(), &json!({"description": "renamed"}), None)
        .await
        .expect("patched");
    assert_eq!(item_json(&described.quote, 0)["product"], sent["product"]);

    // Re-sending the items with a second one re-prices; the first keeps its unknowns.
    let mut second = rich_item();
    second["x-channelHint"] = json!({"partner": "p-8"});
    let repriced = service
        .patch(
            &ctx,
            created.id(),
            &json!({"quoteItem": [sent.clone(), second.clone()]}),
            None,
        )
        .await
        .expect("re-priced");
    for (index, item) in [sent, second].iter().enumerate() {
        let stored = item_json(&repriced.quote, index);
        for key in ["@type", "x-channelHint", "productOffering", "product"] {
            assert_eq!(stored[key], item[key], "item {index} {key}");
        }
    }
    assert_eq!(
        repriced.quote.quote_total_price.len(),
        2,
        "recurring and penalty"
    );
}
