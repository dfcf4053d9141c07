//! [`HubStore`] on DynamoDB: one partition per tenant and API, `T#<tenant>#HUB#<api>`, with
//! the subscription id as sort key; listing a hub is one Query of that partition. Each item
//! also sits in the `gsi1` partition `HUBS#<api>` (sort key `<tenant>#<id>`), so one API's
//! subscriptions of every tenant are a Query of the index, not a Scan.
//!
//! Each tenant and API also has a count item `T#<tenant>#HUBCOUNT#<api>` (attribute `n`),
//! moved in the transaction of every create and delete, so the subscription quota
//! ([`HubStore::create_within`]) is exact under concurrency. A count missing (subscriptions
//! stored before counts existed) is seeded from the partition on first use.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use q2c_model::tmf::EventSubscription;
use q2c_service::context::TenantId;
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::{HubApi, HubStore, StoreError, VersionedSubscription};

use super::DynamoStore;
use super::item::{self, Item, n, s};
use super::keys;
use super::query::QuerySpec;
use super::transact::{
    Expr, TransactError, contention_pause, delete_write, put_write, update_write,
};
use crate::error::DynamoError;

/// The subscription's tenant, copied for `list_for_api`.
const TENANT: &str = "tenant";

/// Attempts of a counted create or delete that concurrent transactions cancel.
const COUNT_ATTEMPTS: u32 = 8;

fn contended(tenant: &TenantId, api: HubApi) -> StoreError {
    StoreError::Backend(
        format!(
            "subscription count of {tenant}/{} stayed contended",
            api.as_str()
        )
        .into(),
    )
}

impl DynamoStore {
    /// The stored subscription count (strongly consistent), seeded first when absent.
    async fn hub_count_or_seed(
        &self,
        tenant: &TenantId,
        api: HubApi,
        count_key: &Item,
    ) -> Result<u64, DynamoError> {
        if let Some(entry) = self.get_item(count_key.clone(), true).await? {
            return item::get_n::<u64>(&entry, keys::COUNT_N);
        }
        self.seed_hub_count(tenant, api, count_key).await?;
        match self.get_item(count_key.clone(), true).await? {
            Some(entry) => item::get_n::<u64>(&entry, keys::COUNT_N),
            None => Err(DynamoError::Attribute {
                key: item::pk_of(count_key),
                attribute: keys::COUNT_N,
            }),
        }
    }

    /// Creates the count from the subscriptions stored (those written before counts
    /// existed): a consistent `Select=COUNT` Query of the tenant's hub partition (at most the
    /// quota's worth of items), then a `PutItem` if still absent. Nothing can be added or
    /// removed meanwhile: both need the count to exist.
    async fn seed_hub_count(
        &self,
        tenant: &TenantId,
        api: HubApi,
        count_key: &Item,
    ) -> Result<(), DynamoError> {
        let mut spec = QuerySpec::new(None, "pk = :pk").value(":pk", s(keys::hub_pk(tenant, api)));
        spec.consistent = true;
        let stored = self.count(&spec).await?;
        let mut entry = count_key.clone();
        entry.insert(keys::COUNT_N.into(), n(stored));
        self.put_item(entry, Some(Expr::new("attribute_not_exists(pk)")))
            .await?;
        Ok(())
    }

    /// One attempt of a counted create or delete: `Ok(true)` once committed, `Ok(false)`
    /// after a pause when a concurrent registration or delete cancelled it (look again).
    /// Retried by hand, not with a retry crate: each attempt re-reads the count and rebuilds
    /// its transaction.
    async fn count_transaction(
        &self,
        items: Vec<TransactWriteItem>,
        attempt: u32,
    ) -> Result<bool, StoreError> {
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(TransactError::Other(error)) => Err(error.into()),
            Err(TransactError::Conditions(_)) => {
                contention_pause(attempt).await;
                Ok(false)
            }
        }
    }
}

#[async_trait]
impl HubStore for DynamoStore {
    /// The version rides in the JSON `body` (a v4 body is the plain subscription).
    async fn create_versioned(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
        version: SchemaMajor,
    ) -> Result<(), StoreError> {
        self.create_within(tenant, api, subscription, version, u64::MAX)
            .await
            .map(|_| ())
    }

