//! [`CountingBackend`]: a [`DlqBackend`] wrapper counting the requests made through it, per
//! operation (the benchmark's "SQS requests per redriven message").

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use q2c_service::messaging::{QueueCounts, SendOutcome};

use super::backend::{
    DeadLetterQueue, DlqBackend, DlqMessage, DlqOutgoing, ExactSummary, MoveTask, MoveTaskError,
};

/// Counts every call to the wrapped backend by operation name.
pub struct CountingBackend<B> {
    inner: B,
    calls: Mutex<BTreeMap<&'static str, u64>>,
}

impl<B> CountingBackend<B> {
    /// Wraps `inner` with zeroed counters.
    pub fn new(inner: B) -> Self {
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
    pub fn calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.lock().expect("counter").clone()
    }

    /// All calls so far.
    pub fn total(&self) -> u64 {
        self.calls().values().sum()
    }
}

#[async_trait]
impl<B: DlqBackend> DlqBackend for CountingBackend<B> {
    fn resolve(&self, queue: &str) -> String {
        self.inner.resolve(queue)
    }

    async fn dead_letter_queues(&self) -> anyhow::Result<Vec<DeadLetterQueue>> {
        self.record("ListQueues");
        self.inner.dead_letter_queues().await
    }

    async fn counts(&self, queue: &str) -> anyhow::Result<QueueCounts> {
        self.record("GetQueueAttributes");
        self.inner.counts(queue).await
    }

    async fn exact_summary(&self, queue: &str) -> anyhow::Result<Option<ExactSummary>> {
        self.inner.exact_summary(queue).await
    }

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> anyhow::Result<Vec<DlqMessage>> {
        self.record("ReceiveMessage");
        self.inner.receive(queue, max, visibility, wait).await
    }

    async fn send_batch(
        &self,
        queue: &str,
        messages: &[DlqOutgoing],
    ) -> anyhow::Result<SendOutcome> {
        self.record("SendMessageBatch");
        self.inner.send_batch(queue, messages).await
    }

    async fn delete_batch(&self, queue: &str, receipt_handles: &[String]) -> anyhow::Result<()> {
        self.record("DeleteMessageBatch");
        self.inner.delete_batch(queue, receipt_handles).await
    }

    async fn release_batch(&self, queue: &str, receipt_handles: &[String]) -> anyhow::Result<()> {
        self.record("ChangeMessageVisibilityBatch");
        self.inner.release_batch(queue, receipt_handles).await
    }

    async fn purge(&self, queue: &str) -> anyhow::Result<()> {
        self.record("PurgeQueue");
        self.inner.purge(queue).await
    }

    async fn start_move_task(
        &self,
        source: &str,
        destination: Option<&str>,
        rate: Option<u32>,
    ) -> Result<String, MoveTaskError> {
        self.record("StartMessageMoveTask");
        self.inner.start_move_task(source, destination, rate).await
    }

    async fn move_tasks(&self, source: &str) -> Result<Vec<MoveTask>, MoveTaskError> {
        self.record("ListMessageMoveTasks");
        self.inner.move_tasks(source).await
    }

    async fn cancel_move_task(&self, task_handle: &str) -> Result<u64, MoveTaskError> {
        self.record("CancelMessageMoveTask");
        self.inner.cancel_move_task(task_handle).await
    }
}
