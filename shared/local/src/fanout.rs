//! The price fan-out's ports on SQLite: [`PriceCatalogWriter`] (a price change applied in
//! one write-thread transaction only when its `lastUpdate` is newer; deletes keep the row as
//! a tombstone, `deleted = 1`) and [`OpenQuoteIndex`] (pages of the `open_quote_prices`
//! table, cursor `<tenant>#<quoteId>`).

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::fanout::{
    ApplyOutcome, FanoutCursor, OpenQuote, OpenQuoteIndex, OpenQuotePage, PriceCatalogWriter,
    PriceChange, PriceChangeKind,
};
use q2c_service::ports::StoreError;
use rusqlite::{OptionalExtension, params};

use crate::error::{ResultExt, backend};
use crate::open_quotes::OpenQuoteRef;
use crate::store::SqliteStore;
use crate::time_codec;

#[async_trait]
impl PriceCatalogWriter for SqliteStore {
    async fn apply_price_change(&self, change: &PriceChange) -> Result<ApplyOutcome, StoreError> {
        let id = change.price_id().to_owned();
        let last_update = time_codec::encode(change.last_update);
        let body = serde_json::to_string(&change.price).store()?;
        let deleted = change.kind == PriceChangeKind::Delete;
        // Read and write in one savepoint of the single writer: no other write interleaves.
        self.write(move |conn| {
            let stored: Option<Option<i64>> = conn
                .prepare_cached("SELECT last_update FROM prices WHERE id = ?1")
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
            conn.prepare_cached(
                "INSERT INTO prices (id, last_update, body, deleted) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET last_update = excluded.last_update,
                 body = excluded.body, deleted = excluded.deleted",
            )
            .store()?
            .execute(params![id, last_update, body, deleted])
            .store()?;
            Ok(ApplyOutcome::Applied)
        })
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
        // One more than asked: whether a next page exists, without a second query.
        let mut found = self
            .open_quotes_by_price(price_id, after, limit.saturating_add(1))
            .await?;
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
