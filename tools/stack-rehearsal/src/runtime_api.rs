//! A fake Lambda Runtime API (the 2018-06-01 interface the runtime client polls): the test
//! feeds invocation events in, the bootstrap's responses and errors come out. One instance
//! serves one bootstrap process, as Lambda gives each execution environment its own.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;

/// What the bootstrap reported for an invocation (or its init).
#[derive(Debug, Clone)]
pub enum Reported {
    /// `POST /invocation/{id}/response`: the request id and the response.
    Response(String, Value),
    /// `POST /invocation/{id}/error`: the request id and the error document.
    Error(String, Value),
    /// `POST /init/error`: the error document of a failed init.
    InitError(Value),
}

/// One queued invocation.
struct Invocation {
    id: String,
    event: Value,
    deadline_ms: u128,
    function_arn: String,
}

#[derive(Clone)]
struct Shared {
    events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>>,
    reported: mpsc::UnboundedSender<Reported>,
    first_next: Arc<Mutex<Option<Instant>>>,
}

/// The running fake.
pub struct FakeRuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    events: mpsc::UnboundedSender<Invocation>,
    reported: mpsc::UnboundedReceiver<Reported>,
    first_next: Arc<Mutex<Option<Instant>>>,
    function_arn: String,
    timeout: Duration,
}

impl FakeRuntimeApi {
    /// Binds 127.0.0.1:0 and serves in the background, for a function with the placeholder
    /// ARN `…:function:q2c-quote-api` and a 30 s timeout.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start() -> Self {
        Self::for_function(
            "arn:aws:lambda:eu-west-1:123456789012:function:q2c-quote-api",
            Duration::from_secs(30),
        )
        .await
    }

    /// Binds 127.0.0.1:0 for the function `function_arn` (the `Lambda-Runtime-Invoked-Function-Arn`
    /// of every invocation) whose invocations end `timeout` after they are handed out
    /// (`Lambda-Runtime-Deadline-Ms`).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn for_function(function_arn: &str, timeout: Duration) -> Self {
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
            function_arn: function_arn.to_owned(),
            timeout,
        }
    }

    /// Queues an invocation with `request_id`.
    ///
    /// # Panics
    /// When the fake is no longer serving.
    pub fn invoke(&self, request_id: &str, event: Value) {
        self.invoke_as(request_id, event, &self.function_arn);
    }

    /// Queues an invocation with `request_id` through `function_arn` (e.g. an alias ARN).
    ///
    /// # Panics
    /// When the fake is no longer serving.
    pub fn invoke_as(&self, request_id: &str, event: Value, function_arn: &str) {
        let deadline_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| (d + self.timeout).as_millis())
            .unwrap_or_default();
        let invocation = Invocation {
            id: request_id.to_owned(),
            event,
            deadline_ms,
            function_arn: function_arn.to_owned(),
        };
        if self.events.send(invocation).is_err() {
            panic!("the fake runtime API is not running");
        }
    }

    /// The next thing the bootstrap reported, waiting up to `timeout`.
    ///
    /// # Panics
    /// When nothing is reported in time (the bootstrap hung or died).
    pub async fn reported(&mut self, timeout: Duration) -> Reported {
        self.try_reported(timeout)
            .await
            .expect("the bootstrap reported in time")
    }

    /// The next thing the bootstrap reported, or `None` when nothing came within `timeout`.
    pub async fn try_reported(&mut self, timeout: Duration) -> Option<Reported> {
        tokio::time::timeout(timeout, self.reported.recv())
            .await
            .ok()
            .flatten()
    }

    /// When the first `GET /next` arrived (the bootstrap finished its init).
    pub fn first_next(&self) -> Option<Instant> {
        *self.first_next.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn next(State(shared): State<Shared>) -> (HeaderMap, String) {
    if let Ok(mut first) = shared.first_next.lock() {
        first.get_or_insert_with(Instant::now);
    }
    // Long-poll like the real API: hold the request until there is an event.
    let Some(invocation) = shared.events.lock().await.recv().await else {
        return std::future::pending().await;
    };
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", invocation.id);
    set(
        "lambda-runtime-deadline-ms",
        invocation.deadline_ms.to_string(),
    );
    set(
        "lambda-runtime-invoked-function-arn",
        invocation.function_arn,
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-6745a0c0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0".into(),
    );
    set("content-type", "application/json".into());
    (headers, invocation.event.to_string())
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
