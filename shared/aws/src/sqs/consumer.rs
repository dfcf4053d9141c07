//! The batch consumer of SQS-triggered functions: one span per message, each message handled
//! on its own, panics isolated, and the outcome reported the way the event source mapping
//! with `ReportBatchItemFailures` expects: transient failures are returned as
//! `batchItemFailures` (SQS redelivers them, and moves them to the DLQ after
//! `maxReceiveCount`); poison messages are sent to the DLQ by us with a reason and then
//! reported as done, so SQS deletes them from the source queue.
//!
//! Messages are handled one after another, in batch order: simple, and it keeps the order
//! of a FIFO batch. A batch is at most 10 messages unless a batching window is configured.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::FutureExt;
use q2c_service::ports::BoxError;
use tracing::Instrument;

use super::dead_letter::DeadLetter;
use super::message::{ParsedMessage, parse_message};

/// How handling a message failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Retrying may succeed (downstream down, throttling): the message is returned to SQS.
    #[error("transient failure")]
    Transient(#[source] BoxError),
    /// Retrying cannot succeed (invalid content): the message goes to the DLQ now.
    #[error("poison message: {reason}")]
    Poison {
        /// Why, recorded as the `failureReason` attribute on the DLQ message.
        reason: String,
    },
}

/// What became of one message.
enum Outcome {
    Done,
    Retry,
}

/// Handles every record of `event` with `handler` and returns the records SQS must
/// redeliver. Never fails as a whole: each message's fate is decided on its own.
///
/// - `Ok(())` → deleted by SQS.
/// - [`HandlerError::Transient`] or a panic → reported in `batchItemFailures`.
/// - [`HandlerError::Poison`], or a body that is not a valid envelope of schema major 1 →
///   sent to `dlq` with `failureReason`, then deleted by SQS; if that send fails, reported
///   in `batchItemFailures` so the message is not lost.
///
/// # Examples
///
/// ```no_run
/// use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
/// use q2c_aws::{DeadLetter, HandlerError, ParsedMessage, process_batch};
///
/// async fn handle(message: ParsedMessage) -> Result<(), HandlerError> {
///     let Some(quote) = message.event.get("quote") else {
///         return Err(HandlerError::Poison { reason: "no quote in the event".into() });
///     };
///     // ... call downstream; a timeout is `HandlerError::Transient(error.into())`.
///     let _ = quote;
///     Ok(())
/// }
///
/// async fn on_invoke(event: SqsEvent, dlq: &DeadLetter) -> SqsBatchResponse {
///     process_batch(event, dlq, handle).await
/// }
/// ```
pub async fn process_batch<F, Fut>(
    event: SqsEvent,
    dlq: &DeadLetter,
    handler: F,
) -> SqsBatchResponse
where
    F: Fn(ParsedMessage) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!(
            "sqs_message",
            message_id = %message_id,
            event_type = tracing::field::Empty
        );
        let outcome = process_one(&record, dlq, &handler).instrument(span).await;
        if matches!(outcome, Outcome::Retry) {
            response.add_failure(message_id);
        }
    }
    response
}

async fn process_one<F, Fut>(record: &SqsMessage, dlq: &DeadLetter, handler: &F) -> Outcome
where
    F: Fn(ParsedMessage) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let result = match parse_message(record) {
        Ok(parsed) => {
            tracing::Span::current().record("event_type", parsed.event_type.as_str());
            run_isolated(handler, parsed).await
        }
        Err(reason) => Err(HandlerError::Poison { reason }),
    };
    match result {
        Ok(()) => Outcome::Done,
        Err(HandlerError::Transient(error)) => {
            tracing::warn!(error.message = %error, error.cause_chain = ?error, "transient failure; SQS will redeliver");
            Outcome::Retry
        }
        Err(HandlerError::Poison { reason }) => match dlq.send(record, &reason).await {
            Ok(()) => {
                tracing::warn!(reason = %reason, "poison message sent to the DLQ");
                Outcome::Done
            }
            Err(error) => {
                tracing::error!(reason = %reason, error.message = %error, error.cause_chain = ?error, "poison message could not reach the DLQ; left for redelivery");
                Outcome::Retry
            }
        },
    }
}

/// Runs the handler, turning a panic (while building or polling its future) into a
/// transient failure of this message only.
async fn run_isolated<F, Fut>(handler: &F, parsed: ParsedMessage) -> Result<(), HandlerError>
where
    F: Fn(ParsedMessage) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let future = match std::panic::catch_unwind(AssertUnwindSafe(|| handler(parsed))) {
        Ok(future) => future,
        Err(panic) => return Err(panicked(panic.as_ref())),
    };
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(panicked(panic.as_ref())),
    }
}

/// A panic as a transient error carrying its message.
fn panicked(payload: &(dyn std::any::Any + Send)) -> HandlerError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| String::from("non-string panic payload"));
    HandlerError::Transient(format!("handler panicked: {message}").into())
}
