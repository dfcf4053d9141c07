//! The `price-fanout` function end to end on moto, through its real wiring
//! ([`Fanout::new`] over `DynamoStore` and SQS): this test plays the SQS event source
//! mapping (receive from `pricing-changes`, build the `SqsEvent`, call [`Fanout::handle`],
//! delete what is not in `batchItemFailures`, make the failures visible again at once, repeat
//! until the queue is empty). Needs `Q2C_TEST_AWS_ENDPOINT` (tools/test.sh starts moto).
//!
//! HTTP subscribers: the deployment policy (`CallbackPolicy::for_deployment`) has no
//! loopback switch, so a loopback listener, even allow-listed, is refused and never called;
//! the test asserts that. HTTP delivery itself is covered with a loopback-allowing policy in
//! `shared/aws/tests/moto/hub_delivery.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_sqs::types::Message;
use axum::http::StatusCode;
use q2c_aws::DynamoStore;
use q2c_fn_price_fanout::{Config, Fanout};
use q2c_model::tmf::EventSubscription;
use q2c_runtime::Metrics;
use q2c_service::context::TenantId;
use q2c_service::messaging::attributes;
use q2c_service::ports::{CatalogStore, HubApi, HubStore, OutboxStore, QuoteStore, StoredQuote};
use q2c_testkit::listener::Listener;
use q2c_testkit::moto::{self, unique};
use q2c_testkit::sqs::{
    self, create_queue, event_ids, queue_arn, queue_with_dlq, receive, take_all,
};
use q2c_testkit::{dynamo, lambda};
use rust_decimal::Decimal;
use serde_json::{Value, json};

mod common;
use common::{
    CHANGE_EVENT, PRICE_ID, monthly_amount, open_quote, price_change, quote_service,
    sample_catalog_price, seed_sample_catalog,
};

/// The stack of one test: its table (with the sample catalog), queues and the function.
struct Stack {
    store: DynamoStore,
    sqs: aws_sdk_sqs::Client,
    fanout: Fanout,
    source_url: String,
    dlq_url: String,
    continuations_url: String,
    continuations_dlq_url: String,
    billing_url: String,
    subscriber_urls: [String; 2],
    /// The subscriber callback on loopback, which the deployment policy refuses.
    listener: Listener,
    tenant: TenantId,
}

impl Stack {
    /// Every message of `url` (deleted as read).
    async fn take_all(&self, url: &str) -> Vec<Message> {
        take_all(&self.sqs, url).await
    }

    /// The stored quote `id` of the stack's tenant.
    async fn quote(&self, id: &str) -> StoredQuote {
        self.store
            .get(&self.tenant, id)
            .await
            .expect("get")
            .expect("quote")
    }
}

