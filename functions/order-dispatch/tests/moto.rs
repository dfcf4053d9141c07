//! The `order-dispatch` function end to end on moto: orders created by accepting quotes on
//! DynamoDB, relayed from the outbox to the SQS orders queue, handed to
//! [`Dispatcher::handle`] in batches the way the event source mapping does
//! (`ReportBatchItemFailures`: delete everything not reported), and POSTed over real HTTP
//! to the fake order management (`q2c_downstream::fake`).
//!
//! Needs moto: `Q2C_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=testing
//! AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, QueueAttributeName};
use q2c_aws::DynamoStore;
use q2c_aws::sqs::{FAILURE_REASON, SqsQueues};
use q2c_downstream::fake::{BearerToken, DownstreamConfig, router};
use q2c_downstream::{
    Credential, HttpDownstream, HttpDownstreamConfig, LazyToken, NoCredential, TokioSleeper,
};
use q2c_fn_order_dispatch::{Config, Dispatcher};
use q2c_model::tmf::{Quote, QuoteItem};
use q2c_runtime::Metrics;
use q2c_service::context::TenantId;
use q2c_service::dispatch::DispatchStatus;
use q2c_service::orders::{OrderStore, StoredOrder};
use q2c_service::ports::{Destination, OutboxStore, QuoteStore};
use q2c_service::relay::relay_once;
use q2c_testkit::lambda::sqs_event;
use q2c_testkit::sqs::{create_queue, depth, receive, receive_up_to};
use q2c_testkit::{dynamo, listener, moto};
use serde_json::Value;
use time::OffsetDateTime;

#[path = "support/acceptance.rs"]
mod acceptance;
use acceptance::acceptance;

/// Safety bound of the drain loop: a dispatch that never converges fails instead of hanging.
/// Generous: moto on a loaded 2-core machine takes minutes for 200 orders.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

/// One test's world: a fresh table, `<prefix>orders` (visibility 1 s) and
/// `<prefix>orders-dlq` on moto, the fake order management on a loopback port, and the
/// function wired over them as `main` wires it.
/// moto answers 500 to TransactWriteItems made concurrently (even on different tables): the
/// tests running in parallel take turns for their acceptances.
static MOTO_TRANSACTIONS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct World {
    /// The queue-name prefix of this world's queues.
    prefix: String,
    store: DynamoStore,
    sqs: aws_sdk_sqs::Client,
    queues: SqsQueues,
    orders_url: String,
    dlq_url: String,
    downstream_url: String,
    dispatcher: Dispatcher,
    tenant: TenantId,
}

impl World {
    /// Returned messages are hidden `redelivery_base_seconds` after their first delivery.
    async fn new(fake: DownstreamConfig, redelivery_base_seconds: u64) -> World {
        World::with_credential(fake, redelivery_base_seconds, Arc::new(NoCredential)).await
    }

    /// [`World::new`] sending `credential` as bearer token.
    async fn with_credential(
        fake: DownstreamConfig,
        redelivery_base_seconds: u64,
        credential: Arc<dyn Credential>,
    ) -> World {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let prefix = format!("q2c-dispatch-{}-", &id[..12]);
        let dynamo = moto::dynamo_client();
        let table = format!("q2c-dispatch-{id}");
        dynamo::create_table(&dynamo, &table).await;
        let store = DynamoStore::new(dynamo, table.clone());
        let sqs = moto::sqs_client();
        let dlq_url = create_queue(&sqs, &format!("{prefix}orders-dlq"), HashMap::new()).await;
        // Short visibility so that plain returns come back quickly; returns with a
        // `RetryAfter` hint are hidden for what the hint says instead.
        let orders_url = create_queue(
            &sqs,
            &format!("{prefix}orders"),
            HashMap::from([(QueueAttributeName::VisibilityTimeout, "1".to_owned())]),
        )
        .await;

        let downstream_url = format!("http://{}", listener::serve(router(fake)).await);

        let config = Config {
            table_name: table,
            orders_queue_url: orders_url.clone(),
            orders_dlq_url: dlq_url.clone(),
            downstream_url: downstream_url.clone(),
            credential_parameter: None,
            breaker_threshold: 5,
            breaker_open_seconds: 1,
            redelivery_base_seconds,
            redelivery_cap_seconds: redelivery_base_seconds * 2,
        };
        let http = HttpDownstream::new(
            HttpDownstreamConfig::new(config.downstream_url.clone()),
            credential,
        )
        .expect("http client");
        let dispatcher = Dispatcher::new(
            &config,
            store.clone(),
            sqs.clone(),
            Arc::new(http),
            Arc::new(TokioSleeper),
            Arc::new(Metrics::new("order-dispatch-test")),
        );
        World {
            store,
            queues: SqsQueues::new(sqs.clone()).with_prefix(prefix.clone()),
            prefix,
            sqs,
            orders_url,
            dlq_url,
            downstream_url,
            dispatcher,
            tenant: TenantId::parse("acme").expect("tenant"),
        }
    }

