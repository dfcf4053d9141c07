//! The cursor scans of the listings (`QuoteStore::scan`, `OrderStore::scan`,
//! `CatalogStore::scan_*`, see `q2c_service::listing`): a walk page after page by cursor
//! returns exactly the offset listing, in its order (ties of a date by id, undated last),
//! whatever the page size; resources inserted during a walk never make one appear twice or
//! be missed; a position that names no resource still continues at its place in the order;
//! the index filters and date range apply as in `list`; a tenant sees only its own.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use q2c_model::tmf::QuoteState;
use q2c_service::listing::{ListCursor, Listed, Scan, Scanned, listing_order};
use q2c_service::orders::OrderStore;
use q2c_service::ports::{CatalogStore, Page, QuoteFilter, QuoteStore, StoreError, StoredQuote};
use time::{Duration, OffsetDateTime};

use crate::fixtures::{T0, offering, stored_quote, tenant, unique};
use crate::orders::accept_new;

/// Runs every cursor paging rule against the stores.
///
/// # Panics
/// When a store breaks a rule (the message names it) or fails.
pub async fn cursor_paging_contract(
    quotes: Arc<dyn QuoteStore>,
    orders: Arc<dyn OrderStore>,
    catalog: Arc<dyn CatalogStore>,
) {
    quote_walks(&*quotes).await;
    order_walks(&*quotes, &*orders).await;
    catalog_walks(&*catalog).await;
}

/// Every resource from the start, page by page of `max`, with the cursors in between.
async fn walk<T, F, Fut>(scan: F, max: u64) -> Vec<T>
where
    T: Listed,
    F: FnMut(Scan) -> Fut,
    Fut: Future<Output = Result<Scanned<T>, StoreError>>,
{
    walk_from(scan, max, None).await
}

/// Every resource after `after`, page by page of `max`.
async fn walk_from<T, F, Fut>(mut scan: F, max: u64, mut after: Option<ListCursor>) -> Vec<T>
where
    T: Listed,
    F: FnMut(Scan) -> Fut,
    Fut: Future<Output = Result<Scanned<T>, StoreError>>,
{
    let mut all = Vec::new();
    for _ in 0..1_000 {
        let page = scan(Scan { after, max }).await.expect("scan");
        assert!(page.items.len() as u64 <= max, "a scan returns at most max");
        after = page.items.last().map(Listed::position);
        let more = page.more;
        all.extend(page.items);
        if !more {
            return all;
        }
        assert!(after.is_some(), "more without a resource to continue from");
    }
    panic!("the walk did not end");
}

fn ids<T: Listed>(items: &[T]) -> Vec<String> {
    items.iter().map(|i| i.position().id).collect()
}

/// A quote dated `at` (undated with `None`) in `state`.
fn quote(id: &str, at: Option<OffsetDateTime>, state: QuoteState) -> StoredQuote {
    let mut q = stored_quote(id, T0);
    q.quote.quote_date = at;
    q.quote.state = Some(state);
    q
}

