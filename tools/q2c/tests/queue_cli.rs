//! `q2c queue send|tail` and `q2c catalog price-change`, run as the real binary against a data
//! directory's embedded queues.

use std::path::Path;
use std::process::Command;

use q2c_local::{SqliteQueues, SqliteStore};
use q2c_model::sample_catalog::sample_catalog;
use q2c_service::messaging::{QueueClient, Receive};
use serde_json::{Value, json};

fn q2c(args: &[&str], data_dir: &Path) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_q2c"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("q2c runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A data directory whose database exists, with the sample catalog.
async fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("q2c.sqlite3")).expect("open");
    let catalog = sample_catalog();
    let offerings: Vec<_> = catalog.offerings().cloned().collect();
    let prices: Vec<_> = catalog.prices().cloned().collect();
    store.load_catalog(&offerings, &prices).await.expect("seed");
    dir
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test]
async fn send_then_tail_once_prints_and_consumes_the_message() {
    let dir = data_dir().await;
    let body = dir.path().join("event.json");
    let envelope = json!({"eventId": "ev-1", "eventType": "QuoteCreateEvent",
                          "event": {"quote": {"id": "q-1"}}});
    std::fs::write(&body, envelope.to_string()).expect("write");
    let body_path = body.to_str().expect("utf-8 path");

    let (ok, out, err) = q2c(
        &[
            "queue",
            "send",
            "billing-updates",
            "--body-file",
            body_path,
            "--attribute",
            "tenant=acme",
        ],
        dir.path(),
    );
    assert!(ok, "send failed: {err}");
    assert!(!out.trim().is_empty(), "prints the message id");

    let (ok, out, err) = q2c(&["queue", "tail", "billing-updates", "--once"], dir.path());
    assert!(ok, "tail failed: {err}");
    let printed = lines(&out);
    assert_eq!(printed.len(), 1);
    assert_eq!(printed[0]["body"], envelope);
    assert_eq!(printed[0]["attributes"]["eventType"], "QuoteCreateEvent");
    assert_eq!(printed[0]["attributes"]["eventId"], "ev-1");
    assert_eq!(printed[0]["attributes"]["tenant"], "acme");
    assert_eq!(
        printed[0]["attributes"]["schemaVersion"], "4.0",
        "an envelope without a version is the v4 form"
    );

    // Consumed: a second tail prints nothing.
    let (ok, out, _) = q2c(&["queue", "tail", "billing-updates", "--once"], dir.path());
    assert!(ok);
    assert!(out.trim().is_empty(), "{out}");
}

#[tokio::test]
async fn tail_keep_leaves_the_messages() {
    let dir = data_dir().await;
    let body = dir.path().join("event.json");
    std::fs::write(
        &body,
        json!({"eventId": "ev-2", "eventType": "X", "event": {}}).to_string(),
    )
    .expect("write");
    let body_path = body.to_str().expect("utf-8 path");
    assert!(
        q2c(
            &["queue", "send", "quote-events", "--body-file", body_path],
            dir.path()
        )
        .0
    );
    for _ in 0..2 {
        let (ok, out, err) = q2c(&["queue", "tail", "quote-events", "--keep"], dir.path());
        assert!(ok, "{err}");
        assert_eq!(lines(&out).len(), 1);
    }
}

#[tokio::test]
async fn send_refuses_a_body_the_consumers_would_dead_letter() {
    let dir = data_dir().await;
    let body = dir.path().join("bad.json");
    std::fs::write(&body, r#"{"eventType": "X"}"#).expect("write");
    let (ok, _, err) = q2c(
        &[
            "queue",
            "send",
            "pricing-changes",
            "--body-file",
            body.to_str().expect("path"),
        ],
        dir.path(),
    );
    assert!(!ok);
    assert!(err.contains("eventId"), "{err}");
}

#[tokio::test]
async fn an_unknown_queue_is_an_error_naming_it() {
    let dir = data_dir().await;
    let (ok, _, err) = q2c(&["queue", "tail", "no-such-queue", "--once"], dir.path());
    assert!(!ok);
    assert!(err.contains("no-such-queue"), "{err}");
}

#[tokio::test]
async fn price_change_enqueues_a_tmf620_event_with_the_new_amount() {
    let dir = data_dir().await;
    let price = sample_catalog().prices().next().expect("a price").clone();
    let (ok, out, err) = q2c(
        &[
            "catalog",
            "price-change",
            "--price",
            &price.id,
            "--value",
            "24.99",
        ],
        dir.path(),
    );
    assert!(ok, "{err}");
    let before = price
        .price
        .as_ref()
        .map(ToString::to_string)
        .expect("an amount");
    assert!(
        out.starts_with(&format!("price {}: {before} -> 24.99 ", price.id)),
        "says what changed: {out}"
    );
    let event_id = out
        .lines()
        .find_map(|line| line.strip_prefix("event "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the event id")
        .to_owned();

    let store = SqliteStore::open(&dir.path().join("q2c.sqlite3")).expect("open");
    let queues = SqliteQueues::new(&store);
    let received = queues
        .receive(
            "pricing-changes",
            Receive::batch(std::time::Duration::from_secs(30)),
        )
        .await
        .expect("receive");
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_str(&received[0].body).expect("JSON");
    assert_eq!(body["eventId"], json!(event_id));
    assert_eq!(
        body["eventType"],
        "ProductOfferingPriceAttributeValueChangeEvent"
    );
    let changed = &body["event"]["productOfferingPrice"];
    assert_eq!(changed["id"], json!(price.id));
    assert_eq!(changed["price"]["value"], json!(24.99));
    let unit = price.price.map(|m| m.currency.code().to_owned());
    assert_eq!(changed["price"]["unit"].as_str(), unit.as_deref());
    assert!(changed["lastUpdate"].is_string());

    let (ok, _, err) = q2c(
        &["catalog", "price-change", "--price", "nope", "--value", "1"],
        dir.path(),
    );
    assert!(!ok);
    assert!(err.contains("no price `nope`"), "{err}");
    let (ok, _, err) = q2c(
        &[
            "catalog",
            "price-change",
            "--price",
            &price.id,
            "--value",
            "abc",
        ],
        dir.path(),
    );
    assert!(!ok);
    assert!(err.contains("not a decimal"), "{err}");
}
