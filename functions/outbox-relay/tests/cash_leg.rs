//! The cash leg on moto, through the DynamoDB adapters and this function: an accepted order
//! of fibre (with its 3-month promotion) and two mobile lines is reported completed to the
//! order-state listener's use-case (what the quote-api function runs) over `DynamoStore`;
//! the relay's sweep publishes its events; `billing-updates` on SQS then holds exactly one
//! `ProductCreateEvent` per product, valid against the official TMF637 v4 schema, at the
//! quoted prices, with the billing account attributes; the completion delivered twice more
//! changes nothing. (Dispatch through `order-dispatch` is proven by its own moto test; the
//! whole HTTP path by `tools/q2c/tests/cash_leg.rs` on `q2c local`.) Needs
//! `Q2C_TEST_AWS_ENDPOINT`.

mod common;

use std::sync::Arc;

use common::MotoStack;
use q2c_aws::DynamoSettings;
use q2c_model::ordering::order_from_quote;
use q2c_model::tmf::{Quote, QuoteState};
use q2c_service::context::{Scope, TenantId};
use q2c_service::inventory::ProductStore;
use q2c_service::orders::{Dispatch, OrderService, OrderStore, StoredOrder};
use q2c_service::ports::{QuoteStore, StoredQuote, SystemClock};
use q2c_service::testing::caller;
use q2c_testkit::sqs::take_all;
use q2c_testkit::tmf637;
use serde_json::{Value, json};
use time::OffsetDateTime;

fn quote(id: &str) -> Quote {
    let monthly = |pop: &str, amount: f64| {
        json!({"priceType": "recurring", "recurringChargePeriod": "month",
               "price": {"dutyFreeAmount": {"unit": "EUR", "value": amount},
                         "taxIncludedAmount": {"unit": "EUR", "value": amount * 1.2}, "taxRate": 20},
               "productOfferingPrice": {"id": pop}})
    };
    let mut fibre = monthly("fibre-1g-monthly", 40.0);
    fibre["priceAlteration"] = json!([{
        "priceType": "discount", "name": "50% off for 3 months", "applicationDuration": 3,
        "recurringChargePeriod": "month", "priority": 1,
        "price": {"percentage": 50, "dutyFreeAmount": {"unit": "EUR", "value": 20.0}},
        "productOfferingPrice": {"id": "fibre-1g-promo-50"}
    }]);
    serde_json::from_value(json!({
        "id": id,
        "href": format!("/tmf-api/quoteManagement/v4/quote/{id}"),
        "state": "accepted",
        "quoteDate": "2026-12-01T09:00:00Z",
        "billingAccount": [{"id": "ba-1001"}],
        "relatedParty": [{"id": "cust-42", "role": "customer", "@referredType": "Individual"}],
        "quoteItem": [
            {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "fibre-1g"},
             "quoteItemPrice": [fibre]},
            {"id": "2", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-s"},
             "quoteItemPrice": [monthly("mobile-s-monthly", 10.0)]},
            {"id": "3", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-l"},
             "quoteItemPrice": [monthly("mobile-l-monthly", 25.0)]}
        ]
    }))
    .expect("quote")
}

fn notification(order_id: &str, state: &str) -> Value {
    json!({
        "eventId": format!("om-{state}"),
        "eventType": "ProductOrderStateChangeEvent",
        "event": {"productOrder": {"id": "OM-1", "externalId": order_id, "state": state}}
    })
}

#[tokio::test]
async fn a_completed_order_reaches_billing_on_sqs_once_per_product() {
    q2c_testkit::require_moto!();
    let stack = MotoStack::new("q2c-cash", "cash").await;
    let billing = stack.queue("billing-updates").await;
    stack.queue("quote-events").await;
    let (store, sqs) = (&stack.store, &stack.sqs);
    let tenant = TenantId::parse("cash").expect("tenant");

    // An accepted quote and its order, as the quote PATCH writes them.
    let accepted = quote("q-cash");
    let mut open = accepted.clone();
    open.state = Some(QuoteState::Approved);
    let stored = |quote: Quote, version| StoredQuote {
        quote,
        version,
        approval_required: false,
        price_ids: Vec::new(),
    };
    store
        .insert(&tenant, &stored(open, 1), &[])
        .await
        .expect("insert quote");
    let mut order = order_from_quote(&accepted, "o-cash", OffsetDateTime::now_utc());
    order.href = Some("/tmf-api/productOrderingManagement/v4/productOrder/o-cash".into());
    let order = StoredOrder {
        order,
        version: 1,
        dispatch: Dispatch::new_order(),
    };
    store
        .accept(&tenant, &stored(accepted.clone(), 2), 1, &order, &[])
        .await
        .expect("accept");

    // Order management reports the order's progress; the completion arrives three times.
    let ports = store.ports(
        Arc::new(DynamoSettings::new(store.clone())),
        Arc::new(SystemClock),
    );
    let service = OrderService::new(ports);
    let ctx = caller(tenant.as_str(), &[Scope::OrderWrite]);
    for state in [
        "acknowledged",
        "inProgress",
        "completed",
        "completed",
        "completed",
    ] {
        service
            .apply_state_change(&ctx, &notification("o-cash", state))
            .await
            .unwrap_or_else(|e| panic!("{state}: {e:?}"));
    }
    let completed = OrderStore::get(store, &tenant, "o-cash")
        .await
        .expect("get")
        .expect("order");
    assert_eq!(
        completed.version, 4,
        "the redelivered completions changed nothing"
    );

    let relay = stack.relay();
    relay.sweep().await.expect("sweep");
    relay
        .sweep()
        .await
        .expect("a second sweep sends nothing new");
    let messages = take_all(sqs, &billing).await;
    assert_eq!(messages.len(), 3, "one message per product");

    let mut offerings = Vec::new();
    for message in &messages {
        let body: Value = serde_json::from_str(message.body().unwrap_or_default()).expect("JSON");
        let errors = tmf637::errors("ProductCreateEvent", &body);
        assert!(
            errors.is_empty(),
            "not a TMF637 v4 ProductCreateEvent: {errors:#?}"
        );
        let attribute = |name: &str| {
            message
                .message_attributes()
                .and_then(|a| a.get(name))
                .and_then(|v| v.string_value())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(attribute("eventType"), "ProductCreateEvent");
        assert_eq!(attribute("tenant"), "cash");
        assert_eq!(attribute("billingAccount"), "ba-1001");
        assert_eq!(attribute("sequence"), "1");
        assert_eq!(attribute("eventId"), body["eventId"].as_str().expect("id"));
        let product = &body["event"]["product"];
        let offering = product["productOffering"]["id"].as_str().expect("offering");
        let item = accepted
            .quote_item
            .iter()
            .find(|i| i.product_offering.as_ref().map(|o| o.id.as_str()) == Some(offering))
            .expect("its quote item");
        let quoted = serde_json::to_value(&item.quote_item_price[0]).expect("json");
        assert_eq!(product["productPrice"][0]["price"], quoted["price"]);
        assert_eq!(
            product["productPrice"][0].get("productPriceAlteration"),
            quoted.get("priceAlteration")
        );
        let id = product["id"].as_str().expect("product id");
        let held = ProductStore::get(store, &tenant, id)
            .await
            .expect("get product");
        assert!(held.is_some(), "the product is in the inventory");
        offerings.push(offering.to_owned());
    }
    offerings.sort();
    assert_eq!(offerings, ["fibre-1g", "mobile-l", "mobile-s"]);
}
