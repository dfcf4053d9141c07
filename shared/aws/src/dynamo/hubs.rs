//! [`HubStore`] on DynamoDB: one partition per tenant and API, `T#<tenant>#HUB#<api>`, with
//! the subscription id as sort key; listing a hub is one Query of that partition.

use async_trait::async_trait;
use q2c_model::tmf::EventSubscription;
use q2c_service::context::TenantId;
use q2c_service::ports::{HubApi, HubStore, StoreError};

use super::DynamoStore;
use super::item::{self, s};
use super::keys;
use super::query::QuerySpec;
use super::transact::Expr;

#[async_trait]
impl HubStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(tenant = %tenant, api = api.as_str(), id = %subscription.id), err)]
    async fn create(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
    ) -> Result<(), StoreError> {
        let pk = keys::hub_pk(tenant, api);
        let mut entry = item::item_with_key(&pk, &subscription.id);
        entry.insert(keys::BODY.into(), item::to_body(subscription, &pk)?);
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
    async fn list(
        &self,
        tenant: &TenantId,
        api: HubApi,
    ) -> Result<Vec<EventSubscription>, StoreError> {
        let spec = QuerySpec::new(None, "pk = :pk").value(":pk", s(keys::hub_pk(tenant, api)));
        let items = self.query_all(&spec).await?;
        Ok(items.iter().map(item::body).collect::<Result<_, _>>()?)
    }
}
