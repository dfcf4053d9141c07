//! Quote writes: transactions with the outbox and the open-quote index, version conflicts.

use q2c_aws::{DynamoStore, Operation};
use q2c_model::tmf::QuoteState;
use q2c_service::fanout::{FanoutCursor, IndexKey, OpenQuoteIndex};
use q2c_service::ports::{Destination, OutboxStore, QuoteStore, StoreError};
use time::macros::datetime;

use crate::common::{event, quote, setup, store, tenant};

#[tokio::test]
async fn a_quote_and_its_events_are_written_in_one_transaction_and_read_back() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let stored = quote("q-1", now, &["pop-1"]);
    let events = [event("q-1", Destination::QuoteEvents)];

    let before = store.requests().snapshot();
    store.insert(&acme, &stored, &events).await.expect("insert");
    let create = store.requests().snapshot().since(&before);

    assert_eq!(create.total(), 1, "a create is one request: {create:?}");
    assert_eq!(create.of(Operation::TransactWriteItems), 1);
    assert_eq!(
        store.get(&acme, "q-1").await.expect("get"),
        Some(stored.clone())
    );
    assert_eq!(store.get(&tenant("other"), "q-1").await.expect("get"), None);
    assert_eq!(store.pending(10).await.expect("pending"), events.to_vec());
    let again = store.insert(&acme, &stored, &[]).await;
    assert!(matches!(again, Err(StoreError::AlreadyExists)), "{again:?}");
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_writes_no_event() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let mut stored = quote("q-1", now, &[]);
    store.insert(&acme, &stored, &[]).await.expect("insert");
    stored.version = 2;
    stored.quote.description = Some("changed".into());
    store
        .update(&acme, &stored, 1, &[])
        .await
        .expect("first update");

    let stale = store
        .update(&acme, &stored, 1, &[event("q-1", Destination::QuoteEvents)])
        .await;

    assert!(
        matches!(stale, Err(StoreError::VersionConflict)),
        "{stale:?}"
    );
    assert!(store.pending(10).await.expect("pending").is_empty());
    let gone = store.delete(&acme, "q-1", 1, &[]).await;
    assert!(matches!(gone, Err(StoreError::VersionConflict)), "{gone:?}");
    let missing = store
        .update(
            &acme,
            &quote("nope", datetime!(2026-01-01 0:00 UTC), &[]),
            1,
            &[],
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::VersionConflict)),
        "{missing:?}"
    );
    let before = store.requests().snapshot();
    store
        .delete(&acme, "q-1", 2, &[event("q-1", Destination::QuoteEvents)])
        .await
        .expect("delete");
    let delete = store.requests().snapshot().since(&before);
    assert_eq!(
        (
            delete.of(Operation::GetItem),
            delete.of(Operation::TransactWriteItems)
        ),
        (1, 1)
    );
    assert_eq!(store.get(&acme, "q-1").await.expect("get"), None);
    assert_eq!(store.pending(10).await.expect("pending").len(), 1);
}

#[tokio::test]
async fn a_lost_race_on_the_version_condition_is_a_conflict() {
    q2c_testkit::require_moto!();
    // Two writers read version 1; the second transaction's condition fails on DynamoDB.
    let (store, acme, now) = setup().await;
    let mut stored = quote("q-1", now, &[]);
    store.insert(&acme, &stored, &[]).await.expect("insert");
    stored.version = 2;
    let (first, second) = (
        [event("q-1", Destination::QuoteEvents)],
        [event("q-1", Destination::QuoteEvents)],
    );
    let (a, b) = tokio::join!(
        store.update(&acme, &stored, 1, &first),
        store.update(&acme, &stored, 1, &second),
    );
    let conflicts = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(StoreError::VersionConflict)))
        .count();
    assert_eq!(conflicts, 1, "{a:?} {b:?}");
    assert_eq!(store.pending(10).await.expect("pending").len(), 1);
}

#[tokio::test]
async fn the_open_quote_index_follows_prices_and_drops_final_quotes() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let mut stored = quote("q-1", now, &["p1", "p2"]);
    store.insert(&acme, &stored, &[]).await.expect("insert");
    let other = quote("q-9", datetime!(2026-01-01 10:00 UTC), &["p1"]);
    store
        .insert(&tenant("beta"), &other, &[])
        .await
        .expect("insert");
    assert_eq!(users_of(&store, "p1").await, ["acme/q-1", "beta/q-9"]);

    stored.version = 2;
    stored.price_ids = vec!["p2".into(), "p3".into()];
    store
        .update(&acme, &stored, 1, &[])
        .await
        .expect("re-price");
    assert_eq!(users_of(&store, "p1").await, ["beta/q-9"]);
    assert_eq!(users_of(&store, "p3").await, ["acme/q-1"]);

    stored.version = 3;
    stored.quote.state = Some(QuoteState::Cancelled);
    store.update(&acme, &stored, 2, &[]).await.expect("cancel");
    assert!(users_of(&store, "p2").await.is_empty());
    assert!(users_of(&store, "p3").await.is_empty());
    store
        .delete(&tenant("beta"), "q-9", 1, &[])
        .await
        .expect("delete");
    assert!(users_of(&store, "p1").await.is_empty());
}

