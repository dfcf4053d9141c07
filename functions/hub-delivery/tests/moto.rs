//! The `hub-delivery` function end to end on moto, through its real wiring
//! ([`Delivery::new`] over `DynamoStore` and SQS): events reach `quote-events` the way the
//! outbox relay publishes them (`relay_once` over outbox rows written with a quote), and
//! this test plays the SQS event source mapping (receive, build the `SqsEvent`, call
//! [`Delivery::handle`], delete what is not in `batchItemFailures`, repeat until empty).
//! SQS requests of the function are recorded by the testkit's recorder on its client.
//! Needs `Q2C_TEST_AWS_ENDPOINT` (tools/test.sh starts moto).

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_sqs::types::Message;
use q2c_aws::{DynamoStore, SqsQueues};
use q2c_fn_hub_delivery::{Config, Delivery, deadline_from_epoch_ms};
use q2c_model::tmf::{EventSubscription, Quote, QuoteState};
use q2c_runtime::Metrics;
use q2c_service::context::TenantId;
use q2c_service::event_versions::{SchemaMajor, render_envelope};
use q2c_service::ports::{Destination, HubApi, HubStore, OutboxEvent, QuoteStore};
use q2c_service::relay::relay_once;
use q2c_service::testing::fresh_quote;
use q2c_testkit::moto::{self, unique};
use q2c_testkit::recorder::Recorder;
use q2c_testkit::sqs::{create_queue, event_ids, queue_arn, take_all};
use q2c_testkit::{dynamo, lambda};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The event source mapping over `quote-events` (see [`lambda::drain`]).
async fn drain(stack: &Stack) -> usize {
    lambda::drain(&stack.sqs, &stack.source_url, |event| {
        stack
            .delivery
            .handle(event, deadline_from_epoch_ms(lambda_deadline_ms()))
    })
    .await
}

/// The deadline Lambda gives an invocation of the template's 60 s timeout starting now.
fn lambda_deadline_ms() -> u64 {
    let now = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    u64::try_from(now).expect("after 1970") + 60_000
}

/// The stack of one test: table, `quote-events` (+ DLQ), subscriber queues, the function.
struct Stack {
    store: DynamoStore,
    sqs: aws_sdk_sqs::Client,
    delivery: Delivery,
    source_url: String,
    dlq_url: String,
    /// Subscriber queues: [0], [1] tenant A's quote hub, [2] tenant A's ordering hub,
    /// [3] tenant B's quote hub: its subscriber queue by rule (`<prefix>subscriber-<b>`), on
    /// no allow-list.
    subscriber_urls: Vec<String>,
    /// The stack's billing-updates queue, which a stored subscription of tenant A names (as
    /// one registered before the system-queue rule could): never delivered to.
    billing_url: String,
    tenants: [TenantId; 2],
    /// Records the requests of the function's SQS client.
    function_sqs: Recorder,
    relay_queues: SqsQueues,
}

async fn stack() -> Stack {
    stack_with(SchemaMajor::CURRENT, SchemaMajor::V4).await
}

