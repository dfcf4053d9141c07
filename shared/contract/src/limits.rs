//! The [`quote_limits_contract`]: the largest quote the API accepts fits every backend with
//! the writes it causes, and one step beyond is refused by the store itself before anything
//! is written, identically on SQLite and DynamoDB (`q2c_model::limits`).
//!
//! The largest quotes are built to the edge of the budget with the model's own check
//! (`check_stored_quote`, what the use-cases apply) as the oracle: the most quote items,
//! the most distinct catalog prices and offerings (`maxCatalogRefs`), and padding grown until
//! one byte more would be refused. Two shapes, because two byte limits bind: many items make
//! the order the binding size (`maxOrderBytes`), few items the quote (`maxQuoteBytes`).

use std::collections::BTreeSet;
use std::sync::Arc;

use q2c_model::lifecycle::{Actor, change_quote_state};
use q2c_model::limits::{
    self, MAX_CATALOG_REFS, MAX_ORDER_BYTES, MAX_PAGE_BYTES, MAX_QUOTE_BYTES, MAX_QUOTE_ITEMS,
};
use q2c_model::tmf::{EntityRef, Note, Quote, QuoteItem, QuotePrice, QuoteState};
use q2c_service::context::{RequestContext, TenantId};
use q2c_service::events::{QuoteEventType, quote_event};
use q2c_service::orders::{OrderStore, order_created_event};
use q2c_service::ports::{OutboxEvent, Page, QuoteFilter, QuoteStore, StoreError, StoredQuote};
use serde_json::json;
use time::Duration;

use crate::fixtures::{T0, new_order, tenant, unique};

/// Runs every rule of the limits against `quotes` and `orders` (the same store).
///
/// # Panics
/// When the store refuses what the budget allows, accepts what it forbids, or fails.
pub async fn quote_limits_contract(quotes: Arc<dyn QuoteStore>, orders: Arc<dyn OrderStore>) {
    the_largest_quote_is_written_repriced_to_disjoint_prices_and_accepted(&*quotes, &*orders).await;
    a_quote_one_step_beyond_is_refused_and_nothing_is_written(&*quotes).await;
    a_listing_page_stops_at_its_byte_budget(&*quotes).await;
}

/// `n` distinct ids `<prefix>-<i>-<run>`.
fn ids(prefix: &str, n: usize) -> Vec<String> {
    let run = unique();
    (0..n).map(|i| format!("{prefix}-{i}-{run}")).collect()
}

/// A priced-looking item of `offering` with one line from `price`.
fn item(index: usize, offering: &str, price: &str) -> QuoteItem {
    let line: QuotePrice = serde_json::from_value(json!({
        "name": "Monthly fee",
        "priceType": "recurring",
        "recurringChargePeriod": "month",
        "price": {"dutyFreeAmount": {"unit": "EUR", "value": 30},
                  "taxIncludedAmount": {"unit": "EUR", "value": 36}, "taxRate": 20},
        "productOfferingPrice": {"id": price, "name": "Monthly fee"}
    }))
    .expect("a price line");
    QuoteItem {
        id: Some((index + 1).to_string()),
        action: Some("add".to_owned()),
        quantity: Some(1),
        state: Some(q2c_model::tmf::QuoteItemState::InProgress),
        product_offering: Some(EntityRef::to(offering)),
        quote_item_price: vec![line],
        ..QuoteItem::default()
    }
}

/// A quote of `items` items spread over `offerings` and `prices` (each used), padded by a
/// note of `padding` characters.
fn quote_with(
    id: &str,
    items: usize,
    offerings: &[String],
    prices: &[String],
    padding: usize,
) -> StoredQuote {
    let quote = Quote {
        id: Some(id.to_owned()),
        href: Some(format!(
            "https://api.example.com/tmf-api/quoteManagement/v4/quote/{id}"
        )),
        quote_date: Some(T0),
        state: Some(QuoteState::InProgress),
        related_party: vec![
            serde_json::from_value(json!({"id": "party-1", "role": "customer"})).expect("party"),
        ],
        quote_item: (0..items)
            .map(|i| {
                item(
                    i,
                    &offerings[i % offerings.len()],
                    &prices[i % prices.len()],
                )
            })
            .collect(),
        note: vec![Note {
            id: Some("padding".to_owned()),
            text: "p".repeat(padding),
            ..Note::default()
        }],
        type_info: q2c_model::tmf::TypeInfo::of("Quote"),
        ..Quote::default()
    };
    StoredQuote {
        quote,
        version: 1,
        approval_required: false,
        price_ids: prices.to_vec(),
    }
}

