//! [`QuoteStore`] on SQLite. Each write is one `IMMEDIATE` transaction holding the quote
//! row, its index rows (see `quote_row`) and the outbox events announcing the change.

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::ports::{
    Listing, OutboxEvent, Page, QuoteFilter, QuoteStore, StoreError, StoredQuote,
};
use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use crate::error::ResultExt;
use crate::quote_row::{QUOTE_COLUMNS, QuoteRow, decode, delete_index_rows};
use crate::store::SqliteStore;
use crate::{outbox, quote_list, time_codec};

fn begin(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .store()
}

#[async_trait]
impl QuoteStore for SqliteStore {
    async fn insert(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let row = QuoteRow::encode(tenant, quote)?;
        let events = outbox::EventRow::encode_all(events)?;
        self.write(move |conn| {
            let tx = begin(conn)?;
            row.insert(&tx)?;
            row.insert_index_rows(&tx)?;
            outbox::insert_events(&tx, &events)?;
            tx.commit().store()
        })
        .await
    }

    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredQuote>, StoreError> {
        let (tenant, id) = (tenant.as_str().to_owned(), id.to_owned());
        self.read(move |conn| {
            let sql = format!("SELECT {QUOTE_COLUMNS} FROM quotes WHERE tenant = ?1 AND id = ?2");
            let mut statement = conn.prepare_cached(&sql).store()?;
            let mut rows = statement.query(params![tenant, id]).store()?;
            rows.next().store()?.map(decode).transpose()
        })
        .await
    }

    async fn update(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let row = QuoteRow::encode(tenant, quote)?;
        let events = outbox::EventRow::encode_all(events)?;
        let expected = time_codec::int(expected_version);
        self.write(move |conn| {
            let tx = begin(conn)?;
            row.update(&tx, expected)?;
            delete_index_rows(&tx, &row.tenant, &row.id)?;
            row.insert_index_rows(&tx)?;
            outbox::insert_events(&tx, &events)?;
            tx.commit().store()
        })
        .await
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let (tenant, id) = (tenant.as_str().to_owned(), id.to_owned());
        let events = outbox::EventRow::encode_all(events)?;
        let expected = time_codec::int(expected_version);
        self.write(move |conn| {
            let tx = begin(conn)?;
            let deleted = tx
                .prepare_cached("DELETE FROM quotes WHERE tenant = ?1 AND id = ?2 AND version = ?3")
                .store()?
                .execute(params![tenant, id, expected])
                .store()?;
            if deleted == 0 {
                return Err(StoreError::VersionConflict);
            }
            delete_index_rows(&tx, &tenant, &id)?;
            outbox::insert_events(&tx, &events)?;
            tx.commit().store()
        })
        .await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        page: Page,
    ) -> Result<Listing<StoredQuote>, StoreError> {
        let query = quote_list::ListQuery::new(tenant, filter, page);
        self.read(move |conn| query.run(conn)).await
    }
}
