//! The open-quote index: which non-final quotes, in any tenant, use a catalog price or hold
//! an offering. The fan-out pages through it instead of scanning quotes
//! ([`OpenQuoteIndex`](q2c_service::fanout::OpenQuoteIndex) in `fanout.rs`).

use q2c_service::context::TenantId;
use q2c_service::fanout::{FanoutCursor, IndexKey, OpenQuote};
use q2c_service::ports::StoreError;
use rusqlite::params;

use crate::error::{ResultExt, backend};
use crate::store::SqliteStore;
use crate::time_codec;

impl SqliteStore {
    /// Up to `limit` open quotes of `key`, ordered by tenant then quote id, after `after`
    /// (from the start when `None`).
    pub(crate) async fn open_quote_rows(
        &self,
        key: IndexKey<'_>,
        after: Option<&FanoutCursor>,
        limit: usize,
    ) -> Result<Vec<OpenQuote>, StoreError> {
        // Constant SQL per key, never user input.
        let (sql, key) = match key {
            IndexKey::Price(price_id) => (
                "SELECT tenant, quote_id FROM open_quote_prices
                 WHERE price_id = ?1 AND (tenant, quote_id) > (?2, ?3)
                 ORDER BY tenant, quote_id LIMIT ?4",
                price_id.to_owned(),
            ),
            IndexKey::Offering(offering_id) => (
                "SELECT tenant, quote_id FROM open_quote_offerings
                 WHERE offering_id = ?1 AND (tenant, quote_id) > (?2, ?3)
                 ORDER BY tenant, quote_id LIMIT ?4",
                offering_id.to_owned(),
            ),
        };
        // ("", "") sorts before every real key, so it stands for "from the start".
        let (after_tenant, after_id) = after.map_or(("", ""), FanoutCursor::parts);
        let (after_tenant, after_id) = (after_tenant.to_owned(), after_id.to_owned());
        let limit = time_codec::int(u64::try_from(limit).unwrap_or(u64::MAX));
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(sql).store()?;
            let mut rows = statement
                .query(params![key, after_tenant, after_id, limit])
                .store()?;
            let mut found = Vec::new();
            while let Some(row) = rows.next().store()? {
                let tenant: String = row.get(0).store()?;
                found.push(OpenQuote {
                    tenant: TenantId::parse(&tenant).map_err(backend)?,
                    quote_id: row.get(1).store()?,
                });
            }
            Ok(found)
        })
        .await
    }
}
