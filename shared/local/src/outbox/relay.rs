//! The relay of `q2c local` in one transaction per batch: the outbox and the embedded queues
//! share the database, so a batch of pending events is enqueued on its queues **and** marked
//! published (or parked in its queue's `-dlq`) in one write of the writer thread, instead of
//! two writes (a send, then a mark) per ten events as the generic relay
//! (`q2c_service::relay::relay_entries`) does over the ports. See "Decision: the outbox" in
//! docs/architecture.md for the measurements.
//!
//! The guarantees of the generic relay hold, and more: an event reaches its queue exactly
//! when its outbox row is marked (one commit), so neither a crash nor a second relay can
//! enqueue it twice; within a batch, events are enqueued in outbox (`seq`) order, so a queue
//! receives them in write order. Entries are rendered exactly as the generic relay renders
//! them ([`prepare`]) before the write, so the writer thread only inserts and updates.
//! Parking (issue 14) is the generic relay's: an undecodable or unserialisable entry, or an
//! event the queue would refuse for good (over 1 MiB, more than ten attributes), goes to its
//! destination's dead-letter queue with the same message and reason, in the same write.
//! A queue never refuses an event transiently here (a failed write fails the whole batch,
//! which stays pending), so no refusal is counted.

use std::collections::HashMap;

use q2c_service::event_versions::SchemaMajor;
use q2c_service::messaging::{OutgoingMessage, dlq_name};
use q2c_service::ports::{OutboxEvent, StoreError};
use q2c_service::relay::{Parking, Prepared, RelayReport, prepare};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::{delta_of, move_count};
use crate::error::ResultExt;
use crate::queues::refusal;
use crate::store::SqliteStore;
use crate::time_codec;

/// One entry of a batch, ready for the write: the queue its message goes to, the message's
/// columns, how to mark the outbox row, and the open-quote count change that marking makes.
struct Move {
    event_id: String,
    queue: String,
    body: String,
    attributes: String,
    /// `Some(reason)` when parked.
    parked: Option<String>,
    delta: Option<(String, i64)>,
}

impl Move {
    fn send(event: &OutboxEvent, message: OutgoingMessage) -> Result<Move, StoreError> {
        Ok(Move {
            event_id: event.event_id.clone(),
            queue: event.destination.queue_name().to_owned(),
            attributes: serde_json::to_string(&message.attributes).store()?,
            body: message.body,
            parked: None,
            delta: delta_of(event),
        })
    }

    fn park(parking: Parking) -> Result<Move, StoreError> {
        Ok(Move {
            queue: dlq_name(parking.queue),
            attributes: serde_json::to_string(&parking.message.attributes).store()?,
            body: parking.message.body,
            delta: parking.parked.event.as_ref().and_then(delta_of),
            event_id: parking.parked.event_id,
            parked: Some(parking.parked.reason),
        })
    }
}

impl SqliteStore {
    /// Relays up to `limit` pending outbox entries, oldest first, in schema major `emit`, to
    /// this database's embedded queues in **one** write: each event's message is inserted on
    /// its destination queue and its outbox row marked published (moving the tenant's
    /// open-quote count) in the same transaction; what cannot be published is parked in the
    /// destination's `-dlq` (see the module doc). An entry whose queue does not exist stays
    /// pending (counted failed). When [`RelayReport::read`] equals `limit`, more may wait.
    ///
    /// # Errors
    /// [`StoreError`] when the outbox cannot be read or the write fails: then nothing of the
    /// batch was enqueued or marked, and the entries stay pending.
    pub async fn relay_batch(
        &self,
        limit: usize,
        emit: SchemaMajor,
    ) -> Result<RelayReport, StoreError> {
        use q2c_service::ports::OutboxStore;
        let entries = self.pending_entries(limit).await?;
        if entries.is_empty() {
            return Ok(RelayReport::default());
        }
        let moves = entries
            .into_iter()
            .map(|entry| match prepare(entry, emit) {
                Prepared::Send {
                    event,
                    attempts,
                    message,
                } => match refusal(&message) {
                    Some(code) => Move::park(Parking::refused(
                        event,
                        message,
                        code,
                        true,
                        attempts.saturating_add(1),
                    )),
                    None => Move::send(&event, message),
                },
                Prepared::Park(parking) => Move::park(parking),
            })
            .collect::<Result<Vec<Move>, StoreError>>()?;
        self.write(move |conn| apply(conn, &moves, OffsetDateTime::now_utc()))
            .await
    }
}

/// Enqueues and marks every move whose outbox row is still pending, in order.
fn apply(
    conn: &Connection,
    moves: &[Move],
    now: OffsetDateTime,
) -> Result<RelayReport, StoreError> {
    let now = time_codec::encode(now);
    let mut report = RelayReport::default();
    let mut known: HashMap<&str, bool> = HashMap::new();
    let mut mark = conn
        .prepare_cached(
            "UPDATE outbox SET published_at = ?2, parked_reason = ?3
             WHERE event_id = ?1 AND published_at IS NULL",
        )
        .store()?;
    let mut enqueue = conn
        .prepare_cached(
            "INSERT INTO queue_messages (queue, message_id, body, attributes, sent_at,
                 visible_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )
        .store()?;
    for m in moves {
        let exists = match known.get(m.queue.as_str()) {
            Some(exists) => *exists,
            None => {
                let exists = queue_exists(conn, &m.queue)?;
                known.insert(&m.queue, exists);
                exists
            }
        };
        if !exists {
            tracing::warn!(queue = %m.queue, event_id = %m.event_id, "no such embedded queue; outbox event left pending");
            report.failed += 1;
            continue;
        }
        // Only a pending row is enqueued, and only once: the mark and the message commit
        // together.
        if mark.execute(params![m.event_id, now, m.parked]).store()? == 0 {
            continue;
        }
        let id = uuid::Uuid::new_v4().to_string();
        enqueue
            .execute(params![m.queue, id, m.body, m.attributes, now])
            .store()?;
        if let Some((tenant, delta)) = &m.delta {
            move_count(conn, tenant, *delta)?;
        }
        if m.parked.is_some() {
            report.parked += 1;
        } else {
            report.published += 1;
        }
    }
    Ok(report)
}

fn queue_exists(conn: &Connection, queue: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM queues WHERE name = ?1")
        .store()?
        .query_row([queue], |_| Ok(()))
        .optional()
        .store()?
        .is_some())
}
