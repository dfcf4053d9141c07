//! The transactional outbox: events are inserted by the quote writes in their own
//! transaction ([`insert_events`]); the relay reads them in `seq` order with
//! [`OutboxStore`], marks them published (moving the tenant's open-quote count,
//! `q2c_service::quotas`, in the same transaction), and housekeeping purges them later.

use async_trait::async_trait;
use q2c_service::ports::{
    Destination, OutboxEvent, OutboxStore, ParkedEvent, PendingEvent, StoreError, UndecodableEvent,
    write_limits,
};
use q2c_service::quotas::open_quote_delta;
use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;

use crate::error::{CodecError, ResultExt, backend};
use crate::store::SqliteStore;
use crate::time_codec;

mod relay;

/// The columns of one outbox row, encoded before entering the blocking pool.
pub(crate) struct EventRow {
    event_id: String,
    destination: &'static str,
    tenant: Option<String>,
    event_type: String,
    aggregate_id: String,
    correlation_id: Option<String>,
    schema_version: String,
    body: String,
    created_at: i64,
}

impl EventRow {
    /// Encodes the events of one write.
    pub(crate) fn encode_all(events: &[OutboxEvent]) -> Result<Vec<EventRow>, StoreError> {
        events
            .iter()
            .map(|e| {
                let body = serde_json::to_string(&e.body).store()?;
                write_limits::event(&body).map_err(StoreError::Limit)?;
                Ok(EventRow {
                    event_id: e.event_id.clone(),
                    destination: e.destination.queue_name(),
                    tenant: e.tenant.clone(),
                    event_type: e.event_type.clone(),
                    aggregate_id: e.aggregate_id.clone(),
                    correlation_id: e.correlation_id.clone(),
                    schema_version: e.schema_version.clone(),
                    body,
                    created_at: time_codec::encode(e.created_at),
                })
            })
            .collect()
    }
}