/// `pricing-changes` (+ DLQ; redrive at `max_receive_count`, visibility 1 s), billing-updates,
/// two subscriber queues and a loopback listener on the catalog hub (two tenants);
/// `missing_subscriber` adds one whose queue does not exist.
async fn stack(max_receive_count: u32, missing_subscriber: bool) -> Stack {
    let (dynamo, sqs) = (moto::dynamo_client(), moto::sqs_client());
    let table = dynamo::unique_table(&dynamo, "q2c-pf").await;
    let store = DynamoStore::new(dynamo, table.clone());
    seed_sample_catalog(&store).await;

    let prefix = format!("{}-", unique("pf"));
    let (source_url, dlq_url) = queue_with_dlq(
        &sqs,
        &format!("{prefix}pricing-changes"),
        max_receive_count,
        1,
    )
    .await;
    let (continuations_url, continuations_dlq_url) = queue_with_dlq(
        &sqs,
        &format!("{prefix}pricing-continuations"),
        max_receive_count,
        1,
    )
    .await;
    let billing_url = create_queue(&sqs, &format!("{prefix}billing-updates"), HashMap::new()).await;
    let mut subscriber_urls = Vec::new();
    let mut arns = Vec::new();
    for name in ["sub-a", "sub-b"] {
        let url = create_queue(&sqs, &format!("{prefix}{name}"), HashMap::new()).await;
        arns.push(queue_arn(&sqs, &url).await);
        subscriber_urls.push(url);
    }
    let missing_arn = arns[0].replace("sub-a", "no-such-queue");
    let listener = Listener::start(StatusCode::NO_CONTENT).await;
    let listener_url = listener.url.clone();

    let a = TenantId::parse(&unique("tenant-a")).expect("tenant");
    let b = TenantId::parse(&unique("tenant-b")).expect("tenant");
    let mut subscriptions = vec![
        (&a, "s-queue", arns[0].clone(), None),
        (
            &b,
            "s-queue",
            arns[1].clone(),
            Some(format!("eventType={CHANGE_EVENT}")),
        ),
        (&a, "s-http", listener_url.clone(), None),
    ];
    if missing_subscriber {
        subscriptions.push((&b, "s-gone", missing_arn.clone(), None));
    }
    for (tenant, id, callback, query) in subscriptions {
        let subscription = EventSubscription {
            id: id.into(),
            callback,
            query,
        };
        store
            .create(tenant, HubApi::Catalog, &subscription)
            .await
            .expect("subscribe");
    }

    let config = Config {
        table_name: table,
        pricing_changes_queue_url: source_url.clone(),
        pricing_changes_dlq_url: dlq_url.clone(),
        pricing_continuations_queue_url: continuations_url.clone(),
        pricing_continuations_dlq_url: continuations_dlq_url.clone(),
        billing_updates_queue_url: billing_url.clone(),
        callback_allowlist: format!("{},{},{missing_arn},{listener_url}", arns[0], arns[1]),
        subscriber_queue_prefix: None,
        max_receive_count,
        page_size: 200,
        segments: 8,
        write_concurrency: 8,
        event_schema: q2c_service::event_versions::SchemaMajor::DEFAULT_EMIT,
    };
    let fanout = Fanout::new(
        &config,
        store.clone(),
        sqs.clone(),
        Arc::new(Metrics::new("price-fanout-test")),
    )
    .expect("wiring");
    Stack {
        store,
        sqs,
        fanout,
        source_url,
        dlq_url,
        continuations_url,
        continuations_dlq_url,
        billing_url,
        subscriber_urls: [subscriber_urls.remove(0), subscriber_urls.remove(0)],
        listener,
        tenant: a,
    }
}

/// A TMF620 price change of the sample `mobile-l-monthly` to `value` EUR at `last_update`.
async fn send(stack: &Stack, body: &str) {
    sqs::send(&stack.sqs, &stack.source_url, body).await;
}

/// The event source mapping over `pricing-changes` (see [`lambda::drain`]).
async fn drain(stack: &Stack) -> usize {
    lambda::drain(&stack.sqs, &stack.source_url, |event| {
        stack.fanout.handle(event)
    })
    .await
}

/// Billing-updates and every subscriber queue received exactly the events `expected` (their
/// ids); `note` ends the subscribers' failure message.
/// Asserts that billing-updates received exactly `expected` (deleting what it read).
async fn assert_announced(stack: &Stack, expected: &[String], why: &str) {
    let announced = event_ids(&stack.take_all(&stack.billing_url).await);
    assert_eq!(announced, expected, "{why}");
}

async fn assert_each_target_got_once(stack: &Stack, expected: &[String], note: &str) {
    assert_announced(stack, expected, "billing-updates once").await;
    for url in &stack.subscriber_urls {
        assert_eq!(
            event_ids(&stack.take_all(url).await),
            expected,
            "subscriber {url} once{note}"
        );
    }
}

fn failure_reason(message: &Message) -> String {
    message
        .message_attributes()
        .and_then(|a| a.get(attributes::FAILURE_REASON))
        .and_then(|v| v.string_value.clone())
        .expect("failureReason attribute")
}

async fn repricing_events(store: &DynamoStore, quote_id: &str) -> usize {
    store
        .pending(1000)
        .await
        .expect("pending outbox")
        .iter()
        .filter(|e| e.event_type == "QuoteAttributeValueChangeEvent" && e.aggregate_id == quote_id)
        .count()
}

