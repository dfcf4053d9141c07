//! The open-quote index sharded (`POPIDX#<priceId>#<n>`) with the unsharded items of older
//! releases (`POPIDX#<priceId>`) still in place: pages merge every partition in sort key
//! order, and a quote leaving the index removes its item wherever it is.

use aws_sdk_dynamodb::types::AttributeValue;
use q2c_aws::{DynamoStore, Operation};
use q2c_model::tmf::QuoteState;
use q2c_service::fanout::{FanoutCursor, IndexKey, OpenQuoteIndex};
use q2c_service::ports::QuoteStore;
use time::macros::datetime;

use crate::common::{dynamo_client, quote, raw_item, store, tenant};

const SHARDS: u32 = 8;

/// The sort keys in each shard of `POPIDX#<price>` and in the unsharded key, read raw.
async fn partitions(store: &DynamoStore, price: &str) -> (Vec<Vec<String>>, Vec<String>) {
    let mut shards = Vec::new();
    for n in 0..SHARDS {
        shards.push(sort_keys(store, &format!("POPIDX#{price}#{n}")).await);
    }
    (shards, sort_keys(store, &format!("POPIDX#{price}")).await)
}

async fn sort_keys(store: &DynamoStore, pk: &str) -> Vec<String> {
    let output = dynamo_client()
        .query()
        .table_name(store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("Query");
    output
        .items()
        .iter()
        .map(|item| item["sk"].as_s().expect("sk").clone())
        .collect()
}

/// Moves `tenant/quote`'s item of `price` from its shard to the unsharded key, as a release
/// before the shards wrote it.
async fn move_to_legacy(store: &DynamoStore, price: &str, tenant: &str, quote: &str) {
    let client = dynamo_client();
    let sk = format!("{tenant}#{quote}");
    for n in 0..SHARDS {
        client
            .delete_item()
            .table_name(store.table())
            .key("pk", AttributeValue::S(format!("POPIDX#{price}#{n}")))
            .key("sk", AttributeValue::S(sk.clone()))
            .send()
            .await
            .expect("DeleteItem");
    }
    client
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S(format!("POPIDX#{price}")))
        .item("sk", AttributeValue::S(sk))
        .item("tenant", AttributeValue::S(tenant.to_owned()))
        .item("quote_id", AttributeValue::S(quote.to_owned()))
        .send()
        .await
        .expect("PutItem");
}

/// Every page of `price`'s open quotes, `limit` a page, as `<tenant>#<quoteId>`.
async fn pages(store: &DynamoStore, price: &str, limit: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after: Option<FanoutCursor> = None;
    loop {
        let page = store
            .open_quotes(IndexKey::Price(price).page(after.as_ref(), limit))
            .await
            .expect("page");
        let names: Vec<String> = page
            .quotes
            .iter()
            .map(|q| format!("{}#{}", q.tenant, q.quote_id))
            .collect();
        // The cursor names the page's last quote, and only when more follow.
        assert_eq!(
            page.next.as_ref().map(|c| c.as_str().to_owned()),
            names.last().cloned().filter(|_| page.next.is_some())
        );
        pages.push(names);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    pages
}

#[tokio::test]
async fn pages_merge_the_shards_and_the_unsharded_key_in_order_and_removals_find_both() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let date = datetime!(2026-01-01 10:00 UTC);
    let mut expected = Vec::new();
    for t in ["a", "b", "c-x"] {
        for i in 0..10 {
            let id = format!("q-{i:02}");
            let stored = quote(&id, date, &["p1"]);
            store
                .insert(&tenant(t), &stored, &[])
                .await
                .expect("insert");
            expected.push(format!("{t}#{id}"));
        }
    }
    expected.sort();
    // Every third quote as an older release indexed it: under the unsharded key.
    let legacy: Vec<&String> = expected.iter().step_by(3).collect();
    for name in &legacy {
        let (t, q) = name.split_once('#').expect("name");
        move_to_legacy(&store, "p1", t, q).await;
    }
    let (shards, unsharded) = partitions(&store, "p1").await;
    let used = shards.iter().filter(|s| !s.is_empty()).count();
    assert!(
        used >= 4,
        "30 quotes spread over several shards: {shards:?}"
    );
    assert_eq!(unsharded.len(), legacy.len());
    assert_eq!(
        shards.iter().map(Vec::len).sum::<usize>() + unsharded.len(),
        expected.len()
    );

    // Pages of 4 (and of 7, 1, and all at once) cross shard and legacy boundaries: every
    // quote once, in sort key order, as from one partition.
    for limit in [4, 7, 1, 50] {
        let pages = pages(&store, "p1", limit).await;
        assert!(pages.iter().all(|p| p.len() <= limit));
        assert_eq!(pages.concat(), expected, "pages of {limit}");
        assert_eq!(pages.len(), expected.len().div_ceil(limit).max(1));
    }

    // A quote leaving the index takes its item with it, unsharded or not.
    let legacy_quote = legacy[1].split_once('#').expect("name");
    let sharded_quote = expected[1].split_once('#').expect("name");
    for (t, q) in [legacy_quote, sharded_quote] {
        let mut cancelled = quote(q, date, &["p1"]);
        cancelled.version = 2;
        cancelled.quote.state = Some(QuoteState::Cancelled);
        store
            .update(&tenant(t), &cancelled, 1, &[])
            .await
            .expect("cancel");
    }
    // Re-priced away from `p1` (an unsharded item) and deleted (another).
    let (t, q) = legacy[2].split_once('#').expect("name");
    let mut repriced = quote(q, date, &["p2"]);
    repriced.version = 2;
    store
        .update(&tenant(t), &repriced, 1, &[])
        .await
        .expect("re-price");
    let (dt, dq) = legacy[3].split_once('#').expect("name");
    store.delete(&tenant(dt), dq, 1, &[]).await.expect("delete");
    assert!(
        raw_item(store.table(), "POPIDX#p1", legacy[1])
            .await
            .is_none()
    );
    assert!(
        raw_item(store.table(), "POPIDX#p1", legacy[2])
            .await
            .is_none()
    );
    assert!(
        raw_item(store.table(), "POPIDX#p1", legacy[3])
            .await
            .is_none()
    );
    let gone = [legacy[1], &expected[1], legacy[2], legacy[3]];
    let left: Vec<String> = expected
        .iter()
        .filter(|n| !gone.contains(n))
        .cloned()
        .collect();
    assert_eq!(pages(&store, "p1", 4).await.concat(), left);
    assert_eq!(pages(&store, "p2", 4).await.concat(), [legacy[2].clone()]);
    let (shards, unsharded) = partitions(&store, "p1").await;
    assert_eq!(unsharded.len(), legacy.len() - 3);
    assert_eq!(
        shards.iter().map(Vec::len).sum::<usize>(),
        left.len() - unsharded.len()
    );
}

