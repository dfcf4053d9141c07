//! The `outbox-relay` Lambda function: the table's DynamoDB stream delivers the outbox
//! items the quote transactions wrote; the relay publishes their events to SQS in batches
//! within SQS's limits ([`relay_entries`] over [`SqsQueues`], the same code as the sweep and
//! `q2c local`), marks them published, and parks what it cannot publish in the
//! destination's dead-letter queue (undecodable records, permanent refusals, and events
//! refused [`MAX_PUBLISH_ATTEMPTS`](q2c_service::relay::MAX_PUBLISH_ATTEMPTS) times), acknowledging them. Only records whose queue
//! could not be reached are returned as `batchItemFailures` (by sequence number), so the
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

use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use q2c_aws::{DynamoStore, SqsPublisher, SqsQueues};
use q2c_runtime::{ConfigError, Metric, Metrics, parsed_or, required};
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::PendingEvent;
use q2c_service::relay::{
    RelayError, RelayReport, oldest_pending_age, relay_entries, relay_once_as,
};
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
/// How long an event may wait before the sweep logs its age as a warning (the alarm's own
/// threshold is `OutboxPendingAgeAlarmSeconds`, 900 by default).
pub const PENDING_AGE_WARNING: time::Duration = time::Duration::minutes(5);
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
    /// back full (at most [`SWEEP_MAX_ROUNDS`]), then emits `OutboxOldestPendingAge` (and
    /// logs it, as a warning when an event has waited more than [`PENDING_AGE_WARNING`]).
    ///
    /// # Errors
    /// [`RelayError::Outbox`] when the pending index cannot be read or marked.
    pub async fn sweep(&self) -> Result<RelayReport, RelayError> {
        let mut total = RelayReport::default();
        for _ in 0..SWEEP_MAX_ROUNDS {
            let round = relay_once_as(&self.store, &self.queues, SWEEP_ROUND, self.emit).await?;
            total.published += round.published;
            total.failed += round.failed;
            total.parked += round.parked;
            // A short round drained the index; a round with failures would only retry a
            // queue that is refusing now: leave it to the next schedule.
            if round.read() < SWEEP_ROUND || round.failed > 0 {
                break;
            }
        }
        self.record(&total);
        if total.published > 0 {
            tracing::warn!(
                published = total.published,
                failed = total.failed,
                parked = total.parked,
                "sweep relayed events the stream path had not"
            );
        }
        let age = oldest_pending_age(&self.store, OffsetDateTime::now_utc()).await?;
        let seconds = u64::try_from(age.whole_seconds()).unwrap_or(0);
        self.metrics
            .observe(Metric::OutboxOldestPendingAge, seconds);
        if age > PENDING_AGE_WARNING {
            tracing::warn!(
                oldest_pending_age_seconds = seconds,
                "an outbox event has been pending a long time"
            );
        } else {
            tracing::info!(oldest_pending_age_seconds = seconds, "outbox pending age");
        }
        Ok(total)
    }

    /// Counts what a relay did: events published, publish failures, events parked.
    fn record(&self, report: &RelayReport) {
        self.metrics
            .add(Metric::EventsPublished, report.published as u64);
        self.metrics
            .add(Metric::EventsPublishFailed, report.failed as u64);
        self.metrics
            .add(Metric::MessagesDeadLettered, report.parked as u64);
    }

    /// Publishes the outbox inserts of `event`; the response lists the records to retry:
    /// only those whose queue could not be reached. An undecodable record, an event its queue
    /// refuses for good and one refused [`MAX_PUBLISH_ATTEMPTS`](q2c_service::relay::MAX_PUBLISH_ATTEMPTS) times is parked in its
    /// destination's dead-letter queue and acknowledged (a failed record would hold its shard
    /// for every retry); another refusal is counted on the item and acknowledged, and the
    /// sweep tries it again.
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let mut sequences: HashMap<String, String> = HashMap::new();
        let mut entries = Vec::new();
        for entry in event.records.iter().filter(|r| record::is_outbox_insert(r)) {
            let sequence = entry.change.sequence_number.clone().unwrap_or_default();
            let pending = match record::outbox_event(entry) {
                Ok(event) => PendingEvent::Ready { event, attempts: 0 },
                Err(error) => {
                    tracing::error!(error.message = %error, sequence, "undecodable outbox item");
                    PendingEvent::Undecodable(record::undecodable(entry, &error))
                }
            };
            sequences.insert(pending.event_id().to_owned(), sequence);
            entries.push(pending);
        }
        let mut response = DynamoDbEventResponse::default();
        if entries.is_empty() {
            return response;
        }
        let unsent = match relay_entries(&self.store, &self.queues, entries, self.emit).await {
            Ok(outcome) => {
                self.record(&outcome.report);
                outcome.unsent
            }
            Err(error) => {
                // Marking failed after sending: retrying the records would send again.
                // They stay pending; the sweep marks them (consumers de-duplicate).
                tracing::warn!(error.message = %error, error.cause_chain = ?error, "marking outbox events failed; the sweep retries them");
                Vec::new()
            }
        };
        response.batch_item_failures = unsent
            .iter()
            .filter_map(|event_id| sequences.get(event_id))
            .map(|sequence| {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence.clone());
                failure
            })
            .collect();
        response
    }
}
