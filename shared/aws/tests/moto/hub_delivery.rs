//! Hub delivery on moto: `HubDelivery` over `DynamoStore` (subscriptions, delivery log) and
//! `SqsCallbackSender`, driven by a batch poller over `SqsQueues` the way the Lambda event
//! source mapping hands a batch of up to 10 to `deliver_batch`. Subscribers: two SQS queues
//! (by ARN) and a loopback HTTP listener. Also measures SQS requests per event per subscriber.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use q2c_aws::{Operation, SqsCallbackSender, SqsQueues};
use q2c_callbacks::{HttpCallbacks, HttpConfig};
use q2c_model::tmf::EventSubscription;
use q2c_service::delivery::{CallbackPolicy, DeliveryConfig, HubDelivery};
use q2c_service::messaging::{
    HandlerError, OutgoingMessage, QueueClient, Receive, attributes, parse_message,
};
use q2c_service::ports::{HubApi, HubStore, SystemClock};
use q2c_testkit::listener::Listener;
use q2c_testkit::sqs::queue_arn;
use serde_json::json;

use crate::common::{create_queue, queue_with_dlq, sqs_client, store, tenant, unique};
use crate::publisher::receive_all;

const SOURCE: &str = "hub-source";
const MAX_RECEIVES: u32 = 3;
const PRICE_EVENT: &str = "ProductOfferingPriceAttributeValueChangeEvent";

struct World {
    store: q2c_aws::DynamoStore,
    tenants: [q2c_service::context::TenantId; 2],
    client: aws_sdk_sqs::Client,
    queues: SqsQueues,
    sender: SqsCallbackSender,
    delivery: HubDelivery,
    sub_urls: [String; 2],
    dlq_url: String,
    listener: Listener,
}

/// Source queue (+ DLQ, maxReceiveCount 3), two subscriber queues, a listener, and three
/// catalog subscriptions; `missing` adds a fourth whose queue does not exist.
async fn world(missing: bool) -> World {
    let store = store().await;
    let client = sqs_client();
    let prefix = format!("{}-", unique("hub"));
    let (_, dlq_url) =
        queue_with_dlq(&client, &format!("{prefix}{SOURCE}"), MAX_RECEIVES, 30).await;
    let mut sub_urls = Vec::new();
    let mut arns = Vec::new();
    for name in ["sub-a", "sub-b"] {
        let url = create_queue(&client, &format!("{prefix}{name}"), HashMap::new()).await;
        arns.push(queue_arn(&client, &url).await);
        sub_urls.push(url);
    }
    let missing_arn = arns[0].replace("sub-a", "no-such-queue");
    let listener = Listener::start(StatusCode::NO_CONTENT).await;
    let policy = CallbackPolicy::from_allowlist(&format!(
        "{},{},{missing_arn},http://127.0.0.1",
        arns[0], arns[1]
    ))
    .expect("allow-list")
    .allowing_loopback();

    let a = tenant(&unique("tenant-a"));
    let b = tenant(&unique("tenant-b"));
    let subscriptions = [
        (
            &a,
            "s-1",
            arns[0].clone(),
            Some(format!("eventType={PRICE_EVENT}")),
        ),
        (
            &b,
            "s-1",
            arns[1].clone(),
            Some("event.productOfferingPrice.id=pop-1".into()),
        ),
        (&a, "s-http", listener.url.clone(), None),
    ];
    for (t, id, callback, query) in subscriptions {
        let subscription = EventSubscription {
            id: id.into(),
            callback,
            query,
        };
        store
            .create(t, HubApi::Catalog, &subscription)
            .await
            .expect("subscribe");
    }
    if missing {
        let gone = EventSubscription {
            id: "s-gone".into(),
            callback: missing_arn,
            query: None,
        };
        store
            .create(&b, HubApi::Catalog, &gone)
            .await
            .expect("subscribe");
    }
    let http = HttpCallbacks::new(
        policy.clone(),
        HttpConfig {
            backoff: Duration::from_millis(1),
            ..HttpConfig::default()
        },
    )
    .expect("http");
    let sender = SqsCallbackSender::new(client.clone(), http);
    let delivery = HubDelivery::new(
        Arc::new(store.clone()),
        store.delivery_log(),
        Arc::new(sender.clone()),
        policy,
        Arc::new(SystemClock),
        DeliveryConfig {
            max_attempts: MAX_RECEIVES,
            // Retries here come at once (a test does not wait out the 30 s backoff).
            retry_base: Duration::from_millis(10),
            ..DeliveryConfig::default()
        },
    );
    let queues = SqsQueues::new(client.clone()).with_prefix(&prefix);
    World {
        store,
        tenants: [a.clone(), b.clone()],
        client,
        queues,
        sender,
        delivery,
        sub_urls: [sub_urls.remove(0), sub_urls.remove(0)],
        dlq_url,
        listener,
    }
}

