//! [`HubStore`] on DynamoDB: one partition per tenant and API, `T#<tenant>#HUB#<api>`, with
//! the subscription id as sort key; listing a hub is one Query of that partition. Each item
//! also sits in the `gsi1` partition `HUBS#<api>` (sort key `<tenant>#<id>`), so one API's
//! subscriptions of every tenant are a Query of the index, not a Scan.

use async_trait::async_trait;
use q2c_model::tmf::EventSubscription;
use q2c_service::context::TenantId;
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::{HubApi, HubStore, StoreError, VersionedSubscription};

use super::DynamoStore;
use super::item::{self, s};
use super::keys;
use super::query::QuerySpec;
use super::transact::Expr;
use crate::error::DynamoError;

/// The subscription's tenant, copied for `list_for_api`.
const TENANT: &str = "tenant";

#[async_trait]
impl HubStore for DynamoStore {
    /// The version rides in the JSON `body` (a v4 body is the plain subscription).
    #[tracing::instrument(skip_all, fields(tenant = %tenant, api = api.as_str(), id = %subscription.id, version = %version), err)]
    async fn create_versioned(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
        version: SchemaMajor,
    ) -> Result<(), StoreError> {
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
        let absent = Expr::new("attribute_not_exists(pk)");
        if self.put_item(entry, Some(absent)).await? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists)
        }
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, api = api.as_str(), id), err)]
    async fn delete(&self, tenant: &TenantId, api: HubApi, id: &str) -> Result<bool, StoreError> {
        let key = item::key(keys::hub_pk(tenant, api), id);
        Ok(self.delete_item(key, None).await?.is_some())
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
