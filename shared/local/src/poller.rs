//! [`Poller`]: drives a handler over a queue the way a Lambda event source mapping with
//! `ReportBatchItemFailures` does, through the same classification as the Lambda batch
//! consumer ([`handle_one`]): receive up to 10, handle each in its own span, delete the
//! successes, leave transient failures (and panics) to reappear after the visibility timeout
//! (and reach the DLQ by redrive after `maxReceiveCount`), and send poison messages to the DLQ
//! at once with a `failureReason` attribute, then delete them from the source.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use q2c_service::event_versions::SchemaPolicy;
use q2c_service::messaging::{
    Disposition, HandlerError, OutgoingMessage, ParsedMessage, QueueClient, QueueError, Receive,
    ReceivedMessage, attributes, dlq_name, handle_batch, handle_one, parse_message_with,
};
use tracing::Instrument;

/// Reasons are cut to this many characters, as on AWS.
const MAX_REASON_CHARS: usize = 1024;
/// Most message attributes (an SQS limit); the reason takes one.
const MAX_ATTRIBUTES: usize = 10;
/// Pause after a failed receive, so a broken queue is not polled in a tight loop.
const BACKOFF: Duration = Duration::from_secs(1);

/// What one [`Poller::poll_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PollReport {
    /// Messages received.
    pub received: usize,
    /// Handled and deleted.
    pub done: usize,
    /// Left for redelivery (transient failure, panic, or a DLQ send that failed).
    pub retried: usize,
    /// Sent to the DLQ and deleted from the source.
    pub dead_lettered: usize,
}

/// A consumer of one queue, with the visibility timeout and long-poll wait of its receives.
#[derive(Clone)]
pub struct Poller {
    queues: Arc<dyn QueueClient>,
    queue: String,
    dlq: String,
    visibility_timeout: Duration,
    wait: Duration,
    schemas: SchemaPolicy,
}

impl Poller {
    /// Consumes `queue`, dead-lettering to `<queue>-dlq`; visibility 30 s, long poll 1 s.
    pub fn new(queues: Arc<dyn QueueClient>, queue: &str) -> Self {
        Poller {
            queues,
            queue: queue.to_owned(),
            dlq: dlq_name(queue),
            visibility_timeout: Duration::from_secs(30),
            wait: Duration::from_secs(1),
            schemas: SchemaPolicy::default(),
        }
    }

    /// Which schema majors it accepts (default: the current and the previous one); messages
    /// of others are dead-lettered with the reason.
    #[must_use]
    pub fn with_schema_policy(mut self, policy: SchemaPolicy) -> Self {
        self.schemas = policy;
        self
    }

    /// How long a received message stays hidden (the retry delay of transient failures).
    #[must_use]
    pub fn with_visibility_timeout(mut self, timeout: Duration) -> Self {
        self.visibility_timeout = timeout;
        self
    }

