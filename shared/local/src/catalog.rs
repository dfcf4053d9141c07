//! [`CatalogStore`] on SQLite: offerings and prices keyed by id, bodies as JSON (so `@type`
//! and unknown fields round-trip); rows with `deleted = 1` are tombstones of catalog deletes. Shared by
//! all tenants, like the operator's catalog.

use crate::cursor::ScanQuery;
use async_trait::async_trait;
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice};
use q2c_service::catalog_sync::{CatalogKind, CatalogVersions, StoredVersion};
use q2c_service::listing::{Scan, Scanned};
use q2c_service::ports::{CatalogStore, Listing, Page, StoreError};
use rusqlite::{Connection, params};
use serde::de::DeserializeOwned;

use crate::error::ResultExt;
use crate::store::{SqliteStore, listing};
use crate::time_codec;

/// The two catalog tables; the name is interpolated into SQL, never user input.
#[derive(Debug, Clone, Copy)]
enum Table {
    Offerings,
    Prices,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Offerings => "offerings",
            Table::Prices => "prices",
        }
    }

    /// The rows reads may return: tombstones (fan-out deletes) are hidden.
    fn live(self) -> &'static str {
        "deleted = 0"
    }
}

/// One catalog row: id, last update, JSON body.
type Row = (String, Option<i64>, String);

fn offering_row(o: &ProductOffering) -> Result<Row, StoreError> {
    Ok((
        o.id.clone(),
        o.last_update.map(time_codec::encode),
        serde_json::to_string(o).store()?,
    ))
}

fn price_row(p: &ProductOfferingPrice) -> Result<Row, StoreError> {
    Ok((
        p.id.clone(),
        p.last_update.map(time_codec::encode),
        serde_json::to_string(p).store()?,
    ))
}

fn upsert(conn: &Connection, table: Table, rows: &[Row]) -> Result<(), StoreError> {
    let sql = match table {
        // A plain put (seeding) replaces a tombstone too.
        Table::Offerings => {
            "INSERT INTO offerings (id, last_update, body, deleted) VALUES (?1, ?2, ?3, 0)
             ON CONFLICT (id) DO UPDATE SET last_update = excluded.last_update,
             body = excluded.body, deleted = 0"
        }
        Table::Prices => {
            "INSERT INTO prices (id, last_update, body, deleted) VALUES (?1, ?2, ?3, 0)
             ON CONFLICT (id) DO UPDATE SET last_update = excluded.last_update,
             body = excluded.body, deleted = 0"
        }
    };
    let mut statement = conn.prepare_cached(sql).store()?;
    for (id, last_update, body) in rows {
        statement.execute(params![id, last_update, body]).store()?;
    }
    Ok(())
}

fn by_ids<T: DeserializeOwned>(
    conn: &Connection,
    table: Table,
    ids: &str,
) -> Result<Vec<T>, StoreError> {
    // One statement for any number of ids: the ids travel as a JSON array.
    let sql = format!(
        "SELECT body FROM {} WHERE id IN (SELECT value FROM json_each(?1)) AND {}",
        table.name(),
        table.live()
    );
    let mut statement = conn.prepare_cached(&sql).store()?;
    let mut rows = statement.query([ids]).store()?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().store()? {
        let body: String = row.get(0).store()?;
        found.push(serde_json::from_str(&body).store()?);
    }
    Ok(found)
}

fn page<T: DeserializeOwned>(
    conn: &Connection,
    table: Table,
    page: Page,
) -> Result<Listing<T>, StoreError> {
    let count = format!(
        "SELECT COUNT(*) FROM {} WHERE {}",
        table.name(),
        table.live()
    );
    let sql = format!(
        "SELECT body FROM {} WHERE {} ORDER BY id LIMIT ?1 OFFSET ?2",
        table.name(),
        table.live()
    );
    let limit = time_codec::int(page.limit);
    let offset = time_codec::int(page.offset);
    listing(conn, (&count, []), (&sql, [limit, offset]), 0, |row| {
        let body: String = row.get(0).store()?;
        serde_json::from_str(&body).store()
    })
}

