//! [`SqliteQueues`]: the local twin of SQS, in the store's database (tables `queues`,
//! `queue_messages`, schema version 2). Every operation is one write of the writer thread,
//! so it is atomic and on disk (WAL, `synchronous=FULL`) before it returns.
//!
//! Semantics as SQS standard queues: a receive hides a message until `now + visibility`,
//! increments its receive count and gives it a new receipt handle; a visible message whose
//! receive count already reached the queue's `max_receive_count` is moved to its DLQ instead
//! of being delivered (SQS's redrive); deleting needs the latest receipt handle.

use std::sync::Arc;
use std::time::Duration;

use q2c_service::messaging::{QueueClient, QueueError, ReceivedMessage};
use q2c_service::ports::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use crate::error::ResultExt;
use crate::store::SqliteStore;
use crate::time_codec::{decode, encode};

mod client;

pub(crate) use client::refusal;

/// Default `maxReceiveCount` of every template queue (as `MaxReceiveCount` in the template).
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 5;
/// Retention of a queue created by [`SqliteQueues::configure_queue`]: 4 days, as SQS's default
/// and the template's source queues.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(4 * 24 * 3600);

/// The embedded queue engine over a [`SqliteStore`]'s database. Cheap to clone.
#[derive(Clone)]
pub struct SqliteQueues {
    store: SqliteStore,
}

impl SqliteQueues {
    /// The queues of `store`'s database: the template's queues and DLQs exist from the
    /// migration on.
    pub fn new(store: &SqliteStore) -> Self {
        SqliteQueues {
            store: store.clone(),
        }
    }

    /// This engine as the [`QueueClient`] port.
    pub fn queue_client(&self) -> Arc<dyn QueueClient> {
        Arc::new(self.clone())
    }

    /// Creates `name` (or changes it) with the given DLQ and `maxReceiveCount`; a new queue
    /// keeps messages [`DEFAULT_RETENTION`].
    ///
    /// # Errors
    /// [`QueueError::Backend`] when SQLite fails.
    pub async fn configure_queue(
        &self,
        name: &str,
        dlq: Option<&str>,
        max_receive_count: u32,
    ) -> Result<(), QueueError> {
        let (name, dlq) = (name.to_owned(), dlq.map(str::to_owned));
        self.write(move |conn| {
            let retention = i64::try_from(DEFAULT_RETENTION.as_secs()).unwrap_or(i64::MAX);
            conn.execute(
                "INSERT INTO queues (name, dlq, max_receive_count, retention_seconds)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET dlq = ?2, max_receive_count = ?3",
                params![name, dlq, max_receive_count, retention],
            )
            .store()?;
            Ok(Ok(()))
        })
        .await
    }

