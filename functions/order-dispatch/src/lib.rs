//! The `order-dispatch` Lambda function: consumes the `orders` queue and hands each product
//! order to order management with [`OrderDispatch`] (retries with jittered backoff inside the
//! invocation, a circuit breaker per container, an idempotent dispatch log). Returned
//! messages are hidden for the time the use-case suggests (`RetryAfter` →
//! `ChangeMessageVisibility`); refused orders go to the DLQ with the downstream's reason and
//! are marked `failed` on the order.
#![warn(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use q2c_aws::{DeadLetter, DynamoStore, process_batch_report};
use q2c_runtime::{ConfigError, Metric, Metrics, optional, parsed_or, required};
use q2c_service::dispatch::{
    BreakerState, CircuitBreaker, DispatchOutcome, Downstream, OrderDispatch, OrderStatusSink,
    RetrySchedule, Sleeper,
};
use q2c_service::ports::{Clock, SystemClock};
use time::OffsetDateTime;

/// Kept back from the Lambda deadline for acknowledging the batch.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// The function's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: orders and the dispatch log.
    pub table_name: String,
    /// `ORDERS_QUEUE_URL`: the source queue (delays of returned messages).
    pub orders_queue_url: String,
    /// `ORDERS_DLQ_URL`: where refused orders go.
    pub orders_dlq_url: String,
    /// `DOWNSTREAM_ORDER_API_URL`: base of order management's TMF622 API.
    pub downstream_url: String,
    /// `DOWNSTREAM_CREDENTIAL_PARAMETER`: SSM parameter holding the bearer token (read on
    /// the first call, then cached); none: no `Authorization` header.
    pub credential_parameter: Option<String>,
    /// `BREAKER_THRESHOLD`: consecutive failures that open the circuit (default 5).
    pub breaker_threshold: u32,
    /// `BREAKER_OPEN_SECONDS`: how long it stays open before a probe (default 30).
    pub breaker_open_seconds: u64,
    /// `REDELIVERY_BASE_SECONDS`: how long a returned message is hidden after its first
    /// failed delivery, doubling per delivery (default 30).
    pub redelivery_base_seconds: u64,
    /// `REDELIVERY_CAP_SECONDS`: the longest a returned message is hidden (default 900).
    pub redelivery_cap_seconds: u64,
}

impl Config {
    /// Reads the environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable missing or invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Config {
            table_name: required("TABLE_NAME")?,
            orders_queue_url: required("ORDERS_QUEUE_URL")?,
            orders_dlq_url: required("ORDERS_DLQ_URL")?,
            downstream_url: required("DOWNSTREAM_ORDER_API_URL")?,
            credential_parameter: optional("DOWNSTREAM_CREDENTIAL_PARAMETER")
                .filter(|name| !name.is_empty()),
            breaker_threshold: parsed_or(
                "BREAKER_THRESHOLD",
                q2c_service::dispatch::DEFAULT_THRESHOLD,
            )?,
            breaker_open_seconds: parsed_or(
                "BREAKER_OPEN_SECONDS",
                q2c_service::dispatch::DEFAULT_OPEN_FOR.as_secs(),
            )?,
            redelivery_base_seconds: parsed_or(
                "REDELIVERY_BASE_SECONDS",
                RetrySchedule::default().redelivery_base.as_secs(),
            )?,
            redelivery_cap_seconds: parsed_or(
                "REDELIVERY_CAP_SECONDS",
                RetrySchedule::default().redelivery_cap.as_secs(),
            )?,
        })
    }

    /// The retry schedule: the use-case's defaults inside an invocation, the configured
    /// redelivery delays between invocations.
    pub fn retry_schedule(&self) -> RetrySchedule {
        let mut schedule = RetrySchedule::default();
        schedule.redelivery_base = Duration::from_secs(self.redelivery_base_seconds);
        schedule.redelivery_cap = Duration::from_secs(self.redelivery_cap_seconds);
        schedule
    }
}

/// The circuit breaker of this container, its state changes logged and counted.
pub fn breaker(config: &Config, clock: Arc<dyn Clock>, metrics: Arc<Metrics>) -> CircuitBreaker {
    CircuitBreaker::new(
        "order-management",
        config.breaker_threshold,
        Duration::from_secs(config.breaker_open_seconds),
        clock,
    )
    .on_state_change(Arc::new(move |_, _, to| match to {
        BreakerState::Open => metrics.add(Metric::CircuitOpened, 1),
        BreakerState::Closed => metrics.add(Metric::CircuitClosed, 1),
        BreakerState::HalfOpen => {}
    }))
}

/// The function: the use-case and clients, built once per container.
pub struct Dispatcher {
    dispatch: OrderDispatch,
    dlq: DeadLetter,
    metrics: Arc<Metrics>,
}

impl Dispatcher {
    /// Wires the use-case over the table (dispatch log, order status) and `downstream`.
    pub fn new(
        config: &Config,
        store: DynamoStore,
        sqs: aws_sdk_sqs::Client,
        downstream: Arc<dyn Downstream>,
        sleeper: Arc<dyn Sleeper>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Arc::new(store);
        let dispatch = OrderDispatch::new(
            downstream,
            store.clone(),
            Arc::new(OrderStatusSink(store)),
            Arc::new(breaker(config, clock.clone(), metrics.clone())),
            config.retry_schedule(),
            clock,
            sleeper,
        );
        let dlq = DeadLetter::new(sqs, &config.orders_dlq_url)
            .with_source_queue(&config.orders_queue_url);
        Dispatcher {
            dispatch,
            dlq,
            metrics,
        }
    }

    /// Handles one batch, finishing by `deadline` (the invocation's, minus
    /// [`DEADLINE_MARGIN`]); counts `OrdersDispatched`, `OrderDispatchRetries` and the
    /// messages' fates (`MessagesProcessed`, `MessagesRetried`, `MessagesDeadLettered`).
    pub async fn handle(&self, event: SqsEvent, deadline: OffsetDateTime) -> SqsBatchResponse {
        let report = process_batch_report(event, &self.dlq, |message| async move {
            let outcome = self.dispatch.dispatch(message, deadline).await;
            match &outcome {
                DispatchOutcome::Dispatched { .. } => {
                    self.metrics.add(Metric::OrdersDispatched, 1);
                }
                DispatchOutcome::RetryLater { .. } => {
                    self.metrics.add(Metric::OrderDispatchRetries, 1);
                }
                DispatchOutcome::AlreadyDispatched | DispatchOutcome::Rejected { .. } => {}
            }
            outcome.into_result()
        })
        .await;
        report.record(&self.metrics);
        report.response
    }
}

/// The invocation deadline (Lambda gives it in epoch milliseconds) minus the margin.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> OffsetDateTime {
    q2c_runtime::deadline_before(deadline_ms, DEADLINE_MARGIN)
}