/// Inserts events inside the caller's transaction. A duplicate `event_id` fails the whole
/// write: ids are unique per change, so a repeat means a bug upstream.
pub(crate) fn insert_events(conn: &Connection, events: &[EventRow]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut statement = conn
        .prepare_cached(
            "INSERT INTO outbox (event_id, destination, tenant, event_type, aggregate_id,
                 correlation_id, schema_version, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .store()?;
    for e in events {
        statement
            .execute(params![
                e.event_id,
                e.destination,
                e.tenant,
                e.event_type,
                e.aggregate_id,
                e.correlation_id,
                e.schema_version,
                e.body,
                e.created_at,
            ])
            .store()?;
    }
    Ok(())
}

fn destination(name: &str) -> Result<Destination, StoreError> {
    Destination::from_queue_name(name).ok_or_else(|| {
        backend(CodecError::UnexpectedValue {
            column: "destination",
            value: name.to_owned(),
        })
    })
}

/// The columns of a pending row, read as stored (text), before decoding.
struct RawRow {
    event_id: String,
    event_type: String,
    tenant: Option<String>,
    aggregate_id: String,
    correlation_id: Option<String>,
    schema_version: String,
    destination: String,
    body: String,
    created_at: i64,
    attempts: i64,
}

fn read_raw(row: &Row<'_>) -> Result<RawRow, StoreError> {
    Ok(RawRow {
        event_id: row.get(0).store()?,
        event_type: row.get(1).store()?,
        tenant: row.get(2).store()?,
        aggregate_id: row.get(3).store()?,
        correlation_id: row.get(4).store()?,
        schema_version: row.get(5).store()?,
        destination: row.get(6).store()?,
        body: row.get(7).store()?,
        created_at: row.get(8).store()?,
        attempts: row.get(9).store()?,
    })
}

/// A pending row as the relay takes it: decoded, or (a body that does not parse, an unknown
/// destination) undecodable with its body as stored, never an error for the whole read.
fn decode(raw: RawRow) -> PendingEvent {
    let parsed = destination(&raw.destination).and_then(|destination| {
        let body = serde_json::from_str(&raw.body).store()?;
        Ok((destination, body))
    });
    match parsed {
        Ok((destination, body)) => PendingEvent::Ready {
            event: OutboxEvent {
                event_id: raw.event_id,
                event_type: raw.event_type,
                tenant: raw.tenant,
                aggregate_id: raw.aggregate_id,
                correlation_id: raw.correlation_id,
                schema_version: raw.schema_version,
                destination,
                body,
                created_at: time_codec::decode(raw.created_at),
            },
            attempts: u32::try_from(raw.attempts).unwrap_or(u32::MAX),
        },
        Err(error) => PendingEvent::Undecodable(UndecodableEvent {
            destination: Destination::from_queue_name(&raw.destination),
            event_id: raw.event_id,
            event_type: Some(raw.event_type),
            tenant: raw.tenant,
            body: raw.body,
            reason: error_chain(&error),
        }),
    }
}

/// An error and its sources, one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The open-quote count change of an event, by tenant.
fn delta_of(event: &OutboxEvent) -> Option<(String, i64)> {
    open_quote_delta(event).map(|(tenant, d)| (tenant.to_owned(), d))
}

/// Moves `tenant`'s open-quote count by `delta` (inside the caller's transaction).
fn move_count(conn: &Connection, tenant: &str, delta: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO open_quote_counts (tenant, open) VALUES (?1, ?2)
         ON CONFLICT (tenant) DO UPDATE SET open = open + ?2",
    )
    .store()?
    .execute(params![tenant, delta])
    .store()?;
    Ok(())
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn pending_entries(&self, limit: usize) -> Result<Vec<PendingEvent>, StoreError> {
        let limit = time_codec::int(u64::try_from(limit).unwrap_or(u64::MAX));
        self.read(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT event_id, event_type, tenant, aggregate_id, correlation_id,
                         schema_version, destination, body, created_at, attempts
                     FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?1",
                )
                .store()?;
            let mut rows = statement.query([limit]).store()?;
            let mut events = Vec::new();
            while let Some(row) = rows.next().store()? {
                events.push(decode(read_raw(row)?));
            }
            Ok(events)
        })
        .await
    }

    async fn record_refusals(&self, event_ids: &[String]) -> Result<(), StoreError> {
        let ids = event_ids.to_vec();
        self.write(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "UPDATE outbox SET attempts = attempts + 1
                     WHERE event_id = ?1 AND published_at IS NULL",
                )
                .store()?;
            for id in &ids {
                statement.execute([id]).store()?;
            }
            Ok(())
        })
        .await
    }

    async fn park(&self, events: &[ParkedEvent], now: OffsetDateTime) -> Result<(), StoreError> {
        let parks: Vec<(String, String, Option<(String, i64)>)> = events
            .iter()
            .map(|p| {
                let delta = p.event.as_ref().and_then(delta_of);
                (p.event_id.clone(), p.reason.clone(), delta)
            })
            .collect();
        let now = time_codec::encode(now);
        self.write(move |conn| {
            // Only a pending entry is parked, and only then does its count move (once).
            let mut park = conn
                .prepare_cached(
                    "UPDATE outbox SET published_at = ?2, parked_reason = ?3
                     WHERE event_id = ?1 AND published_at IS NULL",
                )
                .store()?;
            for (id, reason, delta) in &parks {
                let parked = park.execute(params![id, now, reason]).store()?;
                if let (1, Some((tenant, delta))) = (parked, delta) {
                    move_count(conn, tenant, *delta)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn oldest_pending(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        self.read(|conn| {
            let oldest: Option<i64> = conn
                .prepare_cached(
                    "SELECT created_at FROM outbox WHERE published_at IS NULL
                     ORDER BY seq LIMIT 1",
                )
                .store()?
                .query_row([], |row| row.get(0))
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    other => Err(other),
                })
                .store()?;
            Ok(oldest.map(time_codec::decode))
        })
        .await
    }

    async fn mark_published(
        &self,
        events: &[OutboxEvent],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let marks: Vec<(String, Option<(String, i64)>)> = events
            .iter()
            .map(|e| (e.event_id.clone(), delta_of(e)))
            .collect();
        let now = time_codec::encode(now);
        self.write(move |conn| {
            // Keeps the first publication time when the relay repeats itself; only that
            // first marking moves the tenant's open-quote count (same transaction).
            let mut mark = conn
                .prepare_cached(
                    "UPDATE outbox SET published_at = ?2
                     WHERE event_id = ?1 AND published_at IS NULL",
                )
                .store()?;
            for (id, delta) in &marks {
                let marked = mark.execute(params![id, now]).store()?;
                if let (1, Some((tenant, delta))) = (marked, delta) {
                    move_count(conn, tenant, *delta)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn purge_published(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let before = time_codec::encode(before);
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached(
                    "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ?1",
                )
                .store()?
                .execute([before])
                .store()?;
            Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
        })
        .await
    }
}