/// The stack with the function emitting `emit` and tenant A's second quote subscriber
/// registered on `second`'s API version.
async fn stack_with(emit: SchemaMajor, second: SchemaMajor) -> Stack {
    let function_sqs = Recorder::new();
    let (dynamo, sqs) = (moto::dynamo_client(), moto::sqs_client());
    let table = dynamo::unique_table(&dynamo, "q2c-hd").await;
    let store = DynamoStore::new(dynamo, table.clone());
    // Short names: a subscriber queue by rule is `<prefix>subscriber-<tenant>`, at most 80.
    let short = || unique("")[1..9].to_owned();
    let prefix = format!("hd{}-", short());
    let dlq_url = create_queue(&sqs, &format!("{prefix}quote-events-dlq"), HashMap::new()).await;
    let source_url = create_queue(&sqs, &format!("{prefix}quote-events"), HashMap::new()).await;
    let billing_url = create_queue(&sqs, &format!("{prefix}billing-updates"), HashMap::new()).await;
    let a = TenantId::parse(&format!("ta{}", short())).expect("tenant");
    let b = TenantId::parse(&format!("tb{}", short())).expect("tenant");
    let mut subscriber_urls = Vec::new();
    let mut arns = Vec::new();
    let rule_queue = format!("subscriber-{b}");
    for name in ["a-quotes-1", "a-quotes-2", "a-orders", rule_queue.as_str()] {
        let url = create_queue(&sqs, &format!("{prefix}{name}"), HashMap::new()).await;
        arns.push(queue_arn(&sqs, &url).await);
        subscriber_urls.push(url);
    }
    let billing_arn = queue_arn(&sqs, &billing_url).await;
    let subscriptions = [
        (&a, HubApi::Quote, "q-1", &arns[0]),
        (&a, HubApi::Quote, "q-2", &arns[1]),
        (&a, HubApi::Ordering, "o-1", &arns[2]),
        (&b, HubApi::Quote, "q-1", &arns[3]),
        (&a, HubApi::Quote, "q-billing", &billing_arn),
    ];
    for (tenant, api, id, callback) in subscriptions {
        let subscription = EventSubscription {
            id: id.into(),
            callback: callback.clone(),
            query: None,
        };
        let version = if id == "q-2" { second } else { SchemaMajor::V4 };
        store
            .create_versioned(tenant, api, &subscription, version)
            .await
            .expect("subscribe");
    }
    let config = Config {
        table_name: table,
        quote_events_dlq_url: dlq_url.clone(),
        billing_updates_queue_url: billing_url.clone(),
        callback_allowlist: arns[..3].join(","),
        subscriber_queue_prefix: None,
        max_receive_count: 5,
        event_schema: emit,
    };
    let delivery = Delivery::new(
        &config,
        &store,
        function_sqs.sqs_client(),
        Arc::new(Metrics::new("hub-delivery-test")),
    )
    .expect("wiring");
    Stack {
        store,
        relay_queues: SqsQueues::new(sqs.clone()).with_prefix(&prefix),
        sqs,
        delivery,
        source_url,
        dlq_url,
        subscriber_urls,
        billing_url,
        tenants: [a, b],
        function_sqs,
    }
}

/// An outbox event of `tenant` for the quote-events queue; `hub_api` sets the envelope's
/// `hubApi` (as product order events have it).
fn outbox_event(tenant: &TenantId, event_type: &str, hub_api: Option<&str>) -> OutboxEvent {
    let event_id = unique("ev");
    let mut body = json!({"eventId": event_id, "eventType": event_type,
        "eventTime": "2026-11-27T14:00:00Z", "schemaVersion": "1.0",
        "event": {"quote": {"id": "Q-1", "state": "approved"}}});
    if let Some(api) = hub_api {
        body["hubApi"] = json!(api);
        body["event"] = json!({"productOrder": {"id": "PO-1", "state": "completed"}});
    }
    OutboxEvent {
        event_id,
        event_type: event_type.into(),
        tenant: Some(tenant.as_str().to_owned()),
        aggregate_id: "Q-1".into(),
        correlation_id: None,
        schema_version: "1.0".into(),
        destination: Destination::QuoteEvents,
        body,
        created_at: OffsetDateTime::now_utc(),
    }
}

/// Writes `events` with a new quote of `tenant` (the transactional outbox), then relays them.
async fn publish(stack: &Stack, tenant: &TenantId, events: &[OutboxEvent]) {
    let quote = fresh_quote(&unique("q"));
    stack
        .store
        .insert(tenant, &quote, events)
        .await
        .expect("insert");
    let report = relay_once(&stack.store, &stack.relay_queues, 100)
        .await
        .expect("relay");
    assert_eq!(report.published, events.len());
}

