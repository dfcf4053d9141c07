//! Idempotency records and the outbox on DynamoDB: claims, expiry, relay order, purges.

use q2c_aws::DynamoStore;
use q2c_service::context::TenantId;
use q2c_service::ports::{
    Destination, IdempotencyClaim, IdempotencyStore, OutboxStore, QuoteStore, StoredResponse,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::common::{event, quote, setup, store, tenant};

#[tokio::test]
async fn idempotency_claims_replay_mismatch_expire_and_purge() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let until = now + Duration::seconds(30);
    let response = StoredResponse {
        status: 201,
        headers: vec![("ETag".into(), "\"1\"".into())],
        body: "{}".into(),
    };

    assert_eq!(
        claim(&store, &acme, "k", "h1", now, until).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(&store, &acme, "k", "h1", now, until).await,
        IdempotencyClaim::InProgress
    );
    assert_eq!(
        claim(&store, &acme, "k", "h2", now, until).await,
        IdempotencyClaim::Mismatch
    );
    assert_eq!(
        claim(&store, &tenant("beta"), "k", "h2", now, until).await,
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
        claim(&store, &acme, "k", "h1", now, until).await,
        IdempotencyClaim::Replay(response.clone())
    );
    let later = now + Duration::hours(24);
    assert_eq!(
        claim_for_30_s(&store, &acme, "k", "h2", later).await,
        IdempotencyClaim::Claimed
    );

    // An abandoned claim may be taken over after its deadline; a released one at once.
    claim(&store, &acme, "k2", "h", now, until).await;
    assert_eq!(
        claim_for_30_s(&store, &acme, "k2", "h", until).await,
        IdempotencyClaim::Claimed
    );
    claim(&store, &acme, "k3", "h", now, until).await;
    store.release(&acme, "k3").await.expect("release");
    assert_eq!(
        claim(&store, &acme, "k3", "h", now, until).await,
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
    q2c_testkit::require_moto!();
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
    let mut unknown = events[0].clone();
    unknown.event_id = "unknown".into();
    let ids = vec![events[0].clone(), events[1].clone(), unknown];
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

    assert_purges(&store, published_at, 2).await;
    assert_eq!(store.pending(10).await.expect("pending").len(), 1);
}

/// The outcome of claiming `key` for the request hash `hash` at `now`, held until `until`.
async fn claim(
    store: &DynamoStore,
    tenant: &TenantId,
    key: &str,
    hash: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> IdempotencyClaim {
    store
        .claim(tenant, key, hash, now, until)
        .await
        .expect("claim")
}

/// Purging at `published_at` drops nothing published then; one second later it drops
/// `expected` events.
pub(crate) async fn assert_purges(
    store: &DynamoStore,
    published_at: OffsetDateTime,
    expected: u64,
) {
    assert_eq!(store.purge_published(published_at).await.expect("purge"), 0);
    assert_eq!(
        store
            .purge_published(published_at + Duration::seconds(1))
            .await
            .expect("purge"),
        expected
    );
}

/// A claim at `at` whose lease runs 30 s.
async fn claim_for_30_s(
    store: &DynamoStore,
    tenant: &TenantId,
    key: &str,
    hash: &str,
    at: OffsetDateTime,
) -> IdempotencyClaim {
    claim(store, tenant, key, hash, at, at + Duration::seconds(30)).await
}
