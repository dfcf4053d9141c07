//! [`OrderStore`] on SQLite, and the order half of [`QuoteStore::accept`](q2c_service::ports::QuoteStore::accept)
//! (see `quotes`). Each write is one atomic unit of the writer's group commit holding the
//! order row, the products a completion creates, and the outbox events announcing the change.

use crate::cursor::ScanQuery;
use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::listing::{Scan, Scanned};
use q2c_service::orders::{
    Dispatch, DispatchDecision, DispatchUpdate, OrderKey, OrderStore, StateChange, StoredOrder,
    dispatch_failed_event,
};
use q2c_service::ports::{Listing, Page, StoreError, write_limits};
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;

use crate::error::{ResultExt, backend, insert_new, update_versioned};
use crate::products::ProductRow;
use crate::store::{SqliteStore, listing};
use crate::{outbox, time_codec};

const ORDER_COLUMNS: &str = "version, dispatch, body";

/// An order as its row's columns.
pub(crate) struct OrderRow {
    tenant: String,
    id: String,
    quote_id: String,
    version: i64,
    order_date: Option<i64>,
    state: Option<String>,
    dispatch_status: &'static str,
    dispatch: String,
    body: String,
}

impl OrderRow {
    pub(crate) fn encode(tenant: &TenantId, stored: &StoredOrder) -> Result<OrderRow, StoreError> {
        let state = stored
            .order
            .state
            .map(serde_json::to_value)
            .transpose()
            .store()?
            .and_then(|v| v.as_str().map(str::to_owned));
        Ok(OrderRow {
            tenant: tenant.as_str().to_owned(),
            id: stored.id().to_owned(),
            quote_id: stored.quote_id().to_owned(),
            version: time_codec::int(stored.version),
            order_date: stored.order.order_date.map(time_codec::encode),
            state,
            dispatch_status: stored.dispatch.status.as_str(),
            dispatch: serde_json::to_string(&stored.dispatch).store()?,
            body: serde_json::to_string(&stored.order).store()?,
        })
    }

    /// The limits of a new order (`write_limits::order`).
    pub(crate) fn check_new(&self) -> Result<(), StoreError> {
        write_limits::order(&self.body).map_err(StoreError::Limit)
    }

    /// `?1` to `?9` of the INSERT and the UPDATE: the columns in the INSERT's order.
    fn values(&self) -> [&dyn ToSql; 9] {
        [
            &self.tenant,
            &self.id,
            &self.quote_id,
            &self.version,
            &self.order_date,
            &self.state,
            &self.dispatch_status,
            &self.dispatch,
            &self.body,
        ]
    }

    pub(crate) fn insert(&self, conn: &Connection) -> Result<(), StoreError> {
        insert_new(
            conn,
            "INSERT INTO orders (tenant, id, quote_id, version, order_date, state,
                     dispatch_status, dispatch, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &self.values(),
        )
    }

    /// Rewrites the row if its version is `expected`. `?3`, the quote id, is bound but not
    /// set: an order's quote never changes.
    fn update(&self, conn: &Connection, expected: i64) -> Result<(), StoreError> {
        update_versioned(
            conn,
            "UPDATE orders SET version = ?4, order_date = ?5, state = ?6,
                 dispatch_status = ?7, dispatch = ?8, body = ?9
             WHERE tenant = ?1 AND id = ?2 AND version = ?10",
            &self.values(),
            expected,
        )
    }
}

fn decode(row: &Row<'_>) -> Result<StoredOrder, StoreError> {
    let version: i64 = row.get(0).store()?;
    let dispatch: String = row.get(1).store()?;
    let body: String = row.get(2).store()?;
    Ok(StoredOrder {
        order: serde_json::from_str(&body).store()?,
        version: u64::try_from(version).unwrap_or_default(),
        dispatch: serde_json::from_str::<Dispatch>(&dispatch).store()?,
    })
}

fn select(conn: &Connection, tenant: &str, id: &str) -> Result<Option<StoredOrder>, StoreError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tenant = ?1 AND id = ?2");
    let mut statement = conn.prepare_cached(&sql).store()?;
    let mut rows = statement.query(params![tenant, id]).store()?;
    rows.next().store()?.map(decode).transpose()
}

