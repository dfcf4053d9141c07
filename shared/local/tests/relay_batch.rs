//! The relay of `q2c local` in one transaction per batch (`SqliteStore::relay_batch`): it
//! publishes exactly what the generic relay (`q2c_service::relay`, over the ports) publishes,
//! in write order, moves the open-quote counts the same way, parks what cannot be published
//! (issue 14) in the same write, and a batch whose write fails leaves every event of it
//! pending (all or nothing), to go out once later.

use std::collections::BTreeMap;
use std::path::Path;

use q2c_contract::fixtures::{T0, event, stored_quote, tenant};
use q2c_contract::too_deep_body;
use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::{OutboxEvent, OutboxStore};
use q2c_service::relay::{outgoing_as, relay_once_as};

const DB: &str = "q2c.sqlite3";

fn file() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join(DB)).expect("file store");
    (dir, store)
}

fn emit() -> SchemaMajor {
    SchemaMajor::DEFAULT_EMIT
}

/// Every queue message as (queue, body, attributes), in send (`seq`) order.
type Message = (String, String, BTreeMap<String, String>);

fn messages(dir: &Path) -> Vec<Message> {
    let conn = rusqlite::Connection::open(dir.join(DB)).expect("open");
    let mut statement = conn
        .prepare("SELECT queue, body, attributes FROM queue_messages ORDER BY seq")
        .expect("prepare");
    statement
        .query_map([], |r| {
            let attributes: String = r.get(2)?;
            Ok((
                r.get(0)?,
                r.get(1)?,
                serde_json::from_str(&attributes).expect("attributes JSON"),
            ))
        })
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows")
}

fn open_counts(dir: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(dir.join(DB)).expect("open");
    let mut statement = conn
        .prepare("SELECT tenant, open FROM open_quote_counts ORDER BY tenant")
        .expect("prepare");
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows")
}

