//! Quote listings: order, ties, filters, paging and totals.

use q2c_aws::DynamoStore;
use q2c_model::tmf::QuoteState;
use q2c_service::context::TenantId;
use q2c_service::ports::{Page, QuoteFilter, QuoteStore};
use time::macros::datetime;

use crate::common::{quote, store, tenant};

#[tokio::test]
async fn listing_is_newest_first_then_by_id_with_filters_paging_and_total() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let acme = tenant("acme");
    let dates = [
        ("a", datetime!(2026-01-01 10:00 UTC)),
        ("b", datetime!(2026-01-03 10:00 UTC)),
        ("c", datetime!(2026-01-02 10:00 UTC)),
        ("d", datetime!(2026-01-02 10:00 UTC)),
        ("e", datetime!(2026-01-02 10:00 UTC)),
    ];
    for (id, date) in dates {
        let mut stored = quote(id, date, &[]);
        if id == "c" {
            stored.quote.state = Some(QuoteState::Pending);
            stored.quote.related_party.clear();
        }
        store.insert(&acme, &stored, &[]).await.expect("insert");
    }
    let mut undated = quote("z", datetime!(2026-01-01 0:00 UTC), &[]);
    undated.quote.quote_date = None;
    store.insert(&acme, &undated, &[]).await.expect("insert");
    store
        .insert(
            &tenant("beta"),
            &quote("x", datetime!(2026-01-05 0:00 UTC), &[]),
            &[],
        )
        .await
        .expect("insert");
    let all = QuoteFilter::default();

    let (ids, total) = listed(&store, &acme, &all, 0, 10).await;
    assert_eq!(ids, ["b", "c", "d", "e", "a", "z"]);
    assert_eq!(total, 6);
    let page = listed(&store, &acme, &all, 1, 2).await;
    assert_eq!(page, (vec!["c".to_owned(), "d".to_owned()], 6));

    let range = QuoteFilter {
        quote_date_gte: Some(datetime!(2026-01-02 10:00 UTC)),
        quote_date_lt: Some(datetime!(2026-01-03 10:00 UTC)),
        ..QuoteFilter::default()
    };
    let page = listed(&store, &acme, &range, 0, 10).await;
    assert_eq!(page, (vec!["c".into(), "d".into(), "e".into()], 3));

    let filtered = QuoteFilter {
        state: Some(QuoteState::InProgress),
        related_party_id: Some("cust-1".into()),
        quote_date_lt: Some(datetime!(2026-01-03 0:00 UTC)),
        ..QuoteFilter::default()
    };
    let page = listed(&store, &acme, &filtered, 0, 1).await;
    assert_eq!(page, (vec!["d".into()], 3));
    let by_external = QuoteFilter {
        external_id: Some("ext-a".into()),
        ..QuoteFilter::default()
    };
    let page = listed(&store, &acme, &by_external, 0, 5).await;
    assert_eq!(page, (vec!["a".into()], 1));
    let (ids, total) = listed(&store, &acme, &all, 10, 5).await;
    assert_eq!((ids.len(), total), (0, 6));
}

/// The ids on the page (`offset`, `limit`) of `tenant`'s quotes matching `filter`, and the
/// total.
async fn listed(
    store: &DynamoStore,
    tenant: &TenantId,
    filter: &QuoteFilter,
    offset: u64,
    limit: u64,
) -> (Vec<String>, u64) {
    let listing = store
        .list(tenant, filter, Page { offset, limit })
        .await
        .expect("list");
    let ids = listing.items.iter().map(|q| q.id().to_owned()).collect();
    (ids, listing.total)
}

/// Moves quote `id`'s listing entry to the unsharded `gsi1` key older releases wrote.
async fn move_to_legacy_listing(store: &DynamoStore, tenant: &TenantId, id: &str) {
    crate::common::dynamo_client()
        .update_item()
        .table_name(store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("T#{tenant}#QUOTE#{id}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("QUOTE".into()),
        )
        .update_expression("SET gsi1pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("T#{tenant}#QUOTES")),
        )
        .send()
        .await
        .expect("move to the legacy listing key");
}

/// A tenant's listing written over the 8 listing shards, and partly under the unsharded key
/// of older releases, lists as one: offset pages and cursor walks give every quote once, newest
/// first, with the total of all partitions.
#[tokio::test]
async fn a_listing_spread_over_the_shards_and_the_legacy_key_reads_as_one() {
    q2c_testkit::require_moto!();
    let store = store().await;
    let acme = tenant("acme");
    let start = datetime!(2026-01-01 10:00 UTC);
    let mut expected = Vec::new();
    for i in 0..16 {
        let id = format!("q-{i:02}");
        // Two quotes per hour: ties across shards.
        let at = start + time::Duration::hours(i / 2);
        store
            .insert(&acme, &quote(&id, at, &[]), &[])
            .await
            .expect("insert");
        expected.push(id);
    }
    for id in ["q-03", "q-08", "q-13"] {
        move_to_legacy_listing(&store, &acme, id).await;
    }
    // Newest first, ties by id.
    expected.sort_by(|a, b| {
        let hour = |id: &str| id[2..].parse::<i64>().expect("n") / 2;
        hour(b).cmp(&hour(a)).then(a.cmp(b))
    });
    let mut shards = std::collections::BTreeSet::new();
    for id in &expected {
        let item = crate::common::raw_item(store.table(), &format!("T#{acme}#QUOTE#{id}"), "QUOTE")
            .await
            .expect("quote item");
        shards.insert(item["gsi1pk"].as_s().expect("gsi1pk").clone());
    }
    assert!(
        shards.len() >= 4,
        "spread over several partitions: {shards:?}"
    );
    assert!(shards.contains(&format!("T#{acme}#QUOTES")));

    let all = QuoteFilter::default();
    let mut by_offset = Vec::new();
    for offset in (0..16).step_by(5) {
        let page = store
            .list(&acme, &all, Page { offset, limit: 5 })
            .await
            .expect("page");
        assert_eq!(page.total, 16);
        by_offset.extend(page.items.iter().map(|q| q.id().to_owned()));
    }
    assert_eq!(by_offset, expected, "offset pages");

    let mut by_cursor = Vec::new();
    let mut after = None;
    loop {
        let scan = q2c_service::listing::Scan { after, max: 3 };
        let page = store.scan(&acme, &all, scan).await.expect("scan");
        by_cursor.extend(page.items.iter().map(|q| q.id().to_owned()));
        after = page
            .items
            .last()
            .map(q2c_service::listing::Listed::position);
        if !page.more {
            break;
        }
    }
    assert_eq!(by_cursor, expected, "cursor walk");
}
