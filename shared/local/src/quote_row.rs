//! One quote as SQLite rows: the `quotes` row, its `quote_parties` rows (for the
//! `relatedParty.id` filter), its `open_quote_offerings` rows (for "which open quotes hold
//! offering X") and its `open_quote_prices` rows (for "which open quotes use
//! price X"), encoded before entering the blocking pool and decoded from a select.

use q2c_model::tmf::{Quote, QuoteState};
use q2c_service::context::TenantId;
use q2c_service::fanout::offering_ids_of;
use q2c_service::ports::{StoreError, StoredQuote, write_limits};
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row, params};

use crate::error::{CodecError, ResultExt, backend, insert_new, update_versioned};
use crate::time_codec;

/// The columns of one quote row, computed before entering the blocking pool.
pub(crate) struct QuoteRow {
    pub(crate) tenant: String,
    pub(crate) id: String,
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
    /// The offerings of its items; empty when final, like `open_price_ids`.
    open_offering_ids: Vec<String>,
}

impl QuoteRow {
    pub(crate) fn encode(tenant: &TenantId, stored: &StoredQuote) -> Result<QuoteRow, StoreError> {
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
        let open_offering_ids = if is_final(quote.state) {
            Vec::new()
        } else {
            offering_ids_of(quote)
        };
        let body = serde_json::to_string(quote).store()?;
        write_limits::quote(stored, &body).map_err(StoreError::Limit)?;
        Ok(QuoteRow {
            tenant: tenant.as_str().to_owned(),
            id,
            version: time_codec::int(stored.version),
            state: quote.state.map(QuoteState::as_str),
            quote_date: quote.quote_date.map(time_codec::encode),
            external_id: quote.external_id.clone(),
            approval_required: stored.approval_required,
            price_ids: serde_json::to_string(&stored.price_ids).store()?,
            body,
            party_ids,
            open_price_ids,
            open_offering_ids,
        })
    }

    /// `?1` to `?9` of the INSERT and the UPDATE: the columns in the INSERT's order.
    fn values(&self) -> [&dyn ToSql; 9] {
        [
            &self.tenant,
            &self.id,
            &self.version,
            &self.state,
            &self.quote_date,
            &self.external_id,
            &self.approval_required,
            &self.price_ids,
            &self.body,
        ]
    }

    pub(crate) fn insert(&self, conn: &Connection) -> Result<(), StoreError> {
        insert_new(
            conn,
            "INSERT INTO quotes (tenant, id, version, state, quote_date, external_id,
                     approval_required, price_ids, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &self.values(),
        )
    }

    pub(crate) fn update(
        &self,
        conn: &Connection,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        update_versioned(
            conn,
            "UPDATE quotes SET version = ?3, state = ?4, quote_date = ?5, external_id = ?6,
                 approval_required = ?7, price_ids = ?8, body = ?9
             WHERE tenant = ?1 AND id = ?2 AND version = ?10",
            &self.values(),
            expected_version,
        )
    }

    /// Updates the quote row (if at `expected_version`) and rewrites its index rows.
    pub(crate) fn replace(
        &self,
        conn: &Connection,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        self.update(conn, expected_version)?;
        delete_index_rows(conn, &self.tenant, &self.id)?;
        self.insert_index_rows(conn)
    }

    /// Writes the index rows of the quote (after [`delete_index_rows`] on an update).
    pub(crate) fn insert_index_rows(&self, conn: &Connection) -> Result<(), StoreError> {
        let mut party = conn
            .prepare_cached(
                "INSERT INTO quote_parties (tenant, party_id, quote_id) VALUES (?1, ?2, ?3)",
            )
            .store()?;
        for party_id in &self.party_ids {
            party
                .execute(params![self.tenant, party_id, self.id])
                .store()?;
        }
        let mut price = conn
            .prepare_cached(
                "INSERT INTO open_quote_prices (price_id, tenant, quote_id) VALUES (?1, ?2, ?3)",
            )
            .store()?;
        for price_id in &self.open_price_ids {
            price
                .execute(params![price_id, self.tenant, self.id])
                .store()?;
        }
        let mut offering = conn
            .prepare_cached(
                "INSERT INTO open_quote_offerings (offering_id, tenant, quote_id)
                 VALUES (?1, ?2, ?3)",
            )
            .store()?;
        for offering_id in &self.open_offering_ids {
            offering
                .execute(params![offering_id, self.tenant, self.id])
                .store()?;
        }
        Ok(())
    }
}

/// Removes the index rows of a quote.
pub(crate) fn delete_index_rows(
    conn: &Connection,
    tenant: &str,
    id: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM quote_parties WHERE tenant = ?1 AND quote_id = ?2")
        .store()?
        .execute(params![tenant, id])
        .store()?;
    conn.prepare_cached("DELETE FROM open_quote_prices WHERE tenant = ?1 AND quote_id = ?2")
        .store()?
        .execute(params![tenant, id])
        .store()?;
    conn.prepare_cached("DELETE FROM open_quote_offerings WHERE tenant = ?1 AND quote_id = ?2")
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
