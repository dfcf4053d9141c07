//! The hubs' subscriptions (TMF630 `/hub`), per tenant and API: the [`HubStore`] port the
//! API's hub routes register into and hub delivery reads, and the records it keeps. Names
//! only the foundation.

use async_trait::async_trait;
use q2c_model::tmf::EventSubscription;
use serde::{Deserialize, Serialize};

use crate::context::TenantId;
use crate::event_versions::SchemaMajor;
use crate::store::StoreError;

/// Which API's hub a subscription belongs to (each TMF API has its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HubApi {
    /// TMF648 quote events.
    Quote,
    /// TMF620 catalog (price) events.
    Catalog,
    /// TMF622 product order events.
    Ordering,
}

impl HubApi {
    /// Stable name used in store keys.
    pub fn as_str(self) -> &'static str {
        match self {
            HubApi::Quote => "quote",
            HubApi::Catalog => "catalog",
            HubApi::Ordering => "ordering",
        }
    }
}

/// A hub subscription with the schema major its events are delivered in: the API version it
/// was registered through. Stored as the subscription's JSON plus `eventSchemaMajor` (written
/// only when not 4, so rows stored before versions, and v4 rows, read as 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionedSubscription {
    /// The subscription.
    #[serde(flatten)]
    pub subscription: EventSubscription,
    /// The schema major its events are rendered in.
    #[serde(
        rename = "eventSchemaMajor",
        default,
        skip_serializing_if = "is_previous_default"
    )]
    pub version: SchemaMajor,
}

fn is_previous_default(major: &SchemaMajor) -> bool {
    *major == SchemaMajor::default()
}

/// Hub subscriptions, per tenant and API, each with the schema major its events are
/// delivered in (the API version it was registered through).
///
/// Adapters implement the four required methods, which store and read versioned
/// subscriptions; `create`, `list` and `list_for_api` are derived from them (version 4, or
/// the versions dropped) and every adapter relies on those defaults. A tenant sees only its
/// own subscriptions, except through `list_for_api*`.
///
/// `create_within` is required too: it must be one atomic count-and-insert
/// (`q2c-contract`'s `hub_store_quota_race_contract`), which no default over the other
/// methods can be.
#[async_trait]
pub trait HubStore: Send + Sync {
    /// Stores a subscription (its `id` is set by the caller) delivered in `version`.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] when the tenant's hub has one with this id.
    async fn create_versioned(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
        version: SchemaMajor,
    ) -> Result<(), StoreError>;

    /// Removes a subscription; `false` when there was none with this id.
    async fn delete(&self, tenant: &TenantId, api: HubApi, id: &str) -> Result<bool, StoreError>;

    /// Every subscription of the tenant on this API, with its version.
    async fn list_versioned(
        &self,
        tenant: &TenantId,
        api: HubApi,
    ) -> Result<Vec<VersionedSubscription>, StoreError>;

    /// Every subscription on this API, of every tenant, with its tenant and version: catalog
    /// events are shared by all tenants, so their delivery needs them all. Served by an
    /// index, not a scan.
    async fn list_for_api_versioned(
        &self,
        api: HubApi,
    ) -> Result<Vec<(TenantId, VersionedSubscription)>, StoreError>;

    /// Stores a subscription as [`HubStore::create_versioned`] unless the tenant already has
    /// `max` subscriptions on `api`: `Ok(false)` then, and nothing is stored. The count and
    /// the insert are one atomic step in the adapters (a burst of concurrent registrations
    /// cannot pass the quota).
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
    ) -> Result<bool, StoreError>;

    /// [`HubStore::create_versioned`] with version 4.
    async fn create(
        &self,
        tenant: &TenantId,
        api: HubApi,
        subscription: &EventSubscription,
    ) -> Result<(), StoreError> {
        self.create_versioned(tenant, api, subscription, SchemaMajor::V4)
            .await
    }

    /// [`HubStore::list_versioned`] without the versions.
    async fn list(
        &self,
        tenant: &TenantId,
        api: HubApi,
    ) -> Result<Vec<EventSubscription>, StoreError> {
        let versioned = self.list_versioned(tenant, api).await?;
        Ok(versioned.into_iter().map(|v| v.subscription).collect())
    }

    /// [`HubStore::list_for_api_versioned`] without the versions.
    async fn list_for_api(
        &self,
        api: HubApi,
    ) -> Result<Vec<(TenantId, EventSubscription)>, StoreError> {
        let versioned = self.list_for_api_versioned(api).await?;
        Ok(versioned
            .into_iter()
            .map(|(tenant, v)| (tenant, v.subscription))
            .collect())
    }
}
