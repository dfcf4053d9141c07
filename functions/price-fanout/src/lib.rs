//! The `price-fanout` Lambda function: consumes `pricing-changes` with
//! [`PriceFanout`]: applies each TMF620 price event to the catalog copy (ordered by
//! `lastUpdate`), announces it to the catalog hub (billing-updates first, then every
//! matching subscriber), and re-prices the open quotes it affects, a page per message, in
//! segments walked at once by continuation messages on `pricing-continuations` (a second
//! event source mapping of the same function; the template allows the recursive loop, each
//! continuation carrying its hop bound).
#![warn(missing_docs)]

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use q2c_aws::wiring::{hub_delivery, queue_prefix};
use q2c_aws::{DeadLetter, DynamoSettings, DynamoStore, SqsQueues, process_batch_report};
use q2c_runtime::{ConfigError, Metric, Metrics, optional, parsed_or, required};
use q2c_service::event_versions::SchemaMajor;
use q2c_service::fanout::{FanoutConfig, FanoutPorts, PriceFanout};
use q2c_service::messaging::queues;
use q2c_service::ports::{BoxError, SystemClock};

/// The function's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`.
    pub table_name: String,
    /// `PRICING_CHANGES_QUEUE_URL`: the source queue of catalog events; its name gives the
    /// stack's queue prefix.
    pub pricing_changes_queue_url: String,
    /// `PRICING_CHANGES_DLQ_URL`: where poison price events go.
    pub pricing_changes_dlq_url: String,
    /// `PRICING_CONTINUATIONS_QUEUE_URL`: the continuations' own queue (sent to, and a second
    /// source of the function).
    pub pricing_continuations_queue_url: String,
    /// `PRICING_CONTINUATIONS_DLQ_URL`: where poison continuations go (one over its hop
    /// bound among them).
    pub pricing_continuations_dlq_url: String,
    /// `BILLING_UPDATES_QUEUE_URL`: receives every applied price event first.
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
    /// `FANOUT_PAGE_SIZE`: open quotes re-priced per message (default 200).
    pub page_size: usize,
    /// `FANOUT_SEGMENTS`: most segments a change is split into (default 8).
    pub segments: usize,
    /// `FANOUT_WRITE_CONCURRENCY`: quotes of a page written at once (default 8).
    pub write_concurrency: usize,
}

impl Config {
    /// Reads the environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable missing or invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Config {
            table_name: required("TABLE_NAME")?,
            pricing_changes_queue_url: required("PRICING_CHANGES_QUEUE_URL")?,
            pricing_changes_dlq_url: required("PRICING_CHANGES_DLQ_URL")?,
            pricing_continuations_queue_url: required("PRICING_CONTINUATIONS_QUEUE_URL")?,
            pricing_continuations_dlq_url: required("PRICING_CONTINUATIONS_DLQ_URL")?,
            billing_updates_queue_url: required("BILLING_UPDATES_QUEUE_URL")?,
            callback_allowlist: optional("CALLBACK_ALLOWLIST").unwrap_or_default(),
            subscriber_queue_prefix: optional("SUBSCRIBER_QUEUE_PREFIX"),
            max_receive_count: parsed_or("MAX_RECEIVE_COUNT", 5)?,
            event_schema: parsed_or("EVENT_SCHEMA_VERSION", SchemaMajor::DEFAULT_EMIT)?,
            page_size: parsed_or("FANOUT_PAGE_SIZE", FanoutConfig::default().page_size)?,
            segments: parsed_or("FANOUT_SEGMENTS", FanoutConfig::default().segments)?,
            write_concurrency: parsed_or(
                "FANOUT_WRITE_CONCURRENCY",
                FanoutConfig::default().write_concurrency,
            )?,
        })
    }
}

/// The function: the use-case and clients, built once per container.
pub struct Fanout {
    fanout: PriceFanout,
    dlq: DeadLetter,
    continuations_dlq: DeadLetter,
    /// `:<name>` ending the continuation queue's ARN (the source of a continuation batch).
    continuations_arn_suffix: String,
    metrics: Arc<Metrics>,
}

impl Fanout {
    /// Wires [`PriceFanout`] over the table and SQS.
    ///
    /// # Errors
    /// An invalid queue URL or allow-list.
    pub fn new(
        config: &Config,
        store: DynamoStore,
        sqs: aws_sdk_sqs::Client,
        metrics: Arc<Metrics>,
    ) -> Result<Self, BoxError> {
        let prefix = queue_prefix(&config.pricing_changes_queue_url, queues::PRICING_CHANGES)?;
        let continuations_prefix = queue_prefix(
            &config.pricing_continuations_queue_url,
            queues::PRICING_CONTINUATIONS,
        )?;
        if continuations_prefix != prefix {
            return Err(format!(
                "PRICING_CONTINUATIONS_QUEUE_URL names the prefix `{continuations_prefix}`, \
                 PRICING_CHANGES_QUEUE_URL `{prefix}`: both queues belong to one stack"
            )
            .into());
        }
        let delivery = hub_delivery(
            &store,
            sqs.clone(),
            &config.callback_allowlist,
            config.subscriber_queue_prefix.as_deref(),
            &config.billing_updates_queue_url,
            config.max_receive_count,
            config.event_schema,
        )?;
        let shared = Arc::new(store.clone());
        let fanout = PriceFanout::new(
            FanoutPorts {
                quotes: shared.clone(),
                catalog: shared.clone(),
                writer: shared.clone(),
                offerings: shared.clone(),
                index: shared,
                settings: Arc::new(DynamoSettings::new(store)),
                queue: Arc::new(SqsQueues::new(sqs.clone()).with_prefix(prefix.clone())),
                announce: Arc::new(delivery),
                clock: Arc::new(SystemClock),
            },
            FanoutConfig {
                page_size: config.page_size,
                segments: config.segments,
                write_concurrency: config.write_concurrency,
                emit: config.event_schema,
                ..FanoutConfig::default()
            },
        );
        let dlq = DeadLetter::new(sqs.clone(), &config.pricing_changes_dlq_url);
        let continuations_dlq = DeadLetter::new(sqs, &config.pricing_continuations_dlq_url);
        let continuations_arn_suffix = format!(":{prefix}{}", queues::PRICING_CONTINUATIONS);
        Ok(Fanout {
            fanout,
            dlq,
            continuations_dlq,
            continuations_arn_suffix,
            metrics,
        })
    }

    /// Handles one batch (of either source queue: each mapping's batch comes from one);
    /// counts the messages' fates (`MessagesProcessed`, `MessagesRetried`,
    /// `MessagesDeadLettered`) and `StalePriceEventsSkipped`. Poison goes to the DLQ of the
    /// queue the batch came from (its records' `eventSourceARN`).
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let stale_before = self.fanout.stale_events_skipped();
        let from_continuations = event.records.first().is_some_and(|record| {
            record
                .event_source_arn
                .as_deref()
                .is_some_and(|arn| arn.ends_with(&self.continuations_arn_suffix))
        });
        let dlq = if from_continuations {
            &self.continuations_dlq
        } else {
            &self.dlq
        };
        let report = process_batch_report(event, dlq, |message| async move {
            self.fanout.handle(message).await.map(|_| ())
        })
        .await;
        report.record(&self.metrics);
        self.metrics.add(
            Metric::StalePriceEventsSkipped,
            self.fanout.stale_events_skipped() - stale_before,
        );
        report.response
    }
}
