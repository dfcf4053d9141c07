//! The [`OrderStore`] contract, with the order half of [`QuoteStore::accept`]: acceptance is
//! one atomic write of quote, order and events; orders are per tenant, listed newest first;
//! dispatch outcomes follow their rules (a failure is announced in the same write); state
//! changes are conditional on the version and keep the stored dispatch record.
//!
//! Events are checked by id among the pending ones, so the suite can share a store with
//! suites that leave events pending (but not with one that publishes them meanwhile).

use std::sync::Arc;

use q2c_model::tmf::{ProductOrderState, QuoteState};
use q2c_service::context::TenantId;
use q2c_service::orders::{
    Dispatch, DispatchStatus, OrderKey, OrderStore, StateChange, StoredOrder,
};
use q2c_service::ports::{OutboxEvent, OutboxStore, Page, QuoteStore, StoreError, StoredQuote};
use time::{Duration, OffsetDateTime};

use crate::fixtures::{
    T0, assert_conflict, event, extensible_item, extensible_quote, new_order, pending_ids,
    stored_quote, tenant,
};

/// Runs every order-store rule against the adapter's quote, order and outbox ports (one
/// store behind all three).
///
/// # Panics
/// When the store breaks a rule (the message names it) or fails.
pub async fn order_store_contract(
    quotes: Arc<dyn QuoteStore>,
    orders: Arc<dyn OrderStore>,
    outbox: Arc<dyn OutboxStore>,
) {
    accept_writes_quote_order_and_events_together(&*quotes, &*orders, &*outbox).await;
    an_order_keeps_the_items_unknown_fields(&*quotes, &*orders).await;
    a_refused_accept_writes_nothing(&*quotes, &*orders, &*outbox).await;
    orders_are_listed_per_tenant_newest_first_with_paging(&*quotes, &*orders).await;
    dispatch_outcomes_follow_their_rules(&*quotes, &*orders, &*outbox).await;
    state_changes_are_conditional_and_keep_the_dispatch_record(&*quotes, &*orders, &*outbox).await;
}

/// A quote `quote_id` as accepted (version 2) and its new order `order_id` dated `at`.
fn accepted(quote_id: &str, order_id: &str, at: OffsetDateTime) -> (StoredQuote, StoredOrder) {
    let mut quote = stored_quote(quote_id, T0);
    quote.version = 2;
    quote.quote.state = Some(QuoteState::Accepted);
    let mut order = new_order(&quote, order_id, at);
    order.order.href = Some(format!("/orders/{order_id}"));
    (quote, order)
}

/// Inserts quote `quote_id` and accepts it, creating order `order_id`.
pub(crate) async fn accept_new(
    quotes: &dyn QuoteStore,
    t: &TenantId,
    quote_id: &str,
    order_id: &str,
    at: OffsetDateTime,
) -> StoredOrder {
    quotes
        .insert(t, &stored_quote(quote_id, T0), &[])
        .await
        .expect("insert quote");
    let (quote, order) = accepted(quote_id, order_id, at);
    quotes
        .accept(t, &quote, 1, &order, &[])
        .await
        .expect("accept");
    order
}

async fn an_order_keeps_the_items_unknown_fields(quotes: &dyn QuoteStore, orders: &dyn OrderStore) {
    let t = tenant("os-ext");
    quotes
        .insert(&t, &extensible_quote("q-ext"), &[])
        .await
        .expect("insert quote");
    let mut quote = quotes.get(&t, "q-ext").await.expect("get").expect("quote");
    quote.version = 2;
    quote.quote.state = Some(QuoteState::Accepted);
    let order = new_order(&quote, "o-ext", T0);
    quotes
        .accept(&t, &quote, 1, &order, &[])
        .await
        .expect("accept");

    let read = orders.get(&t, "o-ext").await.expect("get").expect("order");
    let order = serde_json::to_value(&read.order).expect("serialises");
    let sent = extensible_item();
    let item = &order["productOrderItem"][0];
    for (field, from) in [
        ("product", "product"),
        ("productOffering", "productOffering"),
        ("itemPrice", "quoteItemPrice"),
        ("x-channelHint", "x-channelHint"),
    ] {
        assert_eq!(
            item[field], sent[from],
            "order item {field} as the quote item's {from}"
        );
    }
}

async fn pending_event(
    outbox: &dyn OutboxStore,
    pred: impl Fn(&OutboxEvent) -> bool,
) -> Vec<OutboxEvent> {
    outbox
        .pending(10_000)
        .await
        .expect("pending")
        .into_iter()
        .filter(|e| pred(e))
        .collect()
}

