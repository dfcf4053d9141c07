//! The fake order-management system (`q2c downstream`) over real HTTP, and the order dispatch
//! (`OrderDispatch` with the reqwest `HttpDownstream` and the SQLite dispatch log) against it:
//! duplicates, refusals to the DLQ, random failures, an outage, and a crash after the
//! downstream accepted.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use q2c_downstream::fake::{DownstreamConfig, serve};
use q2c_downstream::{HttpDownstream, HttpDownstreamConfig, NoCredential, TokioSleeper};
use q2c_local::{Poller, SqliteQueues, SqliteStore};
use q2c_service::TenantId;
use q2c_service::dispatch::{
    BreakerState, CircuitBreaker, DispatchClaim, DispatchOutcome, DispatchStatus, Downstream,
    DownstreamAnswer, Lease, OrderDispatch, OrderKey, RetrySchedule,
};
use q2c_service::messaging::{
    OutgoingMessage, ParsedMessage, Receive, attributes, dlq_name, parse_message, queues,
};
use q2c_service::ports::{Clock, SystemClock};
use q2c_service::testing::{
    CrashAfterFirstAnswer, MemorySink, TestClock, assert_opened_then_closed,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::oneshot;

const TENANT: &str = "acme";

/// Starts the fake in-process on a free port; dropping the sender stops it.
async fn start(config: DownstreamConfig) -> (String, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(config, listener, async {
        let _ = stopped.await;
    }));
    (url, stop)
}

/// What the fake received: entries by externalId, total POSTs, POSTs refused while down.
async fn received(url: &str) -> (BTreeMap<String, Value>, u64, u64) {
    let response = reqwest::get(format!("{url}/productOrder")).await.unwrap();
    assert_eq!(response.status(), 200);
    let header =
        |name: &str| -> u64 { response.headers()[name].to_str().unwrap().parse().unwrap() };
    let (total, down) = (header("x-total-posts"), header("x-posts-while-down"));
    let entries: Vec<Value> = response.json().await.unwrap();
    let by_id = entries
        .into_iter()
        .map(|e| (e["externalId"].as_str().unwrap().to_owned(), e))
        .collect();
    (by_id, total, down)
}

struct Setup {
    store: SqliteStore,
    sink: Arc<MemorySink>,
    dispatch: OrderDispatch,
}

fn http_downstream(url: &str) -> Arc<HttpDownstream> {
    let mut config = HttpDownstreamConfig::new(url);
    config.total_timeout = Duration::from_secs(5);
    Arc::new(HttpDownstream::new(config, Arc::new(NoCredential)).unwrap())
}

fn setup(
    downstream: Arc<dyn Downstream>,
    clock: Arc<dyn Clock>,
    threshold: u32,
    open_for: Duration,
) -> Setup {
    let store = SqliteStore::open_in_memory().unwrap();
    let sink = Arc::new(MemorySink::default());
    let breaker = CircuitBreaker::new(
        downstream.name().to_owned(),
        threshold,
        open_for,
        clock.clone(),
    );
    let schedule = RetrySchedule::new(Duration::from_millis(2), Duration::from_millis(20), 3);
    let dispatch = OrderDispatch::new(
        downstream,
        store.dispatch_log(),
        sink.clone(),
        Arc::new(breaker),
        schedule,
        clock,
        Arc::new(TokioSleeper),
    );
    Setup {
        store,
        sink,
        dispatch,
    }
}

/// The fake started with `config`, and a dispatch to it over HTTP whose breaker opens for
/// `open_for` after 5 failures: the fake's URL, the sender that stops it, and the setup.
async fn dispatching_to(
    config: DownstreamConfig,
    open_for: Duration,
) -> (String, oneshot::Sender<()>, Setup) {
    let (url, stop) = start(config).await;
    let s = setup(http_downstream(&url), Arc::new(SystemClock), 5, open_for);
    (url, stop, s)
}

