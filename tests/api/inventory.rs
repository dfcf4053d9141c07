//! The TMF637 product inventory over HTTP: completing an order makes its products readable
//! (`inventory.read`) per tenant, listed by billing account or party with `status` and
//! `productOffering.id` filters, paging and `fields=`; errors are TMF630 bodies.

use q2c_service::Scope;
use q2c_tests::{TestApp, assert_tmf_error, spawn_as_admin};
use serde_json::{Value, json};

const ORDERING: &str = "/tmf-api/productOrderingManagement/v4";
const INVENTORY: &str = "/tmf-api/productInventory/v4";

/// Quotes `offerings` (one item each) for `party` and billing account `account`, approves,
/// accepts and completes the order through the listener; the order id.
async fn completed_order(
    app: &TestApp,
    token: &str,
    offerings: &[&str],
    party: &str,
    account: &str,
) -> String {
    let items: Vec<Value> = offerings
        .iter()
        .enumerate()
        .map(|(i, o)| json!({"id": (i + 1).to_string(), "action": "add", "quantity": 1, "productOffering": {"id": o}}))
        .collect();
    let body = json!({"quoteItem": items, "billingAccount": [{"id": account}],
        "relatedParty": [{"id": party, "role": "customer", "@referredType": "Individual"}]});
    let response = app.create_quote(token, &body).await;
    assert_eq!(response.status(), 201, "creating the quote");
    let quote: Value = response.json().await.expect("quote JSON");
    let id = quote["id"].as_str().expect("quote id").to_owned();
    let order = app.accept_quote(token, &id).await;
    let order_id = order["id"].as_str().expect("the order's id").to_owned();
    // Order management reports the TMF622 states in order, completion last.
    for state in ["acknowledged", "inProgress", "completed"] {
        let notification = json!({
            "eventId": format!("om-{order_id}-{state}"),
            "eventTime": "2026-11-27T12:00:00Z",
            "eventType": "ProductOrderStateChangeEvent",
            "event": {"productOrder": {"id": "om-1", "externalId": order_id, "state": state}}
        });
        let response = app
            .post_json(
                &format!("{ORDERING}/listener/productOrderStateChangeEvent"),
                token,
                &notification,
            )
            .await;
        assert_eq!(response.status(), 201, "order management reports {state}");
    }
    order_id
}

async fn list(app: &TestApp, token: &str, query: &str) -> (Vec<Value>, String) {
    let response = app
        .get(&format!("{INVENTORY}/product?{query}"), token)
        .await;
    assert_eq!(response.status(), 200, "GET product?{query}");
    let total = response.headers()["x-total-count"]
        .to_str()
        .expect("count")
        .to_owned();
    (response.json().await.expect("products JSON"), total)
}

#[tokio::test]
async fn a_completed_order_s_products_are_listed_and_read() {
    let (app, token) = spawn_as_admin().await;
    let order_id = completed_order(
        &app,
        &token,
        &["fibre-1g", "mobile-s", "mobile-l"],
        "cust-7",
        "ba-7",
    )
    .await;

    let (products, total) = list(&app, &token, "billingAccount.id=ba-7").await;
    assert_eq!((products.len(), total.as_str()), (3, "3"));
    for product in &products {
        assert_eq!(product["@type"], "Product");
        assert_eq!(product["status"], "active");
        assert_eq!(product["billingAccount"]["id"], "ba-7");
        assert_eq!(product["relatedParty"][0]["id"], "cust-7");
        assert_eq!(
            product["productOrderItem"][0]["productOrderId"],
            order_id.as_str()
        );
        assert!(
            product["productPrice"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
        );
    }
    let offerings: Vec<&str> = products
        .iter()
        .filter_map(|p| p["productOffering"]["id"].as_str())
        .collect();
    for offering in ["fibre-1g", "mobile-s", "mobile-l"] {
        assert!(offerings.contains(&offering), "{offering} in {offerings:?}");
    }

    let (by_party, _) = list(
        &app,
        &token,
        "relatedParty.id=cust-7&productOffering.id=mobile-s",
    )
    .await;
    assert_eq!(by_party.len(), 1);
    assert_eq!(by_party[0]["productOffering"]["id"], "mobile-s");
    let (terminated, total) = list(&app, &token, "relatedParty.id=cust-7&status=terminated").await;
    assert_eq!((terminated.len(), total.as_str()), (0, "0"));
    let (page, total) = list(
        &app,
        &token,
        "billingAccount.id=ba-7&offset=1&limit=1&fields=status",
    )
    .await;
    assert_eq!((page.len(), total.as_str()), (1, "3"));
    assert_eq!(page[0], products[1].as_object().map(|p| {
        json!({"id": p["id"], "href": p["href"], "@type": p["@type"], "status": p["status"]})
    }).expect("object"), "paging and fields= select");

    let id = products[0]["id"].as_str().expect("id");
    let response = app.get(&format!("{INVENTORY}/product/{id}"), &token).await;
    assert_eq!(response.status(), 200);
    let product: Value = response.json().await.expect("product JSON");
    assert_eq!(
        product, products[0],
        "the product read is the product listed"
    );
    assert_eq!(
        product["href"],
        format!("{INVENTORY}/product/{id}").as_str()
    );
}

#[tokio::test]
async fn products_are_per_tenant_need_inventory_read_and_a_key() {
    let (app, token) = spawn_as_admin().await;
    completed_order(&app, &token, &["mobile-s"], "cust-8", "ba-8").await;
    let (products, _) = list(&app, &token, "billingAccount.id=ba-8").await;
    let id = products[0]["id"].as_str().expect("id");

    let other = app.admin("globex");
    app.get_error(
        &format!("{INVENTORY}/product/{id}"),
        &other,
        404,
        "NOT_FOUND",
    )
    .await;
    let (seen, total) = list(&app, &other, "billingAccount.id=ba-8").await;
    assert_eq!(
        (seen.len(), total.as_str()),
        (0, "0"),
        "another tenant sees none"
    );

    let orders_only = app.token("acme", &[Scope::OrderRead, Scope::QuoteRead]);
    app.get_error(
        &format!("{INVENTORY}/product/{id}"),
        &orders_only,
        403,
        "MISSING_SCOPE",
    )
    .await;
    let reader = app.token("acme", &[Scope::InventoryRead]);
    assert_eq!(
        app.get(&format!("{INVENTORY}/product/{id}"), &reader)
            .await
            .status(),
        200
    );
    let long_id = format!("relatedParty.id={}", "p".repeat(257));
    for (query, code) in [
        ("", "INVALID_INPUT"),
        ("status=active", "INVALID_INPUT"),
        ("billingAccount.id=ba-8&status=gone", "INVALID_QUERY"),
        ("billingAccount.id=ba-8&colour=red", "INVALID_QUERY"),
        ("billingAccount.id=ba-8&limit=0", "INVALID_QUERY"),
        (long_id.as_str(), "INVALID_QUERY"),
    ] {
        assert_tmf_error(
            app.get(&format!("{INVENTORY}/product?{query}"), &reader)
                .await,
            400,
            code,
        )
        .await;
    }
}