#[tokio::test]
async fn a_write_over_the_transaction_limit_is_refused_before_sending() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let events: Vec<_> = (0..100)
        .map(|_| event("q-1", Destination::QuoteEvents))
        .collect();
    let stored = quote("q-1", datetime!(2026-01-01 10:00 UTC), &[]);

    let result = store.insert(&tenant("acme"), &stored, &events).await;

    // Permanent, so a limit (422 at the API), never a backend error to retry.
    let Err(StoreError::Limit(error)) = result else {
        panic!("expected a limit error, got {result:?}");
    };
    assert_eq!(error.limit.name, "dynamodbTransactionItems");
    assert_eq!((error.limit.value, error.received), (100, 101));
    assert_eq!(store.requests().get(Operation::TransactWriteItems), 0);
}

#[tokio::test]
async fn a_reused_event_id_refuses_the_whole_write() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let acme = tenant("acme");
    let reused = [event("q-1", Destination::QuoteEvents)];
    let date = datetime!(2026-01-01 10:00 UTC);
    store
        .insert(&acme, &quote("q-1", date, &[]), &reused)
        .await
        .expect("insert");

    let result = store
        .insert(&acme, &quote("q-2", date, &["p1"]), &reused)
        .await;

    let Err(StoreError::Backend(error)) = result else {
        panic!("expected a backend error, got {result:?}");
    };
    let error = error
        .downcast::<q2c_aws::DynamoError>()
        .expect("a DynamoError");
    assert!(
        matches!(*error, q2c_aws::DynamoError::DuplicateEvent { ref positions } if positions == &[1]),
        "{error:?}"
    );
    assert_eq!(store.get(&acme, "q-2").await.expect("get"), None);
    assert!(
        store
            .open_quotes(IndexKey::Price("p1").page(None, 10))
            .await
            .expect("index")
            .quotes
            .is_empty()
    );
}

#[tokio::test]
async fn the_open_quote_index_pages_by_tenant_then_quote_id() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let date = datetime!(2026-01-01 10:00 UTC);
    for (t, q) in [("b", "q-1"), ("a", "q-2"), ("a-x", "q-0"), ("a", "q-1")] {
        let stored = quote(q, date, &["p1"]);
        store
            .insert(&tenant(t), &stored, &[])
            .await
            .expect("insert");
    }
    let mut pages = Vec::new();
    let mut after: Option<FanoutCursor> = None;
    loop {
        let page = store
            .open_quotes(IndexKey::Price("p1").page(after.as_ref(), 3))
            .await
            .expect("page");
        pages.push(
            page.quotes
                .iter()
                .map(|r| format!("{}/{}", r.tenant, r.quote_id))
                .collect::<Vec<_>>(),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, [vec!["a/q-1", "a/q-2", "a-x/q-0"], vec!["b/q-1"]]);
}

#[tokio::test]
async fn update_from_is_one_transaction_and_a_stale_previous_writes_nothing() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let v1 = quote("q-1", now, &["p1"]);
    store.insert(&acme, &v1, &[]).await.expect("insert");
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.price_ids = vec!["p2".into()];
    let events = [event("q-1", Destination::QuoteEvents)];
    crate::common::note_no_legacy_index(&store, "p1").await;

    let before = store.requests().snapshot();
    store
        .update_from(&acme, &v1, &v2, &events)
        .await
        .expect("update from v1");
    let update = store.requests().snapshot().since(&before);

    assert_eq!(update.total(), 1, "no read before the write: {update:?}");
    assert_eq!(update.of(Operation::TransactWriteItems), 1);
    assert!(
        users_of(&store, "p1").await.is_empty(),
        "the previous price's entry is gone"
    );
    assert_eq!(users_of(&store, "p2").await, ["acme/q-1"]);
    assert_eq!(store.pending(10).await.expect("pending"), events.to_vec());

    // A writer still holding v1 loses: the version condition fails inside the transaction.
    let mut stale = v1.clone();
    stale.version = 2;
    stale.price_ids = vec!["p3".into()];
    let conflict = store
        .update_from(
            &acme,
            &v1,
            &stale,
            &[event("q-1", Destination::QuoteEvents)],
        )
        .await;

    assert!(
        matches!(conflict, Err(StoreError::VersionConflict)),
        "{conflict:?}"
    );
    assert_eq!(store.get(&acme, "q-1").await.expect("get"), Some(v2));
    assert_eq!(
        store.pending(10).await.expect("pending"),
        events.to_vec(),
        "no event of the lost write"
    );
    assert!(
        users_of(&store, "p3").await.is_empty(),
        "no index entry of the lost write"
    );
    assert_eq!(users_of(&store, "p2").await, ["acme/q-1"]);
}

#[tokio::test]
async fn get_many_reads_up_to_a_hundred_quotes_per_request() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let stored = quote("q-1", now, &["p1"]);
    store.insert(&acme, &stored, &[]).await.expect("insert");
    let mut keys: Vec<_> = (0..150)
        .map(|n| (acme.clone(), format!("missing-{n}")))
        .collect();
    keys[120] = (acme.clone(), "q-1".to_owned());

    let before = store.requests().snapshot();
    let found = store.get_many(&keys).await.expect("get_many");
    let reads = store.requests().snapshot().since(&before);

    assert_eq!(reads.total(), 2, "150 keys in two requests: {reads:?}");
    assert_eq!(reads.of(Operation::BatchGetItem), 2);
    assert_eq!(found[120], Some(stored));
    assert_eq!(found.iter().flatten().count(), 1);
}

/// `<tenant>/<quote id>` of the open quotes using `price` (the first 100).
async fn users_of(store: &DynamoStore, price: &str) -> Vec<String> {
    store
        .open_quotes(IndexKey::Price(price).page(None, 100))
        .await
        .expect("index query")
        .quotes
        .into_iter()
        .map(|r| format!("{}/{}", r.tenant, r.quote_id))
        .collect()
}
