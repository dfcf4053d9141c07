//! [`HubStore`] on SQLite: one row per (tenant, API, subscription id); listing one API across
//! tenants reads the `hub_subscriptions_by_api` index.

use async_trait::async_trait;
use q2c_model::tmf::EventSubscription;
use q2c_service::context::TenantId;
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::{HubApi, HubStore, StoreError, VersionedSubscription};
use rusqlite::params;

use crate::error::{ResultExt, insert_new};
use crate::store::SqliteStore;

#[async_trait]
impl HubStore for SqliteStore {
    /// The version rides in the JSON `body` (a v4 body is the plain subscription).
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] when the tenant already has a subscription with this id
    /// on this API.
    async fn create_versioned(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
        version: SchemaMajor,
    ) -> Result<(), StoreError> {
        let tenant = tenant.as_str().to_owned();
        let body = versioned_body(subscription, version)?;
        let subscription = subscription.clone();
        self.write(move |conn| insert(conn, &tenant, api, &subscription, &body))
            .await
    }

    /// The count and the insert are one write of the single writer: exact under any
    /// concurrency.
    ///
    /// # Errors
    /// As [`HubStore::create`].
    async fn create_within(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
        version: SchemaMajor,
        max: u64,
    ) -> Result<bool, StoreError> {
        let tenant = tenant.as_str().to_owned();
        let body = versioned_body(subscription, version)?;
        let subscription = subscription.clone();
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let count: i64 = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM hub_subscriptions WHERE tenant = ?1 AND api = ?2",
                )
                .store()?
                .query_row(params![tenant, api.as_str()], |row| row.get(0))
                .store()?;
            if count >= max {
                return Ok(false);
            }
            insert(conn, &tenant, api, &subscription, &body).map(|()| true)
        })
        .await
    }

    async fn delete(&self, tenant: &TenantId, api: HubApi, id: &str) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.as_str().to_owned(), id.to_owned());
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached(
                    "DELETE FROM hub_subscriptions WHERE tenant = ?1 AND api = ?2 AND id = ?3",
                )
                .store()?
                .execute(params![tenant, api.as_str(), id])
                .store()?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn list_versioned(
        &self,
        tenant: &TenantId,
        api: HubApi,
    ) -> Result<Vec<VersionedSubscription>, StoreError> {
        let tenant = tenant.as_str().to_owned();
        self.read(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT body FROM hub_subscriptions WHERE tenant = ?1 AND api = ?2 ORDER BY id",
                )
                .store()?;
            let mut rows = statement.query(params![tenant, api.as_str()]).store()?;
            let mut found = Vec::new();
            while let Some(row) = rows.next().store()? {
                let body: String = row.get(0).store()?;
                found.push(serde_json::from_str(&body).store()?);
            }
            Ok(found)
        })
        .await
    }

    async fn list_for_api_versioned(
        &self,
        api: HubApi,
    ) -> Result<Vec<(TenantId, VersionedSubscription)>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT tenant, body FROM hub_subscriptions WHERE api = ?1 ORDER BY tenant, id",
                )
                .store()?;
            let mut rows = statement.query(params![api.as_str()]).store()?;
            let mut found = Vec::new();
            while let Some(row) = rows.next().store()? {
                let tenant: String = row.get(0).store()?;
                let body: String = row.get(1).store()?;
                let tenant = TenantId::parse(&tenant).map_err(|_| {
                    StoreError::Backend(format!("stored tenant `{tenant}` is invalid").into())
                })?;
                found.push((tenant, serde_json::from_str(&body).store()?));
            }
            Ok(found)
        })
        .await
    }
}

/// Inserts one subscription row.
fn insert(
    conn: &rusqlite::Connection,
    tenant: &str,
    api: HubApi,
    subscription: &EventSubscription,
    body: &str,
) -> Result<(), StoreError> {
    insert_new(
        conn,
        "INSERT INTO hub_subscriptions (tenant, api, id, callback, query, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            tenant,
            api.as_str(),
            subscription.id,
            subscription.callback,
            subscription.query,
            body,
        ],
    )
}

/// The stored body of a subscription: it and the schema major its deliveries use.
fn versioned_body(
    subscription: &EventSubscription,
    version: SchemaMajor,
) -> Result<String, StoreError> {
    serde_json::to_string(&VersionedSubscription {
        subscription: subscription.clone(),
        version,
    })
    .store()
}
