//! The `QuoteStore::list` contract: tenant scope, each filter and their combination,
//! `quoteDate` DESC then id ordering, offset paging, totals, and index maintenance when a
//! quote changes or goes.

use std::sync::Arc;

use q2c_model::tmf::{QuoteState, RelatedParty};
use q2c_service::context::TenantId;
use q2c_service::ports::{Page, QuoteFilter, QuoteStore};
use time::Duration;

use crate::fixtures::{T0, stored_quote, tenant};

/// Runs every listing rule against `store`.
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn quote_list_contract(store: Arc<dyn QuoteStore>) {
    let t = tenant("ql");
    seed(&*store, &t).await;
    let all = QuoteFilter::default();
    let hour = Duration::hours(1);
    let party_a = filter(|f| f.related_party_id = Some("party-a".to_owned()));
    let external = filter(|f| f.external_id = Some("crm-2".to_owned()));
    // (case, filter, page, the ids on the page, the total)
    let cases: [(&str, QuoteFilter, Page, &[&str], u64); 12] = [
        (
            "no filter",
            all.clone(),
            page(0, 10),
            &["q3", "q2", "q4", "q1"],
            4,
        ),
        ("second page", all.clone(), page(1, 2), &["q2", "q4"], 4),
        ("page past the end", all.clone(), page(10, 5), &[], 4),
        (
            "state",
            filter(|f| f.state = Some(QuoteState::InProgress)),
            page(0, 10),
            &["q3", "q1"],
            2,
        ),
        ("party a", party_a.clone(), page(0, 10), &["q2", "q1"], 2),
        (
            "party b, paged",
            filter(|f| f.related_party_id = Some("party-b".to_owned())),
            page(1, 1),
            &["q2"],
            2,
        ),
        ("externalId", external.clone(), page(0, 10), &["q2"], 1),
        (
            "quoteDate.gte",
            filter(|f| f.quote_date_gte = Some(T0 + 2 * hour)),
            page(0, 10),
            &["q3", "q2", "q4"],
            3,
        ),
        (
            "quoteDate.lt",
            filter(|f| f.quote_date_lt = Some(T0 + 2 * hour)),
            page(0, 10),
            &["q1"],
            1,
        ),
        (
            "date window",
            filter(|f| {
                f.quote_date_gte = Some(T0 + 2 * hour);
                f.quote_date_lt = Some(T0 + 3 * hour);
            }),
            page(0, 10),
            &["q2", "q4"],
            2,
        ),
        (
            "state and party",
            filter(|f| {
                f.state = Some(QuoteState::InProgress);
                f.related_party_id = Some("party-b".to_owned());
            }),
            page(0, 10),
            &["q3"],
            1,
        ),
        (
            "no match",
            filter(|f| f.external_id = Some("nobody".to_owned())),
            page(0, 10),
            &[],
            0,
        ),
    ];
    for (case, filter, page, ids, total) in cases {
        expect(&*store, &t, &filter, page, ids, total, case).await;
    }

    // Changing a quote's parties and deleting a quote keep the filters right.
    let mut q1 = quote_in(&store_get(&*store, &t, "q1").await, 2, &["party-c"]);
    q1.quote.external_id = None;
    store.update(&t, &q1, 1, &[]).await.expect("update q1");
    store.delete(&t, "q2", 1, &[]).await.expect("delete q2");
    expect(
        &*store,
        &t,
        &party_a,
        page(0, 10),
        &[],
        0,
        "party a after changes",
    )
    .await;
    let party_c = filter(|f| f.related_party_id = Some("party-c".to_owned()));
    expect(&*store, &t, &party_c, page(0, 10), &["q1"], 1, "party c").await;
    expect(
        &*store,
        &t,
        &external,
        page(0, 10),
        &[],
        0,
        "deleted externalId",
    )
    .await;
    expect(
        &*store,
        &t,
        &all,
        page(0, 10),
        &["q3", "q4", "q1"],
        3,
        "after delete",
    )
    .await;
}

/// q1 (T0+1h, inProgress, party-a, crm-1), q2 (T0+2h, approved, party-a + party-b, crm-2),
/// q3 (T0+3h, inProgress, party-b), q4 (T0+2h, cancelled, no party); plus, in another
/// tenant, a q4 that matches every filter (so a party index not scoped by tenant shows).
async fn seed(store: &dyn QuoteStore, t: &TenantId) {
    let hour = Duration::hours(1);
    let quotes = [
        (
            "q1",
            1,
            QuoteState::InProgress,
            &["party-a"][..],
            Some("crm-1"),
        ),
        (
            "q2",
            2,
            QuoteState::Approved,
            &["party-a", "party-b"][..],
            Some("crm-2"),
        ),
        ("q3", 3, QuoteState::InProgress, &["party-b"][..], None),
        ("q4", 2, QuoteState::Cancelled, &[][..], None),
    ];
    // Inserted out of order so that insertion order cannot pass for sorting.
    for (id, hours, state, parties, external_id) in [quotes[3], quotes[0], quotes[2], quotes[1]] {
        let mut q = quote_in(&stored_quote(id, T0 + hours * hour), 1, parties);
        q.quote.state = Some(state);
        q.quote.external_id = external_id.map(str::to_owned);
        store.insert(t, &q, &[]).await.expect("seed insert");
    }
    let other = tenant("ql-other");
    let mut q = quote_in(
        &stored_quote("q4", T0 + 2 * hour),
        1,
        &["party-a", "party-b"],
    );
    q.quote.external_id = Some("crm-2".to_owned());
    store
        .insert(&other, &q, &[])
        .await
        .expect("seed other tenant");
}

fn quote_in(
    base: &q2c_service::ports::StoredQuote,
    version: u64,
    parties: &[&str],
) -> q2c_service::ports::StoredQuote {
    let mut q = base.clone();
    q.version = version;
    q.quote.related_party = parties
        .iter()
        .map(|id| RelatedParty {
            id: (*id).to_owned(),
            role: Some("customer".to_owned()),
            ..RelatedParty::default()
        })
        .collect();
    q
}

async fn store_get(
    store: &dyn QuoteStore,
    t: &TenantId,
    id: &str,
) -> q2c_service::ports::StoredQuote {
    store.get(t, id).await.expect("get").expect("seeded quote")
}

async fn expect(
    store: &dyn QuoteStore,
    t: &TenantId,
    filter: &QuoteFilter,
    page: Page,
    ids: &[&str],
    total: u64,
    case: &str,
) {
    let listing = store.list(t, filter, page).await.expect("list");
    let got: Vec<&str> = listing.items.iter().map(|q| q.id()).collect();
    assert_eq!(got, ids, "{case}: items (quoteDate DESC, then id)");
    assert_eq!(listing.total, total, "{case}: total");
}

fn filter(set: impl FnOnce(&mut QuoteFilter)) -> QuoteFilter {
    let mut f = QuoteFilter::default();
    set(&mut f);
    f
}

fn page(offset: u64, limit: u64) -> Page {
    Page { offset, limit }
}
