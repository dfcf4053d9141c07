//! [`QuoteStore`] on SQLite. Each write is one transaction holding the quote row, its
//! `quote_parties` rows (for the `relatedParty.id` filter), its `open_quote_prices` rows
//! (for "which open quotes use price X") and the outbox events announcing the change.

use async_trait::async_trait;
use q2c_model::tmf::{Quote, QuoteState};
use q2c_service::context::TenantId;
use q2c_service::ports::{
    Listing, OutboxEvent, Page, QuoteFilter, QuoteStore, StoreError, StoredQuote,
};
use rusqlite::{Connection, Row, Transaction, TransactionBehavior, params};

use crate::error::{CodecError, ResultExt, backend, is_unique_violation};
use crate::store::SqliteStore;
use crate::{outbox, quote_list, time_codec};

/// An open quote that uses a catalog price (one row of the open-quote index).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpenQuoteRef {
    /// The quote's tenant.
    pub tenant: TenantId,
    /// The quote id.
    pub quote_id: String,
}

/// The columns of one quote row, computed before entering the blocking pool.
struct QuoteRow {
    tenant: String,
    id: String,
    version: i64,
    state: Option<&'static str>,
    quote_date: Option<i64>,
    external_id: Option<String>,
    approval_required: bool,
    price_ids: String,
    body: String,
    party_ids: Vec<String>,
    /// Empty when the quote is in a final state: final quotes leave the open-quote index.
    open_price_ids: Vec<String>,
}

impl QuoteRow {
    fn encode(tenant: &TenantId, stored: &StoredQuote) -> Result<QuoteRow, StoreError> {
        let quote = &stored.quote;
        let id = quote
            .id
            .clone()
            .ok_or_else(|| backend(CodecError::MissingQuoteId))?;
        let mut party_ids: Vec<String> = quote.related_party.iter().map(|p| p.id.clone()).collect();
        party_ids.sort_unstable();
        party_ids.dedup();
        let mut open_price_ids = if is_final(quote.state) {
            Vec::new()
        } else {
            stored.price_ids.clone()
        };
        open_price_ids.sort_unstable();
        open_price_ids.dedup();
        Ok(QuoteRow {
            tenant: tenant.as_str().to_owned(),
            id,
            version: time_codec::int(stored.version),
            state: quote.state.map(state_name),
            quote_date: quote.quote_date.map(time_codec::encode),
            external_id: quote.external_id.clone(),
            approval_required: stored.approval_required,
            price_ids: serde_json::to_string(&stored.price_ids).store()?,
            body: serde_json::to_string(quote).store()?,
            party_ids,
            open_price_ids,
        })
    }

    fn insert(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let inserted = tx
            .prepare_cached(
                "INSERT INTO quotes (tenant, id, version, state, quote_date, external_id,
                     approval_required, price_ids, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .store()?
            .execute(params![
                self.tenant,
                self.id,
                self.version,
                self.state,
                self.quote_date,
                self.external_id,
                self.approval_required,
                self.price_ids,
                self.body,
            ]);
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists),
            Err(e) => Err(backend(e)),
        }
    }

    fn update(&self, tx: &Transaction<'_>, expected_version: i64) -> Result<(), StoreError> {
        let changed = tx
            .prepare_cached(
                "UPDATE quotes SET version = ?3, state = ?4, quote_date = ?5, external_id = ?6,
                     approval_required = ?7, price_ids = ?8, body = ?9
                 WHERE tenant = ?1 AND id = ?2 AND version = ?10",
            )
            .store()?
            .execute(params![
                self.tenant,
                self.id,
                self.version,
                self.state,
                self.quote_date,
                self.external_id,
                self.approval_required,
                self.price_ids,
                self.body,
                expected_version,
            ])
            .store()?;
        if changed == 0 {
            return Err(StoreError::VersionConflict);
        }
        Ok(())
    }

    /// Writes the index rows of the quote (after [`delete_index_rows`] on an update).
    fn insert_index_rows(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let mut party = tx
            .prepare_cached(
                "INSERT INTO quote_parties (tenant, party_id, quote_id) VALUES (?1, ?2, ?3)",
            )
            .store()?;
        for party_id in &self.party_ids {
            party
                .execute(params![self.tenant, party_id, self.id])
                .store()?;
        }
        let mut price = tx
            .prepare_cached(
                "INSERT INTO open_quote_prices (price_id, tenant, quote_id) VALUES (?1, ?2, ?3)",
            )
            .store()?;
        for price_id in &self.open_price_ids {
            price
                .execute(params![price_id, self.tenant, self.id])
                .store()?;
        }
        Ok(())
    }
}

/// Removes the index rows of a quote.
fn delete_index_rows(tx: &Transaction<'_>, tenant: &str, id: &str) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM quote_parties WHERE tenant = ?1 AND quote_id = ?2")
        .store()?
        .execute(params![tenant, id])
        .store()?;
    tx.prepare_cached("DELETE FROM open_quote_prices WHERE tenant = ?1 AND quote_id = ?2")
        .store()?
        .execute(params![tenant, id])
        .store()?;
    Ok(())
}

/// Accepted, rejected and cancelled quotes can no longer change price.
fn is_final(state: Option<QuoteState>) -> bool {
    matches!(
        state,
        Some(QuoteState::Accepted | QuoteState::Rejected | QuoteState::Cancelled)
    )
}

/// The TMF name of a state, as stored in the `state` column.
pub(crate) fn state_name(state: QuoteState) -> &'static str {
    match state {
        QuoteState::InProgress => "inProgress",
        QuoteState::Pending => "pending",
        QuoteState::Approved => "approved",
        QuoteState::Accepted => "accepted",
        QuoteState::Rejected => "rejected",
        QuoteState::Cancelled => "cancelled",
    }
}

/// Columns [`decode`] reads, in order.
pub(crate) const QUOTE_COLUMNS: &str = "version, approval_required, price_ids, body";

/// Decodes a row selected with [`QUOTE_COLUMNS`].
pub(crate) fn decode(row: &Row<'_>) -> Result<StoredQuote, StoreError> {
    let version: i64 = row.get(0).store()?;
    let approval_required: bool = row.get(1).store()?;
    let price_ids: String = row.get(2).store()?;
    let body: String = row.get(3).store()?;
    Ok(StoredQuote {
        quote: serde_json::from_str::<Quote>(&body).store()?,
        version: u64::try_from(version).map_err(|_| {
            backend(CodecError::UnexpectedValue {
                column: "version",
                value: version.to_string(),
            })
        })?,
        approval_required,
        price_ids: serde_json::from_str(&price_ids).store()?,
    })
}

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
        let price_id = price_id.to_owned();
        let limit = time_codec::int(u64::try_from(limit).unwrap_or(u64::MAX));
        self.read(move |conn| {
            let (after_tenant, after_id) = after
                .map(|a| (a.tenant.as_str().to_owned(), a.quote_id))
                .unwrap_or_default();
            // ("", "") sorts before every real key, so it stands for "from the start".
            let mut statement = conn
                .prepare_cached(
                    "SELECT tenant, quote_id FROM open_quote_prices
                     WHERE price_id = ?1 AND (tenant, quote_id) > (?2, ?3)
                     ORDER BY tenant, quote_id LIMIT ?4",
                )
                .store()?;
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
