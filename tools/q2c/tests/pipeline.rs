//! `q2c local` with its consumers, end to end over real HTTP and the embedded queues: an
//! accepted quote's order reaches (the in-process fake) order management once and is marked
//! dispatched; a price change reaches billing-updates and re-prices an open quote; a quote
//! event reaches a quote-hub subscriber's queue.

use q2c_testkit::poll::eventually;
use std::time::Duration;

use q2c_local::SqliteQueues;
use q2c_service::messaging::{QueueClient, Receive, ReceivedMessage, queues};
use serde_json::{Value, json};

mod local_common;
use local_common::Local;

const SECRET: &str = "pipeline-secret";
const API: &str = "/tmf-api/quoteManagement/v4";
const WAIT: Duration = Duration::from_secs(20);

/// `q2c local` with its consumers (on by default).
async fn start() -> Local {
    Local::start(SECRET, "pipeline", |config| {
        assert!(config.consumers, "consumers run by default");
    })
    .await
}

/// A quote for one of `offering`.
async fn quote(local: &Local, offering: &str) -> Value {
    local
        .send(
            reqwest::Method::POST,
            &format!("{API}/quote"),
            Some(json!({"quoteItem": [{"productOffering": {"id": offering}, "quantity": 1}]})),
        )
        .await
}

async fn receive_all(queues: &SqliteQueues, queue: &str) -> Vec<ReceivedMessage> {
    queues
        .receive(queue, Receive::batch(Duration::from_secs(60)))
        .await
        .expect("receive")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_quote_reaches_order_management_once_and_is_marked_dispatched() {
    let local = start().await;
    let quote = quote(&local, "mobile-s").await;
    let id = quote["id"].as_str().expect("id").to_owned();
    let path = format!("{API}/quote/{id}");
    local.patch_states(&path, &["approved", "accepted"]).await;

    let orders_path = "/tmf-api/productOrderingManagement/v4/productOrder";
    let order = eventually("the order to be dispatched", WAIT, || async {
        let list = local.get(orders_path).await;
        list.as_array()
            .and_then(|orders| orders.first().cloned())
            .filter(|order| order["dispatch"]["status"] == "dispatched")
    })
    .await;
    let order_id = order["id"].as_str().expect("order id").to_owned();
    assert!(order["dispatch"]["downstreamId"].is_string(), "{order}");

    let (received, _) = local_common::fake_orders(&local.downstream).await;
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["externalId"], json!(order_id));
    assert_eq!(received[0]["posts"], json!(1), "one POST, no duplicate");
    local.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_change_reaches_billing_and_reprices_an_open_quote() {
    let local = start().await;
    let quote = quote(&local, "mobile-l").await;
    let id = quote["id"].as_str().expect("id").to_owned();
    let before = quote["quoteTotalPrice"].clone();
    assert!(before.is_array(), "{quote}");

    let event_id =
        q2c::queue_cmd::price_change(local.data_dir.path(), "mobile-l-monthly", "99.99", None)
            .await
            .expect("price change enqueued")
            .event_id;

    let queues = local.queues();
    let billed = eventually("the change on billing-updates", WAIT, || async {
        let got = receive_all(&queues, queues::BILLING_UPDATES).await;
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(billed.len(), 1);
    let body: Value = serde_json::from_str(&billed[0].body).expect("JSON");
    assert_eq!(body["eventId"], json!(event_id));

    let repriced = eventually("the open quote to be re-priced", WAIT, || async {
        let now = local.get(&format!("{API}/quote/{id}")).await;
        (now["quoteTotalPrice"] != before).then_some(now)
    })
    .await;
    let text = repriced["quoteTotalPrice"].to_string();
    assert!(
        text.contains("99.99"),
        "the new monthly price shows: {text}"
    );
    local.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_event_reaches_a_quote_hub_subscriber_queue() {
    let local = start().await;
    let queues = local.queues();
    queues
        .configure_queue("subscriber-pipeline", None, 5)
        .await
        .expect("create the subscriber's queue");
    local
        .send(
            reqwest::Method::POST,
            &format!("{API}/hub"),
            Some(json!({"callback": "local:subscriber-pipeline", "query": "eventType=QuoteCreateEvent"})),
        )
        .await;
    let quote = quote(&local, "mobile-s").await;

    let delivered = eventually(
        "the QuoteCreateEvent on subscriber-pipeline",
        WAIT,
        || async {
            let got = receive_all(&queues, "subscriber-pipeline").await;
            (!got.is_empty()).then_some(got)
        },
    )
    .await;
    let body: Value = serde_json::from_str(&delivered[0].body).expect("JSON");
    assert_eq!(body["eventType"], "QuoteCreateEvent");
    assert_eq!(body["event"]["quote"]["id"], quote["id"]);
    local.stop().await;
}
