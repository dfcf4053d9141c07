//! The [`ProductStore`] contract, with the completion half of
//! [`OrderStore::record_state_change`]: the products an order's completion creates are
//! written in one atomic write with the order's new state and every event announcing them
//! (all or nothing, also at the largest completion, `maxProductsPerOrder`); products are per
//! tenant and round-trip exactly (decimals, unknown fields). Listings (`GET /product`) read a
//! billing account's or an owner party's products, newest `startDate` first (ties by id),
//! filtered by status and offering, paged, per tenant.

use std::sync::Arc;

use q2c_model::inventory::products_from_order;
use q2c_model::limits::MAX_PRODUCTS_PER_ORDER;
use q2c_model::tmf::EntityRef;
use q2c_model::tmf::{ProductOrderState, ProductStatus, QuoteState};
use q2c_service::context::TenantId;
use q2c_service::inventory::{
    ProductEventType, ProductFilter, ProductStore, StoredProduct, product_event,
};
use q2c_service::orders::{OrderStore, StateChange, StoredOrder};
use q2c_service::ports::{Destination, OutboxEvent, OutboxStore, Page, QuoteStore, StoreError};
use serde_json::json;

use crate::fixtures::{
    T0, assert_conflict, event, new_order, pending_ids, stored_quote, tenant, unique,
};

/// Runs every product-store rule against the adapter's quote, order, product and outbox ports
/// (one store behind all four).
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn product_store_contract(
    quotes: Arc<dyn QuoteStore>,
    orders: Arc<dyn OrderStore>,
    products: Arc<dyn ProductStore>,
    outbox: Arc<dyn OutboxStore>,
) {
    a_completion_writes_order_products_and_events_together(
        &*quotes, &*orders, &*products, &*outbox,
    )
    .await;
    a_refused_completion_writes_nothing(&*quotes, &*orders, &*products, &*outbox).await;
    the_largest_completion_is_one_write(&*quotes, &*orders, &*products, &*outbox).await;
    listings_read_an_account_or_a_party(&*quotes, &*orders, &*products).await;
}

/// Accepts a new quote of `items` items (copies of the fixture's item) in tenant `t`; its
/// order, version 1.
async fn accepted_order(quotes: &dyn QuoteStore, t: &TenantId, items: usize) -> StoredOrder {
    let quote_id = unique();
    let mut quote = stored_quote(&quote_id, T0);
    let item = quote.quote.quote_item[0].clone();
    quote.quote.quote_item = (1..=items)
        .map(|i| {
            let mut copy = item.clone();
            copy.id = Some(i.to_string());
            copy
        })
        .collect();
    quote.quote.billing_account = vec![q2c_model::tmf::EntityRef::to("ba-1")];
    quotes.insert(t, &quote, &[]).await.expect("insert quote");
    quote.version = 2;
    quote.quote.state = Some(QuoteState::Accepted);
    let order_id = unique();
    let mut order = new_order(&quote, &order_id, T0);
    order.order.href = Some(format!("/orders/{order_id}"));
    quotes
        .accept(t, &quote, 1, &order, &[])
        .await
        .expect("accept");
    order
}

/// The completion of `order`: the order completed (version + 1), its products (fresh ids,
/// version 1) and the events (order state change, then a create per product).
fn completion(
    t: &TenantId,
    order: &StoredOrder,
) -> (StoredOrder, Vec<StoredProduct>, Vec<OutboxEvent>) {
    let mut next = order.clone();
    next.order.state = Some(ProductOrderState::Completed);
    next.version = order.version + 1;
    let made: Vec<StoredProduct> = products_from_order(&next.order, unique, T0)
        .into_iter()
        .map(|product| StoredProduct {
            product,
            version: 1,
        })
        .collect();
    let mut events = vec![event(Some(t), next.id(), "ProductOrderStateChangeEvent")];
    for product in &made {
        events.push(
            product_event(ProductEventType::Create, product, t, None, T0).expect("product event"),
        );
    }
    (next, made, events)
}

/// The state change writing `order` with `made` and `events` over stored version `expected`.
fn change<'a>(
    order: &'a StoredOrder,
    made: &'a [StoredProduct],
    events: &'a [OutboxEvent],
    expected: u64,
) -> StateChange<'a> {
    StateChange {
        order,
        expected_version: expected,
        products: made,
        events,
    }
}

