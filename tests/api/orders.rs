//! Product orders over HTTP: accepting a quote creates a readable order with a pending
//! dispatch, orders are per tenant and paged, the listener follows the TMF622 machine, and
//! the ordering hub takes subscriptions; unknown fields of an item reach its order, and a PATCH
//! adding a retired offering is refused.

use q2c_service::Scope;
use q2c_tests::{
    QUOTES, TestApp, assert_message_contains, assert_not_found, assert_page, assert_tmf_error,
    spawn_app, spawn_as_admin,
};
use serde_json::{Value, json};

const ORDERING: &str = "/tmf-api/productOrderingManagement/v4";

/// Creates, approves and accepts a quote of `offering`; returns (quote id, order JSON).
async fn accept_quote(app: &TestApp, token: &str, offering: &str) -> (String, Value) {
    let quote = app.created_quote(token, offering).await;
    let id = quote["id"].as_str().expect("quote id").to_owned();
    let order = app.accept_quote(token, &id).await;
    (id, order)
}

fn notification(order_id: &str, state: &str) -> Value {
    notification_with_id(&format!("om-{order_id}-{state}"), order_id, state)
}

fn notification_with_id(event_id: &str, order_id: &str, state: &str) -> Value {
    json!({
        "eventId": event_id,
        "eventTime": "2026-11-27T12:00:00Z",
        "eventType": "ProductOrderStateChangeEvent",
        "event": {"productOrder": {"id": "om-1", "externalId": order_id, "state": state}}
    })
}

async fn notify(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.post_json(
        &format!("{ORDERING}/listener/productOrderStateChangeEvent"),
        token,
        body,
    )
    .await
}

#[tokio::test]
async fn accepting_a_quote_makes_an_order_readable_with_a_pending_dispatch() {
    let (app, token) = spawn_as_admin().await;
    let (quote_id, listed) = accept_quote(&app, &token, "fibre-1g").await;
    let order_id = listed["id"].as_str().expect("order id");

    let response = app
        .get(&format!("{ORDERING}/productOrder/{order_id}"), &token)
        .await;
    assert_eq!(response.status(), 200);
    let order: Value = response.json().await.expect("order JSON");
    assert_eq!(order, listed, "the listing shows the same order");
    assert_eq!(order["@type"], "ProductOrder");
    // Absolute, on this server, like every other href (issue 20, point 8).
    assert_eq!(
        order["href"],
        format!("{}{ORDERING}/productOrder/{order_id}", app.base).as_str()
    );
    assert!(order.get("state").is_none(), "order management sets state");
    assert_eq!(
        order["dispatch"],
        json!({"status": "pending", "attempts": 0})
    );
    assert_eq!(order["relatedParty"][0]["id"], "cust-1");
    let item = &order["productOrderItem"][0];
    assert_eq!(item["action"], "add");
    assert_eq!(item["productOffering"]["id"], "fibre-1g");
    assert_eq!(item["quoteItem"]["quoteId"], quote_id.as_str());
    assert!(item["itemPrice"].as_array().is_some_and(|p| !p.is_empty()));

    let fields: Value = app
        .get_json(
            &format!("{ORDERING}/productOrder/{order_id}?fields=dispatch"),
            &token,
        )
        .await;
    assert_eq!(fields["dispatch"]["status"], "pending");
    assert!(fields.get("productOrderItem").is_none(), "fields= selects");

    let reader = app.token("acme", &[Scope::QuoteRead]);
    app.get_error(
        &format!("{ORDERING}/productOrder/{order_id}"),
        &reader,
        403,
        "MISSING_SCOPE",
    )
    .await;
}

#[tokio::test]
async fn another_tenant_cannot_see_or_change_the_order() {
    let app = spawn_app().await;
    let (_, order) = accept_quote(&app, &app.admin("acme"), "fibre-1g").await;
    let order_id = order["id"].as_str().expect("order id");
    let other = app.admin("globex");

    app.get_error(
        &format!("{ORDERING}/productOrder/{order_id}"),
        &other,
        404,
        "NOT_FOUND",
    )
    .await;
    let listing = app.get(&format!("{ORDERING}/productOrder"), &other).await;
    assert_eq!(listing.headers()["x-total-count"], "0");
    assert_not_found(notify(&app, &other, &notification(order_id, "acknowledged")).await).await;
}

