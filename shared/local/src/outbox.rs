//! The transactional outbox: events are inserted by the quote writes in their own
//! transaction ([`insert_events`]); the relay reads them in `seq` order with
//! [`OutboxStore`], marks them published (moving the tenant's open-quote count,
//! `q2c_service::quotas`, in the same transaction), and housekeeping purges them later.

use async_trait::async_trait;
use q2c_service::ports::{Destination, OutboxEvent, OutboxStore, StoreError, write_limits};
use q2c_service::quotas::open_quote_delta;
use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;

use crate::error::{CodecError, ResultExt, backend};
use crate::store::SqliteStore;
use crate::time_codec;

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
    Destination::ALL
        .into_iter()
        .find(|d| d.queue_name() == name)
        .ok_or_else(|| {
            backend(CodecError::UnexpectedValue {
                column: "destination",
                value: name.to_owned(),
            })
        })
}

fn decode(row: &Row<'_>) -> Result<OutboxEvent, StoreError> {
    let destination_name: String = row.get(6).store()?;
    let body: String = row.get(7).store()?;
    Ok(OutboxEvent {
        event_id: row.get(0).store()?,
        event_type: row.get(1).store()?,
        tenant: row.get(2).store()?,
        aggregate_id: row.get(3).store()?,
        correlation_id: row.get(4).store()?,
        schema_version: row.get(5).store()?,
        destination: destination(&destination_name)?,
        body: serde_json::from_str(&body).store()?,
        created_at: time_codec::decode(row.get(8).store()?),
    })
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        let limit = time_codec::int(u64::try_from(limit).unwrap_or(u64::MAX));
        self.read(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT event_id, event_type, tenant, aggregate_id, correlation_id,
                         schema_version, destination, body, created_at
                     FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?1",
                )
                .store()?;
            let mut rows = statement.query([limit]).store()?;
            let mut events = Vec::new();
            while let Some(row) = rows.next().store()? {
                events.push(decode(row)?);
            }
            Ok(events)
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
            .map(|e| {
                let delta = open_quote_delta(e).map(|(tenant, d)| (tenant.to_owned(), d));
                (e.event_id.clone(), delta)
            })
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
                    conn.prepare_cached(
                        "INSERT INTO open_quote_counts (tenant, open) VALUES (?1, ?2)
                         ON CONFLICT (tenant) DO UPDATE SET open = open + ?2",
                    )
                    .store()?
                    .execute(params![tenant, delta])
                    .store()?;
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