#[tokio::test]
async fn quote_and_order_events_reach_their_hubs_subscribers_of_their_tenant_only() {
    q2c_testkit::require_moto!();
    let stack = stack().await;
    let [a, _] = &stack.tenants;
    let quote_event = outbox_event(a, "QuoteStateChangeEvent", None);
    let order_event = outbox_event(a, "ProductOrderStateChangeEvent", Some("ordering"));
    publish(&stack, a, &[quote_event.clone(), order_event.clone()]).await;
    assert_eq!(drain(&stack).await, 0, "no failures");

    let received: Vec<Vec<String>> = {
        let mut all = Vec::new();
        for url in &stack.subscriber_urls {
            all.push(event_ids(&take_all(&stack.sqs, url).await));
        }
        all
    };
    let quote_id = vec![quote_event.event_id];
    let order_id = vec![order_event.event_id];
    assert_eq!(received[0], quote_id, "tenant A quote hub");
    assert_eq!(
        received[1], quote_id,
        "tenant A second quote hub subscriber"
    );
    assert_eq!(received[2], order_id, "tenant A ordering hub");
    assert!(received[3].is_empty(), "tenant B sees nothing of tenant A");
    assert!(
        take_all(&stack.sqs, &stack.billing_url).await.is_empty(),
        "a subscription naming a system queue is skipped, never delivered to"
    );
    assert!(take_all(&stack.sqs, &stack.dlq_url).await.is_empty());

    // Tenant B's subscriber queue by rule, on no allow-list, gets B's events.
    let [_, b] = &stack.tenants;
    let b_event = outbox_event(b, "QuoteStateChangeEvent", None);
    publish(&stack, b, std::slice::from_ref(&b_event)).await;
    assert_eq!(drain(&stack).await, 0, "no failures");
    assert_eq!(
        event_ids(&take_all(&stack.sqs, &stack.subscriber_urls[3]).await),
        [b_event.event_id],
        "B's subscriber queue by rule"
    );
    assert!(
        take_all(&stack.sqs, &stack.subscriber_urls[0])
            .await
            .is_empty()
    );
}

/// Benchmark input (docs/benchmarks.md): `SendMessageBatch` per event per SQS subscriber of
/// the function, for a burst handed over in batches of 10.
#[tokio::test]
async fn a_burst_of_twenty_costs_at_most_0_11_sends_per_event_per_subscriber() {
    q2c_testkit::require_moto!();
    let stack = stack().await;
    let [a, _] = &stack.tenants;
    let burst: Vec<OutboxEvent> = (0..20)
        .map(|_| outbox_event(a, "QuoteStateChangeEvent", None))
        .collect();
    for chunk in burst.chunks(10) {
        publish(&stack, a, chunk).await;
    }
    assert_eq!(drain(&stack).await, 0, "no failures");

    let mut want: Vec<String> = burst.iter().map(|e| e.event_id.clone()).collect();
    want.sort();
    for url in &stack.subscriber_urls[..2] {
        let mut got = event_ids(&take_all(&stack.sqs, url).await);
        got.sort();
        assert_eq!(got, want, "every event once on {url}");
    }
    let sends = stack
        .function_sqs
        .requests()
        .iter()
        .filter(|r| r.operation == "SendMessageBatch")
        .count();
    let per_event_per_subscriber = sends as f64 / (burst.len() * 2) as f64;
    println!(
        "hub-delivery function, burst of {}: {sends} SendMessageBatch for 2 SQS subscribers = {per_event_per_subscriber:.3} per event per subscriber",
        burst.len()
    );
    assert!(sends > 0, "the counter sees the function's sends");
    assert!(
        per_event_per_subscriber <= 0.11,
        "batched sends: {per_event_per_subscriber}"
    );
}

/// A quote event of `tenant` as a producer of `version` sends it to quote-events (`1.0`: the
/// legacy form, the v4 envelope labelled 1.0).
fn versioned_message(
    tenant: &TenantId,
    state: QuoteState,
    version: &str,
) -> (String, q2c_service::messaging::OutgoingMessage) {
    use q2c_service::context::{RequestContext, Scope};
    use q2c_service::events::{QuoteEventType, quote_event};
    use q2c_service::messaging::attributes;
    let context = RequestContext {
        tenant: tenant.clone(),
        subject: "user-1".into(),
        subject_name: None,
        scopes: std::collections::BTreeSet::from([Scope::QuoteWrite]),
        correlation_id: "corr-1".into(),
    };
    let quote = Quote {
        id: Some("Q-1".into()),
        href: Some("https://api.example.com/tmf-api/quoteManagement/v4/quote/Q-1".into()),
        external_id: Some("crm-9".into()),
        quote_date: Some(OffsetDateTime::now_utc()),
        state: Some(state),
        ..Quote::default()
    };
    let event = quote_event(
        QuoteEventType::StateChange,
        &quote,
        &context,
        OffsetDateTime::now_utc(),
    )
    .expect("event");
    let body = match version {
        "4.0" => render_envelope(&event.body, SchemaMajor::V4),
        "5.0" => render_envelope(&event.body, SchemaMajor::V5),
        other => {
            let mut body = event.body.clone();
            body["schemaVersion"] = json!(other);
            body
        }
    };
    let message = q2c_service::messaging::OutgoingMessage {
        body: body.to_string(),
        attributes: std::collections::BTreeMap::from([
            (attributes::EVENT_TYPE.to_owned(), event.event_type.clone()),
            (attributes::EVENT_ID.to_owned(), event.event_id.clone()),
            (attributes::SCHEMA_VERSION.to_owned(), version.to_owned()),
            (attributes::TENANT.to_owned(), tenant.as_str().to_owned()),
        ]),
    };
    (event.event_id, message)
}

