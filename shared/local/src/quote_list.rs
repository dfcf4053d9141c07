//! `GET /quote` on SQLite: the page and the total count come from one read transaction with
//! the same WHERE clause, so they agree. Each filter combination is one SQL shape, cached as
//! a prepared statement; every shape leads with `tenant`, so it uses an index, never a scan
//! of other tenants' rows.

use q2c_service::context::TenantId;
use q2c_service::listing::{Scan, Scanned};
use q2c_service::ports::{Listing, Page, QuoteFilter, StoreError, StoredQuote};
use rusqlite::Connection;
use rusqlite::types::Value;

use crate::cursor::ScanQuery;
use crate::quote_row::{QUOTE_COLUMNS, decode};
use crate::store::listing;
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
        let (where_clause, params) = condition(tenant, filter);
        ListQuery {
            where_clause,
            params,
            limit: time_codec::int(page.limit),
            offset: time_codec::int(page.offset),
        }
    }

    /// The cursor scan of `filter` in `tenant` ([`crate::cursor`]).
    pub(crate) fn scan(
        conn: &Connection,
        tenant: &TenantId,
        filter: &QuoteFilter,
        scan: &Scan,
    ) -> Result<Scanned<StoredQuote>, StoreError> {
        let (where_clause, params) = condition(tenant, filter);
        ScanQuery {
            select: format!("SELECT {QUOTE_COLUMNS} FROM quotes q WHERE {where_clause}"),
            params,
            date: Some("q.quote_date"),
            id: "q.id",
            decode: &decode,
        }
        .run(conn, scan)
    }
}

/// The WHERE clause of `filter` in `tenant` and its parameters.
fn condition(tenant: &TenantId, filter: &QuoteFilter) -> (String, Vec<Value>) {
    let mut where_clause = String::from("q.tenant = ?1");
    let mut params = vec![Value::Text(tenant.as_str().to_owned())];
    let mut add = |condition: &str, value: Value| {
        params.push(value);
        where_clause.push_str(&format!(" AND {condition} ?{}", params.len()));
    };
    if let Some(state) = filter.state {
        add("q.state =", Value::Text(state.as_str().to_owned()));
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
    (where_clause, params)
}

impl ListQuery {
    fn count_sql(&self) -> String {
        format!("SELECT COUNT(*) FROM quotes q WHERE {}", self.where_clause)
    }

    fn page_sql(&self) -> String {
        let n = self.params.len();
        format!(
            "SELECT {QUOTE_COLUMNS} FROM quotes q WHERE {} \
             ORDER BY q.quote_date DESC, q.id LIMIT ?{} OFFSET ?{}",
            self.where_clause,
            n + 1,
            n + 2
        )
    }

    fn page_params(&self) -> Vec<Value> {
        let mut params = self.params.clone();
        params.extend([Value::Integer(self.limit), Value::Integer(self.offset)]);
        params
    }

    /// Runs the count and the page query in one read transaction.
    pub(crate) fn run(self, conn: &Connection) -> Result<Listing<StoredQuote>, StoreError> {
        listing(
            conn,
            (&self.count_sql(), rusqlite::params_from_iter(&self.params)),
            (
                &self.page_sql(),
                rusqlite::params_from_iter(self.page_params()),
            ),
            3,
            decode,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use crate::error::ResultExt;
    use q2c_model::tmf::QuoteState;
    use time::macros::datetime;

    /// Every combination of the five filters.
    fn all_filters() -> Vec<QuoteFilter> {
        (0..32_u32)
            .map(|bits| QuoteFilter {
                state: (bits & 1 != 0).then_some(QuoteState::Approved),
                related_party_id: (bits & 2 != 0).then(|| "party".to_owned()),
                external_id: (bits & 4 != 0).then(|| "crm".to_owned()),
                quote_date_gte: (bits & 8 != 0).then_some(datetime!(2026-01-01 0:00 UTC)),
                quote_date_lt: (bits & 16 != 0).then_some(datetime!(2026-02-01 0:00 UTC)),
            })
            .collect()
    }

    /// `EXPLAIN QUERY PLAN` details of the count and page queries of every filter.
    async fn plans(store: &SqliteStore) -> Vec<(String, Vec<String>)> {
        let tenant = TenantId::parse("acme").expect("tenant");
        let page = Page {
            offset: 0,
            limit: 10,
        };
        store
            .read(move |conn| {
                let mut plans = Vec::new();
                for filter in all_filters() {
                    let query = ListQuery::new(&tenant, &filter, page);
                    let count = (query.count_sql(), query.params.clone());
                    for (sql, params) in [count, (query.page_sql(), query.page_params())] {
                        let mut statement =
                            conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).store()?;
                        let details: Vec<String> = statement
                            .query_map(rusqlite::params_from_iter(params), |row| row.get(3))
                            .store()?
                            .collect::<Result<_, _>>()
                            .store()?;
                        plans.push((sql, details));
                    }
                }
                Ok(plans)
            })
            .await
            .expect("plans")
    }

    #[tokio::test]
    async fn every_filter_combination_searches_an_index_leading_with_tenant() {
        let store = SqliteStore::open_in_memory().expect("store");

        for (sql, details) in plans(&store).await {
            let on_quotes = details.iter().find(|d| d.starts_with("SEARCH q "));
            assert!(
                on_quotes.is_some_and(|d| d.contains("(tenant=?")),
                "{sql}\n{details:?}"
            );
            assert!(
                !details.iter().any(|d| d.starts_with("SCAN")),
                "{sql}\n{details:?}"
            );
        }
    }

    #[tokio::test]
    async fn the_unfiltered_page_reads_in_index_order_without_sorting() {
        let store = SqliteStore::open_in_memory().expect("store");

        let plans = plans(&store).await;

        let (sql, details) = &plans[1];
        assert!(
            !details.iter().any(|d| d.contains("TEMP B-TREE")),
            "{sql}\n{details:?}"
        );
    }
}
