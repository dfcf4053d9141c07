//! The [`HubStore`] contract: subscriptions are kept per tenant and per API, and one API's
//! subscriptions can be listed across tenants.

use std::sync::Arc;

use q2c_model::tmf::EventSubscription;
use q2c_service::context::TenantId;
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::{HubApi, HubStore, StoreError, VersionedSubscription};

use crate::fixtures::{subscription, tenant};

/// Runs every hub rule against `store`.
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn hub_store_contract(store: Arc<dyn HubStore>) {
    let store = &*store;
    let (a, b) = (tenant("hub-a"), tenant("hub-b"));
    let (s1, s2) = (
        subscription("s-1", Some("eventType=QuoteStateChangeEvent")),
        subscription("s-2", None),
    );
    let s3 = subscription(
        "s-3",
        Some("eventType=ProductOfferingPriceAttributeValueChangeEvent"),
    );
    for (api, sub) in [
        (HubApi::Quote, &s2),
        (HubApi::Quote, &s1),
        (HubApi::Catalog, &s3),
    ] {
        store.create(&a, api, sub).await.expect("create");
    }

    assert_eq!(
        list(store, &a, HubApi::Quote).await,
        [s1.clone(), s2.clone()],
        "A's quote hub"
    );
    assert_eq!(
        list(store, &a, HubApi::Catalog).await,
        std::slice::from_ref(&s3),
        "A's catalog hub"
    );
    assert_eq!(
        list(store, &a, HubApi::Ordering).await,
        [],
        "A's ordering hub is empty"
    );
    assert_eq!(
        list(store, &b, HubApi::Quote).await,
        [],
        "B sees none of A's"
    );

    let dup = store
        .create(&a, HubApi::Quote, &subscription("s-1", None))
        .await;
    assert!(
        matches!(dup, Err(StoreError::AlreadyExists)),
        "same id twice: got {dup:?}"
    );
    store
        .create(&b, HubApi::Quote, &subscription("s-1", None))
        .await
        .expect("ids are per tenant");
    store
        .create(&a, HubApi::Ordering, &subscription("s-1", None))
        .await
        .expect("ids are per API");

    assert!(
        !deleted(store, &b, HubApi::Catalog, "s-3").await,
        "B cannot delete A's"
    );
    assert!(
        !deleted(store, &a, HubApi::Quote, "s-3").await,
        "wrong API deletes nothing"
    );
    assert!(
        deleted(store, &a, HubApi::Quote, "s-1").await,
        "delete reports removal"
    );
    assert!(
        !deleted(store, &a, HubApi::Quote, "s-1").await,
        "second delete finds none"
    );
    assert_eq!(
        list(store, &a, HubApi::Quote).await,
        [s2],
        "the other subscription stays"
    );
    assert_eq!(
        list(store, &a, HubApi::Catalog).await,
        [s3],
        "other APIs are untouched"
    );
    assert_eq!(
        list(store, &b, HubApi::Quote).await,
        [subscription("s-1", None)],
        "B's own stays"
    );

    // Across tenants: one API's subscriptions of every tenant, with their tenant.
    store
        .create(&b, HubApi::Catalog, &subscription("s-4", None))
        .await
        .expect("create");
    assert_eq!(
        across(store, HubApi::Catalog, &[&a, &b]).await,
        [
            (a.clone(), s3_again()),
            (b.clone(), subscription("s-4", None))
        ],
        "catalog subscriptions of A and B"
    );
    assert_eq!(
        across(store, HubApi::Quote, &[&a, &b]).await,
        [
            (a.clone(), subscription("s-2", None)),
            (b.clone(), subscription("s-1", None))
        ],
        "quote subscriptions of A and B, deletions seen"
    );
    assert_eq!(
        across(store, HubApi::Ordering, &[&a, &b]).await,
        [(a.clone(), subscription("s-1", None))],
        "ordering subscriptions"
    );
}

/// Each subscription keeps the schema major it was created with (`create` is 4), listed per
/// tenant and across tenants; the plain listings show the same subscriptions.
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn hub_store_version_contract(store: Arc<dyn HubStore>) {
    let store = &*store;
    let tenant = tenant("hubv-a");
    let (v4, v5) = (
        subscription("v-4", Some("eventType=QuoteStateChangeEvent")),
        subscription("v-5", None),
    );
    store
        .create(&tenant, HubApi::Quote, &v4)
        .await
        .expect("create");
    store
        .create_versioned(&tenant, HubApi::Quote, &v5, SchemaMajor::V5)
        .await
        .expect("create v5");
    let mut versioned = store
        .list_versioned(&tenant, HubApi::Quote)
        .await
        .expect("list_versioned");
    versioned.sort_by(|x, y| x.subscription.id.cmp(&y.subscription.id));
    let expected = [
        VersionedSubscription {
            subscription: v4.clone(),
            version: SchemaMajor::V4,
        },
        VersionedSubscription {
            subscription: v5.clone(),
            version: SchemaMajor::V5,
        },
    ];
    assert_eq!(versioned, expected, "versions per tenant");
    assert_eq!(
        list(store, &tenant, HubApi::Quote).await,
        [v4, v5],
        "the plain listing is unchanged"
    );
    let mut across: Vec<VersionedSubscription> = store
        .list_for_api_versioned(HubApi::Quote)
        .await
        .expect("list_for_api_versioned")
        .into_iter()
        .filter(|(t, _)| *t == tenant)
        .map(|(_, v)| v)
        .collect();
    across.sort_by(|x, y| x.subscription.id.cmp(&y.subscription.id));
    assert_eq!(across, expected, "versions across tenants");
}