fn string_attribute(message: &Message, name: &str) -> Option<String> {
    message
        .message_attributes()
        .and_then(|a| a.get(name))
        .and_then(|v| v.string_value())
        .map(str::to_owned)
}

/// Issue 9: a v4-configured and a v5-configured function each drain a quote-events queue of
/// interleaved v4, v5 and legacy 1.0 events; the v4 subscriber gets every event in v4, the v5
/// subscriber in v5, and the event of an unknown major lands in the DLQ with its reason.
#[tokio::test]
async fn v4_and_v5_functions_deliver_a_mixed_stream_and_dead_letter_an_unknown_major() {
    q2c_testkit::require_moto!();
    use q2c_service::messaging::{QueueClient, attributes, queues};
    for emit in [SchemaMajor::V4, SchemaMajor::V5] {
        let stack = stack_with(emit, SchemaMajor::V5).await;
        let [a, _] = &stack.tenants;
        let stream = [
            versioned_message(a, QuoteState::InProgress, "4.0"),
            versioned_message(a, QuoteState::Pending, "5.0"),
            versioned_message(a, QuoteState::Approved, "1.0"),
            versioned_message(a, QuoteState::Accepted, "5.0"),
        ];
        let (unknown_id, unknown) = versioned_message(a, QuoteState::Rejected, "7.2");
        let mut sent: Vec<_> = stream.iter().map(|(_, m)| m.clone()).collect();
        sent.insert(1, unknown);
        let outcome = stack
            .relay_queues
            .send_batch(queues::QUOTE_EVENTS, &sent)
            .await
            .expect("send");
        assert!(outcome.failed.is_empty());
        assert_eq!(drain(&stack).await, 0, "emit {emit}: no retries");

        let mut want: Vec<String> = stream.iter().map(|(id, _)| id.clone()).collect();
        want.sort();
        let v4 = take_all(&stack.sqs, &stack.subscriber_urls[0]).await;
        let v5 = take_all(&stack.sqs, &stack.subscriber_urls[1]).await;
        for (messages, version) in [(&v4, "4.0"), (&v5, "5.0")] {
            let mut got = event_ids(messages);
            got.sort();
            assert_eq!(got, want, "emit {emit}: every event once in {version}");
            for message in messages.iter() {
                assert_eq!(
                    string_attribute(message, attributes::SCHEMA_VERSION).as_deref(),
                    Some(version)
                );
                let body: Value =
                    serde_json::from_str(message.body().unwrap_or_default()).expect("JSON");
                assert_eq!(body["schemaVersion"], version);
                let quote = &body["event"]["quote"];
                if version == "5.0" {
                    assert_eq!(body["@type"], "QuoteStateChangeEvent");
                    assert!(body["timeOccurred"].is_string());
                    assert_eq!(quote["externalId"], json!([{"id": "crm-9"}]));
                    assert!(quote["creationDate"].is_string());
                } else {
                    assert!(body.get("@type").is_none());
                    assert!(body["timeOcurred"].is_string());
                    assert_eq!(quote["externalId"], "crm-9");
                    assert!(quote["quoteDate"].is_string());
                }
            }
        }
        let dead = take_all(&stack.sqs, &stack.dlq_url).await;
        assert_eq!(
            event_ids(&dead),
            [unknown_id],
            "emit {emit}: only the unknown major"
        );
        assert_eq!(
            string_attribute(&dead[0], attributes::FAILURE_REASON).as_deref(),
            Some("unsupported schema version 7.2 (accepted: 4, 5)")
        );
    }
}