fn price_change(event_id: &str) -> OutgoingMessage {
    let body = json!({"eventId": event_id, "eventTime": "2026-11-27T17:00:00Z",
        "eventType": PRICE_EVENT, "schemaVersion": "1.0",
        "event": {"productOfferingPrice": {"id": "pop-1"}}});
    OutgoingMessage {
        body: body.to_string(),
        attributes: BTreeMap::from([
            (attributes::EVENT_TYPE.to_owned(), PRICE_EVENT.to_owned()),
            (attributes::EVENT_ID.to_owned(), event_id.to_owned()),
            (attributes::SCHEMA_VERSION.to_owned(), "1.0".to_owned()),
        ]),
    }
}

async fn publish(world: &World, ids: &[String]) {
    for chunk in ids.chunks(10) {
        let batch: Vec<_> = chunk.iter().map(|id| price_change(id)).collect();
        let outcome = world.queues.send_batch(SOURCE, &batch).await.expect("send");
        assert!(outcome.failed.is_empty());
    }
}

/// The Lambda's loop in miniature: receive up to 10, `deliver_batch`, delete what was
/// delivered, send poison to the DLQ with its reason, leave transient failures for
/// redelivery (visibility 0, so at once). Bounded: a broken delivery fails, not hangs.
async fn drain(world: &World, api: HubApi) {
    let dlq = world
        .dlq_url
        .rsplit('/')
        .next()
        .expect("dlq name")
        .to_owned();
    for _ in 0..100 {
        let received = world
            .queues
            .receive(SOURCE, Receive::batch(Duration::ZERO))
            .await
            .expect("receive");
        if received.is_empty() {
            let counts = world.queues.counts(SOURCE).await.expect("counts");
            if counts.visible + counts.in_flight == 0 {
                return;
            }
            continue;
        }
        let parsed: Vec<_> = received
            .iter()
            .map(|m| {
                parse_message(&m.message_id, &m.body, &m.attributes, Some(m.receive_count))
                    .expect("valid envelope")
            })
            .collect();
        let results = world.delivery.deliver_batch(api, &parsed).await;
        let mut done = Vec::new();
        for (message, result) in received.iter().zip(results) {
            match result {
                Ok(()) => done.push(message.receipt_handle.clone()),
                Err(HandlerError::Poison { reason }) => {
                    let mut attrs = message.attributes.clone();
                    attrs.insert(attributes::FAILURE_REASON.into(), reason);
                    let copy = OutgoingMessage {
                        body: message.body.clone(),
                        attributes: attrs,
                    };
                    world
                        .client
                        .send_message_batch()
                        .queue_url(&world.dlq_url)
                        .entries(
                            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                                .id("0")
                                .message_body(&copy.body)
                                .message_attributes(
                                    attributes::FAILURE_REASON,
                                    aws_sdk_sqs::types::MessageAttributeValue::builder()
                                        .data_type("String")
                                        .string_value(&copy.attributes[attributes::FAILURE_REASON])
                                        .build()
                                        .expect("attribute"),
                                )
                                .build()
                                .expect("entry"),
                        )
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("DLQ {dlq}: {e}"));
                    done.push(message.receipt_handle.clone());
                }
                Err(HandlerError::Transient(_)) => {}
            }
        }
        if !done.is_empty() {
            world
                .queues
                .delete_batch(SOURCE, &done)
                .await
                .expect("delete");
        }
    }
    panic!("the source queue did not drain");
}

fn ids_of(messages: &[aws_sdk_sqs::types::Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            m.message_attributes()
                .and_then(|a| a.get(attributes::EVENT_ID))
                .and_then(|v| v.string_value.clone())
                .expect("eventId attribute")
        })
        .collect()
}

#[tokio::test]
async fn a_price_change_published_twice_reaches_each_of_three_subscribers_once() {
    q2c_testkit::require_moto!();
    let w = world(false).await;
    let id = vec![unique("e")];
    publish(&w, &id).await;
    drain(&w, HubApi::Catalog).await;
    publish(&w, &id).await;
    drain(&w, HubApi::Catalog).await;

    for url in &w.sub_urls {
        assert_eq!(ids_of(&receive_all(&w.client, url, 2).await), id, "{url}");
    }
    assert_eq!(w.listener.event_ids(), id, "one POST");
}

#[tokio::test]
async fn a_subscriber_without_its_queue_is_retried_then_dead_lettered_with_a_reason() {
    q2c_testkit::require_moto!();
    let w = world(true).await;
    let id = vec![unique("e")];
    publish(&w, &id).await;
    drain(&w, HubApi::Catalog).await;

    let dead = receive_all(&w.client, &w.dlq_url, 2).await;
    assert_eq!(dead.len(), 1, "dead-lettered once");
    let reason = dead[0]
        .message_attributes()
        .and_then(|a| a.get(attributes::FAILURE_REASON))
        .and_then(|v| v.string_value.clone())
        .expect("failureReason");
    assert!(
        reason.contains("/catalog/s-gone"),
        "names the subscriber: {reason}"
    );
    assert!(
        reason.contains("NonExistentQueue") || reason.contains("does not exist"),
        "{reason}"
    );
    assert!(
        reason.contains(&format!("after {MAX_RECEIVES} attempts")),
        "{reason}"
    );
    for url in &w.sub_urls {
        assert_eq!(
            ids_of(&receive_all(&w.client, url, 2).await),
            id,
            "others once: {url}"
        );
    }
    assert_eq!(w.listener.event_ids(), id);
}

