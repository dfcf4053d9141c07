//! [`DispatchLog`] on SQLite: one row per (tenant, order). A claim reads and writes the row
//! in one write of the single writer thread, so two concurrent claims cannot both win.

use std::sync::Arc;

use async_trait::async_trait;
use q2c_service::dispatch::{DispatchClaim, DispatchLog, Dispatched, Lease, OrderKey};
use q2c_service::ports::StoreError;
use rusqlite::{OptionalExtension, params};

use crate::error::ResultExt;
use crate::store::SqliteStore;
use crate::time_codec;

const IN_PROGRESS: &str = "in-progress";
const DISPATCHED: &str = "dispatched";

impl SqliteStore {
    /// The order dispatch log.
    pub fn dispatch_log(&self) -> Arc<dyn DispatchLog> {
        Arc::new(self.clone())
    }
}

#[async_trait]
impl DispatchLog for SqliteStore {
    #[tracing::instrument(name = "sqlite.dispatch_log.claim", skip_all, fields(tenant = %order.tenant))]
    async fn claim(&self, order: OrderKey<'_>, lease: Lease) -> Result<DispatchClaim, StoreError> {
        let (tenant, order_id) = (order.tenant.as_str().to_owned(), order.order_id.to_owned());
        let (now, until) = (
            time_codec::encode(lease.now),
            time_codec::encode(lease.until),
        );
        self.write(move |conn| {
            let row: Option<(String, u32, i64, Option<String>)> = conn
                .prepare_cached(
                    "SELECT status, attempts, lease_until, downstream_id FROM dispatch_log
                     WHERE tenant = ?1 AND order_id = ?2",
                )
                .store()?
                .query_row(params![tenant, order_id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .optional()
                .store()?;
            let attempt = match row {
                Some((status, attempts, _, downstream_id)) if status == DISPATCHED => {
                    return Ok(DispatchClaim::AlreadyDispatched {
                        downstream_id,
                        attempts,
                    });
                }
                Some((_, _, lease, _)) if lease > now => {
                    return Ok(DispatchClaim::InProgress {
                        lease_until: time_codec::decode(lease),
                    });
                }
                Some((_, attempts, _, _)) => attempts + 1,
                None => 1,
            };
            conn.prepare_cached(
                "INSERT INTO dispatch_log (tenant, order_id, status, attempts, lease_until)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant, order_id) DO UPDATE SET
                     attempts = excluded.attempts, lease_until = excluded.lease_until",
            )
            .store()?
            .execute(params![tenant, order_id, IN_PROGRESS, attempt, until])
            .store()?;
            Ok(DispatchClaim::Claimed { attempt })
        })
        .await
    }

    async fn complete(&self, order: OrderKey<'_>, done: Dispatched<'_>) -> Result<(), StoreError> {
        let (tenant, order_id) = (order.tenant.as_str().to_owned(), order.order_id.to_owned());
        let downstream_id = done.downstream_id.map(str::to_owned);
        let now = time_codec::encode(done.at);
        self.write(move |conn| {
            // An upsert, so completing never fails; the first completion's data is kept.
            conn.prepare_cached(
                "INSERT INTO dispatch_log
                     (tenant, order_id, status, attempts, lease_until, downstream_id, dispatched_at)
                 VALUES (?1, ?2, ?3, 1, 0, ?4, ?5)
                 ON CONFLICT (tenant, order_id) DO UPDATE SET
                     status = excluded.status, lease_until = 0,
                     downstream_id = excluded.downstream_id,
                     dispatched_at = excluded.dispatched_at
                 WHERE dispatch_log.status <> ?3",
            )
            .store()?
            .execute(params![tenant, order_id, DISPATCHED, downstream_id, now])
            .store()?;
            Ok(())
        })
        .await
    }

    async fn release(&self, order: OrderKey<'_>, attempt: u32) -> Result<(), StoreError> {
        let (tenant, order_id) = (order.tenant.as_str().to_owned(), order.order_id.to_owned());
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE dispatch_log SET lease_until = 0
                 WHERE tenant = ?1 AND order_id = ?2 AND status = ?3 AND attempts = ?4",
            )
            .store()?
            .execute(params![tenant, order_id, IN_PROGRESS, attempt])
            .store()?;
            Ok(())
        })
        .await
    }
}