#[tokio::test]
async fn once_the_unsharded_key_is_found_empty_a_removal_does_not_look_there() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let (acme, date) = (tenant("acme"), datetime!(2026-01-01 10:00 UTC));
    for id in ["q-1", "q-2"] {
        store
            .insert(&acme, &quote(id, date, &["p1"]), &[])
            .await
            .expect("insert");
    }
    let cancel = |id: &str| {
        let mut cancelled = quote(id, date, &["p1"]);
        cancelled.version = 2;
        cancelled.quote.state = Some(QuoteState::Cancelled);
        cancelled
    };

    let cancel_counted = |id: &'static str| {
        let (store, acme, cancelled) = (&store, &acme, cancel(id));
        async move {
            let before = store.requests().snapshot();
            store
                .update(acme, &cancelled, 1, &[])
                .await
                .expect("cancel");
            store.requests().snapshot().since(&before)
        }
    };

    // Not known yet: one Query (Limit 1) of `POPIDX#p1` finds it empty before the write.
    let first = cancel_counted("q-1").await;
    assert_eq!(
        (
            first.of(Operation::Query),
            first.of(Operation::GetItem),
            first.of(Operation::TransactWriteItems)
        ),
        (1, 1, 1),
        "{first:?}"
    );

    // Known now: the quote's read and its transaction only.
    let second = cancel_counted("q-2").await;
    assert_eq!(second.total(), 2, "{second:?}");
    assert!(pages(&store, "p1", 10).await.concat().is_empty());
}

#[tokio::test]
async fn a_price_id_naming_another_price_s_shard_reads_and_removes_only_its_own_items() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let (acme, date) = (tenant("acme"), datetime!(2026-01-01 10:00 UTC));
    let ids: Vec<String> = (0..12).map(|i| format!("q-{i:02}")).collect();
    for id in &ids {
        store
            .insert(&acme, &quote(id, date, &["x"]), &[])
            .await
            .expect("insert");
    }
    // A shard of `x` holding more than one quote, and a price whose unsharded key is its name.
    let (shards, _) = partitions(&store, "x").await;
    let (n, in_shard) = shards
        .iter()
        .enumerate()
        .find(|(_, s)| s.len() >= 2)
        .expect("12 quotes over 8 shards: one holds two");
    let twin = format!("x#{n}");
    let (_, chosen) = in_shard[0].split_once('#').expect("sk");
    let mut both = quote(chosen, date, &["x", &twin]);
    both.version = 2;
    store.update(&acme, &both, 1, &[]).await.expect("add twin");

    // The twin's page is its own quote, not the other quotes of `x`'s shard of that name.
    assert_eq!(
        pages(&store, &twin, 10).await.concat(),
        [in_shard[0].clone()]
    );

    // Dropping the twin leaves the quote's item of `x`, which has the twin's key name.
    let mut only_x = quote(chosen, date, &["x"]);
    only_x.version = 3;
    store
        .update(&acme, &only_x, 2, &[])
        .await
        .expect("drop twin");
    assert!(pages(&store, &twin, 10).await.concat().is_empty());
    let mut all: Vec<String> = ids.iter().map(|id| format!("acme#{id}")).collect();
    all.sort();
    assert_eq!(pages(&store, "x", 5).await.concat(), all);
}