#[async_trait]
impl OrderStore for SqliteStore {
    #[tracing::instrument(name = "sqlite.orders.get", skip_all, fields(tenant = %tenant, order_id = id))]
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredOrder>, StoreError> {
        let (tenant, id) = (tenant.as_str().to_owned(), id.to_owned());
        self.read(move |conn| select(conn, &tenant, &id)).await
    }

    #[tracing::instrument(name = "sqlite.orders.list", skip_all, fields(tenant = %tenant))]
    async fn list(
        &self,
        tenant: &TenantId,
        page: Page,
    ) -> Result<Listing<StoredOrder>, StoreError> {
        let tenant = tenant.as_str().to_owned();
        let (limit, offset) = (time_codec::int(page.limit), time_codec::int(page.offset));
        self.read(move |conn| {
            let sql = format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE tenant = ?1 \
                 ORDER BY order_date DESC, id LIMIT ?2 OFFSET ?3"
            );
            listing(
                conn,
                (
                    "SELECT COUNT(*) FROM orders WHERE tenant = ?1",
                    params![tenant],
                ),
                (&sql, params![tenant, limit, offset]),
                2,
                decode,
            )
        })
        .await
    }

    #[tracing::instrument(name = "sqlite.orders.scan", skip_all, fields(tenant = %tenant))]
    async fn scan(
        &self,
        tenant: &TenantId,
        scan: Scan,
    ) -> Result<Scanned<StoredOrder>, StoreError> {
        let tenant = tenant.as_str().to_owned();
        self.read(move |conn| {
            ScanQuery {
                select: format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tenant = ?1"),
                params: vec![rusqlite::types::Value::Text(tenant)],
                date: Some("order_date"),
                id: "id",
                decode: &decode,
            }
            .run(conn, &scan)
        })
        .await
    }

    #[tracing::instrument(name = "sqlite.orders.record_dispatch", skip_all, fields(tenant = %order.tenant, order_id = order.order_id, status = update.status.as_str()))]
    async fn record_dispatch(
        &self,
        order: OrderKey<'_>,
        update: DispatchUpdate,
    ) -> Result<(), StoreError> {
        let (tenant, order_id) = (order.tenant.clone(), order.order_id.to_owned());
        let now = OffsetDateTime::now_utc();
        // Read, decide and write in one savepoint of the single writer: no race to lose.
        self.write(move |conn| {
            let Some(mut stored) = select(conn, tenant.as_str(), &order_id)? else {
                return Err(StoreError::VersionConflict);
            };
            let DispatchDecision::Write { announce_failure } = stored.dispatch.apply(&update)
            else {
                return Ok(());
            };
            let expected = time_codec::int(stored.version);
            stored.dispatch = update;
            stored.version += 1;
            OrderRow::encode(&tenant, &stored)?.update(conn, expected)?;
            if announce_failure {
                let event = dispatch_failed_event(&stored, &tenant, now).map_err(backend)?;
                outbox::insert_events(conn, &outbox::EventRow::encode_all(&[event])?)?;
            }
            Ok(())
        })
        .await
    }

    #[tracing::instrument(name = "sqlite.orders.record_state_change", skip_all, fields(tenant = %tenant, order_id = change.order.id(), expected_version = change.expected_version))]
    async fn record_state_change(
        &self,
        tenant: &TenantId,
        change: StateChange<'_>,
    ) -> Result<(), StoreError> {
        let tenant = tenant.clone();
        let order = change.order.clone();
        let products = change
            .products
            .iter()
            .map(|p| ProductRow::encode(&tenant, p))
            .collect::<Result<Vec<_>, _>>()?;
        let events = outbox::EventRow::encode_all(change.events)?;
        let expected = time_codec::int(change.expected_version);
        self.write(move |conn| {
            // The dispatch record is the dispatch engine's: keep what is stored.
            let Some(current) = select(conn, tenant.as_str(), order.id())? else {
                return Err(StoreError::VersionConflict);
            };
            let next = StoredOrder {
                dispatch: current.dispatch,
                ..order
            };
            OrderRow::encode(&tenant, &next)?.update(conn, expected)?;
            for product in &products {
                product.insert(conn)?;
            }
            outbox::insert_events(conn, &events)?;
            Ok(())
        })
        .await
    }
}
