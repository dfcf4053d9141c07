//! The redrive scenario of issue 14 on a running `q2c local` (the real binary, consumers on,
//! its in-process fake order management refusing orders that mention `REJECT-ME`): 3 refused
//! orders sit in `orders-dlq`; `q2c dlq redrive orders-dlq` (the real binary, on the same
//! data directory) moves them once, waits while the order dispatch refuses them again, ends
//! with exactly 3 reported "refused again", and order management received 2 POSTs per
//! refused order in all (the first attempt and the redriven one).

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::dlq::ops;
use q2c_service::messaging::QueueClient;
use serde_json::{Value, json};

mod local_common;

const SECRET: &str = "redrive-secret";
const API: &str = "/tmf-api/quoteManagement/v4";
const REJECT: &str = "REJECT-ME";
/// Safety bound of the waits for the pipeline (not a performance assertion).
const WAIT: Duration = Duration::from_secs(120);

/// `q2c local` on free ports, killed when dropped.
struct Local {
    child: Child,
    url: String,
    downstream: String,
    data_dir: tempfile::TempDir,
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Local {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let flags = [
        "--downstream-addr",
        "127.0.0.1:0",
        "--downstream-reject-match",
        REJECT,
    ];
    let spawned = local_common::spawn(data_dir.path(), &flags, SECRET);
    Local {
        child: spawned.child,
        url: spawned.url,
        downstream: spawned.downstream,
        data_dir,
    }
}

fn token() -> String {
    local_common::token(SECRET, "acme")
}

async fn call(client: &reqwest::Client, method: reqwest::Method, url: &str, body: Value) -> Value {
    let content_type = if method == reqwest::Method::PATCH {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let response = client
        .request(method.clone(), url)
        .bearer_auth(token())
        .header("Content-Type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_success(),
        "{method} {url}: {}",
        response.status()
    );
    response.json().await.expect("JSON")
}

/// Creates, approves and accepts a quote: its order goes to order management.
async fn order(client: &reqwest::Client, local: &Local, description: &str) {
    let quote = call(
        client,
        reqwest::Method::POST,
        &format!("{}{API}/quote", local.url),
        json!({"description": description,
               "quoteItem": [{"productOffering": {"id": "mobile-s"}, "quantity": 1}]}),
    )
    .await;
    let path = format!(
        "{}{API}/quote/{}",
        local.url,
        quote["id"].as_str().expect("id")
    );
    for state in ["approved", "accepted"] {
        call(
            client,
            reqwest::Method::PATCH,
            &path,
            json!({"state": state}),
        )
        .await;
    }
}

/// POSTs per order (`externalId` → (accepted, POSTs), what order management received), and
/// the total.
async fn posts(local: &Local) -> (BTreeMap<String, (bool, u64)>, u64) {
    let (entries, total) = local_common::fake_orders(&local.downstream).await;
    let by_order = entries
        .iter()
        .map(|e| {
            (
                e["externalId"].as_str().expect("externalId").to_owned(),
                (
                    e["accepted"].as_bool().expect("accepted"),
                    e["posts"].as_u64().expect("posts"),
                ),
            )
        })
        .collect();
    (by_order, total)
}

async fn until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The eventIds in `orders-dlq` (left in place).
async fn dead_lettered(queues: &SqliteQueues) -> Vec<String> {
    let backend = q2c_local::LocalDlqBackend::new(queues.clone(), None);
    let mut ids: Vec<String> = ops::peek(&backend, "orders-dlq", 100)
        .await
        .expect("peek")
        .iter()
        .map(|m| m.event_id().expect("an eventId"))
        .collect();
    ids.sort();
    ids
}

fn redrive(local: &Local, extra: &[&str]) -> (String, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_q2c"))
        .args(["dlq", "redrive", "orders-dlq", "--data-dir"])
        .arg(local.data_dir.path())
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("run q2c dlq redrive");
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    (String::from_utf8(output.stdout).expect("utf-8"), elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redrive_into_a_refusing_order_management_ends_with_three_refused_again() {
    let local = start();
    let client = reqwest::Client::new();
    for i in 0..5 {
        let description = if i < 3 {
            format!("{REJECT} order {i}")
        } else {
            format!("good order {i}")
        };
        order(&client, &local, &description).await;
    }
    let store = SqliteStore::open(
        &local
            .data_dir
            .path()
            .join(q2c_embedded::local::DATABASE_FILE),
    )
    .expect("open the database");
    let queues = SqliteQueues::new(&store);
    until(
        "3 refused orders in orders-dlq and 2 dispatched",
        || async {
            let dlq = queues.counts("orders-dlq").await.expect("counts");
            dlq.visible == 3 && posts(&local).await.1 == 5
        },
    )
    .await;
    let refused = dead_lettered(&queues).await;
    assert_eq!(refused.len(), 3);

    let (out, elapsed) = redrive(&local, &[]);
    eprintln!("q2c dlq redrive orders-dlq took {elapsed:?}:\n{out}");
    assert!(
        out.contains(
            "orders-dlq → orders: moved 3 / settled ok 0 / refused again 3 / unsettled 0 / \
             skipped 0 / failed 0"
        ),
        "{out}"
    );
    assert!(
        out.contains("order management refused the order: 400"),
        "the reasons are listed: {out}"
    );
    let (by_order, total) = posts(&local).await;
    let refused_orders: Vec<u64> = by_order
        .values()
        .filter(|(accepted, _)| !accepted)
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(refused_orders.len(), 3, "{by_order:?}");
    let refused_posts: u64 = refused_orders.iter().sum();
    eprintln!("order management POSTs: {total} in all, {refused_posts} for the 3 refused orders");
    assert_eq!(refused_posts, 6, "2 POSTs per refused order: {by_order:?}");
    assert!(refused_posts <= 2 * 3);
    assert_eq!(
        total, 8,
        "the 2 good orders were not posted again: {by_order:?}"
    );
    assert_eq!(
        dead_lettered(&queues).await,
        refused,
        "the same 3 events are back, once each"
    );

    // Again, for scripts: the same outcome, one more POST each.
    let (json, _) = redrive(&local, &["--json"]);
    let report: Value = serde_json::from_str(&json).expect("a JSON report");
    assert_eq!(report["moved"], 3, "{report}");
    assert_eq!(report["refusedAgain"], 3, "{report}");
    assert_eq!(report["settledOk"], 0, "{report}");
    let listed: Vec<&str> = report["refused"]
        .as_array()
        .expect("refused")
        .iter()
        .map(|r| r["eventId"].as_str().expect("eventId"))
        .collect();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|id| refused.iter().any(|r| r == id)));
    assert_eq!(posts(&local).await.1, 11);
    assert_eq!(dead_lettered(&queues).await, refused);
}
