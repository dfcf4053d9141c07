//! The `StartMessageMoveTask` path of `q2c dlq redrive`, `tasks` and `cancel`, with the real
//! SDK client talking real HTTP to a stubbed SQS (moto lacks the move-task API): a task
//! followed to completion with its progress, a FAILED task, a cancelled task, and an
//! emulator's "unsupported" answer that makes redrive fall back to the manual move.
//!
//! Why a stub server and not `aws-smithy-mocks`: the mocks need the SDK's `test-util`
//! features, which turn on serde_json's `preserve_order` for every crate of a workspace test
//! build, so tests would run with a different JSON map than production.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use q2c::dlq::cmd::{CancelArgs, DlqCommand, run_on};
use q2c::dlq::progress::Progress;
use q2c_aws::SqsDlqBackend;
use q2c_service::dlq::ops;
use q2c_service::dlq::{DlqBackend, MoveTaskError};
use serde_json::{Value, json};

const DLQ: &str = "q2c-orders-dlq";
const DLQ_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:q2c-orders-dlq";

/// What the stub answers, and what it was asked.
#[derive(Default)]
struct Script {
    /// `StartMessageMoveTask`: a task handle, or an error code.
    start: Option<Result<&'static str, &'static str>>,
    /// `ListMessageMoveTasks` answers, in order (the last one repeats).
    listings: VecDeque<Value>,
    /// `CancelMessageMoveTask`: messages moved so far.
    cancel_moved: i64,
    /// Calls per operation.
    calls: HashMap<String, usize>,
    /// Request bodies per operation, last one kept.
    requests: HashMap<String, Value>,
    /// Every operation, in order.
    log: Vec<String>,
}

type Shared = Arc<Mutex<Script>>;

/// An SQS endpoint speaking the AWS JSON 1.0 protocol for the five operations used here.
async fn sqs(
    axum::extract::State(script): axum::extract::State<Shared>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let operation = target.trim_start_matches("AmazonSQS.").to_owned();
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut script = script.lock().expect("lock");
    *script.calls.entry(operation.clone()).or_default() += 1;
    script.log.push(operation.clone());
    script.requests.insert(operation.clone(), request.clone());
    let answer = match operation.as_str() {
        "GetQueueUrl" => Ok(json!({
            "QueueUrl": format!("https://sqs.eu-west-1.amazonaws.com/123456789012/{}",
                                request["QueueName"].as_str().unwrap_or_default())
        })),
        "GetQueueAttributes" => Ok(json!({"Attributes": {"QueueArn": DLQ_ARN}})),
        "StartMessageMoveTask" => match script.start.expect("a scripted start") {
            Ok(handle) => Ok(json!({"TaskHandle": handle})),
            Err(code) => Err(code),
        },
        "ListMessageMoveTasks" => {
            let listing = if script.listings.len() > 1 {
                script.listings.pop_front()
            } else {
                script.listings.front().cloned()
            };
            Ok(listing.expect("a scripted listing"))
        }
        "CancelMessageMoveTask" => {
            Ok(json!({"ApproximateNumberOfMessagesMoved": script.cancel_moved}))
        }
        _ => Err("InvalidAction"),
    };
    let (status, body) = match answer {
        Ok(body) => (StatusCode::OK, body),
        Err(code) => (
            StatusCode::BAD_REQUEST,
            json!({"__type": format!("com.amazonaws.sqs#{code}"), "message": "stubbed"}),
        ),
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
        body.to_string(),
    )
        .into_response()
}

/// A stub on a free port and a backend whose SDK client talks to it.
async fn stub(script: Script) -> (SqsDlqBackend, Shared) {
    let shared = Arc::new(Mutex::new(script));
    let app = Router::new()
        .route("/", post(sqs))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "stub"))
        .endpoint_url(format!("http://{addr}"))
        .build();
    (
        SqsDlqBackend::new(Client::from_conf(config), "q2c-", None),
        shared,
    )
}

/// A stub whose `StartMessageMoveTask` answers `task-1`, listing the task as `listings` and
/// reporting `cancel_moved` on cancel, and the task started through it (at most `rate`
/// messages per second): the backend, the script and the handle.
async fn started(
    listings: Vec<Value>,
    cancel_moved: i64,
    rate: Option<u32>,
) -> (SqsDlqBackend, Shared, String) {
    let (backend, script) = stub(Script {
        start: Some(Ok("task-1")),
        listings: listings.into(),
        cancel_moved,
        ..Script::default()
    })
    .await;
    let handle = backend
        .start_move_task(DLQ, None, rate)
        .await
        .expect("started");
    (backend, script, handle)
}

fn task(status: &str, moved: i64, reason: Option<&str>) -> Value {
    let mut entry = json!({
        "Status": status, "SourceArn": DLQ_ARN,
        "ApproximateNumberOfMessagesMoved": moved, "ApproximateNumberOfMessagesToMove": 10,
    });
    if status == "RUNNING" {
        entry["TaskHandle"] = json!("task-1");
    }
    if let Some(reason) = reason {
        entry["FailureReason"] = json!(reason);
    }
    json!({"Results": [entry]})
}

