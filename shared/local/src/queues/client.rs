//! The [`QueueClient`] port of [`SqliteQueues`]: sends, long-polled receives, deletes,
//! visibility changes and counts, with SQS's limits checked before any work.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use q2c_service::messaging::{
    MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, OutgoingMessage, QueueClient, QueueCounts, QueueError,
    Receive, ReceivedMessage, SendFailure, SendOutcome, check_batch,
};
use rusqlite::params;
use time::OffsetDateTime;

use super::SqliteQueues;
use crate::error::ResultExt;
use crate::time_codec::encode;

/// Most message attributes (an SQS limit).
const MAX_ATTRIBUTES: usize = 10;
/// Longest long poll, as SQS.
const MAX_WAIT: Duration = Duration::from_secs(20);
/// How often a long poll looks again for messages.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Why SQS would refuse this entry (code, as SQS names it), if it would: more than 10
/// attributes, or more than [`MAX_MESSAGE_BYTES`] (1 MiB) of body and attributes.
pub(crate) fn refusal(message: &OutgoingMessage) -> Option<&'static str> {
    if message.attributes.len() > MAX_ATTRIBUTES {
        Some("InvalidParameterValue")
    } else if message.bytes() > MAX_MESSAGE_BYTES {
        Some("MessageTooLong")
    } else {
        None
    }
}

#[async_trait]
impl QueueClient for SqliteQueues {
    async fn send_batch(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, QueueError> {
        check_batch("send", messages.len())?;
        let total: usize = messages.iter().map(OutgoingMessage::bytes).sum();
        if total > MAX_BATCH_BYTES {
            // As SQS: the whole call is refused (BatchRequestTooLong).
            return Err(QueueError::InvalidRequest(format!(
                "BatchRequestTooLong: {total} bytes in one batch, at most {MAX_BATCH_BYTES}"
            )));
        }
        let mut rows = Vec::new();
        let mut outcome = SendOutcome::default();
        for (index, message) in messages.iter().enumerate() {
            if let Some(code) = refusal(message) {
                outcome.failed.push(SendFailure {
                    index,
                    code: code.to_owned(),
                    sender_fault: true,
                });
                continue;
            }
            let attributes = serde_json::to_string(&message.attributes)
                .map_err(|e| QueueError::Backend(Box::new(e)))?;
            let id = uuid::Uuid::new_v4().to_string();
            outcome.sent.push((index, id.clone()));
            rows.push((id, message.body.clone(), attributes));
        }
        if rows.is_empty() {
            return Ok(outcome);
        }
        self.on_queue(queue, move |conn, queue| {
            let now = encode(OffsetDateTime::now_utc());
            let mut insert = conn
                .prepare_cached(
                    "INSERT INTO queue_messages (queue, message_id, body, attributes, sent_at,
                         visible_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )
                .store()?;
            for (id, body, attributes) in &rows {
                insert
                    .execute(params![queue.name, id, body, attributes, now])
                    .store()?;
            }
            Ok(Ok(()))
        })
        .await?;
        Ok(outcome)
    }

    async fn receive(
        &self,
        queue: &str,
        request: Receive,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        check_batch("receive", request.max)?;
        let until = Instant::now() + request.wait.min(MAX_WAIT);
        loop {
            let received = self
                .receive_now(queue, request.max, request.visibility)
                .await?;
            let left = until.saturating_duration_since(Instant::now());
            if !received.is_empty() || left.is_zero() {
                return Ok(received);
            }
            tokio::time::sleep(left.min(POLL_EVERY)).await;
        }
    }

    async fn delete_batch(
        &self,
        queue: &str,
        receipt_handles: &[String],
    ) -> Result<(), QueueError> {
        check_batch("delete", receipt_handles.len())?;
        let handles = receipt_handles.to_vec();
        self.on_queue(queue, move |conn, queue| {
            let mut delete = conn
                .prepare_cached(
                    "DELETE FROM queue_messages WHERE queue = ?1 AND receipt_handle = ?2",
                )
                .store()?;
            for handle in &handles {
                // A stale handle deletes nothing: the message is gone or was received again.
                delete.execute(params![queue.name, handle]).store()?;
            }
            Ok(Ok(()))
        })
        .await
    }

    async fn change_visibility(
        &self,
        queue: &str,
        receipt_handle: &str,
        timeout: Duration,
    ) -> Result<(), QueueError> {
        let handle = receipt_handle.to_owned();
        self.on_queue(queue, move |conn, queue| {
            let now = OffsetDateTime::now_utc();
            let changed = conn
                .prepare_cached(
                    "UPDATE queue_messages SET visible_at = ?3
                     WHERE queue = ?1 AND receipt_handle = ?2 AND visible_at > ?4",
                )
                .store()?
                .execute(params![
                    queue.name,
                    handle,
                    encode(now + timeout),
                    encode(now)
                ])
                .store()?;
            Ok(if changed == 0 {
                Err(QueueError::NotInFlight)
            } else {
                Ok(())
            })
        })
        .await
    }

    async fn counts(&self, queue: &str) -> Result<QueueCounts, QueueError> {
        self.on_queue(queue, move |conn, queue| {
            let now = encode(OffsetDateTime::now_utc());
            let (visible, in_flight): (i64, i64) = conn
                .prepare_cached(
                    "SELECT COALESCE(SUM(visible_at <= ?2), 0), COALESCE(SUM(visible_at > ?2), 0)
                     FROM queue_messages WHERE queue = ?1",
                )
                .store()?
                .query_row(params![queue.name, now], |r| Ok((r.get(0)?, r.get(1)?)))
                .store()?;
            Ok(Ok(QueueCounts {
                visible: u64::try_from(visible).unwrap_or(0),
                in_flight: u64::try_from(in_flight).unwrap_or(0),
            }))
        })
        .await
    }
}
