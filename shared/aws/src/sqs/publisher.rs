//! Publishing outbox events to SQS: `SendMessageBatch` in groups of ten (and under the batch
//! payload limit), re-sending only the entries that failed, a bounded number of times.
//! Queue URLs are resolved by name with `GetQueueUrl` once and cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_sqs::Client;
use q2c_service::ports::OutboxEvent;

use super::batch::{Entry, batches, entry, send_with_retries};
pub use super::batch::{FailedEvent, PublishOutcome};
use crate::error::SqsError;
use crate::metrics::{Operation, RequestCounter};

/// Sends outbox events to their queues.
#[derive(Debug, Clone)]
pub struct SqsPublisher {
    client: Client,
    prefix: String,
    urls: Arc<Mutex<HashMap<String, String>>>,
    requests: RequestCounter,
}

impl SqsPublisher {
    /// A publisher using `client` and the queue names of the SAM template.
    pub fn new(client: Client) -> Self {
        SqsPublisher {
            client,
            prefix: String::new(),
            urls: Arc::default(),
            requests: RequestCounter::new(),
        }
    }

    /// Prepends `prefix` to every queue name (e.g. the stack name, or a test's unique id).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The SQS client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The AWS requests made, per operation.
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }

    /// The URL of the queue called `name` (prefix added), cached after the first call.
    ///
    /// # Errors
    /// [`SqsError`] when the queue does not exist or SQS fails.
    #[tracing::instrument(skip(self), err)]
    pub async fn queue_url(&self, name: &str) -> Result<String, SqsError> {
        let full = format!("{}{name}", self.prefix);
        if let Some(url) = self.urls.lock().ok().and_then(|u| u.get(&full).cloned()) {
            return Ok(url);
        }
        self.requests.record(Operation::GetQueueUrl);
        let output = self
            .client
            .get_queue_url()
            .queue_name(&full)
            .send()
            .await
            .map_err(|e| SqsError::sdk(Operation::GetQueueUrl, e))?;
        let url = output.queue_url.ok_or_else(|| SqsError::NoQueueUrl {
            queue: full.clone(),
        })?;
        if let Ok(mut urls) = self.urls.lock() {
            urls.insert(full, url.clone());
        }
        Ok(url)
    }

    /// Caches `url` as the URL of the queue called `full_name` (prefix included), e.g. from a
    /// `ListQueues` answer, so that no `GetQueueUrl` is needed for it.
    pub(crate) fn remember_url(&self, full_name: &str, url: &str) {
        if let Ok(mut urls) = self.urls.lock() {
            urls.insert(full_name.to_owned(), url.to_owned());
        }
    }

    /// Sends each event to its destination queue.
    ///
    /// # Errors
    /// [`SqsError`] when a queue URL cannot be resolved or a body cannot be serialised;
    /// refusals of single messages are in [`PublishOutcome::failed`].
    pub async fn publish(&self, events: &[OutboxEvent]) -> Result<PublishOutcome, SqsError> {
        let mut by_queue: Vec<(&'static str, Vec<&OutboxEvent>)> = Vec::new();
        for event in events {
            let queue = event.destination.queue_name();
            match by_queue.iter_mut().find(|(q, _)| *q == queue) {
                Some((_, group)) => group.push(event),
                None => by_queue.push((queue, vec![event])),
            }
        }
        let mut outcome = PublishOutcome::default();
        for (queue, group) in by_queue {
            let part = self.publish_to(queue, group).await?;
            outcome.published.extend(part.published);
            outcome.failed.extend(part.failed);
        }
        Ok(outcome)
    }

    /// Sends `events` to the queue called `queue` (prefix added), whatever their
    /// destination (the price fan-out sends to subscriber queues such as `billing-updates`).
    ///
    /// # Errors
    /// As [`SqsPublisher::publish`].
    pub async fn publish_to(
        &self,
        queue: &str,
        events: Vec<&OutboxEvent>,
    ) -> Result<PublishOutcome, SqsError> {
        let url = self.queue_url(queue).await?;
        let mut entries = Vec::with_capacity(events.len());
        for event in &events {
            entries.push(entry(event)?);
        }
        let mut outcome = PublishOutcome::default();
        for batch in batches(entries) {
            let send = |entries: Vec<Entry>| {
                let url = &url;
                async move { self.send_batch(url, &entries).await }
            };
            let part = send_with_retries(batch, send).await;
            outcome.published.extend(part.published);
            outcome.failed.extend(part.failed);
        }
        Ok(outcome)
    }

    /// One `SendMessageBatch`: the failed entries by event id (all of them if the call failed).
    #[tracing::instrument(skip_all, fields(queue_url = url, entries = batch.len()))]
    async fn send_batch(&self, url: &str, batch: &[Entry]) -> HashMap<String, FailedEvent> {
        self.requests.record(Operation::SendMessageBatch);
        // Entry ids are positions in this request, so a retry of a subset maps back too.
        let entries: Vec<_> = batch
            .iter()
            .enumerate()
            .map(|(index, e)| {
                let mut request = e.request.clone();
                request.id = index.to_string();
                request
            })
            .collect();
        let sent = self
            .client
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await;
        let output = match sent {
            Ok(output) => output,
            Err(error) => {
                let error = SqsError::sdk(Operation::SendMessageBatch, error);
                tracing::warn!(error.message = %error, error.cause_chain = ?error, "SendMessageBatch failed");
                return batch
                    .iter()
                    .map(|e| (e.event_id.clone(), e.failure("SdkError", false)))
                    .collect();
            }
        };
        output
            .failed
            .iter()
            .filter_map(|f| {
                let index: usize = f.id.parse().ok()?;
                let entry = batch.get(index)?;
                Some((
                    entry.event_id.clone(),
                    entry.failure(&f.code, f.sender_fault),
                ))
            })
            .collect()
    }
}
