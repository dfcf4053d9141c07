//! Order use-cases over the in-memory fakes: acceptance creates the order, the listener
//! follows the TMF622 machine, dispatch records follow their rules.

use q2c_model::tmf::{ProductOrderState, QuoteState};
use serde_json::{Value, json};

use super::*;
use crate::context::{RequestContext, Scope};
use crate::error::ServiceError;
use crate::outbox::Destination;
use crate::testing::{Fixture, caller, item, quote_of};

const ALL: &[Scope] = &[
    Scope::QuoteRead,
    Scope::QuoteWrite,
    Scope::OrderRead,
    Scope::OrderWrite,
];

/// An accepted quote of `tenant`; returns the order it created.
async fn accepted_order(fixture: &Fixture, tenant: &str) -> StoredOrder {
    let quotes = fixture.quote_service();
    let ctx = caller(tenant, ALL);
    let quote = quote_of(vec![item("fibre-1g", 2)]);
    let id = quotes
        .create(&ctx, quote)
        .await
        .expect("created")
        .id()
        .to_owned();
    for state in ["approved", "accepted"] {
        quotes
            .patch(&ctx, &id, &json!({ "state": state }), None)
            .await
            .expect("state change");
    }
    let orders = fixture.quotes.orders.lock().expect("lock");
    orders
        .values()
        .find(|o| o.quote_id() == id)
        .cloned()
        .expect("accepting created an order")
}

/// A fixture, an order accepted in it by tenant `acme`, the order use-cases and an `acme`
/// caller with every scope.
async fn acme_order() -> (Fixture, StoredOrder, OrderService, RequestContext) {
    let fixture = Fixture::new();
    let order = accepted_order(&fixture, "acme").await;
    let service = OrderService::new(fixture.ports.clone());
    (fixture, order, service, caller("acme", ALL))
}

/// Order management reports `state` for order `order_id` to the listener, as `ctx`.
async fn notify(
    service: &OrderService,
    ctx: &RequestContext,
    order_id: &str,
    state: &str,
) -> Result<StoredOrder, ServiceError> {
    service
        .apply_state_change(ctx, &notification(order_id, state))
        .await
}

fn notification(order_id: &str, state: &str) -> Value {
    json!({
        "eventId": "ev-1",
        "eventTime": "2026-11-27T12:00:00Z",
        "eventType": "ProductOrderStateChangeEvent",
        "event": {"productOrder": {"id": "om-77", "externalId": order_id, "state": state}}
    })
}

fn events_of_type(fixture: &Fixture, event_type: &str) -> Vec<crate::outbox::OutboxEvent> {
    fixture
        .quotes
        .outbox
        .lock()
        .expect("lock")
        .iter()
        .filter(|e| e.event_type == event_type)
        .cloned()
        .collect()
}

#[tokio::test]
async fn accepting_a_quote_creates_a_pending_order_announced_on_the_orders_queue() {
    let fixture = Fixture::new();
    let order = accepted_order(&fixture, "acme").await;

    assert_eq!(order.version, 1);
    assert_eq!(order.dispatch, Dispatch::new_order());
    assert_eq!(order.order.state, None);
    assert_eq!(order.order.product_order_item[0].action, "add");
    assert_eq!(order.order.product_order_item[0].quantity, Some(2));
    assert!(!order.order.order_total_price.is_empty(), "agreed totals");
    assert_eq!(
        order.order.href.as_deref(),
        // On the quote's origin (the test quote service's is `http://q2c.test`).
        Some(format!("http://q2c.test{PRODUCT_ORDER_HREF_BASE}/{}", order.id()).as_str())
    );
    let quote = fixture
        .quotes
        .quotes
        .lock()
        .expect("lock")
        .values()
        .find(|q| q.id() == order.quote_id())
        .cloned()
        .expect("quote");
    assert_eq!(quote.quote.state, Some(QuoteState::Accepted));

    let created = events_of_type(&fixture, "ProductOrderCreateEvent");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].destination, Destination::Orders);
    assert_eq!(created[0].aggregate_id, order.id());
    assert_eq!(created[0].body["eventId"], created[0].event_id.as_str());
    assert_eq!(created[0].body["event"]["productOrder"]["id"], order.id());
    assert!(
        created[0].body["event"]["productOrder"]
            .get("dispatch")
            .is_none(),
        "the dispatch engine gets the plain TMF622 order"
    );
}

