//! The price fan-out's ports on SQLite: [`PriceCatalogWriter`] and
//! [`OfferingCatalogWriter`] (a change applied in one write-thread transaction only when its
//! `lastUpdate` is newer; deletes keep the row as a tombstone, `deleted = 1`) and
//! [`OpenQuoteIndex`] (pages of the `open_quote_prices` / `open_quote_offerings` tables,
//! cursor `<tenant>#<quoteId>`).

use async_trait::async_trait;
use q2c_service::fanout::{
    ApplyOutcome, IndexPage, OfferingCatalogWriter, OfferingChange, OpenQuoteIndex, OpenQuotePage,
    PriceCatalogWriter, PriceChange, PriceChangeKind,
};
use q2c_service::ports::StoreError;
use rusqlite::{OptionalExtension, params};

use crate::error::ResultExt;
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
    async fn open_quotes(&self, page: IndexPage<'_>) -> Result<OpenQuotePage, StoreError> {
        // One row more than asked tells whether more follow.
        let found = self
            .open_quote_rows(page.key, page.after, page.limit.saturating_add(1))
            .await?;
        Ok(OpenQuotePage::from_overfetch(found, page.limit))
    }
}
