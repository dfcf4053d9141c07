//! The [`CatalogStore`] contract: put inserts or replaces, lookups by id return what
//! exists, lists are ordered by id and paged with a consistent total.
//!
//! The catalog is shared by tenants, so the suite uses ids with a fresh prefix and checks
//! its own entries within whatever else the catalog holds.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use q2c_service::ports::{CatalogStore, Listing, Page, StoreError};

use crate::fixtures::{offering, price, unique};

/// Runs every catalog rule against `store`.
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn catalog_store_contract(store: Arc<dyn CatalogStore>) {
    let store = &*store;
    let prefix = format!("c-{}", unique());
    let ids: Vec<String> = (0..5).map(|i| format!("{prefix}-{i}")).collect();

    for i in [3, 0, 4, 1, 2] {
        store
            .put_offering(&offering(&ids[i], "first"))
            .await
            .expect("put offering");
        store
            .put_price(&price(&ids[i], 10.5))
            .await
            .expect("put price");
    }
    let replaced = offering(&ids[1], "renamed");
    store
        .put_offering(&replaced)
        .await
        .expect("replace offering");
    let repriced = price(&ids[1], 12.25);
    store.put_price(&repriced).await.expect("replace price");

    let wanted = vec![ids[1].clone(), ids[3].clone(), format!("{prefix}-missing")];
    let mut found = store.offerings(&wanted).await.expect("offerings");
    found.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(
        found,
        [replaced, offering(&ids[3], "first")],
        "existing offerings, replaced body"
    );
    let mut found = store.prices(&wanted).await.expect("prices");
    found.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(
        found,
        [repriced, price(&ids[3], 10.5)],
        "existing prices, replaced body"
    );
    assert!(
        store.offerings(&[]).await.expect("offerings").is_empty(),
        "no ids, no offerings"
    );

    let listed = walk(|page| store.list_offerings(page), |o| o.id.clone()).await;
    assert_eq!(
        own(&listed, &prefix),
        ids,
        "offerings listed once each, ordered by id"
    );
    let listed = walk(|page| store.list_prices(page), |p| p.id.clone()).await;
    assert_eq!(
        own(&listed, &prefix),
        ids,
        "prices listed once each, ordered by id"
    );
}

/// Walks every page of 2, checking order, page sizes and totals; returns all ids.
async fn walk<T, F, Fut>(list: F, id: impl Fn(&T) -> String) -> Vec<String>
where
    T: Debug,
    F: Fn(Page) -> Fut,
    Fut: Future<Output = Result<Listing<T>, StoreError>>,
{
    let limit = 2;
    let first = list(Page { offset: 0, limit }).await.expect("list");
    let total = first.total;
    assert!(total >= 5, "total counts every entry (got {total})");
    let mut ids: Vec<String> = Vec::new();
    let mut page = first;
    loop {
        assert_eq!(page.total, total, "the total is the same on every page");
        let expected_len = (total - ids.len() as u64).min(limit);
        assert_eq!(
            page.items.len() as u64,
            expected_len,
            "page size at offset {}",
            ids.len()
        );
        ids.extend(page.items.iter().map(&id));
        if ids.len() as u64 >= total {
            break;
        }
        page = list(Page {
            offset: ids.len() as u64,
            limit,
        })
        .await
        .expect("list");
    }
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ordered by id, no repeats: {ids:?}"
    );
    let past = list(Page {
        offset: total,
        limit,
    })
    .await
    .expect("list past the end");
    assert!(past.items.is_empty(), "nothing past the end");
    ids
}

fn own(ids: &[String], prefix: &str) -> Vec<String> {
    ids.iter()
        .filter(|id| id.starts_with(prefix))
        .cloned()
        .collect()
}
