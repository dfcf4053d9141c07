//! `q2c local` with its consumers, end to end over real HTTP and the embedded queues: an
//! accepted quote's order reaches (the in-process fake) order management once and is marked
//! dispatched; a price change reaches billing-updates and re-prices an open quote; a quote
//! event reaches a quote-hub subscriber's queue.

use q2c_testkit::poll::eventually;
use std::time::Duration;

use q2c_embedded::local::{LocalConfig, dev_token, start};
use q2c_local::{SqliteQueues, SqliteStore};
use q2c_service::messaging::{QueueClient, ReceivedMessage, queues};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const SECRET: &str = "pipeline-secret";
const API: &str = "/tmf-api/quoteManagement/v4";
const WAIT: Duration = Duration::from_secs(20);

struct Local {
    url: String,
    downstream: String,
    data_dir: tempfile::TempDir,
    http: reqwest::Client,
    token: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Local {
    async fn start() -> Local {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let config = LocalConfig::with_defaults(
            "127.0.0.1:0".parse().expect("address"),
            data_dir.path().to_owned(),
            SECRET.into(),
        );
        assert!(config.consumers, "consumers run by default");
        let app = start(&config).await.expect("start");
        let url = app.public_url().to_owned();
        let downstream = app.downstream_url().to_owned();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(async {
            let _ = stopped.await;
        }));
        let token = dev_token(
            SECRET,
            "pipeline",
            &q2c_service::Scope::ALL,
            Duration::from_secs(600),
        )
        .expect("token");
        Local {
            url,
            downstream,
            data_dir,
            http: reqwest::Client::new(),
            token,
            stop: Some(stop),
            server: Some(server),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            let content_type = if method == reqwest::Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            request = request
                .header("Content-Type", content_type)
                .body(body.to_string());
        }
        let response = request.send().await.expect("request");
        assert!(
            response.status().is_success(),
            "{method} {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn quote(&self, offering: &str) -> Value {
        self.send(
            reqwest::Method::POST,
            &format!("{API}/quote"),
            Some(json!({"quoteItem": [{"productOffering": {"id": offering}, "quantity": 1}]})),
        )
        .await
    }

    fn queues(&self) -> SqliteQueues {
        let store =
            SqliteStore::open(&self.data_dir.path().join("q2c.sqlite3")).expect("open database");
        SqliteQueues::new(&store)
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("joined").expect("served");
        }
    }
}

async fn receive_all(queues: &SqliteQueues, queue: &str) -> Vec<ReceivedMessage> {
    queues
        .receive(queue, 10, Duration::from_secs(60), Duration::ZERO)
        .await
        .expect("receive")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_quote_reaches_order_management_once_and_is_marked_dispatched() {
    let local = Local::start().await;
    let quote = local.quote("mobile-s").await;
    let id = quote["id"].as_str().expect("id").to_owned();
    let path = format!("{API}/quote/{id}");
    local
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"state": "approved"})),
        )
        .await;
    local
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"state": "accepted"})),
        )
        .await;

    let orders_path = "/tmf-api/productOrderingManagement/v4/productOrder";
    let order = eventually("the order to be dispatched", WAIT, || async {
        let list = local.send(reqwest::Method::GET, orders_path, None).await;
        list.as_array()
            .and_then(|orders| orders.first().cloned())
            .filter(|order| order["dispatch"]["status"] == "dispatched")
    })
    .await;
    let order_id = order["id"].as_str().expect("order id").to_owned();
    assert!(order["dispatch"]["downstreamId"].is_string(), "{order}");

    let received: Value = reqwest::get(format!("{}/productOrder", local.downstream))
        .await
        .expect("fake order management")
        .json()
        .await
        .expect("JSON");
    let received = received.as_array().expect("a list").clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["externalId"], json!(order_id));
    assert_eq!(received[0]["posts"], json!(1), "one POST, no duplicate");
    local.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_change_reaches_billing_and_reprices_an_open_quote() {
    let local = Local::start().await;
    let quote = local.quote("mobile-l").await;
    let id = quote["id"].as_str().expect("id").to_owned();
    let before = quote["quoteTotalPrice"].clone();
    assert!(before.is_array(), "{quote}");

    let event_id =
        q2c::queue_cmd::price_change(local.data_dir.path(), "mobile-l-monthly", "99.99", None)
            .await
            .expect("price change enqueued")
            .event_id;

    let queues = local.queues();
    let billed = eventually("the change on billing-updates", WAIT, || async {
        let got = receive_all(&queues, queues::BILLING_UPDATES).await;
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(billed.len(), 1);
    let body: Value = serde_json::from_str(&billed[0].body).expect("JSON");
    assert_eq!(body["eventId"], json!(event_id));

    let repriced = eventually("the open quote to be re-priced", WAIT, || async {
        let now = local
            .send(reqwest::Method::GET, &format!("{API}/quote/{id}"), None)
            .await;
        (now["quoteTotalPrice"] != before).then_some(now)
    })
    .await;
    let text = repriced["quoteTotalPrice"].to_string();
    assert!(
        text.contains("99.99"),
        "the new monthly price shows: {text}"
    );
    local.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_event_reaches_a_quote_hub_subscriber_queue() {
    let local = Local::start().await;
    let queues = local.queues();
    queues
        .configure_queue("subscriber-pipeline", None, 5)
        .await
        .expect("create the subscriber's queue");
    local
        .send(
            reqwest::Method::POST,
            &format!("{API}/hub"),
            Some(json!({"callback": "local:subscriber-pipeline", "query": "eventType=QuoteCreateEvent"})),
        )
        .await;
    let quote = local.quote("mobile-s").await;

    let delivered = eventually(
        "the QuoteCreateEvent on subscriber-pipeline",
        WAIT,
        || async {
            let got = receive_all(&queues, "subscriber-pipeline").await;
            (!got.is_empty()).then_some(got)
        },
    )
    .await;
    let body: Value = serde_json::from_str(&delivered[0].body).expect("JSON");
    assert_eq!(body["eventType"], "QuoteCreateEvent");
    assert_eq!(body["event"]["quote"]["id"], quote["id"]);
    local.stop().await;
}
