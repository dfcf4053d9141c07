//! Idempotency records and the outbox on DynamoDB: claims, expiry, relay order, purges.

use aws_sdk_dynamodb::types::AttributeValue;
use q2c_aws::DynamoStore;
use q2c_aws::Operation;
use q2c_service::context::TenantId;
use q2c_service::ports::{
    Destination, IdempotencyClaim, IdempotencyStore, OutboxStore, PendingEvent, QuoteStore,
    StoredResponse,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::common::{dynamo_client, event, quote, raw_item, setup, store, tenant};

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

/// The `gsi2` partition key an event item carries now.
async fn gsi2pk_of(store: &q2c_aws::DynamoStore, event_id: &str) -> Option<String> {
    let item = raw_item(store.table(), &format!("OUTBOX#{event_id}"), "EVENT").await?;
    item.get("gsi2pk")?.as_s().ok().cloned()
}

/// Moves an event item to `gsi2pk` as it is (keeping its sort key): how a release before
/// the sharding left it.
async fn set_gsi2pk(store: &q2c_aws::DynamoStore, event_id: &str, gsi2pk: &str) {
    dynamo_client()
        .update_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(format!("OUTBOX#{event_id}")))
        .key("sk", AttributeValue::S("EVENT".into()))
        .update_expression("SET gsi2pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(gsi2pk.into()))
        .send()
        .await
        .expect("set gsi2pk");
}

/// Events spread over the pending shards and the unsharded key of an older release come
/// back oldest first across all of them, `limit` at a time; the oldest pending age, marks,
/// refusals and the purge cover every shard and the legacy keys.
#[tokio::test]
async fn the_sharded_outbox_is_read_marked_and_purged_across_shards_and_legacy_keys() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let acme = tenant("acme");
    let start = datetime!(2026-01-01 10:00 UTC);
    let mut events = Vec::new();
    for i in 0..12 {
        let id = format!("q-{i:02}");
        let mut e = event(&id, Destination::QuoteEvents);
        e.event_id = format!("shard-event-{i:02}");
        e.body["eventId"] = serde_json::json!(e.event_id);
        e.created_at = start + Duration::minutes(i);
        store
            .insert(
                &acme,
                &quote(&id, e.created_at, &[]),
                std::slice::from_ref(&e),
            )
            .await
            .expect("insert");
        events.push(e);
    }

    // Each written under its shard's key; several shards in use.
    let mut shards = std::collections::BTreeSet::new();
    for e in &events {
        let pk = gsi2pk_of(&store, &e.event_id).await.expect("pending");
        let shard: u32 = pk
            .strip_prefix("OUTBOX#PENDING#")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{pk} is not a pending shard key"));
        assert!(shard < q2c_aws::dynamo::OUTBOX_SHARDS);
        shards.insert(shard);
    }
    assert!(shards.len() >= 5, "12 events on {shards:?}");

    // Half of them as an older release left them: on the unsharded key (more than the first
    // page a partition is read with, so the merge reads on in it).
    for e in events.iter().step_by(2) {
        set_gsi2pk(&store, &e.event_id, "OUTBOX#PENDING").await;
    }

    // One Query per partition (32 shards, the legacy key), a few items each, and one more
    // of the legacy key, whose first page the merge used up.
    let before = store.requests().snapshot();
    assert_eq!(store.pending(12).await.expect("pending"), events);
    assert_eq!(
        store
            .requests()
            .snapshot()
            .since(&before)
            .of(Operation::Query),
        u64::from(q2c_aws::dynamo::OUTBOX_SHARDS) + 2
    );
    assert_eq!(store.pending(100).await.expect("pending"), events);
    assert_eq!(store.pending(usize::MAX).await.expect("pending"), events);
    assert_eq!(
        store.pending(5).await.expect("pending"),
        events[..5].to_vec()
    );
    assert_eq!(
        store.pending(1).await.expect("pending"),
        events[..1].to_vec()
    );
    assert!(store.pending(0).await.expect("pending").is_empty());
    assert_eq!(
        store.oldest_pending().await.expect("oldest"),
        Some(events[0].created_at)
    );

    // Refusals are counted on sharded and legacy events alike.
    let refused = vec![events[0].event_id.clone(), events[1].event_id.clone()];
    store.record_refusals(&refused).await.expect("refusals");
    let entries = store.pending_entries(2).await.expect("entries");
    for entry in &entries {
        match entry {
            PendingEvent::Ready { attempts, .. } => assert_eq!(*attempts, 1),
            PendingEvent::Undecodable(u) => panic!("undecodable {u:?}"),
        }
    }

    // The four oldest (two legacy, two sharded) published: they leave the pending index, the
    // legacy ones for their sharded published key.
    let published_at = datetime!(2026-01-02 0:00 UTC);
    store
        .mark_published(&events[..4], published_at)
        .await
        .expect("mark");
    assert_eq!(
        store.pending(12).await.expect("pending"),
        events[4..].to_vec()
    );
    assert_eq!(
        store.oldest_pending().await.expect("oldest"),
        Some(events[4].created_at)
    );
    for e in &events[..4] {
        let pk = gsi2pk_of(&store, &e.event_id).await.expect("published");
        assert!(pk.starts_with("OUTBOX#PUBLISHED#"), "{pk}");
    }

    // The rest published too, one of them then moved to the unsharded published key (an
    // older release's published event): the purge finds every one.
    store
        .mark_published(&events[4..], published_at)
        .await
        .expect("mark");
    assert!(store.pending(12).await.expect("pending").is_empty());
    assert_eq!(store.oldest_pending().await.expect("oldest"), None);
    set_gsi2pk(&store, &events[11].event_id, "OUTBOX#PUBLISHED").await;
    assert_purges(&store, published_at, 12).await;
    for e in &events {
        assert_eq!(gsi2pk_of(&store, &e.event_id).await, None, "{}", e.event_id);
    }
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
async fn assert_purges(store: &DynamoStore, published_at: OffsetDateTime, expected: u64) {
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
