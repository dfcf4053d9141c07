//! The outbox's own index (`outbox`: sparse, `KEYS_ONLY`) on moto: events are written to
//! its sharded pending keys and nowhere on `gsi2`, read back oldest first across its shards
//! and the `gsi2` partitions older releases left events on, marked onto its published keys,
//! and purged from both. The table's `outbox` index is rebuilt `KEYS_ONLY` as the template
//! declares it (the test kit creates every index `ALL`), so a reader that used anything but
//! the keys of an index entry would fail here.

use aws_sdk_dynamodb::types::{
    AttributeValue, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection, ProjectionType,
};
use q2c_aws::{DynamoStore, Operation};
use q2c_service::ports::{Destination, OutboxStore, PendingEvent, QuoteStore};
use time::Duration;
use time::macros::datetime;

use crate::common::{dynamo_client, event, quote, raw_item, store, tenant};
use crate::dynamo_expiry::assert_purges;

/// A store whose table's `outbox` index projects keys only, as in the template.
async fn keys_only_store() -> DynamoStore {
    let store = store().await;
    let client = dynamo_client();
    let delete = GlobalSecondaryIndexUpdate::builder()
        .delete(
            DeleteGlobalSecondaryIndexAction::builder()
                .index_name("outbox")
                .build()
                .expect("delete action"),
        )
        .build();
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("key element")
    };
    let create = GlobalSecondaryIndexUpdate::builder()
        .create(
            CreateGlobalSecondaryIndexAction::builder()
                .index_name("outbox")
                .key_schema(key("obpk", KeyType::Hash))
                .key_schema(key("obsk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .expect("create action"),
        )
        .build();
    for update in [delete, create] {
        client
            .update_table()
            .table_name(store.table())
            .global_secondary_index_updates(update)
            .send()
            .await
            .expect("rebuild the outbox index");
    }
    store
}

/// The `(obpk, gsi2pk)` an event item carries now.
async fn index_keys_of(store: &DynamoStore, event_id: &str) -> (Option<String>, Option<String>) {
    let item = raw_item(store.table(), &format!("OUTBOX#{event_id}"), "EVENT")
        .await
        .unwrap_or_default();
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    (text("obpk"), text("gsi2pk"))
}

/// Moves an event item from the outbox index to `gsi2pk` (keeping its sort key): how an
/// older release left it.
async fn move_to_gsi2(store: &DynamoStore, event_id: &str, gsi2pk: &str) {
    dynamo_client()
        .update_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(format!("OUTBOX#{event_id}")))
        .key("sk", AttributeValue::S("EVENT".into()))
        .update_expression("SET gsi2pk = :pk, gsi2sk = obsk REMOVE obpk, obsk")
        .expression_attribute_values(":pk", AttributeValue::S(gsi2pk.into()))
        .send()
        .await
        .expect("move to gsi2");
}