#[tokio::test]
async fn a_price_change_reaches_every_subscriber_once_and_reprices_open_quotes_once() {
    q2c_testkit::require_moto!();
    let stack = stack(5, false).await;
    let quotes = quote_service(&stack.store);
    let holding = [
        open_quote(&quotes, &stack.tenant, "mobile-l").await,
        open_quote(&quotes, &stack.tenant, "mobile-l").await,
    ];
    let other = open_quote(&quotes, &stack.tenant, "fibre-1g").await;
    let before = stack.quote(&holding[0]).await;
    assert_eq!(monthly_amount(&before.quote), Some(Decimal::from(30)));

    let event_id = unique("price-change");
    let body = price_change(&event_id, 35, "2026-11-27T10:00:00Z");
    send(&stack, &body).await;
    // Redelivery: Lambda hands the same SQS message to the function twice.
    let messages = receive(&stack.sqs, &stack.source_url).await;
    assert_eq!(messages.len(), 1);
    for _ in 0..2 {
        let response = stack.fanout.handle(lambda::sqs_event(&messages)).await;
        assert!(response.batch_item_failures.is_empty());
    }
    stack
        .sqs
        .delete_message()
        .queue_url(&stack.source_url)
        .receipt_handle(messages[0].receipt_handle().unwrap_or_default())
        .send()
        .await
        .expect("delete");
    // And the catalog publishing the same event again.
    send(&stack, &body).await;
    assert_eq!(drain(&stack).await, 0, "no failures");

    let expected = vec![event_id.clone()];
    assert_each_target_got_once(&stack, &expected, "").await;
    assert!(
        stack.listener.posts().is_empty(),
        "the deployment policy refuses a loopback listener even when allow-listed"
    );
    assert!(stack.take_all(&stack.dlq_url).await.is_empty());

    for id in &holding {
        let quote = stack.quote(id).await;
        assert_eq!(quote.version, 2, "{id} re-priced exactly once");
        assert_eq!(
            monthly_amount(&quote.quote),
            Some(Decimal::from(35)),
            "{id}"
        );
        assert_eq!(
            repricing_events(&stack.store, id).await,
            1,
            "{id} announced once"
        );
    }
    let untouched = stack.quote(&other).await;
    assert_eq!(
        untouched.version, 1,
        "a quote without the price is left alone"
    );
    assert_eq!(repricing_events(&stack.store, &other).await, 0);
}

#[tokio::test]
async fn an_older_event_after_a_newer_one_is_acknowledged_and_changes_nothing() {
    q2c_testkit::require_moto!();
    let stack = stack(5, false).await;
    let (newer, older) = (unique("newer"), unique("older"));
    send(&stack, &price_change(&newer, 40, "2026-11-27T12:00:00Z")).await;
    assert_eq!(drain(&stack).await, 0);
    send(&stack, &price_change(&older, 35, "2026-11-27T11:00:00Z")).await;
    assert_eq!(drain(&stack).await, 0, "the older event is not retried");

    let stored = stack
        .store
        .prices(&[PRICE_ID.to_owned()])
        .await
        .expect("prices");
    assert_eq!(
        stored[0].price.as_ref().map(|m| m.amount),
        Some(Decimal::from(40)),
        "the newer price stays"
    );
    assert!(
        stack.take_all(&stack.dlq_url).await.is_empty(),
        "not dead-lettered"
    );
    assert_announced(&stack, &[newer], "only the applied change is announced").await;
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_with_a_reason_while_their_batch_mates_succeed() {
    q2c_testkit::require_moto!();
    let stack = stack(5, false).await;
    let good = unique("good");
    let mut no_last_update: Value = serde_json::from_str(&price_change(
        &unique("invalid"),
        35,
        "2026-11-27T10:00:00Z",
    ))
    .expect("JSON");
    no_last_update["event"]["productOfferingPrice"]
        .as_object_mut()
        .expect("price object")
        .remove("lastUpdate");
    send(&stack, "this is not JSON").await;
    send(&stack, &no_last_update.to_string()).await;
    send(&stack, &price_change(&good, 35, "2026-11-27T10:00:00Z")).await;
    assert_eq!(drain(&stack).await, 0, "poison is not retried");

    let mut reasons: Vec<String> = stack
        .take_all(&stack.dlq_url)
        .await
        .iter()
        .map(failure_reason)
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("lastUpdate")),
        "the schema-invalid event names its field: {reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| !r.contains("lastUpdate")),
        "the unparseable body has its own reason: {reasons:?}"
    );
    assert_announced(
        &stack,
        &[good],
        "the valid batch mate was applied and announced",
    )
    .await;
}