fn envelope(order_id: &str, note: &str) -> OutgoingMessage {
    let body = json!({
        "eventId": format!("evt-{order_id}"),
        "eventType": "ProductOrderCreateEvent",
        "eventTime": "2026-11-27T12:00:00Z",
        "event": {"productOrder": {
            "id": order_id,
            "description": note,
            "productOrderItem": [{"id": "1", "action": "add",
                                  "productOffering": {"id": "mobile-s"}}]
        }}
    });
    OutgoingMessage {
        body: body.to_string(),
        attributes: BTreeMap::from([
            (attributes::TENANT.to_owned(), TENANT.to_owned()),
            (attributes::EVENT_ID.to_owned(), format!("evt-{order_id}")),
            (attributes::SCHEMA_VERSION.to_owned(), "1.0".to_owned()),
        ]),
    }
}

fn message(order_id: &str) -> ParsedMessage {
    let out = envelope(order_id, "");
    parse_message(
        &format!("m-{order_id}"),
        &out.body,
        &out.attributes,
        Some(1),
    )
    .unwrap()
}

fn deadline() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::from_secs(30)
}

#[tokio::test]
async fn the_fake_deduplicates_by_key_and_external_id_and_reports_posts() {
    let (url, _stop) = start(DownstreamConfig {
        reject_match: Some("forbidden-offering".into()),
        ..DownstreamConfig::default()
    })
    .await;
    let client = reqwest::Client::new();
    let post = |key: &'static str, body: Value| {
        client
            .post(format!("{url}/productOrder"))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = post("k1", json!({"externalId": "o-1"})).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["state"], "acknowledged");
    let replay = post("k1", json!({"externalId": "o-1"})).await.unwrap();
    assert_eq!(replay.status(), 201, "same key: the same answer again");
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], first["id"]);
    let other_key = post("k2", json!({"externalId": "o-1"})).await.unwrap();
    assert_eq!(
        other_key.status(),
        409,
        "same externalId, other key: duplicate"
    );
    assert_eq!(other_key.json::<Value>().await.unwrap()["id"], first["id"]);
    let refused = post(
        "k3",
        json!({"externalId": "o-2", "note": "forbidden-offering"}),
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["reason"], "Order rejected");
    let (entries, total, down) = received(&url).await;
    assert_eq!((total, down), (4, 0));
    assert_eq!(entries["o-1"]["posts"], 3);
    assert_eq!(entries["o-1"]["accepted"], true);
    assert_eq!(entries["o-2"]["accepted"], false);
}

#[tokio::test]
async fn latency_beyond_the_callers_timeout_is_a_timeout() {
    let (url, _stop) = start(DownstreamConfig {
        latency: Duration::from_millis(500),
        ..DownstreamConfig::default()
    })
    .await;
    let mut config = HttpDownstreamConfig::new(&url);
    config.total_timeout = Duration::from_millis(100);
    let downstream = HttpDownstream::new(config, Arc::new(NoCredential)).unwrap();
    let answer = downstream
        .post_order(&json!({"externalId": "o-slow"}), "k-slow")
        .await;
    assert!(matches!(answer, DownstreamAnswer::Timeout(_)), "{answer:?}");
    // The fake counted the POST it was too slow to answer.
    assert_eq!(received(&url).await.0["o-slow"]["posts"], 1);
}

#[tokio::test]
async fn a_refused_order_reaches_the_dlq_with_the_downstreams_reason() {
    let (_url, _stop, s) = dispatching_to(
        DownstreamConfig {
            reject_match: Some("forbidden-offering".into()),
            ..DownstreamConfig::default()
        },
        Duration::from_secs(10),
    )
    .await;
    let queue_engine = SqliteQueues::new(&s.store);
    let queue = queue_engine.queue_client();
    queue
        .send_batch(
            queues::ORDERS,
            &[
                envelope("o-bad", "forbidden-offering please"),
                envelope("o-good", "fine"),
            ],
        )
        .await
        .unwrap();
    let poller = Poller::new(queue.clone(), queues::ORDERS);
    let handler = |m: ParsedMessage| s.dispatch.handle(m, deadline());
    let report = poller.poll_once(&handler).await.unwrap();
    assert_eq!((report.done, report.dead_lettered), (1, 1), "{report:?}");
    let dead = queue
        .receive(
            &dlq_name(queues::ORDERS),
            Receive::batch(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].body.contains("o-bad"));
    let reason = &dead[0].attributes[attributes::FAILURE_REASON];
    assert!(
        reason.contains("400")
            && reason.contains("Order rejected")
            && reason.contains("forbidden-offering"),
        "{reason}"
    );
    let sink = s.sink.latest();
    assert_eq!(sink["o-bad"].status, DispatchStatus::Failed);
    assert_eq!(sink["o-good"].status, DispatchStatus::Dispatched);
}