/// Events spread over the index's pending shards, over `gsi2`'s sharded keys and its
/// unsharded one (older releases) come back oldest first across all of them, `limit` at a
/// time, fetched whole from keys-only entries; the oldest pending age, marks, refusals and
/// the purge cover every partition.
#[tokio::test]
async fn the_keys_only_outbox_index_is_read_marked_and_purged_with_the_legacy_gsi2_keys() {
    q2c_testkit::require_moto!();
    let store = keys_only_store().await;
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

    // Each written under its shard's pending key on the outbox index, none on gsi2.
    let mut shards = std::collections::BTreeSet::new();
    for e in &events {
        let (obpk, gsi2pk) = index_keys_of(&store, &e.event_id).await;
        assert_eq!(gsi2pk, None, "an event of this release on gsi2");
        let obpk = obpk.expect("pending");
        let shard: u32 = obpk
            .strip_prefix("OUTBOX#PENDING#")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{obpk} is not a pending shard key"));
        assert!(shard < q2c_aws::dynamo::OUTBOX_SHARDS);
        shards.insert(shard);
    }
    assert!(shards.len() >= 5, "12 events on {shards:?}");

    // The index holds keys only: an entry has the table's and the index's keys, no event.
    let entry = dynamo_client()
        .query()
        .table_name(store.table())
        .index_name("outbox")
        .key_condition_expression("obpk = :pk")
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(
                index_keys_of(&store, &events[0].event_id)
                    .await
                    .0
                    .expect("pk"),
            ),
        )
        .send()
        .await
        .expect("query the outbox index")
        .items
        .unwrap_or_default()
        .into_iter()
        .next()
        .expect("an entry");
    let mut attributes: Vec<&str> = entry.keys().map(String::as_str).collect();
    attributes.sort_unstable();
    assert_eq!(attributes, ["obpk", "obsk", "pk", "sk"]);

    // Half of them as the release before the sharding left it (more than the first page a
    // partition is read with, so the merge reads on in it), a quarter on gsi2's shards.
    for e in events.iter().step_by(2) {
        move_to_gsi2(&store, &e.event_id, "OUTBOX#PENDING").await;
    }
    for e in events.iter().skip(1).step_by(4) {
        let (obpk, _) = index_keys_of(&store, &e.event_id).await;
        move_to_gsi2(&store, &e.event_id, &obpk.expect("pending")).await;
    }

    // One Query per partition (32 index shards, 32 gsi2 shards, the unsharded key), one
    // more of the unsharded key, whose first page the merge used up, and one BatchGetItem.
    let before = store.requests().snapshot();
    assert_eq!(store.pending(12).await.expect("pending"), events);
    let reads = store.requests().snapshot().since(&before);
    assert_eq!(
        reads.of(Operation::Query),
        2 * u64::from(q2c_aws::dynamo::OUTBOX_SHARDS) + 2
    );
    assert_eq!(reads.of(Operation::BatchGetItem), 1);
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

    // Refusals are counted wherever the event is pending.
    let refused: Vec<String> = events[..3].iter().map(|e| e.event_id.clone()).collect();
    store.record_refusals(&refused).await.expect("refusals");
    let entries = store.pending_entries(3).await.expect("entries");
    assert_eq!(entries.len(), 3);
    for entry in &entries {
        match entry {
            PendingEvent::Ready { attempts, .. } => assert_eq!(*attempts, 1),
            PendingEvent::Undecodable(u) => panic!("undecodable {u:?}"),
        }
    }

    // The four oldest (one of each kind, and one more) published: they leave every pending
    // partition for their published key on the outbox index, and gsi2.
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
        let (obpk, gsi2pk) = index_keys_of(&store, &e.event_id).await;
        assert!(obpk.is_some_and(|pk| pk.starts_with("OUTBOX#PUBLISHED#")));
        assert_eq!(gsi2pk, None);
    }

    // The rest published too, two of them then moved to gsi2's published keys (an older
    // release's published events): the purge finds every one.
    store
        .mark_published(&events[4..], published_at)
        .await
        .expect("mark");
    assert!(store.pending(12).await.expect("pending").is_empty());
    assert_eq!(store.oldest_pending().await.expect("oldest"), None);
    move_to_gsi2(&store, &events[11].event_id, "OUTBOX#PUBLISHED").await;
    let (obpk, _) = index_keys_of(&store, &events[10].event_id).await;
    move_to_gsi2(&store, &events[10].event_id, &obpk.expect("published")).await;
    assert_purges(&store, published_at, 12).await;
    for e in &events {
        assert_eq!(
            index_keys_of(&store, &e.event_id).await,
            (None, None),
            "{}",
            e.event_id
        );
    }
}

/// An event listed pending on both indexes (not written so by any release, but one bad item
/// must not stop the sweep: `BatchGetItem` refuses a repeated key) is relayed once and
/// leaves both when marked.
#[tokio::test]
async fn an_event_pending_on_both_indexes_is_read_once_and_leaves_both() {
    q2c_testkit::require_moto!();
    let store = keys_only_store().await;
    let e = event("q-1", Destination::QuoteEvents);
    store
        .insert(
            &tenant("acme"),
            &quote("q-1", e.created_at, &[]),
            std::slice::from_ref(&e),
        )
        .await
        .expect("insert");
    dynamo_client()
        .update_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(format!("OUTBOX#{}", e.event_id)))
        .key("sk", AttributeValue::S("EVENT".into()))
        .update_expression("SET gsi2pk = :pk, gsi2sk = obsk")
        .expression_attribute_values(":pk", AttributeValue::S("OUTBOX#PENDING".into()))
        .send()
        .await
        .expect("also on gsi2");

    assert_eq!(
        store.pending(10).await.expect("pending"),
        std::slice::from_ref(&e)
    );
    store
        .mark_published(std::slice::from_ref(&e), e.created_at)
        .await
        .expect("mark");
    assert!(store.pending(10).await.expect("pending").is_empty());
    let (obpk, gsi2pk) = index_keys_of(&store, &e.event_id).await;
    assert!(obpk.is_some_and(|pk| pk.starts_with("OUTBOX#PUBLISHED#")));
    assert_eq!(gsi2pk, None);
}
