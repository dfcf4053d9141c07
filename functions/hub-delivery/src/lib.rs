//! The `hub-delivery` Lambda function: consumes `quote-events` (TMF648 quote events, and
//! TMF622 product order events marked `hubApi: ordering`) and delivers each batch to the
//! matching subscribers of the hub each event is for, with one `SendMessageBatch` per SQS
//! subscriber and batch ([`HubDelivery::deliver_mixed_batch_by`]). Subscribers are called
//! concurrently and every call ends by the invocation's deadline (less
//! [`DEADLINE_MARGIN`]); each delivery is recorded as it succeeds. A subscriber that fails or
//! does not answer in time returns only the messages it missed, hidden for a growing backoff
//! and then sent to it alone; after `maxReceiveCount` receives they are dead-lettered naming
//! the subscribers they missed.
#![warn(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use q2c_aws::wiring::hub_delivery;
use q2c_aws::{DeadLetter, DynamoStore, process_whole_batch};
use q2c_runtime::{ConfigError, Metrics, optional, parsed_or, required};
use q2c_service::delivery::HubDelivery;
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::BoxError;
use time::OffsetDateTime;

/// Kept back from the Lambda deadline for settling the batch (DLQ sends, visibility changes).
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// The invocation deadline (Lambda gives it in epoch milliseconds) minus [`DEADLINE_MARGIN`].
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> OffsetDateTime {
    q2c_runtime::deadline_before(deadline_ms, DEADLINE_MARGIN)
}

/// The function's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: subscriptions and the delivery log.
    pub table_name: String,
    /// `QUOTE_EVENTS_DLQ_URL`: where undeliverable events go, with the reason.
    pub quote_events_dlq_url: String,
    /// `BILLING_UPDATES_QUEUE_URL`: a queue of the stack (its name gives the queue prefix
    /// the system-queue rule needs); never an allowed callback.
    pub billing_updates_queue_url: String,
    /// `CALLBACK_ALLOWLIST`: callbacks subscribers may register (comma-separated).
    pub callback_allowlist: String,
    /// `SUBSCRIBER_QUEUE_PREFIX`: tenant `t`'s subscriber queue is `<prefix>t` (default: the
    /// stack's queue prefix + `subscriber-`; empty: no queue by rule).
    pub subscriber_queue_prefix: Option<String>,
    /// `MAX_RECEIVE_COUNT`: the source queue's `maxReceiveCount` (default 5).
    pub max_receive_count: u32,
    /// `EVENT_SCHEMA_VERSION`: the schema major of the messages it sends (default the
    /// current one, 5); it reads 4 and 5 whatever this says.
    pub event_schema: SchemaMajor,
}

impl Config {
    /// Reads the environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable missing or invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Config {
            table_name: required("TABLE_NAME")?,
            quote_events_dlq_url: required("QUOTE_EVENTS_DLQ_URL")?,
            billing_updates_queue_url: required("BILLING_UPDATES_QUEUE_URL")?,
            callback_allowlist: optional("CALLBACK_ALLOWLIST").unwrap_or_default(),
            subscriber_queue_prefix: optional("SUBSCRIBER_QUEUE_PREFIX"),
            max_receive_count: parsed_or("MAX_RECEIVE_COUNT", 5)?,
            event_schema: parsed_or("EVENT_SCHEMA_VERSION", SchemaMajor::DEFAULT_EMIT)?,
        })
    }
}

/// The function: the use-case and clients, built once per container.
pub struct Delivery {
    delivery: HubDelivery,
    dlq: DeadLetter,
    metrics: Arc<Metrics>,
}

impl Delivery {
    /// Wires [`HubDelivery`] over the table and SQS.
    ///
    /// # Errors
    /// An invalid allow-list, or the HTTP client cannot be built.
    pub fn new(
        config: &Config,
        store: &DynamoStore,
        sqs: aws_sdk_sqs::Client,
        metrics: Arc<Metrics>,
    ) -> Result<Self, BoxError> {
        let delivery = hub_delivery(
            store,
            sqs.clone(),
            &config.callback_allowlist,
            config.subscriber_queue_prefix.as_deref(),
            &config.billing_updates_queue_url,
            config.max_receive_count,
            config.event_schema,
        )?;
        Ok(Delivery {
            delivery,
            dlq: DeadLetter::new(sqs, &config.quote_events_dlq_url),
            metrics,
        })
    }

    /// Handles one batch, its calls ending by `deadline` ([`deadline_from_epoch_ms`]);
    /// counts `MessagesProcessed`, `MessagesRetried` and `MessagesDeadLettered`.
    pub async fn handle(&self, event: SqsEvent, deadline: OffsetDateTime) -> SqsBatchResponse {
        let report = process_whole_batch(event, &self.dlq, |batch| {
            self.delivery.deliver_mixed_batch_by(batch, Some(deadline))
        })
        .await;
        report.record(&self.metrics);
        report.response
    }
}