    /// How long a receive waits for a message when the queue is empty.
    #[must_use]
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Receives one batch and handles each message, one after another.
    ///
    /// # Errors
    /// When the receive or the final delete fails (undeleted messages are redelivered).
    pub async fn poll_once<F, Fut>(&self, handler: &F) -> Result<PollReport, QueueError>
    where
        F: Fn(ParsedMessage) -> Fut,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        let messages = self.receive().await?;
        self.handle_batch(messages, handler).await
    }

    /// Polls until `shutdown` completes. Only a receive is cut short by it: a batch in hand
    /// is handled and its successes deleted before returning.
    pub async fn run<F, Fut>(&self, handler: F, shutdown: impl Future<Output = ()>)
    where
        F: Fn(ParsedMessage) -> Fut,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        tokio::pin!(shutdown);
        loop {
            let received = tokio::select! {
                () = &mut shutdown => return,
                received = self.receive() => received,
            };
            let handled = match received {
                Ok(messages) => self.handle_batch(messages, &handler).await.map(|_| ()),
                Err(error) => Err(error),
            };
            if let Err(error) = handled
                && !self.back_off(&error, shutdown.as_mut()).await
            {
                return;
            }
        }
    }

    /// Logs a failed poll and pauses for [`BACKOFF`]; `false` when `shutdown` completed
    /// first. A hand-written back-off rather than a retry crate: the pause ends at shutdown.
    async fn back_off(
        &self,
        error: &QueueError,
        shutdown: Pin<&mut impl Future<Output = ()>>,
    ) -> bool {
        tracing::warn!(queue = %self.queue, error.message = %error, error.cause_chain = ?error, "polling failed");
        tokio::select! {
            () = shutdown => false,
            () = tokio::time::sleep(BACKOFF) => true,
        }
    }

    async fn receive(&self) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.queues
            .receive(
                &self.queue,
                Receive::batch(self.visibility_timeout).waiting(self.wait),
            )
            .await
    }

    /// Receives one batch and hands it whole to `handler` (see
    /// [`q2c_service::messaging::handle_batch`]): one call, one result per message.
    ///
    /// # Errors
    /// When the receive or the final delete fails (undeleted messages are redelivered).
    pub async fn poll_batch_once<F, Fut>(&self, handler: &F) -> Result<PollReport, QueueError>
    where
        F: Fn(Vec<ParsedMessage>) -> Fut,
        Fut: Future<Output = Vec<Result<(), HandlerError>>>,
    {
        let messages = self.receive().await?;
        if messages.is_empty() {
            return Ok(PollReport::default());
        }
        let parsed = messages.iter().map(|m| parse(&self.schemas, m)).collect();
        let dispositions = handle_batch(parsed, handler).await;
        self.settle(messages.into_iter().zip(dispositions).collect())
            .await
    }

    /// [`Poller::run`] with a whole-batch handler ([`Poller::poll_batch_once`]).
    pub async fn run_batch<F, Fut>(&self, handler: F, shutdown: impl Future<Output = ()>)
    where
        F: Fn(Vec<ParsedMessage>) -> Fut,
        Fut: Future<Output = Vec<Result<(), HandlerError>>>,
    {
        tokio::pin!(shutdown);
        loop {
            let polled = tokio::select! {
                () = &mut shutdown => return,
                polled = self.poll_batch_once(&handler) => polled,
            };
            if let Err(error) = polled
                && !self.back_off(&error, shutdown.as_mut()).await
            {
                return;
            }
        }
    }

    /// Handles received messages, each in its own span, then deletes the handled ones.
    async fn handle_batch<F, Fut>(
        &self,
        messages: Vec<ReceivedMessage>,
        handler: &F,
    ) -> Result<PollReport, QueueError>
    where
        F: Fn(ParsedMessage) -> Fut,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        let mut decided = Vec::with_capacity(messages.len());
        for message in messages {
            let span = tracing::info_span!(
                "queue_message",
                queue = %self.queue,
                message_id = %message.message_id,
                event_type = tracing::field::Empty
            );
            let disposition = handle_one(parse(&self.schemas, &message), handler)
                .instrument(span)
                .await;
            decided.push((message, disposition));
        }
        self.settle(decided).await
    }

    /// Carries out each message's disposition (DLQ, delayed retry), then deletes the handled
    /// ones in one batch.
    async fn settle(
        &self,
        decided: Vec<(ReceivedMessage, Disposition)>,
    ) -> Result<PollReport, QueueError> {
        let mut report = PollReport {
            received: decided.len(),
            ..PollReport::default()
        };
        let mut handled = Vec::new();
        for (message, disposition) in decided {
            let disposition = match disposition {
                Disposition::DeadLetter(reason) => self.dead_letter(&message, &reason).await,
                other => other,
            };
            match disposition {
                Disposition::Done => report.done += 1,
                Disposition::DeadLetter(_) => report.dead_lettered += 1,
                Disposition::Retry => {
                    report.retried += 1;
                    continue;
                }
                Disposition::RetryAfter(after) => {
                    report.retried += 1;
                    // Best effort: if it fails, the queue's visibility timeout applies.
                    if let Err(error) = self
                        .queues
                        .change_visibility(&self.queue, &message.receipt_handle, after)
                        .await
                    {
                        tracing::warn!(queue = %self.queue, error.message = %error, "could not delay the retry");
                    }
                    continue;
                }
            }
            handled.push(message.receipt_handle);
        }
        if !handled.is_empty() {
            self.queues.delete_batch(&self.queue, &handled).await?;
        }
        Ok(report)
    }

    /// Sends a poison message to the DLQ: `DeadLetter` when it got there, `Retry` if not.
    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Disposition {
        let outgoing = dead_letter_message(message, reason);
        match self.queues.send_batch(&self.dlq, &[outgoing]).await {
            Ok(outcome) if outcome.failed.is_empty() => {
                tracing::warn!(reason = %reason, dlq = %self.dlq, "poison message sent to the DLQ");
                Disposition::DeadLetter(reason.to_owned())
            }
            Ok(outcome) => {
                tracing::error!(reason = %reason, failures = ?outcome.failed, "the DLQ refused a poison message; left for redelivery");
                Disposition::Retry
            }
            Err(error) => {
                tracing::error!(reason = %reason, error.message = %error, error.cause_chain = ?error, "poison message could not reach the DLQ; left for redelivery");
                Disposition::Retry
            }
        }
    }
}

/// The envelope checks of one received message.
fn parse(policy: &SchemaPolicy, message: &ReceivedMessage) -> Result<ParsedMessage, String> {
    parse_message_with(
        policy,
        &message.message_id,
        &message.body,
        &message.attributes,
        Some(message.receive_count),
    )
}

/// The DLQ copy of `message`: same body, its attributes, and `failureReason`.
pub fn dead_letter_message(message: &ReceivedMessage, reason: &str) -> OutgoingMessage {
    let mut attrs: BTreeMap<String, String> = message
        .attributes
        .iter()
        .filter(|(name, _)| name.as_str() != attributes::FAILURE_REASON)
        .take(MAX_ATTRIBUTES - 1)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    attrs.insert(
        attributes::FAILURE_REASON.to_owned(),
        reason.chars().take(MAX_REASON_CHARS).collect(),
    );
    OutgoingMessage {
        body: message.body.clone(),
        attributes: attrs,
    }
}
