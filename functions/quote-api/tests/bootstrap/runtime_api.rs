//! A fake Lambda Runtime API (the 2018-06-01 interface the runtime client polls): the test
//! feeds invocation events in, the bootstrap's responses and errors come out.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;

/// What the bootstrap reported for an invocation (or its init). Errors are only printed
/// (through `Debug`) when a test fails.
#[derive(Debug)]
#[allow(dead_code)]
pub enum Reported {
    /// `POST /invocation/{id}/response`.
    Response(String, Value),
    /// `POST /invocation/{id}/error`.
    Error(String, Value),
    /// `POST /init/error`.
    InitError(Value),
}

#[derive(Clone)]
struct Shared {
    events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>>,
    reported: mpsc::UnboundedSender<Reported>,
    first_next: Arc<Mutex<Option<Instant>>>,
}

/// The running fake.
pub struct FakeRuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    events: mpsc::UnboundedSender<(String, Value)>,
    reported: mpsc::UnboundedReceiver<Reported>,
    first_next: Arc<Mutex<Option<Instant>>>,
}

impl FakeRuntimeApi {
    /// Binds 127.0.0.1:0 and serves in the background.
    pub async fn start() -> Self {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (reported_tx, reported_rx) = mpsc::unbounded_channel();
        let shared = Shared {
            events: Arc::new(tokio::sync::Mutex::new(events_rx)),
            reported: reported_tx,
            first_next: Arc::default(),
        };
        let first_next = shared.first_next.clone();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake runtime API");
        let address = listener.local_addr().expect("address").to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeRuntimeApi {
            address,
            events: events_tx,
            reported: reported_rx,
            first_next,
        }
    }

    /// Queues an invocation with `request_id`.
    pub fn invoke(&self, request_id: &str, event: Value) {
        self.events
            .send((request_id.to_owned(), event))
            .expect("the fake runtime API is running");
    }

    /// The next thing the bootstrap reported, waiting up to `timeout`.
    pub async fn reported(&mut self, timeout: Duration) -> Reported {
        tokio::time::timeout(timeout, self.reported.recv())
            .await
            .expect("the bootstrap reported in time")
            .expect("the fake runtime API is running")
    }

    /// When the first `GET /next` arrived.
    pub fn first_next(&self) -> Option<Instant> {
        *self.first_next.lock().expect("lock")
    }
}

async fn next(State(shared): State<Shared>) -> (HeaderMap, String) {
    if let Ok(mut first) = shared.first_next.lock() {
        first.get_or_insert_with(Instant::now);
    }
    // Long-poll like the real API: hold the request until there is an event.
    let Some((id, event)) = shared.events.lock().await.recv().await else {
        return std::future::pending().await;
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() + 30_000)
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    let header = |v: String| HeaderValue::from_str(&v).expect("header value");
    headers.insert("lambda-runtime-aws-request-id", header(id));
    headers.insert("lambda-runtime-deadline-ms", header(deadline.to_string()));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        header("arn:aws:lambda:eu-west-1:123456789012:function:q2c-quote-api".into()),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        header("Root=1-6745a0c0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0".into()),
    );
    headers.insert("content-type", header("application/json".into()));
    (headers, event.to_string())
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()))
}

async fn response(State(s): State<Shared>, Path(id): Path<String>, body: String) -> StatusCode {
    let _ = s.reported.send(Reported::Response(id, parse(&body)));
    StatusCode::ACCEPTED
}

async fn error(State(s): State<Shared>, Path(id): Path<String>, body: String) -> StatusCode {
    let _ = s.reported.send(Reported::Error(id, parse(&body)));
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Shared>, body: String) -> StatusCode {
    let _ = s.reported.send(Reported::InitError(parse(&body)));
    StatusCode::ACCEPTED
}