#[tokio::test]
async fn orders_are_paged_newest_first() {
    let (app, token) = spawn_as_admin().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (_, order) = accept_quote(&app, &token, "mobile-l").await;
        ids.push(order["id"].as_str().expect("id").to_owned());
    }
    ids.reverse();

    let page = app
        .get(&format!("{ORDERING}/productOrder?offset=1&limit=1"), &token)
        .await;
    assert_page(&page, 3, 1);
    let items: Vec<Value> = page.json().await.expect("json");
    assert_eq!(items[0]["id"], ids[1].as_str(), "the second newest");
    app.get_error(
        &format!("{ORDERING}/productOrder?limit=0"),
        &token,
        400,
        "INVALID_QUERY",
    )
    .await;
}

#[tokio::test]
async fn the_listener_records_valid_states_and_refuses_illegal_ones() {
    let (app, token) = spawn_as_admin().await;
    let (_, order) = accept_quote(&app, &token, "fibre-1g").await;
    let order_id = order["id"].as_str().expect("order id");
    let path = format!("{ORDERING}/productOrder/{order_id}");

    let illegal = assert_tmf_error(
        notify(&app, &token, &notification(order_id, "completed")).await,
        422,
        "ILLEGAL_ORDER_STATE_TRANSITION",
    )
    .await;
    assert_message_contains(&illegal, "completed");

    for state in ["acknowledged", "inProgress"] {
        let response = notify(&app, &token, &notification(order_id, state)).await;
        assert_eq!(response.status(), 201, "reporting {state}");
    }
    let stored: Value = app.get_json(&path, &token).await;
    assert_eq!(stored["state"], "inProgress");

    // Redeliveries (same eventId) get the first answer again, even for an older state.
    for state in ["inProgress", "acknowledged"] {
        let again = notify(&app, &token, &notification(order_id, state)).await;
        assert_eq!(again.status(), 201, "redelivered {state}");
        assert_eq!(again.headers()["idempotent-replayed"], "true");
    }
    // The same state in a new event is a no-op; an older state in a new event is refused.
    let repeated = notification_with_id("om-repeat", order_id, "inProgress");
    assert_eq!(notify(&app, &token, &repeated).await.status(), 201);
    assert_tmf_error(
        notify(
            &app,
            &token,
            &notification_with_id("om-late", order_id, "acknowledged"),
        )
        .await,
        422,
        "ILLEGAL_ORDER_STATE_TRANSITION",
    )
    .await;
    assert_not_found(notify(&app, &token, &notification("no-such-order", "acknowledged")).await)
        .await;
    assert_tmf_error(
        notify(&app, &token, &notification(order_id, "shipped")).await,
        400,
        "INVALID_INPUT",
    )
    .await;
    let reader = app.token("acme", &[Scope::OrderRead]);
    assert_tmf_error(
        notify(&app, &reader, &notification(order_id, "completed")).await,
        403,
        "MISSING_SCOPE",
    )
    .await;
    let stored: Value = app.get_json(&path, &token).await;
    assert_eq!(
        stored["state"], "inProgress",
        "refused reports change nothing"
    );
}

