//! [`ProductStore`] on SQLite: the `products` table, written by the order completion in
//! `orders` (one unit of the writer's group commit with the order row and its events).

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::inventory::{ProductFilter, ProductStore, StoredProduct};
use q2c_service::ports::{Listing, Page, StoreError};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, params, params_from_iter};

use crate::error::{ResultExt, insert_new};
use crate::store::{SqliteStore, listing};
use crate::time_codec;

/// A product as its row's columns.
pub(crate) struct ProductRow {
    tenant: String,
    id: String,
    version: i64,
    status: Option<&'static str>,
    billing_account: Option<String>,
    party_id: Option<String>,
    offering_id: Option<String>,
    start_date: Option<i64>,
    body: String,
}

impl ProductRow {
    pub(crate) fn encode(
        tenant: &TenantId,
        stored: &StoredProduct,
    ) -> Result<ProductRow, StoreError> {
        let product = &stored.product;
        Ok(ProductRow {
            tenant: tenant.as_str().to_owned(),
            id: stored.id().to_owned(),
            version: time_codec::int(stored.version),
            status: product.status.map(|s| s.as_str()),
            billing_account: product.billing_account_id().map(str::to_owned),
            party_id: product.owner_party_id().map(str::to_owned),
            offering_id: product.product_offering.as_ref().map(|o| o.id.clone()),
            start_date: product.start_date.map(time_codec::encode),
            body: serde_json::to_string(product).store()?,
        })
    }

    /// Inserts a new product; [`StoreError::AlreadyExists`] when the id is taken.
    pub(crate) fn insert(&self, conn: &Connection) -> Result<(), StoreError> {
        insert_new(
            conn,
            "INSERT INTO products (tenant, id, version, status, billing_account,
                     offering_id, start_date, body, party_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                self.tenant,
                self.id,
                self.version,
                self.status,
                self.billing_account,
                self.offering_id,
                self.start_date,
                self.body,
                self.party_id,
            ],
        )
    }
}

fn decode(row: &Row<'_>) -> Result<StoredProduct, StoreError> {
    let version: i64 = row.get(0).store()?;
    let body: String = row.get(1).store()?;
    Ok(StoredProduct {
        product: serde_json::from_str(&body).store()?,
        version: u64::try_from(version).unwrap_or_default(),
    })
}

#[async_trait]
impl ProductStore for SqliteStore {
    #[tracing::instrument(name = "sqlite.products.get", skip_all, fields(tenant = %tenant, product_id = id))]
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredProduct>, StoreError> {
        let (tenant, id) = (tenant.as_str().to_owned(), id.to_owned());
        self.read(move |conn| {
            let mut statement = conn
                .prepare_cached("SELECT version, body FROM products WHERE tenant = ?1 AND id = ?2")
                .store()?;
            let mut rows = statement.query(params![tenant, id]).store()?;
            rows.next().store()?.map(decode).transpose()
        })
        .await
    }

    #[tracing::instrument(name = "sqlite.products.list", skip_all, fields(tenant = %tenant))]
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &ProductFilter,
        page: Page,
    ) -> Result<Listing<StoredProduct>, StoreError> {
        if !filter.is_keyed() {
            return Ok(Listing {
                items: Vec::new(),
                total: 0,
            });
        }
        // One index per key (products_by_account, products_by_party), the rest filtered.
        let mut conditions = vec!["tenant = ?"];
        let mut values = vec![SqlValue::Text(tenant.as_str().to_owned())];
        let columns = [
            ("billing_account = ?", filter.billing_account_id.clone()),
            ("party_id = ?", filter.related_party_id.clone()),
            ("status = ?", filter.status.map(|s| s.as_str().to_owned())),
            ("offering_id = ?", filter.offering_id.clone()),
        ];
        for (condition, value) in columns {
            if let Some(value) = value {
                conditions.push(condition);
                values.push(SqlValue::Text(value));
            }
        }
        let predicate = conditions.join(" AND ");
        let (limit, offset) = (time_codec::int(page.limit), time_codec::int(page.offset));
        self.read(move |conn| {
            let count = format!("SELECT COUNT(*) FROM products WHERE {predicate}");
            let sql = format!(
                "SELECT version, body FROM products WHERE {predicate} \
                 ORDER BY start_date DESC, id LIMIT ? OFFSET ?"
            );
            let paged = values
                .iter()
                .cloned()
                .chain([SqlValue::Integer(limit), SqlValue::Integer(offset)]);
            listing(
                conn,
                (&count, params_from_iter(values.iter())),
                (&sql, params_from_iter(paged)),
                1,
                decode,
            )
        })
        .await
    }
}
