//! AWS requests per business operation, as the cost model will count them. Printed with
//! `--nocapture`; asserted so a change in the request pattern is a visible decision.

use q2c_aws::{DynamoStore, Operation, RequestSnapshot};
use q2c_service::ports::{
    Destination, IdempotencyClaim, IdempotencyStore, OutboxStore, Page, QuoteFilter, QuoteStore,
    StoredResponse,
};
use time::Duration;

use crate::common::{event, quote, setup};

/// Runs `op` and returns the requests it made.
async fn measure<F: Future<Output = ()>>(
    store: &DynamoStore,
    name: &str,
    op: F,
) -> RequestSnapshot {
    let before = store.requests().snapshot();
    op.await;
    let delta = store.requests().snapshot().since(&before);
    println!(
        "{name}: {} requests {:?}, {} capacity units",
        delta.total(),
        delta.counts,
        delta.total_capacity_units()
    );
    delta
}

#[tokio::test]
async fn requests_per_business_operation() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let mut stored = quote("q-1", now, &["p1", "p2"]);
    let created = [event("q-1", Destination::QuoteEvents)];

    let claim = measure(&store, "idempotency claim", async {
        let outcome = store
            .claim(&acme, "k", "h", now, now + Duration::seconds(30))
            .await;
        assert_eq!(outcome.expect("claim"), IdempotencyClaim::Claimed);
    })
    .await;
    assert_eq!((claim.total(), claim.of(Operation::PutItem)), (1, 1));

    let create = measure(&store, "create quote", async {
        store
            .insert(&acme, &stored, &created)
            .await
            .expect("insert");
    })
    .await;
    assert_eq!(
        (create.total(), create.of(Operation::TransactWriteItems)),
        (1, 1)
    );

    let response = StoredResponse {
        status: 201,
        headers: vec![],
        body: "{}".into(),
    };
    let complete = measure(&store, "idempotency complete", async {
        store
            .complete(&acme, "k", &response, now + Duration::days(1))
            .await
            .expect("complete");
    })
    .await;
    assert_eq!(complete.of(Operation::UpdateItem), 1);

    let replay = measure(&store, "idempotent replay", async {
        let outcome = store
            .claim(&acme, "k", "h", now, now + Duration::seconds(30))
            .await;
        assert!(matches!(
            outcome.expect("claim"),
            IdempotencyClaim::Replay(_)
        ));
    })
    .await;
    assert_eq!(
        (replay.of(Operation::PutItem), replay.of(Operation::GetItem)),
        (1, 1)
    );

    let get = measure(&store, "get quote", async {
        store.get(&acme, "q-1").await.expect("get").expect("found");
    })
    .await;
    assert_eq!(get.total(), 1);

    stored.version = 2;
    let update = measure(&store, "update quote", async {
        let mut change = event("q-1", Destination::QuoteEvents);
        change.event_type = "QuoteAttributeValueChangeEvent".into();
        let changed = [change];
        store
            .update(&acme, &stored, 1, &changed)
            .await
            .expect("update");
    })
    .await;
    assert_eq!(
        (
            update.of(Operation::GetItem),
            update.of(Operation::TransactWriteItems)
        ),
        (1, 1)
    );

    let list = measure(&store, "list quotes (one page)", async {
        let page = Page {
            offset: 0,
            limit: 20,
        };
        store
            .list(&acme, &QuoteFilter::default(), page)
            .await
            .expect("list");
    })
    .await;
    assert_eq!(
        (list.of(Operation::Query), list.of(Operation::BatchGetItem)),
        (18, 1),
        "a COUNT and a keys-only query of each of the 9 listing partitions, then the page by key"
    );

    let relay = measure(&store, "relay: pending + mark 2 published", async {
        let pending = store.pending(10).await.expect("pending");
        store.mark_published(&pending, now).await.expect("mark");
    })
    .await;
    assert_eq!(
        (
            relay.of(Operation::Query),
            relay.of(Operation::BatchGetItem),
            relay.of(Operation::UpdateItem),
            relay.of(Operation::TransactWriteItems)
        ),
        (2 * u64::from(q2c_aws::dynamo::OUTBOX_SHARDS) + 1, 1, 1, 1),
        "one Query per pending shard of the outbox index and per gsi2 key of older releases \
         (sharded and not), one BatchGetItem of the keys-only entries; the change: \
         1 UpdateItem; the create, which moves the open-quote count: 1 transaction"
    );

    // Once this process found the unsharded index keys of older releases empty (as any page of
    // the fan-out does), a removal no longer checks them: the steady state.
    for price in ["p1", "p2"] {
        crate::common::note_no_legacy_index(&store, price).await;
    }
    let delete = measure(&store, "delete quote", async {
        store.delete(&acme, "q-1", 2, &[]).await.expect("delete");
    })
    .await;
    assert_eq!(delete.total(), 2);
}