#[tokio::test]
async fn a_subscriber_without_its_queue_is_retried_then_dead_lettered_naming_it() {
    q2c_testkit::require_moto!();
    const MAX_RECEIVES: u32 = 2;
    let stack = stack(MAX_RECEIVES, true).await;
    let event_id = unique("price-change");
    send(&stack, &price_change(&event_id, 35, "2026-11-27T10:00:00Z")).await;
    assert_eq!(
        drain(&stack).await,
        (MAX_RECEIVES - 1) as usize,
        "returned until the last receive"
    );

    let dead = stack.take_all(&stack.dlq_url).await;
    assert_eq!(
        event_ids(&dead),
        vec![event_id.clone()],
        "dead-lettered once"
    );
    let reason = failure_reason(&dead[0]);
    assert!(
        reason.contains("/catalog/s-gone"),
        "names the subscriber: {reason}"
    );
    assert!(
        reason.contains(&format!("after {MAX_RECEIVES} attempts")),
        "{reason}"
    );
    let expected = vec![event_id];
    assert_each_target_got_once(&stack, &expected, " despite the retry").await;
}

#[tokio::test]
async fn a_continuation_over_its_hop_bound_is_parked_in_the_continuations_dlq_with_the_reason() {
    q2c_testkit::require_moto!();
    let stack = stack(5, false).await;
    let quote = open_quote(&quote_service(&stack.store), &stack.tenant, "mobile-l").await;
    // The catalog copy already holds the new price (as after the change's first message).
    let mut changed = sample_catalog_price();
    if let Some(money) = changed.price.as_mut() {
        money.amount = Decimal::from(35);
    }
    stack.store.put_price(&changed).await.expect("price");
    let continuation = |hop: u32| {
        json!({
            "eventId": unique("continuation"),
            "eventType": q2c_service::fanout::CONTINUATION_EVENT_TYPE,
            "eventTime": "2026-11-27T10:00:00Z",
            "event": {"priceFanout": {
                "priceId": PRICE_ID,
                "cursor": format!("{}#0", stack.tenant),
                "retired": false,
                "lastUpdate": "2026-11-27T10:00:00Z",
                "sourceEventId": "src",
                "segment": 3,
                "hop": hop,
                "maxHops": 4,
            }},
        })
        .to_string()
    };
    for hop in [5, 4] {
        sqs::send(&stack.sqs, &stack.continuations_url, continuation(hop)).await;
    }
    let failures = lambda::drain(&stack.sqs, &stack.continuations_url, |event| {
        stack.fanout.handle(event)
    })
    .await;
    assert_eq!(failures, 0, "a continuation over its bound is not retried");

    let parked = stack.take_all(&stack.continuations_dlq_url).await;
    assert_eq!(parked.len(), 1, "only the one over its bound");
    let reason = failure_reason(&parked[0]);
    assert!(
        reason.contains("hop 5 of segment 3 is over its bound of 4 hops"),
        "{reason}"
    );
    assert!(
        stack.take_all(&stack.dlq_url).await.is_empty(),
        "not in the pricing-changes DLQ"
    );
    // The one within its bound ran: the quote (after the cursor `<tenant>#0`) took the
    // new price, once.
    let stored = stack.quote(&quote).await;
    assert_eq!(stored.version, 2, "re-priced once");
    assert_eq!(monthly_amount(&stored.quote), Some(Decimal::from(35)));
}