async fn a_completion_writes_order_products_and_events_together(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
    products: &dyn ProductStore,
    outbox: &dyn OutboxStore,
) {
    let t = tenant("ps-complete");
    let order = accepted_order(quotes, &t, 2).await;
    let (next, mut made, events) = completion(&t, &order);
    // Unknown fields and exact decimals must survive.
    made[0]
        .product
        .extensions
        .insert("x-billing".to_owned(), json!({"cycle": 7, "rate": 0.1}));
    orders
        .record_state_change(&t, change(&next, &made, &events, 1))
        .await
        .expect("completion");

    let stored = orders
        .get(&t, next.id())
        .await
        .expect("get")
        .expect("order");
    assert_eq!(stored.order.state, Some(ProductOrderState::Completed));
    for product in &made {
        let got = products
            .get(&t, product.id())
            .await
            .expect("get product")
            .expect("the completion created the product");
        assert_eq!(&got, product, "a product round-trips exactly");
        assert_eq!(got.product.status, Some(ProductStatus::Active));
        assert_eq!(got.product.billing_account_id(), Some("ba-1"));
    }
    let pending = outbox.pending(10_000).await.expect("pending");
    for e in &events {
        let found = pending
            .iter()
            .find(|p| p.event_id == e.event_id)
            .unwrap_or_else(|| panic!("event {} is pending with the completion", e.event_type));
        if e.event_type == "ProductCreateEvent" {
            assert_eq!(found.destination, Destination::BillingUpdates);
            assert_eq!(found.body, e.body);
        }
    }
    let other = tenant("ps-complete-other");
    assert!(
        products
            .get(&other, made[0].id())
            .await
            .expect("get")
            .is_none(),
        "another tenant does not see the product"
    );
}

async fn a_refused_completion_writes_nothing(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
    products: &dyn ProductStore,
    outbox: &dyn OutboxStore,
) {
    let t = tenant("ps-refused");
    let order = accepted_order(quotes, &t, 2).await;

    // A stale version (a concurrent change won): nothing of the completion is written.
    let (next, made, events) = completion(&t, &order);
    let stale = orders
        .record_state_change(&t, change(&next, &made, &events, 7))
        .await;
    assert_conflict(&stale, "a completion at a stale version must conflict");
    assert_nothing_written(products, outbox, &t, &made, &events).await;

    // A product id already taken (by an earlier completion): nothing is written either.
    let first = accepted_order(quotes, &t, 1).await;
    let (done, taken, done_events) = completion(&t, &first);
    orders
        .record_state_change(&t, change(&done, &taken, &done_events, 1))
        .await
        .expect("first completion");
    let (next, mut made, events) = completion(&t, &order);
    made[1] = taken[0].clone();
    let clash = orders
        .record_state_change(&t, change(&next, &made, &events, 1))
        .await;
    assert!(
        matches!(clash, Err(StoreError::AlreadyExists)),
        "got {clash:?}"
    );
    assert_nothing_written(products, outbox, &t, &made[..1], &events).await;
    let stored = orders
        .get(&t, order.id())
        .await
        .expect("get")
        .expect("order");
    assert_eq!(stored.version, 1, "the order is not completed");
    assert_eq!(stored.order.state, None);
}

async fn assert_nothing_written(
    products: &dyn ProductStore,
    outbox: &dyn OutboxStore,
    t: &TenantId,
    made: &[StoredProduct],
    events: &[OutboxEvent],
) {
    for product in made {
        assert!(
            products.get(t, product.id()).await.expect("get").is_none(),
            "a refused completion created product {}",
            product.id()
        );
    }
    let pending = pending_ids(outbox).await;
    assert!(
        events.iter().all(|e| !pending.contains(&e.event_id)),
        "a refused completion announced something"
    );
}

async fn the_largest_completion_is_one_write(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
    products: &dyn ProductStore,
    outbox: &dyn OutboxStore,
) {
    let t = tenant("ps-largest");
    let order = accepted_order(quotes, &t, MAX_PRODUCTS_PER_ORDER.max()).await;
    let (next, made, events) = completion(&t, &order);
    assert_eq!(made.len(), MAX_PRODUCTS_PER_ORDER.max());
    orders
        .record_state_change(&t, change(&next, &made, &events, 1))
        .await
        .expect("the largest completion fits one write");
    for product in [&made[0], &made[made.len() - 1]] {
        assert!(products.get(&t, product.id()).await.expect("get").is_some());
    }
    let pending = pending_ids(outbox).await;
    assert!(events.iter().all(|e| pending.contains(&e.event_id)));
}

fn filter(account: Option<&str>, party: Option<&str>) -> ProductFilter {
    ProductFilter {
        billing_account_id: account.map(str::to_owned),
        related_party_id: party.map(str::to_owned),
        ..ProductFilter::default()
    }
}

