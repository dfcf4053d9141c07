//! The queue consumers of `q2c local`: the same handlers as the Lambda functions
//! (`price-fanout`, `hub-delivery`, `order-dispatch`), driven by [`Poller`]s over the
//! embedded queues the way event source mappings drive the functions on AWS.
//!
//! - `pricing-changes` → [`PriceFanout`], announcing through hub delivery (billing-updates
//!   first); its continuations go to `pricing-continuations`, a queue of their own (created
//!   by [`ensure_continuation_queue`]), polled by [`FANOUT_POLLERS`] pollers at once, as the
//!   continuation mapping runs concurrent invocations, so the segments of a change run at
//!   once;
//! - `quote-events` → [`HubDelivery::deliver_mixed_batch_by`], whole batches, by a
//!   deadline inside the visibility timeout, [`HUB_DELIVERY_POLLERS`] batches at a time (as
//!   the event source mapping runs concurrent invocations), so a batch waiting on a slow
//!   subscriber holds up no other batch;
//! - `orders` → [`OrderDispatch`] to order management over HTTP (the in-process fake
//!   downstream unless `--downstream-url` says otherwise).

use std::sync::Arc;
use std::time::Duration;

use q2c_callbacks::{HttpCallbacks, HttpConfig};
use q2c_downstream::{
    Credential, HttpDownstream, HttpDownstreamConfig, LazyToken, NoCredential, TokioSleeper,
};
use q2c_local::queues::DEFAULT_MAX_RECEIVE_COUNT;
use q2c_local::{LocalCallbackSender, Poller, SqliteQueues, SqliteStore};
use q2c_service::delivery::{
    CallbackPolicy, DeliveryConfig, HubDelivery, billing_updates_subscriber,
};
use q2c_service::dispatch::{CircuitBreaker, OrderDispatch, OrderStatusSink, RetrySchedule};
use q2c_service::event_versions::SchemaMajor;
use q2c_service::fanout::{FanoutConfig, FanoutPorts, PriceFanout};
use q2c_service::messaging::{QueueClient, queues};
use q2c_service::ports::{Clock, Ports};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a received message stays hidden (the consumers' "function timeout").
const VISIBILITY: Duration = Duration::from_secs(30);
/// Kept back from the visibility timeout when dispatching, so a message is settled before
/// it would be visible again.
const DISPATCH_MARGIN: Duration = Duration::from_secs(2);
/// Batches of `quote-events` in hand at once (each its own poller, as concurrent Lambda
/// invocations of hub-delivery are).
pub const HUB_DELIVERY_POLLERS: usize = 4;
/// Continuations of the price fan-out in hand at once (one segment's page each).
pub const FANOUT_POLLERS: usize = 4;

/// Creates `pricing-continuations` and its DLQ in the embedded queues when missing (the
/// schema's migration creates the other template queues), redriving after
/// [`DEFAULT_MAX_RECEIVE_COUNT`] receives as the template's queue does.
///
/// # Errors
/// When SQLite fails.
pub async fn ensure_continuation_queue(store: &SqliteStore) -> anyhow::Result<()> {
    let engine = SqliteQueues::new(store);
    let dlq = q2c_service::messaging::dlq_name(queues::PRICING_CONTINUATIONS);
    engine
        .configure_queue(&dlq, None, DEFAULT_MAX_RECEIVE_COUNT)
        .await?;
    engine
        .configure_queue(
            queues::PRICING_CONTINUATIONS,
            Some(&dlq),
            DEFAULT_MAX_RECEIVE_COUNT,
        )
        .await?;
    Ok(())
}

/// Builds the local hub delivery: subscriptions and delivery log in the store, callbacks
/// checked again by `policy` (the API's), billing-updates first for catalog events (a
/// built-in: system routing, not subject to the policy).
///
/// # Errors
/// When the HTTP client cannot be built.
pub fn hub_delivery(
    store: &SqliteStore,
    queues: Arc<dyn QueueClient>,
    clock: Arc<dyn Clock>,
    emit: SchemaMajor,
    policy: CallbackPolicy,
) -> anyhow::Result<HubDelivery> {
    let http = HttpCallbacks::new(policy.clone(), HttpConfig::default())
        .map_err(|e| anyhow::anyhow!("building the HTTP callback client: {e}"))?;
    Ok(HubDelivery::new(
        store.hub_store(),
        store.delivery_log(),
        Arc::new(LocalCallbackSender::new(queues, http)),
        policy,
        clock,
        DeliveryConfig {
            max_attempts: DEFAULT_MAX_RECEIVE_COUNT,
            catalog_builtins: vec![billing_updates_subscriber(&format!(
                "local:{}",
                queues::BILLING_UPDATES
            ))],
            emit,
            ..DeliveryConfig::default()
        },
    ))
}

/// The running consumers; [`Consumers::stop`] lets each finish the batch in hand.
pub struct Consumers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Where and how the consumers work.
#[derive(Debug, Clone)]
pub struct ConsumersConfig {
    /// Order management's TMF622 base URL.
    pub downstream_url: String,
    /// Bearer token sent to order management, when given.
    pub downstream_token: Option<String>,
    /// The schema major they publish in.
    pub emit: SchemaMajor,
    /// Hub callbacks are checked again by this policy before delivery.
    pub policy: CallbackPolicy,
    /// The fan-out's page size, segments and write concurrency (its queue is always
    /// `pricing-continuations`, its schema `emit`).
    pub fanout: FanoutConfig,
}

impl ConsumersConfig {
    /// Orders to `downstream_url`, no token, the default schema, `q2c local`'s callback
    /// policy and the default fan-out.
    pub fn new(downstream_url: &str) -> Self {
        ConsumersConfig {
            downstream_url: downstream_url.to_owned(),
            downstream_token: None,
            emit: SchemaMajor::DEFAULT_EMIT,
            policy: CallbackPolicy::local(),
            fanout: FanoutConfig::default(),
        }
    }
}

impl Consumers {
    /// Starts the three consumers over `store`'s queues. `ports` are the API's (its quote
    /// store wakes the outbox relay). Call [`ensure_continuation_queue`] first.
    ///
    /// # Errors
    /// When a client cannot be built.
    pub fn start(
        store: &SqliteStore,
        ports: &Ports,
        config: ConsumersConfig,
    ) -> anyhow::Result<Consumers> {
        let ConsumersConfig {
            downstream_url,
            downstream_token,
            emit,
            policy,
            fanout,
        } = config;
        let queue_client = SqliteQueues::new(store).queue_client();
        let delivery = Arc::new(hub_delivery(
            store,
            queue_client.clone(),
            ports.clock.clone(),
            emit,
            policy,
        )?);
        let fanout = Arc::new(PriceFanout::new(
            FanoutPorts {
                quotes: ports.quotes.clone(),
                catalog: ports.catalog.clone(),
                writer: store.price_catalog_writer(),
                offerings: store.offering_catalog_writer(),
                index: store.open_quote_index(),
                settings: ports.settings.clone(),
                queue: queue_client.clone(),
                announce: delivery.clone(),
                clock: ports.clock.clone(),
            },
            FanoutConfig {
                emit,
                queue: queues::PRICING_CONTINUATIONS.to_owned(),
                ..fanout
            },
        ));
        let credential: Arc<dyn Credential> = match downstream_token {
            Some(token) => Arc::new(LazyToken::new(move || {
                let token = token.clone();
                async move { Ok(token) }
            })),
            None => Arc::new(NoCredential),
        };
        let downstream =
            HttpDownstream::new(HttpDownstreamConfig::new(&downstream_url), credential)?;
        let dispatch = Arc::new(OrderDispatch::new(
            Arc::new(downstream),
            store.dispatch_log(),
            Arc::new(OrderStatusSink(ports.orders.clone())),
            Arc::new(CircuitBreaker::new(
                "order-management",
                q2c_service::dispatch::DEFAULT_THRESHOLD,
                q2c_service::dispatch::DEFAULT_OPEN_FOR,
                ports.clock.clone(),
            )),
            RetrySchedule::default(),
            ports.clock.clone(),
            Arc::new(TokioSleeper),
        ));

        let (stop, stopped) = watch::channel(false);
        let poller = |queue: &str| {
            Poller::new(queue_client.clone(), queue).with_visibility_timeout(VISIBILITY)
        };
        let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let mut tasks = Vec::new();

        let fanout_pollers = std::iter::once(queues::PRICING_CHANGES).chain(std::iter::repeat_n(
            queues::PRICING_CONTINUATIONS,
            FANOUT_POLLERS,
        ));
        for queue in fanout_pollers {
            let pricing = poller(queue);
            let (f, s) = (fanout.clone(), stopped.clone());
            tasks.push(tokio::spawn(async move {
                pricing
                    .run(
                        |message| {
                            let fanout = f.clone();
                            async move { fanout.handle(message).await.map(|_| ()) }
                        },
                        until_stopped(s),
                    )
                    .await;
            }));
        }

        for _ in 0..HUB_DELIVERY_POLLERS {
            let events = poller(queues::QUOTE_EVENTS);
            let (d, s, clock) = (delivery.clone(), stopped.clone(), ports.clock.clone());
            tasks.push(tokio::spawn(async move {
                events
                    .run_batch(
                        |batch| {
                            let delivery = d.clone();
                            let deadline = clock.now() + (VISIBILITY - DISPATCH_MARGIN);
                            async move {
                                delivery
                                    .deliver_mixed_batch_by(batch, Some(deadline))
                                    .await
                            }
                        },
                        until_stopped(s),
                    )
                    .await;
            }));
        }

        let orders = poller(queues::ORDERS);
        let (clock, s) = (ports.clock.clone(), stopped);
        tasks.push(tokio::spawn(async move {
            orders
                .run(
                    |message| {
                        let dispatch = dispatch.clone();
                        let deadline = clock.now() + (VISIBILITY - DISPATCH_MARGIN);
                        async move { dispatch.handle(message, deadline).await }
                    },
                    until_stopped(s),
                )
                .await;
        }));
        Ok(Consumers { stop, tasks })
    }

    /// Stops polling; waits for the batches in hand.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
