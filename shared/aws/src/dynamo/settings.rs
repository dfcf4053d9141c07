//! [`SettingsSource`] on DynamoDB: the item `SETTINGS#<tenant>`, else `SETTINGS#default`,
//! else [`TenantSettings::default`]; each tenant's answer is cached for 60 seconds, so a warm
//! Lambda container reads settings about once a minute, not on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use q2c_model::settings::TenantSettings;
use q2c_service::context::TenantId;
use q2c_service::ports::{SettingsSource, StoreError};

use super::DynamoStore;
use super::item;
use super::keys;
use crate::metrics::RequestCounter;

/// How long a tenant's settings are served from memory.
pub const SETTINGS_CACHE_TTL: Duration = Duration::from_secs(60);

/// Tenant settings from the table, cached per tenant.
#[derive(Debug, Clone)]
pub struct DynamoSettings {
    store: DynamoStore,
    cache: Arc<Mutex<HashMap<TenantId, (Instant, TenantSettings)>>>,
}

impl DynamoSettings {
    /// Settings read through `store`'s client and table.
    pub fn new(store: DynamoStore) -> Self {
        DynamoSettings {
            store,
            cache: Arc::default(),
        }
    }

    /// The AWS requests made for settings, per operation.
    pub fn requests(&self) -> &RequestCounter {
        self.store.requests()
    }

    /// Stores the settings of `tenant` (`None`: the defaults of every tenant without its
    /// own). Caches of other processes see the change within [`SETTINGS_CACHE_TTL`].
    ///
    /// # Errors
    /// [`StoreError::Backend`] when DynamoDB fails.
    pub async fn put(
        &self,
        tenant: Option<&TenantId>,
        settings: &TenantSettings,
    ) -> Result<(), StoreError> {
        let pk = keys::settings_pk(tenant);
        let mut entry = item::item_with_key(&pk, keys::SETTINGS_SK);
        entry.insert(keys::BODY.into(), item::to_body(settings, &pk)?);
        self.store.put_item(entry, None).await?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
        Ok(())
    }

    fn cached(&self, tenant: &TenantId) -> Option<TenantSettings> {
        let cache = self.cache.lock().ok()?;
        let (at, settings) = cache.get(tenant)?;
        (at.elapsed() < SETTINGS_CACHE_TTL).then(|| settings.clone())
    }

    async fn read(&self, tenant: Option<&TenantId>) -> Result<Option<TenantSettings>, StoreError> {
        let key = item::key(keys::settings_pk(tenant), keys::SETTINGS_SK);
        let found = self.store.get_item(key, false).await?;
        Ok(found.as_ref().map(item::body).transpose()?)
    }
}

#[async_trait]
impl SettingsSource for DynamoSettings {
    #[tracing::instrument(skip_all, fields(tenant = %tenant), err)]
    async fn settings(&self, tenant: &TenantId) -> Result<TenantSettings, StoreError> {
        if let Some(settings) = self.cached(tenant) {
            return Ok(settings);
        }
        let settings = match self.read(Some(tenant)).await? {
            Some(own) => own,
            None => self.read(None).await?.unwrap_or_default(),
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(tenant.clone(), (Instant::now(), settings.clone()));
        }
        Ok(settings)
    }
}