#[tokio::test]
async fn the_ordering_hub_takes_and_removes_subscriptions() {
    let (app, token) = spawn_as_admin().await;
    let response = app
        .post_json(
            &format!("{ORDERING}/hub"),
            &token,
            &json!({"callback": "http://127.0.0.1:9/listener",
                      "query": "eventType=ProductOrderStateChangeEvent"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let hub: Value = response.json().await.expect("json");
    let path = format!("{ORDERING}/hub/{}", hub["id"].as_str().expect("id"));
    // The subscription belongs to the ordering hub, not the quote hub.
    let on_quote_hub = format!("{QUOTES}/hub/{}", hub["id"].as_str().expect("id"));
    assert_not_found(app.delete(&on_quote_hub, &token).await).await;
    let deleted = app.delete(&path, &token).await;
    assert_eq!(deleted.status(), 204);
}

/// Receives from `queue` of the app's embedded queues until a message satisfies `wanted`
/// (the relay runs right after each write; each receive long-polls for a second).
async fn wait_for_message(
    app: &TestApp,
    queue: &str,
    wanted: impl Fn(&q2c_service::messaging::ReceivedMessage) -> bool,
) -> q2c_service::messaging::ReceivedMessage {
    use q2c_service::messaging::QueueClient;
    let path = app.data_dir.path().join(q2c_embedded::local::DATABASE_FILE);
    let store = q2c_local::SqliteStore::open(&path).expect("open the data directory's store");
    let queues = q2c_local::SqliteQueues::new(&store);
    for _ in 0..30 {
        let received = queues
            .receive(
                queue,
                q2c_service::messaging::Receive::batch(std::time::Duration::from_secs(600))
                    .waiting(std::time::Duration::from_secs(1)),
            )
            .await
            .expect("receive");
        if let Some(message) = received.into_iter().find(|m| wanted(m)) {
            // Valid against the official document of its event type (TMF622 v4 here).
            let envelope: Value = serde_json::from_str(&message.body).expect("envelope JSON");
            q2c_tests::conformance::assert_event(&envelope, false);
            return message;
        }
    }
    panic!("no matching message reached {queue}");
}

#[tokio::test]
async fn the_order_reaches_the_orders_queue_and_its_state_changes_the_hub_path() {
    let (app, token) = spawn_as_admin().await;
    let (_, order) = accept_quote(&app, &token, "fibre-1g").await;
    let order_id = order["id"].as_str().expect("order id").to_owned();

    let created = wait_for_message(&app, "orders", |m| {
        m.attributes.get("eventType").map(String::as_str) == Some("ProductOrderCreateEvent")
    })
    .await;
    let body: Value = serde_json::from_str(&created.body).expect("envelope JSON");
    assert_eq!(body["event"]["productOrder"]["id"], order_id.as_str());
    assert_eq!(created.attributes["tenant"], "acme");
    assert_eq!(created.attributes["eventId"], body["eventId"]);
    assert!(!created.attributes.contains_key("hubApi"));

    let response = notify(&app, &token, &notification(&order_id, "acknowledged")).await;
    assert_eq!(response.status(), 201);
    let changed = wait_for_message(&app, "quote-events", |m| {
        m.attributes.get("eventType").map(String::as_str) == Some("ProductOrderStateChangeEvent")
    })
    .await;
    assert_eq!(changed.attributes["hubApi"], "ordering");
    let body: Value = serde_json::from_str(&changed.body).expect("envelope JSON");
    assert_eq!(body["event"]["productOrder"]["state"], "acknowledged");
    assert_eq!(
        body["event"]["productOrder"]["dispatch"]["status"],
        "pending"
    );
}

#[tokio::test]
async fn unknown_fields_of_a_quote_item_reach_the_product_order_unchanged() {
    let (app, token) = spawn_as_admin().await;
    // The service's rich slice item, on an offering of the local catalog, with a float that
    // only survives an exact round trip.
    let mut item = q2c_service::testing::rich_item();
    item["action"] = json!("add");
    item["quantity"] = json!(1);
    item["productOffering"]["id"] = json!("mobile-s");
    item["product"]["productCharacteristic"][0]["value"]["p99"] = json!(12.345678901234);
    let created = app
        .create_quote(&token, &json!({"quoteItem": [item]}))
        .await;
    assert_eq!(created.status(), 201);
    let quote: Value = created.json().await.expect("quote JSON");
    let id = quote["id"].as_str().expect("quote id");
    let order = app.accept_quote(&token, id).await;

    let ordered = &order["productOrderItem"][0];
    assert_eq!(ordered["product"], item["product"]);
    assert_eq!(ordered["productOffering"], item["productOffering"]);
    assert_eq!(ordered["x-channelHint"], item["x-channelHint"]);
}

#[tokio::test]
async fn a_patch_adding_a_retired_offering_is_422_naming_it() {
    let (app, token) = spawn_as_admin().await;
    let quote = app.created_quote(&token, "mobile-s").await;
    let id = quote["id"].as_str().expect("quote id");
    let patch = json!({"quoteItem": [
        {"action": "add", "productOffering": {"id": "mobile-s"}},
        {"action": "add", "productOffering": {"id": "mobile-legacy"}}
    ]});

    let body = assert_tmf_error(
        app.patch_quote(&token, id, &patch, None).await,
        422,
        "OFFERING_NOT_SELLABLE",
    )
    .await;

    let message = body["message"].as_str().expect("a message");
    assert!(
        message.starts_with("quoteItem[1].productOffering.id: ")
            && message.contains("mobile-legacy"),
        "{message}"
    );
}
