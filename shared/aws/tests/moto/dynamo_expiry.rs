//! Idempotency records and the outbox on DynamoDB: claims, expiry, relay order, purges.

use q2c_service::ports::{
    Destination, IdempotencyClaim, IdempotencyStore, OutboxStore, QuoteStore, StoredResponse,
};
use time::Duration;
use time::macros::datetime;

use crate::common::{event, quote, store, tenant};

#[tokio::test]
async fn idempotency_claims_replay_mismatch_expire_and_purge() {
    q2c_testkit::require_moto!();
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