    /// Deletes messages sent longer ago than their queue's retention (a redriven message
    /// keeps its original send time, as on SQS); returns how many.
    ///
    /// # Errors
    /// [`QueueError::Backend`] when SQLite fails.
    pub async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, QueueError> {
        let now = encode(now);
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached(
                    "DELETE FROM queue_messages WHERE sent_at < ?1 - 1000000000 *
                         (SELECT retention_seconds FROM queues WHERE name = queue_messages.queue)",
                )
                .store()?
                .execute([now])
                .store()?;
            Ok(Ok(u64::try_from(deleted).unwrap_or(u64::MAX)))
        })
        .await
    }

    /// Every queue with its dead-letter queue, by name (for `q2c dlq list`).
    ///
    /// # Errors
    /// [`QueueError::Backend`] when SQLite fails.
    pub async fn list_queues(&self) -> Result<Vec<LocalQueue>, QueueError> {
        self.write(|conn| {
            let mut statement = conn
                .prepare_cached("SELECT name, dlq FROM queues ORDER BY name")
                .store()?;
            let rows = statement
                .query_map([], |r| {
                    Ok(LocalQueue {
                        name: r.get(0)?,
                        dead_letter_queue: r.get(1)?,
                    })
                })
                .store()?;
            Ok(Ok(rows.collect::<Result<Vec<_>, _>>().store()?))
        })
        .await
    }

    /// Deletes every message of `queue` (SQS `PurgeQueue`); returns how many.
    ///
    /// # Errors
    /// [`QueueError::UnknownQueue`], or [`QueueError::Backend`] when SQLite fails.
    pub async fn purge(&self, queue: &str) -> Result<u64, QueueError> {
        self.on_queue(queue, |conn, row| {
            let deleted = conn
                .prepare_cached("DELETE FROM queue_messages WHERE queue = ?1")
                .store()?
                .execute([row.name])
                .store()?;
            Ok(Ok(u64::try_from(deleted).unwrap_or(u64::MAX)))
        })
        .await
    }

    /// When the oldest message of `queue` was sent (`None` when it is empty); SQS's
    /// `ApproximateAgeOfOldestMessage` is `now` minus this.
    ///
    /// # Errors
    /// [`QueueError::UnknownQueue`], or [`QueueError::Backend`] when SQLite fails.
    pub async fn oldest_sent_at(&self, queue: &str) -> Result<Option<OffsetDateTime>, QueueError> {
        self.on_queue(queue, |conn, row| {
            let oldest: Option<i64> = conn
                .prepare_cached("SELECT MIN(sent_at) FROM queue_messages WHERE queue = ?1")
                .store()?
                .query_row([row.name], |r| r.get(0))
                .store()?;
            Ok(Ok(oldest.map(decode)))
        })
        .await
    }

    /// The `failureReason` attributes of `queue`'s messages with how many carry each, most
    /// frequent first (messages without one count under `None`): exact, unlike the sample
    /// SQS allows.
    ///
    /// # Errors
    /// [`QueueError::UnknownQueue`], or [`QueueError::Backend`] when SQLite fails.
    pub async fn failure_reasons(
        &self,
        queue: &str,
    ) -> Result<Vec<(Option<String>, u64)>, QueueError> {
        self.on_queue(queue, |conn, row| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT json_extract(attributes, '$.failureReason') AS reason, COUNT(*) AS n
                     FROM queue_messages WHERE queue = ?1 GROUP BY reason
                     ORDER BY n DESC, reason",
                )
                .store()?;
            let rows = statement
                .query_map([row.name], |r| {
                    let n: i64 = r.get(1)?;
                    Ok((r.get(0)?, u64::try_from(n).unwrap_or(0)))
                })
                .store()?;
            Ok(Ok(rows.collect::<Result<Vec<_>, _>>().store()?))
        })
        .await
    }

    /// Which of `message_ids` are in `queue` now (visible or in flight): a lookup by the
    /// unique message id, receiving nothing.
    ///
    /// # Errors
    /// [`QueueError::UnknownQueue`], or [`QueueError::Backend`] when SQLite fails.
    pub async fn still_queued(
        &self,
        queue: &str,
        message_ids: &[String],
    ) -> Result<std::collections::BTreeSet<String>, QueueError> {
        let ids = message_ids.to_vec();
        self.on_queue(queue, move |conn, row| {
            let mut found = std::collections::BTreeSet::new();
            let mut statement = conn
                .prepare_cached("SELECT 1 FROM queue_messages WHERE message_id = ?1 AND queue = ?2")
                .store()?;
            for id in ids {
                if statement
                    .query_row(params![id, row.name], |_| Ok(()))
                    .optional()
                    .store()?
                    .is_some()
                {
                    found.insert(id);
                }
            }
            Ok(Ok(found))
        })
        .await
    }

    /// Runs `work` on the writer thread with the queue's row; `UnknownQueue` when absent.
    async fn on_queue<T, F>(&self, queue: &str, work: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, QueueRow) -> Result<Result<T, QueueError>, StoreError>
            + Send
            + 'static,
    {
        let queue = queue.to_owned();
        self.write(move |conn| match queue_row(conn, &queue)? {
            Some(row) => work(conn, row),
            None => Ok(Err(QueueError::UnknownQueue(queue))),
        })
        .await
    }

    async fn write<T, F>(&self, work: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Result<T, QueueError>, StoreError> + Send + 'static,
    {
        match self.store.write(work).await {
            Ok(result) => result,
            Err(error) => Err(QueueError::Backend(Box::new(error))),
        }
    }

    /// One receive attempt without waiting.
    async fn receive_now(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.on_queue(queue, move |conn, row| {
            let now = OffsetDateTime::now_utc();
            let mut received = Vec::new();
            // A message is delivered at most once per receive, even with a zero visibility
            // timeout (it stays visible): as on SQS.
            let mut delivered = std::collections::HashSet::new();
            while received.len() < max {
                let ready =
                    ready_messages(conn, &row.name, max - received.len() + delivered.len(), now)?;
                let mut redriven = false;
                let mut fresh = false;
                for (seq, message) in ready {
                    if received.len() == max || delivered.contains(&seq) {
                        continue;
                    }
                    fresh = true;
                    match &row.dlq {
                        Some(dlq) if i64::from(message.receive_count) >= row.max_receive_count => {
                            redrive(conn, seq, dlq, now)?;
                            redriven = true;
                        }
                        _ => {
                            delivered.insert(seq);
                            received.push(deliver(conn, seq, message, now + visibility)?);
                        }
                    }
                }
                // Another pass only when redrives made room for more.
                if !fresh || !redriven {
                    break;
                }
            }
            Ok(Ok(received))
        })
        .await
    }
}

