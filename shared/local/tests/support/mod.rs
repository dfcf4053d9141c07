//! Shared by the hub-delivery tests on the embedded queues: a source queue with its DLQ,
//! draining it through a [`Poller`](q2c_local::Poller), and taking every message of a queue.

use std::future::Future;

use q2c_local::{PollReport, SqliteQueues};
use q2c_service::messaging::{QueueClient, QueueError};
/// Everything on a queue (received once, each hidden a minute).
pub use q2c_service::testing::drain as take_all;

/// Creates `source` with its DLQ `<source>-dlq`, redriving after `max_receives` receives.
pub async fn source_with_dlq(queues: &SqliteQueues, source: &str, max_receives: u32) {
    queues
        .configure_queue(&format!("{source}-dlq"), None, 5)
        .await
        .expect("dlq");
    queues
        .configure_queue(source, Some(&format!("{source}-dlq")), max_receives)
        .await
        .expect("source");
}

/// Calls `poll` until `source` is empty (bounded: a broken engine fails, it does not hang).
pub async fn drain<F, Fut>(queues: &SqliteQueues, source: &str, mut poll: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<PollReport, QueueError>>,
{
    for _ in 0..200 {
        let counts = queues.counts(source).await.expect("counts");
        if counts.visible + counts.in_flight == 0 {
            return;
        }
        poll().await.expect("poll");
    }
    panic!("the source queue did not drain");
}
