//! Catalog, hubs, idempotency, outbox and settings on DynamoDB.

use q2c_aws::{DynamoSettings, Operation};
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{EventSubscription, ProductOffering, ProductOfferingPrice};
use q2c_service::ports::{
    CatalogStore, Destination, HubApi, HubStore, IdempotencyClaim, IdempotencyStore, OutboxStore,
    Page, QuoteStore, SettingsSource, StoreError, StoredResponse,
};
use rust_decimal::Decimal;
use time::Duration;
use time::macros::datetime;

use crate::common::{event, quote, store, tenant};

#[tokio::test]
async fn catalog_items_are_found_by_id_and_listed_in_id_order() {
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
async fn idempotency_claims_replay_mismatch_expire_and_purge() {
    let store = store().await;
    let acme = tenant("acme");
    let now = datetime!(2026-01-01 10:00 UTC);
    let until = now + Duration::seconds(30);
    let response = StoredResponse {
        status: 201,
        headers: vec![("ETag".into(), "\"1\"".into())],
        body: "{}".into(),
    };

    assert_eq!(
        store
            .claim(&acme, "k", "h1", now, until)
            .await
            .expect("claim"),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store
            .claim(&acme, "k", "h1", now, until)
            .await
            .expect("claim"),
        IdempotencyClaim::InProgress
    );
    assert_eq!(
        store
            .claim(&acme, "k", "h2", now, until)
            .await
            .expect("claim"),
        IdempotencyClaim::Mismatch
    );
    assert_eq!(
        store
            .claim(&tenant("beta"), "k", "h2", now, until)
            .await
            .expect("claim"),
        IdempotencyClaim::Claimed
    );
    store
        .complete(&acme, "k", &response, now + Duration::hours(24))
        .await
        .expect("complete");
    store
        .release(&acme, "k")
        .await
        .expect("release keeps completed records");
    assert_eq!(
        store
            .claim(&acme, "k", "h1", now, until)
            .await
            .expect("claim"),
        IdempotencyClaim::Replay(response.clone())
    );
    let later = now + Duration::hours(24);
    assert_eq!(
        store
            .claim(&acme, "k", "h2", later, later + Duration::seconds(30))
            .await
            .expect("claim"),
        IdempotencyClaim::Claimed
    );

    // An abandoned claim may be taken over after its deadline; a released one at once.
    store
        .claim(&acme, "k2", "h", now, until)
        .await
        .expect("claim");
    assert_eq!(
        store
            .claim(&acme, "k2", "h", until, until + Duration::seconds(30))
            .await
            .expect("claim"),
        IdempotencyClaim::Claimed
    );
    store
        .claim(&acme, "k3", "h", now, until)
        .await
        .expect("claim");
    store.release(&acme, "k3").await.expect("release");
    assert_eq!(
        store
            .claim(&acme, "k3", "h", now, until)
            .await
            .expect("claim"),
        IdempotencyClaim::Claimed
    );

    // At `later + 1 day`: every record above is stale.
    let purged = store
        .purge_expired(later + Duration::days(1))
        .await
        .expect("purge");
    assert_eq!(purged, 4);
    assert_eq!(
        store
            .purge_expired(later + Duration::days(1))
            .await
            .expect("purge"),
        0
    );
}

#[tokio::test]
async fn the_outbox_serves_pending_events_oldest_first_and_purges_published_ones() {
    let store = store().await;
    let acme = tenant("acme");
    let mut events = Vec::new();
    for (i, id) in ["q-1", "q-2", "q-3"].into_iter().enumerate() {
        let mut e = event(id, Destination::QuoteEvents);
        e.created_at =
            datetime!(2026-01-01 10:00 UTC) + Duration::minutes(i64::try_from(i).expect("small"));
        store
            .insert(
                &acme,
                &quote(id, e.created_at, &[]),
                std::slice::from_ref(&e),
            )
            .await
            .expect("insert");
        events.push(e);
    }

    assert_eq!(
        store.pending(2).await.expect("pending"),
        events[..2].to_vec()
    );
    let published_at = datetime!(2026-01-02 0:00 UTC);
    let ids = vec![
        events[0].event_id.clone(),
        events[1].event_id.clone(),
        "unknown".into(),
    ];
    store
        .mark_published(&ids, published_at)
        .await
        .expect("mark");
    store
        .mark_published(&ids, published_at + Duration::days(9))
        .await
        .expect("mark twice");
    assert_eq!(
        store.pending(10).await.expect("pending"),
        events[2..].to_vec()
    );

    assert_eq!(store.purge_published(published_at).await.expect("purge"), 0);
    assert_eq!(
        store
            .purge_published(published_at + Duration::seconds(1))
            .await
            .expect("purge"),
        2
    );
    assert_eq!(store.pending(10).await.expect("pending").len(), 1);
}

#[tokio::test]
async fn settings_fall_back_from_tenant_to_default_item_to_built_in_and_are_cached() {
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