async fn quote_walks(store: &dyn QuoteStore) {
    let t = tenant("cp");
    let hour = Duration::hours(1);
    // 20 dated quotes in 6 groups of ties, 3 undated, inserted in no order.
    let mut seeded = Vec::new();
    for i in [
        7, 19, 0, 12, 3, 15, 8, 1, 17, 10, 4, 13, 6, 18, 2, 11, 9, 16, 5, 14,
    ] {
        let state = if i % 2 == 0 {
            QuoteState::InProgress
        } else {
            QuoteState::Approved
        };
        seeded.push(quote(&format!("q{i:02}"), Some(T0 + (i % 6) * hour), state));
    }
    for id in ["u2", "u0", "u1"] {
        seeded.push(quote(id, None, QuoteState::InProgress));
    }
    for q in &seeded {
        store.insert(&t, q, &[]).await.expect("seed");
    }
    let other = tenant("cp-other");
    store
        .insert(&other, &quote("q03", Some(T0), QuoteState::InProgress), &[])
        .await
        .expect("other tenant");

    let all = QuoteFilter::default();
    let full = store
        .list(
            &t,
            &all,
            Page {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .expect("list");
    let expected = ids(&full.items);
    assert_eq!(expected.len(), 23);
    assert_eq!(
        &expected[..4],
        ["q05", "q11", "q17", "q04"],
        "newest date, ties by id"
    );
    assert_eq!(&expected[20..], ["u0", "u1", "u2"], "undated last, by id");

    for max in [1, 2, 3, 5, 50] {
        let walked = walk(|scan| store.scan(&t, &all, scan), max).await;
        assert_eq!(ids(&walked), expected, "a walk by {max} is the listing");
    }

    // The index filters and the date range apply as in `list`.
    let approved_since = QuoteFilter {
        state: Some(QuoteState::Approved),
        quote_date_gte: Some(T0 + 2 * hour),
        quote_date_lt: Some(T0 + 5 * hour),
        ..QuoteFilter::default()
    };
    let listed = store
        .list(
            &t,
            &approved_since,
            Page {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .expect("filtered list");
    let walked = walk(|scan| store.scan(&t, &approved_since, scan), 2).await;
    assert_eq!(
        ids(&walked),
        ids(&listed.items),
        "filtered walk is the filtered listing"
    );
    assert!(!walked.is_empty());

    // A position naming no quote continues at its place: after (T0 + 3h, "q10") come the
    // ties of T0 + 3h above "q10", then the older dates, then the undated.
    let forged = ListCursor::after(Some(T0 + 3 * hour), "q10");
    let rest = store
        .scan(
            &t,
            &all,
            Scan {
                after: Some(forged.clone()),
                max: 100,
            },
        )
        .await
        .expect("scan after a forged position");
    let want: Vec<String> = listed_after(&full.items, &forged);
    assert_eq!(ids(&rest.items), want);
    assert_eq!(
        &ids(&rest.items)[..2],
        ["q15", "q02"],
        "the rest of the date first"
    );
    assert!(!rest.more);

    // Inserts during a walk: every quote that was there is seen once, nothing twice.
    let mut seen = Vec::new();
    let first = store
        .scan(
            &t,
            &all,
            Scan {
                after: None,
                max: 4,
            },
        )
        .await
        .expect("first page");
    seen.extend(ids(&first.items));
    let inserted = [
        quote(
            &format!("n-{}", unique()),
            Some(T0 + 100 * hour),
            QuoteState::InProgress,
        ),
        quote("q03a", Some(T0 + 3 * hour), QuoteState::InProgress),
        quote("q05a", Some(T0 + 5 * hour), QuoteState::InProgress),
        quote("u00", None, QuoteState::InProgress),
    ];
    for q in &inserted {
        store
            .insert(&t, q, &[])
            .await
            .expect("insert during the walk");
    }
    let after = first.items.last().map(Listed::position);
    let rest = walk_from(|scan| store.scan(&t, &all, scan), 4, after).await;
    seen.extend(ids(&rest));
    let unique_seen: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique_seen.len(), seen.len(), "no quote twice: {seen:?}");
    let originals: Vec<&String> = seen.iter().filter(|id| expected.contains(id)).collect();
    assert_eq!(
        originals,
        expected.iter().collect::<Vec<_>>(),
        "every original once, in order"
    );
    for late in ["q03a", "u00"] {
        assert!(
            seen.iter().any(|id| id == late),
            "{late} sorts after the cursor"
        );
    }
}

/// The ids of `listing` (in listing order) after `position`.
fn listed_after<T: Listed>(listing: &[T], position: &ListCursor) -> Vec<String> {
    listing
        .iter()
        .filter(|item| listing_order(&item.position(), position).is_gt())
        .map(|item| item.position().id)
        .collect()
}

async fn order_walks(quotes: &dyn QuoteStore, orders: &dyn OrderStore) {
    let t = tenant("cp-o");
    for i in [4, 0, 6, 2, 5, 1, 3] {
        let at = T0 + Duration::minutes(i % 3);
        accept_new(quotes, &t, &format!("q{i}"), &format!("o{i}"), at).await;
    }
    let listed = orders
        .list(
            &t,
            Page {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .expect("list");
    let expected = ids(&listed.items);
    assert_eq!(expected, ["o2", "o5", "o1", "o4", "o0", "o3", "o6"]);
    for max in [1, 3, 10] {
        let walked = walk(|scan| orders.scan(&t, scan), max).await;
        assert_eq!(ids(&walked), expected, "an order walk by {max}");
    }
}

async fn catalog_walks(catalog: &dyn CatalogStore) {
    let prefix = format!("cp-{}", unique());
    for i in [3, 0, 4, 1, 2] {
        catalog
            .put_offering(&offering(&format!("{prefix}-{i}"), "walked"))
            .await
            .expect("put offering");
    }
    // The catalog is shared: walk from just before this run's ids and keep them.
    let before = ListCursor::after(None, &prefix);
    let page = catalog
        .scan_offerings(Scan {
            after: Some(before.clone()),
            max: 3,
        })
        .await
        .expect("scan offerings");
    let got: Vec<String> = ids(&page.items);
    assert_eq!(
        got,
        [0, 1, 2].map(|i| format!("{prefix}-{i}")),
        "by id after the position"
    );
    assert!(page.more);
    let rest = catalog
        .scan_offerings(Scan {
            after: page.items.last().map(Listed::position),
            max: 100,
        })
        .await
        .expect("rest");
    let mine: Vec<String> = ids(&rest.items)
        .into_iter()
        .filter(|id| id.starts_with(&prefix))
        .collect();
    assert_eq!(mine, [3, 4].map(|i| format!("{prefix}-{i}")));
}