fn calls(script: &Shared, operation: &str) -> usize {
    script
        .lock()
        .expect("lock")
        .calls
        .get(operation)
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_move_task_is_followed_to_completion_with_its_progress() {
    let (backend, script, handle) = started(
        vec![
            task("RUNNING", 3, None),
            task("RUNNING", 7, None),
            task("COMPLETED", 10, None),
        ],
        0,
        Some(50),
    )
    .await;
    assert_eq!(handle, "task-1");
    {
        let script = script.lock().expect("lock");
        let start = &script.requests["StartMessageMoveTask"];
        assert_eq!(start["SourceArn"], DLQ_ARN);
        assert!(
            start.get("DestinationArn").is_none(),
            "back to the source queue"
        );
        assert_eq!(start["MaxNumberOfMessagesPerSecond"], 50);
    }
    let mut progress = Progress::hidden();
    let ended = ops::follow_move_task(&backend, DLQ, &handle, Duration::ZERO, &mut progress)
        .await
        .expect("completed");
    assert_eq!((ended.status.as_str(), ended.moved), ("COMPLETED", 10));
    assert_eq!(
        progress.summary().moved,
        10,
        "the bar shows the task's count"
    );
    assert_eq!(
        calls(&script, "ListMessageMoveTasks"),
        3,
        "polled until the task ended"
    );
    assert_eq!(calls(&script, "StartMessageMoveTask"), 1);
}

fn task_of(status: &str, moved: i64, to_move: i64) -> Value {
    let mut listing = task(status, moved, None);
    listing["Results"][0]["ApproximateNumberOfMessagesToMove"] = json!(to_move);
    listing
}

/// A move task takes what is in the DLQ while it runs, returns included: it is cancelled once
/// it has moved the count SQS found at its start, or `--max-messages` if fewer.
#[tokio::test]
async fn a_move_task_is_cancelled_at_its_snapshot_count_or_the_cap() {
    for (cap, cancel_after) in [(None, 3), (Some(5), 2)] {
        let (backend, script, handle) = started(
            vec![
                task_of("RUNNING", 2, 8),
                task_of("RUNNING", 6, 9),
                task_of("RUNNING", 9, 12),
                task_of("CANCELLING", 9, 12),
                task_of("CANCELLED", 9, 12),
            ],
            9,
            None,
        )
        .await;
        let mut progress = Progress::hidden();
        let ended = ops::follow_move_task_capped(
            &backend,
            DLQ,
            &handle,
            Duration::ZERO,
            cap,
            &mut progress,
        )
        .await
        .expect("a capped task ends cancelled, not failed");
        assert_eq!(ended.status, "CANCELLED");
        assert_eq!(calls(&script, "CancelMessageMoveTask"), 1, "cancelled once");
        let log = script.lock().expect("lock").log.clone();
        let listings_before_cancel = log
            .iter()
            .take_while(|op| *op != "CancelMessageMoveTask")
            .filter(|op| *op == "ListMessageMoveTasks")
            .count();
        assert_eq!(
            listings_before_cancel, cancel_after,
            "cancelled right after the listing that reached {cap:?} / 8: {log:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_move_task_is_an_error_naming_its_reason() {
    let (backend, _script, handle) = started(
        vec![
            task("RUNNING", 2, None),
            task("FAILED", 4, Some("AWS.SimpleQueueService.NonExistentQueue")),
        ],
        0,
        None,
    )
    .await;
    let mut progress = Progress::hidden();
    let error = ops::follow_move_task(&backend, DLQ, &handle, Duration::ZERO, &mut progress)
        .await
        .expect_err("the task failed");
    let text = error.to_string();
    assert!(text.contains("FAILED after moving 4"), "{text}");
    assert!(text.contains("NonExistentQueue"), "{text}");
}

#[tokio::test]
async fn a_cancelled_move_task_ends_the_follow_and_cancel_reports_the_moved_count() {
    let (backend, script, handle) = started(
        vec![
            task("RUNNING", 5, None),
            task("CANCELLING", 5, None),
            task("CANCELLED", 5, None),
        ],
        5,
        None,
    )
    .await;
    assert_eq!(
        backend.cancel_move_task(&handle).await.expect("cancelled"),
        5
    );
    run_on(
        &backend,
        DlqCommand::Cancel(CancelArgs {
            task_handle: handle.clone(),
        }),
    )
    .await
    .expect("q2c dlq cancel");
    assert_eq!(calls(&script, "CancelMessageMoveTask"), 2);
    assert_eq!(
        script.lock().expect("lock").requests["CancelMessageMoveTask"]["TaskHandle"],
        "task-1"
    );
    let mut progress = Progress::hidden();
    let ended = ops::follow_move_task(&backend, DLQ, &handle, Duration::ZERO, &mut progress)
        .await
        .expect("a cancelled task is not an error");
    assert_eq!((ended.status.as_str(), ended.moved), ("CANCELLED", 5));
}

#[tokio::test]
async fn an_unsupported_operation_answer_means_fall_back_to_the_manual_move() {
    let (backend, _script) = stub(Script {
        start: Some(Err("UnsupportedOperation")),
        ..Script::default()
    })
    .await;
    match backend.start_move_task(DLQ, None, None).await {
        Err(MoveTaskError::Unsupported(why)) => assert!(why.contains("UnsupportedOperation")),
        other => panic!("expected Unsupported, got {other:?}"),
    }
    let (backend, _script) = stub(Script {
        start: Some(Err("AccessDenied")),
        ..Script::default()
    })
    .await;
    assert!(
        matches!(
            backend.start_move_task(DLQ, None, None).await,
            Err(MoveTaskError::Queue(_))
        ),
        "other errors are not hidden by a fallback"
    );
}