/// 200 orders, 30 % of POSTs failing (half of them after the order was stored), redelivered
/// until dispatched: order management holds each order exactly once.
#[tokio::test]
async fn with_random_failures_every_order_is_received_exactly_once() {
    let (url, _stop, s) = dispatching_to(
        DownstreamConfig {
            fail_rate: 0.3,
            seed: Some(7),
            ..DownstreamConfig::default()
        },
        Duration::from_millis(20),
    )
    .await;
    let mut pending: Vec<String> = (0..200).map(|i| format!("order-{i:03}")).collect();
    let mut redeliveries = 0;
    while !pending.is_empty() {
        let mut next = Vec::new();
        for order_id in pending {
            match s.dispatch.dispatch(message(&order_id), deadline()).await {
                DispatchOutcome::Dispatched { .. } | DispatchOutcome::AlreadyDispatched => {}
                DispatchOutcome::RetryLater { after, .. } => {
                    // The breaker may be open: wait its window out (at most 20 ms).
                    if s.dispatch.breaker().state() == BreakerState::Open {
                        tokio::time::sleep(after.min(Duration::from_millis(20))).await;
                    }
                    redeliveries += 1;
                    next.push(order_id);
                }
                other => panic!("{order_id}: {other:?}"),
            }
        }
        pending = next;
        assert!(redeliveries < 10_000, "no progress");
    }
    let (entries, total_posts, _) = received(&url).await;
    assert_eq!(entries.len(), 200);
    let ids: BTreeSet<_> = entries
        .values()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 200, "one downstream order per externalId");
    assert!(entries.values().all(|e| e["accepted"] == true));
    assert!(
        total_posts > 230,
        "failures happened and were retried: {total_posts} POSTs"
    );
    let tenant = TenantId::parse(TENANT).unwrap();
    let now = OffsetDateTime::now_utc();
    for (order_id, entry) in &entries {
        let claim = s
            .store
            .dispatch_log()
            .claim(
                OrderKey::new(&tenant, order_id),
                Lease {
                    now,
                    until: now + Duration::from_secs(1),
                },
            )
            .await
            .unwrap();
        let DispatchClaim::AlreadyDispatched { downstream_id, .. } = claim else {
            panic!("{order_id}: {claim:?}")
        };
        assert_eq!(downstream_id.as_deref(), entry["id"].as_str(), "{order_id}");
    }
    let sink = s.sink.latest();
    assert_eq!(sink.len(), 200);
    assert!(
        sink.values()
            .all(|u| u.status == DispatchStatus::Dispatched)
    );
}