/// Two quotes' events (a creation each, which counts an open quote, and more) and catalog
/// events, in write order.
async fn write_events(store: &SqliteStore) -> Vec<OutboxEvent> {
    let t = tenant("relay");
    let quotes = store.quote_store();
    let mut written = Vec::new();
    for q in ["q-1", "q-2"] {
        let mut events = vec![event(Some(&t), q, "QuoteCreateEvent")];
        events.extend((0..14).map(|_| event(Some(&t), q, "QuoteAttributeValueChangeEvent")));
        events.push(event(
            None,
            "pop-1",
            "ProductOfferingPriceAttributeValueChangeEvent",
        ));
        quotes
            .insert(&t, &stored_quote(q, T0), &events)
            .await
            .expect("insert");
        written.extend(events);
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_write_per_batch_publishes_what_the_generic_relay_publishes_in_write_order() {
    let (dir, store) = file();
    let events = write_events(&store).await;
    let (generic_dir, generic) = file();
    for chunk in events.chunks(16) {
        let tenant = chunk[0].tenant.clone().expect("a quote event first");
        let tenant = q2c_service::TenantId::parse(&tenant).expect("tenant");
        generic
            .quote_store()
            .insert(&tenant, &stored_quote(&chunk[0].aggregate_id, T0), chunk)
            .await
            .expect("insert the same events");
    }

    let first = store.relay_batch(20, emit()).await.expect("first batch");
    assert_eq!(
        (first.published, first.parked, first.failed),
        (20, 0, 0),
        "a full batch: more may wait"
    );
    let rest = store.relay_batch(20, emit()).await.expect("second batch");
    assert_eq!(
        (rest.published, rest.read()),
        (events.len() - 20, events.len() - 20)
    );
    assert_eq!(
        store.relay_batch(20, emit()).await.expect("idle").read(),
        0,
        "nothing is sent again"
    );
    assert!(
        store
            .pending_entries(100)
            .await
            .expect("pending")
            .is_empty()
    );
    assert_eq!(store.oldest_pending().await.expect("oldest"), None);

    let queues = SqliteQueues::new(&generic).queue_client();
    while relay_once_as(&*generic.outbox_store(), &*queues, 10, emit())
        .await
        .expect("generic relay")
        .read()
        > 0
    {}

    let got = messages(dir.path());
    let want: Vec<Message> = events
        .iter()
        .map(|e| {
            let m = outgoing_as(e, emit()).expect("render");
            (e.destination.queue_name().to_owned(), m.body, m.attributes)
        })
        .collect();
    assert_eq!(
        got, want,
        "each event once, rendered as the generic relay renders it"
    );
    // The generic relay sends a batch per queue, so compare per queue (each in write order).
    for queue in ["quote-events", "pricing-changes"] {
        let of = |all: &[Message]| -> Vec<Message> {
            all.iter().filter(|m| m.0 == queue).cloned().collect()
        };
        assert_eq!(of(&got), of(&messages(generic_dir.path())), "{queue}");
    }
    let counts = open_counts(dir.path());
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(counts[0].1, 2, "two creations counted once each");
    assert_eq!(counts, open_counts(generic_dir.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_entry_and_an_event_the_queue_would_refuse_are_parked_in_the_same_write() {
    let (dir, store) = file();
    let conn = rusqlite::Connection::open(dir.path().join(DB)).expect("open");
    let too_long = format!(
        r#"{{"eventId":"big-1","pad":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    for (id, destination, event_type, body) in [
        (
            "poison-1",
            "orders",
            "ProductOrderCreateEvent",
            too_deep_body(),
        ),
        ("big-1", "quote-events", "QuoteCreateEvent", too_long),
    ] {
        conn.execute(
            "INSERT INTO outbox (event_id, destination, tenant, event_type, aggregate_id,
                 schema_version, body, created_at)
             VALUES (?1, ?2, 'park', ?3, 'a-1', '1.0', ?4, 0)",
            [id, destination, event_type, body.as_str()],
        )
        .expect("insert");
    }
    drop(conn);
    let t = tenant("park");
    let normal: Vec<OutboxEvent> = (0..3)
        .map(|i| event(Some(&t), &format!("q-{i}"), "QuoteCreateEvent"))
        .collect();
    store
        .quote_store()
        .insert(&t, &stored_quote("q-0", T0), &normal)
        .await
        .expect("insert");

    let report = store.relay_batch(100, emit()).await.expect("relay");
    assert_eq!(
        (report.published, report.parked, report.failed),
        (3, 2, 0),
        "the events behind the poison go out; the poison and the oversized event are parked"
    );
    let all = messages(dir.path());
    let on = |queue: &str| -> Vec<&Message> { all.iter().filter(|m| m.0 == queue).collect() };
    let poison = on("orders-dlq");
    assert_eq!(poison.len(), 1);
    assert_eq!(
        poison[0].1,
        too_deep_body(),
        "parked whole: the body as stored"
    );
    assert_eq!(poison[0].2["eventId"], "poison-1");
    assert!(poison[0].2["failureReason"].contains("cannot be decoded"));
    let big = on("quote-events-dlq");
    assert_eq!(big.len(), 1);
    assert_eq!(big[0].2["eventId"], "big-1");
    let reason = &big[0].2["failureReason"];
    assert!(
        reason.contains("MessageTooLong") && reason.contains("permanent"),
        "{reason}"
    );
    let published: Vec<&str> = on("quote-events")
        .iter()
        .map(|m| m.2["eventId"].as_str())
        .collect();
    let want: Vec<&str> = normal.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(published, want);
    // A parked creation moves its tenant's count as publishing it would (as `park` does).
    assert_eq!(
        open_counts(dir.path()),
        [("park".to_owned(), 1), (t.as_str().to_owned(), 3)]
    );
    assert!(
        store
            .pending_entries(100)
            .await
            .expect("pending")
            .is_empty()
    );
    assert_eq!(
        store.relay_batch(100, emit()).await.expect("idle").read(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_write_fails_leaves_every_event_pending_and_goes_out_once_later() {
    let (dir, store) = file();
    let t = tenant("atomic");
    let events: Vec<OutboxEvent> = (0..5)
        .map(|i| event(Some(&t), &format!("q-{i}"), "QuoteCreateEvent"))
        .collect();
    store
        .quote_store()
        .insert(&t, &stored_quote("q-0", T0), &events)
        .await
        .expect("insert");
    // The fourth message's insert fails, as a full disk or a crash in mid-batch would.
    let conn = rusqlite::Connection::open(dir.path().join(DB)).expect("open");
    conn.execute_batch(&format!(
        "CREATE TRIGGER fail_one BEFORE INSERT ON queue_messages
         WHEN NEW.attributes LIKE '%{}%'
         BEGIN SELECT RAISE(ABORT, 'simulated failure'); END",
        events[3].event_id
    ))
    .expect("trigger");

    assert!(
        store.relay_batch(100, emit()).await.is_err(),
        "the write fails"
    );
    assert!(
        messages(dir.path()).is_empty(),
        "nothing of the batch was enqueued"
    );
    assert_eq!(
        store.pending_entries(100).await.expect("pending").len(),
        5,
        "all pending"
    );
    assert!(open_counts(dir.path()).is_empty(), "no count moved");

    conn.execute_batch("DROP TRIGGER fail_one")
        .expect("drop trigger");
    let report = store.relay_batch(100, emit()).await.expect("relay");
    assert_eq!(report.published, 5);
    let ids: Vec<String> = messages(dir.path())
        .into_iter()
        .map(|m| m.2["eventId"].clone())
        .collect();
    let want: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(ids, want, "each once, in write order");
    assert_eq!(open_counts(dir.path()), [(t.as_str().to_owned(), 5)]);
}