/// The largest padding the budget accepts for this shape (binary search with the model's
/// check as the oracle). Ids of the same length give the same answer, so it is computed
/// once per shape.
fn largest_padding(id: &str, items: usize, offerings: &[String], prices: &[String]) -> usize {
    let mut quote = quote_with(id, items, offerings, prices, 0);
    let mut fits = |padding: usize| {
        quote.quote.note[0].text = "p".repeat(padding);
        limits::check_stored_quote(&quote.quote, &quote.price_ids).is_ok()
    };
    assert!(fits(0), "the shape fits without padding");
    let (mut low, mut high) = (0usize, MAX_QUOTE_BYTES.max());
    while low + 1 < high {
        let mid = (low + high) / 2;
        if fits(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    assert!(!fits(low + 1), "one more byte is refused");
    low
}

fn ctx(tenant: &TenantId) -> RequestContext {
    RequestContext {
        tenant: tenant.clone(),
        subject: "contract".to_owned(),
        subject_name: None,
        scopes: BTreeSet::new(),
        correlation_id: "c".repeat(128),
    }
}

fn event(kind: QuoteEventType, quote: &StoredQuote, t: &TenantId) -> OutboxEvent {
    quote_event(kind, &quote.quote, &ctx(t), T0).expect("event serialises")
}

fn json_len<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_string(value).expect("serialises").len()
}

async fn the_largest_quote_is_written_repriced_to_disjoint_prices_and_accepted(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
) {
    let refs = MAX_CATALOG_REFS.max() / 2;
    for (shape, items) in [
        ("most items: the order binds", MAX_QUOTE_ITEMS.max()),
        ("few items: the quote binds", MAX_CATALOG_REFS.max() / 2),
    ] {
        let t = tenant("lim-big");
        let id = format!("q-{}", unique());
        let (offerings, prices) = (ids("po", refs), ids("pop", refs));
        let padding = largest_padding(&id, items, &offerings, &prices);
        let quote = quote_with(&id, items, &offerings, &prices, padding);
        let footprint =
            limits::check_stored_quote(&quote.quote, &quote.price_ids).expect("within the budget");
        assert_eq!(footprint.catalog_refs, MAX_CATALOG_REFS.max(), "{shape}");

        quotes
            .insert(&t, &quote, &[event(QuoteEventType::Create, &quote, &t)])
            .await
            .unwrap_or_else(|e| panic!("{shape}: the largest quote is written: {e:?}"));

        // Re-priced to a disjoint set of prices and offerings, with a state change: the
        // largest transaction (quote, two events, every index entry deleted and put).
        let (offerings2, prices2) = (ids("oq", refs), ids("poq", refs));
        let mut repriced = quote_with(&id, items, &offerings2, &prices2, padding);
        assert!(
            limits::check_stored_quote(&repriced.quote, &repriced.price_ids).is_ok(),
            "{shape}: as large after re-pricing"
        );
        repriced.version = 2;
        repriced.quote.state = Some(QuoteState::Pending);
        let events = [
            event(QuoteEventType::AttributeValueChange, &repriced, &t),
            event(QuoteEventType::StateChange, &repriced, &t),
        ];
        quotes
            .update(&t, &repriced, 1, &events)
            .await
            .unwrap_or_else(|e| panic!("{shape}: re-priced to disjoint prices: {e:?}"));

        // Approved and accepted: the order and its event are the largest items written.
        let actor = Actor {
            id: "approver".to_owned(),
            name: Some("An Approver".to_owned()),
        };
        let mut approved = repriced.clone();
        approved.version = 3;
        approved.quote.state = Some(QuoteState::InProgress);
        change_quote_state(&mut approved.quote, QuoteState::Approved, &actor, T0)
            .expect("approvable");
        limits::check_stored_quote(&approved.quote, &approved.price_ids)
            .unwrap_or_else(|e| panic!("{shape}: approving fits its reserve: {e}"));
        quotes
            .update(
                &t,
                &approved,
                2,
                &[event(QuoteEventType::StateChange, &approved, &t)],
            )
            .await
            .unwrap_or_else(|e| panic!("{shape}: approved: {e:?}"));
        let mut accepted = approved.clone();
        accepted.version = 4;
        change_quote_state(
            &mut accepted.quote,
            QuoteState::Accepted,
            &actor,
            T0 + Duration::minutes(1),
        )
        .expect("acceptable");
        let order_id = uuid::Uuid::now_v7().to_string();
        let mut order = new_order(&accepted, &order_id, T0 + Duration::minutes(1));
        order.order.href = Some(format!(
            "/tmf-api/productOrderingManagement/v4/productOrder/{order_id}"
        ));
        let order_bytes = json_len(&order.order);
        assert!(
            order_bytes <= MAX_ORDER_BYTES.max(),
            "{shape}: {order_bytes}"
        );
        let order_event =
            order_created_event(&order, &t, Some(&"c".repeat(128)), T0).expect("order event");
        let quote_event = event(QuoteEventType::StateChange, &accepted, &t);
        // The sizes the budget promises (docs/limits.md states them).
        assert!(
            json_len(&order_event.body) <= limits::MAX_EVENT_BYTES,
            "{shape}"
        );
        assert!(
            json_len(&quote_event.body) <= limits::MAX_EVENT_BYTES,
            "{shape}"
        );
        quotes
            .accept(&t, &accepted, 3, &order, &[quote_event, order_event])
            .await
            .unwrap_or_else(|e| panic!("{shape}: the largest quote is accepted: {e:?}"));

        let read = quotes.get(&t, &id).await.expect("get").expect("stored");
        assert_eq!(read, accepted, "{shape}: read back whole");
        let stored_order = orders
            .get(&t, &order_id)
            .await
            .expect("get order")
            .expect("order stored");
        assert_eq!(
            stored_order.order, order.order,
            "{shape}: the order read back whole"
        );
    }
}

async fn a_quote_one_step_beyond_is_refused_and_nothing_is_written(quotes: &dyn QuoteStore) {
    let t = tenant("lim-over");
    let refs = MAX_CATALOG_REFS.max() / 2;
    let (offerings, prices) = (ids("po", refs), ids("pop", refs + 1));
    let id = format!("q-{}", unique());
    let over_refs = quote_with(&id, 60, &offerings, &prices, 0);
    match quotes.insert(&t, &over_refs, &[]).await {
        Err(StoreError::Limit(e)) => {
            assert_eq!(e.limit, MAX_CATALOG_REFS);
            assert_eq!(e.received, MAX_CATALOG_REFS.value + 1);
        }
        other => panic!("41 index entries must be refused by the store: {other:?}"),
    }

    // The store's own byte limit has no reserve: fill the quote to exactly `maxQuoteBytes`
    // (its JSON and the copies stored beside it), then one byte more.
    let (offerings, prices) = (ids("po", 5), ids("pop", 5));
    let beside = |q: &StoredQuote| {
        q.price_ids.iter().map(String::len).sum::<usize>()
            + q.quote
                .related_party
                .iter()
                .map(|p| p.id.len())
                .sum::<usize>()
    };
    let empty = quote_with(&id, 5, &offerings, &prices, 0);
    let room = MAX_QUOTE_BYTES.max() - json_len(&empty.quote) - beside(&empty);
    let exact = quote_with(&id, 5, &offerings, &prices, room);
    assert_eq!(
        json_len(&exact.quote) + beside(&exact),
        MAX_QUOTE_BYTES.max()
    );
    let over = quote_with(&id, 5, &offerings, &prices, room + 1);
    match quotes
        .insert(&t, &over, &[event(QuoteEventType::Create, &over, &t)])
        .await
    {
        Err(StoreError::Limit(e)) => {
            assert_eq!(e.limit, MAX_QUOTE_BYTES);
            assert_eq!(e.received, MAX_QUOTE_BYTES.value + 1);
        }
        other => panic!("a quote one byte over maxQuoteBytes must be refused: {other:?}"),
    }
    assert_eq!(
        quotes.get(&t, &id).await.expect("get"),
        None,
        "nothing of a refused write is stored"
    );
    quotes
        .insert(&t, &exact, &[event(QuoteEventType::Create, &exact, &t)])
        .await
        .expect("exactly maxQuoteBytes is written");
}

async fn a_listing_page_stops_at_its_byte_budget(quotes: &dyn QuoteStore) {
    let t = tenant("lim-page");
    let (offerings, prices) = (ids("po", 2), ids("pop", 2));
    let n = 14;
    let mut written = Vec::new();
    let padding = largest_padding(&format!("q-00-{}", unique()), 10, &offerings, &prices);
    for i in 0..n {
        let id = format!("q-{i:02}-{}", unique());
        let mut quote = quote_with(&id, 10, &offerings, &prices, padding);
        quote.quote.quote_date = Some(T0 + Duration::seconds(i));
        quotes.insert(&t, &quote, &[]).await.expect("insert");
        written.push(id);
    }
    let page = |offset| Page { offset, limit: 100 };
    let first = quotes
        .list(&t, &QuoteFilter::default(), page(0))
        .await
        .expect("list");
    assert_eq!(first.total, n as u64, "the total counts every quote");
    let bytes: usize = first.items.iter().map(|q| json_len(&q.quote)).sum();
    assert!(
        !first.items.is_empty() && first.items.len() < n as usize,
        "a page of large quotes holds fewer than `limit`: {}",
        first.items.len()
    );
    assert!(bytes <= MAX_PAGE_BYTES.max(), "{bytes} bytes in one page");
    let mut seen: Vec<String> = first.items.iter().map(|q| q.id().to_owned()).collect();
    while seen.len() < n as usize {
        let next = quotes
            .list(&t, &QuoteFilter::default(), page(seen.len() as u64))
            .await
            .expect("next page");
        assert!(
            !next.items.is_empty(),
            "paging by the items returned goes on"
        );
        seen.extend(next.items.iter().map(|q| q.id().to_owned()));
    }
    written.reverse();
    assert_eq!(seen, written, "every quote once, newest first");
}
