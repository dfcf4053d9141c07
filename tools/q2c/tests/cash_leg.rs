//! The cash leg on `q2c local`, end to end over real HTTP and the embedded queues: a quote
//! for fibre (with its 3-month promotion) and two mobile lines is accepted, dispatched to the
//! in-process fake order management, which reports it completed through q2c's TMF622
//! listener; `billing-updates` then holds exactly one `ProductCreateEvent` per product, valid
//! against the official TMF637 v4 schema, at the quoted prices and with the billing account;
//! the completion delivered again changes nothing; the TMF637 API then serves those products.

use q2c_testkit::poll::eventually;
use std::time::Duration;

use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::messaging::queues;
use q2c_service::ports::OutboxStore;
use q2c_service::testing::drain;
use serde_json::{Value, json};

mod local_common;
use local_common::Local;

const SECRET: &str = "cash-leg-secret";
const QUOTES: &str = "/tmf-api/quoteManagement/v4/quote";
const ORDERING: &str = "/tmf-api/productOrderingManagement/v4";
const INVENTORY: &str = "/tmf-api/productInventory/v4";
const WAIT: Duration = Duration::from_secs(30);

/// `q2c local` whose fake order management completes each order `complete_after` after
/// accepting it.
async fn start(complete_after: Duration) -> Local {
    Local::start(SECRET, "cash", |config| {
        config.complete_orders_after = Some(complete_after);
    })
    .await
}

/// The accepted quote of the scenario: fibre (its promotion applies by itself) and two
/// mobile lines, billed to `ba-1001`.
async fn accepted_quote(local: &Local) -> Value {
    let quote = local
        .send(
            reqwest::Method::POST,
            QUOTES,
            Some(json!({
                "billingAccount": [{"id": "ba-1001", "name": "Home"}],
                "relatedParty": [{"id": "cust-42", "role": "customer", "@referredType": "Individual"}],
                "quoteItem": [
                    {"productOffering": {"id": "fibre-1g"}, "quantity": 1},
                    {"productOffering": {"id": "mobile-s"}, "quantity": 1},
                    {"productOffering": {"id": "mobile-l"}, "quantity": 1}
                ]
            })),
        )
        .await;
    let path = format!("{QUOTES}/{}", quote["id"].as_str().expect("quote id"));
    local.patch_states(&path, &["approved", "accepted"]).await;
    local.get(&path).await
}

async fn completed_order(local: &Local, quote_id: &str) -> Value {
    eventually("the order to be reported completed", WAIT, || async {
        let orders = local.get(&format!("{ORDERING}/productOrder")).await;
        orders
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|o| o["quote"][0]["id"] == quote_id)
                    .cloned()
            })
            .filter(|o| o["state"] == "completed")
    })
    .await
}

