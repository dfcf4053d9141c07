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