async fn accept_writes_quote_order_and_events_together(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
    outbox: &dyn OutboxStore,
) {
    let t = tenant("os-acc");
    quotes
        .insert(&t, &stored_quote("q-1", T0), &[])
        .await
        .expect("insert quote");
    let (quote, order) = accepted("q-1", "o-1", T0);
    let events = [
        event(Some(&t), "q-1", "QuoteStateChangeEvent"),
        event(Some(&t), "o-1", "ProductOrderCreateEvent"),
    ];
    assert_eq!(
        orders.get(&t, "o-1").await.expect("get"),
        None,
        "no order yet"
    );

    quotes
        .accept(&t, &quote, 1, &order, &events)
        .await
        .expect("accept");

    let stored_quote = quotes.get(&t, "q-1").await.expect("get").expect("quote");
    assert_eq!(stored_quote, quote, "the quote is replaced");
    let stored = orders.get(&t, "o-1").await.expect("get").expect("order");
    assert_eq!(stored, order, "order, version and dispatch record survive");
    assert_eq!(
        stored.order.extensions.get("x-crm"),
        quote.quote.extensions.get("x-crm"),
        "the quote's unmodelled fields reach the order"
    );
    let pending = pending_ids(outbox).await;
    for e in &events {
        assert!(
            pending.contains(&e.event_id),
            "event {} is pending",
            e.event_type
        );
    }
}

async fn a_refused_accept_writes_nothing(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
    outbox: &dyn OutboxStore,
) {
    let t = tenant("os-ref");
    let original = stored_quote("q-1", T0);
    quotes.insert(&t, &original, &[]).await.expect("insert");
    let (quote, order) = accepted("q-1", "o-1", T0);
    let lost = event(Some(&t), "o-1", "ProductOrderCreateEvent");

    let stale = quotes
        .accept(&t, &quote, 7, &order, std::slice::from_ref(&lost))
        .await;
    assert_conflict(&stale, "an accept at a stale version must conflict");
    let missing = quotes
        .accept(
            &t,
            &accepted("q-gone", "o-2", T0).0,
            1,
            &accepted("q-gone", "o-2", T0).1,
            &[],
        )
        .await;
    assert_conflict(&missing, "accepting a missing quote must conflict");

    // The order id is taken (by another quote's acceptance): the quote stays as it was.
    accept_new(quotes, &t, "q-2", "o-taken", T0).await;
    let (quote, _) = accepted("q-1", "o-x", T0);
    let (_, taken) = accepted("q-1", "o-taken", T0);
    let duplicate = quotes
        .accept(&t, &quote, 1, &taken, std::slice::from_ref(&lost))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::AlreadyExists)),
        "got {duplicate:?}"
    );

    assert_eq!(
        quotes.get(&t, "q-1").await.expect("get"),
        Some(original),
        "a refused accept leaves the quote"
    );
    assert_eq!(orders.get(&t, "o-1").await.expect("get"), None);
    assert_eq!(orders.get(&t, "o-2").await.expect("get"), None);
    assert!(
        !pending_ids(outbox).await.contains(&lost.event_id),
        "no event"
    );
}

