//! [`OpenQuoteCounts`] on SQLite: one row per tenant in `open_quote_counts`, moved by the
//! relay's `mark_published` in the transaction that marks the event (see
//! `q2c_service::quotas`). Reading it is one primary-key lookup, whatever the tenant's size.

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::ports::StoreError;
use q2c_service::quotas::OpenQuoteCounts;
use rusqlite::OptionalExtension;

use crate::error::ResultExt;
use crate::store::SqliteStore;

#[async_trait]
impl OpenQuoteCounts for SqliteStore {
    async fn open_quotes(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let tenant = tenant.as_str().to_owned();
        self.read(move |conn| {
            let open: Option<i64> = conn
                .prepare_cached("SELECT open FROM open_quote_counts WHERE tenant = ?1")
                .store()?
                .query_row([tenant], |row| row.get(0))
                .optional()
                .store()?;
            Ok(u64::try_from(open.unwrap_or(0)).unwrap_or(0))
        })
        .await
    }
}
