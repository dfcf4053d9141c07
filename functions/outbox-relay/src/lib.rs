//! The `outbox-relay` Lambda function: the table's DynamoDB stream delivers the outbox
//! items the quote transactions wrote; the relay publishes their events to SQS
//! ([`SqsPublisher`]), marks them published ([`OutboxStore::mark_published`]), and reports
//! the records whose publish failed as `batchItemFailures` (by sequence number), so the
//! event source mapping bisects and retries them. Records that are not outbox inserts are
//! skipped (the mapping's filter should already keep them out).
#![warn(missing_docs)]

pub mod record;

use std::collections::HashSet;
use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use q2c_aws::{DynamoStore, SqsPublisher};
use q2c_runtime::{ConfigError, Metric, Metrics, required};
use q2c_service::ports::OutboxStore;
use time::OffsetDateTime;

/// The function's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the table whose outbox items are marked published.
    pub table_name: String,
    /// `QUOTE_EVENTS_QUEUE_URL`: the quote-events queue; its name minus `quote-events`
    /// is the prefix of every destination queue (`<Prefix>-orders`, ...).
    pub quote_events_queue_url: String,
}

impl Config {
    /// Reads the environment.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] naming the first variable unset.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Config {
            table_name: required("TABLE_NAME")?,
            quote_events_queue_url: required("QUOTE_EVENTS_QUEUE_URL")?,
        })
    }

    /// The queue name prefix, from the quote-events queue URL.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when the URL's last segment does not end in `quote-events`.
    pub fn queue_prefix(&self) -> Result<String, ConfigError> {
        let name = self
            .quote_events_queue_url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        name.strip_suffix("quote-events")
            .map(str::to_owned)
            .ok_or_else(|| ConfigError::Invalid {
                name: "QUOTE_EVENTS_QUEUE_URL",
                reason: format!("queue `{name}` is not a quote-events queue"),
            })
    }
}

/// The relay: clients built once per container.
#[derive(Debug, Clone)]
pub struct Relay {
    store: DynamoStore,
    publisher: SqsPublisher,
    metrics: Arc<Metrics>,
}

impl Relay {
    /// A relay over `store` (for `mark_published`) sending with `publisher`.
    pub fn new(store: DynamoStore, publisher: SqsPublisher, metrics: Arc<Metrics>) -> Self {
        Relay {
            store,
            publisher,
            metrics,
        }
    }

    /// Publishes the outbox inserts of `event`; the response lists the records to retry.
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let mut failed_sequences: Vec<String> = Vec::new();
        let mut batch = Vec::new();
        for entry in event.records.iter().filter(|r| record::is_outbox_insert(r)) {
            let sequence = entry.change.sequence_number.clone().unwrap_or_default();
            match record::outbox_event(entry) {
                Ok(outbox_event) => batch.push((sequence, outbox_event)),
                Err(error) => {
                    tracing::error!(error.message = %error, sequence, "undecodable outbox item");
                    failed_sequences.push(sequence);
                }
            }
        }
        let events: Vec<_> = batch.iter().map(|(_, e)| e.clone()).collect();
        let failed_ids: HashSet<String> = match self.publisher.publish(&events).await {
            Ok(outcome) => {
                self.metrics
                    .add(Metric::EventsPublished, outcome.published.len() as u64);
                let now = OffsetDateTime::now_utc();
                if let Err(error) = self.store.mark_published(&outcome.published, now).await {
                    // Already sent: retrying would send again. They stay pending.
                    tracing::warn!(error.message = %error, "marking events published failed");
                }
                for failure in &outcome.failed {
                    tracing::warn!(
                        event_id = failure.event_id,
                        code = failure.code,
                        "not published"
                    );
                }
                outcome.failed.into_iter().map(|f| f.event_id).collect()
            }
            Err(error) => {
                tracing::error!(error.message = %error, "publishing failed");
                events.iter().map(|e| e.event_id.clone()).collect()
            }
        };
        failed_sequences.extend(
            batch
                .into_iter()
                .filter(|(_, e)| failed_ids.contains(&e.event_id))
                .map(|(sequence, _)| sequence),
        );
        let mut response = DynamoDbEventResponse::default();
        response.batch_item_failures = failed_sequences
            .into_iter()
            .map(|sequence| {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence);
                failure
            })
            .collect();
        response
    }
}