    /// Accepts a fresh quote, creating order `order_id` and its `ProductOrderCreateEvent`
    /// in the same transaction, as the quote API does.
    async fn accept_quote(&self, order_id: &str) {
        self.accept_quote_with(order_id, Vec::new()).await;
    }

    /// [`World::accept_quote`] of a quote with `items`.
    async fn accept_quote_with(&self, order_id: &str, items: Vec<QuoteItem>) {
        let quote = Quote {
            external_id: Some(format!("ext-q-{order_id}")),
            quote_item: items,
            ..Quote::default()
        };
        let acceptance = acceptance(&self.tenant, order_id, quote);
        self.store
            .insert(&self.tenant, &acceptance.quote, &[])
            .await
            .expect("insert quote");
        let _turn = MOTO_TRANSACTIONS.lock().await;
        self.store
            .accept(
                &self.tenant,
                &acceptance.accepted,
                1,
                &acceptance.order,
                &[acceptance.created],
            )
            .await
            .expect("accept");
    }

    /// [`World::accept_quote`] for each of `order_ids`, then [`World::relay`].
    async fn accept_and_relay(&self, order_ids: impl IntoIterator<Item = impl AsRef<str>>) {
        for id in order_ids {
            self.accept_quote(id.as_ref()).await;
        }
        self.relay().await;
    }

    /// Relays the outbox to SQS until nothing is pending.
    async fn relay(&self) {
        loop {
            let report = relay_once(&self.store, &self.queues, 100)
                .await
                .expect("relay");
            assert_eq!(report.failed, 0, "moto refused outbox events");
            if report.published == 0 {
                break;
            }
        }
    }

    /// One invocation as the event source mapping makes it: up to 10 messages, the
    /// function's answer, deletion of every message not reported as failed. Returns the
    /// received message ids and the reported ones.
    async fn invoke_once(&self, wait_seconds: i32) -> (Vec<String>, BTreeSet<String>) {
        let messages = receive_up_to(&self.sqs, &self.orders_url, 10, Some(wait_seconds)).await;
        if messages.is_empty() {
            return (Vec::new(), BTreeSet::new());
        }
        let deadline = OffsetDateTime::now_utc() + Duration::from_secs(60);
        let response = self.dispatcher.handle(sqs_event(&messages), deadline).await;
        let failed: BTreeSet<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        // One DeleteMessageBatch, as the event source mapping deletes a batch's successes.
        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .filter(|m| !failed.contains(m.message_id().unwrap_or_default()))
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .expect("delete entry")
            })
            .collect();
        if !entries.is_empty() {
            let deleted = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.orders_url)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("delete batch");
            assert!(deleted.failed.is_empty(), "{:?}", deleted.failed);
        }
        let ids = messages
            .iter()
            .map(|m| m.message_id.clone().unwrap_or_default())
            .collect();
        (ids, failed)
    }

    /// Invokes until the orders queue holds nothing, visible or in flight.
    async fn drain(&self) {
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < DRAIN_LIMIT,
                "the orders queue did not drain"
            );
            let (received, _) = self.invoke_once(1).await;
            if received.is_empty() && depth(&self.sqs, &self.orders_url).await == 0 {
                return;
            }
        }
    }

    /// What the fake order management received, by `externalId`, and its total POSTs.
    async fn received(&self) -> (BTreeMap<String, Value>, u64) {
        let response = reqwest::get(format!("{}/productOrder", self.downstream_url))
            .await
            .expect("GET /productOrder");
        let total_posts = response
            .headers()
            .get("x-total-posts")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("X-Total-Posts");
        let entries: Vec<Value> = response.json().await.expect("json");
        let by_external_id = entries
            .into_iter()
            .map(|e| (e["externalId"].as_str().expect("externalId").to_owned(), e))
            .collect();
        (by_external_id, total_posts)
    }

    async fn order(&self, order_id: &str) -> StoredOrder {
        OrderStore::get(&self.store, &self.tenant, order_id)
            .await
            .expect("get order")
            .expect("order exists")
    }
}

