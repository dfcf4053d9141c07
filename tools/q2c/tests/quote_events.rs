//! `q2c local` as a black box: a quote created over HTTP is announced on the `quote-events`
//! queue of the data directory (read back with `SqliteQueues`), with its attributes; the
//! relay's last round on shutdown publishes what the last requests wrote.

use std::time::{Duration, Instant};

use q2c_embedded::local::{LocalConfig, start};
use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::messaging::{QueueClient, Receive, ReceivedMessage, queues};
use serde_json::{Value, json};

mod local_common;

const SECRET: &str = "quote-events-secret";

/// No consumers: this test reads `quote-events` itself (hub delivery would consume it).
fn config(data_dir: &std::path::Path) -> LocalConfig {
    LocalConfig {
        consumers: false,
        ..LocalConfig::with_defaults(
            "127.0.0.1:0".parse().expect("address"),
            data_dir.to_owned(),
            SECRET.into(),
        )
    }
}

async fn create_quote(url: &str) -> Value {
    let token = local_common::token(SECRET, "events");
    let response = reqwest::Client::new()
        .post(format!("{url}/tmf-api/quoteManagement/v4/quote"))
        .bearer_auth(token)
        .header("X-Correlation-Id", "corr-black-box")
        .json(&json!({"quoteItem": [{"productOffering": {"id": "mobile-s"}}]}))
        .send()
        .await
        .expect("POST /quote");
    assert_eq!(response.status(), 201);
    response.json().await.expect("quote JSON")
}

/// Receives from `quote-events` until a message arrives or `deadline` passes.
async fn next_event(queues: &SqliteQueues, deadline: Instant) -> Option<ReceivedMessage> {
    while Instant::now() < deadline {
        let got = queues
            .receive(
                queues::QUOTE_EVENTS,
                Receive::batch(Duration::from_secs(60)).waiting(Duration::from_millis(100)),
            )
            .await
            .expect("receive");
        if let Some(message) = got.into_iter().next() {
            return Some(message);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_quote_is_announced_on_the_quote_events_queue_with_attributes() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let app = start(&config(data_dir.path())).await.expect("start");
    let url = app.public_url().to_owned();
    let serving = app.spawn();

    let quote = create_quote(&url).await;

    // Read the data directory's database as another client would, while the server runs.
    let store = SqliteStore::open(&data_dir.path().join("q2c.sqlite3")).expect("open");
    let engine = SqliteQueues::new(&store);
    let message = next_event(&engine, Instant::now() + Duration::from_secs(10))
        .await
        .expect("the QuoteCreateEvent reaches quote-events within 10 s");
    let body: Value = serde_json::from_str(&message.body).expect("JSON envelope");
    assert_eq!(body["eventType"], "QuoteCreateEvent");
    assert_eq!(body["event"]["quote"]["id"], quote["id"]);
    let attr = |name: &str| message.attributes.get(name).map(String::as_str);
    assert_eq!(attr("eventType"), Some("QuoteCreateEvent"));
    assert_eq!(
        attr("schemaVersion"),
        Some("4.0"),
        "the previous major by default, so v4 readers keep working"
    );
    assert_eq!(body["schemaVersion"], "4.0");
    assert!(body.get("@type").is_none(), "the v4 envelope has no @type");
    assert_eq!(attr("tenant"), Some("events"));
    assert_eq!(attr("eventId"), body["eventId"].as_str());
    assert!(attr("correlationId").is_some(), "{:?}", message.attributes);
    // The relay marks a batch published right after sending it.
    let outbox = store.outbox_store();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !outbox.pending(10).await.expect("outbox").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the relayed event is marked published"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A quote created just before shutdown is relayed by the last round.
    let last = create_quote(&url).await;
    serving.stop().await.expect("served until told to stop");
    let message = next_event(&engine, Instant::now() + Duration::from_millis(500))
        .await
        .expect("the last quote's event was relayed before exit");
    let body: Value = serde_json::from_str(&message.body).expect("JSON envelope");
    assert_eq!(body["event"]["quote"]["id"], last["id"]);
}
