//! The open-quote index: which non-final quotes, in any tenant, use a catalog price or hold
//! an offering. The fan-out pages through it instead of scanning quotes.

use q2c_service::context::TenantId;
use q2c_service::ports::StoreError;
use rusqlite::params;

use crate::error::{ResultExt, backend};
use crate::store::SqliteStore;
use crate::time_codec;

/// An open quote that uses a catalog price (one row of the open-quote index).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpenQuoteRef {
    /// The quote's tenant.
    pub tenant: TenantId,
    /// The quote id.
    pub quote_id: String,
}

impl SqliteStore {
    /// Open (not accepted, rejected or cancelled) quotes of any tenant that use the catalog
    /// price `price_id`, ordered by tenant then quote id, at most `limit`, starting after
    /// `after` (the last item of the previous page).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when SQLite fails.
    pub async fn open_quotes_by_price(
        &self,
        price_id: &str,
        after: Option<OpenQuoteRef>,
        limit: usize,
    ) -> Result<Vec<OpenQuoteRef>, StoreError> {
        self.index_page(
            "SELECT tenant, quote_id FROM open_quote_prices
             WHERE price_id = ?1 AND (tenant, quote_id) > (?2, ?3)
             ORDER BY tenant, quote_id LIMIT ?4",
            price_id,
            after,
            limit,
        )
        .await
    }

    /// Open quotes of any tenant with an item (nested ones too) for `offering_id`, ordered
    /// and paged like [`SqliteStore::open_quotes_by_price`].
    ///
    /// # Errors
    /// [`StoreError::Backend`] when SQLite fails.
    pub async fn open_quotes_by_offering_id(
        &self,
        offering_id: &str,
        after: Option<OpenQuoteRef>,
        limit: usize,
    ) -> Result<Vec<OpenQuoteRef>, StoreError> {
        self.index_page(
            "SELECT tenant, quote_id FROM open_quote_offerings
             WHERE offering_id = ?1 AND (tenant, quote_id) > (?2, ?3)
             ORDER BY tenant, quote_id LIMIT ?4",
            offering_id,
            after,
            limit,
        )
        .await
    }

    /// Runs one of the index queries above (`sql` is a constant, never user input).
    async fn index_page(
        &self,
        sql: &'static str,
        key: &str,
        after: Option<OpenQuoteRef>,
        limit: usize,
    ) -> Result<Vec<OpenQuoteRef>, StoreError> {
        let price_id = key.to_owned();
        let limit = time_codec::int(u64::try_from(limit).unwrap_or(u64::MAX));
        self.read(move |conn| {
            let (after_tenant, after_id) = after
                .map(|a| (a.tenant.as_str().to_owned(), a.quote_id))
                .unwrap_or_default();
            // ("", "") sorts before every real key, so it stands for "from the start".
            let mut statement = conn.prepare_cached(sql).store()?;
            let mut rows = statement
                .query(params![price_id, after_tenant, after_id, limit])
                .store()?;
            let mut found = Vec::new();
            while let Some(row) = rows.next().store()? {
                let tenant: String = row.get(0).store()?;
                found.push(OpenQuoteRef {
                    tenant: TenantId::parse(&tenant).map_err(backend)?,
                    quote_id: row.get(1).store()?,
                });
            }
            Ok(found)
        })
        .await
    }
}