#[tokio::test]
async fn the_listener_applies_valid_states_and_announces_them_to_the_ordering_hub() {
    let (fixture, order, service, ctx) = acme_order().await;

    let acknowledged = notify(&service, &ctx, order.id(), "acknowledged")
        .await
        .expect("acknowledged");
    assert_eq!(
        acknowledged.order.state,
        Some(ProductOrderState::Acknowledged)
    );
    assert_eq!(acknowledged.version, 2);
    let stored = service.get(&ctx, order.id()).await.expect("stored");
    assert_eq!(stored, acknowledged);

    let changes = events_of_type(&fixture, "ProductOrderStateChangeEvent");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].destination, Destination::QuoteEvents);
    assert_eq!(changes[0].body["hubApi"], "ordering");
    let payload = &changes[0].body["event"]["productOrder"];
    assert_eq!(payload["state"], "acknowledged");
    assert_eq!(payload["dispatch"]["status"], "pending");

    // A redelivery of the same notification changes nothing and announces nothing.
    let again = notify(&service, &ctx, order.id(), "acknowledged")
        .await
        .expect("redelivery accepted");
    assert_eq!(again.version, 2);
    assert_eq!(
        events_of_type(&fixture, "ProductOrderStateChangeEvent").len(),
        1
    );
}

#[tokio::test]
async fn an_illegal_state_is_a_business_rule_and_changes_nothing() {
    let (fixture, order, service, ctx) = acme_order().await;

    let err = notify(&service, &ctx, order.id(), "completed")
        .await
        .expect_err("an order cannot start completed");
    assert!(
        matches!(err, ServiceError::BusinessRule { code, .. } if code == ILLEGAL_ORDER_STATE_TRANSITION),
        "got {err:?}"
    );
    assert_eq!(service.get(&ctx, order.id()).await.expect("order"), order);
    assert!(events_of_type(&fixture, "ProductOrderStateChangeEvent").is_empty());

    let err = notify(&service, &ctx, order.id(), "shipped")
        .await
        .expect_err("not a TMF622 state");
    assert!(matches!(err, ServiceError::InvalidInput { .. }));
    let err = service
        .apply_state_change(&ctx, &json!({"eventType": "Other", "event": {}}))
        .await
        .expect_err("not a state change event");
    assert!(matches!(err, ServiceError::InvalidInput { .. }));
}