async fn no_pending_events(store: &SqliteStore) {
    eventually("the outbox to be relayed", WAIT, || async {
        store
            .pending(10)
            .await
            .expect("pending")
            .is_empty()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_order_reaches_billing_once_per_product_at_the_quoted_prices() {
    let local = start(Duration::ZERO).await;
    let quote = accepted_quote(&local).await;
    let quote_id = quote["id"].as_str().expect("id");
    let order = completed_order(&local, quote_id).await;
    let order_id = order["id"].as_str().expect("order id");

    // Order management delivers the completion again, twice: nothing changes.
    let listener = format!(
        "{}{ORDERING}/listener/productOrderStateChangeEvent",
        local.url
    );
    for _ in 0..2 {
        let response = local
            .http
            .post(&listener)
            .bearer_auth(&local.token)
            .json(&json!({
                "eventId": "om-redelivered",
                "eventType": "ProductOrderStateChangeEvent",
                "event": {"productOrder": {"externalId": order_id, "state": "completed"}}
            }))
            .send()
            .await
            .expect("listener");
        assert!(response.status().is_success(), "{}", response.status());
    }
    let again = local
        .get(&format!("{ORDERING}/productOrder/{order_id}"))
        .await;
    assert_eq!(again, order, "a redelivered completion changes nothing");

    let store = local.store();
    no_pending_events(&store).await;
    let queues = SqliteQueues::new(&store);
    let billed = drain(&queues, queues::BILLING_UPDATES).await;
    assert_eq!(
        billed.len(),
        3,
        "exactly one message per product: {billed:#?}"
    );

    let mut offerings = Vec::new();
    for message in &billed {
        let body: Value = serde_json::from_str(&message.body).expect("JSON");
        let errors = q2c_testkit::tmf637::errors("ProductCreateEvent", &body);
        assert!(
            errors.is_empty(),
            "not a TMF637 v4 ProductCreateEvent: {errors:#?}"
        );
        assert_eq!(body["eventType"], "ProductCreateEvent");
        assert_eq!(message.attributes["eventType"], "ProductCreateEvent");
        assert_eq!(message.attributes["tenant"], "cash");
        assert_eq!(message.attributes["billingAccount"], "ba-1001");
        assert_eq!(message.attributes["sequence"], "1");
        assert_eq!(
            message.attributes["eventId"],
            body["eventId"].as_str().expect("id")
        );
        let product = &body["event"]["product"];
        assert_eq!(product["status"], "active");
        assert_eq!(product["billingAccount"]["id"], "ba-1001");
        assert_eq!(product["relatedParty"][0]["id"], "cust-42");
        assert_eq!(product["productOrderItem"][0]["productOrderId"], order_id);
        // The prices are the quoted ones, line by line.
        let offering = product["productOffering"]["id"].as_str().expect("offering");
        let item = quote["quoteItem"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["productOffering"]["id"] == offering)
            .expect("the quote item of the product");
        let quoted = item["quoteItemPrice"].as_array().expect("quoted prices");
        let prices = product["productPrice"].as_array().expect("product prices");
        assert_eq!(prices.len(), quoted.len(), "{offering}");
        for (price, line) in prices.iter().zip(quoted) {
            assert_eq!(price["price"], line["price"], "{offering}");
            assert_eq!(price["priceType"], line["priceType"]);
            assert_eq!(
                price.get("productPriceAlteration"),
                line.get("priceAlteration"),
                "{offering}: the quoted alterations"
            );
        }
        offerings.push(offering.to_owned());
        if offering == "fibre-1g" {
            let monthly = prices
                .iter()
                .find(|p| p["priceType"] == "recurring")
                .expect("the monthly price");
            let promotion = &monthly["productPriceAlteration"][0];
            assert_eq!(promotion["applicationDuration"], 3);
            assert_eq!(promotion["productOfferingPrice"]["id"], "fibre-1g-promo-50");
        }
    }
    offerings.sort();
    assert_eq!(offerings, ["fibre-1g", "mobile-l", "mobile-s"]);

    // The TMF637 API serves the products billing was told of, as they were announced.
    let held = local
        .get(&format!(
            "{INVENTORY}/product?billingAccount.id=ba-1001&relatedParty.id=cust-42"
        ))
        .await;
    let held = held.as_array().expect("products");
    assert_eq!(held.len(), 3, "the account holds the three products");
    for message in &billed {
        let body: Value = serde_json::from_str(&message.body).expect("JSON");
        let announced = &body["event"]["product"];
        let id = announced["id"].as_str().expect("product id");
        let served = local.get(&format!("{INVENTORY}/product/{id}")).await;
        assert_eq!(
            &served, announced,
            "GET product/{id} is the announced product"
        );
        assert!(held.contains(&served), "{id} is listed");
    }
    local.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_order_management_completes_after_its_delay() {
    let local = start(Duration::from_millis(500)).await;
    let quote = accepted_quote(&local).await;
    let order = completed_order(&local, quote["id"].as_str().expect("id")).await;
    assert_eq!(order["dispatch"]["status"], "dispatched");
    let store = local.store();
    no_pending_events(&store).await;
    let billed = drain(&SqliteQueues::new(&store), queues::BILLING_UPDATES).await;
    assert_eq!(billed.len(), 3);
    local.stop().await;
}