async fn listed(
    products: &dyn ProductStore,
    t: &TenantId,
    filter: &ProductFilter,
    offset: u64,
    limit: u64,
) -> (Vec<String>, u64) {
    let listing = products
        .list(t, filter, Page { offset, limit })
        .await
        .expect("list products");
    let ids = listing.items.iter().map(|p| p.id().to_owned()).collect();
    (ids, listing.total)
}

async fn listings_read_an_account_or_a_party(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
    products: &dyn ProductStore,
) {
    let t = tenant("ps-list");
    let (account, other_account) = (unique(), unique());
    let (party, other_party) = (unique(), unique());
    let order = accepted_order(quotes, &t, 5).await;
    let (next, mut made, events) = completion(&t, &order);
    // Products 0-3 on `account`, 4 on another; 0-2 held by `party` (its role `Customer`, not
    // the first party), 3-4 by another; 1 and 2 start at the same time; 1 is terminated;
    // offerings alternate.
    let minutes = [1, 2, 2, 3, 4];
    for (i, stored) in made.iter_mut().enumerate() {
        let p = &mut stored.product;
        p.billing_account = Some(EntityRef::to(if i < 4 { &account } else { &other_account }));
        p.related_party = serde_json::from_value(if i < 3 {
            json!([{"id": "seller-1", "role": "seller"}, {"id": party, "role": "Customer"}])
        } else {
            json!([{"id": other_party}])
        })
        .expect("parties");
        p.start_date = Some(T0 + time::Duration::minutes(minutes[i]));
        if i == 1 {
            p.status = Some(ProductStatus::Terminated);
        }
        p.product_offering = Some(EntityRef::to(if i % 2 == 0 { "po-even" } else { "po-odd" }));
    }
    orders
        .record_state_change(&t, change(&next, &made, &events, 1))
        .await
        .expect("completion");
    // Newest startDate first, ties by id.
    let newest_first = |indexes: &[usize]| -> Vec<String> {
        let mut chosen: Vec<&StoredProduct> = indexes.iter().map(|&i| &made[i]).collect();
        chosen.sort_by(|a, b| {
            (std::cmp::Reverse(a.product.start_date), a.id())
                .cmp(&(std::cmp::Reverse(b.product.start_date), b.id()))
        });
        chosen.into_iter().map(|p| p.id().to_owned()).collect()
    };

    let by_account = filter(Some(&account), None);
    assert_eq!(
        listed(products, &t, &by_account, 0, 10).await,
        (newest_first(&[0, 1, 2, 3]), 4),
        "an account's products, newest first, ties by id"
    );
    assert_eq!(
        listed(products, &t, &by_account, 1, 2).await,
        (newest_first(&[0, 1, 2, 3])[1..3].to_vec(), 4),
        "an offset page, the total unchanged"
    );
    assert_eq!(
        listed(products, &t, &filter(Some(&other_account), None), 0, 10).await,
        (vec![made[4].id().to_owned()], 1)
    );
    let active = ProductFilter {
        status: Some(ProductStatus::Active),
        ..by_account.clone()
    };
    assert_eq!(
        listed(products, &t, &active, 0, 10).await,
        (newest_first(&[0, 2, 3]), 3),
        "status filters"
    );
    assert_eq!(
        listed(products, &t, &filter(None, Some(&party)), 0, 10).await,
        (newest_first(&[0, 1, 2]), 3),
        "a party's products: the party with role customer, not only the first"
    );
    assert_eq!(
        listed(products, &t, &filter(None, Some("seller-1")), 0, 10).await,
        (Vec::new(), 0),
        "a party that is not the owner lists nothing"
    );
    let even = ProductFilter {
        offering_id: Some("po-even".to_owned()),
        ..filter(None, Some(&party))
    };
    assert_eq!(
        listed(products, &t, &even, 0, 10).await,
        (newest_first(&[0, 2]), 2),
        "productOffering.id filters"
    );
    assert_eq!(
        listed(
            products,
            &t,
            &filter(Some(&account), Some(&other_party)),
            0,
            10
        )
        .await,
        (vec![made[3].id().to_owned()], 1),
        "account and party together"
    );
    assert_eq!(
        listed(products, &t, &ProductFilter::default(), 0, 10).await,
        (Vec::new(), 0),
        "an unkeyed filter lists nothing"
    );
    let other = tenant("ps-list-other");
    assert_eq!(
        listed(products, &other, &by_account, 0, 10).await,
        (Vec::new(), 0),
        "another tenant's listing of the same account is empty"
    );
}