#[tokio::test]
async fn another_tenants_order_is_not_found() {
    let (_fixture, order, service, _acme) = acme_order().await;
    let other = caller("globex", ALL);

    let err = service.get(&other, order.id()).await.expect_err("hidden");
    assert!(matches!(err, ServiceError::NotFound { .. }));
    let err = notify(&service, &other, order.id(), "acknowledged")
        .await
        .expect_err("hidden");
    assert!(matches!(err, ServiceError::NotFound { .. }));
    let listing = service
        .list(
            &other,
            crate::store::Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .expect("list");
    assert_eq!(listing.total, 0);
}

fn dispatch(status: DispatchStatus, attempts: u32) -> Dispatch {
    Dispatch {
        status,
        attempts,
        last_error: (status == DispatchStatus::Failed).then(|| "HTTP 503".to_owned()),
        downstream_id: (status == DispatchStatus::Dispatched).then(|| "om-1".to_owned()),
    }
}

#[test]
fn dispatched_is_terminal_except_that_failed_orders_may_still_be_dispatched() {
    use DispatchStatus::{Dispatched, Failed, Pending};
    let write = |announce_failure| DispatchDecision::Write { announce_failure };
    let cases = [
        (dispatch(Pending, 0), dispatch(Pending, 1), write(false)),
        (dispatch(Pending, 1), dispatch(Dispatched, 2), write(false)),
        (dispatch(Pending, 3), dispatch(Failed, 3), write(true)),
        (dispatch(Failed, 3), dispatch(Failed, 4), write(false)),
        (dispatch(Failed, 3), dispatch(Pending, 3), write(false)),
        (dispatch(Failed, 3), dispatch(Dispatched, 4), write(false)),
        (
            dispatch(Dispatched, 2),
            dispatch(Pending, 2),
            DispatchDecision::Ignore,
        ),
        (
            dispatch(Dispatched, 2),
            dispatch(Failed, 3),
            DispatchDecision::Ignore,
        ),
        (
            dispatch(Dispatched, 2),
            dispatch(Dispatched, 2),
            DispatchDecision::Ignore,
        ),
    ];
    for (current, update, expected) in cases {
        assert_eq!(
            current.apply(&update),
            expected,
            "{:?} then {:?}",
            current.status,
            update.status
        );
    }
}

#[tokio::test]
async fn a_failed_dispatch_is_announced_once_to_the_ordering_hub() {
    let fixture = Fixture::new();
    let order = accepted_order(&fixture, "acme").await;
    let tenant = caller("acme", ALL).tenant;
    let orders = fixture.ports.orders.clone();

    orders
        .record_dispatch(
            OrderKey::new(&tenant, order.id()),
            dispatch(DispatchStatus::Failed, 5),
        )
        .await
        .expect("recorded");
    orders
        .record_dispatch(
            OrderKey::new(&tenant, order.id()),
            dispatch(DispatchStatus::Failed, 6),
        )
        .await
        .expect("recorded");
    let failed = events_of_type(&fixture, "ProductOrderStateChangeEvent");
    assert_eq!(failed.len(), 1, "only the move into failed is announced");
    assert_eq!(
        failed[0].body["event"]["productOrder"]["dispatch"]["status"],
        "failed"
    );
    let stored = orders
        .get(&tenant, order.id())
        .await
        .expect("get")
        .expect("order");
    assert_eq!(stored.dispatch.attempts, 6);
    assert_eq!(stored.version, 3);
}

async fn walk(service: &OrderService, ctx: &RequestContext, id: &str, states: &[&str]) {
    for state in states {
        notify(service, ctx, id, state)
            .await
            .unwrap_or_else(|e| panic!("{state}: {e:?}"));
    }
}

#[tokio::test]
async fn a_completed_order_creates_its_products_at_the_quoted_prices_once() {
    let (fixture, order, service, ctx) = acme_order().await;
    walk(&service, &ctx, order.id(), &["acknowledged", "inProgress"]).await;
    assert!(fixture.quotes.products.lock().expect("lock").is_empty());

    walk(&service, &ctx, order.id(), &["completed"]).await;
    let products: Vec<_> = fixture
        .quotes
        .products
        .lock()
        .expect("lock")
        .values()
        .cloned()
        .collect();
    assert_eq!(products.len(), 1, "one product per order item");
    let product = &products[0].product;
    assert_eq!(product.product_order_item[0].product_order_id, order.id());
    let quoted = &order.order.product_order_item[0].item_price;
    assert!(!quoted.is_empty(), "the fixture's item is priced");
    assert_eq!(
        serde_json::to_value(&product.product_price[0].price).expect("json"),
        serde_json::to_value(&quoted[0].price).expect("json"),
        "the product carries the quoted price"
    );
    let created = events_of_type(&fixture, "ProductCreateEvent");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].destination, Destination::BillingUpdates);
    assert_eq!(created[0].body["event"]["product"]["id"], product.id());
    assert_eq!(created[0].body["sequence"], 1);

    // The completion delivered again creates and announces nothing.
    walk(&service, &ctx, order.id(), &["completed"]).await;
    assert_eq!(fixture.quotes.products.lock().expect("lock").len(), 1);
    assert_eq!(events_of_type(&fixture, "ProductCreateEvent").len(), 1);
}

#[tokio::test]
async fn a_failed_or_cancelled_order_creates_nothing() {
    let fixture = Fixture::new();
    let service = OrderService::new(fixture.ports.clone());
    let ctx = caller("acme", ALL);
    for states in [
        ["acknowledged", "inProgress", "failed"],
        ["acknowledged", "pending", "cancelled"],
    ] {
        let order = accepted_order(&fixture, "acme").await;
        walk(&service, &ctx, order.id(), &states).await;
    }
    assert!(fixture.quotes.products.lock().expect("lock").is_empty());
    assert!(events_of_type(&fixture, "ProductCreateEvent").is_empty());
}

#[tokio::test]
async fn a_completion_beyond_the_product_limit_is_refused_and_changes_nothing() {
    let (fixture, order, service, ctx) = acme_order().await;
    walk(&service, &ctx, order.id(), &["acknowledged", "inProgress"]).await;
    {
        let mut orders = fixture.quotes.orders.lock().expect("lock");
        let stored = orders
            .values_mut()
            .find(|o| o.id() == order.id())
            .expect("order");
        let item = stored.order.product_order_item[0].clone();
        stored.order.product_order_item = vec![item; 49];
    }
    let err = notify(&service, &ctx, order.id(), "completed")
        .await
        .expect_err("49 products do not fit one completion");
    assert!(
        matches!(&err, ServiceError::BusinessRule { code, message, .. }
            if *code == ORDER_TOO_LARGE_TO_COMPLETE && message.contains("maxProductsPerOrder")),
        "got {err:?}"
    );
    let stored = service.get(&ctx, order.id()).await.expect("order");
    assert_eq!(stored.order.state, Some(ProductOrderState::InProgress));
    assert!(fixture.quotes.products.lock().expect("lock").is_empty());
}
