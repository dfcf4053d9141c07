//! [`LocalDlqBackend`]: the dead-letter operations on the embedded queue engine of a
//! `q2c local` data directory. The engine keeps string attributes only and has no move tasks,
//! so a redrive always moves messages itself; it can say exactly which moved messages are
//! still in their destination.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use q2c_service::dlq::{
    APPROXIMATE_RECEIVE_COUNT, AttributeValue, DeadLetterQueue, DlqBackend, DlqMessage,
    DlqOutgoing, ExactSummary, SENT_TIMESTAMP,
};
use q2c_service::messaging::{
    OutgoingMessage, QueueClient, QueueError, Receive, ReceivedMessage, SendOutcome,
};

use crate::queues::SqliteQueues;

/// The embedded engine as a [`DlqBackend`]; `only` restricts discovery to these queues.
#[derive(Clone)]
pub struct LocalDlqBackend {
    queues: SqliteQueues,
    only: Option<Vec<String>>,
}

impl LocalDlqBackend {
    /// The queues of the engine; `only` (when given) lists the DLQs to show.
    pub fn new(queues: SqliteQueues, only: Option<Vec<String>>) -> Self {
        LocalDlqBackend { queues, only }
    }
}

fn dlq_message(m: ReceivedMessage) -> DlqMessage {
    let sent_ms = m.sent_at.unix_timestamp_nanos() / 1_000_000;
    DlqMessage {
        message_id: m.message_id,
        receipt_handle: m.receipt_handle,
        body: m.body,
        attributes: m
            .attributes
            .into_iter()
            .map(|(k, v)| (k, AttributeValue::string(v)))
            .collect(),
        system_attributes: BTreeMap::from([
            (SENT_TIMESTAMP.to_owned(), sent_ms.to_string()),
            (
                APPROXIMATE_RECEIVE_COUNT.to_owned(),
                m.receive_count.to_string(),
            ),
        ]),
    }
}

#[async_trait]
impl DlqBackend for LocalDlqBackend {
    fn resolve(&self, queue: &str) -> String {
        queue.to_owned()
    }

    fn queues(&self) -> &dyn QueueClient {
        &self.queues
    }

    async fn dead_letter_queues(&self) -> Result<Vec<DeadLetterQueue>, QueueError> {
        let all = self.queues.list_queues().await?;
        let source_of = |dlq: &str| {
            all.iter()
                .find(|q| q.dead_letter_queue.as_deref() == Some(dlq))
                .map(|q| q.name.clone())
        };
        let names: Vec<String> = match &self.only {
            Some(only) => only.clone(),
            // A DLQ is a queue that some queue redrives into.
            None => all
                .iter()
                .filter(|q| source_of(&q.name).is_some())
                .map(|q| q.name.clone())
                .collect(),
        };
        Ok(names
            .into_iter()
            .map(|name| DeadLetterQueue {
                source: source_of(&name),
                name,
            })
            .collect())
    }

    async fn exact_summary(&self, queue: &str) -> Result<Option<ExactSummary>, QueueError> {
        Ok(Some(ExactSummary {
            counts: self.queues.counts(queue).await?,
            oldest_sent_at: self.queues.oldest_sent_at(queue).await?,
            reasons: self.queues.failure_reasons(queue).await?,
        }))
    }

    async fn receive(&self, queue: &str, request: Receive) -> Result<Vec<DlqMessage>, QueueError> {
        let received = self.queues.receive(queue, request).await?;
        Ok(received.into_iter().map(dlq_message).collect())
    }

    async fn send_batch(
        &self,
        queue: &str,
        messages: &[DlqOutgoing],
    ) -> Result<SendOutcome, QueueError> {
        // The engine stores text; a binary attribute keeps its base64 text.
        let outgoing: Vec<OutgoingMessage> = messages
            .iter()
            .map(|m| OutgoingMessage {
                body: m.body.clone(),
                attributes: m
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.text().to_owned()))
                    .collect(),
            })
            .collect();
        self.queues.send_batch(queue, &outgoing).await
    }

    async fn release_batch(
        &self,
        queue: &str,
        receipt_handles: &[String],
    ) -> Result<(), QueueError> {
        for handle in receipt_handles {
            match self
                .queues
                .change_visibility(queue, handle, Duration::ZERO)
                .await
            {
                // Visible already, or gone: nothing to release.
                Ok(()) | Err(QueueError::NotInFlight) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    async fn purge(&self, queue: &str) -> Result<(), QueueError> {
        self.queues.purge(queue).await.map(drop)
    }

    /// Exact: a lookup by message id in the engine's table.
    async fn still_queued(
        &self,
        queue: &str,
        message_ids: &[String],
    ) -> Result<Option<BTreeSet<String>>, QueueError> {
        self.queues.still_queued(queue, message_ids).await.map(Some)
    }
}
