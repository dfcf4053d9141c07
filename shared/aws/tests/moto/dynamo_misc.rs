//! Catalog, hubs and settings on DynamoDB.

use q2c_aws::{DynamoSettings, Operation};
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{EventSubscription, ProductOffering, ProductOfferingPrice};
use q2c_service::ports::{CatalogStore, HubApi, HubStore, Page, SettingsSource, StoreError};
use rust_decimal::Decimal;

use crate::common::{store, tenant};

#[tokio::test]
async fn catalog_items_are_found_by_id_and_listed_in_id_order() {
    q2c_testkit::require_moto!();
    let store = store().await;
    for id in ["pop-3", "pop-1", "pop-2"] {
        let price = ProductOfferingPrice {
            id: id.into(),
            name: Some(id.into()),
            ..Default::default()
        };
        store.put_price(&price).await.expect("put price");
    }
    let offering = ProductOffering {
        id: "po-1".into(),
        ..Default::default()
    };
    store.put_offering(&offering).await.expect("put offering");

    let ids = vec![
        "pop-2".into(),
        "missing".into(),
        "pop-2".into(),
        "pop-3".into(),
    ];
    let mut found: Vec<_> = store
        .prices(&ids)
        .await
        .expect("prices")
        .into_iter()
        .map(|p| p.id)
        .collect();
    found.sort();
    assert_eq!(found, ["pop-2", "pop-3"]);
    assert_eq!(
        store.offerings(&["po-1".into()]).await.expect("offerings"),
        vec![offering]
    );
    let page = store
        .list_prices(Page {
            offset: 1,
            limit: 5,
        })
        .await
        .expect("list");
    let listed: Vec<_> = page.items.iter().map(|p| p.id.as_str()).collect();
    assert_eq!((listed, page.total), (vec!["pop-2", "pop-3"], 3));
    assert_eq!(
        store
            .list_offerings(Page {
                offset: 0,
                limit: 5
            })
            .await
            .expect("list")
            .total,
        1
    );
}

#[tokio::test]
async fn hub_subscriptions_are_kept_per_tenant_and_api() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let acme = tenant("acme");
    let subscription = EventSubscription {
        id: "s-1".into(),
        callback: "https://x.example/l".into(),
        query: None,
    };
    store
        .create(&acme, HubApi::Quote, &subscription)
        .await
        .expect("create");
    let duplicate = store.create(&acme, HubApi::Quote, &subscription).await;
    assert!(
        matches!(duplicate, Err(StoreError::AlreadyExists)),
        "{duplicate:?}"
    );

    assert_eq!(
        HubStore::list(&store, &acme, HubApi::Quote)
            .await
            .expect("list"),
        vec![subscription]
    );
    assert!(
        HubStore::list(&store, &acme, HubApi::Catalog)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        HubStore::list(&store, &tenant("beta"), HubApi::Quote)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        HubStore::delete(&store, &acme, HubApi::Quote, "s-1")
            .await
            .expect("delete")
    );
    assert!(
        !HubStore::delete(&store, &acme, HubApi::Quote, "s-1")
            .await
            .expect("delete")
    );
}

#[tokio::test]
async fn settings_fall_back_from_tenant_to_default_item_to_built_in_and_are_cached() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let settings = DynamoSettings::new(store.clone());
    let acme = tenant("acme");
    assert_eq!(
        settings.settings(&acme).await.expect("settings"),
        TenantSettings::default()
    );

    let defaults = TenantSettings {
        tax_rate: Decimal::new(196, 1),
        ..TenantSettings::default()
    };
    settings.put(None, &defaults).await.expect("put default");
    let own = TenantSettings {
        default_validity_days: 7,
        ..TenantSettings::default()
    };
    settings.put(Some(&acme), &own).await.expect("put own");
    assert_eq!(settings.settings(&acme).await.expect("settings"), own);
    assert_eq!(
        settings.settings(&tenant("beta")).await.expect("settings"),
        defaults
    );

    let before = store.requests().get(Operation::GetItem);
    for _ in 0..5 {
        settings.settings(&acme).await.expect("cached");
    }
    assert_eq!(
        store.requests().get(Operation::GetItem),
        before,
        "served from the cache"
    );
}