fn s3_again() -> EventSubscription {
    subscription(
        "s-3",
        Some("eventType=ProductOfferingPriceAttributeValueChangeEvent"),
    )
}

/// `list_for_api`, restricted to `tenants` (other suites may share the store), sorted.
async fn across(
    store: &dyn HubStore,
    api: HubApi,
    tenants: &[&TenantId],
) -> Vec<(TenantId, EventSubscription)> {
    let mut subs: Vec<_> = store
        .list_for_api(api)
        .await
        .expect("list_for_api")
        .into_iter()
        .filter(|(t, _)| tenants.contains(&t))
        .collect();
    subs.sort_by(|x, y| (x.0.as_str(), &x.1.id).cmp(&(y.0.as_str(), &y.1.id)));
    subs
}

/// Whether deleting `t`'s `api` subscription `id` removed one.
async fn deleted(store: &dyn HubStore, t: &TenantId, api: HubApi, id: &str) -> bool {
    store.delete(t, api, id).await.expect("delete")
}

/// Whether `create_within` stored `subscription(id)` (schema major 4) for `t`'s `api` under
/// a quota of `max`.
async fn created_within(
    store: &dyn HubStore,
    t: &TenantId,
    api: HubApi,
    id: &str,
    max: u64,
) -> bool {
    store
        .create_within(t, api, &subscription(id, None), SchemaMajor::V4, max)
        .await
        .expect("create within")
}

/// The subscriptions, sorted by id (the port promises no order).
async fn list(store: &dyn HubStore, t: &TenantId, api: HubApi) -> Vec<EventSubscription> {
    let mut subs = store.list(t, api).await.expect("list");
    subs.sort_by(|x, y| x.id.cmp(&y.id));
    subs
}

/// The subscription quota ([`HubStore::create_within`]): at most `max` per tenant and API,
/// counting subscriptions stored by plain `create` too; a delete frees a place; a duplicate
/// id inside the quota is still `AlreadyExists`.
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn hub_store_quota_contract(store: Arc<dyn HubStore>) {
    let store = &*store;
    let (a, b) = (tenant("hubq-a"), tenant("hubq-b"));
    let v4 = SchemaMajor::V4;
    store
        .create(&a, HubApi::Quote, &subscription("legacy", None))
        .await
        .expect("a plain create");
    for id in ["q-1", "q-2"] {
        assert!(
            created_within(store, &a, HubApi::Quote, id, 3).await,
            "{id} is within the quota of 3"
        );
    }
    assert!(
        !store
            .create_within(&a, HubApi::Quote, &subscription("q-3", None), v4, 3)
            .await
            .expect("refusal is an outcome"),
        "the 4th is refused (the plain create counts)"
    );
    assert_eq!(
        list(store, &a, HubApi::Quote).await.len(),
        3,
        "nothing stored beyond the quota"
    );
    let dup = store
        .create_within(&a, HubApi::Quote, &subscription("q-1", None), v4, 10)
        .await;
    assert!(
        matches!(dup, Err(StoreError::AlreadyExists)),
        "a taken id: got {dup:?}"
    );
    for (tenant, api) in [
        (&a, HubApi::Catalog),
        (&a, HubApi::Ordering),
        (&b, HubApi::Quote),
    ] {
        assert!(
            created_within(store, tenant, api, "q-1", 3).await,
            "quotas are per tenant and API"
        );
    }
    assert!(deleted(store, &a, HubApi::Quote, "q-2").await);
    assert!(
        !deleted(store, &a, HubApi::Quote, "q-2").await,
        "a second delete frees nothing"
    );
    assert!(
        created_within(store, &a, HubApi::Quote, "q-4", 3).await,
        "a delete frees a place"
    );
    assert!(
        !created_within(store, &a, HubApi::Quote, "q-5", 3).await,
        "and only one"
    );
    assert!(
        !created_within(store, &b, HubApi::Quote, "q-0", 0).await,
        "a quota of 0 admits none"
    );
}

/// Concurrent registrations cannot pass the quota together: 16 at once, quota 5, exactly 5
/// stored. Run on stores that serialise conditional writes of one item (DynamoDB does; the
/// moto emulator does not, so it is left out there).
///
/// # Panics
/// When more or fewer than the quota were stored.
pub async fn hub_store_quota_race_contract(store: Arc<dyn HubStore>) {
    let a = tenant("hubq-race");
    let attempts = (0..16).map(|i| {
        let (store, a) = (Arc::clone(&store), a.clone());
        async move {
            store
                .create_within(
                    &a,
                    HubApi::Quote,
                    &subscription(&format!("r-{i}"), None),
                    SchemaMajor::V4,
                    5,
                )
                .await
                .expect("create within")
        }
    });
    let created = futures::future::join_all(attempts).await;
    assert_eq!(created.iter().filter(|c| **c).count(), 5, "{created:?}");
    assert_eq!(list(&*store, &a, HubApi::Quote).await.len(), 5);
}