/// Benchmark input (docs/benchmarks.md): SQS requests per event per SQS subscriber for a
/// burst, with batches of 10 handed to `deliver_batch`.
#[tokio::test]
async fn a_burst_is_sent_to_each_queue_subscriber_in_batches_of_ten() {
    q2c_testkit::require_moto!();
    let w = world(false).await;
    let burst: Vec<String> = (0..20)
        .map(|i| format!("{}-{i}", unique("burst")))
        .collect();
    publish(&w, &burst).await;
    drain(&w, HubApi::Catalog).await;

    let requests = w.sender.requests();
    let sends = requests.get(Operation::SendMessageBatch);
    let lookups = requests.get(Operation::GetQueueUrl);
    let per_event_per_subscriber = sends as f64 / (burst.len() * 2) as f64;
    println!(
        "hub delivery burst of {}: {sends} SendMessageBatch + {lookups} GetQueueUrl for 2 SQS subscribers = {per_event_per_subscriber:.3} sends per event per subscriber ({:.3} with the URL lookups)",
        burst.len(),
        (sends + lookups) as f64 / (burst.len() * 2) as f64
    );
    for url in &w.sub_urls {
        let mut got = ids_of(&receive_all(&w.client, url, burst.len()).await);
        got.sort();
        let mut want = burst.clone();
        want.sort();
        assert_eq!(got, want, "every event once on {url}");
    }
    assert_eq!(lookups, 2, "each ARN resolved once");
    assert!(
        per_event_per_subscriber <= 0.11,
        "batched sends: {per_event_per_subscriber}"
    );
}

#[tokio::test]
async fn a_quote_event_reaches_its_tenants_quote_hub_subscriber_only() {
    q2c_testkit::require_moto!();
    let w = world(false).await;
    let [a, b] = &w.tenants;
    let arn = queue_arn(&w.client, &w.sub_urls[0]).await;
    let approved = EventSubscription {
        id: "q-1".into(),
        callback: arn.clone(),
        query: Some("eventType=QuoteStateChangeEvent&event.quote.state=approved".into()),
    };
    w.store
        .create(a, HubApi::Quote, &approved)
        .await
        .expect("subscribe");
    let other = EventSubscription {
        id: "q-1".into(),
        callback: arn,
        query: None,
    };
    w.store
        .create(b, HubApi::Quote, &other)
        .await
        .expect("subscribe");

    let quote_event = |id: &str, state: &str| {
        let body = json!({"eventId": id, "eventTime": "2026-11-27T17:00:00Z",
            "eventType": "QuoteStateChangeEvent", "schemaVersion": "1.0",
            "event": {"quote": {"id": "Q-1", "state": state}}});
        OutgoingMessage {
            body: body.to_string(),
            attributes: BTreeMap::from([
                (
                    attributes::EVENT_TYPE.to_owned(),
                    "QuoteStateChangeEvent".to_owned(),
                ),
                (attributes::EVENT_ID.to_owned(), id.to_owned()),
                (attributes::TENANT.to_owned(), a.as_str().to_owned()),
            ]),
        }
    };
    let (approved_id, rejected_id) = (unique("q-approved"), unique("q-rejected"));
    let batch = [
        quote_event(&approved_id, "approved"),
        quote_event(&rejected_id, "rejected"),
    ];
    w.queues.send_batch(SOURCE, &batch).await.expect("send");
    drain(&w, HubApi::Quote).await;

    let received = receive_all(&w.client, &w.sub_urls[0], 3).await;
    assert_eq!(
        ids_of(&received),
        [approved_id],
        "A's approved event once; B's subscriber none"
    );
    assert!(
        w.listener.event_ids().is_empty(),
        "catalog subscribers see no quote event"
    );
}

/// Issue 18 on DynamoDB + SQS: a listener that holds its POST (for 30 s, or until released)
/// delays neither another tenant's listener nor its own tenant's queue, and the retry after
/// the batch's deadline re-sends nothing that was delivered
/// (`q2c_contract::slow_subscriber_scenario`).
#[tokio::test]
async fn a_listener_that_answers_after_30_s_stalls_no_other_subscriber() {
    q2c_testkit::require_moto!();
    let w = world(false).await;
    let waited = q2c_contract::slow_subscriber_scenario(q2c_contract::SlowSubscriberWorld {
        hubs: Arc::new(w.store.clone()),
        delivery: w.delivery.clone(),
        queues: Arc::new(w.queues.clone()),
        source: SOURCE.into(),
        subscriber_queue: "sub-a".into(),
        subscriber_callback: queue_arn(&w.client, &w.sub_urls[0]).await,
    })
    .await;
    println!("moto: the other tenant's listener got its event {waited:?} after the batch began");
}
