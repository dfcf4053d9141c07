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

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use q2c_runtime::{Metric, Metrics};
pub use q2c_service::messaging::HandlerError;
use q2c_service::messaging::{Disposition, handle_batch, handle_one};
use tracing::Instrument;

use super::dead_letter::DeadLetter;
use super::message::{ParsedMessage, parse_message};

/// What became of one message.
enum Outcome {
    Done,
    DeadLettered,
    Retry,
}

/// What [`process_batch_report`] did with a batch: the response for the event source
/// mapping and counts for metrics.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// The answer to Lambda (`batchItemFailures`).
    pub response: SqsBatchResponse,
    /// Messages handled (deleted by SQS).
    pub done: usize,
    /// Poison messages sent to the DLQ with their reason (then deleted by SQS).
    pub dead_lettered: usize,
    /// Messages returned for redelivery.
    pub retried: usize,
}

impl BatchReport {
    /// Counts the batch's messages by fate: `MessagesProcessed`, `MessagesRetried` and
    /// `MessagesDeadLettered`. Retries are what a failing consumer shows while its
    /// invocations (and so Lambda's `Errors`) all succeed.
    pub fn record(&self, metrics: &Metrics) {
        metrics.add(Metric::MessagesProcessed, self.done as u64);
        metrics.add(Metric::MessagesRetried, self.retried as u64);
        metrics.add(Metric::MessagesDeadLettered, self.dead_lettered as u64);
    }

    /// Counts the message `message_id` by its fate; a retried one joins `batchItemFailures`.
    fn add(&mut self, message_id: String, outcome: Outcome) {
        match outcome {
            Outcome::Done => self.done += 1,
            Outcome::DeadLettered => self.dead_lettered += 1,
            Outcome::Retry => {
                self.retried += 1;
                self.response.add_failure(message_id);
            }
        }
    }
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
    process_batch_report(event, dlq, handler).await.response
}

/// [`process_batch`], also counting what became of the messages (for metrics such as
/// `MessagesDeadLettered`).
pub async fn process_batch_report<F, Fut>(
    event: SqsEvent,
    dlq: &DeadLetter,
    handler: F,
) -> BatchReport
where
    F: Fn(ParsedMessage) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let mut report = BatchReport::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!(
            "sqs_message",
            message_id = %message_id,
            event_type = tracing::field::Empty
        );
        let outcome = process_one(&record, dlq, &handler).instrument(span).await;
        report.add(message_id, outcome);
    }
    report
}

/// [`process_batch_report`] for a handler of the whole batch (one call with every parsed
/// message, one result per message: see `q2c_service::messaging::handle_batch`), e.g. hub
/// delivery, which sends one `SendMessageBatch` per subscriber for the batch.
pub async fn process_whole_batch<F, Fut>(
    event: SqsEvent,
    dlq: &DeadLetter,
    handler: F,
) -> BatchReport
where
    F: Fn(Vec<ParsedMessage>) -> Fut,
    Fut: Future<Output = Vec<Result<(), HandlerError>>>,
{
    let parsed = event.records.iter().map(parse_message).collect();
    let dispositions = handle_batch(parsed, &handler).await;
    let mut report = BatchReport::default();
    for (record, disposition) in event.records.iter().zip(dispositions) {
        let message_id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("sqs_message", message_id = %message_id);
        let outcome = act(record, dlq, disposition).instrument(span).await;
        report.add(message_id, outcome);
    }
    report
}

async fn process_one<F, Fut>(record: &SqsMessage, dlq: &DeadLetter, handler: &F) -> Outcome
where
    F: Fn(ParsedMessage) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    act(
        record,
        dlq,
        handle_one(parse_message(record), handler).await,
    )
    .await
}

/// Carries out a disposition: delay a retry, or send a poison message to the DLQ.
async fn act(record: &SqsMessage, dlq: &DeadLetter, disposition: Disposition) -> Outcome {
    match disposition {
        Disposition::Done => Outcome::Done,
        Disposition::Retry => Outcome::Retry,
        Disposition::RetryAfter(after) => {
            // Best effort: if it fails, the queue's visibility timeout applies.
            if let Err(error) = dlq.delay(record, after).await {
                tracing::warn!(error.message = %error, "could not delay the retry");
            }
            Outcome::Retry
        }
        Disposition::DeadLetter(reason) => match dlq.send(record, &reason).await {
            Ok(()) => {
                tracing::warn!(reason = %reason, "poison message sent to the DLQ");
                Outcome::DeadLettered
            }
            Err(error) => {
                tracing::error!(reason = %reason, error.message = %error, error.cause_chain = ?error, "poison message could not reach the DLQ; left for redelivery");
                Outcome::Retry
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_recorded_as_one_count_per_fate() {
        let report = BatchReport {
            done: 4,
            dead_lettered: 1,
            retried: 2,
            ..BatchReport::default()
        };
        let metrics = Metrics::new("q2c-order-dispatch");
        report.record(&metrics);
        let line = metrics.take_document(0).expect("recorded");
        assert_eq!(line["MessagesProcessed"], 4);
        assert_eq!(line["MessagesRetried"], 2);
        assert_eq!(line["MessagesDeadLettered"], 1);

        // A clean batch records no retries: the retries alarm sees no data, not a zero.
        let clean = BatchReport {
            done: 3,
            ..BatchReport::default()
        };
        clean.record(&metrics);
        let line = metrics.take_document(0).expect("recorded");
        assert_eq!(line["MessagesProcessed"], 3);
        assert!(line.get("MessagesRetried").is_none());
    }
}