/// A queue of the engine and where its messages go after `maxReceiveCount` receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalQueue {
    /// The queue's name.
    pub name: String,
    /// Its dead-letter queue, when it has one.
    pub dead_letter_queue: Option<String>,
}

/// The name, DLQ and `maxReceiveCount` of a queue.
struct QueueRow {
    name: String,
    dlq: Option<String>,
    max_receive_count: i64,
}

fn queue_row(conn: &Connection, queue: &str) -> Result<Option<QueueRow>, StoreError> {
    conn.prepare_cached("SELECT name, dlq, max_receive_count FROM queues WHERE name = ?1")
        .store()?
        .query_row([queue], |r| {
            Ok(QueueRow {
                name: r.get(0)?,
                dlq: r.get(1)?,
                max_receive_count: r.get(2)?,
            })
        })
        .optional()
        .store()
}

/// Up to `limit` visible messages, oldest first, with their `seq`.
fn ready_messages(
    conn: &Connection,
    queue: &str,
    limit: usize,
    now: OffsetDateTime,
) -> Result<Vec<(i64, ReceivedMessage)>, StoreError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT seq, message_id, body, attributes, sent_at, receive_count
             FROM queue_messages WHERE queue = ?1 AND visible_at <= ?2 ORDER BY seq LIMIT ?3",
        )
        .store()?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = statement
        .query(params![queue, encode(now), limit])
        .store()?;
    let mut ready = Vec::new();
    while let Some(row) = rows.next().store()? {
        let attributes: String = row.get(3).store()?;
        let message = ReceivedMessage {
            message_id: row.get(1).store()?,
            receipt_handle: String::new(),
            body: row.get(2).store()?,
            attributes: serde_json::from_str(&attributes).store()?,
            receive_count: row.get(5).store()?,
            sent_at: decode(row.get(4).store()?),
        };
        ready.push((row.get(0).store()?, message));
    }
    Ok(ready)
}

/// Moves a message to `dlq`, visible at once, keeping its id and receive count.
fn redrive(conn: &Connection, seq: i64, dlq: &str, now: OffsetDateTime) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE queue_messages SET queue = ?2, visible_at = ?3, receipt_handle = NULL
         WHERE seq = ?1",
    )
    .store()?
    .execute(params![seq, dlq, encode(now)])
    .store()?;
    Ok(())
}

/// Hides a message until `deadline` with a fresh receipt handle and counts the receive.
fn deliver(
    conn: &Connection,
    seq: i64,
    mut message: ReceivedMessage,
    deadline: OffsetDateTime,
) -> Result<ReceivedMessage, StoreError> {
    let handle = uuid::Uuid::new_v4().to_string();
    conn.prepare_cached(
        "UPDATE queue_messages SET receive_count = receive_count + 1, visible_at = ?2,
             receipt_handle = ?3 WHERE seq = ?1",
    )
    .store()?
    .execute(params![seq, encode(deadline), handle])
    .store()?;
    message.receive_count += 1;
    message.receipt_handle = handle;
    Ok(message)
}