async fn orders_are_listed_per_tenant_newest_first_with_paging(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
) {
    let t = tenant("os-list");
    let other = tenant("os-list-other");
    let dates = [
        ("o-a", T0),
        ("o-c", T0 + Duration::hours(2)),
        ("o-b", T0 + Duration::hours(2)),
        ("o-d", T0 + Duration::hours(1)),
    ];
    for (i, (id, at)) in dates.iter().enumerate() {
        accept_new(quotes, &t, &format!("q-{i}"), id, *at).await;
    }
    accept_new(quotes, &other, "q-x", "o-other", T0).await;

    let all = orders
        .list(
            &t,
            Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .expect("list");
    let ids: Vec<&str> = all.items.iter().map(StoredOrder::id).collect();
    assert_eq!(
        ids,
        ["o-b", "o-c", "o-d", "o-a"],
        "newest first, ties by id"
    );
    assert_eq!(all.total, 4, "only this tenant's orders");

    let page = orders
        .list(
            &t,
            Page {
                offset: 1,
                limit: 2,
            },
        )
        .await
        .expect("list");
    let ids: Vec<&str> = page.items.iter().map(StoredOrder::id).collect();
    assert_eq!(ids, ["o-c", "o-d"]);
    assert_eq!(page.total, 4, "the total ignores paging");

    assert_eq!(
        orders.get(&other, "o-a").await.expect("get"),
        None,
        "another tenant's order is invisible"
    );
    let theirs = orders
        .list(
            &other,
            Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .expect("list");
    assert_eq!(theirs.total, 1);
}

async fn dispatch_outcomes_follow_their_rules(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
    outbox: &dyn OutboxStore,
) {
    let t = tenant("os-disp");
    let order = accept_new(quotes, &t, "q-1", "o-1", T0).await;
    let dispatched = dispatch(
        DispatchStatus::Dispatched,
        2,
        Some("HTTP 503 on attempt 1"),
        Some("om-1"),
    );
    let stored = record_and_read(orders, &t, "o-1", dispatched.clone()).await;
    assert_eq!(stored.dispatch, dispatched);
    assert_eq!(stored.version, 2);
    assert_eq!(stored.order, order.order, "the TMF order is untouched");

    let late_failure = dispatch(DispatchStatus::Failed, 3, Some("late"), None);
    // An ignored update is Ok.
    let stored = record_and_read(orders, &t, "o-1", late_failure).await;
    assert_eq!(stored.dispatch, dispatched, "dispatched is terminal");
    assert_eq!(stored.version, 2);

    let missing = orders
        .record_dispatch(OrderKey::new(&t, "o-none"), dispatched.clone())
        .await;
    assert_conflict(
        &missing,
        "recording the dispatch of a missing order must conflict",
    );

    // A failure is announced to the ordering hub in the same write; a redrive may dispatch.
    accept_new(quotes, &t, "q-2", "o-2", T0).await;
    let failed = dispatch(DispatchStatus::Failed, 5, Some("HTTP 500"), None);
    orders
        .record_dispatch(OrderKey::new(&t, "o-2"), failed.clone())
        .await
        .expect("record failure");
    let announced = pending_event(outbox, |e| {
        e.aggregate_id == "o-2" && e.tenant.as_deref() == Some(t.as_str())
    })
    .await;
    assert_eq!(announced.len(), 1, "one event for the failure");
    assert_eq!(announced[0].event_type, "ProductOrderStateChangeEvent");
    assert_eq!(
        announced[0].body["event"]["productOrder"]["dispatch"]["status"],
        "failed"
    );
    let stored = record_and_read(orders, &t, "o-2", dispatched.clone()).await;
    assert_eq!(
        stored.dispatch, dispatched,
        "a failed order may still be dispatched"
    );
    assert_eq!(stored.version, 3);
}

async fn state_changes_are_conditional_and_keep_the_dispatch_record(
    quotes: &dyn QuoteStore,
    orders: &dyn OrderStore,
    outbox: &dyn OutboxStore,
) {
    let t = tenant("os-state");
    let order = accept_new(quotes, &t, "q-1", "o-1", T0).await;
    let dispatched = dispatch(DispatchStatus::Dispatched, 1, None, Some("om-1"));
    orders
        .record_dispatch(OrderKey::new(&t, "o-1"), dispatched.clone())
        .await
        .expect("record");

    let mut next = order.clone();
    next.order.state = Some(ProductOrderState::Acknowledged);
    next.version = 2;
    let lost = event(Some(&t), "o-1", "ProductOrderStateChangeEvent");
    let stale = orders
        .record_state_change(
            &t,
            StateChange {
                order: &next,
                expected_version: 1,
                products: &[],
                events: std::slice::from_ref(&lost),
            },
        )
        .await;
    assert_conflict(&stale, "a state change at a stale version must conflict");
    assert!(!pending_ids(outbox).await.contains(&lost.event_id));

    next.version = 3;
    let announced = event(Some(&t), "o-1", "ProductOrderStateChangeEvent");
    orders
        .record_state_change(
            &t,
            StateChange {
                order: &next,
                expected_version: 2,
                products: &[],
                events: std::slice::from_ref(&announced),
            },
        )
        .await
        .expect("state change");
    let stored = orders.get(&t, "o-1").await.expect("get").expect("order");
    assert_eq!(stored.order.state, Some(ProductOrderState::Acknowledged));
    assert_eq!(stored.version, 3);
    assert_eq!(
        stored.dispatch, dispatched,
        "the stored dispatch record wins over the caller's copy"
    );
    assert!(pending_ids(outbox).await.contains(&announced.event_id));

    let other = tenant("os-state-other");
    next.version = 4;
    let hidden = orders
        .record_state_change(
            &other,
            StateChange {
                order: &next,
                expected_version: 3,
                products: &[],
                events: &[],
            },
        )
        .await;
    assert_conflict(&hidden, "another tenant cannot change the order");
}

/// Records `update` on order `id` of `t` (which must succeed), then reads the order back.
async fn record_and_read(
    orders: &dyn OrderStore,
    t: &TenantId,
    id: &str,
    update: Dispatch,
) -> StoredOrder {
    orders
        .record_dispatch(OrderKey::new(t, id), update)
        .await
        .expect("record the dispatch");
    orders.get(t, id).await.expect("get").expect("order")
}

/// A dispatch record: `status` after `attempts`, with the last error and the downstream id.
fn dispatch(
    status: DispatchStatus,
    attempts: u32,
    last_error: Option<&str>,
    downstream_id: Option<&str>,
) -> Dispatch {
    Dispatch {
        status,
        attempts,
        last_error: last_error.map(str::to_owned),
        downstream_id: downstream_id.map(str::to_owned),
    }
}
