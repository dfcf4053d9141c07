//! The `StartMessageMoveTask` path of `q2c dlq redrive`, `tasks` and `cancel` against a
//! stubbed SQS client (aws-smithy-mocks: moto lacks the move-task API): a task followed to
//! completion with its progress, a FAILED task, a cancelled task, and an emulator's
//! "unsupported" answer that makes redrive fall back to the manual move.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::ErrorMetadata;
use aws_sdk_sqs::operation::cancel_message_move_task::CancelMessageMoveTaskOutput;
use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput;
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlOutput;
use aws_sdk_sqs::operation::list_message_move_tasks::ListMessageMoveTasksOutput;
use aws_sdk_sqs::operation::start_message_move_task::{
    StartMessageMoveTaskError, StartMessageMoveTaskOutput,
};
use aws_sdk_sqs::types::{ListMessageMoveTasksResultEntry, QueueAttributeName};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use q2c::dlq::backend::{DlqBackend, MoveTaskError};
use q2c::dlq::cmd::{CancelArgs, DlqCommand, run_on};
use q2c::dlq::ops;
use q2c::dlq::progress::Progress;
use q2c::dlq::sqs::SqsBackend;

const DLQ: &str = "q2c-orders-dlq";
const DLQ_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:q2c-orders-dlq";

fn lookups() -> Vec<Rule> {
    vec![
        mock!(Client::get_queue_url).then_output(|| {
            GetQueueUrlOutput::builder()
                .queue_url("https://sqs.eu-west-1.amazonaws.com/123456789012/q2c-orders-dlq")
                .build()
        }),
        mock!(Client::get_queue_attributes).then_output(|| {
            GetQueueAttributesOutput::builder()
                .attributes(QueueAttributeName::QueueArn, DLQ_ARN)
                .build()
        }),
    ]
}

fn start_returning(handle: &'static str) -> Rule {
    mock!(Client::start_message_move_task)
        .match_requests(|r| r.source_arn() == Some(DLQ_ARN) && r.destination_arn().is_none())
        .then_output(move || {
            StartMessageMoveTaskOutput::builder()
                .task_handle(handle)
                .build()
        })
}

fn task(status: &str, moved: i64, reason: Option<&str>) -> ListMessageMoveTasksOutput {
    let mut entry = ListMessageMoveTasksResultEntry::builder()
        .status(status)
        .source_arn(DLQ_ARN)
        .approximate_number_of_messages_moved(moved)
        .approximate_number_of_messages_to_move(10);
    if status == "RUNNING" {
        entry = entry.task_handle("task-1");
    }
    if let Some(reason) = reason {
        entry = entry.failure_reason(reason);
    }
    ListMessageMoveTasksOutput::builder()
        .results(entry.build())
        .build()
}

fn backend(rules: &[&Rule]) -> SqsBackend {
    let client = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, rules);
    SqsBackend::new(client, "q2c-", None)
}

#[tokio::test]
async fn a_move_task_is_followed_to_completion_with_its_progress() {
    let [url, arn] = <[Rule; 2]>::try_from(lookups()).expect("two rules");
    let start = start_returning("task-1");
    let list = mock!(Client::list_message_move_tasks)
        .match_requests(|r| r.source_arn() == Some(DLQ_ARN))
        .sequence()
        .output(|| task("RUNNING", 3, None))
        .output(|| task("RUNNING", 7, None))
        .output(|| task("COMPLETED", 10, None))
        .build();
    let backend = backend(&[&url, &arn, &start, &list]);
    let handle = backend
        .start_move_task(DLQ, None, Some(50))
        .await
        .expect("started");
    assert_eq!(handle, "task-1");
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
    assert_eq!(list.num_calls(), 3, "polled until the task ended");
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn a_failed_move_task_is_an_error_naming_its_reason() {
    let [url, arn] = <[Rule; 2]>::try_from(lookups()).expect("two rules");
    let start = start_returning("task-1");
    let list = mock!(Client::list_message_move_tasks)
        .sequence()
        .output(|| task("RUNNING", 2, None))
        .output(|| task("FAILED", 4, Some("AWS.SimpleQueueService.NonExistentQueue")))
        .build();
    let backend = backend(&[&url, &arn, &start, &list]);
    let handle = backend
        .start_move_task(DLQ, None, None)
        .await
        .expect("started");
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
    let [url, arn] = <[Rule; 2]>::try_from(lookups()).expect("two rules");
    let start = start_returning("task-1");
    let cancel = mock!(Client::cancel_message_move_task)
        .match_requests(|r| r.task_handle() == Some("task-1"))
        .then_output(|| {
            CancelMessageMoveTaskOutput::builder()
                .approximate_number_of_messages_moved(5)
                .build()
        });
    let list = mock!(Client::list_message_move_tasks)
        .sequence()
        .output(|| task("RUNNING", 5, None))
        .output(|| task("CANCELLING", 5, None))
        .output(|| task("CANCELLED", 5, None))
        .build();
    let backend = backend(&[&url, &arn, &start, &cancel, &list]);
    let handle = backend
        .start_move_task(DLQ, None, None)
        .await
        .expect("started");
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
    assert_eq!(cancel.num_calls(), 2);
    let mut progress = Progress::hidden();
    let ended = ops::follow_move_task(&backend, DLQ, &handle, Duration::ZERO, &mut progress)
        .await
        .expect("a cancelled task is not an error");
    assert_eq!((ended.status.as_str(), ended.moved), ("CANCELLED", 5));
}

#[tokio::test]
async fn an_unsupported_operation_answer_means_fall_back_to_the_manual_move() {
    let [url, arn] = <[Rule; 2]>::try_from(lookups()).expect("two rules");
    let start = mock!(Client::start_message_move_task).then_error(|| {
        StartMessageMoveTaskError::generic(
            ErrorMetadata::builder()
                .code("UnsupportedOperation")
                .message("not here")
                .build(),
        )
    });
    let backend = backend(&[&url, &arn, &start]);
    match backend.start_move_task(DLQ, None, None).await {
        Err(MoveTaskError::Unsupported(why)) => assert!(why.contains("UnsupportedOperation")),
        other => panic!("expected Unsupported, got {other:?}"),
    }
    let denied = mock!(Client::start_message_move_task).then_error(|| {
        StartMessageMoveTaskError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("no")
                .build(),
        )
    });
    let [url, arn] = <[Rule; 2]>::try_from(lookups()).expect("two rules");
    let backend = self::backend(&[&url, &arn, &denied]);
    assert!(
        matches!(
            backend.start_move_task(DLQ, None, None).await,
            Err(MoveTaskError::Other(_))
        ),
        "other errors are not hidden by a fallback"
    );
}
