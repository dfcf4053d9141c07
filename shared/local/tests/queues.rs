//! The embedded queue engine: the queue and relay contracts, the poller's dead-lettering,
//! per-queue `maxReceiveCount`, and durability across a reopen.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use q2c_contract::{QueueNames, parking_contract, queue_contract, relay_contract, too_deep_body};
use q2c_local::{PollReport, Poller, SqliteQueues, SqliteStore};
use q2c_service::messaging::{
    HandlerError, OutgoingMessage, QueueClient, QueueCounts, Receive, attributes, queues,
};
use serde_json::json;

fn file() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("q2c.sqlite3")).expect("file store");
    (dir, store)
}

fn names(queue: &str) -> QueueNames {
    QueueNames {
        queue: queue.to_owned(),
        dlq: format!("{queue}-dlq"),
        max_receive_count: 5,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_contract_on_file() {
    let (_dir, store) = file();
    queue_contract(
        SqliteQueues::new(&store).queue_client(),
        names(queues::ORDERS),
    )
    .await;
}

#[tokio::test]
async fn queue_contract_in_memory_with_a_custom_max_receive_count() {
    let store = SqliteStore::open_in_memory().expect("store");
    let engine = SqliteQueues::new(&store);
    engine
        .configure_queue("scratch", Some("scratch-dlq"), 3)
        .await
        .expect("configure");
    engine
        .configure_queue("scratch-dlq", None, 5)
        .await
        .expect("configure dlq");
    let names = QueueNames {
        max_receive_count: 3,
        ..names("scratch")
    };
    queue_contract(engine.queue_client(), names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_contract_on_file() {
    let (_dir, store) = file();
    let queues = SqliteQueues::new(&store).queue_client();
    relay_contract(store.quote_store(), store.outbox_store(), queues).await;
}

/// The poison of issue 14 written as an old build (or a bug) could have: a row whose body
/// serde cannot parse, before everything else; the relay parks it and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parking_contract_on_file() {
    let (dir, store) = file();
    let conn = rusqlite::Connection::open(dir.path().join("q2c.sqlite3")).expect("open");
    conn.execute(
        "INSERT INTO outbox (event_id, destination, tenant, event_type, aggregate_id,
             schema_version, body, created_at)
         VALUES ('poison-1', 'orders', 'park', 'ProductOrderCreateEvent', 'o-1', '1.0', ?1, 0)",
        [too_deep_body()],
    )
    .expect("insert the poison");
    drop(conn);
    let queues = SqliteQueues::new(&store).queue_client();
    parking_contract(
        store.quote_store(),
        store.outbox_store(),
        queues,
        "poison-1",
    )
    .await;
}

#[tokio::test]
async fn every_template_queue_and_dlq_exists_and_an_unknown_queue_is_an_error() {
    let store = SqliteStore::open_in_memory().expect("store");
    let engine = SqliteQueues::new(&store);
    for queue in queues::ALL {
        for name in [queue.to_owned(), format!("{queue}-dlq")] {
            let counts = engine.counts(&name).await.expect("queue exists");
            assert_eq!(counts, QueueCounts::default(), "{name}");
        }
    }
    let unknown = engine.counts("nope").await;
    assert!(matches!(
        unknown,
        Err(q2c_service::messaging::QueueError::UnknownQueue(_))
    ));
}

#[tokio::test]
async fn a_sent_message_survives_reopening_the_database() {
    let (dir, store) = file();
    let message = OutgoingMessage {
        body: "{}".into(),
        attributes: BTreeMap::new(),
    };
    SqliteQueues::new(&store)
        .send_batch(queues::ORDERS, &[message])
        .await
        .expect("send");
    drop(store);
    let reopened = SqliteStore::open(&dir.path().join("q2c.sqlite3")).expect("reopen");
    let counts = SqliteQueues::new(&reopened)
        .counts(queues::ORDERS)
        .await
        .expect("counts");
    assert_eq!(counts.visible, 1);
}

fn envelope(n: usize, poison: bool) -> OutgoingMessage {
    let body = json!({
        "eventId": format!("e-{n}"),
        "eventType": "QuoteCreateEvent",
        "event": {"quote": {"id": format!("q-{n}"), "poison": poison}}
    });
    OutgoingMessage {
        body: body.to_string(),
        attributes: BTreeMap::from([
            (attributes::TENANT.to_owned(), "acme".to_owned()),
            (attributes::SCHEMA_VERSION.to_owned(), "1.0".to_owned()),
        ]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_reaches_the_dlq_with_its_reason_while_its_batch_mates_succeed() {
    let (_dir, store) = file();
    let queues: Arc<dyn QueueClient> = SqliteQueues::new(&store).queue_client();
    let mut batch: Vec<_> = (0..4).map(|n| envelope(n, n == 2)).collect();
    batch.push(OutgoingMessage {
        body: "not json".into(),
        attributes: BTreeMap::new(),
    });
    queues.send_batch("orders", &batch).await.expect("send");
    let handled = AtomicUsize::new(0);
    let handler = |message: q2c_service::messaging::ParsedMessage| {
        let handled = &handled;
        async move {
            if message.event["quote"]["poison"] == true {
                return Err(HandlerError::Poison {
                    reason: "quote q-2 cannot be ordered".into(),
                });
            }
            handled.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    };
    let poller = Poller::new(queues.clone(), "orders").with_wait(Duration::ZERO);

    let report = poller.poll_once(&handler).await.expect("poll");

    let expected = PollReport {
        received: 5,
        done: 3,
        retried: 0,
        dead_lettered: 2,
    };
    assert_eq!(report, expected);
    assert_eq!(handled.load(Ordering::SeqCst), 3);
    assert_eq!(
        queues.counts("orders").await.expect("counts"),
        QueueCounts::default()
    );
    let mut dead = queues
        .receive("orders-dlq", Receive::batch(Duration::from_secs(30)))
        .await
        .expect("dlq");
    // "not json" sorts before the envelope's "{".
    dead.sort_by(|a, b| a.body.cmp(&b.body));
    assert_eq!(dead.len(), 2, "{dead:#?}");
    let reason = |i: usize| dead[i].attributes[attributes::FAILURE_REASON].clone();
    assert_eq!(
        reason(0),
        "unparseable body: expected ident at line 1 column 2"
    );
    assert_eq!(reason(1), "quote q-2 cannot be ordered");
    assert_eq!(dead[1].body, batch[2].body, "the original body");
    assert_eq!(
        dead[1].attributes[attributes::TENANT],
        "acme",
        "original attributes kept"
    );
}

#[tokio::test]
async fn transient_failures_and_panics_stay_for_redelivery_alone() {
    let (_store, queues) = orders_holding(3).await;
    let handler = |message: q2c_service::messaging::ParsedMessage| async move {
        match message.event_id.as_str() {
            "e-0" => Err(HandlerError::Transient("downstream down".into())),
            "e-1" => panic!("handler bug"),
            _ => Ok(()),
        }
    };
    let poller = Poller::new(queues.clone(), "orders")
        .with_wait(Duration::ZERO)
        .with_visibility_timeout(Duration::from_secs(1));

    let report = poller.poll_once(&handler).await.expect("poll");
    assert_eq!((report.done, report.retried), (1, 2), "{report:?}");
    let counts = queues.counts("orders").await.expect("counts");
    assert_eq!(
        counts.in_flight, 2,
        "failures wait out their visibility timeout"
    );

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let again = poller.poll_once(&handler).await.expect("poll again");
    assert_eq!(
        again.received, 2,
        "redelivered after the visibility timeout"
    );
}

#[tokio::test]
async fn housekeeping_drops_messages_past_their_queue_retention_only() {
    let store = SqliteStore::open_in_memory().expect("store");
    let engine = SqliteQueues::new(&store);
    let message = OutgoingMessage::default();
    engine
        .send_batch("orders", std::slice::from_ref(&message))
        .await
        .expect("send");
    engine
        .send_batch("orders-dlq", &[message])
        .await
        .expect("send");
    let now = time::OffsetDateTime::now_utc();

    let early = store
        .housekeeping(now + time::Duration::days(3))
        .await
        .expect("hk");
    assert_eq!(early.queue_messages, 0, "kept within 4 days");
    let later = store
        .housekeeping(now + time::Duration::days(5))
        .await
        .expect("hk");
    assert_eq!(
        later.queue_messages, 1,
        "the source message expires after 4 days"
    );
    let dlq = engine.counts("orders-dlq").await.expect("counts");
    assert_eq!(dlq.visible, 1, "DLQs keep messages 14 days");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_poller_drains_its_queue_and_stops_on_shutdown() {
    let (_dir, store) = file();
    let queues: Arc<dyn QueueClient> = SqliteQueues::new(&store).queue_client();
    let handled = Arc::new(AtomicUsize::new(0));
    let poller =
        Poller::new(queues.clone(), "pricing-changes").with_wait(Duration::from_millis(50));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let counter = handled.clone();
    let running = tokio::spawn(async move {
        let handler = move |_message: q2c_service::messaging::ParsedMessage| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        };
        poller
            .run(handler, async {
                let _ = stopped.await;
            })
            .await;
    });

    let batch: Vec<_> = (0..10).map(|n| envelope(n, false)).collect();
    queues
        .send_batch("pricing-changes", &batch[..5])
        .await
        .expect("send");
    queues
        .send_batch("pricing-changes", &batch[5..])
        .await
        .expect("send");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while handled.load(Ordering::SeqCst) < 10 {
        assert!(std::time::Instant::now() < deadline, "all handled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).expect("poller running");
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("stops promptly")
        .expect("no panic");
    let counts = queues.counts("pricing-changes").await.expect("counts");
    assert_eq!(
        counts,
        QueueCounts::default(),
        "every handled message was deleted"
    );
}

#[tokio::test]
async fn a_retry_after_hint_hides_the_message_for_that_long_instead() {
    let (_store, queues) = orders_holding(2).await;
    // e-0 asks to be retried in 0 s, e-1 in an hour; the poller's own timeout is 1 h too.
    let handler = |message: q2c_service::messaging::ParsedMessage| async move {
        let after = if message.event_id == "e-0" {
            Duration::ZERO
        } else {
            Duration::from_secs(3600)
        };
        Err(HandlerError::Transient(Box::new(
            q2c_service::messaging::RetryAfter {
                after,
                reason: "order management is down".into(),
            },
        )))
    };
    let poller = Poller::new(queues.clone(), "orders")
        .with_wait(Duration::ZERO)
        .with_visibility_timeout(Duration::from_secs(3600));

    let report = poller.poll_once(&handler).await.expect("poll");
    assert_eq!((report.done, report.retried), (0, 2), "{report:?}");
    let again = poller.poll_once(&handler).await.expect("poll again");
    assert_eq!(
        again.received, 1,
        "only the one hidden for 0 s is back at once"
    );
}

#[tokio::test]
async fn a_whole_batch_handler_gets_one_call_and_decides_each_message() {
    let store = SqliteStore::open_in_memory().expect("store");
    let queues: Arc<dyn QueueClient> = SqliteQueues::new(&store).queue_client();
    let mut batch: Vec<_> = (0..4).map(|n| envelope(n, n == 2)).collect();
    batch.push(OutgoingMessage {
        body: "not json".into(),
        attributes: BTreeMap::new(),
    });
    queues
        .send_batch("quote-events", &batch)
        .await
        .expect("send");
    let calls = Arc::new(AtomicUsize::new(0));
    let handler = |messages: Vec<q2c_service::messaging::ParsedMessage>| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            messages
                .iter()
                .map(|m| match m.event_id.as_str() {
                    "e-2" => Err(HandlerError::Poison {
                        reason: "bad quote".into(),
                    }),
                    "e-3" => Err(HandlerError::Transient("subscriber down".into())),
                    _ => Ok(()),
                })
                .collect()
        }
    };
    let poller = Poller::new(queues.clone(), "quote-events").with_wait(Duration::ZERO);
    let report = poller.poll_batch_once(&handler).await.expect("poll");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one call for the batch");
    assert_eq!(
        (
            report.received,
            report.done,
            report.dead_lettered,
            report.retried
        ),
        (5, 2, 2, 1),
        "{report:?}"
    );
    let dead = queues
        .receive("quote-events-dlq", Receive::batch(Duration::from_secs(30)))
        .await
        .expect("dlq");
    let mut reasons: Vec<_> = dead
        .iter()
        .map(|m| m.attributes[attributes::FAILURE_REASON].clone())
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[0], "bad quote");
    assert!(reasons[1].starts_with("unparseable body"), "{reasons:?}");
}

#[tokio::test]
async fn the_operations_helpers_list_count_reasons_find_the_oldest_and_purge() {
    let (_dir, store) = file();
    let engine = SqliteQueues::new(&store);
    let listed = engine.list_queues().await.expect("list");
    let orders = listed
        .iter()
        .find(|q| q.name == queues::ORDERS)
        .expect("orders listed");
    assert_eq!(orders.dead_letter_queue.as_deref(), Some("orders-dlq"));
    let dlq = "orders-dlq";
    assert_eq!(engine.oldest_sent_at(dlq).await.expect("oldest"), None);
    let message = |reason: Option<&str>| OutgoingMessage {
        body: "{}".into(),
        attributes: reason
            .map(|r| BTreeMap::from([(attributes::FAILURE_REASON.to_owned(), r.to_owned())]))
            .unwrap_or_default(),
    };
    let batch = [
        message(Some("refused")),
        message(Some("refused")),
        message(Some("timeout")),
        message(None),
    ];
    let before = time::OffsetDateTime::now_utc();
    engine.send_batch(dlq, &batch).await.expect("send");
    let oldest = engine
        .oldest_sent_at(dlq)
        .await
        .expect("oldest")
        .expect("some");
    assert!(oldest >= before - Duration::from_secs(1));
    assert_eq!(
        engine.failure_reasons(dlq).await.expect("reasons"),
        vec![
            (Some("refused".to_owned()), 2),
            (None, 1),
            (Some("timeout".to_owned()), 1)
        ]
    );
    assert_eq!(engine.purge(dlq).await.expect("purge"), 4);
    assert_eq!(
        engine.counts(dlq).await.expect("counts"),
        QueueCounts::default()
    );
    assert!(engine.purge("nope").await.is_err());
}

/// An in-memory store (keep it while the queues are used) whose `orders` queue holds `count`
/// valid envelopes, `e-0` onwards.
async fn orders_holding(count: usize) -> (SqliteStore, Arc<dyn QueueClient>) {
    let store = SqliteStore::open_in_memory().expect("store");
    let queues: Arc<dyn QueueClient> = SqliteQueues::new(&store).queue_client();
    let batch: Vec<_> = (0..count).map(|n| envelope(n, false)).collect();
    queues.send_batch("orders", &batch).await.expect("send");
    (store, queues)
}
