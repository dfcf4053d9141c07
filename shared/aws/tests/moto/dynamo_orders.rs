//! Product orders on DynamoDB beyond the contract: the item layout of the single table,
//! acceptance leaving the open-quote index, and the requests each order operation makes.

use aws_sdk_dynamodb::types::AttributeValue;
use q2c_aws::{DynamoStore, Operation, RequestSnapshot};
use q2c_service::fanout::{IndexKey, OpenQuoteIndex};
use q2c_service::orders::{Dispatch, DispatchStatus, OrderKey, OrderStore};
use q2c_service::ports::{Destination, Page, QuoteStore};

use crate::common::{accepted, event, insert_accepted, quote, raw_item, setup};

#[tokio::test]
async fn accepting_writes_the_order_item_and_leaves_the_open_quote_index_in_two_requests() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let stored = quote("q-1", now, &["p1"]);
    store.insert(&acme, &stored, &[]).await.expect("insert");
    let (accepted, order) = accepted(&stored, now);
    crate::common::note_no_legacy_index(&store, "p1").await;

    let before = store.requests().snapshot();
    store
        .accept(
            &acme,
            &accepted,
            1,
            &order,
            &[event("o-1", Destination::Orders)],
        )
        .await
        .expect("accept");
    assert_eq!(gets_and_transactions(&store, &before), (2, 1, 1));

    let item = raw_item(store.table(), "T#acme#ORDER#o-1", "ORDER")
        .await
        .expect("the order item is keyed T#<tenant>#ORDER#<id> / ORDER");
    // One of the tenant's 8 listing shards.
    let listing = item["gsi1pk"].as_s().expect("a listing key");
    let shard = listing.strip_prefix("T#acme#ORDERS#").expect("sharded");
    assert!(shard.parse::<u32>().is_ok_and(|n| n < 8), "{listing}");
    assert_eq!(
        item["gsi1sk"],
        AttributeValue::S("2026-01-01T10:00:00.000000000Z#o-1".into())
    );
    assert_eq!(item["dispatch_status"], AttributeValue::S("pending".into()));
    assert_eq!(item["quote_id"], AttributeValue::S("q-1".into()));
    assert!(
        store
            .open_quotes(IndexKey::Price("p1").page(None, 10))
            .await
            .expect("index")
            .quotes
            .is_empty(),
        "an accepted quote is final: it leaves the open-quote index"
    );
}

#[tokio::test]
async fn order_reads_and_dispatch_outcomes_cost_what_the_docs_say() {
    q2c_testkit::require_moto!();
    let (store, acme, now) = setup().await;
    let stored = quote("q-1", now, &[]);
    insert_accepted(&store, &acme, &stored, now).await;

    let before = store.requests().snapshot();
    OrderStore::get(&store, &acme, "o-1")
        .await
        .expect("get")
        .expect("order");
    assert_eq!(store.requests().snapshot().since(&before).total(), 1);

    let before = store.requests().snapshot();
    let page = OrderStore::list(
        &store,
        &acme,
        Page {
            offset: 0,
            limit: 20,
        },
    )
    .await
    .expect("list");
    assert_eq!(page.total, 1);
    let delta = store.requests().snapshot().since(&before);
    // A count and a keys-only read of each of the 9 listing partitions (8 shards and the
    // unsharded key of older releases), then the page's items by key.
    assert_eq!(
        (
            delta.total(),
            delta.of(Operation::Query),
            delta.of(Operation::BatchGetItem)
        ),
        (19, 18, 1)
    );

    let before = store.requests().snapshot();
    let failed = Dispatch {
        status: DispatchStatus::Failed,
        attempts: 5,
        last_error: Some("HTTP 500".into()),
        downstream_id: None,
    };
    store
        .record_dispatch(OrderKey::new(&acme, "o-1"), failed)
        .await
        .expect("record");
    assert_eq!(gets_and_transactions(&store, &before), (2, 1, 1));
}

/// The requests `store` made since `before`: all, `GetItem`s and `TransactWriteItems`.
fn gets_and_transactions(store: &DynamoStore, before: &RequestSnapshot) -> (u64, u64, u64) {
    let delta = store.requests().snapshot().since(before);
    (
        delta.total(),
        delta.of(Operation::GetItem),
        delta.of(Operation::TransactWriteItems),
    )
}
