//! The price fan-out's ports on SQLite: [`PriceCatalogWriter`] and
//! [`OfferingCatalogWriter`] (a change applied in one write-thread transaction only when its
//! `lastUpdate` is newer; deletes keep the row as a tombstone, `deleted = 1`) and
//! [`OpenQuoteIndex`] (pages of the `open_quote_prices` / `open_quote_offerings` tables,
//! cursor `<tenant>#<quoteId>`).

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::fanout::{
    ApplyOutcome, FanoutCursor, OfferingCatalogWriter, OfferingChange, OpenQuote, OpenQuoteIndex,
    OpenQuotePage, PriceCatalogWriter, PriceChange, PriceChangeKind,
};
use q2c_service::ports::StoreError;
use rusqlite::{OptionalExtension, params};

use crate::error::{ResultExt, backend};
use crate::open_quotes::OpenQuoteRef;
use crate::store::SqliteStore;
use crate::time_codec;

/// The catalog tables the fan-out writes; interpolated into SQL, never user input.
#[derive(Clone, Copy)]
enum CatalogTable {
    Offerings,
    Prices,
}

impl CatalogTable {
    fn select_last_update(self) -> &'static str {
        match self {
            CatalogTable::Offerings => "SELECT last_update FROM offerings WHERE id = ?1",
            CatalogTable::Prices => "SELECT last_update FROM prices WHERE id = ?1",
        }
    }

    fn upsert(self) -> &'static str {
        match self {
            CatalogTable::Offerings => {
                "INSERT INTO offerings (id, last_update, body, deleted) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET last_update = excluded.last_update,
                 body = excluded.body, deleted = excluded.deleted"
            }
            CatalogTable::Prices => {
                "INSERT INTO prices (id, last_update, body, deleted) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET last_update = excluded.last_update,
                 body = excluded.body, deleted = excluded.deleted"
            }
        }
    }
}

impl SqliteStore {
    /// Writes `body` as row `id` of `table` when `last_update` is newer than the stored one.
    async fn apply_catalog_change(
        &self,
        table: CatalogTable,
        id: String,
        last_update: time::OffsetDateTime,
        body: String,
        deleted: bool,
    ) -> Result<ApplyOutcome, StoreError> {
        let last_update = time_codec::encode(last_update);
        // Read and write in one savepoint of the single writer: no other write interleaves.
        self.write(move |conn| {
            let stored: Option<Option<i64>> = conn
                .prepare_cached(table.select_last_update())
                .store()?
                .query_row([&id], |row| row.get(0))
                .optional()
                .store()?;
            if let Some(Some(stored)) = stored {
                if stored == last_update {
                    return Ok(ApplyOutcome::AlreadyCurrent);
                }
                if stored > last_update {
                    return Ok(ApplyOutcome::Stale {
                        stored: time_codec::decode(stored),
                    });
                }
            }
            conn.prepare_cached(table.upsert())
                .store()?
                .execute(params![id, last_update, body, deleted])
                .store()?;
            Ok(ApplyOutcome::Applied)
        })
        .await
    }

    /// One page of an open-quote index table: `limit` + 1 rows read, to know whether more follow.
    async fn open_quote_page(
        &self,
        by_offering: bool,
        key: &str,
        after: Option<&FanoutCursor>,
        limit: usize,
    ) -> Result<OpenQuotePage, StoreError> {
        let after = after
            .map(|cursor| {
                let (tenant, quote_id) = cursor.parts();
                TenantId::parse(tenant)
                    .map(|tenant| OpenQuoteRef {
                        tenant,
                        quote_id: quote_id.to_owned(),
                    })
                    .map_err(backend)
            })
            .transpose()?;
        let wanted = limit.saturating_add(1);
        let mut found = if by_offering {
            self.open_quotes_by_offering_id(key, after, wanted).await?
        } else {
            self.open_quotes_by_price(key, after, wanted).await?
        };
        let more = found.len() > limit;
        found.truncate(limit);
        let next = if more {
            found
                .last()
                .map(|last| FanoutCursor::after(&last.tenant, &last.quote_id))
        } else {
            None
        };
        Ok(OpenQuotePage {
            quotes: found
                .into_iter()
                .map(|r| OpenQuote {
                    tenant: r.tenant,
                    quote_id: r.quote_id,
                })
                .collect(),
            next,
        })
    }
}

#[async_trait]
impl PriceCatalogWriter for SqliteStore {
    async fn apply_price_change(&self, change: &PriceChange) -> Result<ApplyOutcome, StoreError> {
        let body = serde_json::to_string(&change.price).store()?;
        self.apply_catalog_change(
            CatalogTable::Prices,
            change.price_id().to_owned(),
            change.last_update,
            body,
            change.kind == PriceChangeKind::Delete,
        )
        .await
    }
}

#[async_trait]
impl OfferingCatalogWriter for SqliteStore {
    async fn apply_offering_change(
        &self,
        change: &OfferingChange,
    ) -> Result<ApplyOutcome, StoreError> {
        let body = serde_json::to_string(&change.offering).store()?;
        self.apply_catalog_change(
            CatalogTable::Offerings,
            change.offering_id().to_owned(),
            change.last_update,
            body,
            change.kind == PriceChangeKind::Delete,
        )
        .await
    }
}

#[async_trait]
impl OpenQuoteIndex for SqliteStore {
    async fn open_quotes(
        &self,
        price_id: &str,
        after: Option<&FanoutCursor>,
        limit: usize,
    ) -> Result<OpenQuotePage, StoreError> {
        self.open_quote_page(false, price_id, after, limit).await
    }

    async fn open_quotes_by_offering(
        &self,
        offering_id: &str,
        after: Option<&FanoutCursor>,
        limit: usize,
    ) -> Result<OpenQuotePage, StoreError> {
        self.open_quote_page(true, offering_id, after, limit).await
    }
}
