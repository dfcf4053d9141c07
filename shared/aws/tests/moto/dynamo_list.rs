//! Quote listings: order, ties, filters, paging and totals.

use q2c_model::tmf::QuoteState;
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
    let ids = |listing: &q2c_service::ports::Listing<q2c_service::ports::StoredQuote>| {
        listing
            .items
            .iter()
            .map(|q| q.id().to_owned())
            .collect::<Vec<_>>()
    };
    let all = QuoteFilter::default();

    let page = store
        .list(
            &acme,
            &all,
            Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .expect("list");
    assert_eq!(ids(&page), ["b", "c", "d", "e", "a", "z"]);
    assert_eq!(page.total, 6);
    let page = store
        .list(
            &acme,
            &all,
            Page {
                offset: 1,
                limit: 2,
            },
        )
        .await
        .expect("list");
    assert_eq!(
        (ids(&page), page.total),
        (vec!["c".to_owned(), "d".to_owned()], 6)
    );

    let range = QuoteFilter {
        quote_date_gte: Some(datetime!(2026-01-02 10:00 UTC)),
        quote_date_lt: Some(datetime!(2026-01-03 10:00 UTC)),
        ..QuoteFilter::default()
    };
    let page = store
        .list(
            &acme,
            &range,
            Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .expect("list");
    assert_eq!(
        (ids(&page), page.total),
        (vec!["c".into(), "d".into(), "e".into()], 3)
    );

    let filtered = QuoteFilter {
        state: Some(QuoteState::InProgress),
        related_party_id: Some("cust-1".into()),
        quote_date_lt: Some(datetime!(2026-01-03 0:00 UTC)),
        ..QuoteFilter::default()
    };
    let page = store
        .list(
            &acme,
            &filtered,
            Page {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .expect("list");
    assert_eq!((ids(&page), page.total), (vec!["d".into()], 3));
    let by_external = QuoteFilter {
        external_id: Some("ext-a".into()),
        ..QuoteFilter::default()
    };
    let page = store
        .list(
            &acme,
            &by_external,
            Page {
                offset: 0,
                limit: 5,
            },
        )
        .await
        .expect("list");
    assert_eq!((ids(&page), page.total), (vec!["a".into()], 1));
    let page = store
        .list(
            &acme,
            &all,
            Page {
                offset: 10,
                limit: 5,
            },
        )
        .await
        .expect("list");
    assert_eq!((page.items.len(), page.total), (0, 6));
}