/// The real binary with `--down-for-s 2` and a backlog of 30 orders: while it is down it
/// receives at most threshold + one probe per open window POSTs.
#[tokio::test]
async fn an_outage_costs_at_most_threshold_plus_one_probe_per_window() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_q2c"))
        .args(["downstream", "--addr", "127.0.0.1:0", "--down-for-s", "2"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start q2c downstream");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("q2c downstream listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    const THRESHOLD: u32 = 3;
    let open_for = Duration::from_millis(250);
    let transitions = Arc::new(Mutex::new(Vec::new()));
    let s = setup(
        http_downstream(&url),
        Arc::new(SystemClock),
        THRESHOLD,
        open_for,
    );
    let seen = transitions.clone();
    let breaker = Arc::new(
        CircuitBreaker::new("oms", THRESHOLD, open_for, Arc::new(SystemClock)).on_state_change(
            Arc::new(move |_, from, to| seen.lock().unwrap().push((from, to))),
        ),
    );
    let dispatch = OrderDispatch::new(
        http_downstream(&url),
        s.store.dispatch_log(),
        s.sink.clone(),
        breaker,
        RetrySchedule::new(Duration::from_millis(5), Duration::from_millis(50), 3),
        Arc::new(SystemClock),
        Arc::new(TokioSleeper),
    );
    let mut pending: Vec<String> = (0..30).map(|i| format!("backlog-{i:02}")).collect();
    while !pending.is_empty() {
        let mut next = Vec::new();
        let mut wait = Duration::ZERO;
        for order_id in pending {
            match dispatch.dispatch(message(&order_id), deadline()).await {
                DispatchOutcome::Dispatched { .. } => {}
                DispatchOutcome::RetryLater { after, .. } => {
                    wait = wait.max(after.min(open_for));
                    next.push(order_id);
                }
                other => panic!("{order_id}: {other:?}"),
            }
        }
        // Like a visibility timeout: the returned messages come back a little later.
        tokio::time::sleep(wait).await;
        pending = next;
    }
    let (entries, _, while_down) = received(&url).await;
    child.kill().expect("stop q2c downstream");
    let _ = child.wait();
    // The outage (2 s from the fake's start) spans at most 2 s / 250 ms = 8 open windows, plus
    // one for the window the outage ends in.
    let bound = u64::from(THRESHOLD) + 8 + 1;
    assert!(
        while_down >= u64::from(THRESHOLD),
        "the outage was seen: {while_down}"
    );
    assert!(
        while_down <= bound,
        "{while_down} POSTs while down, bound {bound}"
    );
    assert_eq!(
        entries.values().filter(|e| e["accepted"] == true).count(),
        30
    );
    let transitions = transitions.lock().unwrap();
    assert_opened_then_closed(&transitions);
}

#[tokio::test]
async fn a_crash_after_the_downstreams_2xx_leaves_one_dispatch_and_one_duplicate_post_at_most() {
    let (url, _stop) = start(DownstreamConfig::default()).await;
    let clock = Arc::new(TestClock(Mutex::new(OffsetDateTime::now_utc())));
    let downstream = Arc::new(CrashAfterFirstAnswer::new(http_downstream(&url)));
    let answered = downstream.answered.clone();
    let s = setup(
        downstream.clone(),
        clock.clone(),
        5,
        Duration::from_secs(10),
    );
    let deadline = clock.now() + Duration::from_secs(30);

    // The failpoint: the invocation is dropped right after the 2xx, before any bookkeeping.
    tokio::select! {
        outcome = s.dispatch.dispatch(message("o-crash"), deadline) => panic!("returned {outcome:?}"),
        () = answered.notified() => {}
    }
    let first_answer = downstream.first_answer.lock().unwrap().clone();
    assert!(
        matches!(
            first_answer,
            Some(DownstreamAnswer::Http { status: 201, .. })
        ),
        "{first_answer:?}"
    );
    assert!(s.sink.latest().is_empty());

    // Redelivered while the dead invocation's lease holds: nothing is called.
    let early = s.dispatch.dispatch(message("o-crash"), deadline).await;
    assert!(
        matches!(early, DispatchOutcome::RetryLater { .. }),
        "{early:?}"
    );
    assert_eq!(received(&url).await.1, 1);

    // After the lease: one more POST with the same key, answered as a replay.
    *clock.0.lock().unwrap() += Duration::from_secs(60);
    let deadline = clock.now() + Duration::from_secs(30);
    let late = s.dispatch.dispatch(message("o-crash"), deadline).await;
    assert!(
        matches!(late, DispatchOutcome::Dispatched { calls: 1, .. }),
        "{late:?}"
    );
    let again = s.dispatch.dispatch(message("o-crash"), deadline).await;
    assert_eq!(again, DispatchOutcome::AlreadyDispatched);

    let (entries, total_posts, _) = received(&url).await;
    assert_eq!(total_posts, 2, "at most one duplicate POST");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries["o-crash"]["accepted"], true);
    let tenant = TenantId::parse(TENANT).unwrap();
    let now = clock.now();
    let claim = s
        .store
        .dispatch_log()
        .claim(
            OrderKey::new(&tenant, "o-crash"),
            Lease {
                now,
                until: now + Duration::from_secs(1),
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(&claim, DispatchClaim::AlreadyDispatched { downstream_id: Some(id), .. }
            if Some(id.as_str()) == entries["o-crash"]["id"].as_str()),
        "{claim:?}"
    );
    assert_eq!(s.sink.last("o-crash").status, DispatchStatus::Dispatched);
}
