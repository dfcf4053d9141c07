//! [`QuoteStore`] on SQLite. Each write (accepting too: quote, new order and events) is one atomic unit (a savepoint of the writer's
//! group commit) holding the quote row, its index rows (see `quote_row`) and the outbox
//! events announcing the change.

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::listing::{Scan, Scanned};
use q2c_service::orders::StoredOrder;
use q2c_service::ports::{
    Listing, OutboxEvent, Page, QuoteFilter, QuoteStore, StoreError, StoredQuote,
};
use rusqlite::params;

use crate::error::ResultExt;
use crate::orders::OrderRow;
use crate::quote_row::{QUOTE_COLUMNS, QuoteRow, decode, delete_index_rows};
use crate::store::SqliteStore;
use crate::{outbox, quote_list, time_codec};

/// Keys per `get_many` query: two parameters each, far below SQLite's limit.
const GET_MANY_CHUNK: usize = 250;

#[async_trait]
impl QuoteStore for SqliteStore {
    #[tracing::instrument(name = "sqlite.quotes.insert", skip_all, fields(tenant = %tenant, quote_id = quote.id()))]
    async fn insert(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let row = QuoteRow::encode(tenant, quote)?;
        let events = outbox::EventRow::encode_all(events)?;
        self.write(move |conn| {
            row.insert(conn)?;
            row.insert_index_rows(conn)?;
            outbox::insert_events(conn, &events)?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(name = "sqlite.quotes.get", skip_all, fields(tenant = %tenant, quote_id = id))]
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

    #[tracing::instrument(name = "sqlite.quotes.get_many", skip_all, fields(keys = keys.len()))]
    async fn get_many(
        &self,
        keys: &[(TenantId, String)],
    ) -> Result<Vec<Option<StoredQuote>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<(String, String)> = keys
            .iter()
            .map(|(tenant, id)| (tenant.as_str().to_owned(), id.clone()))
            .collect();
        self.read(move |conn| {
            let mut found = std::collections::HashMap::with_capacity(wanted.len());
            // One query per chunk of keys (row values), well under SQLite's parameter limit.
            for chunk in wanted.chunks(GET_MANY_CHUNK) {
                let placeholders = vec!["(?, ?)"; chunk.len()].join(", ");
                let sql = format!(
                    "SELECT {QUOTE_COLUMNS}, tenant FROM quotes WHERE (tenant, id) IN (VALUES {placeholders})"
                );
                let mut statement = conn.prepare(&sql).store()?;
                let parameters = chunk.iter().flat_map(|(tenant, id)| [tenant, id]);
                let mut rows = statement
                    .query(rusqlite::params_from_iter(parameters))
                    .store()?;
                while let Some(row) = rows.next().store()? {
                    // The tenant follows the decoded columns.
                    let tenant: String = row.get(4).store()?;
                    let quote = decode(row)?;
                    found.insert((tenant, quote.id().to_owned()), quote);
                }
            }
            Ok(wanted.iter().map(|key| found.get(key).cloned()).collect())
        })
        .await
    }

    #[tracing::instrument(name = "sqlite.quotes.update", skip_all, fields(tenant = %tenant, quote_id = quote.id(), expected_version))]
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
            row.replace(conn, expected)?;
            outbox::insert_events(conn, &events)?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(name = "sqlite.quotes.accept", skip_all, fields(tenant = %tenant, quote_id = quote.id(), order_id = order.id(), expected_version))]
    async fn accept(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        expected_version: u64,
        order: &StoredOrder,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let row = QuoteRow::encode(tenant, quote)?;
        let order_row = OrderRow::encode(tenant, order)?;
        order_row.check_new()?;
        let events = outbox::EventRow::encode_all(events)?;
        let expected = time_codec::int(expected_version);
        self.write(move |conn| {
            row.replace(conn, expected)?;
            order_row.insert(conn)?;
            outbox::insert_events(conn, &events)?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(name = "sqlite.quotes.delete", skip_all, fields(tenant = %tenant, quote_id = id, expected_version))]
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
            let deleted = conn
                .prepare_cached("DELETE FROM quotes WHERE tenant = ?1 AND id = ?2 AND version = ?3")
                .store()?
                .execute(params![tenant, id, expected])
                .store()?;
            if deleted == 0 {
                return Err(StoreError::VersionConflict);
            }
            delete_index_rows(conn, &tenant, &id)?;
            outbox::insert_events(conn, &events)?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(name = "sqlite.quotes.list", skip_all, fields(tenant = %tenant))]
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        page: Page,
    ) -> Result<Listing<StoredQuote>, StoreError> {
        let query = quote_list::ListQuery::new(tenant, filter, page);
        self.read(move |conn| query.run(conn)).await
    }

    #[tracing::instrument(name = "sqlite.quotes.scan", skip_all, fields(tenant = %tenant))]
    async fn scan(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        scan: Scan,
    ) -> Result<Scanned<StoredQuote>, StoreError> {
        let (tenant, filter) = (tenant.clone(), filter.clone());
        self.read(move |conn| quote_list::ListQuery::scan(conn, &tenant, &filter, &scan))
            .await
    }
}