/// Every message of `url` (visible now), with their attributes.
async fn receive_all(client: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let batch = receive(client, url).await;
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

/// Accepts `count` quotes, relays, dispatches until the queue is empty, and checks that
/// order management holds each order exactly once under its `externalId`, with the id our
/// order recorded. Returns the total POSTs.
async fn two_hundred_orders_reach_order_management_once(fail_rate: f64) -> u64 {
    const COUNT: usize = 200;
    let world = World::new(
        DownstreamConfig {
            fail_rate,
            ..DownstreamConfig::default()
        },
        1,
    )
    .await;
    let started = Instant::now();
    let order_ids: Vec<String> = (0..COUNT).map(|i| format!("o-{i:03}")).collect();
    world.accept_and_relay(&order_ids).await;
    eprintln!(
        "fail rate {fail_rate}: accepted and relayed after {:?}",
        started.elapsed()
    );
    world.drain().await;
    eprintln!(
        "fail rate {fail_rate}: drained after {:?}",
        started.elapsed()
    );

    let (received, total_posts) = world.received().await;
    assert_eq!(
        received.keys().cloned().collect::<Vec<_>>(),
        order_ids,
        "order management received exactly our orders"
    );
    let mut downstream_ids = BTreeSet::new();
    let mut posts = 0;
    for id in &order_ids {
        let entry = &received[id];
        assert_eq!(entry["accepted"], Value::Bool(true), "{id} accepted");
        let downstream_id = entry["id"].as_str().expect("downstream id").to_owned();
        let order = world.order(id).await;
        assert_eq!(order.dispatch.status, DispatchStatus::Dispatched, "{id}");
        assert_eq!(
            order.dispatch.downstream_id.as_deref(),
            Some(downstream_id.as_str()),
            "{id} records the id order management gave it"
        );
        assert!(
            downstream_ids.insert(downstream_id),
            "one downstream order per externalId"
        );
        posts += entry["posts"].as_u64().expect("posts");
    }
    assert_eq!(posts, total_posts, "every POST carried one of our orders");
    assert!(
        receive_all(&world.sqs, &world.dlq_url).await.is_empty(),
        "nothing dead-lettered"
    );
    total_posts
}

/// A fake order management refusing (400) every order whose body contains `pattern`.
fn refusing(pattern: &str) -> DownstreamConfig {
    DownstreamConfig {
        reject_match: Some(pattern.into()),
        ..DownstreamConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_accepted_quotes_are_two_hundred_orders_downstream_each_once() {
    q2c_testkit::require_moto!();
    let total_posts = two_hundred_orders_reach_order_management_once(0.0).await;
    assert_eq!(total_posts, 200, "no failures, so one POST per order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_thirty_percent_failures_every_order_still_arrives_exactly_once() {
    q2c_testkit::require_moto!();
    let total_posts = two_hundred_orders_reach_order_management_once(0.3).await;
    assert!(
        total_posts > 200,
        "30% of POSTs fail, so some orders take more than one ({total_posts})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_order_is_dead_lettered_with_the_reason_and_marked_failed() {
    q2c_testkit::require_moto!();
    let world = World::new(refusing("o-refused"), 1).await;
    world
        .accept_and_relay(["o-ok-1", "o-refused", "o-ok-2"])
        .await;
    assert!(
        world.store.pending(100).await.expect("pending").is_empty(),
        "the create events are relayed"
    );
    world.drain().await;

    let dead = receive_all(&world.sqs, &world.dlq_url).await;
    assert_eq!(dead.len(), 1, "only the refused order is dead-lettered");
    let body: Value = serde_json::from_str(dead[0].body().expect("body")).expect("json");
    assert_eq!(body["event"]["productOrder"]["id"], "o-refused");
    let reason = dead[0]
        .message_attributes()
        .and_then(|a| a.get(FAILURE_REASON))
        .and_then(|v| v.string_value.clone())
        .expect("failureReason attribute");
    assert!(
        reason.starts_with("order management refused the order: 400")
            && reason.contains("the order contains `o-refused`"),
        "the downstream's reason: {reason}"
    );

    let refused = world.order("o-refused").await;
    assert_eq!(refused.dispatch.status, DispatchStatus::Failed);
    assert_eq!(
        refused.dispatch.last_error.as_deref(),
        Some(reason.as_str())
    );
    for id in ["o-ok-1", "o-ok-2"] {
        let order = world.order(id).await;
        assert_eq!(order.dispatch.status, DispatchStatus::Dispatched, "{id}");
        assert_eq!(order.dispatch.last_error, None, "{id}");
    }

    let pending = world.store.pending(100).await.expect("pending");
    assert_eq!(pending.len(), 1, "one announcement: the failure");
    let announced = &pending[0];
    assert_eq!(
        (
            announced.event_type.as_str(),
            announced.aggregate_id.as_str(),
            announced.destination
        ),
        (
            "ProductOrderStateChangeEvent",
            "o-refused",
            Destination::QuoteEvents
        )
    );
    assert_eq!(announced.body["hubApi"], "ordering");
    assert_eq!(
        announced.body["event"]["productOrder"]["id"], "o-refused",
        "{}",
        announced.body
    );

    let (received, total_posts) = world.received().await;
    assert_eq!(total_posts, 3, "one POST each: a refusal is not retried");
    assert_eq!(received["o-refused"]["accepted"], Value::Bool(false));
    assert_eq!(received["o-ok-1"]["accepted"], Value::Bool(true));
    assert_eq!(received["o-ok-2"]["accepted"], Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_returns_the_message_hidden_for_longer_than_the_queue_says() {
    q2c_testkit::require_moto!();
    // Down for the whole test: every POST is a 503.
    let world = World::new(
        DownstreamConfig {
            down_for: Duration::from_secs(3600),
            ..DownstreamConfig::default()
        },
        30,
    )
    .await;
    world.accept_quote("o-1").await;
    world.relay().await;

    let (received, failed) = world.invoke_once(5).await;
    assert_eq!(received.len(), 1);
    assert_eq!(
        failed,
        received.iter().cloned().collect::<BTreeSet<_>>(),
        "the message is returned (batchItemFailures)"
    );
    let order = world.order("o-1").await;
    assert_eq!(order.dispatch.status, DispatchStatus::Pending);
    assert!(
        order
            .dispatch
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{:?}",
        order.dispatch.last_error
    );

    // Past the queue's own 1 s visibility timeout: a message merely returned would be back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = world
        .sqs
        .receive_message()
        .queue_url(&world.orders_url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default();
    assert!(again.is_empty(), "the returned message is still hidden");
    assert_eq!(
        depth(&world.sqs, &world.orders_url).await,
        1,
        "it is in flight, not lost"
    );
    let (downstream, total_posts) = world.received().await;
    assert!(
        total_posts > 1,
        "retried inside the invocation first ({total_posts} POSTs)"
    );
    assert_eq!(downstream["o-1"]["accepted"], Value::Bool(false));
    assert!(receive_all(&world.sqs, &world.dlq_url).await.is_empty());
}

/// The redrive scenario of issue 14 on SQS: 3 orders refused by order management are in
/// `orders-dlq`; the redrive of `q2c dlq redrive orders-dlq --to orders` (the operation with
/// the command's default options, over the SQS backend on moto) runs while the function's handler drains `orders` as the event source mapping would. The
/// handler refuses the 3 again and dead-letters copies (new message ids); the redrive
/// recognises them by eventId, does not move them again, and ends with exactly 3 reported
/// "refused again", after 2 POSTs per refused order in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redrive_into_a_refusing_order_management_ends_with_three_refused_again() {
    q2c_testkit::require_moto!();
    use q2c_aws::SqsDlqBackend;
    use q2c_service::dlq::{DlqBackend, RedriveOptions, redrive};

    let world = World::new(refusing("o-refused"), 1).await;
    let refused: Vec<String> = (1..=3).map(|i| format!("o-refused-{i}")).collect();
    world
        .accept_and_relay(
            refused
                .iter()
                .map(String::as_str)
                .chain(["o-ok-1", "o-ok-2"]),
        )
        .await;
    world.drain().await;
    let (_, posts_before) = world.received().await;
    assert_eq!(posts_before, 5, "one POST each");
    assert_eq!(
        depth(&world.sqs, &world.dlq_url).await,
        3,
        "the refused are dead-lettered"
    );

    let backend = SqsDlqBackend::new(world.sqs.clone(), &world.prefix, None);
    let (queue, destination) = (backend.resolve("orders-dlq"), backend.resolve("orders"));
    let started = Instant::now();
    let run = tokio::spawn(async move {
        let options = RedriveOptions::default();
        redrive(&backend, &queue, &destination, &options, &mut ()).await
    });
    // The event source mapping, until the redrive ends.
    while !run.is_finished() {
        assert!(started.elapsed() < DRAIN_LIMIT, "the redrive did not end");
        world.invoke_once(1).await;
    }
    let report = run.await.expect("joined").expect("redrive");
    let elapsed = started.elapsed();
    eprintln!("redrive on moto took {elapsed:?}: {report}");
    assert_eq!(
        (
            report.moved,
            report.refused_again,
            report.settled_ok,
            report.unsettled
        ),
        (3, 3, 0, 0),
        "{report:?}"
    );
    let mut listed: Vec<String> = report
        .refused
        .iter()
        .map(|r| {
            assert!(
                !r.by_max_receive_count,
                "dead-lettered by the handler: {r:?}"
            );
            assert!(
                r.failure_reason
                    .as_deref()
                    .is_some_and(|reason| reason.starts_with("order management refused")),
                "{r:?}"
            );
            r.event_id.clone().expect("an eventId")
        })
        .collect();
    listed.sort();

    let (received, total_posts) = world.received().await;
    let refused_posts: u64 = refused
        .iter()
        .map(|id| received[id]["posts"].as_u64().expect("posts"))
        .sum();
    eprintln!("order management POSTs: {total_posts} in all, {refused_posts} for the 3 refused");
    assert_eq!(refused_posts, 6, "2 POSTs per refused order in all");
    assert!(refused_posts <= 2 * 3);
    assert_eq!(total_posts, 8, "the good orders were not posted again");
    let back = receive_all(&world.sqs, &world.dlq_url).await;
    let mut back_orders: Vec<String> = back
        .iter()
        .map(|m| {
            let body: Value = serde_json::from_str(m.body().expect("body")).expect("json");
            body["event"]["productOrder"]["id"]
                .as_str()
                .expect("order id")
                .to_owned()
        })
        .collect();
    back_orders.sort();
    assert_eq!(
        back_orders, refused,
        "the 3 refused are back in the DLQ, once each"
    );
    let mut back_events = q2c_testkit::sqs::event_ids(&back);
    back_events.sort();
    assert_eq!(
        listed, back_events,
        "the report names the events that came back"
    );
    assert_eq!(depth(&world.sqs, &world.orders_url).await, 0);
}

/// An SSM client for moto.
fn ssm_client() -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
        .region(aws_sdk_ssm::config::Region::new(moto::region()))
        .endpoint_url(moto::endpoint())
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

async fn put_parameter(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("put parameter");
}

/// Issue 18: order management starts refusing the old credential, then the SSM parameter
/// changes; every order is delivered, none dead-lettered. The credential is wired as `main`
/// wires it (`LazySecret::ssm_parameter` fetched through a `LazyToken`, default TTL, so
/// only the refusal makes it fetch again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_credential_delivers_every_order_with_no_dead_letter() {
    q2c_testkit::require_moto!();
    let ssm = ssm_client();
    let parameter = format!("/q2c/test/{}/oms-token", uuid::Uuid::new_v4().simple());
    put_parameter(&ssm, &parameter, "token-old").await;
    let secret = q2c_runtime::LazySecret::ssm_parameter(ssm.clone(), parameter.clone());
    let credential = Arc::new(LazyToken::new(move || {
        let secret = secret.clone();
        async move { Ok(secret.fetch_now().await?) }
    }));
    let bearer = BearerToken::new("token-old");
    let world = World::with_credential(
        DownstreamConfig {
            bearer: Some(bearer.clone()),
            ..DownstreamConfig::default()
        },
        1,
        credential,
    )
    .await;

    let before: Vec<String> = (0..5).map(|i| format!("rot-a-{i}")).collect();
    world.accept_and_relay(&before).await;
    world.drain().await;

    // Order management rotates first: the old token is refused, and SSM still has it.
    bearer.rotate("token-new");
    let after: Vec<String> = (0..5).map(|i| format!("rot-b-{i}")).collect();
    world.accept_and_relay(&after).await;
    let (received, failed) = world.invoke_once(1).await;
    assert!(!received.is_empty());
    assert_eq!(
        failed.len(),
        received.len(),
        "refused while SSM still holds the old token"
    );
    put_parameter(&ssm, &parameter, "token-new").await;
    world.drain().await;

    let (downstream, _) = world.received().await;
    for id in before.iter().chain(&after) {
        let order = world.order(id).await;
        assert_eq!(
            order.dispatch.status,
            DispatchStatus::Dispatched,
            "{id}: {:?}",
            order.dispatch
        );
        // The order's id is its externalId downstream.
        assert_eq!(
            downstream[id]["accepted"],
            Value::Bool(true),
            "{id} accepted downstream"
        );
    }
    let unauthorized: u64 = reqwest::get(format!("{}/productOrder", world.downstream_url))
        .await
        .expect("GET")
        .headers()
        .get("x-posts-unauthorized")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("X-Posts-Unauthorized");
    assert!(unauthorized > 0, "the old token was refused");
    assert!(
        receive_all(&world.sqs, &world.dlq_url).await.is_empty(),
        "no order dead-lettered"
    );
}

/// `n` quote items of ~1.1 KB each (an offering and a monthly price with long names) over
/// 40 distinct offerings (`maxCatalogRefs`), as a 300-line quote of the issue has.
fn large_items(n: usize) -> Vec<QuoteItem> {
    (0..n)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "id": (i + 1).to_string(),
                "action": "add",
                "quantity": 1,
                "state": "inProgress",
                "productOffering": {"id": format!("po-{}", i % 40), "name": format!("Offering {i} {}", "n".repeat(300))},
                "quoteItemPrice": [{
                    "priceType": "recurring",
                    "recurringChargePeriod": "month",
                    "name": format!("Monthly {i} {}", "m".repeat(300)),
                    "price": {
                        "dutyFreeAmount": {"unit": "EUR", "value": 50.0},
                        "taxIncludedAmount": {"unit": "EUR", "value": 60.5},
                        "taxRate": 21
                    },
                    "productOfferingPrice": {"id": format!("pop-{}", i % 40)}
                }]
            }))
            .expect("a quote item")
        })
        .collect()
}

/// Issue 14's large-quote scenario on DynamoDB + SQS: four accepted 300-line quotes, whose
/// `ProductOrderCreateEvent`s (~313 KB) are over SQS's old 256 KiB and together over one
/// 1 MiB batch,
/// are relayed from the outbox (in batches within 1 MiB) and dispatched by the function to
/// order management, each once; nothing is parked or left pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_orders_are_relayed_within_a_mebibyte_and_reach_order_management() {
    q2c_testkit::require_moto!();
    let world = World::new(DownstreamConfig::default(), 1).await;
    let order_ids = ["big-1", "big-2", "big-3", "big-4"];
    for id in order_ids {
        world.accept_quote_with(id, large_items(300)).await;
    }
    let pending = world.store.pending(10).await.expect("pending");
    assert_eq!(pending.len(), 4);
    let mut total = 0;
    for event in &pending {
        let bytes = event.body.to_string().len();
        assert!(
            bytes > 256 * 1024 && bytes < 400 * 1024,
            "an order event of {bytes} bytes: over the old 256 KiB, within the item limit"
        );
        total += bytes;
    }
    assert!(
        total > q2c_service::messaging::MAX_BATCH_BYTES,
        "together {total} bytes: more than one SendMessageBatch may carry"
    );
    let report = relay_once(&world.store, &world.queues, 100)
        .await
        .expect("relay");
    assert_eq!(
        (report.published, report.parked, report.failed),
        (4, 0, 0),
        "all four published, in more than one batch (together over 1 MiB)"
    );
    assert!(world.store.pending(10).await.expect("pending").is_empty());
    world.drain().await;

    let (received, total_posts) = world.received().await;
    assert_eq!(
        received.keys().map(String::as_str).collect::<Vec<_>>(),
        order_ids,
        "order management received the four large orders"
    );
    assert_eq!(total_posts, 4, "each once");
    for id in order_ids {
        let order = world.order(id).await;
        assert_eq!(order.dispatch.status, DispatchStatus::Dispatched, "{id}");
        assert_eq!(order.order.product_order_item.len(), 300);
    }
    assert!(
        receive_all(&world.sqs, &world.dlq_url).await.is_empty(),
        "nothing dead-lettered"
    );
}