    /// A consistent `GetItem` of the count (seeding it when absent) and of the id, then one
    /// `TransactWriteItems`: the count item `T#<tenant>#HUBCOUNT#<api>` (+1, on condition it
    /// is still below `max`) and the subscription (`attribute_not_exists`). The reads answer
    /// the usual refusals without a failing transaction; the conditions catch the races.
    #[tracing::instrument(skip_all, fields(tenant = %tenant, api = api.as_str(), id = %subscription.id, version = %version, max), err)]
    async fn create_within(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
        version: SchemaMajor,
        max: u64,
    ) -> Result<bool, StoreError> {
        let pk = keys::hub_pk(tenant, api);
        let mut entry = item::item_with_key(&pk, &subscription.id);
        let versioned = VersionedSubscription {
            subscription: subscription.clone(),
            version,
        };
        entry.insert(keys::BODY.into(), item::to_body(&versioned, &pk)?);
        entry.insert(keys::GSI1PK.into(), s(keys::hubs_gsi1pk(api)));
        entry.insert(
            keys::GSI1SK.into(),
            s(keys::hubs_gsi1sk(tenant, &subscription.id)),
        );
        entry.insert(TENANT.into(), s(tenant.as_str()));
        let count_key = item::key(keys::hub_count_pk(tenant, api), keys::COUNT_SK);
        let increment = Expr::new("SET #n = #n + :one")
            .name("#n", keys::COUNT_N)
            .value(":one", n(1))
            .value(":max", n(max));
        for attempt in 0..COUNT_ATTEMPTS {
            if self.hub_count_or_seed(tenant, api, &count_key).await? >= max {
                return Ok(false);
            }
            if self
                .get_item(item::key(&pk, &subscription.id), true)
                .await?
                .is_some()
            {
                return Err(StoreError::AlreadyExists);
            }
            let items = vec![
                update_write(
                    &self.table,
                    count_key.clone(),
                    increment.clone(),
                    "attribute_exists(#n) AND #n < :max",
                )?,
                put_write(
                    &self.table,
                    entry.clone(),
                    Some(Expr::new("attribute_not_exists(pk)")),
                )?,
            ];
            if self.count_transaction(items, attempt).await? {
                return Ok(true);
            }
        }
        Err(contended(tenant, api))
    }

    /// A consistent `GetItem` of the subscription (absent: `false`, nothing written), then
    /// one `TransactWriteItems`: the subscription (`attribute_exists`) and the count (-1).
    #[tracing::instrument(skip_all, fields(tenant = %tenant, api = api.as_str(), id), err)]
    async fn delete(&self, tenant: &TenantId, api: HubApi, id: &str) -> Result<bool, StoreError> {
        let key = item::key(keys::hub_pk(tenant, api), id);
        let count_key = item::key(keys::hub_count_pk(tenant, api), keys::COUNT_SK);
        let decrement = Expr::new("SET #n = #n - :one")
            .name("#n", keys::COUNT_N)
            .value(":one", n(1));
        for attempt in 0..COUNT_ATTEMPTS {
            if self.get_item(key.clone(), true).await?.is_none() {
                return Ok(false);
            }
            self.hub_count_or_seed(tenant, api, &count_key).await?;
            let items = vec![
                delete_write(
                    &self.table,
                    key.clone(),
                    Some(Expr::new("attribute_exists(pk)")),
                )?,
                update_write(
                    &self.table,
                    count_key.clone(),
                    decrement.clone(),
                    "attribute_exists(#n)",
                )?,
            ];
            if self.count_transaction(items, attempt).await? {
                return Ok(true);
            }
        }
        Err(contended(tenant, api))
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, api = api.as_str()), err)]
    async fn list_versioned(
        &self,
        tenant: &TenantId,
        api: HubApi,
    ) -> Result<Vec<VersionedSubscription>, StoreError> {
        let spec = QuerySpec::new(None, "pk = :pk").value(":pk", s(keys::hub_pk(tenant, api)));
        let items = self.query_all(&spec).await?;
        Ok(items.iter().map(item::body).collect::<Result<_, _>>()?)
    }

    #[tracing::instrument(skip_all, fields(api = api.as_str()), err)]
    async fn list_for_api_versioned(
        &self,
        api: HubApi,
    ) -> Result<Vec<(TenantId, VersionedSubscription)>, StoreError> {
        let spec = QuerySpec::new(Some(keys::GSI1), "gsi1pk = :pk")
            .value(":pk", s(keys::hubs_gsi1pk(api)));
        let items = self.query_all(&spec).await?;
        let mut found = Vec::with_capacity(items.len());
        for entry in &items {
            let raw = item::get_s(entry, TENANT)?;
            let tenant = TenantId::parse(raw).map_err(|_| DynamoError::Attribute {
                key: item::pk_of(entry),
                attribute: TENANT,
            })?;
            found.push((tenant, item::body(entry)?));
        }
        Ok(found)
    }
}
