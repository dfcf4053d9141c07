//! [`IdempotencyStore`] on SQLite. A claim reads and writes the record in one `IMMEDIATE`
//! transaction, so two concurrent claims of a key cannot both win.

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::ports::{IdempotencyClaim, IdempotencyStore, StoreError, StoredResponse};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use time::OffsetDateTime;

use crate::error::ResultExt;
use crate::store::SqliteStore;
use crate::time_codec;

const IN_PROGRESS: &str = "in-progress";
const COMPLETED: &str = "completed";

/// A stored record, as far as claiming needs it.
struct Record {
    request_hash: String,
    status: String,
    in_progress_until: i64,
    expires_at: Option<i64>,
    response: Option<String>,
}

impl Record {
    /// Whether the record no longer counts at `now`: a completed record past its expiry,
    /// or a claim whose holder did not finish in time (it may be taken over).
    fn is_stale(&self, now: i64) -> bool {
        if self.status == COMPLETED {
            self.expires_at.is_some_and(|at| at <= now)
        } else {
            self.in_progress_until <= now
        }
    }
}

fn load(tx: &Transaction<'_>, tenant: &str, key: &str) -> Result<Option<Record>, StoreError> {
    tx.prepare_cached(
        "SELECT request_hash, status, in_progress_until, expires_at, response
         FROM idempotency WHERE tenant = ?1 AND key = ?2",
    )
    .store()?
    .query_row(params![tenant, key], |row| {
        Ok(Record {
            request_hash: row.get(0)?,
            status: row.get(1)?,
            in_progress_until: row.get(2)?,
            expires_at: row.get(3)?,
            response: row.get(4)?,
        })
    })
    .optional()
    .store()
}

/// Writes a fresh in-progress claim, replacing a stale record.
fn put_claim(
    tx: &Transaction<'_>,
    tenant: &str,
    key: &str,
    request_hash: &str,
    in_progress_until: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO idempotency (tenant, key, request_hash, status, in_progress_until)
         VALUES (?1, ?2, ?3, 'in-progress', ?4)
         ON CONFLICT (tenant, key) DO UPDATE SET request_hash = excluded.request_hash,
             status = 'in-progress', in_progress_until = excluded.in_progress_until,
             expires_at = NULL, response = NULL",
    )
    .store()?
    .execute(params![tenant, key, request_hash, in_progress_until])
    .store()?;
    Ok(())
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
        now: OffsetDateTime,
        in_progress_until: OffsetDateTime,
    ) -> Result<IdempotencyClaim, StoreError> {
        let (tenant, key) = (tenant.as_str().to_owned(), key.to_owned());
        let request_hash = request_hash.to_owned();
        let (now, until) = (
            time_codec::encode(now),
            time_codec::encode(in_progress_until),
        );
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .store()?;
            let outcome = match load(&tx, &tenant, &key)? {
                Some(record) if !record.is_stale(now) => {
                    if record.request_hash != request_hash {
                        IdempotencyClaim::Mismatch
                    } else if record.status == IN_PROGRESS {
                        IdempotencyClaim::InProgress
                    } else {
                        let response = record.response.unwrap_or_default();
                        IdempotencyClaim::Replay(serde_json::from_str(&response).store()?)
                    }
                }
                _ => {
                    put_claim(&tx, &tenant, &key, &request_hash, until)?;
                    IdempotencyClaim::Claimed
                }
            };
            tx.commit().store()?;
            Ok(outcome)
        })
        .await
    }

    async fn complete(
        &self,
        tenant: &TenantId,
        key: &str,
        response: &StoredResponse,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (tenant, key) = (tenant.as_str().to_owned(), key.to_owned());
        let response = serde_json::to_string(response).store()?;
        let expires_at = time_codec::encode(expires_at);
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE idempotency SET status = ?3, response = ?4, expires_at = ?5
                 WHERE tenant = ?1 AND key = ?2",
            )
            .store()?
            .execute(params![tenant, key, COMPLETED, response, expires_at])
            .store()?;
            Ok(())
        })
        .await
    }

    async fn release(&self, tenant: &TenantId, key: &str) -> Result<(), StoreError> {
        let (tenant, key) = (tenant.as_str().to_owned(), key.to_owned());
        self.write(move |conn| {
            // Only a claim is released; a completed response stays replayable.
            conn.prepare_cached(
                "DELETE FROM idempotency WHERE tenant = ?1 AND key = ?2 AND status = ?3",
            )
            .store()?
            .execute(params![tenant, key, IN_PROGRESS])
            .store()?;
            Ok(())
        })
        .await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let now = time_codec::encode(now);
        self.write(move |conn| {
            // Abandoned claims past their deadline count as absent on claim too, so
            // deleting them changes nothing a caller can observe.
            let deleted = conn
                .prepare_cached(
                    "DELETE FROM idempotency WHERE
                         (status = 'completed' AND expires_at <= ?1)
                      OR (status = 'in-progress' AND in_progress_until <= ?1)",
                )
                .store()?
                .execute([now])
                .store()?;
            Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
        })
        .await
    }
}
