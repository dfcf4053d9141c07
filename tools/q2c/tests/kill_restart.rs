//! Durability: every quote acknowledged to a client (201) and its outbox event survive a
//! SIGKILL of `q2c local` in the middle of a burst of writes, and the event reaches the
//! `quote-events` queue once the process is restarted, wherever the kill fell between the
//! write and the publish.

use std::collections::BTreeSet;
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::TenantId;
use q2c_service::messaging::{QueueClient, Receive};
use q2c_service::ports::{OutboxStore, QuoteStore};
use serde_json::{Value, json};
use tokio::sync::Mutex;

mod local_common;

const SECRET: &str = "kill-restart-secret";

/// Starts `q2c local` on a free port; returns the child and its base URL.
fn start(data_dir: &std::path::Path) -> (Child, String) {
    let flags = [
        "--no-consumers",
        // Writers as fast as they can, one tenant: not what the rate quota is for.
        "--tenant-requests-per-second",
        "0",
    ];
    let spawned = local_common::spawn(data_dir, &flags, SECRET);
    (spawned.child, spawned.url)
}

fn token() -> String {
    local_common::token(SECRET, "durable")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_quotes_and_their_events_survive_sigkill() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (mut child, url) = start(data_dir.path());
    let client = reqwest::Client::new();
    let token = token();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));

    // 8 writers create quotes as fast as they can; the server is killed under them.
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, token, acknowledged) = (
                client.clone(),
                url.clone(),
                token.clone(),
                acknowledged.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let body = json!({"quoteItem": [{"productOffering": {"id": "mobile-s"}}]});
                    let sent = client
                        .post(format!("{url}/tmf-api/quoteManagement/v4/quote"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await;
                    let Ok(response) = sent else { break };
                    if response.status() != 201 {
                        break;
                    }
                    let Ok(quote) = response.json::<Value>().await else {
                        break;
                    };
                    let id = quote["id"].as_str().expect("id").to_owned();
                    acknowledged.lock().await.insert(id);
                }
            })
        })
        .collect();
    while acknowledged.lock().await.len() < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    for writer in writers {
        writer.await.expect("writer ends once the server is gone");
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert!(acknowledged.len() >= 200);

    // Every acknowledged quote is readable after a restart...
    let (mut restarted, url) = start(data_dir.path());
    for id in &acknowledged {
        let response = client
            .get(format!("{url}/tmf-api/quoteManagement/v4/quote/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "quote {id} lost");
    }
    // ...and the restarted relay sends every event left pending by the killed process.
    let store = SqliteStore::open(&data_dir.path().join("q2c.sqlite3")).expect("reopen");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !OutboxStore::pending(&store, 10)
        .await
        .expect("outbox")
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the relay drains the outbox"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    restarted.kill().expect("stop");
    restarted.wait().expect("reaped");

    // Every acknowledged quote is stored, and its QuoteCreateEvent is on quote-events (at
    // least once: a batch sent but not marked before the SIGKILL is sent again).
    let tenant = TenantId::parse("durable").expect("tenant");
    let queues = SqliteQueues::new(&store);
    let mut announced = BTreeSet::new();
    loop {
        let batch = queues
            .receive("quote-events", Receive::batch(Duration::from_secs(600)))
            .await
            .expect("receive");
        if batch.is_empty() {
            break;
        }
        for message in batch {
            let body: Value = serde_json::from_str(&message.body).expect("envelope");
            if body["eventType"] == "QuoteCreateEvent" {
                let id = body["event"]["quote"]["id"].as_str().expect("quote id");
                announced.insert(id.to_owned());
            }
        }
    }
    for id in &acknowledged {
        assert!(
            QuoteStore::get(&store, &tenant, id)
                .await
                .expect("get")
                .is_some(),
            "{id}"
        );
        assert!(announced.contains(id), "event of quote {id} lost");
    }
}
