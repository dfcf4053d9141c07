//! `GET /quote` on SQLite: the page and the total count come from one read transaction with
//! the same WHERE clause, so they agree. Each filter combination is one SQL shape, cached as
//! a prepared statement; every shape leads with `tenant`, so it uses an index, never a scan
//! of other tenants' rows.

use q2c_service::context::TenantId;
use q2c_service::ports::{Listing, Page, QuoteFilter, StoreError, StoredQuote};
use rusqlite::Connection;
use rusqlite::types::Value;

use crate::error::ResultExt;
use crate::quote_row::{QUOTE_COLUMNS, decode, state_name};
use crate::time_codec;

/// A list request, owned so it can move to the blocking pool.
pub(crate) struct ListQuery {
    where_clause: String,
    params: Vec<Value>,
    limit: i64,
    offset: i64,
}

impl ListQuery {
    /// Builds the WHERE clause and its parameters for `filter` in `tenant`.
    pub(crate) fn new(tenant: &TenantId, filter: &QuoteFilter, page: Page) -> ListQuery {
        let mut where_clause = String::from("q.tenant = ?1");
        let mut params = vec![Value::Text(tenant.as_str().to_owned())];
        let mut add = |condition: &str, value: Value| {
            params.push(value);
            where_clause.push_str(&format!(" AND {condition} ?{}", params.len()));
        };
        if let Some(state) = filter.state {
            add("q.state =", Value::Text(state_name(state).to_owned()));
        }
        if let Some(external_id) = &filter.external_id {
            add("q.external_id =", Value::Text(external_id.clone()));
        }
        if let Some(gte) = filter.quote_date_gte {
            add("q.quote_date >=", Value::Integer(time_codec::encode(gte)));
        }
        if let Some(lt) = filter.quote_date_lt {
            add("q.quote_date <", Value::Integer(time_codec::encode(lt)));
        }
        if let Some(party) = &filter.related_party_id {
            add(
                "q.id IN (SELECT p.quote_id FROM quote_parties p \
                 WHERE p.tenant = ?1 AND p.party_id =",
                Value::Text(party.clone()),
            );
            where_clause.push(')');
        }
        ListQuery {
            where_clause,
            params,
            limit: time_codec::int(page.limit),
            offset: time_codec::int(page.offset),
        }
    }

    /// Runs the count and the page query in one read transaction.
    pub(crate) fn run(self, conn: &mut Connection) -> Result<Listing<StoredQuote>, StoreError> {
        let tx = conn.transaction().store()?;
        let total: i64 = tx
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM quotes q WHERE {}",
                self.where_clause
            ))
            .store()?
            .query_row(rusqlite::params_from_iter(&self.params), |row| row.get(0))
            .store()?;
        let n = self.params.len();
        let sql = format!(
            "SELECT {QUOTE_COLUMNS} FROM quotes q WHERE {} \
             ORDER BY q.quote_date DESC, q.id LIMIT ?{} OFFSET ?{}",
            self.where_clause,
            n + 1,
            n + 2
        );
        let mut statement = tx.prepare_cached(&sql).store()?;
        let params = self
            .params
            .iter()
            .cloned()
            .chain([Value::Integer(self.limit), Value::Integer(self.offset)]);
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .store()?;
        let mut items = Vec::new();
        while let Some(row) = rows.next().store()? {
            items.push(decode(row)?);
        }
        Ok(Listing {
            items,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}