/// The cursor scan of a catalog table, by id ([`crate::cursor`]).
fn scan<T: DeserializeOwned>(
    conn: &Connection,
    table: Table,
    scan: &Scan,
) -> Result<Scanned<T>, StoreError> {
    ScanQuery {
        select: format!("SELECT body FROM {} WHERE {}", table.name(), table.live()),
        params: Vec::new(),
        date: None,
        id: "id",
        decode: &|row| {
            let body: String = row.get(0).store()?;
            serde_json::from_str(&body).store()
        },
    }
    .run(conn, scan)
}

impl SqliteStore {
    /// Seeds the catalog: inserts or replaces every offering and price, in one transaction.
    /// Loading the same catalog twice leaves the same content.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when SQLite fails (nothing is loaded then).
    pub async fn load_catalog(
        &self,
        offerings: &[ProductOffering],
        prices: &[ProductOfferingPrice],
    ) -> Result<(), StoreError> {
        let offerings = offerings
            .iter()
            .map(offering_row)
            .collect::<Result<Vec<_>, _>>()?;
        let prices = prices
            .iter()
            .map(price_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.write(move |conn| {
            upsert(conn, Table::Offerings, &offerings)?;
            upsert(conn, Table::Prices, &prices)?;
            Ok(())
        })
        .await
    }

    async fn put(&self, table: Table, row: Row) -> Result<(), StoreError> {
        self.write(move |conn| upsert(conn, table, &[row])).await
    }
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn offerings(&self, ids: &[String]) -> Result<Vec<ProductOffering>, StoreError> {
        let ids = serde_json::to_string(ids).store()?;
        self.read(move |conn| by_ids(conn, Table::Offerings, &ids))
            .await
    }

    async fn prices(&self, ids: &[String]) -> Result<Vec<ProductOfferingPrice>, StoreError> {
        let ids = serde_json::to_string(ids).store()?;
        self.read(move |conn| by_ids(conn, Table::Prices, &ids))
            .await
    }

    async fn list_offerings(
        &self,
        page_request: Page,
    ) -> Result<Listing<ProductOffering>, StoreError> {
        self.read(move |conn| page(conn, Table::Offerings, page_request))
            .await
    }

    async fn list_prices(
        &self,
        page_request: Page,
    ) -> Result<Listing<ProductOfferingPrice>, StoreError> {
        self.read(move |conn| page(conn, Table::Prices, page_request))
            .await
    }

    async fn scan_offerings(&self, request: Scan) -> Result<Scanned<ProductOffering>, StoreError> {
        self.read(move |conn| scan(conn, Table::Offerings, &request))
            .await
    }

    async fn scan_prices(
        &self,
        request: Scan,
    ) -> Result<Scanned<ProductOfferingPrice>, StoreError> {
        self.read(move |conn| scan(conn, Table::Prices, &request))
            .await
    }

    async fn put_offering(&self, offering: &ProductOffering) -> Result<(), StoreError> {
        self.put(Table::Offerings, offering_row(offering)?).await
    }

    async fn put_price(&self, price: &ProductOfferingPrice) -> Result<(), StoreError> {
        self.put(Table::Prices, price_row(price)?).await
    }
}

#[async_trait]
impl CatalogVersions for SqliteStore {
    async fn stored_versions(
        &self,
        kind: CatalogKind,
        ids: &[String],
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let table = match kind {
            CatalogKind::Offering => Table::Offerings,
            CatalogKind::Price => Table::Prices,
        };
        let ids = serde_json::to_string(ids).store()?;
        self.read(move |conn| {
            // Tombstones too: the import compares with them (`live()` is not applied).
            let sql = format!(
                "SELECT id, last_update, deleted, body FROM {}
                 WHERE id IN (SELECT DISTINCT value FROM json_each(?1))",
                table.name()
            );
            let mut statement = conn.prepare_cached(&sql).store()?;
            let mut rows = statement.query([ids]).store()?;
            let mut found = Vec::new();
            while let Some(row) = rows.next().store()? {
                let last_update: Option<i64> = row.get(1).store()?;
                let body: String = row.get(3).store()?;
                found.push(StoredVersion {
                    id: row.get(0).store()?,
                    last_update: last_update.map(time_codec::decode),
                    deleted: row.get::<_, i64>(2).store()? != 0,
                    body: serde_json::from_str(&body).store()?,
                });
            }
            Ok(found)
        })
        .await
    }
}
