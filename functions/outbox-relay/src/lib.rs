//! The `outbox-relay` Lambda function: the table's DynamoDB stream delivers the outbox
//! items the quote transactions wrote; the relay publishes their events to SQS
//! ([`SqsPublisher`]), marks them published ([`OutboxStore::mark_published`]), and reports
//! the records whose publish failed as `batchItemFailures` (by sequence number), so the
//! event source mapping bisects and retries them. Records that are not outbox inserts are
//! skipped (the mapping's filter should already keep them out).
//!
//! A schedule (EventBridge, every few minutes) invokes the same function with a
//! `Scheduled Event`: the **sweep** then relays whatever is still pending on the outbox's
//! pending index ([`relay_once_as`] over [`DynamoStore`]) — events the stream path missed
//! because the function failed past the mapping's retries, a mark failed, or the stream
//! records expired (they live 24 h). Sending one twice is harmless: consumers de-duplicate
//! on `eventId`.
#![warn(missing_docs)]

pub mod record;

use std::collections::HashSet;
use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use q2c_aws::{DynamoStore, SqsPublisher, SqsQueues};
use q2c_runtime::{ConfigError, Metric, Metrics, parsed_or, required};
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::OutboxStore;
use q2c_service::relay::{RelayError, RelayReport, relay_once_as, render_outbox_event};
use serde_json::Value;
use time::OffsetDateTime;

/// The function's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the table whose outbox items are marked published.
    pub table_name: String,
    /// `QUOTE_EVENTS_QUEUE_URL`: the quote-events queue; its name minus `quote-events`
    /// is the prefix of every destination queue (`<Prefix>-orders`, ...).
    pub quote_events_queue_url: String,
    /// `EVENT_SCHEMA_VERSION`: the schema major events are published in (default the current
    /// one, 5), whatever version the outbox stored them in.
    pub event_schema: SchemaMajor,
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
            event_schema: parsed_or("EVENT_SCHEMA_VERSION", SchemaMajor::DEFAULT_EMIT)?,
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

/// Events one sweep round reads from the pending index.
pub const SWEEP_ROUND: usize = 100;
/// Most rounds of one sweep invocation (1,000 events), well inside the 60 s timeout; the
/// next scheduled sweep continues.
pub const SWEEP_MAX_ROUNDS: usize = 10;

/// What an invocation asks for.
#[derive(Debug, Clone)]
pub enum Invocation {
    /// A batch of stream records (the event source mapping).
    Stream(Box<Event>),
    /// The schedule: relay what is still pending.
    Sweep,
}

impl Invocation {
    /// Recognises the payload: stream batches have `Records`, EventBridge schedules
    /// `"detail-type": "Scheduled Event"`.
    ///
    /// # Errors
    /// A description of a payload that is neither.
    pub fn from_payload(payload: Value) -> Result<Self, String> {
        if payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
            return Ok(Invocation::Sweep);
        }
        if payload.get("Records").is_some() {
            return serde_json::from_value(payload)
                .map(|event| Invocation::Stream(Box::new(event)))
                .map_err(|e| format!("not a DynamoDB stream batch: {e}"));
        }
        Err(String::from(
            "neither a DynamoDB stream batch (`Records`) nor a scheduled event (`detail-type`)",
        ))
    }
}

/// The relay: clients built once per container.
#[derive(Debug, Clone)]
pub struct Relay {
    store: DynamoStore,
    publisher: SqsPublisher,
    queues: SqsQueues,
    metrics: Arc<Metrics>,
    emit: SchemaMajor,
}

impl Relay {
    /// A relay over `store` (for `mark_published` and the sweep) sending with `publisher`
    /// (which carries the stack's queue prefix).
    pub fn new(store: DynamoStore, publisher: SqsPublisher, metrics: Arc<Metrics>) -> Self {
        let queues = SqsQueues::from_publisher(publisher.clone());
        Relay {
            store,
            publisher,
            queues,
            metrics,
            emit: SchemaMajor::DEFAULT_EMIT,
        }
    }

    /// Publishes in schema major `emit` (the `EVENT_SCHEMA_VERSION` of [`Config`]) instead
    /// of the current one.
    #[must_use]
    pub fn emitting(mut self, emit: SchemaMajor) -> Self {
        self.emit = emit;
        self
    }

    /// Runs one invocation: a stream batch answers with its `batchItemFailures`, a sweep
    /// with its report.
    ///
    /// # Errors
    /// An unrecognised payload, or a sweep whose outbox reads failed (Lambda records the
    /// invocation as an error, which the errors alarm counts).
    pub async fn invoke(&self, payload: Value) -> Result<Value, String> {
        match Invocation::from_payload(payload)? {
            Invocation::Stream(event) => serde_json::to_value(self.handle(*event).await)
                .map_err(|e| format!("response: {e}")),
            Invocation::Sweep => {
                let report = self.sweep().await.map_err(|e| e.to_string())?;
                Ok(serde_json::json!({
                    "published": report.published,
                    "failed": report.failed,
                }))
            }
        }
    }

    /// Relays pending events, oldest first, in rounds of [`SWEEP_ROUND`] while rounds come
    /// back full (at most [`SWEEP_MAX_ROUNDS`]).
    ///
    /// # Errors
    /// [`RelayError::Outbox`] when the pending index cannot be read or marked.
    pub async fn sweep(&self) -> Result<RelayReport, RelayError> {
        let mut total = RelayReport::default();
        for _ in 0..SWEEP_MAX_ROUNDS {
            let round = relay_once_as(&self.store, &self.queues, SWEEP_ROUND, self.emit).await?;
            total.published += round.published;
            total.failed += round.failed;
            // A short round drained the index; a round with failures would only retry a
            // queue that is refusing now: leave it to the next schedule.
            if round.published + round.failed < SWEEP_ROUND || round.failed > 0 {
                break;
            }
        }
        self.metrics
            .add(Metric::EventsPublished, total.published as u64);
        self.metrics
            .add(Metric::EventsPublishFailed, total.failed as u64);
        if total.published > 0 {
            tracing::warn!(
                published = total.published,
                failed = total.failed,
                "sweep relayed events the stream path had not"
            );
        }
        Ok(total)
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
        let events: Vec<_> = batch
            .iter()
            .map(|(_, e)| render_outbox_event(e, self.emit))
            .collect();
        let failed_ids: HashSet<String> = match self.publisher.publish(&events).await {
            Ok(outcome) => {
                self.metrics
                    .add(Metric::EventsPublished, outcome.published.len() as u64);
                let now = OffsetDateTime::now_utc();
                // The stored (internal) form: marking moves the open-quote counts by it.
                let published: Vec<_> = batch
                    .iter()
                    .map(|(_, e)| e)
                    .filter(|e| outcome.published.contains(&e.event_id))
                    .cloned()
                    .collect();
                if let Err(error) = self.store.mark_published(&published, now).await {
                    // Already sent: retrying would send again. They stay pending.
                    tracing::warn!(error.message = %error, error.cause_chain = ?error, "marking events published failed");
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
                tracing::error!(error.message = %error, error.cause_chain = ?error, "publishing failed");
                events.iter().map(|e| e.event_id.clone()).collect()
            }
        };
        failed_sequences.extend(
            batch
                .into_iter()
                .filter(|(_, e)| failed_ids.contains(&e.event_id))
                .map(|(sequence, _)| sequence),
        );
        self.metrics
            .add(Metric::EventsPublishFailed, failed_sequences.len() as u64);
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
