//! Benchmark of the DLQ redrive's move (`q2c dlq redrive --settle-timeout 0s`: no consumer
//! behind the destination, so no wait): messages per second and queue requests per
//! redriven message, counted through [`CountingBackend`], on the local engine and, when
//! `Q2C_TEST_AWS_ENDPOINT` is set, on moto.
//!
//! `cargo run --release -p q2c --example dlq_bench -- [local messages] [moto messages]`
//! (defaults 5000 and 500). Results: docs/benchmarks.md, "DLQ redrive".

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use q2c_aws::SqsDlqBackend;
use q2c_local::LocalDlqBackend;
use q2c_service::dlq::RedriveOptions;
use q2c_service::dlq::{
    AttributeValue, DeadLetterQueue, DlqBackend, DlqMessage, DlqOutgoing, ExactSummary, MoveTask,
    MoveTaskError,
};
use q2c_service::messaging::{QueueClient, QueueCounts, QueueError, Receive, SendOutcome};

async fn seed(backend: &dyn DlqBackend, queue: &str, n: usize) -> anyhow::Result<()> {
    let messages: Vec<DlqOutgoing> = (0..n)
        .map(|i| DlqOutgoing {
            body: format!(
                r#"{{"eventId":"e-{i}","eventType":"ProductOrderCreateEvent","event":{{"productOrder":{{"id":"o-{i}","note":"{}"}}}}}}"#,
                "x".repeat(600)
            ),
            attributes: BTreeMap::from([
                ("eventType".to_owned(), AttributeValue::string("ProductOrderCreateEvent")),
                ("eventId".to_owned(), AttributeValue::string(format!("e-{i}"))),
                ("tenant".to_owned(), AttributeValue::string("acme")),
                ("failureReason".to_owned(), AttributeValue::string("order management down")),
            ]),
        })
        .collect();
    for chunk in messages.chunks(10) {
        backend.send_batch(queue, chunk).await?;
    }
    Ok(())
}

async fn measure<B: DlqBackend>(
    label: &str,
    backend: CountingBackend<B>,
    dlq: &str,
    destination: &str,
    n: usize,
) -> anyhow::Result<()> {
    seed(&backend, dlq, n).await?;
    let before = backend.calls();
    let options = RedriveOptions {
        visibility: Duration::from_secs(60),
        settle_timeout: Duration::ZERO,
        ..RedriveOptions::default()
    };
    let started = Instant::now();
    let summary = q2c_service::dlq::redrive(&backend, dlq, destination, &options, &mut ()).await?;
    let elapsed = started.elapsed();
    let mut calls = backend.calls();
    for (operation, count) in before {
        *calls.entry(operation).or_default() -= count;
    }
    let requests: u64 = calls.values().sum();
    println!(
        "{label}: moved {} of {n} in {:.2} s = {:.0} messages/s; {requests} requests = {:.3} per message {calls:?}",
        summary.moved,
        elapsed.as_secs_f64(),
        summary.moved as f64 / elapsed.as_secs_f64(),
        requests as f64 / summary.moved.max(1) as f64,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let local_n: usize = args.next().map_or(Ok(5000), |a| a.parse())?;
    let moto_n: usize = args.next().map_or(Ok(500), |a| a.parse())?;

    let dir = tempfile::tempdir()?;
    let store = q2c_local::SqliteStore::open(&dir.path().join(q2c_embedded::local::DATABASE_FILE))?;
    let local = CountingBackend::new(LocalDlqBackend::new(
        q2c_local::SqliteQueues::new(&store),
        None,
    ));
    measure(
        "local (SQLite file)",
        local,
        "orders-dlq",
        "orders",
        local_n,
    )
    .await?;

    if q2c_testkit::moto::endpoint_if_set().is_some() {
        let client = q2c_testkit::moto::sqs_client();
        let prefix = q2c_testkit::moto::queue_prefix("bench");
        for name in ["orders", "orders-dlq"] {
            q2c_testkit::sqs::create_queue(&client, &format!("{prefix}{name}"), Default::default())
                .await;
        }
        let moto = CountingBackend::new(SqsDlqBackend::new(client, &prefix, None));
        let (dlq, destination) = (format!("{prefix}orders-dlq"), format!("{prefix}orders"));
        measure("moto (SQS API)", moto, &dlq, &destination, moto_n).await?;
    } else {
        println!("moto: skipped (Q2C_TEST_AWS_ENDPOINT unset)");
    }
    Ok(())
}

/// [`DlqBackend`] wrapper counting the requests made through it, per operation (every
/// call of the port is one request to the service).
struct CountingBackend<B> {
    inner: B,
    calls: Mutex<BTreeMap<&'static str, u64>>,
}

impl<B> CountingBackend<B> {
    /// Wraps `inner` with zeroed counters.
    fn new(inner: B) -> Self {
        CountingBackend {
            inner,
            calls: Mutex::new(BTreeMap::new()),
        }
    }

    fn record(&self, operation: &'static str) {
        *self
            .calls
            .lock()
            .expect("counter")
            .entry(operation)
            .or_default() += 1;
    }

    /// Calls so far by operation.
    fn calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.lock().expect("counter").clone()
    }
}

/// `impl DlqBackend for CountingBackend`, each async method named once with the SQS request
/// it counts as (`None`: it makes none): the call is counted and passed to the inner backend.
macro_rules! counting_dlq_backend {
    ($(fn $method:ident($($arg:ident: $ty:ty),*) -> $out:ty => $request:expr;)*) => {
        #[async_trait]
        impl<B: DlqBackend> DlqBackend for CountingBackend<B> {
            fn resolve(&self, queue: &str) -> String {
                self.inner.resolve(queue)
            }

            fn queues(&self) -> &dyn QueueClient {
                self.inner.queues()
            }

            $(
                async fn $method(&self, $($arg: $ty),*) -> $out {
                    if let Some(request) = $request {
                        self.record(request);
                    }
                    self.inner.$method($($arg),*).await
                }
            )*
        }
    };
}

counting_dlq_backend! {
    fn dead_letter_queues() -> Result<Vec<DeadLetterQueue>, QueueError> => Some("ListQueues");
    fn counts(queue: &str) -> Result<QueueCounts, QueueError> => Some("GetQueueAttributes");
    fn exact_summary(queue: &str) -> Result<Option<ExactSummary>, QueueError> => None;
    fn receive(queue: &str, request: Receive)
        -> Result<Vec<DlqMessage>, QueueError> => Some("ReceiveMessage");
    fn send_batch(queue: &str, messages: &[DlqOutgoing])
        -> Result<SendOutcome, QueueError> => Some("SendMessageBatch");
    fn delete_batch(queue: &str, receipt_handles: &[String])
        -> Result<(), QueueError> => Some("DeleteMessageBatch");
    fn release_batch(queue: &str, receipt_handles: &[String])
        -> Result<(), QueueError> => Some("ChangeMessageVisibilityBatch");
    fn purge(queue: &str) -> Result<(), QueueError> => Some("PurgeQueue");
    // The local engine's lookup, or `None` on SQS.
    fn still_queued(queue: &str, message_ids: &[String])
        -> Result<Option<BTreeSet<String>>, QueueError> => None;
    fn start_move_task(source: &str, destination: Option<&str>, rate: Option<u32>)
        -> Result<String, MoveTaskError> => Some("StartMessageMoveTask");
    fn move_tasks(source: &str)
        -> Result<Vec<MoveTask>, MoveTaskError> => Some("ListMessageMoveTasks");
    fn cancel_move_task(task_handle: &str)
        -> Result<u64, MoveTaskError> => Some("CancelMessageMoveTask");
}
